"""The one KEY=VALUE parser (--param, --option) and the LLM options shared by generate and seeds."""

from __future__ import annotations

import pytest

from solid_bench.cli import main
from solid_bench.cli.options import parse_key_values
from solid_bench.errors import UserError


def test_values_are_json_when_they_parse_and_text_otherwise():
    got = parse_key_values(["epochs=2", "lr=1.5e-4", "bf16=true", "model=null", "sizes=[1, 2]", "name=a=b",
                            "prefix-cache-mb=0", " device = cpu"], "--param", "epochs=2")
    assert got == {"epochs": 2, "lr": 1.5e-4, "bf16": True, "model": None, "sizes": [1, 2], "name": "a=b",
                   "prefix_cache_mb": 0, "device": " cpu"}
    assert parse_key_values(None, "--option", "delay=0.5") == {}


@pytest.mark.parametrize("item", ["epochs", "=2", " =2"])
def test_an_item_without_a_key_is_one_sentence_naming_the_option(item):
    with pytest.raises(UserError) as e:
        parse_key_values([item], "--option", "delay=0.5")
    assert str(e.value) == f"--option {item!r} must look like KEY=VALUE, e.g. --option delay=0.5."


def test_generate_and_seeds_share_their_llm_options_and_list_the_registered_backends(capsys):
    helps = {}
    for verb in ("generate", "seeds"):
        assert main([verb, "--help"]) == 0
        helps[verb] = " ".join(capsys.readouterr().out.split())
    for text in helps.values():
        assert "LLM backend: fake, llama-cpp, llama-server, openai, transformers, vllm." in text
        assert "solid-bench models list: qwen2.5-coder-1.5b, smollm2-135m" in text
        for option in ("--base-url", "--seed ", "--seeds", "--names-per-request", "--cache / --no-cache", "-o, --option"):
            assert option in text
