"""solid-bench's own JSONL: one dialog per line (DESIGN.md schema); also a run folder's dialogs.jsonl."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import UserError
from ..schema import Dialog, LabelSet, dialog_from_dict
from . import FORMATS


def _first_line(path: Path) -> str:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                return line
    return ""


@FORMATS.register("solid-bench-jsonl")
class SolidBenchJSONL:
    description = "solid-bench JSONL: one dialog per line {id, source, utterances[{role,text,intents}], seed, meta}"

    @staticmethod
    def sniff(path: Path) -> bool:
        if path.is_dir():
            return (path / "dialogs.jsonl").is_file()
        if path.suffix != ".jsonl":
            return False
        head = _first_line(path)
        return '"utterances"' in head

    @staticmethod
    def read(path: Path, labels: LabelSet, source: str) -> list[Dialog]:
        if path.is_dir():
            path = path / "dialogs.jsonl"
        dialogs = []
        with open(path, encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as e:
                    raise UserError(f"{path}:{lineno}: not valid JSON ({e.msg}); each line must be one dialog object.") from None
                d = dialog_from_dict(obj, labels, f"{path}:{lineno}")
                if not d.source:
                    d = Dialog(d.id, source, d.utterances, d.seed, d.meta)
                dialogs.append(d)
        return dialogs
