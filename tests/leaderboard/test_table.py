"""The leaderboard table: means/stds over seeds, pooled CIs, significance vs baseline with Holm, cost per 1k."""

from __future__ import annotations

import numpy as np
import pytest
from leaderboard_fixtures import GOLD, KEYS, corpus_summary, generation_cost, make_result, matrix, strong, synthetic_cost, weak

from solid_bench.errors import UserError
from solid_bench.leaderboard.cost import Prices, cost_columns, synthetic_dialogs
from solid_bench.leaderboard.table import COLUMNS, Options, build_table
from solid_bench.results import load_results
from solid_bench.stats import bootstrap_ci


def by_train(table):
    return {r["train"]: r for r in table.rows}


def test_means_and_stds_over_seeds_match_hand_computation():
    explicit = {0: (0.5, 0.25), 1: (0.6, 0.5), 2: (0.7, 0.0)}  # seed: (micro_f1, macro_f1)
    distinct = {0: weak(0), 1: weak(1), 2: strong(2)}  # three different prediction sets: three runs
    results = [make_result("solid@500", s, distinct[s], metrics={"micro_f1": f, "macro_f1": m}) for s, (f, m) in explicit.items()]
    results += [make_result("human", s, weak(s)) for s in (0, 1, 2)]
    row = by_train(build_table(results, Options(n_resamples=200, n_permutations=200)))["solid@500"]
    assert row["n_seeds"] == 3 and row["n_runs"] == 3 and row["seeds"] == "0,1,2"
    assert row["micro_f1_mean"] == pytest.approx(0.6, abs=1e-9)
    assert row["micro_f1_std"] == pytest.approx(0.1, abs=1e-9)  # sqrt(((-.1)^2 + 0 + .1^2) / 2)
    assert row["macro_f1_mean"] == pytest.approx(0.25, abs=1e-9)
    assert row["macro_f1_std"] == pytest.approx(0.25, abs=1e-9)  # sqrt((0 + .0625 + .0625) / 2)
    assert row["train_seconds_mean"] == pytest.approx(2.0)  # 1, 2, 3 seconds
    assert row["n_test_utterances"] == 20


def test_baseline_scores_match_an_independent_count(results_dir):
    # Baseline seed 0/2: 10 OQ right, 10 'GG' wrong, 15 gold labels missed -> F1 = 20/45.
    # Seed 1 also gets dialog t0's PA: TP 11, FP 9, FN 14 -> F1 = 22/45.
    # Seeds 0 and 2 predict the same: one run, so the mean and std are over two runs, not three.
    row = by_train(build_table(load_results(results_dir), Options(n_resamples=200, n_permutations=200)))["human"]
    assert row["n_runs"] == 2 and row["seeds"] == "0=2,1"
    f1 = [20 / 45, 22 / 45]
    assert row["micro_f1_mean"] == round(float(np.mean(f1)), 4)
    assert row["micro_f1_std"] == round(float(np.std(f1, ddof=1)), 4)
    assert row["is_baseline"] is True and row["p_value"] is None and row["mark"] == ""


def test_single_seed_has_no_std():
    table = build_table([make_result("human", 0, weak(0))], Options(n_resamples=50))
    assert table.rows[0]["micro_f1_std"] is None and table.rows[0]["n_seeds"] == 1


def test_pooled_ci_equals_single_seed_ci_when_seeds_agree(results_dir):
    # solid@100 predicts the same on every seed; pooling 3 copies scales every dialog's counts
    # by 3, which leaves ratio metrics unchanged, so the pooled CI is the one-seed CI.
    row = by_train(build_table(load_results(results_dir), Options(n_resamples=300, n_permutations=200)))["solid@100"]
    groups = np.array([d for d, _ in KEYS])
    ci = bootstrap_ci(matrix(GOLD), matrix(weak(0)), groups, metrics=("micro_f1", "qu_accuracy"), n_resamples=300, seed=0)
    assert row["micro_f1_ci_lo"] == round(ci["micro_f1"][0], 4) and row["micro_f1_ci_hi"] == round(ci["micro_f1"][1], 4)
    assert row["qu_accuracy_ci_lo"] == round(ci["qu_accuracy"][0], 4)
    assert row["micro_f1_ci_lo"] <= row["micro_f1_mean"] <= row["micro_f1_ci_hi"]


def test_significance_marks_and_holm(results_dir):
    table = build_table(load_results(results_dir), Options(n_resamples=100, n_permutations=2000))
    rows = by_train(table)
    assert table.meta["n_comparisons"] == 4
    # Clearly better (near-perfect vs half wrong on every dialog): significant after Holm.
    for train in ("solid@500", "human+solid@500"):
        assert rows[train]["mark"] == "+" and rows[train]["p_holm"] < 0.01 and rows[train]["baseline"] == "human"
    assert rows["solid-rl@500"]["mark"] == "-"
    # Same predictions as baseline seed 0: not significant (and p = 1 where the predictions are identical).
    assert rows["solid@100"]["mark"] == ""
    assert rows["solid@100"]["p_holm"] == 1.0
    # Holm by hand: sort p ascending, multiply by 4, 3, 2, 1, running max, cap at 1 (the table's p-values are
    # rounded to 4 digits, the adjusted ones computed from the unrounded ones).
    ps = {t: rows[t]["p_value"] for t in ("solid@500", "human+solid@500", "solid-rl@500", "solid@100")}
    order = sorted(ps, key=lambda t: ps[t])
    running = 0.0
    for k, t in enumerate(order):
        running = max(running, min(1.0, (4 - k) * ps[t]))
        assert rows[t]["p_holm"] == pytest.approx(round(running, 4), abs=4 * 5e-5 + 1e-4)


def test_randomization_p_value_has_the_test_dialogs_as_units(results_dir):
    # 10 test dialogs are the units (not 10 dialogs x 3 seeds): all 2**10 swaps are enumerated. solid@500 beats
    # the baseline on every dialog of every paired run, so only "no swap" and "swap all" reach |d_obs|: p = 2/1024.
    rows = by_train(build_table(load_results(results_dir), Options(n_resamples=50, n_permutations=999)))
    assert rows["solid@500"]["p_value"] == round(2 / 1024, 4)


def test_auto_baseline_and_missing_baseline():
    results = [make_result("solid@500", 0, strong(0)), make_result("mine", 0, weak(0))]
    results[1]["corpora"]["train"] = corpus_summary("human") | {"spec": "mine"}
    auto = by_train(build_table(results, Options(baseline=None, n_resamples=50, n_permutations=100)))
    assert auto["mine"]["is_baseline"] and auto["solid@500"]["baseline"] == "mine"
    named = by_train(build_table(results, Options(baseline="human", n_resamples=50)))
    assert named["solid@500"]["baseline"] == "" and named["solid@500"]["p_value"] is None


def test_rows_group_by_params_and_sort_deterministically():
    results = [make_result("human", 0, weak(0), params={"C": 1.0}), make_result("human", 0, weak(0), params={"C": 10.0}),
               make_result("solid@500", 0, strong(0), params={"C": 1.0}), make_result("human", 0, weak(0), predictor="bert")]  # fmt: skip
    table = build_table(list(reversed(results)), Options(n_resamples=50, n_permutations=100))
    assert [(r["predictor"], r["params"], r["train"]) for r in table.rows][:1] == [("bert", "", "human")]
    assert len(table.rows) == 4 and set(table.rows[0]) == set(COLUMNS)
    c1 = [r for r in table.rows if r["params"] == "C=1.0"]
    assert [r["train"] for r in c1] == ["human", "solid@500"] and c1[1]["baseline"] == "human"
    assert build_table(results, Options(n_resamples=50, n_permutations=100)).rows == table.rows


def test_repeated_seed_and_empty_input_are_user_errors():
    with pytest.raises(UserError, match="seed 0"):
        build_table([make_result("human", 0, weak(0)), make_result("human", 0, weak(1))])
    with pytest.raises(UserError, match="No results"):
        build_table([])


def test_cost_per_1000_dialogs():
    cost = generation_cost(500)  # marginal: 1,000,000 prompt + 250,000 completion tokens, 1,800 s; all-in twice that
    plain = cost_columns(cost, Prices())
    assert plain["marginal_tokens_per_1k"] == 2_500_000 and plain["marginal_seconds_per_1k"] == pytest.approx(3600)
    assert plain["all_in_tokens_per_1k"] == 5_000_000 and plain["all_in_seconds_per_1k"] == pytest.approx(7200)
    assert plain["marginal_tokens"] == 1_250_000 and plain["all_in_usd_per_1k"] is None and plain["gen_dialogs"] == 500
    gpu = cost_columns(cost, Prices(per_gpu_hour=2.0))
    assert gpu["marginal_usd"] == pytest.approx(1.0) and gpu["marginal_usd_per_1k"] == pytest.approx(2.0)  # 1800 s = 0.5 h x $2
    assert gpu["all_in_usd_per_1k"] == pytest.approx(4.0)
    tok = cost_columns(cost, Prices(per_1k_prompt_tokens=0.001, per_1k_completion_tokens=0.002))
    assert tok["marginal_usd"] == pytest.approx(1.5) and tok["marginal_usd_per_1k"] == pytest.approx(3.0)  # $1 + $0.5 for 500
    assert cost_columns(None, Prices(per_gpu_hour=2.0))["all_in_usd_per_1k"] is None
    # a schema-1 flat record is the all-in figure when its dialogs carried a run's all-in share
    legacy = cost_columns(synthetic_cost(500) | {"all_in_dialogs": 500}, Prices())
    assert legacy["all_in_tokens_per_1k"] == 2_500_000 and legacy["marginal_tokens_per_1k"] is None


def test_cost_columns_in_table(results_dir):
    table = build_table(load_results(results_dir), Options(prices=Prices(per_gpu_hour=2.0), n_resamples=50, n_permutations=100))
    rows = by_train(table)
    assert rows["solid@100"]["marginal_usd_per_1k"] == 2.0 and rows["solid@100"]["marginal_usd"] == 0.2
    assert rows["solid@100"]["all_in_usd_per_1k"] == 4.0
    assert rows["human"]["all_in_tokens_per_1k"] is None
    assert "3600 x $2 per GPU hour" in table.meta["prices"]


def test_price_options_are_validated():
    with pytest.raises(UserError, match="not both"):
        Prices(per_gpu_hour=1.0, per_1k_prompt_tokens=0.1, per_1k_completion_tokens=0.1)
    with pytest.raises(UserError, match="both"):
        Prices(per_1k_prompt_tokens=0.1)


def test_synthetic_sizes_from_summaries_and_specs():
    assert synthetic_dialogs(corpus_summary("human+solid@500"), "human+solid@500") == 500
    assert synthetic_dialogs(corpus_summary("solid@100"), "solid@100") == 100
    assert synthetic_dialogs(corpus_summary("human"), "human") == 0
    assert synthetic_dialogs(None, "human+solid@250:balanced") == 250
    assert synthetic_dialogs(None, "runs/mine") is None
