"""A damaged Result file among good ones: `--on-bad-result stop` names it and writes nothing, `skip` leaves it out."""

from __future__ import annotations

import json

import pytest

from solid_bench.cli import main
from solid_bench.errors import UserError
from solid_bench.leaderboard.build import load_table
from solid_bench.leaderboard.table import Options
from solid_bench.results import SCHEMA_VERSION, load_results, result_problem

FAST = Options(n_resamples=20, n_permutations=20)


def test_result_problem_says_what_is_missing(results_dir):
    good = json.loads(sorted(results_dir.glob("*.json"))[0].read_text())
    assert result_problem(good) is None
    cases = {
        "cell": "has no 'cell' (the train, test, predictor and seed it was run for)",
        "metrics": "has no 'metrics'",
        "predictions": "has no per-utterance 'predictions'",
        "schema_version": "has no schema_version, so it is not a solid-bench Result",
    }
    for key, problem in cases.items():
        assert result_problem({k: v for k, v in good.items() if k != key}) == problem
    assert result_problem([1, 2]) == "holds a JSON list, not a Result object"
    assert result_problem(good | {"schema_version": SCHEMA_VERSION + 1}) == (
        f"has schema_version {SCHEMA_VERSION + 1}, newer than this solid-bench reads (at most {SCHEMA_VERSION}); upgrade solid-bench")
    short = json.loads(json.dumps(good))
    short["predictions"]["y_true"].pop()
    assert result_problem(short) == "predictions.y_true must be a list of 20 label strings, one per test utterance"


def test_stop_names_the_file_and_skip_leaves_it_out(results_dir, tmp_path, capsys):
    n_good = len(list(results_dir.glob("*.json")))
    assert n_good == 15
    bad = results_dir / "zz-truncated.json"
    torn = sorted(results_dir.glob("*.json"))[0].read_text()[:100]
    bad.write_text(torn)
    where = f"{bad}:{torn.count(chr(10)) + 1}"  # the JSON error is on the torn last line
    with pytest.raises(UserError) as e:
        load_results(results_dir)
    assert str(e.value).startswith(f"{where}: not valid JSON (")
    assert "stopped before writing anything" in str(e.value) and "--on-bad-result skip" in str(e.value)
    warnings = []
    assert len(load_results(results_dir, "skip", warnings.append)) == 15
    assert len(warnings) == 1 and warnings[0].startswith(f"warning: skipped {where}: not valid JSON (")
    table = load_table(results_dir, FAST, "skip")
    assert len(table.rows) == 5 and sorted(r["n_seeds"] for r in table.rows) == [3, 3, 3, 3, 3]

    out = tmp_path / "lb"
    assert main(["leaderboard", str(results_dir), "--out", str(out), "--formats", "csv", "--bootstrap", "20", "--permutations", "20"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {where}: not valid JSON") and not out.exists()
    assert main(["leaderboard", str(results_dir), "--out", str(out), "--formats", "csv", "--bootstrap", "20",
                 "--permutations", "20", "--on-bad-result", "skip"]) == 0
    captured = capsys.readouterr()
    (warning,) = captured.err.strip().splitlines()
    assert warning.startswith(f"warning: skipped {where}: not valid JSON (") and warning.endswith("; it is left out.")
    assert captured.out.split() == [str(out / "leaderboard.csv"), str(out / "leaderboard_per_label.csv")]
    assert len((out / "leaderboard.csv").read_text().splitlines()) == 1 + 5


def test_a_folder_named_like_a_result(results_dir):
    (results_dir / "x.json").mkdir()
    with pytest.raises(UserError, match=r"x\.json is a folder, not a Result file; stopped before writing anything"):
        load_results(results_dir)
    assert len(load_results(results_dir, "skip")) == 15
