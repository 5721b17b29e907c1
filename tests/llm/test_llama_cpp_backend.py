"""The llama-cpp backend on the real SmolLM2 GGUF (a few tokens) and its error paths."""

from __future__ import annotations

import pytest

from solid_bench.errors import UserError
from solid_bench.llm import BACKENDS, Request, create_backend


@pytest.mark.slow
def test_real_gguf_generates_greedy_and_seeded(gguf_path):
    pytest.importorskip("llama_cpp")
    backend = create_backend("llama-cpp", n_threads=2)  # None: the SmolLM2 GGUF
    assert backend.path == gguf_path.resolve()
    reqs = [
        Request.chat(("user", "What is the capital of France?"), max_new_tokens=8),
        Request.chat(("user", "Count from 1 to 9, separated by commas."), max_new_tokens=16, stop=("2",)),
        Request.chat(("user", "What is the capital of France?"), max_new_tokens=8),
    ]
    got = backend.complete(reqs)
    assert got[0].text.strip() and got[2].text == got[0].text  # greedy is deterministic
    assert got[0].prompt_tokens == 37  # SmolLM2's chat template + the question, as transformers counts it
    assert 1 <= got[0].completion_tokens <= 8
    assert "2" not in got[1].text and got[1].finish_reason == "stop"  # counting reaches "2" well inside 16 tokens
    assert got[0].meta["batch_size"] == 3 and got[0].seconds <= got[0].meta["batch_seconds"]
    sampled = [Request.chat(("user", "Tell me a word."), max_new_tokens=6, temperature=1.0, seed=s) for s in (1, 1)]
    a, b = backend.complete(sampled)
    assert a.text == b.text
    backend.close()


def test_model_id_and_errors(gguf_path, tmp_path, monkeypatch):
    pytest.importorskip("llama_cpp")
    a = create_backend("llama-cpp", model=str(gguf_path)).model_id
    assert a.startswith("llama-cpp:SmolLM2-135M-Instruct.Q4_1.gguf@sha256:") and a == create_backend("llama-cpp").model_id
    with pytest.raises(UserError, match="needs a .gguf file, a model folder holding model.gguf"):
        create_backend("llama-cpp", model=str(tmp_path / "model.bin"))
    with pytest.raises(UserError, match="llama-cpp backend needs a GGUF but the folder .* holds no model.gguf"):
        create_backend("llama-cpp", model=str(tmp_path))
    cls = BACKENDS.get("llama-cpp")
    monkeypatch.setattr(cls, "is_available", classmethod(lambda c: False))
    with pytest.raises(UserError, match=r"pip install 'solid-bench\[llama-cpp\]'"):
        create_backend("llama-cpp")


@pytest.mark.slow
def test_ram_cache_restores_a_dialogs_prefix_and_changes_no_output(gguf_path):
    pytest.importorskip("llama_cpp")
    first = ("user", "Name three colours of the rainbow.")
    a = Request.chat(first, max_new_tokens=6)
    b = Request.chat(("user", "What is two plus two?"), max_new_tokens=6)
    plain = create_backend("llama-cpp", n_threads=1)
    cached = create_backend("llama-cpp", n_threads=1, cache_ram=64)
    texts = {}
    for name, backend in (("plain", plain), ("cached", cached)):
        ra, rb = backend.complete([a, b])
        longer = Request.chat(first, ("assistant", ra.text), ("user", "And one more?"), max_new_tokens=6)
        texts[name] = [c.text for c in (ra, rb, *backend.complete([longer]))]
    assert texts["cached"] == texts["plain"]  # restoring a saved state changes no greedy output
    states = cached._llm.cache.cache_state
    assert len(states) == 3 and cached._llm.cache.cache_size <= 64 << 20  # one saved state per completed prompt
    assert plain._llm.cache is None
    with pytest.raises(UserError, match="cache_ram is MiB of prompt cache"):
        create_backend("llama-cpp", cache_ram=-1)
    plain.close()
    cached.close()
