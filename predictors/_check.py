"""`check_predictor`: the conformance battery every predictor passes (like scikit-learn's check_estimator).

The first check is the contract itself (``base.contract_problems``: every member of ``Predictor``
present), so a class missing ``model_id`` or a hook fails with a sentence naming it, not an
AttributeError deep in the battery. With ``tiny=True`` the predictor is built with its
``tiny_params(workdir)`` (e.g. a tiny random encoder saved under ``workdir``, a temporary folder
removed after the battery). A predictor with ``may_abstain = True`` may return whole rows of NaN
("no answer"); the battery then accepts NaN rows (never partly-NaN rows, never infinity) and
compares with NaN equal to NaN.
"""

from __future__ import annotations

import json
import pickle
import tempfile

import numpy as np

from ..examples import Examples
from ..schema import Dialog, LabelSet, Utterance
from .base import contract_problems, init_params

#: The tiny label set: "ZZ" never occurs in the training dialogs.
TINY_LABELS = LabelSet("tiny", ("OQ", "CQ", "FD", "PA", "PF", "NF", "GG", "ZZ"))

_TOPICS = ["outlook password", "excel crash", "skype sound", "windows update", "onedrive sync", "teams camera"]


def tiny_dialogs(n: int, offset: int = 0) -> list[Dialog]:
    """``n`` deterministic synthetic dialogs with learnable role/position/wording patterns."""
    out = []
    for i in range(offset, offset + n):
        topic = _TOPICS[i % len(_TOPICS)]
        utts = [Utterance("user", f"how do i fix my {topic} problem ?", ("OQ",))]
        if i % 2:
            utts.append(Utterance("agent", f"which version of {topic} do you use ?", ("CQ",)))
            utts.append(Utterance("user", f"version {2010 + i % 9} on windows {7 + i % 4}", ("FD",)))
        utts.append(Utterance("agent", f"try to reset the {topic} settings and restart", ("PA",)))
        if i % 3 == 0:
            utts.append(Utterance("user", "that did not work , still broken", ("NF",)))
            utts.append(Utterance("agent", "reinstall it from the control panel", ("PA",)))
        utts.append(Utterance("user", "it worked , thank you so much", ("PF", "GG") if i % 4 == 0 else ("PF",)))
        out.append(Dialog(f"tiny-{i}", "tiny", tuple(utts)))
    return out


def _fresh(cls, params):
    return cls(**params)


def check_predictor(cls_or_instance, tiny: bool = True) -> int:
    """Run the battery on a predictor class (or an unfitted instance); return how many checks ran.

    Raises AssertionError naming the first failed check. With ``tiny``, the predictor is built
    with its ``tiny_params(workdir)`` on top of the instance's hyperparameters.
    """
    cls = cls_or_instance if isinstance(cls_or_instance, type) else type(cls_or_instance)
    name = getattr(cls, "__name__", repr(cls))
    problems = contract_problems(cls)
    if problems:
        raise AssertionError(f"check_predictor({name}): does not follow the Predictor contract: " + "; ".join(problems) + ".")
    params = {} if cls_or_instance is cls else {k: getattr(cls_or_instance, k) for k in init_params(cls)}
    with tempfile.TemporaryDirectory(prefix="solid-bench-check-") as workdir:
        if tiny:
            params = {**params, **cls.tiny_params(workdir)}
        return 1 + _run_checks(cls, params)


def _run_checks(cls, params: dict) -> int:
    name = cls.__name__
    train = Examples.from_dialogs(tiny_dialogs(12))
    valid = Examples.from_dialogs(tiny_dialogs(4, offset=12))
    test = Examples.from_dialogs(tiny_dialogs(5, offset=16))
    n, k = len(test), len(TINY_LABELS)
    ran = 0
    may_abstain = bool(cls.may_abstain)

    def well_formed(p: np.ndarray) -> bool:
        """Finite, or NaN across a whole row when the predictor may abstain."""
        nan_rows = np.isnan(p).all(axis=1, keepdims=True) if may_abstain and p.ndim == 2 else False
        return bool((np.isfinite(p) | nan_rows).all())

    def close(a: np.ndarray, b: np.ndarray, atol: float) -> bool:
        return a.shape == b.shape and bool(np.allclose(a, b, atol=atol, equal_nan=may_abstain))

    def check(ok: bool, what: str) -> None:
        nonlocal ran
        ran += 1
        if not ok:
            raise AssertionError(f"check_predictor({name}): {what}")

    unfitted = _fresh(cls, params)
    learned = [a for a in vars(unfitted) if a.endswith("_") and not a.startswith("__")]
    check(not learned, f"__init__ must only store hyperparameters, but set learned attributes {learned}")
    check(isinstance(json.dumps(unfitted.params()), str), "params() must return a JSON-able dict")
    check(isinstance(unfitted.model_id, str) and unfitted.model_id != "", "`model_id` must be a non-empty string (e.g. 'none')")

    model = _fresh(cls, params)
    fitted = model.fit(train, valid, TINY_LABELS, 0)
    check(fitted is model, "fit must return self")

    proba = model.predict_proba(test)
    check(isinstance(proba, np.ndarray) and proba.shape == (n, k), f"predict_proba shape {getattr(proba, 'shape', None)}, expected {(n, k)}")
    check(well_formed(proba), "predict_proba returned NaN or infinity (only `may_abstain` predictors may give NaN rows)")
    finite = np.nan_to_num(proba, nan=0.5)
    check(bool(((finite >= 0) & (finite <= 1)).all()), "predict_proba values must lie in [0, 1]")
    check(proba.shape[1] == k and well_formed(proba[:, [TINY_LABELS.index("ZZ")]]),
          "a label absent from training must still get a finite column")
    check(json.loads(json.dumps(model.params())) is not None, "params() after fit must stay JSON-able")

    again = _fresh(cls, params).fit(train, valid, TINY_LABELS, 0).predict_proba(test)
    check(close(proba, again, 1e-6), f"same seed gave different probabilities (max diff {np.abs(np.nan_to_num(proba - again)).max():.2e})")

    order = np.random.default_rng(0).permutation(n)
    permuted = model.predict_proba(test.subset(order))
    check(close(permuted, proba[order], 1e-5), "permuting the examples must permute the rows")

    single = model.predict_proba(test[2:3])
    check(close(single, proba[2:3], 1e-4), "one example alone must get the same row as in a batch")

    empty = model.predict_proba(Examples([]))
    check(isinstance(empty, np.ndarray) and empty.shape == (0, k), f"no examples must give shape {(0, k)}, got {getattr(empty, 'shape', None)}")

    no_valid = _fresh(cls, params).fit(train, None, TINY_LABELS, 0).predict_proba(test)
    check(no_valid.shape == (n, k) and well_formed(no_valid), "fit(valid=None) must work")

    restored = pickle.loads(pickle.dumps(model))
    check(close(restored.predict_proba(test), proba, 1e-6), "a pickled and unpickled predictor must predict the same")
    return ran


N_CHECKS = 16  # update when adding a check; tests assert it so no check is silently skipped
