"""The generator registry: ``solid`` (generators/solid.py), and more from other files or packages.

A generator class takes ``(backend, instructions, meter, **options)`` and has
``needed_instructions(plans)`` and ``generate(plans) -> (dialogs, rejected)`` for one batch.
"""

from __future__ import annotations

from solid_bench.registry import Registry

GENERATORS: Registry = Registry("generator", package="solid_bench.generators", entry_point_group="solid_bench.generators")
