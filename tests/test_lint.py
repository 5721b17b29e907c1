"""ruff, with the rule set chosen in pyproject.toml ([tool.ruff]), finds nothing in the repository's Python files."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_reports_no_finding():
    assert importlib.util.find_spec("ruff") is not None, "ruff is part of the test extra: pip install -e '.[test]'"
    proc = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", "--output-format", "concise", "."],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "All checks passed" in proc.stdout

