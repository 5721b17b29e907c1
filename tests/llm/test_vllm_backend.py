"""The vllm backend: registered and discoverable without vllm, with a clear error when it is missing."""

from __future__ import annotations

import importlib.util
import sys
import types

import pytest

from solid_bench.errors import UserError
from solid_bench.llm import BACKENDS, Request, create_backend

HAS_VLLM = importlib.util.find_spec("vllm") is not None


def test_registered_with_install_hint():
    cls = BACKENDS.get("vllm")
    assert cls.is_available() is HAS_VLLM
    assert "pip install 'solid-bench[vllm]'" in cls.install_hint


@pytest.mark.skipif(HAS_VLLM, reason="vllm is installed here")
def test_missing_vllm_is_a_user_error_naming_both_ways():
    with pytest.raises(UserError) as err:
        create_backend("vllm", model="any", tensor_parallel_size=2)
    msg = str(err.value)
    assert msg.startswith("vllm is not installed: pip install 'solid-bench[vllm]' on a CUDA machine")
    assert "vllm serve" in msg and "--backend openai --base-url URL1,URL2" in msg


def test_requests_map_to_sampling_params(monkeypatch):
    """With a stand-in vllm module: one chat call, per-request SamplingParams, order and counts kept."""
    seen = {}

    class SamplingParams:
        def __init__(self, **kw):
            self.kw = kw

    class LLM:
        def __init__(self, model, **kw):
            seen["engine"] = (model, kw)

        def chat(self, conversations, params, use_tqdm=False):
            seen["params"] = [p.kw for p in params]
            out = types.SimpleNamespace
            return [
                out(prompt_token_ids=[0] * (10 + i), outputs=[out(text=f"t{i}", token_ids=[1] * (i + 1), finish_reason="length")])
                for i, _ in enumerate(conversations)
            ]

    fake = types.ModuleType("vllm")
    fake.LLM, fake.SamplingParams = LLM, SamplingParams
    monkeypatch.setitem(sys.modules, "vllm", fake)
    monkeypatch.setattr(BACKENDS.get("vllm"), "is_available", classmethod(lambda c: True))
    backend = create_backend("vllm", model="org/model", tensor_parallel_size=4)
    got = backend.complete(
        [Request.chat(("user", "a"), max_new_tokens=3), Request.chat(("user", "b"), temperature=0.7, top_p=0.9, seed=5, stop=("x",))]
    )
    assert seen["engine"][0] == "org/model" and seen["engine"][1]["tensor_parallel_size"] == 4
    assert seen["params"] == [
        {"max_tokens": 3, "temperature": 0.0, "top_p": 1.0, "seed": None, "stop": None},
        {"max_tokens": 128, "temperature": 0.7, "top_p": 0.9, "seed": 5, "stop": ["x"]},
    ]
    assert [(c.text, c.prompt_tokens, c.completion_tokens) for c in got] == [("t0", 10, 1), ("t1", 11, 2)]
    assert backend.model_id == "org/model" and got[0].seconds == pytest.approx(got[0].meta["batch_seconds"] / 2)
