"""The corpus quality report: each figure on small fixtures, against values computed by hand."""

from __future__ import annotations

import json

import numpy as np
import pytest

from solid_bench.cli import main
from solid_bench.corpus_report import Judge, acceptance, distinct_n, faithfulness, near_duplicate_rate, report, stage_fallbacks, throughput, turn_stats
from solid_bench.schema import MSDIALOG, Dialog, Utterance


def test_distinct_n_by_hand():
    # unigrams a b a | b a: 5, distinct 2; bigrams (a b) (b a) | (b a): 3, distinct 2
    assert distinct_n(["a b a", "B, a!"], 1) == pytest.approx(2 / 5)
    assert distinct_n(["a b a", "B, a!"], 2) == pytest.approx(2 / 3)
    assert distinct_n(["one"], 2) is None


def test_near_duplicates_by_hand():
    texts = ["the cat sat on the mat", "The cat sat on the mat today.", "completely different words here now", "ok"]
    # 3-gram sets: 4 and 5 shingles, 4 shared -> Jaccard 4/5 = 0.8 (a near duplicate); "ok" is too short to count
    assert near_duplicate_rate(texts) == pytest.approx(1 / 3)
    assert near_duplicate_rate(texts, threshold=0.81) == 0.0
    assert near_duplicate_rate(["a b"]) is None


def _dialog(i, intents, n=2):
    utts = tuple(Utterance("user" if k % 2 == 0 else "agent", f"text {i} number {k} here", intents[k % len(intents)]) for k in range(n))
    return Dialog(f"d{i}", "solid", utts, meta={"generator": "solid", "cost": {"llm_calls": 1}})


def test_turn_stats_by_hand():
    stats = turn_stats([_dialog(0, [("OQ",)], 2), _dialog(1, [("OQ",)], 5), _dialog(2, [("OQ",)], 3)])
    assert stats == {"mean": pytest.approx(10 / 3), "median": 3.0, "min": 2, "max": 5}


def _run_folder(folder):
    folder.mkdir()
    (folder / "dialogs.jsonl").write_text("".join(
        json.dumps({"id": f"d{i}", "source": "solid", "meta": {"generator": "solid", "cost": {"llm_calls": 1}},
                    "utterances": [{"role": "user", "text": "how do i reset my outlook password ?", "intents": ["OQ"]},
                                   {"role": "agent", "text": "go to settings and choose reset", "intents": ["PA"]}]}) + "\n"
        for i in range(3)), encoding="utf-8")
    (folder / "rejected.jsonl").write_text(json.dumps({"plan_id": "p9", "reason": "no_question"}) + "\n", encoding="utf-8")
    (folder / "entity_types.json").write_text(json.dumps({"types": ["Device"], "source": "llm"}), encoding="utf-8")
    (folder / "attributes.json").write_text(json.dumps({t: {"attributes": ["a"], "source": s} for t, s in
                                                        [("A", "llm"), ("B", "default"), ("C", "llm"), ("D", "llm")]}), encoding="utf-8")
    (folder / "instructions.json").write_text(json.dumps({"FD_PA|agent": {"fallback": True}, "CQ_IR|agent": {"fallback": False}}),
                                              encoding="utf-8")
    seeds = [{"entity_name": "Skype", "attribute": "price", "starter": "What can you tell me about the price of Skype?"},
             {"entity_name": "Excel", "attribute": "macros", "starter": "Why do my Excel macros fail?"},
             {"entity_name": "Word", "attribute": "fonts", "starter": "How do I add fonts to Word?"}]
    (folder / "seeds.jsonl").write_text("".join(json.dumps(s) + "\n" for s in seeds), encoding="utf-8")
    (folder / "backgrounds.jsonl").write_text("".join(json.dumps({"na": na}) + "\n" for na in (True, False, False, False)),
                                              encoding="utf-8")
    return folder


def test_acceptance_and_stage_fallbacks_by_hand(tmp_path):
    folder = _run_folder(tmp_path / "run")
    assert acceptance(folder) == {"plans": 4, "accepted": 3, "rejected": 1, "rate": 0.75, "rejected_by_reason": {"no_question": 1}}
    f = stage_fallbacks(folder)
    assert {k: v["rate"] for k, v in f.items()} == {"entity_types": 0.0, "attributes": 0.25, "merge_instructions": 0.5,
                                                     "starter": pytest.approx(1 / 3), "background_na": 0.25}


def test_faithfulness_against_an_independent_computation(tiny_data):
    from sklearn.metrics import f1_score

    from solid_bench.corpora import resolve
    from solid_bench.examples import Examples

    judge = Judge.fit(MSDIALOG)
    valid = Examples.from_dialogs(resolve("human", "valid").dialogs)
    assert judge.ceiling == pytest.approx(f1_score(valid.y(MSDIALOG), judge.predict(valid), average="micro"))
    dialogs = [_dialog(0, [("OQ",), ("PA",)], 4), _dialog(1, [("OQ",), ("FD", "NF")], 3)]
    ex = Examples.from_dialogs(dialogs)
    got = faithfulness(dialogs, MSDIALOG, judge)
    assert got["micro_f1"] == pytest.approx(f1_score(ex.y(MSDIALOG), judge.predict(ex), average="micro", zero_division=0))
    assert got["ceiling_human_valid"] == judge.ceiling


def test_report_on_a_run_folder_and_on_human_data(tiny_data, tmp_path, capsys):
    folder = _run_folder(tmp_path / "run")
    r = report(str(folder))
    assert r["n_dialogs"] == 3 and r["acceptance"]["rate"] == 0.75
    # every dialog is (OQ, PA); human train (tiny) has combinations OQ x3, PA x3, PF, IR_PA, FD_NF, CQ, FD, GG:
    # 12 utterances, so the corpus puts 1/2 on OQ and PA each where human train puts 3/12 each: TVD = 1 - 6/12 = 0.5
    assert r["combination_tvd"] == pytest.approx(0.5)
    assert r["turns"]["mean"] == 2 and r["turns_human_train"]["mean"] == pytest.approx(4.0)
    human = report("human")
    assert human["acceptance"] is None and human["fallbacks"] == {} and human["combination_tvd"] == 0.0
    assert main(["data", "report", str(folder), "--out", str(tmp_path / "rep")]) == 0
    text = capsys.readouterr().out
    assert "acceptance: 3 of 4 plans (75.0%)" in text and "starter: 1 of 3 (33.3%)" in text
    assert json.loads((tmp_path / "rep" / "report.json").read_text())["n_dialogs"] == 3
    assert (tmp_path / "rep" / "report.md").read_text() == text
    assert np.isfinite(r["faithfulness"]["micro_f1"])


def test_throughput_by_hand():
    cost = {"llm_calls": 30, "prompt_tokens": 9000, "completion_tokens": 3000, "seconds": 1200.0}
    marginal = {"prompt_tokens": 2000, "completion_tokens": 500, "dialogs": 5}
    tp = throughput(cost, 6, marginal)
    # 6 dialogs in 1,200 s = 18 per hour; 12,000 tokens / 1,200 s = 10 tok/s, 3,000 / 1,200 = 2.5 completion tok/s
    assert tp["dialogs_per_hour"] == pytest.approx(18.0)
    assert tp["tokens_per_second"] == pytest.approx(10.0) and tp["completion_tokens_per_second"] == pytest.approx(2.5)
    assert tp["calls_per_dialog"] == pytest.approx(5.0)
    # per 1,000 accepted: 12,000 * 1000 / 6 = 2,000,000 tokens and 200,000 s; marginal 2,500 * 1000 / 5 = 500,000
    assert tp["all_in_tokens_per_1k"] == pytest.approx(2_000_000) and tp["all_in_seconds_per_1k"] == pytest.approx(200_000)
    assert tp["marginal_tokens_per_1k"] == pytest.approx(500_000)
    assert throughput(cost, 0) is None and throughput(None, 3) is None
    assert throughput({**cost, "seconds": 0}, 6)["dialogs_per_hour"] is None


def test_side_by_side_report_of_two_run_folders(tiny_data, tmp_path, capsys):
    a = _run_folder(tmp_path / "a")
    b = _run_folder(tmp_path / "b")
    (a / "manifest.json").write_text(json.dumps({"model": "m-a", "identity": {"method": "solid", "model": "qwen2.5-coder-1.5b"}, "cost": {"all": {
        "llm_calls": 30, "prompt_tokens": 9000, "completion_tokens": 3000, "seconds": 1200.0}}}), encoding="utf-8")
    assert main(["data", "report", str(a), str(b), "--out", str(tmp_path / "rep")]) == 0
    text = capsys.readouterr().out
    assert text.startswith("# Corpus reports side by side")
    assert f"| SOLID · Qwen2.5-Coder-1.5B<br>`{a}` | `{b}` |" in text
    rows = {line.split(" | ")[0].lstrip("| "): line for line in text.splitlines() if line.startswith("| ")}
    # a: 3 accepted dialogs in 1,200 s = 9 per hour; 12,000 tokens * 1000 / 3 = 4.00M per 1k; b has no manifest
    assert rows["accepted dialogs per generation hour"].endswith("| 9.0 | – |")
    assert rows["all-in tokens per 1k accepted"].endswith("| 4.00M | – |")
    # the dialogs carry cost {"llm_calls": 1} and no tokens: the marginal cost is 0 tokens per 1k
    assert rows["marginal tokens per 1k accepted"].endswith("| 0 | – |")
    assert rows["fallback: starter"].endswith("| 1 of 3 (33.3%) | 1 of 3 (33.3%) |")
    assert rows["acceptance"].endswith("| 3 of 4 (75.0%) | 3 of 4 (75.0%) |")
    saved = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert [r["spec"] for r in saved["reports"]] == [str(a), str(b)]
    assert saved["reports"][0]["throughput"]["dialogs_per_hour"] == pytest.approx(9.0)
    assert saved["reports"][1]["throughput"] is None


def test_report_of_a_missing_corpus_is_a_clear_error(tiny_data, tmp_path, capsys):
    assert main(["data", "report", "human", str(tmp_path / "nope"), "--out", str(tmp_path / "rep")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1
    assert not (tmp_path / "rep").exists()


def test_all_in_cost_adds_what_the_run_owes_outside_its_folder(tiny_data, tmp_path, capsys):
    a = _run_folder(tmp_path / "a")
    (a / "manifest.json").write_text(json.dumps({
        "model": "m-a", "identity": {"method": "solid", "model": "qwen2.5-coder-1.5b"}, "counts": {"accepted": 3},
        "cost": {"all": {"llm_calls": 30, "prompt_tokens": 9000, "completion_tokens": 3000, "seconds": 1200.0}},
        "external_costs": {"seeding": {"llm_calls": 6, "prompt_tokens": 2000, "completion_tokens": 1000, "seconds": 600.0,
                                       "source": "seeds/seeding.json"}}}), encoding="utf-8")
    assert main(["data", "report", str(a), str(a)]) == 0
    rows = {line.split(" | ")[0].lstrip("| "): line for line in capsys.readouterr().out.splitlines() if line.startswith("| ")}
    # all-in: (12,000 + 3,000) tokens * 1000 / 3 = 5.00M, 1,800 s * 1000 / 3 = 166.7 h; 1.00M of it from the seeds
    assert rows["all-in tokens per 1k accepted"].endswith("| 5.00M | 5.00M |")
    assert rows["all-in generation hours per 1k accepted"].endswith("| 166.7 | 166.7 |")
    assert rows["of them outside the run (seeds, generator's making)"].endswith("| 1.00M | 1.00M |")
    # the rates are the run's own: 3 dialogs in its 1,200 s
    assert rows["accepted dialogs per generation hour"].endswith("| 9.0 | 9.0 |")
