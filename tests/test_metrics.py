"""Metrics: golden values computed by hand, and agreement with scikit-learn on random matrices."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, jaccard_score, precision_recall_fscore_support

from solid_bench.errors import UserError
from solid_bench.metrics import METRICS, metrics_from_sums, score, unit_counts

# Labels A B C D; D never occurs in gold nor predictions.
#         gold      predicted
# u0      A B       A
# u1      A         A
# u2      C         B
# u3      (none)    (none)
GOLD = np.array([[1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0]])
PRED = np.array([[1, 0, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0]])


def test_golden_hand_computed():
    s = score(GOLD, PRED, labels=["A", "B", "C", "D"])
    # qu: u0 |{A}|/|{A,B}| = 1/2, u1 = 1, u2 = 0/|{B,C}| = 0, u3 both empty = 1 -> 2.5/4
    assert s["qu_accuracy"] == pytest.approx(0.625, abs=1e-15)
    # exact: u1 and u3 -> 2/4
    assert s["exact_match"] == 0.5
    # pooled: TP = A@u0 + A@u1 = 2, FP = B@u2 = 1, FN = B@u0 + C@u2 = 2
    assert s["micro_p"] == pytest.approx(2 / 3, abs=1e-15)
    assert s["micro_r"] == pytest.approx(2 / 4, abs=1e-15)
    assert s["micro_f1"] == pytest.approx(4 / 7, abs=1e-15)  # 2*2 / (2*2 + 1 + 2)
    # per label F1: A = 1, B = 0 (tp 0, fp 1, fn 1), C = 0 (tp 0, fn 1); D has no support and
    # no predictions, so it is left out of the mean: (1 + 0 + 0) / 3
    assert s["macro_f1"] == pytest.approx(1 / 3, abs=1e-15)
    assert s["n_utterances"] == 4
    assert s["per_label"]["A"] == {"p": 1.0, "r": 1.0, "f1": 1.0, "support": 2, "predicted": 2}
    assert s["per_label"]["B"] == {"p": 0.0, "r": 0.0, "f1": 0.0, "support": 1, "predicted": 1}
    assert s["per_label"]["C"] == {"p": 0.0, "r": 0.0, "f1": 0.0, "support": 1, "predicted": 0}
    assert s["per_label"]["D"] == {"p": 0.0, "r": 0.0, "f1": 0.0, "support": 0, "predicted": 0}
    assert set(s) == set(METRICS) | {"n_utterances", "per_label"}


def test_label_predicted_but_never_gold_counts_as_zero_in_macro():
    # gold {0}, predicted {0, 1}: label 0 F1 = 1, label 1 F1 = 0 (predicted only) -> macro 1/2
    # pooled TP 1, FP 1, FN 0 -> P 1/2, R 1, F1 2/3; qu = 1/2; exact = 0
    s = score(np.array([[1, 0]]), np.array([[1, 1]]))
    assert (s["macro_f1"], s["micro_p"], s["micro_r"], s["qu_accuracy"], s["exact_match"]) == (0.5, 0.5, 1.0, 0.5, 0.0)
    assert s["micro_f1"] == pytest.approx(2 / 3, abs=1e-15)
    assert list(s["per_label"]) == ["0", "1"]


def test_all_empty_is_perfect_qu_but_zero_f1():
    s = score(np.zeros((3, 2), int), np.zeros((3, 2), int))
    # qu and exact follow "both empty = agreement"; F1 has no positives at all -> 0 (zero_division=0)
    assert (s["qu_accuracy"], s["exact_match"], s["micro_f1"], s["macro_f1"]) == (1.0, 1.0, 0.0, 0.0)


def _random_pair(seed: int, n: int = 300, k: int = 7):
    rng = np.random.default_rng(seed)
    freq = rng.uniform(0.0, 0.4, size=k)
    freq[:2] = 0.0  # labels 0 and 1 never occur in the gold
    t = (rng.random((n, k)) < freq).astype(np.int8)
    noise = rng.random((n, k))
    p = np.where(noise < 0.25, 1 - t, t).astype(np.int8)
    p[:, 0] = 0  # label 0: neither gold nor predicted; label 1: predicted only (noise)
    p[:, -1] = 0  # the last label: gold only
    p[:5] = t[:5]  # some exact matches, including possibly empty rows
    t[5:8] = 0
    p[5:8] = 0  # rows empty on both sides
    return t, p


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_matches_sklearn(seed):
    t, p = _random_pair(seed)
    s = score(t, p)
    mp, mr, mf, _ = precision_recall_fscore_support(t, p, average="micro", zero_division=0)
    assert (s["micro_p"], s["micro_r"], s["micro_f1"]) == pytest.approx((mp, mr, mf), abs=1e-12)
    lp, lr, lf, ls = precision_recall_fscore_support(t, p, average=None, zero_division=0)
    for j in range(t.shape[1]):
        row = s["per_label"][str(j)]
        assert (row["p"], row["r"], row["f1"]) == pytest.approx((lp[j], lr[j], lf[j]), abs=1e-12)
        assert row["support"] == ls[j]
    present = [j for j in range(t.shape[1]) if t[:, j].any() or p[:, j].any()]
    assert present == list(range(1, t.shape[1]))  # only label 0 drops out of the macro mean
    assert s["macro_f1"] == pytest.approx(f1_score(t, p, average="macro", labels=present, zero_division=0), abs=1e-12)
    assert s["exact_match"] == pytest.approx(accuracy_score(t, p), abs=1e-15)
    assert s["qu_accuracy"] == pytest.approx(jaccard_score(t, p, average="samples", zero_division=1), abs=1e-12)
    # and a plain set-based loop, the definition of Qu et al.
    sets = [(set(np.flatnonzero(a)), set(np.flatnonzero(b))) for a, b in zip(t, p)]
    qu = np.mean([1.0 if not (a | b) else len(a & b) / len(a | b) for a, b in sets])
    assert s["qu_accuracy"] == pytest.approx(qu, abs=1e-12)


def test_macro_leaves_out_only_absent_labels():
    t, p = _random_pair(5)
    t[:, 0] = 0
    p[:, 0] = 0
    with_absent = score(t, p)["macro_f1"]
    assert with_absent == pytest.approx(score(t[:, 1:], p[:, 1:])["macro_f1"], abs=1e-15)


def test_weighted_counts_equal_scoring_the_resampled_rows():
    t, p = _random_pair(7, n=120)
    groups = np.repeat(np.arange(30), 4)
    counts = unit_counts(t, p, groups)
    assert counts.n_units == 30 and counts.n.sum() == 120
    rng = np.random.default_rng(3)
    weights = np.stack([np.bincount(rng.integers(0, 30, 30), minlength=30) for _ in range(5)])
    batch = counts.weighted(weights)
    for r in range(5):
        rows = np.concatenate([np.flatnonzero(groups == g) for g in np.repeat(np.arange(30), weights[r])])
        ref = score(t[rows], p[rows])
        for m in METRICS:
            assert batch[m][r] == pytest.approx(ref[m], abs=1e-12), m
    total = counts.total()
    ref = score(t, p)
    assert all(total[m] == pytest.approx(ref[m], abs=1e-12) for m in METRICS)


def test_groups_may_be_strings_and_unsorted():
    t, p = _random_pair(8, n=10)
    a = unit_counts(t, p, np.array(list("bbaaccbbaa")))
    # sorted ids a, b, c: a has 4 utterances, b 4, c 2
    assert a.n.tolist() == [4, 4, 2]
    assert a.tp.sum() == (t & p).sum()


def test_errors():
    with pytest.raises(ValueError, match="same shape"):
        score(np.zeros((2, 3)), np.zeros((2, 4)))
    with pytest.raises(ValueError, match="only 0 and 1"):
        score(np.full((2, 3), 2), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="zero utterances"):
        score(np.zeros((0, 3)), np.zeros((0, 3)))
    with pytest.raises(ValueError, match="label codes"):
        score(GOLD, PRED, labels=["A"])
    with pytest.raises(UserError, match="micro_f1"):
        metrics_from_sums(np.zeros(2), np.zeros(2), np.zeros(2), 0.0, 0, 1, names=("micro-f1",))
