"""The SOLID authors' released JSONL: text-as-key utterances, alternating roles, seeds, synthetic meta."""

from __future__ import annotations

import json

import pytest

from solid_bench.corpora import resolve
from solid_bench.errors import UserError
from solid_bench.formats import detect_format, read_dialogs
from solid_bench.schema import MSDIALOG

LINES = [
    {"generated_dialogue": [{"Hi, how do I prune a Japanese maple?": "OQ"}, {"Do you mean in winter?": "CQ"},
                            {"Yes, it is 3 m tall.": "FD"}, {"Cut dead wood in late winter.": "PA"},
                            {"Thanks, that helped!": "PF_GG"}],
     "entity_card_obj": {"entity_name": "Japanese maple", "entity_type": "Plant",
                         "entity_description": "Acer palmatum is a woody plant.",
                         "sequence_of_intents": ["OQ", "CQ", "FD", "PA", "GG_PF"],
                         "conversation_starter": "Hi, how do I prune a Japanese maple?"}},
    {"generated_dialogue": [{"Is Aegon a good insurer?": "OQ"}, {"It has good reviews.": "PA_FD"}],
     "entity_card_obj": {"entity_name": "AEGON", "entity_type": "Organization", "entity_description": "An insurer.",
                         "sequence_of_intents": ["OQ", "FD_PA"], "conversation_starter": "Is Aegon a good insurer?"}},
    {"generated_dialogue": [{"My Kindle will not log in.": "OQ"}, {"Which model?": "IR"}, {"A Fire HD, it still fails.": "FD_NF"}],
     "entity_card_obj": {"entity_name": "Kindle", "entity_type": "Device", "entity_description": "An e-reader.",
                         "sequence_of_intents": ["OQ", "IR", "FD_NF"], "conversation_starter": "My Kindle will not log in."}},
]


def _write(tmp_path, lines, name="solid_release.jsonl"):
    path = tmp_path / name
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


def test_reads_counts_first_and_last(tmp_path):
    path = _write(tmp_path, LINES)
    assert detect_format(path) == "solid-release-jsonl"
    dialogs = read_dialogs(path, MSDIALOG, source="solid-release")
    assert len(dialogs) == 3 and sum(len(d.utterances) for d in dialogs) == 10
    first = dialogs[0].utterances[0]
    assert (first.role, first.text, first.intents) == ("user", "Hi, how do I prune a Japanese maple?", ("OQ",))
    assert [u.role for u in dialogs[0].utterances] == ["user", "agent", "user", "agent", "user"]
    assert dialogs[0].utterances[-1].intents == ("GG", "PF")
    last = dialogs[-1].utterances[-1]
    assert (last.role, last.text, last.intents) == ("user", "A Fire HD, it still fails.", ("FD", "NF"))
    seed = dialogs[1].seed
    assert (seed.entity_name, seed.entity_type, seed.background, seed.starter) == (
        "AEGON", "Organization", "An insurer.", "Is Aegon a good insurer?")
    assert dialogs[0].meta["generator"] == "solid-authors-release"


def test_corpora_treats_it_as_synthetic(tmp_path):
    c = resolve(str(_write(tmp_path, LINES)))
    assert c.synthetic and not c.has_human and c.n_dialogs == 3 and c.provenance["format"] == "solid-release-jsonl"


def test_bad_lines_name_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(LINES[0]) + "\n" + '{"generated_dialogue": [\n', encoding="utf-8")
    with pytest.raises(UserError, match=rf"{path}:2: not valid JSON"):
        read_dialogs(path, MSDIALOG, source="s")
    bad = json.loads(json.dumps(LINES[1]))
    bad["generated_dialogue"][1] = {"It has good reviews.": "PA_ZZ"}
    path = _write(tmp_path, [LINES[0], LINES[2], bad], name="bad2.jsonl")
    with pytest.raises(UserError, match=rf"{path}:3 utterance 1: unknown label 'ZZ'"):
        read_dialogs(path, MSDIALOG, source="s")
