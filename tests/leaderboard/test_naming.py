"""The leaderboard's generator axis: each row's training data named by what made it, with sizes."""

from __future__ import annotations

import json

from leaderboard_fixtures import make_result, strong, weak

from solid_bench.leaderboard.naming import human_curve_point, naming_columns, train_parts
from solid_bench.leaderboard.table import Options, build_table


def run_result(train: str, folder_spec: str, provenance: dict, n: int = 96) -> dict:
    """A Result trained on a run folder (alone or after human), its summary as the runner writes it."""
    r = make_result(train, 0, strong(0))
    part = {"spec": folder_spec, "n_dialogs": n, "synthetic": True, "has_human": False, "provenance": provenance}
    if train.startswith("human+"):
        human = {"spec": "msdialog", "n_dialogs": 1760, "synthetic": False, "has_human": True, "provenance": {}}
        r["corpora"]["train"] = {"spec": train, "n_dialogs": 1760 + n, "synthetic": True, "has_human": True,
                                 "provenance": {"parts": [human, part]}}
    else:
        r["corpora"]["train"] = part | {"spec": train}
    return r


def test_rows_name_method_generator_and_size():
    qwen = {"path": "runs/qwen", "generator": "SOLID · Qwen2.5-Coder-1.5B"}
    results = [make_result("human", 0, weak(0)), run_result("runs/qwen@500", "runs/qwen@500:random", qwen, 500),
               run_result("human+runs/qwen", "runs/qwen", qwen, 1000)]
    rows = {r["train"]: r for r in build_table(results, Options(n_resamples=20, n_permutations=20)).rows}
    assert rows["runs/qwen@500"]["training_data"] == "SOLID · Qwen2.5-Coder-1.5B · 500 dialogs"
    assert rows["runs/qwen@500"]["generator"] == "SOLID · Qwen2.5-Coder-1.5B"
    assert rows["human+runs/qwen"]["training_data"] == "human · 1,760 dialogs + SOLID · Qwen2.5-Coder-1.5B · 1,000 dialogs"
    assert (rows["human+runs/qwen"]["n_human_dialogs"], rows["human+runs/qwen"]["n_synthetic_dialogs"]) == (1760, 1000)
    assert rows["human"]["training_data"] == "human · 40 dialogs" and rows["human"]["generator"] == ""


def test_older_results_reach_the_manifest_and_equal_names_are_told_apart(tmp_path):
    for name, model in (("old", None), ("new", "smollm2-135m")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "manifest.json").write_text(json.dumps({"identity": {"method": "solid", "model": model}}), encoding="utf-8")
    old = run_result(str(tmp_path / "old"), str(tmp_path / "old"), {"path": str(tmp_path / "old")})  # no recorded name
    new = run_result(str(tmp_path / "new"), str(tmp_path / "new"), {"path": str(tmp_path / "new"), "generator": "SOLID · SmolLM2-135M"})
    assert [p.name for p in train_parts(old)] == ["SOLID · SmolLM2-135M"]  # read from its manifest
    rows = build_table([old, new], Options(n_resamples=20, n_permutations=20)).rows
    assert sorted(r["generator"] for r in rows) == ["SOLID · SmolLM2-135M (new)", "SOLID · SmolLM2-135M (old)"]


def test_results_without_a_summary_are_named_from_their_spec():
    r = make_result("human@250+solid-rl@50", 0, weak(0))
    del r["corpora"]
    assert naming_columns(train_parts(r)) == {"training_data": "human · 250 dialogs + SOLID-RL · 50 dialogs",
                                              "generator": "SOLID-RL", "n_human_dialogs": 250}


def test_human_curve_points():
    assert human_curve_point("human") and human_curve_point("human@100") and human_curve_point("msdialog@100:random")
    assert not human_curve_point("human@100:balanced") and not human_curve_point("human+solid") and not human_curve_point("mantis")
