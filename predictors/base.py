"""The predictor contract: the ``Predictor`` Protocol, its defaults in ``BasePredictor``, and the check made at registration.

The harness calls every member of ``Predictor`` directly (never ``hasattr``/``getattr``), so a
registered predictor has all of them: the required ones it defines itself, the optional hooks
from ``BasePredictor`` unless it overrides them. ``check_contract`` runs when a class is
registered (``@register``) and first in ``check_predictor``, and names what is missing.
A complete example: docs/predictors.md.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from ..registry import contract_error, member_problems

if TYPE_CHECKING:
    import numpy as np

    from ..examples import Examples
    from ..schema import LabelSet


class Predictor(Protocol):
    """An intent predictor, scikit-learn style: hyperparameters in ``__init__``, state learnt in ``fit``.

    Required (the predictor defines them):

    * ``description`` (class attribute): one line for ``solid-bench predictors list``.
    * ``model_id`` (class attribute or property): the model it uses, recorded in every Result
      (an encoder path or hub id, ``"sklearn-logistic-regression"``, ``"none"``, ...).
    * ``__init__(**hyperparameters)``: stores each one under its own name and does nothing else;
      annotated types are checked before a run starts (``solid_bench.hyperparams``).
    * ``fit(train, valid, labels, seed) -> self``: ``train``/``valid`` are ``Examples`` (``valid``
      may be None; use it for early stopping or model selection, never for anything else), ``labels``
      the ``LabelSet`` whose order the output columns follow. Learnt state goes in attributes whose
      names end in ``_``.
    * ``predict_proba(examples) -> np.ndarray``: shape ``(len(examples), len(labels))``, values in
      [0, 1]. The harness turns probabilities into label sets with thresholds tuned on validation
      data, the same way for every predictor.

    Optional (``BasePredictor`` gives the default):

    * ``params() -> dict``: the hyperparameters recorded in the Result. Default: read back from
      the ``__init__`` signature, as scikit-learn's ``get_params`` does; override to add values
      chosen during ``fit`` (call ``super().params()``).
    * ``may_abstain`` (class attribute, default False): True when ``predict_proba`` may return a
      whole row of NaN for "no answer"; the harness scores such a row as an empty prediction.
    * ``outputs_label_sets`` (class attribute, default False): True when the rows are 0/1 label
      sets already; the harness then tunes no threshold and does not predict the validation data.
    * ``last_stats_`` (default None): a JSON-able dict about the last ``fit``/``predict_proba``
      (unparseable answers, tokens, the epoch kept), copied into the Result as ``predictor_stats``.
    * ``tiny_params(workdir) -> dict`` (classmethod, default ``{}``): hyperparameters that make
      ``check_predictor`` fast (a tiny model saved under ``workdir``, a fake backend, one epoch).
    """

    description: ClassVar[str]
    model_id: str
    may_abstain: ClassVar[bool]
    outputs_label_sets: ClassVar[bool]
    last_stats_: dict | None

    def params(self) -> dict[str, Any]: ...

    def fit(self, train: Examples, valid: Examples | None, labels: LabelSet, seed: int) -> Predictor: ...

    def predict_proba(self, examples: Examples) -> np.ndarray: ...

    @classmethod
    def tiny_params(cls, workdir: str) -> dict[str, Any]: ...


REQUIRED = ("description", "model_id", "fit", "predict_proba")
OPTIONAL = ("params", "may_abstain", "outputs_label_sets", "last_stats_", "tiny_params")


def init_params(cls: type) -> list[str]:
    """The hyperparameter names of ``cls``: its ``__init__`` parameters, without ``self``, ``*args`` and ``**kwargs``."""
    signature = inspect.signature(cls.__init__)
    return [p.name for p in list(signature.parameters.values())[1:]
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]


class BasePredictor:
    """Defaults for the optional hooks of ``Predictor``; subclass it and define the required members."""

    may_abstain: ClassVar[bool] = False
    outputs_label_sets: ClassVar[bool] = False
    last_stats_: dict | None = None

    def params(self) -> dict[str, Any]:
        """The hyperparameters, read back from the attributes named like the ``__init__`` parameters."""
        names = init_params(type(self))
        missing = [n for n in names if not hasattr(self, n)]
        if missing:
            raise TypeError(f"{type(self).__name__}.__init__ does not store {', '.join(missing)} under the same "
                            "name; params() reads each hyperparameter back from the attribute of its name.")
        return {n: getattr(self, n) for n in names}

    @classmethod
    def tiny_params(cls, workdir: str) -> dict[str, Any]:
        """No special parameters: the defaults are fast enough for ``check_predictor``."""
        return {}


def contract_problems(cls: type) -> list[str]:
    """One phrase per member of ``Predictor`` that ``cls`` lacks or gets wrong (empty: it follows the contract)."""
    problems = member_problems(cls, REQUIRED, OPTIONAL, "solid_bench.predictors.BasePredictor")
    for name in ("fit", "predict_proba"):
        if isinstance(cls, type) and hasattr(cls, name) and not callable(getattr(cls, name)):
            problems.append(f"its {name} is not a method")
    return problems


def check_contract(name: str, cls: type) -> None:
    """Registration check: a TypeError naming every problem ``contract_problems`` finds."""
    problems = contract_problems(cls)
    if problems:
        raise contract_error("Predictor", name, cls, problems)
