"""Export: JSONL round-trips exactly; the hf folder opens with datasets.load_from_disk; writes are atomic."""

from __future__ import annotations

import json

import pytest

from solid_bench.corpora import resolve
from solid_bench.errors import UserError
from solid_bench.export import export
from solid_bench.formats import read_dialogs
from solid_bench.schema import MSDIALOG, Dialog, Seed, Utterance, dialog_to_json

SEEDED = Dialog(
    "syn-1", "solid",
    (Utterance("user", "Is Aegon good?", ("OQ",)), Utterance("agent", "Yes — see reviews.", ("FD", "PA"))),
    Seed("AEGON", "Organization", "price", "An insurer.", "Is Aegon good?"),
    {"generator": "solid", "cost": {"prompt_tokens": 10}},
)


def test_jsonl_round_trip(tiny_data, tmp_path):
    syn = tmp_path / "syn.jsonl"
    syn.write_text(dialog_to_json(SEEDED) + "\n", encoding="utf-8")
    corpus = resolve(f"human+{syn}", "test")
    out = export(corpus, "jsonl", tmp_path / "out" / "corpus.jsonl")
    back = read_dialogs(out, MSDIALOG, source="x")
    assert back == list(corpus.dialogs) and len(back) == 4
    assert [dict(d.meta) for d in back] == [dict(d.meta) for d in corpus.dialogs]
    assert resolve(str(out), "test").sha256 == corpus.sha256
    assert [p.name for p in out.parent.iterdir()] == ["corpus.jsonl"]  # no temp file left


def test_hf_folder_loads(tiny_data, tmp_path):
    from datasets import load_from_disk

    syn = tmp_path / "syn.jsonl"
    syn.write_text(dialog_to_json(SEEDED) + "\n", encoding="utf-8")
    corpus = resolve(f"human+{syn}", "train")
    out = export(corpus, "hf", tmp_path / "hf")
    ds = load_from_disk(str(out))
    assert ds.num_rows == 4 and ds.column_names == ["id", "source", "utterances", "seed", "meta"]
    first, last = ds[0], ds[3]
    assert first["id"] == corpus.dialogs[0].id and first["seed"] is None and json.loads(first["meta"]) == {}
    assert first["utterances"][0] == {"role": "user", "text": "how do i reset my outlook password ?", "intents": ["OQ"]}
    assert last["utterances"][1] == {"role": "agent", "text": "Yes — see reviews.", "intents": ["FD", "PA"]}
    assert last["seed"]["entity_name"] == "AEGON" and json.loads(last["meta"])["cost"] == {"prompt_tokens": 10}
    # exporting again over the folder replaces it whole, leaving no temp folders
    export(resolve("human", "valid"), "hf", out)
    assert load_from_disk(str(out)).num_rows == 3
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_unknown_format_and_file_target(tiny_data, tmp_path):
    corpus = resolve("human", "test")
    with pytest.raises(UserError, match="jsonl, hf"):
        export(corpus, "parquet", tmp_path / "x")
    (tmp_path / "f").write_text("x")
    with pytest.raises(UserError, match="is a file"):
        export(corpus, "hf", tmp_path / "f")
