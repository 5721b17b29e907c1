"""The SOLID authors' released JSONL: {generated_dialogue: [{text: "FD_NF"}, ...], entity_card_obj: {...}}."""

from __future__ import annotations

from pathlib import Path

from ..errors import UserError
from ..inputs import first_line, iter_jsonl
from ..schema import ROLES, Dialog, LabelSet, Seed, Utterance
from . import FORMATS
from ._jsonutil import has_key
from .msdialog_json import parse_codes

GENERATOR = "solid-authors-release"


def _seed(card, where: str) -> Seed | None:
    if card is None:
        return None
    if not isinstance(card, dict):
        raise UserError(f"{where}: 'entity_card_obj' must be an object.")
    return Seed(
        entity_name=str(card.get("entity_name") or ""),
        entity_type=str(card.get("entity_type") or ""),
        background=str(card.get("entity_description") or ""),
        starter=str(card.get("conversation_starter") or ""),
    )


@FORMATS.register("solid-release-jsonl")
class SolidReleaseJSONL:
    """Reader for the JSONL dialogs the SOLID authors released."""

    description = "SOLID authors' release JSONL: {generated_dialogue: [{utterance: 'FD_NF'}], entity_card_obj: {...}}"

    @staticmethod
    def sniff(path: Path) -> bool:
        """Cheap check on the extension and the file's head."""
        return path.is_file() and path.suffix == ".jsonl" and has_key(first_line(path), "generated_dialogue")

    @staticmethod
    def read(path: Path, labels: LabelSet, source: str) -> list[Dialog]:
        """One synthetic dialog per line; roles alternate user, agent, ... as in the release."""
        dialogs = []
        for lineno, obj in iter_jsonl(path):
            where = f"{path}:{lineno}"
            turns = obj.get("generated_dialogue") if isinstance(obj, dict) else None
            if not isinstance(turns, list) or not turns:
                raise UserError(f"{where}: expected a non-empty 'generated_dialogue' list.")
            utts = []
            for i, turn in enumerate(turns):
                if not isinstance(turn, dict) or len(turn) != 1:
                    raise UserError(f"{where}: utterance {i} must be an object {{text: labels}} with one key.")
                (text, raw), = turn.items()
                codes = parse_codes(raw)
                if not codes:
                    raise UserError(f"{where}: utterance {i} has no intent label.")
                utts.append(Utterance(ROLES[i % 2], text.strip(), labels.check(codes, f"{where} utterance {i}")))
            card = obj.get("entity_card_obj")
            meta = {"generator": GENERATOR}
            if isinstance(card, dict) and card.get("sequence_of_intents") is not None:
                meta["sequence_of_intents"] = card["sequence_of_intents"]
            dialogs.append(Dialog(f"{source}-{lineno:06d}", source, tuple(utts), _seed(card, where), meta))
        return dialogs
