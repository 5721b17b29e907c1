"""solid-bench's own JSONL: one dialog per line (the schema: docs/formats.md); also a run folder's dialogs.jsonl."""

from __future__ import annotations

from pathlib import Path

from ..errors import UserError
from ..inputs import first_line, iter_jsonl, load_json
from ..schema import Dialog, LabelSet, dialog_from_dict
from . import FORMATS


@FORMATS.register("solid-bench-jsonl")
class SolidBenchJSONL:
    description = "solid-bench JSONL: one dialog per line {id, source, utterances[{role,text,intents}], seed, meta}"

    @staticmethod
    def sniff(path: Path) -> bool:
        if path.is_dir():
            return (path / "dialogs.jsonl").is_file()
        if path.suffix != ".jsonl":
            return False
        return '"utterances"' in first_line(path)

    @staticmethod
    def read(path: Path, labels: LabelSet, source: str) -> list[Dialog]:
        share = None
        if path.is_dir():
            share = all_in_cost_share(path)
            path = path / "dialogs.jsonl"
        dialogs = []
        for lineno, obj in iter_jsonl(path):
            d = dialog_from_dict(obj, labels, f"{path}:{lineno}")
            if not d.source:
                d = Dialog(d.id, source, d.utterances, d.seed, d.meta)
            if share and d.meta and d.meta.get("cost"):
                d = Dialog(d.id, d.source, d.utterances, d.seed, {**d.meta, "cost_all_in": share})
            dialogs.append(d)
        return dialogs


def all_in_cost_share(folder: Path) -> dict | None:
    """A run folder's whole cost divided evenly over its accepted dialogs; None without a manifest.

    The whole cost is every call of the run (seeding, instruction merging, every turn, retries and
    rejected plans: ``manifest.cost.all``) plus what the run owes outside its folder
    (``manifest.external_costs``: seeds made by another run, a trained generator's own making).
    A dialog's own ``meta.cost`` counts only the calls that wrote it: the marginal figure.
    """
    manifest = folder / "manifest.json"
    if not manifest.is_file():
        return None
    try:
        obj = load_json(manifest)
        total, accepted = dict(obj["cost"]["all"]), int(obj["counts"]["accepted"])
        external = obj.get("external_costs") or {}
    except (UserError, KeyError, TypeError, ValueError):
        return None
    if accepted <= 0:
        return None
    for part in external.values():
        for k in ("llm_calls", "prompt_tokens", "completion_tokens", "seconds"):
            if isinstance(part.get(k), (int, float)):
                total[k] = total.get(k, 0) + part[k]
    return {k: round(v / accepted, 4) for k, v in total.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}
