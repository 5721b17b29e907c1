"""Packaging: every subpackage is listed for installation, and the plugin folders install under solid_bench."""

from __future__ import annotations

import importlib
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]


def test_every_package_folder_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    mapping = config["package-dir"]
    found = set()
    for pkg, folder in mapping.items():
        base = ROOT / folder
        for init in base.rglob("__init__.py"):
            rel = init.parent.relative_to(base)
            found.add(".".join([pkg, *rel.parts]) if rel.parts else pkg)
    assert found == listed, f"missing from pyproject: {sorted(found - listed)}; listed but absent: {sorted(listed - found)}"


def test_plugin_folders_import_only_under_solid_bench():
    gen = importlib.import_module("solid_bench.generators")
    pred = importlib.import_module("solid_bench.predictors")
    assert Path(gen.__file__).parent.name == "generators" and Path(pred.__file__).parent.name == "predictors"
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert "generators" not in config["packages"] and "predictors" not in config["packages"]
