"""Every ```python block in README.md and docs/*.md runs, and every predictor they define passes check_predictor.

The blocks of one file run in order in one fresh Python process (a later block may use what an
earlier one defined; registering an example plugin never touches this test process's
registries), in an empty temporary working folder with its own $SOLID_BENCH_HOME, offline (the Hugging Face
switches on) and with evaluate's module and metric caches in the temporary folder. Tracebacks
name the Markdown file and its line. A block fenced as ```python no-run is not run; it must say
in its first line why: it needs a model, a server, a GPU or the network. README.md belongs to
whoever writes it; this test reads it as it is when the test runs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```python([^\n]*)\n(.*?)^```[ \t]*$", re.M | re.S)
NO_RUN_REASON = re.compile(r"^#.*\bneeds\b.*\b(model|server|GPU|network)", re.I)

#: Runs in the child: exec each block in __main__ (so pickling finds example classes), then run the
#: battery on every predictor class the blocks defined and print the check counts.
RUNNER = '''
import json, sys
blocks = json.load(open(sys.argv[1], encoding="utf-8"))
main = vars(sys.modules["__main__"])
for path, line, code in blocks:
    exec(compile("\\n" * (line - 1) + code, path, "exec"), main)
from solid_bench.predictors import check_predictor
found = {name: obj for name, obj in list(main.items()) if isinstance(obj, type) and obj.__module__ == "__main__"
         and callable(getattr(obj, "fit", None)) and callable(getattr(obj, "predict_proba", None))}
print("PREDICTOR-CHECKS " + json.dumps({name: check_predictor(cls) for name, cls in found.items()}))
'''


def python_blocks(path: Path) -> list[tuple[int, str, str]]:
    """(line of the first code line, fence info after 'python', code) for each ```python block of ``path``."""
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    return [(text.count("\n", 0, m.start(2)) + 1, m.group(1).strip(), m.group(2)) for m in FENCE.finditer(text)]


def test_the_extractor_finds_blocks_and_their_lines(tmp_path):
    doc = tmp_path / "x.md"
    doc.write_text("# t\n\n```python\na = 1\n```\n\ntext\n```python no-run\n# needs a model\nb\n```\n```toml\nc = 1\n```\n")
    assert python_blocks(doc) == [(4, "", "a = 1\n"), (9, "no-run", "# needs a model\nb\n")]


def test_no_run_blocks_say_what_they_need():
    for doc in DOCS:
        for line, info, code in python_blocks(doc):
            assert info in ("", "no-run"), f"{doc.name}:{line}: unknown fence info {info!r}; use ```python or ```python no-run"
            if info == "no-run":
                first = code.lstrip().splitlines()[0] if code.strip() else ""
                assert NO_RUN_REASON.match(first), (
                    f"{doc.name}:{line}: a no-run block must start with a comment saying what it needs (a model, a server, "
                    f"a GPU or the network), e.g. '# needs a running OpenAI-compatible server'; got {first!r}")


@pytest.mark.parametrize("doc", [d for d in DOCS if any(info == "" for _, info, _ in python_blocks(d))],
                         ids=lambda d: d.relative_to(ROOT).as_posix())
def test_doc_examples_run(doc: Path, tmp_path: Path):
    blocks = [(str(doc.relative_to(ROOT)), line, code) for line, info, code in python_blocks(doc) if info == ""]
    (tmp_path / "blocks.json").write_text(json.dumps(blocks), encoding="utf-8")
    (tmp_path / "runner.py").write_text(RUNNER, encoding="utf-8")
    work = tmp_path / "work"
    work.mkdir()
    # Offline for the Hub, datasets and evaluate; the scripts and files evaluate writes go to tmp_path, not ~/.cache.
    env = {**os.environ, "SOLID_BENCH_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_EVALUATE_OFFLINE": "1",
           "HF_MODULES_CACHE": str(tmp_path / "hf-modules"), "HF_METRICS_CACHE": str(tmp_path / "hf-metrics"), "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, str(tmp_path / "runner.py"), str(tmp_path / "blocks.json")], cwd=work, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"an example in {doc.name} failed:\n{proc.stderr[-4000:]}"
    checks = json.loads(proc.stdout.rsplit("PREDICTOR-CHECKS ", 1)[1])
    from solid_bench.predictors._check import N_CHECKS

    assert all(n == N_CHECKS for n in checks.values()), checks
    if doc.name == "predictors.md":
        assert checks == {"RolePrior": N_CHECKS}  # the guide's example passes the whole battery
