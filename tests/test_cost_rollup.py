"""Generation cost, marginal and all-in, rolled up for a SOLID-RL corpus from a tiny model card."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from solid_bench.corpora import resolve
from solid_bench.generators.pipeline import GenerationConfig, external_costs
from solid_bench.training.cost import ComputeLedger, making_cost, rejected_side_cost
from solid_bench.training.pipeline import made_from


def _dialog(i: int, cost: dict, retries: dict | None = None, generator: str = "solid") -> dict:
    meta = {"generator": generator, "plan_id": f"p{i}", "cost": cost}
    if retries is not None:
        meta["cost_retries"] = retries
    return {"id": f"{generator}-{i}", "source": generator, "meta": meta,
            "utterances": [{"role": "user", "text": f"How do I fix thing {i}?", "intents": ["OQ"]},
                           {"role": "agent", "text": "Restart it.", "intents": ["PA"]}]}


def _run_folder(folder: Path, dialogs: list[dict], total: dict, external: dict | None = None, identity: dict | None = None) -> Path:
    folder.mkdir(parents=True)
    (folder / "dialogs.jsonl").write_text("".join(json.dumps(d) + "\n" for d in dialogs), encoding="utf-8")
    manifest = {"identity": identity or {}, "counts": {"accepted": len(dialogs), "rejected": 1}, "cost": {"all": total}}
    if external is not None:
        manifest["external_costs"] = external
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return folder


def cost(calls, prompt, completion, seconds):
    return {"llm_calls": calls, "prompt_tokens": prompt, "completion_tokens": completion, "seconds": seconds}


def test_solid_rl_all_in_cost_includes_seeding_and_the_generators_making(tmp_path):
    # The SOLID corpus the generator was trained on: 2 accepted dialogs, the whole run cost 50 calls,
    # 10,000 + 2,000 tokens and 100 s (seeding, merging, retries and a rejected plan included).
    solid = _run_folder(tmp_path / "solid", [_dialog(0, cost(4, 1000, 200, 8.0), cost(1, 250, 50, 2.0)),
                                             _dialog(1, cost(3, 900, 150, 6.0), cost(0, 0, 0, 0.0))],
                        cost(50, 10_000, 2_000, 100.0), identity={"method": "solid", "model": "qwen2.5-coder-1.5b"})
    corpus = resolve(str(solid), "train")
    assert corpus.summary()["provenance"]["generator"] == "SOLID · Qwen2.5-Coder-1.5B"  # what made it, not its folder
    # marginal: the dialogs' own calls less their rejected tries
    assert corpus.generation_cost()["marginal"] == pytest.approx(
        {"llm_calls": 6, "prompt_tokens": 1650, "completion_tokens": 300, "seconds": 12.0, "dialogs": 2})
    assert corpus.generation_cost()["all_in"] == pytest.approx(
        {"llm_calls": 50, "prompt_tokens": 10_000, "completion_tokens": 2_000, "seconds": 100.0, "dialogs": 2})

    # The generator: trained by two invocations (one interrupted) on that corpus.
    model = tmp_path / "model"
    model.mkdir()
    (model / "compute.jsonl").write_text('{"seconds": 300.0, "status": "KeyboardInterrupt"}\n'
                                         '{"seconds": 1200.5, "status": "complete"}\n', encoding="utf-8")
    # its DPO stage had the SFT model write 6 dialogs: 6 calls, 600 + 300 tokens, 30 s (inside the compute seconds)
    generation = {"llm_calls": 6, "prompt_tokens": 600, "completion_tokens": 300, "seconds": 30.0}
    making = making_cost(corpus, model, generation)
    assert making["compute_seconds"] == 1500.5
    assert making["dpo_generation"] == {"llm_calls": 6, "prompt_tokens": 600, "completion_tokens": 300}
    assert making["total"] == pytest.approx(cost(56, 10_600, 2_300, 1600.5))
    made = made_from(None, corpus)  # None: the default base model
    assert made == {"base_model": "SmolLM2-135M", "training_corpus": "SOLID · Qwen2.5-Coder-1.5B", "training_corpus_spec": str(solid)}
    (model / "training.json").write_text(json.dumps({"cost": making, "made_from": made}), encoding="utf-8")

    # Its seeds came from a `solid-bench seeds` folder that made 8 seeds for 80 calls; the run uses 2.
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "seeds.jsonl").write_text("", encoding="utf-8")
    (seeds / "seeding.json").write_text(json.dumps({"seeds": 8, "cost": {"all": cost(80, 4000, 800, 40.0)}}), encoding="utf-8")
    config = GenerationConfig(out=str(tmp_path / "rl"), method="solid-rl", model=str(model), seeds_file=str(seeds / "seeds.jsonl"))
    external = external_costs(config, n_seeds=2)
    assert external["seeding"]["share"] == 0.25
    assert {k: external["seeding"][k] for k in ("llm_calls", "prompt_tokens", "seconds")} == pytest.approx(
        {"llm_calls": 20, "prompt_tokens": 1000, "seconds": 10.0})
    assert external["generator"]["seconds"] == pytest.approx(1600.5) and external["generator"]["llm_calls"] == 56
    assert external["generator"]["base_model"] == "SmolLM2-135M" and external["generator"]["training_corpus_spec"] == str(solid)

    # The SOLID-RL run: 2 accepted dialogs, one call each; 3 calls in all (a rejected plan), 1,500 tokens, 6 s.
    rl = _run_folder(tmp_path / "rl", [_dialog(i, cost(1, 400, 100, 2.0), cost(0, 0, 0, 0.0), "solid-rl") for i in (0, 1)],
                     cost(3, 1200, 300, 6.0), external, identity={"method": "solid-rl", "model": str(model)})
    rl_corpus = resolve(str(rl), "train")
    assert rl_corpus.summary()["provenance"]["generator"] == "SOLID-RL · SmolLM2-135M trained on SOLID · Qwen2.5-Coder-1.5B"
    gen = rl_corpus.generation_cost()
    assert gen["marginal"] == pytest.approx({"llm_calls": 2, "prompt_tokens": 800, "completion_tokens": 200, "seconds": 4.0, "dialogs": 2})
    # all-in = own run (3, 1200, 300, 6) + a quarter of the seeding (20, 1000, 200, 10) + the making (56, 10600, 2300, 1600.5)
    assert gen["all_in"]["llm_calls"] == pytest.approx(79)
    assert gen["all_in"]["prompt_tokens"] == pytest.approx(12_800)
    assert gen["all_in"]["completion_tokens"] == pytest.approx(2_800)
    assert gen["all_in"]["seconds"] == pytest.approx(1616.5)
    assert gen["all_in"]["dialogs"] == 2


def test_a_cache_hit_costs_the_seconds_of_the_call_that_made_it():
    from solid_bench.generators.runfolder import add_completions, empty_cost
    from solid_bench.llm.base import Completion

    hit = Completion("x", 10, 5, 0.0, cached=True, meta={"original_seconds": 2.5})
    fresh = Completion("y", 10, 5, 1.5)
    total = add_completions(empty_cost(), [hit, fresh])
    assert total["seconds"] == pytest.approx(4.0) and total["cached_calls"] == 1


def test_the_compute_ledger_writes_only_work_on_a_claimed_folder_and_each_slice_once(tmp_path, monkeypatch):
    import solid_bench.training.cost as cost_module

    clock = iter([100.0, 103.0, 110.0, 125.5, 126.0])
    monkeypatch.setattr(cost_module.time, "perf_counter", lambda: next(clock))
    ledger = ComputeLedger(tmp_path, "training-config.json")  # starts at t=100
    ledger.working()
    assert ledger.mark("checkpoint-1") == 0.0  # the folder is not claimed yet: nothing written, the seconds wait
    (tmp_path / "training-config.json").write_text("{}", encoding="utf-8")
    assert ledger.mark("checkpoint-1") == 3.0  # t=103: the 3 s since the start
    assert ledger.worked("rejected-side-32") == 7.0  # t=110
    assert ledger.mark("complete") == 15.5  # t=125.5
    lines = [json.loads(line) for line in (tmp_path / "compute.jsonl").read_text().splitlines()]
    assert lines == [{"seconds": 3.0, "status": "checkpoint-1"}, {"seconds": 7.0, "status": "rejected-side-32"},
                     {"seconds": 15.5, "status": "complete"}]
    idle = ComputeLedger(tmp_path, "training-config.json")  # t=126: a rerun that only rebuilds weights
    assert idle.mark("complete") == 0.0
    assert len((tmp_path / "compute.jsonl").read_text().splitlines()) == 3


def test_the_rejected_sides_cost_is_summed_from_its_answer_cache_and_kept(tmp_path):
    import sqlite3

    from solid_bench.llm.base import Completion, Request
    from solid_bench.llm.cache import CachedBackend

    class Writer:  # the model behind the cache: answers with fixed token counts
        model_id = "sft-model"

        def complete(self, requests):
            return [Completion(f"dialog {i}", 100 + i, 40 + i, 2.0) for i, _ in enumerate(requests)]

        def close(self):
            pass

    stage = tmp_path / "dpo"
    backend = CachedBackend(Writer(), stage / "generation-cache.sqlite")
    backend.complete([Request(messages=(("user", f"write dialog {i}"),)) for i in range(3)])
    backend.complete([Request(messages=(("user", f"write dialog {i}"),)) for i in range(4)])  # 3 hits, 1 new call
    backend.close()
    with sqlite3.connect(stage / "generation-cache.sqlite") as db:  # independent sum over the rows
        expected = db.execute("SELECT count(*), sum(prompt_tokens), sum(completion_tokens) FROM completions").fetchone()
    assert expected == (4, 100 + 101 + 102 + 100, 40 + 41 + 42 + 40)
    got = rejected_side_cost(stage)
    assert (got["llm_calls"], got["prompt_tokens"], got["completion_tokens"]) == expected and got["seconds"] == 8.0
    (stage / "generation-cache.sqlite").unlink()  # a clone: the cache is local, the record is committed
    assert rejected_side_cost(stage) == got
    assert rejected_side_cost(tmp_path / "elsewhere") is None
