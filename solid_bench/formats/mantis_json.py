"""MANtIS intent JSON (Penha et al. 2019, merged_*_intents.json): dialogs with per-utterance ``intent`` lists."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import UserError
from ..inputs import head
from ..schema import Dialog, LabelSet
from . import FORMATS
from ._jsonutil import dialog_objects, has_key, line_of_key
from .msdialog_json import build_utterance, parse_codes, position


def looks_like_mantis(text: str) -> bool:
    """MANtIS markers in the head of a JSON file; labelled dialogs are scattered, so look for several."""
    text = text.lstrip()
    if not (text.startswith("{") and has_key(text, "utterances")):
        return False
    return (
        has_key(text, "has_intent_labels")
        or has_key(text, "intent")
        or has_key(text, "has_concatenated_utterances")
        or re.search(r'"actor_type"\s*:\s*"(user|agent)"', text) is not None  # MSDialog writes User/Agent
    )


@FORMATS.register("mantis-json")
class MantisJSON:
    """Reader for MANtIS's intent-labelled JSON files."""

    description = "MANtIS intent JSON: {dialog id: {has_intent_labels, utterances: [{actor_type, utterance, intent, utterance_pos}]}}"

    @staticmethod
    def sniff(path: Path) -> bool:
        """Cheap check on the extension and the file's head."""
        return path.is_file() and path.suffix == ".json" and looks_like_mantis(head(path))

    @staticmethod
    def read(path: Path, labels: LabelSet, source: str) -> list[Dialog]:
        """Dialogs whose ``has_intent_labels`` is true (or, without it, fully labelled), in ``utterance_pos`` order."""
        dialogs = []
        for key, dlg, text in dialog_objects(path):
            flag = dlg.get("has_intent_labels")
            if flag is False or (flag is None and not all(isinstance(u, dict) and u.get("intent") for u in dlg["utterances"])):
                continue  # MANtIS labels intents on a subset of its dialogs only
            utts = []
            for u in sorted(dlg["utterances"], key=position):
                if not isinstance(u, dict):
                    raise UserError(f"{path}:{line_of_key(text, key)}: dialog {key} has an utterance that is not an object.")
                codes = parse_codes(u.get("intent"))
                utts.append(
                    build_utterance(path, text, key, u.get("utterance_pos", "?"), u.get("actor_type"), codes, labels, u.get("utterance"))
                )
            if utts:
                dialogs.append(Dialog(f"{source}-{key}", source, tuple(utts)))
        return dialogs
