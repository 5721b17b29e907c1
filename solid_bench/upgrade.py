"""Bring Result files of schema 1 up to schema 2, from the data they were made with.

Schema 2 differs in three ways, each recomputed here, never guessed:

* ``cell.valid`` is explicit: schema 1's ``auto`` becomes ``human`` or ``holdout``, read from what
  the run recorded (``corpora.valid.how``). The cell's config hash and file name change with it.
* ``generation_cost`` holds two figures, ``marginal`` and ``all_in`` (``Corpus.generation_cost``):
  the training corpus is resolved again, checked against the sha256 the Result recorded, and its
  cost recomputed under the current rules (for example a SOLID-RL run's generator making).
* provenance paths are portable (``solid_bench.paths``).

Metrics, predictions and everything else stay as they were. The Result records what changed in
``upgraded``.
"""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path
from typing import Any, Callable, Mapping

from .errors import UserError


def schema1_sha256(spec: str, dialogs) -> str:
    """The corpus hash as schema 1 computed it: with each synthetic dialog's load-time all-in share in
    its meta, which then was its run's ``manifest.cost.all`` / accepted (no external costs), rounded."""
    from .corpora import resolve
    from .inputs import load_json
    from .schema import Dialog, dialog_to_json
    from .specs import parse_spec

    legacy: dict[str, dict] = {}  # dialog id -> the share schema 1 gave it
    for part in parse_spec(spec).parts:
        folder = Path(part.name)
        manifest = folder / "manifest.json"
        if not manifest.is_file():
            continue
        obj = load_json(manifest)
        total, accepted = obj["cost"]["all"], int(obj["counts"]["accepted"])
        share = {k: round(v / accepted, 4) for k, v in total.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
        for d in resolve(str(folder), "train").dialogs:
            legacy[d.id] = share
    h = hashlib.sha256()
    for d in dialogs:
        meta = dict(d.meta or {})
        if "cost_all_in" in meta and d.id in legacy:
            meta["cost_all_in"] = legacy[d.id]
        h.update(dialog_to_json(Dialog(d.id, d.source, d.utterances, d.seed, meta)).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def _train_corpus(result: Mapping[str, Any], valid: str):
    """The training corpus of a Result as the run saw it (after any hold-out), checked by sha256
    (as schema 1 computed it)."""
    from .corpora import resolve
    from .runner import HOLDOUT, split_validation

    cell, recorded = result["cell"], result["corpora"]["train"]
    train = resolve(cell["train"], "train")
    if valid == HOLDOUT:
        train, _, _ = split_validation(train, HOLDOUT, int(cell["seed"]))
    if schema1_sha256(cell["train"], train.dialogs) != recorded.get("sha256"):
        raise UserError(f"training corpus {cell['train']!r} differs from the one the Result was made with (sha256 "
                        f"{str(recorded.get('sha256'))[:12]}); run the upgrade where that corpus is, unchanged.")
    return train


def upgrade_result(result: Mapping[str, Any]) -> dict[str, Any]:
    """A schema-2 copy of a schema-1 Result (see the module docstring); a schema-2 Result is returned unchanged."""
    from .leaderboard.table import tuned_on
    from .paths import portable
    from .results import SCHEMA_VERSION, config_hash

    if int(result.get("schema_version", 0)) >= SCHEMA_VERSION:
        return copy.deepcopy(dict(result))
    out = copy.deepcopy(dict(result))
    changes = []
    valid = tuned_on(out)
    if out["cell"].get("valid", "auto") == "auto":
        if valid not in ("human", "holdout"):
            raise UserError(f"cannot tell what a Result with valid 'auto' was tuned on ({valid!r}); rerun its cell.")
        out["cell"]["valid"] = valid
        out["config_hash"] = config_hash(out["cell"])
        changes.append(f"cell.valid 'auto' made explicit: {valid!r} (from corpora.valid.how)")
    summary = out["corpora"]["train"]
    if summary.get("synthetic"):
        train = _train_corpus(out, valid)
        out["generation_cost"] = train.generation_cost()
        out["corpora"]["train"] = train.summary()
        changes.append("generation_cost recomputed from the training corpus (sha256 checked): marginal and all-in; "
                       "corpora.train rewritten from the same corpus (its sha256 now leaves out the load-time cost share, "
                       "schema.DERIVED_META)")
    for key in ("corpora", "predictor"):
        new = portable(out.get(key))
        if new != out.get(key):
            out[key] = new
            changes.append(f"{key}: provenance paths made portable")
    out["schema_version"] = SCHEMA_VERSION
    out["upgraded"] = {"from_schema_version": result.get("schema_version"), "changes": changes}
    return out


def upgrade_files(results_dir: Path, log: Callable[[str], None] = lambda s: None) -> dict[str, int]:
    """Upgrade every Result under ``results_dir`` in place; a file whose cell key changed is renamed.

    Every file is upgraded in memory first, so a failure leaves the folder as it was."""
    from .results import load_result, result_files, result_path, write_result

    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise UserError(f"Results folder {str(results_dir)!r} does not exist; pass the folder given to `solid-bench run --out`.")
    plan = []
    for path in result_files(results_dir):
        old = load_result(path)
        try:
            new = upgrade_result(old)
        except UserError as e:
            raise UserError(f"{path}: {e}") from None
        if new != old:
            plan.append((path, new, result_path(path.parent, new["cell"])))
    targets = [t for _, _, t in plan]
    if len(set(targets)) != len(targets):
        raise UserError(f"Two Results in {results_dir} would become the same cell after the upgrade; keep one of each.")
    for path, new, target in plan:
        write_result(target, new)
        if target != path:
            path.unlink()
        log(f"upgraded {path.name}" + (f" -> {target.name}" if target != path else ""))
    return {"upgraded": len(plan), "unchanged": len(result_files(results_dir)) - len(plan)}
