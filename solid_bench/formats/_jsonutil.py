"""Helpers shared by the whole-file JSON readers: cheap sniffing and file:line for errors."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import UserError
from ..inputs import parse_json, read_text


def has_key(text: str, key: str) -> bool:
    """True if ``"key":`` occurs as a JSON key (escaped quotes inside strings never match)."""
    return re.search(r'(?<!\\)"' + re.escape(key) + r'"\s*:', text) is not None


def load_object(path: Path) -> tuple[dict, str]:
    """Parse a whole-file JSON object; malformed JSON is a UserError with file:line."""
    text = read_text(path)
    obj = parse_json(text, str(path))
    if not isinstance(obj, dict):
        raise UserError(f"{path}:1: expected a JSON object mapping dialog ids to dialogs, got {type(obj).__name__}.")
    return obj, text


def line_of_key(text: str, key: str) -> int:
    """Line number (1-based) where ``"key":`` first appears in ``text``; 1 if not found."""
    m = re.search(r'(?<!\\)"' + re.escape(key) + r'"\s*:', text)
    return text.count("\n", 0, m.start()) + 1 if m else 1


def dialog_objects(path: Path):
    """Yield (dialog id, dialog object, whole text) from a JSON object of dialogs, each with an 'utterances' list."""
    obj, text = load_object(path)
    for key, dlg in obj.items():
        if not isinstance(dlg, dict) or not isinstance(dlg.get("utterances"), list):
            raise UserError(f"{path}:{line_of_key(text, key)}: dialog {key} needs an 'utterances' list.")
        yield key, dlg, text
