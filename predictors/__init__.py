"""Intent predictors, one file per family, registered in ``PREDICTORS``.

The contract (scikit-learn style)::

    class MyPredictor:
        description = "one line shown by `solid-bench predictors list`"
        def __init__(self, **params): ...            # only stores hyperparameters
        def fit(self, train, valid, labels, seed): ... ; return self
        def predict_proba(self, examples) -> np.ndarray  # (n_utterances, n_labels), in [0, 1]

Predictors output probabilities only; the harness turns them into label sets with thresholds
tuned on validation data, the same way for every predictor. Outside packages join through the
entry-point group ``solid_bench.predictors``.
"""

from __future__ import annotations

from ..registry import Registry

PREDICTORS: Registry = Registry("predictor", package="solid_bench.predictors", entry_point_group="solid_bench.predictors")
register = PREDICTORS.register


def check(name: str, params: dict) -> list[str]:
    """One sentence per problem with predictor ``name`` and ``params`` (unknown name: a UserError)."""
    from ..hyperparams import check_params

    return check_params(PREDICTORS.get(name), params, f"predictor {name!r}")


def create(name: str, **params):
    """Instantiate the registered predictor ``name`` with ``params``, checked against its ``__init__`` first."""
    from ..errors import UserError

    problems = check(name, params)
    if problems:
        raise UserError(problems[0][0].upper() + problems[0][1:])
    return PREDICTORS.get(name)(**params)
