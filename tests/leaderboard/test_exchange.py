"""Human-equivalent dialogs: reading the monotone human curve in log N, censoring, the bootstrap interval, per 1M tokens."""

from __future__ import annotations

import math

import numpy as np
import pytest
from leaderboard_fixtures import GOLD, make_result, weak

from solid_bench.leaderboard.exchange import interval, read_curve
from solid_bench.leaderboard.table import Options, build_table


def test_curve_is_read_linearly_in_log_n_between_its_points():
    ns, f1 = [10, 20, 40], np.array([[0.5, 0.7, 0.8]])
    values, flags = read_curve(ns, np.repeat(f1, 4, axis=0), np.array([0.6, 0.75, 0.5, 0.8]))
    # 0.6 is half-way from 0.5 to 0.7: half-way from log 10 to log 20 -> 10 * 2**0.5; 0.75 likewise -> 20 * 2**0.5
    assert values == pytest.approx([10 * 2**0.5, 20 * 2**0.5, 10, 40]) and list(flags) == [0, 0, 0, 0]


def test_values_outside_the_curve_are_censored_at_its_ends():
    values, flags = read_curve([10, 20, 40], np.array([[0.5, 0.7, 0.8]] * 2), np.array([0.4, 0.9]))
    assert list(values) == [10, 40] and list(flags) == [-1, 1]
    one, flag = read_curve([1760], np.array([[0.7]] * 3), np.array([0.6, 0.7, 0.8]))
    assert list(one) == [1760] * 3 and list(flag) == [-1, 0, 1]


def test_curve_is_made_monotone_before_reading():
    # 30 dialogs scored below 20: the running maximum holds 0.7 from 20 to 40's segment start
    ns, f1 = [10, 20, 30, 40], np.array([[0.5, 0.7, 0.6, 0.8]] * 2)
    values, _ = read_curve(ns, f1, np.array([0.75, 0.65]))
    assert values[0] == pytest.approx(math.sqrt(30 * 40))  # half-way between log 30 and log 40, not between 20 and 30
    assert values[1] == pytest.approx(10 * 2**0.75)  # 0.65 is reached on 10-20, never on the flat 20-30


def test_interval_keeps_censored_resamples_censored():
    values = np.array([10.0] * 5 + [15.0] * 90 + [40.0] * 5)
    flags = np.array([-1] * 5 + [0] * 90 + [1] * 5)
    (lo, lo_flag), (hi, hi_flag) = interval(values, flags, [10, 20, 40], alpha=0.05)
    assert (lo, lo_flag, hi, hi_flag) == (10.0, "<", 40.0, ">")
    (lo, lo_flag), (hi, hi_flag) = interval(values, flags, [10, 20, 40], alpha=0.2)
    assert (lo, hi) == pytest.approx((15.0, 15.0)) and lo_flag == hi_flag == ""


def partial(k: int) -> list[str]:
    """The first k test dialogs predicted right, the others as `weak`: micro-F1 2*TP / (2*TP + FP + FN) over 25 gold labels."""
    out = weak(0)
    for i in range(2 * k):
        out[i] = GOLD[i]
    return out


# partial(2): TP 13, FP 8, FN 12 -> 26/46; partial(4): 32/47; partial(6): 38/48; partial(8): 44/49; partial(10): 1.
CURVE = {"human@10": partial(2), "human@20": partial(6), "human": partial(8)}  # human is 40 dialogs in the fixture summaries


def table_of(systems: dict[str, list[str]], **options):
    results = [make_result(train, 0, pred) for train, pred in systems.items()]
    return {r["train"]: r for r in build_table(results, Options(n_resamples=400, n_permutations=100, **options)).rows}


def test_human_equivalents_on_a_three_point_curve():
    rows = table_of(CURVE | {"solid@500": partial(4), "human+solid@100": partial(10), "solid-rl@500": weak(0)})
    assert rows["human@20"]["micro_f1_mean"] == round(38 / 48, 4) and rows["human"]["n_human_dialogs"] == 40
    t = (32 / 47 - 26 / 46) / (38 / 48 - 26 / 46)  # solid@500 lies between human@10 and human@20
    solid = rows["solid@500"]
    assert solid["human_equiv"] == pytest.approx(10 * 2**t, abs=1e-4) and solid["human_equiv_flag"] == ""
    # all-in cost of the fixture's 500 synthetic dialogs: 2 x (2,000 + 500) tokens each = 2.5M tokens
    assert solid["human_equiv_per_1m_tokens"] == pytest.approx(10 * 2**t / 2.5, abs=1e-4)
    assert solid["human_equiv_ci_lo"] <= solid["human_equiv"] <= solid["human_equiv_ci_hi"]
    # a perfect mixture beats the whole curve: > 40, and its gain over its own 40 human dialogs per 1M tokens is > 0
    mixed = rows["human+solid@100"]
    assert (mixed["human_equiv"], mixed["human_equiv_flag"], mixed["human_equiv_per_1m_tokens"]) == (40, ">", 0)
    weak_row = rows["solid-rl@500"]  # 20/45 is below 26/46
    assert (weak_row["human_equiv"], weak_row["human_equiv_flag"], weak_row["human_equiv_ci_lo_flag"]) == (10, "<", "<")
    for human in CURVE:
        assert rows[human]["human_equiv"] is None and rows[human]["human_equiv_per_1m_tokens"] is None


def test_bootstrap_interval_is_deterministic_and_needs_a_curve_of_the_same_system():
    systems = CURVE | {"solid@500": partial(4)}
    first, again = table_of(systems), table_of(systems)
    cols = ("human_equiv_ci_lo", "human_equiv_ci_lo_flag", "human_equiv_ci_hi", "human_equiv_ci_hi_flag")
    assert [first["solid@500"][c] for c in cols] == [again["solid@500"][c] for c in cols]
    assert first["solid@500"]["human_equiv_ci_lo"] < first["solid@500"]["human_equiv_ci_hi"]
    # the curve of another predictor does not count
    other = [make_result(t, 0, p, predictor="bert") for t, p in CURVE.items()] + [make_result("solid@500", 0, partial(4))]
    row = next(r for r in build_table(other, Options(n_resamples=50, n_permutations=50)).rows if r["train"] == "solid@500")
    assert row["human_equiv"] is None and row["human_equiv_ci_lo"] is None
