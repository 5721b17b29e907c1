"""MSDialog-IntentPred TSV (Qu et al. 2019): ``LABELS<TAB>text<TAB>User|Agent``, blank line between dialogs."""

from __future__ import annotations

from pathlib import Path

from ..errors import UserError
from ..inputs import iter_lines
from ..schema import Dialog, LabelSet, Utterance, split_labels
from . import FORMATS

_ROLES = {"user": "user", "agent": "agent"}


def clean_text(text: str) -> str:
    """Undo the IntentPred preprocessing marks: drop ' __eou__', turn '\\?' into '?'."""
    text = text.replace("\\?", "?").strip()
    if text.endswith("__eou__"):
        text = text[: -len("__eou__")].rstrip()
    return text


@FORMATS.register("msdialog-tsv")
class MSDialogTSV:
    description = "MSDialog-IntentPred TSV: LABELS<TAB>text<TAB>User|Agent, blank line between dialogs"

    @staticmethod
    def sniff(path: Path) -> bool:
        return path.is_file() and path.suffix == ".tsv"

    @staticmethod
    def read(path: Path, labels: LabelSet, source: str) -> list[Dialog]:
        dialogs: list[Dialog] = []
        current: list[Utterance] = []
        stem = path.stem

        def flush() -> None:
            if current:
                dialogs.append(Dialog(f"{source}-{stem}-{len(dialogs):05d}", source, tuple(current)))
                current.clear()

        for lineno, line in iter_lines(path):
            line = line.rstrip("\n").rstrip("\r")
            if not line.strip():
                flush()
                continue
            parts = line.split("\t")
            if len(parts) != 3:
                raise UserError(
                    f"{path}:{lineno}: expected 3 tab-separated columns (LABELS, text, User|Agent), "
                    f"found {len(parts)}."
                )
            raw_labels, text, actor = parts
            role = _ROLES.get(actor.strip().lower())
            if role is None:
                raise UserError(f"{path}:{lineno}: the third column must be User or Agent, not {actor!r}.")
            intents = labels.check(split_labels(raw_labels), f"{path}:{lineno}")
            if not intents:
                raise UserError(f"{path}:{lineno}: the utterance has no label.")
            current.append(Utterance(role, clean_text(text), intents))
        flush()
        return dialogs
