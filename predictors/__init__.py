"""Intent predictors, one file per family, registered in ``PREDICTORS``.

The contract is ``Predictor`` (``predictors/base.py``): ``description``, ``model_id``,
``fit(train, valid, labels, seed) -> self`` and ``predict_proba(examples)`` of shape
``(n_utterances, n_labels)``, plus optional hooks whose defaults ``BasePredictor`` gives.
Predictors output probabilities only; the harness turns them into label sets with thresholds
tuned on validation data, the same way for every predictor. A predictor registers itself with
``@register(name)`` in its own file here (files whose name starts with ``_`` are helpers), or
joins from another package through the entry-point group ``solid_bench.predictors``.
Writing one: docs/predictors.md.
"""

from __future__ import annotations

from ..registry import Registry
from .base import BasePredictor, Predictor, check_contract

PREDICTORS: Registry = Registry("predictor", package="solid_bench.predictors", entry_point_group="solid_bench.predictors",
                                check=check_contract)
register = PREDICTORS.register

__all__ = ["PREDICTORS", "BasePredictor", "Predictor", "check", "check_predictor", "create", "register"]


def check_predictor(cls_or_instance, tiny: bool = True) -> int:
    """Run the conformance battery (``predictors/_check.py``) on a predictor class or unfitted instance; return
    how many checks ran (``N_CHECKS``). Raises AssertionError naming the first check that fails."""
    from ._check import check_predictor as run

    return run(cls_or_instance, tiny)


def check(name: str, params: dict) -> list[str]:
    """One sentence per problem with predictor ``name`` and ``params`` (unknown name: a UserError)."""
    from ..hyperparams import check_params

    return check_params(PREDICTORS.get(name), params, f"predictor {name!r}")


def create(name: str, **params) -> Predictor:
    """Instantiate the registered predictor ``name`` with ``params``, checked against its ``__init__`` first."""
    from ..errors import UserError

    problems = check(name, params)
    if problems:
        raise UserError(problems[0][0].upper() + problems[0][1:])
    return PREDICTORS.get(name)(**params)
