"""The matrix: validation with keys, size expansion, resume after kill -9, two writers at once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from solid_bench.cli import main
from solid_bench.errors import UserError
from solid_bench.matrix import load_matrix, run_matrix
from solid_bench.results import SCHEMA_VERSION


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_every_mistake_is_reported_with_its_key(tmp_path):
    cfg = write(tmp_path / "m.toml", """
out = "r"
tarin = ["human"]
train = ["humann"]
seeds = [0]
sizes = [0]
[[predictors]]
name = "tfidf-lrr"
[[predictors]]
name = "majority"
params = { nonsense = 1 }
""")
    with pytest.raises(UserError) as err:
        load_matrix(cfg)
    text = str(err.value)
    assert "config: unknown key 'tarin'" in text and "Did you mean: train" in text
    assert "config.predictors[0].name: unknown predictor 'tfidf-lrr'" in text
    assert "config.predictors[1].params" in text
    assert "config.sizes" in text


def test_sizes_expand_into_a_learning_curve(tmp_path, tiny_data):
    cfg = write(tmp_path / "m.toml", """
out = "r"
test = ["human"]
[[block]]
train = ["human"]
sizes = [1, 2]
strategy = "balanced"
seeds = [0, 1]
predictors = ["majority"]
""")
    m = load_matrix(cfg)
    assert sorted({c.train for c in m.cells}) == ["human@1:balanced", "human@2:balanced"]
    assert len(m.cells) == 4 and m.out == (tmp_path / "r").resolve()
    counts = run_matrix(m)
    assert counts == {"done": 4, "skipped": 0, "rerun": 0}
    assert run_matrix(m) == {"done": 0, "skipped": 4, "rerun": 0}
    r = json.loads(next(m.out.glob("human_1_balanced*.json")).read_text())
    assert r["corpora"]["train"]["n_dialogs"] == 1


def _write_synthetic(path: Path, n: int) -> Path:
    from solid_bench.schema import Dialog, Utterance, dialog_to_json

    dialogs = [Dialog(f"s{i}", "solid", (Utterance("user", f"how do I fix {i}?", ("OQ",)), Utterance("agent", f"try {i}", ("PA",))),
                      meta={"generator": "solid"}) for i in range(n)]
    path.write_text("".join(dialog_to_json(d) + "\n" for d in dialogs), encoding="utf-8")
    return path


def test_a_cell_whose_corpus_changed_runs_again(tmp_path, tiny_data, capsys, monkeypatch):
    from solid_bench.matrix import cell_status

    _write_synthetic(tmp_path / "syn.jsonl", 4)
    cfg = write(tmp_path / "m.toml", """
out = "r"
train = ["syn.jsonl", "syn.jsonl@3", "human"]
test = ["human"]
valid = "human"
seeds = [0]
predictors = ["majority"]
[[block]]
train = ["syn.jsonl"]
valid = "holdout"
predictors = ["majority"]
""")
    monkeypatch.chdir(tmp_path)  # corpus paths are relative to the working directory
    m = load_matrix(cfg)
    assert run_matrix(m) == {"done": 4, "skipped": 0, "rerun": 0}
    before = {p.name: json.loads(p.read_text())["corpora"]["train"]["sha256"] for p in m.out.glob("*.json")}
    _write_synthetic(tmp_path / "syn.jsonl", 6)  # the run folder grew: its cells (and its @3 sample) are stale
    status = {(c.train, c.valid): s for c, s in cell_status(m)}
    assert status == {("syn.jsonl", "human"): "stale", ("syn.jsonl@3", "human"): "stale", ("human", "human"): "done",
                      ("syn.jsonl", "holdout"): "stale"}
    assert main(["matrix", str(cfg), "--dry-run"]) == 0
    assert sorted(line.split("\t")[0] for line in capsys.readouterr().out.splitlines()) == ["done", "stale", "stale", "stale"]
    from solid_bench.runner import run_cell

    plain = next(c for c in m.cells if c.train == "syn.jsonl" and c.valid == "human")
    assert run_cell(plain, m.out)["corpora"]["train"]["n_dialogs"] == 6  # `solid-bench run` reruns a stale cell too
    assert run_matrix(m) == {"done": 0, "skipped": 2, "rerun": 2}
    after = {p.name: json.loads(p.read_text()) for p in m.out.glob("*.json")}
    assert after.keys() == before.keys()  # replaced in place, not added beside
    changed = [n for n in after if after[n]["corpora"]["train"]["sha256"] != before[n]]
    assert len(changed) == 3 and all("human" not in n.split("__")[0] for n in changed)
    grown = [r for r in after.values() if r["cell"]["train"] == "syn.jsonl" and r["cell"]["valid"] == "human"]
    assert grown[0]["corpora"]["train"]["n_dialogs"] == 6
    assert run_matrix(m) == {"done": 0, "skipped": 4, "rerun": 0}


CONFIG = """
out = "r"
train = ["human", "human@2", "human@1"]
test = ["human"]
seeds = [0, 1, 2, 3]
[[predictors]]
name = "tfidf-lr"
"""


def _matrix_cmd(cfg: Path, jobs: int = 1) -> list[str]:
    return [sys.executable, "-m", "solid_bench", "matrix", str(cfg), "--jobs", str(jobs)]


def test_matrix_resumes_after_kill(tmp_path, tiny_data):
    cfg = write(tmp_path / "m.toml", CONFIG)
    out = tmp_path / "r"
    env = dict(os.environ)
    proc = subprocess.Popen(_matrix_cmd(cfg), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and len(list(out.glob("*.json"))) < 2:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    first = {p.name: p.stat().st_mtime_ns for p in out.glob("*.json")}
    assert 2 <= len(first) < 12, "the kill must land part-way"
    assert subprocess.run(_matrix_cmd(cfg), env=env, capture_output=True, timeout=300).returncode == 0
    files = sorted(out.glob("*.json"))
    assert len(files) == 12
    assert all(json.loads(p.read_text())["schema_version"] == SCHEMA_VERSION for p in files)
    assert {p.name: p.stat().st_mtime_ns for p in files if p.name in first} == first  # finished cells untouched
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*.tmp"))


def test_two_matrix_commands_on_one_folder_do_not_corrupt_results(tmp_path, tiny_data):
    cfg = write(tmp_path / "m.toml", CONFIG)
    procs = [subprocess.Popen(_matrix_cmd(cfg, jobs=2), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(2)]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err.decode()
    files = sorted((tmp_path / "r").glob("*.json"))
    assert len(files) == 12
    hashes = [json.loads(p.read_text())["config_hash"] for p in files]
    assert len(set(hashes)) == 12


def test_cli_matrix_bad_config_exits_2_before_any_work(tmp_path, tiny_data, capsys):
    cfg = write(tmp_path / "m.toml", 'out = "r"\ntrain = ["human"]\npredictors = ["nope"]\n')
    assert main(["matrix", str(cfg)]) == 2
    assert "predictors[0].name" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()
    assert main(["matrix", str(tmp_path / "missing.toml")]) == 2


def test_a_sample_as_big_as_its_corpus_is_refused_up_front(tmp_path, tiny_data):
    # tiny human train has 3 dialogs: human@3 would repeat the whole-corpus cell under a second name
    cfg = write(tmp_path / "m.toml", """
out = "r"
test = ["human"]
train = ["human", "human@2", "human@3", "human@4"]
predictors = ["majority"]
""")
    with pytest.raises(UserError) as err:
        load_matrix(cfg)
    text = str(err.value)
    assert "'human@3'" in text and "is the whole corpus" in text
    assert "'human@4'" in text and "fewer than the 4 asked for" in text
    assert "'human@2'" not in text


def test_every_cell_records_an_explicit_validation_choice(tmp_path, tiny_data):
    cfg = write(tmp_path / "m.toml", """
out = "r"
test = ["human"]
train = ["human"]
predictors = ["majority"]
[[block]]
train = ["human@2"]
valid = "holdout"
predictors = ["majority"]
""")
    cells = load_matrix(cfg).cells
    assert {(c.train, c.valid) for c in cells} == {("human", "human"), ("human@2", "holdout")}
    bad = write(tmp_path / "bad.toml", 'out = "r"\ntrain = ["human"]\nvalid = "auto"\npredictors = ["majority"]\n')
    with pytest.raises(UserError, match="no longer a choice"):
        load_matrix(bad)


def test_the_stale_check_never_generates_a_named_corpus(tmp_path, tiny_data, monkeypatch):
    # a Result for the default `solid` corpus, which is made on first use and is not made here: the check
    # cannot tell without generating it, so it leaves the Result alone instead of starting a generation run
    from solid_bench.matrix import cell_status
    from solid_bench.runner import Cell, run_cell
    from solid_bench.sources.solid import default_folder

    cfg = write(tmp_path / "m.toml", 'out = "r"\ntrain = ["solid", "human"]\ntest = ["human"]\nseeds = [0]\npredictors = ["majority"]\n')
    m = load_matrix(cfg)
    human = run_cell(Cell("human", "human", "majority", 0), m.out)
    solid_cell = next(c for c in m.cells if c.train == "solid")
    solid_cell.path(m.out).write_text(json.dumps(human | {"cell": solid_cell.key()}))
    assert [s for _, s in cell_status(m)] == ["done", "done"]
    assert not default_folder().exists()
