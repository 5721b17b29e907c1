"""Raw MSDialog-Intent JSON: utterance_pos order, tags -> labels, sniffing, and file:line errors."""

from __future__ import annotations

import json

import pytest

from solid_bench.errors import UserError
from solid_bench.formats import detect_format, read_dialogs
from solid_bench.schema import MSDIALOG


def _utt(pos, actor, text, tags):
    return {"id": 100 + pos, "uuid": f"u{pos}", "utterance": text, "utterance_time": "2017-01-01", "actor_type": actor,
            "utterance_pos": pos, "user_id": "x", "affiliation": "User", "is_answer": 0, "tags": tags}


RAW = {
    "9": {"title": "Outlook", "category": "Outlook", "dialog_time": "2017", "frequency": 3,
          # stored out of order on purpose: the reader must sort by utterance_pos
          "utterances": [_utt(2, "Agent", "Try safe mode.", "IR PA"), _utt(1, "User", "Outlook crashes.", "OQ"),
                         _utt(3, "User", "Safe mode worked, thanks!", "PF  GG")]},
    "12": {"title": "Skype", "category": "Skype", "dialog_time": "2017", "frequency": 1,
           "utterances": [_utt(1, "User", "Skype does not ring.", "OQ"), _utt(2, "Agent", "Is it muted?", "CQ")]},
}


def _write(tmp_path, obj, name="MSDialog-Intent.json"):
    path = tmp_path / name
    path.write_text(json.dumps(obj, indent=1), encoding="utf-8")
    return path


def test_reads_counts_first_and_last(tmp_path):
    path = _write(tmp_path, RAW)
    assert detect_format(path) == "msdialog-json"
    dialogs = read_dialogs(path, MSDIALOG, source="msdialog-json")
    assert len(dialogs) == 2 and sum(len(d.utterances) for d in dialogs) == 5
    assert [d.id for d in dialogs] == ["msdialog-json-9", "msdialog-json-12"]
    first = dialogs[0].utterances[0]
    assert (first.role, first.text, first.intents) == ("user", "Outlook crashes.", ("OQ",))
    assert dialogs[0].utterances[1].intents == ("IR", "PA")
    assert dialogs[0].utterances[2].intents == ("GG", "PF")
    last = dialogs[-1].utterances[-1]
    assert (last.role, last.text, last.intents) == ("agent", "Is it muted?", ("CQ",))


def test_unknown_tag_names_file_line_and_dialog(tmp_path):
    bad = json.loads(json.dumps(RAW))
    bad["12"]["utterances"][1]["tags"] = "CQ XY"
    path = _write(tmp_path, bad)
    text = path.read_text().splitlines()
    line = next(i for i, row in enumerate(text, 1) if row.strip().startswith('"12"'))
    with pytest.raises(UserError) as e:
        read_dialogs(path, MSDIALOG, source="m")
    assert f"{path}:{line} (dialog 12, utterance 2)" in str(e.value) and "unknown label 'XY'" in str(e.value)


def test_malformed_json_names_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"1": {"utterances": [\n{"tags": "OQ",\n}]}}', encoding="utf-8")
    with pytest.raises(UserError, match=rf"{path}:3: not valid JSON"):
        read_dialogs(path, MSDIALOG, source="m", fmt="msdialog-json")


def test_empty_tags_is_an_error(tmp_path):
    bad = json.loads(json.dumps(RAW))
    bad["9"]["utterances"][0]["tags"] = ""
    with pytest.raises(UserError, match="no intent label"):
        read_dialogs(_write(tmp_path, bad), MSDIALOG, source="m")
