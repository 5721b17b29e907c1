"""solid-bench JSONL: exact round trip (seed and meta included), counts, and file:line errors."""

from __future__ import annotations

import json

import pytest

from solid_bench.errors import UserError
from solid_bench.formats import detect_format, read_dialogs
from solid_bench.schema import MSDIALOG, Dialog, Seed, Utterance, dialog_to_json


def _dialogs():
    return [
        Dialog(
            "d0",
            "solid",
            (Utterance("user", "How do I fix Outlook?", ("OQ",)), Utterance("agent", "Repair it — via Control Panel.", ("FD", "PA"))),
            Seed("Outlook", "Software", "sync", "Outlook is an email client.", "Hi, Outlook will not sync."),
            {"generator": "solid", "cost": {"prompt_tokens": 12, "seconds": 0.5}},
        ),
        Dialog("d1", "msdialog", (Utterance("user", "q", ("OQ",)), Utterance("agent", "a", ("PA",)), Utterance("user", "thanks", ("GG",)))),
    ]


def test_round_trip_is_exact(tmp_path):
    path = tmp_path / "dialogs.jsonl"
    original = _dialogs()
    path.write_text("".join(dialog_to_json(d) + "\n" for d in original), encoding="utf-8")
    assert detect_format(path) == "solid-bench-jsonl"
    back = read_dialogs(path, MSDIALOG, source="fallback")
    assert back == original
    assert [dict(d.meta) for d in back] == [dict(d.meta) for d in original]
    assert [dialog_to_json(d) for d in back] == [dialog_to_json(d) for d in original]
    assert back[0].seed.starter == "Hi, Outlook will not sync."
    assert back[-1].utterances[-1].text == "thanks"


def test_run_folder_reads_dialogs_jsonl(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "dialogs.jsonl").write_text(dialog_to_json(_dialogs()[1]) + "\n", encoding="utf-8")
    assert detect_format(tmp_path / "run") == "solid-bench-jsonl"
    assert len(read_dialogs(tmp_path / "run", MSDIALOG, source="run")) == 1


def test_malformed_line_and_unknown_label_name_file_line(tmp_path):
    good = dialog_to_json(_dialogs()[1])
    path = tmp_path / "bad.jsonl"
    path.write_text(good + "\n{not json\n", encoding="utf-8")
    with pytest.raises(UserError, match=rf"{path}:2: not valid JSON"):
        read_dialogs(path, MSDIALOG, source="x")
    obj = json.loads(good)
    obj["utterances"][0]["intents"] = ["ZZ"]
    path.write_text(good + "\n\n" + json.dumps(obj) + "\n", encoding="utf-8")
    with pytest.raises(UserError, match=rf"{path}:3 utterance 0: unknown label 'ZZ'"):
        read_dialogs(path, MSDIALOG, source="x")
