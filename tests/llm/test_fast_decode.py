"""The fast decoding loop (solid_bench/llm/fast_decode.py) against transformers' own attention and generate."""

from __future__ import annotations

import pytest

from solid_bench.errors import UserError
from solid_bench.llm import Request, create_backend

torch = pytest.importorskip("torch")

QUESTIONS = ["how do i reset my outlook password", "hi", "go to settings",
             "excel crashes when i open a file, which version do you use? the quick brown fox jumps", "1, 2, 3"]


def requests(n_tokens=6, **params):
    return [Request.chat(("system", "be brief"), ("user", q), max_new_tokens=n_tokens, **params) for q in QUESTIONS]


class _Module:
    num_key_value_groups = 1
    is_causal = True


@pytest.mark.parametrize("heads,kv_heads", [(4, 4), (6, 2), (9, 3)])
@pytest.mark.parametrize("mask_kind", ["none", "bool", "float"])
def test_grouped_attention_equals_sdpa_with_repeated_heads(heads, kv_heads, mask_kind):
    from solid_bench.llm.fast_decode import grouped_attention

    gen = torch.Generator().manual_seed(heads * 10 + kv_heads)
    batch, keys, dim = 3, 11, 8
    q = torch.randn(batch, heads, 1, dim, generator=gen)
    k = torch.randn(batch, kv_heads, keys, dim, generator=gen)
    v = torch.randn(batch, kv_heads, keys, dim, generator=gen)
    allowed = torch.ones(batch, 1, 1, keys, dtype=torch.bool)
    allowed[0, ..., :4] = False  # left padding of row 0
    allowed[2, ..., :1] = False
    mask = {"none": None, "bool": allowed,
            "float": torch.zeros(batch, 1, 1, keys).masked_fill(~allowed, torch.finfo(torch.float32).min)}[mask_kind]
    module = _Module()
    module.num_key_value_groups = heads // kv_heads
    got, _ = grouped_attention(module, q, k, v, mask, scaling=0.3)
    # independent reference: repeat the key/value heads and run PyTorch's SDPA on them
    rep = heads // kv_heads
    ref = torch.nn.functional.scaled_dot_product_attention(
        q, k.repeat_interleave(rep, 1), v.repeat_interleave(rep, 1),
        attn_mask=None if mask_kind == "none" else allowed, scale=0.3)
    assert got.shape == (batch, 1, heads, dim)
    torch.testing.assert_close(got, ref.transpose(1, 2), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("length", [1, 5, 128, 300])
def test_causal_prefill_in_blocks_equals_sdpa(length):
    from solid_bench.llm.fast_decode import grouped_attention

    gen = torch.Generator().manual_seed(length)
    q, k, v = (torch.randn(2, h, length, 8, generator=gen) for h in (6, 2, 2))
    module = _Module()
    module.num_key_value_groups = 3
    got, _ = grouped_attention(module, q, k, v, None, scaling=0.4)
    ref = torch.nn.functional.scaled_dot_product_attention(
        q, k.repeat_interleave(3, 1), v.repeat_interleave(3, 1), is_causal=True, scale=0.4)
    torch.testing.assert_close(got, ref.transpose(1, 2), rtol=1e-5, atol=1e-5)


def test_masked_prefill_goes_to_transformers_sdpa():
    from solid_bench.llm.fast_decode import grouped_attention

    q, k, v = torch.randn(2, 4, 5, 8), torch.randn(2, 2, 5, 8), torch.randn(2, 2, 5, 8)
    mask = torch.ones(5, 5, dtype=torch.bool).tril().expand(2, 1, 5, 5).clone()
    mask[0, ..., :2] = False
    mask[0, 0, :2, 0] = True  # a padded row must still see something
    module = _Module()
    module.num_key_value_groups = 2
    got, _ = grouped_attention(module, q, k, v, mask)
    ref = torch.nn.functional.scaled_dot_product_attention(
        q, k.repeat_interleave(2, 1), v.repeat_interleave(2, 1), attn_mask=mask)
    torch.testing.assert_close(got, ref.transpose(1, 2), rtol=1e-5, atol=1e-5)


def test_top_p_keeps_the_smallest_nucleus_and_temperature_zero_is_argmax():
    from solid_bench.llm.fast_decode import Decoding, sample_next

    probs = torch.tensor([[0.5, 0.3, 0.15, 0.05], [0.05, 0.15, 0.3, 0.5]])
    logits = probs.log()
    gen = torch.Generator().manual_seed(0)
    assert sample_next(logits, Decoding(max_new_tokens=1), gen).tolist() == [0, 3]
    seen = [set(), set()]
    for _ in range(400):
        for row, token in enumerate(sample_next(logits, Decoding(1, temperature=1.0, top_p=0.8), gen).tolist()):
            seen[row].add(token)
    assert seen == [{0, 1}, {3, 2}]  # 0.5 + 0.3 reaches 0.8: the 0.15 and 0.05 tokens never come
    seen = set()
    for _ in range(400):
        seen.add(sample_next(logits[:1], Decoding(1, temperature=1.0, top_p=0.5), gen).item())
    assert seen == {0}  # the top token alone reaches 0.5


@pytest.fixture(params=["padded", "per-prompt"])
def prefill_mode(request, monkeypatch):
    """Run a test with short prompts prefilled in one padded batch (the default for them) and one by one."""
    from solid_bench.llm import fast_decode

    if request.param == "per-prompt":
        monkeypatch.setattr(fast_decode, "PADDED_PREFILL_MAX_TOKENS", 0)
    return request.param


def _pair(tiny_model, **kw):
    fast = create_backend("transformers", model=str(tiny_model), device="cpu", dtype="float32", decode_loop="fast", **kw)
    plain = create_backend("transformers", model=str(tiny_model), device="cpu", dtype="float32",
                           decode_loop="generate", **kw)
    return fast, plain


def test_fast_loop_is_the_cpu_default_and_equals_generate_greedy(tiny_model, prefill_mode):
    auto = create_backend("transformers", model=str(tiny_model), device="cpu", dtype="float32", batch_size=8)
    fast, plain = _pair(tiny_model, batch_size=8)
    reqs = requests(n_tokens=12)
    got, ref = fast.complete(reqs), plain.complete(reqs)
    assert {c.meta["decode_loop"] for c in auto.complete(reqs)} == {"fast"}
    assert {c.meta["decode_loop"] for c in ref} == {"generate"}
    assert [c.text for c in got] == [c.text for c in ref]
    assert [c.completion_tokens for c in got] == [c.completion_tokens for c in ref]
    assert [c.finish_reason for c in got] == [c.finish_reason for c in ref]
    assert [c.prompt_tokens for c in got] == [c.prompt_tokens for c in ref]


def test_fast_loop_stop_strings_and_ignore_eos_equal_generate(tiny_model, prefill_mode):
    fast, plain = _pair(tiny_model, batch_size=8)
    texts = [c.text for c in plain.complete(requests(n_tokens=12)) if len(c.text) >= 6]
    assert texts, "the tiny model produced no text long enough to test stop strings"
    reqs = requests(n_tokens=12, stop=(texts[0][3:5],))
    assert [c.text for c in fast.complete(reqs)] == [c.text for c in plain.complete(reqs)]
    fast, plain = _pair(tiny_model, ignore_eos=True)
    reqs = [Request.chat(("user", q), max_new_tokens=n) for q, n in zip(QUESTIONS, [1, 5, 9, 5, 1])]
    got, ref = fast.complete(reqs), plain.complete(reqs)
    assert [c.completion_tokens for c in got] == [1, 5, 9, 5, 1]
    assert [c.text for c in got] == [c.text for c in ref]


def test_fast_loop_rows_that_finish_early_leave_the_others_unchanged(tiny_model, prefill_mode):
    """A batch where rows stop at different steps gives each row what it gets alone."""
    fast, _ = _pair(tiny_model, batch_size=8)
    reqs = requests(n_tokens=30)
    batched = fast.complete(reqs)
    assert len({c.completion_tokens for c in batched}) > 1, "rows should finish at different steps"
    single = [fast.complete([r])[0] for r in reqs]
    assert [c.text for c in batched] == [c.text for c in single]


def test_fast_loop_sampling_is_seeded(tiny_model, prefill_mode):
    fast, _ = _pair(tiny_model)
    a = fast.complete(requests(n_tokens=8, temperature=1.0, seed=1))
    b = fast.complete(requests(n_tokens=8, temperature=1.0, seed=1))
    c = fast.complete(requests(n_tokens=8, temperature=1.0, seed=2))
    assert [x.text for x in a] == [x.text for x in b]
    assert [x.text for x in a] != [x.text for x in c]


def test_decode_loop_errors(tiny_model):
    with pytest.raises(UserError, match="Unknown decode_loop 'quick'"):
        create_backend("transformers", decode_loop="quick")
    eager = create_backend("transformers", model=str(tiny_model), device="cpu", dtype="float32",
                           decode_loop="fast", attn_implementation="eager")
    with pytest.raises(UserError, match="decode_loop='fast' does not support"):
        eager.complete([Request.chat(("user", "hi"))])
    auto = create_backend("transformers", model=str(tiny_model), device="cpu", dtype="float32",
                          attn_implementation="eager")
    assert auto.complete([Request.chat(("user", "hi"), max_new_tokens=2)])[0].meta["decode_loop"] == "generate"


def test_stock_attention_switches_back(tiny_model):
    from solid_bench.llm.fast_decode import NAME, stock_attention

    fast, _ = _pair(tiny_model)
    model, _ = fast.load()
    assert model.config._attn_implementation == NAME
    with stock_attention(model):
        assert model.config._attn_implementation == "sdpa"
    assert model.config._attn_implementation == NAME
