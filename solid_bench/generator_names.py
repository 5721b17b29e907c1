"""Display names of generated corpora, made in one place: "SOLID · Qwen2.5-Coder-1.5B",
"SOLID-RL · SmolLM2-135M trained on SOLID · Qwen2.5-Coder-1.5B".

Leaderboards, plots and model cards name a corpus by what made it, never by its folder. A run
folder's name comes from its ``manifest.json``:

* ``display_name`` (optional, top level): written by hand for a folder whose manifest does not
  record what made it (a SOLID-RL folder generated before the fields below existed); it wins.
* ``identity.method`` (``solid``, ``solid-rl``) through ``METHOD_NAMES``, and ``identity.model``
  through the named local models' ``display`` (``llm.local_models``): no model is the default
  model; a path or hub id shows its last component.
* A trained generator (SOLID-RL) is named by what it was made from:
  ``external_costs.generator.base_model`` and ``.training_corpus`` (``solid-bench train-generator``
  records them in training.json's ``made_from``; ``solid-bench generate`` copies them into the
  manifest). Without them it is named by its model folder, which says little: add ``display_name``.

A corpus records its name when it is loaded (``provenance.generator``), so every Result carries it;
a Result written before that is named from its run folder's manifest when the folder is still at
the recorded path (``corpus_name``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Mapping

METHOD_NAMES = {"solid": "SOLID", "solid-rl": "SOLID-RL"}
SEP = " · "


def method_name(method: str | None) -> str:
    """'solid-rl' -> 'SOLID-RL'; an unknown method shows as written."""
    return METHOD_NAMES.get(str(method), str(method))


def model_name(model: str | None) -> str:
    """A generator LLM's short name: a named local model's ``display`` (None: the default model),
    a folder of a named model's conversion likewise, else the last component of the path or hub id."""
    from .llm.local_models import DEFAULT_NAME, MODELS

    if model is None:
        model = DEFAULT_NAME
    last = Path(str(model).partition("@")[0].rstrip("/")).name
    for name, entry in MODELS.items():
        if model == name or last.lower() in (name, entry.cache_name):
            return entry.display or name
    return last or str(model)


def generator_name(manifest: Mapping[str, Any]) -> str:
    """The display name of the run folder whose manifest.json is ``manifest`` (see the module docstring)."""
    if manifest.get("display_name"):
        return str(manifest["display_name"])
    identity = manifest.get("identity") or {}
    method = method_name(identity["method"]) if identity.get("method") else "generated"
    made_from = (manifest.get("external_costs") or {}).get("generator") or {}
    if made_from.get("base_model") and made_from.get("training_corpus"):
        return f"{method}{SEP}{made_from['base_model']} trained on {made_from['training_corpus']}"
    return f"{method}{SEP}{model_name(identity.get('model'))}"


def run_folder_name(folder: Path) -> str | None:
    """The display name of a run folder (None when it has no readable manifest.json)."""
    try:
        manifest = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return generator_name(manifest) if isinstance(manifest, dict) else None


def corpus_name(provenance: Mapping[str, Any], spec: str, anchor: Path | None = None) -> str:
    """The display name of a loaded synthetic corpus from its provenance record (a Corpus or a
    Result's corpus summary): the recorded name, else its run folder's manifest (a portable path,
    see ``paths.local_path``), else the method of a named source ("solid" -> "SOLID") or the
    folder or file name. A mixture's parts are joined with ' + '."""
    from .paths import local_path
    from .specs import parse_spec

    parts = provenance.get("parts")
    if parts:
        return " + ".join(corpus_name(p.get("provenance") or {}, str(p.get("spec", "")), anchor) for p in parts)
    if provenance.get("generator"):
        return str(provenance["generator"])
    folder = provenance.get("path") or provenance.get("run_folder")
    if folder:
        name = run_folder_name(local_path(str(folder), anchor))
        if name:
            return name
    base = parse_spec(spec).parts[0].name if spec else ""
    return METHOD_NAMES.get(base) or Path(base).name or spec
