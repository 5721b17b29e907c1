"""Corpus spec grammar: aliases, files, mixtures, sampling (@N random / balanced), unknown names."""

from __future__ import annotations

import pytest

from solid_bench.corpora import resolve
from solid_bench.errors import UserError
from solid_bench.schema import Dialog, Utterance, dialog_to_json


def _write_jsonl(path, dialogs):
    path.write_text("".join(dialog_to_json(d) + "\n" for d in dialogs), encoding="utf-8")
    return path


def _synthetic(n, prefix="s", rare=()):
    """n dialogs OQ/PA, then one OQ/<code> dialog per code in ``rare``."""
    out = [Dialog(f"{prefix}{i}", "solid", (Utterance("user", f"q{i}", ("OQ",)), Utterance("agent", f"a{i}", ("PA",))),
                  meta={"generator": "solid"}) for i in range(n)]
    for code in rare:
        out.append(Dialog(f"{prefix}-{code}", "solid", (Utterance("user", "q", ("OQ",)), Utterance("agent", "x", (code,))),
                          meta={"generator": "solid"}))
    return out


def test_alias_human_is_msdialog(tiny_data):
    human, msd = resolve("human", "test"), resolve("msdialog", "test")
    assert human.dialogs == msd.dialogs and human.n_dialogs == 3 and human.n_utterances == 12
    assert human.spec == "human" and human.sha256 == msd.sha256
    assert human.has_human and not human.synthetic


def test_mixture_of_human_and_file(tiny_data, tmp_path):
    path = _write_jsonl(tmp_path / "syn.jsonl", _synthetic(4))
    c = resolve(f"human+{path}", "valid")
    assert c.n_dialogs == 3 + 4 and c.n_utterances == 12 + 8
    assert c.has_human and c.synthetic
    assert [p["n_dialogs"] for p in c.provenance["parts"]] == [3, 4]
    assert c.dialogs[0].source == "msdialog" and c.dialogs[-1].id == "s3"
    assert c.label_counts()["PA"] == 4 + 4  # tiny split: PA, IR_PA, PA, PA; file: one PA per dialog
    with pytest.raises(UserError, match="names 'msdialog' twice"):
        resolve("human+msdialog", "train")  # refused by the parser, before anything loads
    with pytest.raises(UserError, match="repeats dialogs"):
        resolve(f"{path}+{path.parent}/./{path.name}", "train")  # one file spelled two ways


def test_file_gives_all_dialogs_for_every_split(tmp_path):
    path = _write_jsonl(tmp_path / "syn.jsonl", _synthetic(5))
    assert [resolve(str(path), s).n_dialogs for s in ("train", "valid", "test")] == [5, 5, 5]


def test_random_sample_counts_and_determinism(tmp_path):
    path = _write_jsonl(tmp_path / "syn.jsonl", _synthetic(13))
    a, b = resolve(f"{path}@5", "train"), resolve(f"{path}@5", "train")
    other = resolve(f"{path}@5", "train", sample_seed=1)
    ids = [d.id for d in a.dialogs]
    assert a.n_dialogs == 5 and len(set(ids)) == 5 and set(ids) <= {f"s{i}" for i in range(13)}
    assert ids == [d.id for d in b.dialogs] and a.sha256 == b.sha256
    assert ids != [d.id for d in other.dialogs]
    assert a.provenance["sample"] == {"n": 5, "strategy": "random", "seed": 0, "from_sha256": resolve(str(path)).sha256}
    with pytest.raises(UserError, match="fewer than the 99"):
        resolve(f"{path}@99")
    with pytest.raises(UserError, match="whole number"):
        resolve(f"{path}@many")


def test_balanced_sample_takes_the_rare_labels(tmp_path):
    path = _write_jsonl(tmp_path / "syn.jsonl", _synthetic(10, rare=("JK", "O", "GG")))
    for seed in range(5):
        c = resolve(f"{path}@4:balanced", "train", sample_seed=seed)
        ids = {d.id for d in c.dialogs}
        assert c.n_dialogs == 4 and {"s-JK", "s-O", "s-GG"} <= ids
        counts = c.label_counts()
        assert (counts["JK"], counts["O"], counts["GG"], counts["OQ"]) == (1, 1, 1, 4)
    assert [d.id for d in resolve(f"{path}@4:balanced").dialogs] == [d.id for d in resolve(f"{path}@4:balanced").dialogs]
    with pytest.raises(UserError, match="Did you mean: balanced"):
        resolve(f"{path}@4:balanced2")


def test_unknown_name_suggests_close_names(tiny_data):
    with pytest.raises(UserError) as e:
        resolve("msdialg")
    assert "Unknown corpus 'msdialg'" in str(e.value) and "Did you mean: msdialog" in str(e.value)
    with pytest.raises(UserError, match="no such file"):
        resolve("missing/dialogs.jsonl")
    with pytest.raises(UserError, match="Unknown split"):
        resolve("human", "dev")
