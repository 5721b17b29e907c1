"""The whole SOLID pipeline over the real transformers backend, on a tiny random Llama built here."""

from __future__ import annotations

import json

CHAT = ("{% for m in messages %}<s>{{ m['role'] }}\n{{ m['content'] }}</s>\n{% endfor %}"
        "{% if add_generation_prompt %}<s>assistant\n{% endif %}")


def build_tiny_llama(folder):
    """A 2-layer random Llama with a byte-level BPE tokenizer trained on a few sentences."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=300, special_tokens=["<pad>", "<s>", "</s>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(["How do I reset my password?", "Try safe mode first.", "Thanks, that worked!"] * 5, trainer)
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    fast.chat_template = CHAT
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(fast), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=2048,
                         bos_token_id=fast.bos_token_id, eos_token_id=fast.eos_token_id, pad_token_id=fast.pad_token_id)
    LlamaForCausalLM(config).save_pretrained(folder)
    fast.save_pretrained(folder)
    return folder


def test_pipeline_runs_on_the_transformers_backend(tiny_train, tmp_path):
    from solid_bench.generators.pipeline import GenerationConfig, run_generation
    from solid_bench.llm import create_backend

    model = build_tiny_llama(tmp_path / "tiny-llama")
    out = tmp_path / "run"
    names = tmp_path / "entities.json"  # a random model names no entity: start from a list (SOLID authors' format)
    names.write_text(json.dumps(["Outlook\tSoftware Product", "Skype\tApp", "Excel\tSoftware Product", "Kindle\tDevice"]))
    config = GenerationConfig(out=str(out), n=4, backend="transformers", model=str(model), batch_size=4,
                              max_new_tokens=8, retries=1, cache=False, seeds_file=str(names))
    backend = create_backend("transformers", str(model), batch_size=4)
    calls = []
    original = backend.complete
    backend.complete = lambda requests: calls.append(len(requests)) or original(requests)
    manifest = run_generation(config, train=tiny_train, backend=backend, log=lambda m: None)
    counts = manifest["counts"]
    assert manifest["status"] == "complete"
    assert counts["accepted"] + counts["rejected"] == 4
    # a random model writes noise: whatever it wrote is either accepted cleanly or rejected with a reason
    assert set(counts["rejected_by_reason"]) <= {"empty", "garbage", "repeated", "refusal", "meta", "no_question", "non_english"}
    rejected = [json.loads(x) for x in (out / "rejected.jsonl").read_text().splitlines()] if counts["rejected"] else []
    assert all(r["attempts"] and r["reason"] == r["attempts"][-1]["reason"] for r in rejected)
    # backgrounds and starters came from the real backend; noise backgrounds are kept, N/A ones dropped
    backgrounds = [json.loads(x) for x in (out / "backgrounds.jsonl").read_text().splitlines()]
    assert sorted(b["entity_name"] for b in backgrounds) == ["Excel", "Kindle", "Outlook", "Skype"]
    assert manifest["cost"]["seeding.background"]["llm_calls"] == 4
    # real tokenizer counts, and batching: no call larger than the batch size
    assert manifest["cost"]["all"]["prompt_tokens"] > manifest["cost"]["all"]["llm_calls"]
    assert max(calls) <= 4 and sum(calls) == manifest["cost"]["all"]["llm_calls"]
    assert manifest["model"].startswith("tiny-llama@sha256:")
