"""`tfidf-lr`: features, validation-chosen regularisation, unseen labels, learning on tiny dialogs."""

from __future__ import annotations

import numpy as np
import pytest

from solid_bench.examples import Example, Examples
from solid_bench.predictors import create
from solid_bench.predictors._check import TINY_LABELS, tiny_dialogs
from solid_bench.predictors._common import structure_features as _structure
from solid_bench.predictors.tfidf_lr import C_GRID


@pytest.fixture(scope="module")
def data():
    return tuple(Examples.from_dialogs(tiny_dialogs(n, offset=o)) for n, o in ((30, 0), (8, 30), (8, 40)))


def test_structure_features_by_hand():
    e = Example("d", 2, 5, "user", "does it work ?", "try this", "first", ())
    f = _structure([e])[0]
    np.testing.assert_allclose(f[:8], [1, 0, 0, 0, 0.5, 0.2, 1, 0])
    assert f[8] == pytest.approx(np.log1p(4) / 6)
    assert _structure([]).shape == (0, 9)


def test_learns_the_tiny_patterns_and_keeps_unseen_labels_at_zero(data):
    train, valid, test = data
    m = create("tfidf-lr").fit(train, valid, TINY_LABELS, 0)
    p = m.predict_proba(test)
    gold = test.y(TINY_LABELS)
    top = p.argmax(axis=1)
    assert (gold[np.arange(len(test)), top] == 1).mean() >= 0.95
    assert np.all(p[:, TINY_LABELS.index("ZZ")] == 0.0)
    assert m.C_ in C_GRID and m.class_weight_ in (None, "balanced")
    assert 0.9 <= m.valid_micro_f1_ <= 1.0


def test_fixed_hyperparameters_skip_the_search(data):
    train, valid, _ = data
    m = create("tfidf-lr", C=3.0, class_weight=None).fit(train, valid, TINY_LABELS, 0)
    assert (m.C_, m.class_weight_) == (3.0, None) and not hasattr(m, "valid_micro_f1_")
    assert m.params()["C_selected"] == 3.0
    no_valid = create("tfidf-lr").fit(train, None, TINY_LABELS, 0)
    assert (no_valid.C_, no_valid.class_weight_) == (2.0, "balanced")


def test_a_label_present_in_every_training_utterance_gets_probability_one():
    train = Examples([Example("d", i, 3, "user", f"word{i} text", "", "x", ("OQ",) if i % 2 else ("OQ", "PA")) for i in range(6)])
    p = create("tfidf-lr").fit(train, None, TINY_LABELS, 0).predict_proba(train)
    assert np.all(p[:, TINY_LABELS.index("OQ")] == 1.0) and np.all(p[:, TINY_LABELS.index("ZZ")] == 0.0)
