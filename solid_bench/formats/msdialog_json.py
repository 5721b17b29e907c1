"""CIIR's raw MSDialog-Intent JSON (Qu et al. 2018): {dialog id: {..., utterances: [{tags, ...}]}}."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import UserError
from ..inputs import head
from ..schema import Dialog, LabelSet, Utterance
from . import FORMATS
from ._jsonutil import dialog_objects, has_key, line_of_key

_ROLES = {"user": "user", "agent": "agent"}


def parse_codes(raw) -> tuple[str, ...]:
    """'PA  fd' or 'FD_PA' or ['FD', 'PA'] -> ('FD', 'PA'): upper-cased, deduplicated, sorted."""
    parts = raw if isinstance(raw, (list, tuple)) else re.split(r"[\s_,]+", str(raw or ""))
    return tuple(sorted({str(p).strip().upper() for p in parts if str(p).strip()}))


def position(u) -> float:
    """Sort key: an utterance's ``utterance_pos`` as a number (missing or odd values sort first)."""
    try:
        return float(u.get("utterance_pos", 0)) if isinstance(u, dict) else 0.0
    except (TypeError, ValueError):
        return 0.0


def build_utterance(path: Path, text: str, key: str, pos, role_raw, codes, labels: LabelSet, body) -> Utterance:
    """One checked Utterance; errors name file:line of the dialog, its id and the utterance position."""

    def where() -> str:
        return f"{path}:{line_of_key(text, key)} (dialog {key}, utterance {pos})"

    role = _ROLES.get(str(role_raw or "").strip().lower())
    if role is None:
        raise UserError(f"{where()}: actor_type must be User or Agent, not {role_raw!r}.")
    if not codes:
        raise UserError(f"{where()}: the utterance has no intent label.")
    if any(c not in labels for c in codes):
        labels.check(codes, where())
    return Utterance(role, str(body or "").strip(), codes)


@FORMATS.register("msdialog-json")
class MSDialogJSON:
    """Reader for CIIR's raw MSDialog-Intent JSON (MSDialog-Intent.json)."""

    description = "MSDialog-Intent JSON (CIIR): {dialog id: {utterances: [{utterance_pos, actor_type, utterance, tags}]}}"

    @staticmethod
    def sniff(path: Path) -> bool:
        """Cheap check on the extension and the file's head."""
        if not (path.is_file() and path.suffix == ".json"):
            return False
        from .mantis_json import looks_like_mantis

        text = head(path).lstrip()
        if not text.startswith("{") or not has_key(text, "utterances") or not has_key(text, "tags"):
            return False
        return not looks_like_mantis(text)

    @staticmethod
    def read(path: Path, labels: LabelSet, source: str) -> list[Dialog]:
        """All dialogs, utterances in ``utterance_pos`` order, tags checked against ``labels``."""
        dialogs = []
        for key, dlg, text in dialog_objects(path):
            raw = sorted(dlg["utterances"], key=position)
            utts = []
            for u in raw:
                if not isinstance(u, dict):
                    raise UserError(f"{path}:{line_of_key(text, key)}: dialog {key} has an utterance that is not an object.")
                pos = u.get("utterance_pos", "?")
                codes = parse_codes(u.get("tags"))
                utts.append(build_utterance(path, text, key, pos, u.get("actor_type"), codes, labels, u.get("utterance")))
            if utts:
                dialogs.append(Dialog(f"{source}-{key}", source, tuple(utts)))
        return dialogs
