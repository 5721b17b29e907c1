"""Significance against the baseline: the test dialog is the unit, identical seeds are one run."""

from __future__ import annotations

import numpy as np
import pytest
from leaderboard_fixtures import GOLD, KEYS, make_result, matrix, strong, weak

from solid_bench.leaderboard.significance import compare, distinct_runs, paired_arrays, run_pairs
from solid_bench.leaderboard.table import Options, build_table
from solid_bench.stats import paired_randomization_test


def _by_seed(train, fn, seeds=(0, 1, 2)):
    return {s: make_result(train, s, fn(s)) for s in seeds}


def test_identical_seeds_are_one_run():
    same = _by_seed("solid@500", lambda s: weak(0))
    assert distinct_runs(same) == [[0, 1, 2]]
    assert distinct_runs(_by_seed("human", weak)) == [[0, 2], [1]]  # seeds 0 and 2 predict the same
    assert distinct_runs(_by_seed("solid@500", strong)) == [[0, 1], [2]]


def test_deterministic_system_against_deterministic_baseline_is_one_unpaired_run():
    system, baseline = _by_seed("solid@500", lambda s: strong(0)), _by_seed("human", lambda s: weak(0))
    assert run_pairs(system, baseline) == [(0, 0)]
    gold, a, b, groups, _ = paired_arrays(system, baseline)
    assert a.shape == (1, len(GOLD), 12)
    one = paired_randomization_test(matrix(GOLD), matrix(strong(0)), matrix(weak(0)), groups=np.array([d for d, _ in KEYS]))
    assert compare(system, baseline, 1000) == pytest.approx(one)  # 10 dialogs: exact, not 30 (seed, dialog) units


def test_a_single_run_is_paired_with_each_run_of_the_other_side():
    system, baseline = _by_seed("solid@500", lambda s: strong(0)), _by_seed("human", weak)
    assert run_pairs(system, baseline) == [(0, 0), (0, 1)]  # baseline runs {0, 2} and {1}


def test_table_marks_identical_seeds_and_shows_no_spread():
    results = [make_result("human", s, weak(0)) for s in (0, 1, 2)]
    results += [make_result("solid@500", s, strong(0)) for s in (0, 1, 2)]
    table = build_table(results, Options(n_resamples=100, n_permutations=200))
    row = {r["train"]: r for r in table.rows}["solid@500"]
    assert row["n_seeds"] == 3 and row["n_runs"] == 1 and row["seeds"] == "0=1=2"
    assert row["micro_f1_std"] is None
    assert table.meta["holm_family"] == ["solid@500 vs human (tfidf_lr, tuned on human)"]


def test_rows_tuned_on_other_data_are_an_ablation_without_a_baseline():
    results = [make_result("human", s, weak(s)) for s in (0, 1, 2)]
    held = [make_result("solid@500", s, strong(s)) for s in (0, 1, 2)]
    for r in held:
        r["cell"]["valid"] = "holdout"
    table = build_table(results + held, Options(n_resamples=100, n_permutations=200))
    row = {r["train"]: r for r in table.rows}["solid@500"]
    assert row["section"] == "ablation: tuned on holdout" and row["tuned_on"] == "holdout"
    assert row["p_value"] is None and table.meta["n_comparisons"] == 0
    assert table.rows[-1] is not None and table.rows[0]["section"] == "main"


def test_samples_of_the_baseline_corpus_are_its_learning_curve_and_not_tested():
    results = [make_result("human", s, weak(s)) for s in (0, 1, 2)]
    results += [make_result("human@100", s, weak(0)) for s in (0, 1, 2)]
    results += [make_result("solid@500", s, strong(s)) for s in (0, 1, 2)]
    table = build_table(results, Options(n_resamples=100, n_permutations=200))
    rows = {r["train"]: r for r in table.rows}
    assert rows["human@100"]["p_value"] is None and rows["human@100"]["mark"] == ""
    assert rows["solid@500"]["p_value"] is not None
    assert table.meta["holm_family"] == ["solid@500 vs human (tfidf_lr, tuned on human)"]
