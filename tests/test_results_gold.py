"""Result files without gold labels: writing them (run, matrix, strip-gold), rebuilding y_true in
the leaderboard from the test corpus, the errors when that corpus is missing or different, and a
guard that no committed leaderboard file carries gold labels."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from solid_bench.cli import main
from solid_bench.errors import UserError
from solid_bench.gold import rehydrate_gold, strip_gold
from solid_bench.matrix import load_matrix, run_matrix
from solid_bench.results import load_results
from solid_bench.runner import Cell, run_cell

REPO = Path(__file__).resolve().parent.parent
FORMATS = "md,csv,tex,json,html"  # the text formats; plots are drawn from the same table


def _files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.json"))


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _run_results(out: Path, data: Path, store_gold: bool = True) -> Path:
    """Baseline (human) and a file-trained system, two seeds each, with the majority predictor."""
    system = str(data / "msdialog-intentpred" / "train.tsv")
    for train in ("human", system):
        for seed in (0, 1):
            run_cell(Cell(train, "human", "majority", seed), out, store_gold=store_gold)
    return out


def _leaderboard(results: Path, out: Path) -> dict[str, bytes]:
    assert main(["leaderboard", str(results), "--out", str(out), "--formats", FORMATS, "--permutations", "200", "--bootstrap", "50"]) == 0
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())}


def test_run_without_gold_writes_no_y_true_but_a_checked_reference(tiny_data, tmp_path):
    out = tmp_path / "r"
    returned = run_cell(Cell("human", "human", "majority", 0), out, store_gold=False)
    (path,) = _files(out)
    saved = _json(path)
    assert "y_true" not in saved["predictions"] and "y_true" not in path.read_text()
    assert saved["predictions"]["gold"] == {
        "source": "test corpus", "spec": "human", "split": "test", "sha256": saved["corpora"]["test"]["sha256"],
    }  # fmt: skip
    assert saved["schema_version"] == 2 and saved["metrics"] == returned["metrics"] and saved["ci"] == returned["ci"]
    assert len(returned["predictions"]["y_true"]) == 12  # the caller still gets the labels
    (rebuilt,) = rehydrate_gold(load_results(out))
    assert rebuilt["predictions"]["y_true"] == returned["predictions"]["y_true"]
    assert "gold" not in rebuilt["predictions"]


def test_cli_run_no_store_gold(tiny_data, tmp_path):
    assert main(["run", "-p", "majority", "--out", str(tmp_path / "r"), "--no-store-gold", "-q"]) == 0
    (path,) = _files(tmp_path / "r")
    assert "y_true" not in _json(path)["predictions"]


def test_matrix_store_gold_key_is_validated_and_applied(tiny_data, tmp_path):
    config = tmp_path / "m.toml"
    config.write_text('out = "res"\ntrain = ["human"]\nseeds = [0]\nstore_gold = false\npredictors = [{ name = "majority" }]\n')
    m = load_matrix(config)
    assert m.store_gold is False
    assert run_matrix(m) == {"done": 1, "skipped": 0, "rerun": 0}
    (path,) = _files(tmp_path / "res")
    assert "y_true" not in _json(path)["predictions"]
    config.write_text('out = "res"\ntrain = ["human"]\nstore_gold = "no"\npredictors = [{ name = "majority" }]\n')
    with pytest.raises(UserError, match="store_gold: must be true or false"):
        load_matrix(config)
    config.write_text('out = "res"\ntrain = ["human"]\npredictors = [{ name = "majority" }]\n')
    assert load_matrix(config).store_gold is True


def test_strip_gold_command_is_atomic_per_file_and_idempotent(tiny_data, tmp_path, capsys):
    full = _run_results(tmp_path / "full", tiny_data)
    before = {p.name: p.read_bytes() for p in _files(full)}
    assert main(["results", "strip-gold", str(full), "--out", str(tmp_path / "bare")]) == 0
    assert "4 stripped, 0 already" in capsys.readouterr().out
    assert {p.name: p.read_bytes() for p in _files(full)} == before  # --out leaves the source alone
    bare = {p.name: p.read_bytes() for p in _files(tmp_path / "bare")}
    assert sorted(bare) == sorted(before)
    for name, data in bare.items():
        stripped, original = json.loads(data), json.loads(before[name])
        assert "y_true" not in stripped["predictions"] and stripped["predictions"]["gold"]["sha256"] == original["corpora"]["test"]["sha256"]
        original["predictions"].pop("y_true")
        stripped["predictions"].pop("gold")
        assert stripped == original  # nothing else changes
    # again, in place: nothing to do, files untouched
    assert main(["results", "strip-gold", str(tmp_path / "bare")]) == 0
    assert "0 stripped, 4 already" in capsys.readouterr().out
    assert {p.name: p.read_bytes() for p in _files(tmp_path / "bare")} == bare
    # in place on the full folder gives the same bytes as --out, and leaves no temp file
    assert main(["results", "strip-gold", str(full)]) == 0
    assert {p.name: p.read_bytes() for p in _files(full)} == bare
    assert sorted(p.name for p in full.iterdir()) == sorted(bare)


def test_strip_gold_refuses_a_result_without_a_test_record():
    with pytest.raises(UserError, match="does not record its test corpus"):
        strip_gold({"predictions": {"labels": ["OQ"], "y_true": ["OQ"], "y_pred": ["OQ"]}, "corpora": {}})


def test_leaderboard_is_byte_identical_with_and_without_gold(tiny_data, tmp_path, monkeypatch):
    full = _run_results(tmp_path / "full", tiny_data)
    # the same Results without gold (separate runs would differ in their measured seconds)
    assert main(["results", "strip-gold", str(full), "--out", str(tmp_path / "bare")]) == 0
    bare = tmp_path / "bare"
    assert not any("y_true" in p.read_text() for p in _files(bare))
    mixed = tmp_path / "mixed"  # baseline with gold, system without
    for p in _files(full):
        target = mixed / p.name
        target.parent.mkdir(exist_ok=True)
        shutil.copy(p if p.name.startswith("human__") else bare / p.name, target)
    import solid_bench.corpora as corpora

    calls = []
    real = corpora.resolve
    monkeypatch.setattr(corpora, "resolve", lambda *a, **k: calls.append(a) or real(*a, **k))
    with_gold = _leaderboard(full, tmp_path / "lb_full")
    assert calls == []  # nothing to rebuild
    without = _leaderboard(bare, tmp_path / "lb_bare")
    assert calls == [("human", "test", corpora.MSDIALOG)]  # four Results, one corpus load
    assert sorted(with_gold) == ["leaderboard.csv", "leaderboard.html", "leaderboard.json", "leaderboard.md", "leaderboard.tex", "leaderboard_per_label.csv"]
    assert without == with_gold
    assert _leaderboard(mixed, tmp_path / "lb_mixed") == with_gold
    assert json.loads(with_gold["leaderboard.json"])["rows"][1]["p_value"] is not None  # the significance test ran


def test_leaderboard_refuses_a_changed_test_corpus(tiny_data, tmp_path, capsys):
    bare = _run_results(tmp_path / "bare", tiny_data, store_gold=False)
    test_tsv = tiny_data / "msdialog-intentpred" / "test.tsv"
    test_tsv.write_text(test_tsv.read_text().replace("PF\tthat worked", "GG\tthat worked"))
    out = tmp_path / "lb"
    assert main(["leaderboard", str(bare), "--out", str(out), "--formats", FORMATS]) == 2
    err = capsys.readouterr().err
    assert "is not the one Result" in err and "sha256" in err and "SOLID_BENCH_DATA" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists() and not list(tmp_path.glob(".lb*"))  # no partial output


def test_leaderboard_names_the_fix_when_test_data_is_missing(tiny_data, tmp_path, monkeypatch, capsys):
    bare = _run_results(tmp_path / "bare", tiny_data, store_gold=False)
    monkeypatch.setenv("SOLID_BENCH_DATA", str(tmp_path / "nowhere"))
    out = tmp_path / "lb"
    assert main(["leaderboard", str(bare), "--out", str(out), "--formats", FORMATS]) == 2
    err = capsys.readouterr().err
    assert "need their test corpus 'human' to rebuild them" in err and "set SOLID_BENCH_DATA" in err and "solid-bench data download msdialog" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def _keys(obj) -> set[str]:
    if isinstance(obj, dict):
        return set(obj) | {k for v in obj.values() for k in _keys(v)}
    if isinstance(obj, list):
        return {k for v in obj for k in _keys(v)}
    return set()


def test_no_tracked_leaderboard_json_carries_gold_labels():
    """Safety net: MSDialog gold labels must never be committed; strip Results with `solid-bench results strip-gold`."""
    if not (REPO / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout")
    listed = subprocess.run(["git", "ls-files", "-z", "--", "leaderboards"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    paths = [p for p in listed.split("\0") if p.endswith(".json")]
    offending = [p for p in paths if (REPO / p).is_file() and "y_true" in _keys(json.loads((REPO / p).read_text(encoding="utf-8")))]
    assert not offending, f"tracked files carry gold labels (y_true); run `solid-bench results strip-gold` on them: {offending}"
