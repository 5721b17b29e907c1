"""Check hyperparameters against a plugin's ``__init__`` signature and annotated types, before any work.

A predictor's ``__init__`` only stores its hyperparameters (the scikit-learn contract), so a
wrong name or a value of the wrong type would otherwise surface deep inside ``fit``, after the
corpora are loaded, or in the middle of a matrix. The annotations are the contract: ``int``,
``float`` (an int is accepted), ``bool``, ``str``, ``None``, ``X | Y``, ``Literal[...]``,
``list[X]``/``tuple``, ``dict`` and ``Path``. An unannotated parameter, or a typing form not
listed here, accepts any value.
"""

from __future__ import annotations

import collections.abc
import inspect
import types
import typing
from pathlib import Path
from typing import Any, Literal, Mapping, Union

from .errors import did_you_mean

_UNIONS = (Union, getattr(types, "UnionType", Union))


def _choices(tp: Any) -> list[str]:
    origin = typing.get_origin(tp)
    if origin in _UNIONS:
        return [c for a in typing.get_args(tp) for c in _choices(a)]
    if origin is Literal:
        return [repr(a) for a in typing.get_args(tp)]
    if tp is type(None) or tp is None:
        return ["None"]
    return [getattr(tp, "__name__", str(tp))]


def type_name(tp: Any) -> str:
    """An annotation as a user reads it: ``float or None``, ``'search', 'balanced' or None``."""
    choices = _choices(tp)
    return choices[0] if len(choices) == 1 else ", ".join(choices[:-1]) + " or " + choices[-1]


def accepts(tp: Any, value: Any) -> bool:
    """True when ``value`` fits annotation ``tp`` (unknown annotations accept everything)."""
    if tp is Any or tp is inspect.Parameter.empty or isinstance(tp, str):
        return True
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in _UNIONS:
        return any(accepts(a, value) for a in args)
    if origin is Literal:
        return any(value == a and type(value) is type(a) for a in args)
    if tp is None or tp is type(None):
        return value is None
    if tp is bool:
        return isinstance(value, bool)
    if tp is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if tp is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if tp is Path:
        return isinstance(value, (str, Path))
    if origin in (list, tuple, collections.abc.Sequence) or tp in (list, tuple):
        if not isinstance(value, (list, tuple)):
            return False
        inner = args[0] if args and (origin is not tuple or (len(args) == 2 and args[1] is Ellipsis)) else Any
        return all(accepts(inner, v) for v in value)
    if origin is dict or tp is dict:
        return isinstance(value, dict)
    if isinstance(tp, type):
        return isinstance(value, tp)
    return True


def _hints(cls: type) -> dict[str, Any]:
    try:
        return typing.get_type_hints(cls.__init__)
    except Exception:  # noqa: BLE001 - an annotation we cannot evaluate is no contract
        return {}


def check_params(cls: type, params: Mapping[str, Any], what: str) -> list[str]:
    """One sentence per parameter ``cls(**params)`` would not accept by name or by annotated type."""
    try:
        signature = inspect.signature(cls.__init__)
    except (TypeError, ValueError):
        return []
    accepted = {n: p for n, p in list(signature.parameters.items())[1:]
                if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
    open_ended = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())
    hints = _hints(cls)
    problems = []
    for name, value in params.items():
        if name not in accepted:
            if not open_ended:
                known = ", ".join(accepted) or "none"
                problems.append(f"{what} has no parameter {name!r}.{did_you_mean(name, list(accepted))} Its parameters: {known}.")
            continue
        tp = hints.get(name, inspect.Parameter.empty)
        if not accepts(tp, value):
            problems.append(f"{what} parameter {name!r} must be {type_name(tp)}, not {value!r} ({type(value).__name__}).")
    return problems
