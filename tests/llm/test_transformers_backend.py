"""The transformers backend on a tiny random Llama (logic) and on the real SmolLM2 (a few tokens)."""

from __future__ import annotations

import pytest

from solid_bench.errors import UserError
from solid_bench.llm import BACKENDS, Request, create_backend

QUESTIONS = [
    "how do i reset my outlook password",
    "hi",
    "excel crashes when i open a file, which version do you use? the quick brown fox jumps",
    "go to settings",
    "1, 2, 3",
]


def requests(n_tokens=6, **params):
    return [Request.chat(("system", "be brief"), ("user", q), max_new_tokens=n_tokens, **params) for q in QUESTIONS]


def reference_greedy(folder, request):
    """Independent greedy decode of one unpadded prompt with a manual argmax loop."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForCausalLM.from_pretrained(folder).eval()
    text = tok.apply_chat_template(request.as_openai_messages(), add_generation_prompt=True, tokenize=False)
    ids = tok(text, add_special_tokens=False, return_tensors="pt")["input_ids"]
    n_prompt, out = ids.shape[1], []
    with torch.no_grad():
        for _ in range(request.max_new_tokens):
            nxt = int(model(ids).logits[0, -1].argmax())
            out.append(nxt)
            if nxt == tok.eos_token_id:
                break
            ids = torch.cat([ids, torch.tensor([[nxt]])], dim=1)
    return n_prompt, out, tok


def test_registered_and_available():
    assert "transformers" in BACKENDS.names()
    cls = BACKENDS.get("transformers")
    assert cls.is_available() is True
    assert "pip install" in cls.install_hint


def test_batched_left_padding_equals_one_at_a_time(tiny_model):
    backend = create_backend("transformers", model=str(tiny_model), device="cpu", dtype="float32", batch_size=3)
    reqs = requests()
    batched = backend.complete(reqs)
    single = [backend.complete([r])[0] for r in reqs]
    assert [c.text for c in batched] == [c.text for c in single]
    assert [c.completion_tokens for c in batched] == [c.completion_tokens for c in single]
    assert [c.prompt_tokens for c in batched] == [c.prompt_tokens for c in single]
    # batches of 3 then 2 (sorted by length within the group): seconds are the batch wall split evenly
    sizes = sorted(c.meta["batch_size"] for c in batched)
    assert sizes == [2, 2, 3, 3, 3]
    for c in batched:
        assert c.seconds == pytest.approx(c.meta["batch_seconds"] / c.meta["batch_size"])
        assert c.cached is False


def test_greedy_matches_manual_argmax_and_counts_tokens(tiny_model):
    backend = create_backend("transformers", model=str(tiny_model), device="cpu", dtype="float32", batch_size=8)
    reqs = requests(n_tokens=7)
    got = backend.complete(reqs)
    for r, c in zip(reqs, got):
        n_prompt, ref, tok = reference_greedy(tiny_model, r)
        assert c.prompt_tokens == n_prompt
        assert c.completion_tokens == len(ref)
        body = ref[:-1] if ref and ref[-1] == tok.eos_token_id else ref
        assert c.text == tok.decode(body, skip_special_tokens=True)
        assert c.finish_reason == ("stop" if len(ref) < 7 else "length")


def test_stop_strings_cut_text(tiny_model):
    backend = create_backend("transformers", model=str(tiny_model), device="cpu", dtype="float32", batch_size=8)
    plain = backend.complete(requests(n_tokens=12))
    # pick a stop string from inside each generated text: a 2-character piece after the first 3
    texts = [c.text for c in plain if len(c.text) >= 6]
    assert texts, "the tiny model produced no text long enough to test stop strings"
    stop = texts[0][3:5]
    stopped = backend.complete(requests(n_tokens=12, stop=(stop,)))
    for p, s in zip(plain, stopped):
        at = p.text.find(stop)
        if at >= 0:
            assert s.text == p.text[:at]
            assert s.finish_reason == "stop"
            assert s.completion_tokens <= p.completion_tokens
        else:
            assert s.text == p.text


def test_max_new_tokens_per_request_and_ignore_eos(tiny_model):
    backend = create_backend("transformers", model=str(tiny_model), device="cpu", dtype="float32", ignore_eos=True)
    reqs = [Request.chat(("user", q), max_new_tokens=n) for q, n in zip(QUESTIONS, [1, 5, 9, 5, 1])]
    got = backend.complete(reqs)
    assert [c.completion_tokens for c in got] == [1, 5, 9, 5, 1]
    assert {c.meta["batch_size"] for c in got} == {2, 1}  # grouped by max_new_tokens


def test_sampling_is_seeded(tiny_model):
    backend = create_backend("transformers", model=str(tiny_model), device="cpu", dtype="float32")
    a = backend.complete(requests(n_tokens=8, temperature=1.0, seed=1))
    b = backend.complete(requests(n_tokens=8, temperature=1.0, seed=1))
    c = backend.complete(requests(n_tokens=8, temperature=1.0, seed=2))
    assert [x.text for x in a] == [x.text for x in b]
    assert [x.text for x in a] != [x.text for x in c]


def test_model_id_is_stable_and_content_based(tiny_model, tmp_path):
    import shutil

    a = create_backend("transformers", model=str(tiny_model), device="cpu", dtype="float32").model_id
    assert a == create_backend("transformers", model=str(tiny_model), device="cpu", dtype="float32").model_id
    copy = shutil.copytree(tiny_model, tmp_path / tiny_model.name)
    assert create_backend("transformers", model=str(copy)).model_id == a
    (copy / "config.json").write_text((copy / "config.json").read_text().replace("32", "33", 1))
    assert create_backend("transformers", model=str(copy)).model_id != a
    assert create_backend("transformers").model_id.startswith("HuggingFaceTB/SmolLM2-135M-Instruct")
    assert create_backend("transformers", model=str(tiny_model), dtype="auto").model_id == a
    assert create_backend("transformers", model=str(tiny_model), dtype="bfloat16").model_id == a + "@bfloat16"


def test_bad_model_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="Cannot load model"):
        create_backend("transformers", model=str(tmp_path)).complete([Request.chat(("user", "x"))])
    with pytest.raises(UserError, match="batch_size"):
        create_backend("transformers", batch_size=0)
    with pytest.raises(UserError, match="Unknown option.*bacth_size"):
        create_backend("transformers", bacth_size=4)
    assert create_backend("transformers", max_concurrency=4, revision="main").options == {"revision": "main"}


@pytest.mark.slow
def test_default_smollm2_converts_once_and_generates(gguf_path, tmp_path, monkeypatch):
    from solid_bench.llm.local_models import default_model_path

    monkeypatch.setenv("SOLID_BENCH_HOME", str(tmp_path))
    backend = create_backend("transformers", batch_size=2)
    got = backend.complete(
        [
            Request.chat(("user", "What is the capital of France?"), max_new_tokens=8),
            Request.chat(("user", "Say hello."), max_new_tokens=4),
        ]
    )
    folder = tmp_path / "models" / "smollm2-135m-instruct"
    assert default_model_path() == folder and (folder / "config.json").is_file()
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["smollm2-135m-instruct"]  # no temp left
    assert "Paris" in got[0].text
    assert 1 <= got[0].completion_tokens <= 8 and 1 <= got[1].completion_tokens <= 4
    assert got[0].prompt_tokens > 10
    backend.close()
