"""MANtIS intent JSON: only labelled dialogs, lower-case actors, sniffing apart from MSDialog JSON."""

from __future__ import annotations

import json

import pytest

from solid_bench.errors import UserError
from solid_bench.formats import detect_format, read_dialogs
from solid_bench.schema import MSDIALOG


def _utt(pos, actor, text, intent=None):
    u = {"utterance": text, "utterance_time": "2018", "utterance_pos": pos, "actor_type": actor, "user_name": "n",
         "user_id": "1", "votes": 0, "id": str(pos), "is_answer": 0}
    if intent is not None:
        u["intent"] = intent
    return u


RAW = {
    # an unlabelled dialog first, as in the real files (labels exist for a subset only)
    "0": {"category": "apple", "title": "t0", "dialog_time": "2018", "has_concatenated_utterances": 0,
          "utterances": [_utt(1, "user", "no labels here"), _utt(2, "agent", "none")]},
    "1": {"category": "gaming", "title": "t1", "dialog_time": "2018", "has_concatenated_utterances": 0,
          "utterances": [_utt(1, "user", "How do I beat the boss?", ["OQ"]), _utt(2, "Agent", "Use fire.", ["PA", "FD"]),
                         _utt(3, "user", "Thanks, it worked!", ["PF", "GG"])],
          "has_intent_labels": True},
    "2": {"category": "travel", "title": "t2", "dialog_time": "2018", "has_concatenated_utterances": 0,
          "utterances": [_utt(1, "user", "Visa for Peru?", ["OQ"]), _utt(2, "agent", "Not needed.", ["PA"])],
          "has_intent_labels": False},
    "3": {"category": "travel", "title": "t3", "dialog_time": "2018", "has_concatenated_utterances": 0,
          "utterances": [_utt(2, "agent", "Which passport?", ["ir"]), _utt(1, "USER", "Visa for Chile?", ["OQ"])],
          "has_intent_labels": True},
}


def _write(tmp_path, obj, name="merged_train_intents.json"):
    path = tmp_path / name
    path.write_text(json.dumps(obj), encoding="utf-8")
    return path


def test_reads_only_labelled_dialogs(tmp_path):
    path = _write(tmp_path, RAW)
    assert detect_format(path) == "mantis-json"
    dialogs = read_dialogs(path, MSDIALOG, source="mantis")
    assert [d.id for d in dialogs] == ["mantis-1", "mantis-3"]
    assert sum(len(d.utterances) for d in dialogs) == 5
    first = dialogs[0].utterances[0]
    assert (first.role, first.text, first.intents) == ("user", "How do I beat the boss?", ("OQ",))
    assert dialogs[0].utterances[1].intents == ("FD", "PA")
    last = dialogs[-1].utterances[-1]
    assert (last.role, last.text, last.intents) == ("agent", "Which passport?", ("IR",))
    assert dialogs[-1].utterances[0].role == "user"


def test_sniff_tells_mantis_and_msdialog_apart(tmp_path):
    msdialog = {"5": {"title": "x", "utterances": [{"utterance_pos": 1, "actor_type": "User", "utterance": "q", "tags": "OQ"}]}}
    m = _write(tmp_path, msdialog, name="MSDialog-Intent.json")
    assert detect_format(m) == "msdialog-json"
    # a MANtIS head with no labelled dialog in sight is still MANtIS (lower-case actors)
    only_unlabelled = {"0": RAW["0"]}
    assert detect_format(_write(tmp_path, only_unlabelled, name="part.json")) == "mantis-json"


def test_unknown_intent_is_an_error(tmp_path):
    bad = json.loads(json.dumps(RAW))
    bad["3"]["utterances"][0]["intent"] = ["IR", "QQ"]
    with pytest.raises(UserError, match=r"merged_train_intents.json:1 \(dialog 3, utterance 2\): unknown label 'QQ'"):
        read_dialogs(_write(tmp_path, bad), MSDIALOG, source="mantis")
