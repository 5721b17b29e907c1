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


@pytest.mark.parametrize("length,past", [(5, 3), (130, 200), (300, 1)])
def test_causal_prefill_over_cached_keys_equals_sdpa(length, past):
    """Queries after ``past`` cached keys, with the lower-right causal mask transformers builds for them."""
    from solid_bench.llm.fast_decode import _plain_causal, grouped_attention

    gen = torch.Generator().manual_seed(length + past)
    q = torch.randn(1, 6, length, 8, generator=gen)
    k, v = (torch.randn(1, 2, past + length, 8, generator=gen) for _ in range(2))
    mask = torch.ones(length, past + length, dtype=torch.bool).tril(past).view(1, 1, length, past + length)
    assert _plain_causal(mask, 1, length, past + length)
    module = _Module()
    module.num_key_value_groups = 3
    got, _ = grouped_attention(module, q, k, v, mask, scaling=0.4)
    ref = torch.nn.functional.scaled_dot_product_attention(
        q, k.repeat_interleave(3, 1), v.repeat_interleave(3, 1), attn_mask=mask, scale=0.4)
    torch.testing.assert_close(got, ref.transpose(1, 2), rtol=1e-5, atol=1e-5)


def test_only_the_plain_causal_mask_takes_the_block_path():
    from solid_bench.llm.fast_decode import _plain_causal

    lower_right = torch.ones(3, 5, dtype=torch.bool).tril(2).view(1, 1, 3, 5)
    assert _plain_causal(None, 2, 4, 4) and not _plain_causal(None, 2, 3, 5)
    assert _plain_causal(lower_right, 1, 3, 5) and _plain_causal(lower_right.expand(2, 1, 3, 5), 2, 3, 5)
    padded = lower_right.expand(2, 1, 3, 5).clone()
    padded[1, ..., 0] = False
    assert not _plain_causal(padded, 2, 3, 5)
    assert not _plain_causal(torch.ones(3, 5, dtype=torch.bool).tril().view(1, 1, 3, 5), 1, 3, 5)  # upper-left
    assert not _plain_causal(lower_right.float(), 1, 3, 5) and not _plain_causal(lower_right, 1, 3, 6)


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
    assert sample_next(logits, Decoding(max_new_tokens=1), [gen, gen]).tolist() == [0, 3]
    seen = [set(), set()]
    for _ in range(400):
        for row, token in enumerate(sample_next(logits, Decoding(1, temperature=1.0, top_p=0.8), [gen, gen]).tolist()):
            seen[row].add(token)
    assert seen == [{0, 1}, {3, 2}]  # 0.5 + 0.3 reaches 0.8: the 0.15 and 0.05 tokens never come
    seen = set()
    for _ in range(400):
        seen.add(sample_next(logits[:1], Decoding(1, temperature=1.0, top_p=0.5), [gen]).item())
    assert seen == {0}  # the top token alone reaches 0.5


def test_each_row_draws_from_its_own_generator():
    """Row i's token is the inverse CDF of its own generator's next uniform number."""
    from solid_bench.llm.fast_decode import Decoding, sample_next

    probs = torch.tensor([[0.25, 0.25, 0.25, 0.25]] * 3)
    gens = [torch.Generator().manual_seed(s) for s in (1, 2, 1)]
    got = sample_next(probs.log(), Decoding(1, temperature=1.0), gens).tolist()
    expected = [int(torch.rand(1, generator=torch.Generator().manual_seed(s)).item() // 0.25) for s in (1, 2, 1)]
    assert got == expected and got[0] == got[2]


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


def _seeded(seeds, temperature, n_tokens=8):
    return [Request.chat(("system", "be brief"), ("user", QUESTIONS[0]), max_new_tokens=n_tokens,
                         temperature=temperature, seed=s) for s in seeds]


@pytest.mark.parametrize("temperature", [0.0, 1.0])
def test_a_request_gives_the_same_text_alone_and_in_a_batch_of_other_seeds(tiny_model, prefill_mode, temperature):
    fast, _ = _pair(tiny_model, batch_size=8, prefix_cache_mb=0)
    reqs = [Request.chat(("system", "be brief"), ("user", q), max_new_tokens=10, temperature=temperature, seed=7 + i)
            for i, q in enumerate(QUESTIONS)]
    batched = fast.complete(reqs)
    assert {c.meta["batch_size"] for c in batched} == {5}  # one batch although the seeds differ
    assert [c.text for c in batched] == [fast.complete([r])[0].text for r in reqs]


def test_two_seeds_in_one_batch_behave_like_two_calls(tiny_model, prefill_mode):
    fast, plain = _pair(tiny_model, batch_size=8, prefix_cache_mb=0)
    both = fast.complete(_seeded([1, 2], 1.0))
    alone = [fast.complete(_seeded([s], 1.0))[0] for s in (1, 2)]
    assert [c.meta["batch_size"] for c in both] == [2, 2]
    assert [c.text for c in both] == [c.text for c in alone]
    assert both[0].text != both[1].text
    # generate has one random stream per call: it keeps one seed per batch
    assert [c.meta["batch_size"] for c in plain.complete(_seeded([1, 2], 1.0))] == [1, 1]


def _dialog_turns(n_turns=4):
    """Requests like a dialog's turns: each prompt is the previous one plus a reply and a new message."""
    history, out = [("system", "be brief. " + QUESTIONS[2])], []
    for t in range(n_turns):
        history.append(("user", QUESTIONS[t % len(QUESTIONS)]))
        out.append(Request.chat(*history, max_new_tokens=10))
        history.append(("assistant", QUESTIONS[(t + 3) % len(QUESTIONS)]))
    return out


def _common(a, b) -> int:
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def test_prefix_reuse_gives_the_same_greedy_text_and_meters_every_prompt_token(tiny_model):
    reuse, _ = _pair(tiny_model, batch_size=8)
    off, _ = _pair(tiny_model, batch_size=8, prefix_cache_mb=0)
    turns = _dialog_turns()
    got = [reuse.complete([r])[0] for r in turns]  # one call per turn, as a dialog goes
    ref = [off.complete([r])[0] for r in turns]
    assert [c.text for c in got] == [c.text for c in ref]
    assert [c.prompt_tokens for c in got] == [c.prompt_tokens for c in ref]
    _, tok = reuse.load()
    ids = [tok(tok.apply_chat_template(r.as_openai_messages(), add_generation_prompt=True, tokenize=False),
               add_special_tokens=False)["input_ids"] for r in turns]
    expected = [0] + [_common(ids[t], ids[t - 1]) for t in range(1, len(ids))]
    assert all(n > 10 for n in expected[1:])
    assert [c.meta["reused_prompt_tokens"] for c in got] == expected
    assert [c.meta["prefilled_tokens"] for c in got] == [len(x) - n for x, n in zip(ids, expected)]
    assert [c.meta["reused_prompt_tokens"] for c in ref] == [0] * len(turns)
    assert [c.meta["prefilled_tokens"] for c in ref] == [c.prompt_tokens for c in ref]
    again = reuse.complete([turns[-1]])[0]  # the same prompt again: all but its last token come from the cache
    assert again.text == got[-1].text and again.meta["prefilled_tokens"] == 1


def test_prefix_reuse_inside_one_batch_and_sampled(tiny_model, prefill_mode):
    """Prompts prefilled alone reuse earlier rows' prefixes of the same batch; a padded batch of short
    prompts reuses nothing but fills the cache. Seeded sampling gives the same texts either way."""
    reuse, _ = _pair(tiny_model, batch_size=8)
    off, _ = _pair(tiny_model, batch_size=8, prefix_cache_mb=0)
    turns = [Request(r.messages, max_new_tokens=10, temperature=1.0, seed=3 + i) for i, r in enumerate(_dialog_turns())]
    assert max(c.prompt_tokens for c in off.complete(turns)) <= 128  # short: the padded mode pads them
    got, ref = reuse.complete(turns), off.complete(turns)
    assert [c.text for c in got] == [c.text for c in ref]
    reused = [c.meta["reused_prompt_tokens"] for c in got]
    if prefill_mode == "padded":
        assert reused == [0, 0, 0, 0]
    else:
        assert reused[0] == 0 and min(reused[1:]) > 10
    again = reuse.complete([turns[-1]])[0]
    assert again.text == got[-1].text and again.meta["prefilled_tokens"] == 1


def test_prefill_over_a_cached_prefix_equals_a_full_prefill(tiny_model, monkeypatch):
    """Logits and keys/values to tolerance, float32, prompts longer than one attention block; the
    prefill over cached keys runs the block attention (not the SDPA fallback)."""
    from transformers import AutoModelForCausalLM

    from solid_bench.llm import fast_decode
    from solid_bench.llm.fast_decode import _cache_keyword, _prefill, enable
    from solid_bench.llm.prefix_cache import PrefixCache

    shapes = []

    def blocks(query, key, *args, **kwargs):
        shapes.append((query.shape[2], key.shape[2]))
        return causal_blocks(query, key, *args, **kwargs)

    causal_blocks = fast_decode._causal_blocks
    monkeypatch.setattr(fast_decode, "_causal_blocks", blocks)
    model = AutoModelForCausalLM.from_pretrained(tiny_model, dtype=torch.float32).eval()
    assert enable(model)
    gen = torch.Generator().manual_seed(0)
    a = torch.randint(3, model.config.vocab_size, (200,), generator=gen).tolist()
    b = a[:150] + torch.randint(3, model.config.vocab_size, (60,), generator=gen).tolist()
    arg, cache = _cache_keyword(model), PrefixCache(10**8, block=16)
    with torch.inference_mode():
        _prefill(model, [a], "cpu", arg, cache)
        parts, logits, reused = _prefill(model, [b], "cpu", arg, cache)
        full_parts, full_logits, full_reused = _prefill(model, [b], "cpu", arg, None)
    assert reused == [150] and full_reused == [0]
    assert shapes == [(200, 200)] * 2 + [(60, 210)] * 2 + [(210, 210)] * 2  # a, b over a's prefix, b in full
    torch.testing.assert_close(logits, full_logits, rtol=1e-4, atol=1e-4)
    for got, ref in zip(parts[0][0].layers, full_parts[0][0].layers):
        assert got.keys.shape == ref.keys.shape == (1, 2, 210, 8)
        torch.testing.assert_close(got.keys, ref.keys, rtol=1e-4, atol=1e-4)
        torch.testing.assert_close(got.values, ref.values, rtol=1e-4, atol=1e-4)


def test_decode_loop_errors(tiny_model):
    with pytest.raises(UserError, match="Unknown decode_loop 'quick'"):
        create_backend("transformers", decode_loop="quick")
    for bad in (-1, "big", True):
        with pytest.raises(UserError, match="prefix_cache_mb must be a number of MiB"):
            create_backend("transformers", prefix_cache_mb=bad)
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
