"""The `evaluate` metric module (solid_bench/evaluate/intent_metrics.py): hand-computed values, and agreement with
solid_bench.metrics.score and scikit-learn to 1e-12 on random multi-label data.

The module runs in one child Python process, as a user runs it: `evaluate.load(PATH)` with the Hugging Face
offline switches on, a temporary HF cache, and every socket connection and name lookup refused and recorded, so a
network access fails the test instead of passing unnoticed. (`evaluate` fixes its cache folders when it is first
imported, so a child process is the one place where they are certainly the temporary ones.)
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, jaccard_score, precision_score, recall_score

import solid_bench.evaluate
from solid_bench.metrics import METRICS, score
from solid_bench.schema import MSDIALOG_LABELS

#: Runs in the child: refuse the network, load the module, compute every case, print one JSON line.
CHILD = r'''
import json, socket, sys

attempts = []

def refuse(*args, **kwargs):
    attempts.append(repr(args[1:] if args and isinstance(args[0], socket.socket) else args)[:200])
    raise OSError("network access refused by the test")

socket.socket.connect = socket.socket.connect_ex = refuse
socket.create_connection = socket.getaddrinfo = refuse

import datasets
import evaluate
import solid_bench.evaluate

cases = json.load(open(sys.argv[1], encoding="utf-8"))
metric = evaluate.load(solid_bench.evaluate.PATH)
strings = datasets.Sequence(datasets.Value("string"))
out = {"name": metric.name, "features": metric.features == datasets.Features({"predictions": strings, "references": strings}),
       "modules_cache": str(evaluate.config.HF_MODULES_CACHE), "metrics_cache": str(evaluate.config.HF_METRICS_CACHE),
       "results": {}, "errors": {}}
for name, case in cases["ok"].items():
    kwargs = {"labels": case["labels"]} if "labels" in case else {}
    if case.get("batch"):
        for start in range(0, len(case["predictions"]), case["batch"]):
            metric.add_batch(predictions=case["predictions"][start:start + case["batch"]],
                             references=case["references"][start:start + case["batch"]])
        out["results"][name] = metric.compute(**kwargs)
    else:
        out["results"][name] = metric.compute(predictions=case["predictions"], references=case["references"], **kwargs)
for name, case in cases["bad"].items():
    kwargs = {"labels": case["labels"]} if "labels" in case else {}
    try:
        evaluate.load(solid_bench.evaluate.PATH).compute(predictions=case["predictions"], references=case["references"], **kwargs)
        out["errors"][name] = None
    except Exception as e:
        out["errors"][name] = [type(e).__module__ + "." + type(e).__name__, str(e)]
out["attempts"] = list(attempts)
try:
    socket.create_connection(("192.0.2.1", 80), timeout=1)  # TEST-NET-1: the guard must refuse it
    out["guard"] = "not refused"
except OSError as e:
    out["guard"] = str(e)
print("RESULT " + json.dumps(out))
'''

# Hand-made fixture, MSDialog codes:
#        references   predictions
# u0     OQ           OQ
# u1     PA FD        PA
# u2     CQ           IR
# u3     PF GG        GG PF
# u4     (none)       (none)
GOLDEN = {"references": [["OQ"], ["PA", "FD"], ["CQ"], ["PF", "GG"], []],
          "predictions": [["OQ"], ["PA"], ["IR"], ["GG", "PF"], []]}

# Own label set, codes a b c:
#        references   predictions
# u0     a            a
# u1     b            a b
CUSTOM = {"references": [["a"], ["b"]], "predictions": [["a"], ["a", "b"]], "labels": ["a", "b", "c"]}

BAD = {
    "unknown_prediction": {"references": [["OQ"], ["PA"]], "predictions": [["OQ"], ["XX"]]},
    "unknown_reference": {"references": [["OQ"], ["pa"]], "predictions": [["OQ"], ["PA"]]},
    "outside_own_labels": {"references": [["a"]], "predictions": [["OQ"]], "labels": ["a", "b"]},
    "duplicate_labels": {"references": [["a"]], "predictions": [["a"]], "labels": ["a", "b", "a"]},
    "labels_as_one_string": {"references": [["a"]], "predictions": [["a"]], "labels": "a b"},
}


def random_sets(seed: int, codes: tuple[str, ...], n: int = 250) -> dict:
    """Gold and predicted code lists: per-code rates up to 0.4, predictions correlated with the gold; one code occurs
    nowhere and one only in the predictions."""
    rng = np.random.default_rng(seed)
    nowhere, predicted_only = rng.choice(len(codes), size=2, replace=False)
    rate = rng.uniform(0.0, 0.4, size=len(codes))
    rate[[nowhere, predicted_only]] = 0.0
    gold = rng.random((n, len(codes))) < rate
    pred = np.where(rng.random(gold.shape) < 0.7, gold, rng.random(gold.shape) < 0.15)
    pred[:, nowhere] = False

    def lists(y: np.ndarray) -> list[list[str]]:
        return [[codes[j] for j in rng.permutation(np.flatnonzero(row))] for row in y]

    return {"references": lists(gold), "predictions": lists(pred)}


def indicator(sets: list[list[str]], codes) -> np.ndarray:
    return np.array([[code in row for code in codes] for row in sets], dtype=int)


RANDOM = {f"random{seed}": random_sets(seed, MSDIALOG_LABELS) for seed in range(6)}
RANDOM["random_own_labels"] = {**random_sets(100, ("w", "x", "y", "z")), "labels": ["w", "x", "y", "z"]}
RANDOM["random_in_batches"] = {**random_sets(101, MSDIALOG_LABELS), "batch": 64}


@pytest.fixture(scope="module")
def child(tmp_path_factory) -> dict:
    """The child's JSON: results and errors per case, network attempts, the cache folders it used."""
    assert importlib.util.find_spec("evaluate") is not None, "evaluate is part of the test extra: pip install -e '.[test]'"
    tmp = tmp_path_factory.mktemp("evaluate_module")
    cases = {"ok": {"golden": GOLDEN, "custom": CUSTOM, "duplicates": {"references": [["PA"]], "predictions": [["PA", "PA"]]},
                    **RANDOM}, "bad": BAD}
    (tmp / "cases.json").write_text(json.dumps(cases), encoding="utf-8")
    (tmp / "child.py").write_text(CHILD, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_"))}
    env.update(HF_HOME=str(tmp / "hf"), HF_HUB_OFFLINE="1", HF_EVALUATE_OFFLINE="1", HF_DATASETS_OFFLINE="1", OMP_NUM_THREADS="1")
    (tmp / "work").mkdir()
    proc = subprocess.run([sys.executable, str(tmp / "child.py"), str(tmp / "cases.json")], cwd=tmp / "work", env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    out = json.loads(proc.stdout.rsplit("RESULT ", 1)[1])
    out["tmp"] = str(tmp)
    return out


def test_path_is_the_script_evaluate_loads():
    assert solid_bench.evaluate.path() == solid_bench.evaluate.PATH
    assert Path(solid_bench.evaluate.PATH).is_file() and Path(solid_bench.evaluate.PATH).name == "intent_metrics.py"


def test_loads_offline_into_the_temporary_cache_without_network(child):
    assert child["attempts"] == []
    assert child["guard"] == "network access refused by the test"  # the guard was live
    hf = Path(child["tmp"]) / "hf"
    assert Path(child["modules_cache"]) == hf / "modules" and Path(child["metrics_cache"]) == hf / "metrics"
    copied = list((hf / "modules").rglob("intent_metrics.py"))
    assert len(copied) == 1 and copied[0].read_text(encoding="utf-8") == Path(solid_bench.evaluate.PATH).read_text(encoding="utf-8")
    assert child["name"] == "intent_metrics"
    assert child["features"] is True  # predictions and references: datasets.Sequence(datasets.Value("string"))


def test_golden_hand_computed(child):
    r = child["results"]["golden"]
    # qu: u0 1, u1 |{PA}|/|{PA,FD}| = 1/2, u2 0/|{CQ,IR}| = 0, u3 1, u4 both empty = 1 -> 3.5/5
    assert r["qu_accuracy"] == pytest.approx(0.7, abs=1e-15)
    # exact: u0, u3 (order does not matter), u4 -> 3/5
    assert r["exact_match"] == pytest.approx(0.6, abs=1e-15)
    # pooled: TP = OQ@u0 + PA@u1 + PF@u3 + GG@u3 = 4, FP = IR@u2 = 1, FN = FD@u1 + CQ@u2 = 2
    assert r["micro_p"] == pytest.approx(4 / 5, abs=1e-15)
    assert r["micro_r"] == pytest.approx(4 / 6, abs=1e-15)
    assert r["micro_f1"] == pytest.approx(8 / 11, abs=1e-15)  # 2*4 / (2*4 + 1 + 2)
    # per-label F1: OQ PA PF GG 1; FD, CQ (gold only) and IR (predicted only) 0; the other 5 codes occur nowhere
    # and are left out: (4*1 + 3*0) / 7
    assert r["macro_f1"] == pytest.approx(4 / 7, abs=1e-15)
    assert r["n_utterances"] == 5
    assert list(r["per_label"]) == list(MSDIALOG_LABELS)
    assert r["per_label"]["FD"] == {"p": 0.0, "r": 0.0, "f1": 0.0, "support": 1, "predicted": 0}
    assert r["per_label"]["IR"] == {"p": 0.0, "r": 0.0, "f1": 0.0, "support": 0, "predicted": 1}
    assert r["per_label"]["GG"] == {"p": 1.0, "r": 1.0, "f1": 1.0, "support": 1, "predicted": 1}
    assert r["per_label"]["NF"] == {"p": 0.0, "r": 0.0, "f1": 0.0, "support": 0, "predicted": 0}


def test_own_label_set_hand_computed(child):
    r = child["results"]["custom"]
    # qu: u0 1, u1 |{b}|/|{a,b}| = 1/2 -> 3/4; exact: u0 -> 1/2
    # pooled: TP = a@u0 + b@u1 = 2, FP = a@u1 = 1, FN = 0 -> P 2/3, R 1, F1 4/5
    # per-label F1: a 2*1/(2*1 + 1) = 2/3, b 1, c occurs nowhere (left out) -> (2/3 + 1) / 2 = 5/6
    assert r["qu_accuracy"] == 0.75 and r["exact_match"] == 0.5 and r["micro_r"] == 1.0
    assert r["micro_p"] == pytest.approx(2 / 3, abs=1e-15)
    assert r["micro_f1"] == pytest.approx(4 / 5, abs=1e-15)
    assert r["macro_f1"] == pytest.approx(5 / 6, abs=1e-15)
    assert list(r["per_label"]) == ["a", "b", "c"]


def test_a_code_repeated_in_one_utterance_counts_once(child):
    r = child["results"]["duplicates"]
    # {PA, PA} is the set {PA}: equal to the gold {PA}, so every metric is 1
    assert {m: r[m] for m in METRICS} == dict.fromkeys(METRICS, 1.0)


@pytest.mark.parametrize("name", sorted(RANDOM))
def test_random_data_agrees_with_solid_bench_metrics_and_sklearn(child, name):
    case = RANDOM[name]
    codes = case.get("labels", MSDIALOG_LABELS)
    t, p = indicator(case["references"], codes), indicator(case["predictions"], codes)
    r = child["results"][name]
    ours = score(t, p, codes)
    assert r["n_utterances"] == ours["n_utterances"] == len(t)
    for m in METRICS:
        assert r[m] == pytest.approx(ours[m], abs=1e-12), m
    assert r["per_label"].keys() == ours["per_label"].keys()
    for code, row in ours["per_label"].items():
        assert r["per_label"][code] == pytest.approx(row, abs=1e-12), code
    present = np.flatnonzero(t.any(0) | p.any(0))
    assert 0 < len(present) < len(codes)  # macro F1 leaves out a code that occurs nowhere: the data tests it
    assert (p.any(0) & ~t.any(0)).any()  # ... and counts one predicted but never gold with F1 = 0
    assert r["micro_p"] == pytest.approx(precision_score(t, p, average="micro", zero_division=0), abs=1e-12)
    assert r["micro_r"] == pytest.approx(recall_score(t, p, average="micro", zero_division=0), abs=1e-12)
    assert r["micro_f1"] == pytest.approx(f1_score(t, p, average="micro", zero_division=0), abs=1e-12)
    assert r["macro_f1"] == pytest.approx(f1_score(t, p, average="macro", labels=present, zero_division=0), abs=1e-12)
    assert r["exact_match"] == pytest.approx(accuracy_score(t, p), abs=1e-12)
    assert r["qu_accuracy"] == pytest.approx(jaccard_score(t, p, average="samples", zero_division=1), abs=1e-12)


def test_bad_inputs_are_one_clear_sentence(child):
    e = child["errors"]
    labels = " ".join(MSDIALOG_LABELS)
    assert e["unknown_prediction"] == ["solid_bench.errors.UserError", f"predictions[1] has the intent code 'XX', which is not in labels ({labels}); "
                                       "fix the code or pass labels=[...] to compute()."]
    assert e["unknown_reference"] == ["solid_bench.errors.UserError", f"references[1] has the intent code 'pa', which is not in labels ({labels}); "
                                      "fix the code or pass labels=[...] to compute()."]
    assert e["outside_own_labels"] == ["solid_bench.errors.UserError", "predictions[0] has the intent code 'OQ', which is not in labels (a b); "
                                       "fix the code or pass labels=[...] to compute()."]
    assert e["duplicate_labels"] == ["solid_bench.errors.UserError",
                                     "labels must be a list of distinct intent codes, got ['a', 'b', 'a']; pass each code once."]
    assert e["labels_as_one_string"] == ["solid_bench.errors.UserError",
                                         "labels must be a list of distinct intent codes, got 'a b'; pass each code once."]
