"""What several verbs share: the KEY=VALUE parser, and the LLM options of ``generate`` and ``seeds`` (defined once).

The backend names in ``--backend``'s help come from the backend registry (``solid_bench.llm.BACKENDS``)
and the model names in ``--model``'s from the named local models, so a backend added as a plugin
file is listed without touching the CLI.
"""

from __future__ import annotations

import json
from typing import Annotated, List, Optional

import typer

from ..errors import UserError


def parse_key_values(items: list[str] | None, option: str, example: str) -> dict:
    """``['epochs=2', 'model-path=x']`` -> ``{'epochs': 2, 'model_path': 'x'}``: values read as JSON when they parse
    (numbers, true/false, null, lists), else kept as text; '-' in a key becomes '_' (Python names)."""
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise UserError(f"{option} {item!r} must look like KEY=VALUE, e.g. {option} {example}.")
        try:
            out[key] = json.loads(value)
        except ValueError:
            out[key] = value
    return out


def backend_names() -> str:
    """The registered LLM backends, comma-separated (read from the registry each time the help is built)."""
    from ..llm import BACKENDS

    return ", ".join(BACKENDS.names())


# The LLM options that ``generate`` and ``seeds`` share, as annotated types: ``backend: Backend = "transformers"``.
Backend = Annotated[str, typer.Option("--backend", help=f"LLM backend: {backend_names()}.")]
def model_names() -> str:
    """The named local models, comma-separated (from ``local_models.MODELS``)."""
    from ..llm.local_models import MODELS

    return ", ".join(MODELS.names())


Model = Annotated[Optional[str], typer.Option(
    "--model", help=f"A named model (solid-bench models list: {model_names()}), a path or an id "
    "(default: smollm2-135m; openai: the served model).")]
BaseUrl = Annotated[Optional[str], typer.Option("--base-url", help="Server URL for the openai backend.")]
Seed = Annotated[int, typer.Option("--seed", help="Seed of every random choice (entity types, letters, plans) and of decoding.")]
SeedsFile = Annotated[Optional[str], typer.Option(
    "--seeds", help="Seeds file: JSONL of seed fields, or a JSON array of 'name<TAB>type' (an entity list).")]
NamesPerRequest = Annotated[int, typer.Option(
    "--names-per-request", help="Entity names asked for per (entity type, initial letter) request.")]
Cache = Annotated[bool, typer.Option("--cache/--no-cache", help="Cache LLM answers beside the output (SQLite).")]
BackendOptions = Annotated[Optional[List[str]], typer.Option(
    "--option", "-o", help="Backend option KEY=VALUE (repeatable), e.g. -o delay=0.5.")]
