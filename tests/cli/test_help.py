"""`solid-bench --help` stays fast: no torch/transformers at start-up (STYLE habit 7)."""

import subprocess
import sys


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys; from solid_bench.cli import main; rc = main(['--help']);"
        "heavy = [m for m in ('torch', 'transformers', 'datasets', 'sklearn', 'matplotlib', 'trl') if m in sys.modules];"
        "print('HEAVY=' + ','.join(heavy)); sys.exit(rc)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "HEAVY=\n" in out.stdout, out.stdout
    for verb in ("run", "predictors"):
        assert verb in out.stdout

