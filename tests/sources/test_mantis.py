"""The named `mantis` source: valid reads MANtIS's dev file; a missing file says what and how to fix it."""

from __future__ import annotations

import json

import pytest

from solid_bench.corpora import resolve
from solid_bench.errors import UserError


def _dialog(i, n_utts):
    utts = [{"utterance_pos": p + 1, "actor_type": "user" if p % 2 == 0 else "agent", "utterance": f"u{i}.{p}",
             "intent": ["OQ"] if p == 0 else ["PA"]} for p in range(n_utts)]
    return {"category": "apple", "utterances": utts, "has_intent_labels": True}


def test_loads_each_split_from_its_file(tiny_data):
    folder = tiny_data / "mantis"
    folder.mkdir()
    sizes = {"train": 3, "dev": 2, "test": 1}
    for split, n in sizes.items():
        obj = {str(100 * len(split) + i): _dialog(i, 2 + i) for i in range(n)}
        (folder / f"merged_{split}_intents.json").write_text(json.dumps(obj), encoding="utf-8")
    train, valid, test = (resolve("mantis", s) for s in ("train", "valid", "test"))
    assert (train.n_dialogs, valid.n_dialogs, test.n_dialogs) == (3, 2, 1)
    assert (train.n_utterances, valid.n_utterances, test.n_utterances) == (2 + 3 + 4, 2 + 3, 2)
    assert valid.provenance["path"].endswith("merged_dev_intents.json")
    assert train.dialogs[0].id == "mantis-500" and train.dialogs[-1].utterances[-1].text == "u2.3"
    assert train.has_human and not train.synthetic
    assert resolve("mantis+human", "test").n_dialogs == 1 + 3


def test_missing_file_names_it_and_the_fix(tiny_data):
    with pytest.raises(UserError) as e:
        resolve("mantis", "valid")
    msg = str(e.value)
    assert str(tiny_data / "mantis" / "merged_dev_intents.json") in msg and "SOLID_BENCH_DATA" in msg
