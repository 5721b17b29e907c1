"""Decision rule: threshold tuning on validation data, at-least-one label, per-label thresholds."""

from __future__ import annotations

import numpy as np
import pytest

from solid_bench.decision import DEFAULT_GRID, Thresholds, apply, tune_threshold
from solid_bench.metrics import score

# Two labels, three utterances; u0 has both labels.
PROBA = np.array([[0.9, 0.35], [0.2, 0.8], [0.3, 0.25]])
GOLD = np.array([[1, 1], [0, 1], [1, 0]])


def test_global_threshold_hand_known():
    # t <= 0.20: all 6 cells on: TP 4, FP 2 (u1/l0 0.2, u2/l1 0.25)   -> F1 8/10
    # t in (0.20, 0.25]: FP 1 (u2/l1)                                 -> F1 8/9
    # t in (0.25, 0.30]: u0 {0,1}, u1 {1}, u2 {0}: all right          -> F1 1
    # t in (0.30, 0.35]: u2 has none -> fallback argmax(0.3, 0.25)/t = l0, right -> F1 1
    # t > 0.35: u0 loses l1 (FN 1)                                    -> F1 6/7
    # best F1 on grid values 0.26..0.35; the tie goes to the one closest to 0.5: 0.35
    th = tune_threshold(GOLD, PROBA)
    assert th == Thresholds(0.35)
    assert score(GOLD, apply(PROBA, th))["micro_f1"] == 1.0
    assert tune_threshold(GOLD, PROBA, grid=np.array([0.2, 0.25, 0.9])) == Thresholds(0.25)  # 8/9 beats 8/10, 6/7


def test_ties_go_to_the_threshold_nearest_one_half_and_ge_counts():
    # l0 positives 0.9, 0.55, negatives 0.6, 0.3; l1 positives 0.7, 0.8, negatives 0.2, 0.1.
    # t = 0.60 still predicts u1/l0 (0.6 >= 0.6): FP 1 -> F1 8/9. For every t in (0.60, 0.95] the
    # labels above t plus the argmax fallback are exactly the gold sets -> F1 1; nearest 0.5: 0.61.
    proba = np.array([[0.9, 0.2], [0.6, 0.7], [0.3, 0.8], [0.55, 0.1]])
    gold = np.array([[1, 0], [0, 1], [0, 1], [1, 0]])
    assert tune_threshold(gold, proba).global_ == 0.61
    # equal distance on both sides of 0.5 -> the smaller threshold
    assert tune_threshold(gold, proba, grid=np.array([0.4, 0.6])).global_ == 0.4  # 8/9 each


def test_tuned_threshold_is_the_best_on_the_grid():
    rng = np.random.default_rng(0)
    gold = (rng.random((300, 5)) < 0.25).astype(np.int8)
    gold[np.arange(300), rng.integers(0, 5, 300)] = 1
    proba = np.clip(0.45 * gold + 0.6 * rng.random(gold.shape), 0, 1)
    th = tune_threshold(gold, proba)
    scores = {float(t): score(gold, apply(proba, float(t)))["micro_f1"] for t in DEFAULT_GRID}
    best = max(scores.values())
    assert scores[th.global_] == best
    assert abs(th.global_ - 0.5) == pytest.approx(min(abs(t - 0.5) for t, s in scores.items() if s == best), abs=1e-9)


def test_at_least_one_label_per_utterance():
    # neither label passes (0.3 < 0.6, 0.2 < 0.25): ratios 0.3/0.6 = 0.5, 0.2/0.25 = 0.8 -> label 1
    assert apply(np.array([[0.3, 0.2]]), Thresholds(0.5, (0.6, 0.25))).tolist() == [[0, 1]]
    proba = np.random.default_rng(1).random((200, 6)) * 0.5
    pred = apply(proba, 0.95)
    assert pred.dtype == np.int8
    assert (pred.sum(axis=1) == 1).all()  # nothing passes: exactly the argmax
    assert (pred.argmax(axis=1) == proba.argmax(axis=1)).all()
    pred = apply(proba, 0.3)
    passing = proba >= 0.3
    assert (pred[passing.any(axis=1)] == passing[passing.any(axis=1)]).all()  # no extra label where some pass
    assert (pred.sum(axis=1) >= 1).all()


def test_per_label_thresholds():
    # global = 0.35 (see above). Label 0 alone: proba (0.9, 0.2, 0.3), gold (1, 0, 1):
    #   t <= 0.2 F1 4/5; t in (0.2, 0.3] F1 1; t > 0.3 F1 2/3 -> best 0.21..0.30, nearest 0.35: 0.30
    # Label 1 alone: proba (0.35, 0.8, 0.25), gold (1, 1, 0): F1 1 on (0.25, 0.35] -> 0.35
    th = tune_threshold(GOLD, PROBA, per_label=True, min_support=2)
    assert th == Thresholds(0.35, (0.30, 0.35))
    assert th.rule == "per-label-f1" and Thresholds(0.35).rule == "global-micro-f1"
    assert th.to_dict(["FD", "PA"]) == {"FD": 0.30, "PA": 0.35}
    assert Thresholds(0.35).to_dict(["FD", "PA"]) == {"FD": 0.35, "PA": 0.35}
    # support 2 < 3: both labels keep the global threshold
    assert tune_threshold(GOLD, PROBA, per_label=True, min_support=3) == Thresholds(0.35, (0.35, 0.35))


def test_errors():
    with pytest.raises(ValueError, match=r"\(0, 1\]"):
        Thresholds(0.0)
    with pytest.raises(ValueError, match="NaN"):
        apply(np.array([[np.nan, 0.2]]), 0.5)
    with pytest.raises(ValueError, match="same shape"):
        tune_threshold(GOLD, PROBA[:, :1])
    with pytest.raises(ValueError, match="per-label thresholds"):
        apply(PROBA, Thresholds(0.5, (0.5,)))
