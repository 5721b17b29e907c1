"""The runner: one cell end to end on a tiny human split, resume, validation rules, no-answer rows."""

from __future__ import annotations

import json

import numpy as np
import pytest

from solid_bench.cli import main
from solid_bench.corpora import resolve
from solid_bench.metrics import score
from solid_bench.predictors import PREDICTORS, BasePredictor
from solid_bench.runner import Cell, run_cell, split_validation
from solid_bench.schema import Dialog, Utterance, dialog_to_json


def _matrix(strings, codes):
    y = np.zeros((len(strings), len(codes)), dtype=np.int8)
    for i, s in enumerate(strings):
        for c in filter(None, s.split("_")):
            y[i, codes.index(c)] = 1
    return y


def test_run_cell_writes_a_complete_result_and_skips_on_rerun(tiny_data, tmp_path):
    out = tmp_path / "results"
    r = run_cell(Cell("human", "human", "majority", 0), out)
    files = list(out.glob("*.json"))
    assert len(files) == 1
    saved = json.loads(files[0].read_text())
    assert saved["schema_version"] == 2 and saved["cell"]["valid"] == "human"
    assert saved["corpora"]["train"]["n_dialogs"] == 3 and saved["corpora"]["test"]["n_utterances"] == 12
    assert saved["corpora"]["valid"]["how"].startswith("human valid split")
    preds = saved["predictions"]
    assert len(preds["y_true"]) == 12 == len(preds["y_pred"]) == len(preds["dialog_ids"])
    # the stored metrics are exactly those of the stored predictions
    codes = preds["labels"]
    again = score(_matrix(preds["y_true"], codes), _matrix(preds["y_pred"], codes), codes)
    assert again["micro_f1"] == pytest.approx(saved["metrics"]["micro_f1"])
    lo, hi = saved["ci"]["micro_f1"]
    assert lo <= saved["metrics"]["micro_f1"] <= hi
    assert all(p != "" for p in preds["y_pred"])  # at least one label per utterance
    mtime = files[0].stat().st_mtime_ns
    r2 = run_cell(Cell("human", "human", "majority", 0), out)
    assert files[0].stat().st_mtime_ns == mtime and r2["config_hash"] == r["config_hash"]
    run_cell(Cell("human", "human", "majority", 1), out)
    assert len(list(out.glob("*.json"))) == 2


def test_synthetic_training_holds_out_ten_percent_by_dialog(tmp_path, tiny_data):
    path = tmp_path / "synthetic.jsonl"
    dialogs = [
        Dialog(f"s{i}", "solid", (Utterance("user", f"question {i}?", ("OQ",)), Utterance("agent", f"answer {i}", ("PA",))),
               meta={"generator": "solid", "cost": {"llm_calls": 2}})
        for i in range(30)
    ]
    path.write_text("\n".join(dialog_to_json(d) for d in dialogs) + "\n")
    train = resolve(str(path), "train")
    assert train.synthetic and not train.has_human
    kept, valid, how = split_validation(train, "holdout", seed=0)
    assert (kept.n_dialogs, valid.n_dialogs) == (27, 3)
    assert not {d.id for d in kept.dialogs} & {d.id for d in valid.dialogs}
    assert "held out" in how
    mixed = resolve(f"human+{path}", "train")
    _, valid2, how2 = split_validation(mixed, "human", seed=0)
    assert how2 == "human valid split of msdialog" and valid2.n_dialogs == 3
    _, valid3, _ = split_validation(train, "human", seed=0)  # synthetic-only rows tune on human valid too
    assert valid3.n_dialogs == 3 and not valid3.synthetic


def test_the_default_validation_is_the_test_corpus_valid_split():
    from solid_bench.runner import default_valid

    assert default_valid("human") == "human" and default_valid("msdialog") == "human"
    assert default_valid("mantis") == "mantis"
    assert default_valid("some/file.jsonl") == "holdout"


def test_no_answer_rows_count_as_wrong(tiny_data, tmp_path, monkeypatch):
    class Abstainer(BasePredictor):
        description = "test double that never answers for agent turns"
        model_id = "none"
        may_abstain = True

        def fit(self, train, valid, labels, seed):
            self.labels_ = labels
            return self

        def predict_proba(self, examples):
            p = np.zeros((len(examples), len(self.labels_)))
            for i, e in enumerate(examples):
                p[i] = np.nan if e.role == "agent" else 0.0
                if e.role == "user":
                    p[i, self.labels_.index("OQ")] = 1.0
            return p

    PREDICTORS.names()
    monkeypatch.setitem(PREDICTORS._items, "abstainer", Abstainer)
    r = run_cell(Cell("human", "human", "abstainer", 0), tmp_path / "r")
    agent_rows = [i for i, d in enumerate(r["predictions"]["y_true"]) if d in ("PA", "IR_PA", "CQ")]
    assert r["no_answer"] == 5  # the five agent turns
    assert all(r["predictions"]["y_pred"][i] == "" for i in agent_rows)
    assert r["metrics"]["qu_accuracy"] == pytest.approx(3 / 12)  # only the three OQ turns are right


def test_cli_run_prints_table_and_unknown_predictor_exits_2(tiny_data, tmp_path, capsys):
    assert main(["run", "--train", "human", "--test", "human", "-p", "majority", "--out", str(tmp_path / "r"), "-q"]) == 0
    assert "micro-F1" in capsys.readouterr().out
    assert main(["run", "--predictor", "tfidf-lrr", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "tfidf-lr" in err and "Traceback" not in err


def test_cli_run_missing_data_folder_exits_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SOLID_BENCH_DATA", str(tmp_path / "nowhere"))
    assert main(["run", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "SOLID_BENCH_DATA" in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()


def test_each_seed_trains_on_its_own_sample(tmp_path, tiny_data, monkeypatch):
    # '@N' in a cell is drawn with the cell's seed: three seeds are three samples (replicates of the
    # data draw), not one sample three times; rerunning a seed draws the same sample
    monkeypatch.chdir(tmp_path)
    dialogs = [Dialog(f"s{i}", "solid", (Utterance("user", f"question {i}?", ("OQ",)), Utterance("agent", f"answer {i}", ("PA",))),
                      meta={"generator": "solid"}) for i in range(20)]
    (tmp_path / "syn.jsonl").write_text("\n".join(dialog_to_json(d) for d in dialogs) + "\n")
    out = tmp_path / "results"
    shas = [run_cell(Cell("syn.jsonl@10", "human", "majority", s), out)["corpora"]["train"]["sha256"] for s in (0, 1, 2)]
    assert len(set(shas)) == 3
    assert shas[1] == resolve("syn.jsonl@10", "train", sample_seed=1).sha256
    assert run_cell(Cell("syn.jsonl@10", "human", "majority", 1), out)["corpora"]["train"]["sha256"] == shas[1]  # skipped
    whole = [run_cell(Cell("syn.jsonl", "human", "majority", s), out)["corpora"]["train"]["sha256"] for s in (0, 1)]
    assert whole[0] == whole[1]  # no '@': every seed trains on the whole corpus
