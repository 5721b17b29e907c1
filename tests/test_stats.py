"""Statistics: exact randomization p-values by hand, Monte Carlo vs exact, Holm, bootstrap coverage."""

from __future__ import annotations

import numpy as np
import pytest

from solid_bench.errors import UserError
from solid_bench.metrics import score
from solid_bench.stats import bootstrap_ci, bootstrap_distribution, holm, paired_randomization_test, shared_bootstrap


def test_exact_p_value_by_hand_qu_accuracy():
    # One label, 4 utterances. A is right on u0..u2, B wrong there; both right on u3.
    # Per-utterance qu difference A-B: (1, 1, 1, 0); d_obs = 3/4.
    # A swap flips the sign of that unit's difference: d = (s0 + s1 + s2) / 4, s_i = +-1.
    # |d| >= 3/4 needs s0 = s1 = s2: 2 sign choices x 2 (u3 swapped or not) = 4 of 2**4 = 16.
    gold = np.array([[1], [1], [1], [1]])
    a = np.array([[1], [1], [1], [1]])
    b = np.array([[0], [0], [0], [1]])
    assert paired_randomization_test(gold, a, b, metric="qu_accuracy") == 4 / 16
    assert paired_randomization_test(gold, a, b, metric="exact_match") == 4 / 16


# One label, 3 utterances: gold (1, 1, 0), A (1, 1, 0), B (0, 1, 1).
GOLD3 = np.array([[1], [1], [0]])
A3 = np.array([[1], [1], [0]])
B3 = np.array([[0], [1], [1]])


def test_exact_p_value_by_hand_micro_f1():
    # u1 is the same in A and B, so only swaps of u0 and u2 matter (each pattern appears twice).
    #   no swap:   A TP2 FP0 FN0 -> F1 1;          B TP1 FP1 FN1 -> 2/4 = 0.5;   d = +0.5
    #   swap u0:   A TP1 FN1     -> 2/3;           B TP2 FP1     -> 4/5;         d = -2/15
    #   swap u2:   A TP2 FP1     -> 4/5;           B TP1 FN1     -> 2/3;         d = +2/15
    #   swap both: A TP1 FP1 FN1 -> 0.5;           B TP2         -> 1;           d = -0.5
    # |d| >= 0.5 for "no swap" and "swap both": 2 x 2 = 4 of 8 patterns -> p = 0.5
    assert paired_randomization_test(GOLD3, A3, B3, metric="micro_f1") == 0.5


def test_exact_p_value_by_hand_dialog_units():
    # u0 and u2 in dialog 7, u1 in dialog 3: swaps move u0 and u2 together, so only the
    # "no swap" (d = +0.5) and "swap both" (d = -0.5) outcomes remain: p = 4/4 = 1.
    assert paired_randomization_test(GOLD3, A3, B3, metric="micro_f1", groups=np.array([7, 3, 7])) == 1.0
    # one dialog per utterance is the utterance-level test
    assert paired_randomization_test(GOLD3, A3, B3, groups=np.array([0, 1, 2])) == 0.5


def _systems(seed: int, n: int, k: int = 4):
    rng = np.random.default_rng(seed)
    gold = (rng.random((n, k)) < 0.3).astype(np.int8)
    a = np.where(rng.random((n, k)) < 0.15, 1 - gold, gold)
    b = np.where(rng.random((n, k)) < 0.3, 1 - gold, gold)
    return gold, a, b


@pytest.mark.parametrize("metric", ["micro_f1", "macro_f1", "qu_accuracy"])
def test_monte_carlo_agrees_with_exact(metric):
    gold, a, b = _systems(1, 40)
    groups = np.repeat(np.arange(12), [3, 4, 2, 5, 3, 3, 4, 2, 4, 3, 4, 3])
    exact = paired_randomization_test(gold, a, b, metric=metric, groups=groups)  # 12 dialogs -> exact
    mc = paired_randomization_test(gold, a, b, metric=metric, groups=groups, exact=False, n_permutations=20000, seed=5)
    assert 0.0 < exact < 1.0
    assert mc == pytest.approx(exact, abs=0.015)  # MC standard error <= 0.0035 here
    assert mc == paired_randomization_test(gold, a, b, metric=metric, groups=groups, exact=False, n_permutations=20000, seed=5)


def test_exact_enumeration_matches_brute_force_with_score():
    gold, a, b = _systems(2, 6, k=3)
    d_obs = abs(score(gold, a)["micro_f1"] - score(gold, b)["micro_f1"])
    hits = 0
    for code in range(2**6):
        swap = np.array([(code >> i) & 1 for i in range(6)], dtype=bool)[:, None]
        a2, b2 = np.where(swap, b, a), np.where(swap, a, b)
        hits += abs(score(gold, a2)["micro_f1"] - score(gold, b2)["micro_f1"]) >= d_obs - 1e-10
    assert paired_randomization_test(gold, a, b) == hits / 64


def test_randomization_edge_cases():
    gold, a, _ = _systems(3, 30)
    assert paired_randomization_test(gold, a, a) == 1.0  # identical systems: every pattern ties
    gold, a, b = _systems(4, 400)
    # far apart systems over 400 utterances: no random swap reaches d_obs -> 1/(n+1)
    assert paired_randomization_test(gold, gold, 1 - gold, n_permutations=999) == 1 / 1000
    p = paired_randomization_test(gold, a, b, n_permutations=2000, seed=1)
    assert p == paired_randomization_test(gold, a, b, n_permutations=2000, seed=1)
    with pytest.raises(UserError, match="exact=False"):
        paired_randomization_test(gold, a, b, exact=True)
    with pytest.raises(UserError, match="unknown metric"):
        paired_randomization_test(gold, a, b, metric="accuracy")


def test_holm_textbook():
    # sorted p: 0.005, 0.01, 0.03, 0.04 -> x4, x3, x2, x1 = 0.02, 0.03, 0.06, 0.04
    # running max keeps it monotone: 0.02, 0.03, 0.06, 0.06; back in input order:
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02], abs=1e-15)
    assert holm([0.5, 0.6]) == [1.0, 1.0]  # 0.5 x 2 = 1.0, capped; 0.6 kept monotone at 1.0
    assert holm([0.02]) == [0.02]
    assert holm([]) == []
    with pytest.raises(ValueError):
        holm([0.1, float("nan")])


def test_holm_matches_definition():
    p = np.random.default_rng(0).random(9) ** 3
    order = np.argsort(p)
    ref = np.empty(9)
    for rank, i in enumerate(order):  # adj p_(i) = max_{j <= i} min(1, (m - j) p_(j)), 0-based j
        ref[i] = max(min(1.0, (9 - j) * p[order[j]]) for j in range(rank + 1))
    assert holm(p.tolist()) == pytest.approx(ref.tolist(), abs=1e-15)


def test_bootstrap_uses_whole_dialogs_exactly():
    gold, a, _ = _systems(5, 50)
    groups = np.repeat(np.arange(10), 5)[np.random.default_rng(0).permutation(50)]  # interleaved dialogs
    dist = bootstrap_distribution(gold, a, groups, metrics=("micro_f1", "macro_f1", "qu_accuracy"), n_resamples=3, seed=11)
    draws = np.random.default_rng(11).integers(0, 10, size=(3, 10))  # the draws bootstrap makes
    for r in range(3):
        rows = np.concatenate([np.flatnonzero(groups == g) for g in draws[r]])
        ref = score(gold[rows], a[rows])
        for m in dist:
            assert dist[m][r] == pytest.approx(ref[m], abs=1e-12)


def test_bootstrap_ci_basic_properties():
    gold, a, _ = _systems(6, 200)
    groups = np.repeat(np.arange(50), 4)
    ci = bootstrap_ci(gold, a, groups, seed=3)
    point = score(gold, a)
    assert set(ci) == {"micro_f1", "qu_accuracy", "macro_f1", "micro_p", "micro_r", "exact_match"}
    for m, (lo, hi) in ci.items():
        assert lo < point[m] < hi, m
        assert 0.0 <= lo < hi <= 1.0
    assert ci == bootstrap_ci(gold, a, groups, seed=3)
    assert ci != bootstrap_ci(gold, a, groups, seed=4)
    narrow = bootstrap_ci(gold, a, groups, alpha=0.5, seed=3)["micro_f1"]
    assert ci["micro_f1"][0] < narrow[0] < narrow[1] < ci["micro_f1"][1]


def _population(seed: int = 0, n_dialogs: int = 3000, k: int = 6):
    """Dialogs whose utterances share a dialog-level error rate (so utterances are not independent)."""
    rng = np.random.default_rng(seed)
    lens = rng.integers(2, 10, n_dialogs)
    groups = np.repeat(np.arange(n_dialogs), lens)
    err = rng.beta(1.0, 3.0, n_dialogs)[groups][:, None]
    gold = rng.random((groups.size, k)) < np.array([0.35, 0.25, 0.2, 0.1, 0.05, 0.03])
    u = rng.random(gold.shape)
    pred = np.where(gold, u >= err, u < 0.3 * err)
    return gold, pred, lens


def _coverage(n_sets: int, by_dialog: bool, n_resamples: int) -> float:
    gold, pred, lens = _population()
    truth = score(gold, pred)["micro_f1"]
    starts = np.r_[0, np.cumsum(lens)]
    rng = np.random.default_rng(1)
    hits = 0
    for i in range(n_sets):
        picked = rng.choice(lens.size, 100, replace=True)  # a test set of 100 dialogs
        rows = np.concatenate([np.arange(starts[d], starts[d + 1]) for d in picked])
        groups = np.repeat(np.arange(100), lens[picked]) if by_dialog else None
        lo, hi = bootstrap_ci(gold[rows], pred[rows], groups, metrics=("micro_f1",), n_resamples=n_resamples, seed=i)["micro_f1"]
        hits += lo <= truth <= hi
    return hits / n_sets


def test_dialog_bootstrap_covers_population_micro_f1():
    coverage = _coverage(200, by_dialog=True, n_resamples=500)
    assert 0.88 <= coverage <= 0.99
    # resampling utterances ignores the within-dialog correlation and under-covers badly
    assert _coverage(100, by_dialog=False, n_resamples=300) < 0.85


def _micro_f1(gold, pred):
    """micro-F1 computed independently of solid_bench.metrics (scikit-learn)."""
    from sklearn.metrics import f1_score

    return f1_score(gold, pred, average="micro", zero_division=0)


def test_dialog_unit_test_with_several_seeds_matches_brute_force_enumeration():
    # 6 dialogs (13 utterances), 3 paired seeds per system. A swap of dialog d exchanges A's and B's
    # predictions on d in EVERY seed at once; the statistic is mean-over-seeds micro-F1(A) - (B).
    rng = np.random.default_rng(11)
    sizes = [1, 3, 2, 2, 4, 1]
    groups = np.repeat(np.arange(6), sizes)
    n, k, seeds = groups.size, 4, 3
    gold = (rng.random((n, k)) < 0.35).astype(np.int8)
    a = np.stack([np.where(rng.random((n, k)) < 0.15, 1 - gold, gold) for _ in range(seeds)])
    b = np.stack([np.where(rng.random((n, k)) < 0.35, 1 - gold, gold) for _ in range(seeds)])

    def stat(pa, pb):
        return np.mean([_micro_f1(gold, pa[s]) - _micro_f1(gold, pb[s]) for s in range(seeds)])

    observed = abs(stat(a, b))
    count = 0
    for pattern in range(2**6):
        swap = np.array([(pattern >> d) & 1 for d in groups], dtype=bool)  # per utterance, from its dialog
        pa = np.where(swap[None, :, None], b, a)
        pb = np.where(swap[None, :, None], a, b)
        count += abs(stat(pa, pb)) >= observed - 1e-10
    expected = count / 2**6
    assert 0 < expected < 1
    assert paired_randomization_test(gold, a, b, groups=groups) == expected
    # seeds are not units: the (seed, dialog)-unit test on the stacked runs is a different (wrong) test
    stacked_groups = np.concatenate([[f"{s}:{g}" for g in groups] for s in range(seeds)])
    assert paired_randomization_test(np.vstack([gold] * seeds), np.vstack(a), np.vstack(b), groups=stacked_groups,
                                     exact=False, n_permutations=2000) != expected


def test_identical_runs_give_the_one_run_p_value():
    gold, a, b = _systems(4, 30)
    groups = np.repeat(np.arange(10), 3)
    one = paired_randomization_test(gold, a, b, groups=groups)
    assert paired_randomization_test(gold, np.stack([a, a, a]), np.stack([b, b, b]), groups=groups) == pytest.approx(one)


def test_runs_must_pair():
    gold, a, b = _systems(5, 8)
    with pytest.raises(ValueError):
        paired_randomization_test(gold, np.stack([a, a]), np.stack([b, b, b]))


def test_shared_bootstrap_gives_every_system_the_same_dialogs():
    # Two dialogs (d0: utterances 0-1, d1: utterance 2). A is right everywhere; B misses d1's label.
    gold, groups = np.array([[1], [1], [1]]), np.array(["d0", "d0", "d1"])
    a, b = gold.copy(), np.array([[1], [1], [0]])
    dist = shared_bootstrap([(gold, a, groups), (gold, b, groups)], "micro_f1", n_resamples=200, seed=3)
    assert dist.shape == (2, 200) and (dist[0] == 1).all()
    # B's F1 is 1 exactly on the resamples that drew d0 twice: the same resamples, seen through B
    assert set(np.round(dist[1], 6)) <= {1.0, round(4 / 5, 6), 0.0}  # d0 twice; d0 + d1 (TP 2, FN 1); d1 twice
    assert np.array_equal(dist[1], bootstrap_distribution(gold, b, groups, ("micro_f1",), 200, seed=3)["micro_f1"])
    # a system that lacks a dialog scores the dialogs it has, on the draws of the union
    only_d0 = shared_bootstrap([(gold, b, groups), (gold[:2], b[:2], groups[:2])], "micro_f1", n_resamples=200, seed=3)
    assert np.array_equal(only_d0[0], dist[1]) and np.isin(only_d0[1], [0.0, 1.0]).all()
