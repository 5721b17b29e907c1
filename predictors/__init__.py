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


def create(name: str, **params):
    """Instantiate the registered predictor ``name`` with ``params``."""
    return PREDICTORS.get(name)(**params)
