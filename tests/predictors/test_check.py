"""The battery itself: it passes a correct predictor and names what a broken one gets wrong."""

from __future__ import annotations

import numpy as np
import pytest

from solid_bench.predictors import BasePredictor
from solid_bench.predictors._check import N_CHECKS, TINY_LABELS, check_predictor, tiny_dialogs
from solid_bench.predictors.base import check_contract
from solid_bench.registry import Registry


class Good(BasePredictor):
    """Role frequencies, written the simplest way."""

    description = "test predictor"
    model_id = "none"

    def __init__(self, shift: float = 0.0):
        self.shift = shift

    def fit(self, train, valid, labels, seed=0):
        y = train.y(labels)
        self.freq_ = {r: y[[e.role == r for e in train]].mean(axis=0) for r in ("user", "agent")}
        self.k_ = len(labels)
        return self

    def predict_proba(self, examples):
        out = np.zeros((len(examples), self.k_))
        for i, e in enumerate(examples):
            out[i] = np.clip(self.freq_[e.role] + self.shift, 0, 1)
        return out


def test_a_correct_predictor_passes_every_check():
    assert check_predictor(Good) == N_CHECKS == 16
    assert check_predictor(Good(shift=0.1)) == N_CHECKS


def _broken(**overrides):
    return type("Broken", (Good,), overrides)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"description": "two\nlines"}, "description"),
        ({"__init__": lambda self, shift=0.0: setattr(self, "shift", shift) or setattr(self, "k_", 3)}, "learned attributes"),
        ({"fit": lambda self, *a, **k: (Good.fit(self, *a, **k), None)[1]}, "fit must return self"),
        ({"predict_proba": lambda self, ex: Good.predict_proba(self, ex)[:, :-1]}, "shape"),
        ({"predict_proba": lambda self, ex: Good.predict_proba(self, ex) * np.nan}, "NaN"),
        ({"predict_proba": lambda self, ex: Good.predict_proba(self, ex) + 1.5}, "[0, 1]"),
        ({"predict_proba": lambda self, ex: np.clip(Good.predict_proba(self, ex) + np.random.rand(len(ex), self.k_) * 0.01, 0, 1)}, "same seed"),
        ({"predict_proba": lambda self, ex: np.sort(Good.predict_proba(self, ex), axis=0)}, "permut"),
    ],
)
def test_the_battery_names_the_broken_contract(overrides, message):
    with pytest.raises(AssertionError, match=message.replace("[", r"\[").replace("]", r"\]")):
        check_predictor(_broken(**overrides))


def test_a_predictor_missing_a_required_member_gets_a_sentence_not_an_attribute_error():
    no_model = type("NoModel", (BasePredictor,), {k: v for k, v in vars(Good).items() if k != "model_id"})
    with pytest.raises(AssertionError, match=r"check_predictor\(NoModel\): does not follow the Predictor contract: "
                                             r"it lacks model_id \(required"):
        check_predictor(no_model)


def test_a_class_without_the_base_class_is_told_which_hooks_it_lacks():
    bare = type("Bare", (), {k: v for k, v in vars(Good).items() if not k.startswith("__") or k == "__init__"})
    with pytest.raises(AssertionError, match="lacks params, may_abstain, outputs_label_sets, last_stats_, "
                                             "tiny_params: subclass solid_bench.predictors.BasePredictor for the defaults"):
        check_predictor(bare)


def test_registration_refuses_a_class_that_breaks_the_contract():
    registry = Registry("predictor", check=check_contract)
    no_model = type("NoModel", (BasePredictor,), {k: v for k, v in vars(Good).items() if k != "model_id"})
    with pytest.raises(TypeError, match=r"Predictor 'x' \(.*NoModel\) does not follow the Predictor contract: it lacks model_id"):
        registry.add("x", no_model)
    assert "x" not in registry
    registry.add("good", Good)
    assert registry.get("good") is Good


def test_params_come_from_the_init_signature():
    class Two(Good):
        def __init__(self, shift: float = 0.0, alpha: int = 3, *args, **kwargs):
            super().__init__(shift)
            self.alpha = alpha

    assert Two(0.5).params() == {"shift": 0.5, "alpha": 3}

    class Renames(Good):
        def __init__(self, rate: float = 0.1):
            self.learning_rate = rate

    with pytest.raises(TypeError, match="Renames.__init__ does not store rate under the same name"):
        Renames().params()


def test_tiny_dialogs_are_deterministic_and_never_use_the_absent_label():
    a, b = tiny_dialogs(12), tiny_dialogs(12)
    assert a == b and len(a) == 12
    assert [len(d.utterances) for d in a[:4]] == [5, 5, 3, 7]
    used = {c for d in a for u in d.utterances for c in u.intents}
    assert "ZZ" in TINY_LABELS and "ZZ" not in used and used <= set(TINY_LABELS)


def _nan_rows(self, ex):
    p = Good.predict_proba(self, ex)
    p[[e.role == "agent" for e in ex]] = np.nan  # abstains on every agent utterance
    return p


class Abstains(Good):
    """Declares that it may abstain, and does so on agent utterances."""

    may_abstain = True
    predict_proba = _nan_rows


def test_abstaining_predictors_may_return_whole_nan_rows_only():
    assert check_predictor(Abstains) == N_CHECKS
    with pytest.raises(AssertionError, match="NaN"):
        check_predictor(_broken(predict_proba=_nan_rows))  # not declared

    def partly_nan(self, ex):
        p = Good.predict_proba(self, ex)
        p[:, 0] = np.nan
        return p

    with pytest.raises(AssertionError, match="NaN"):
        check_predictor(_broken(predict_proba=partly_nan, may_abstain=True))
