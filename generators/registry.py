"""The generator registry: ``solid`` (generators/solid.py), ``solid-rl`` (generators/solid_rl.py), and more
from other files here or from packages joining through the entry-point group ``solid_bench.generators``.

Every generator follows the ``Generator`` contract (``generators/base.py``), checked as it registers.
"""

from __future__ import annotations

from solid_bench.registry import Registry

from .base import check_generator

GENERATORS: Registry = Registry("generator", package="solid_bench.generators", entry_point_group="solid_bench.generators",
                                check=check_generator)
