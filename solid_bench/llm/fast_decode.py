"""A faster batched generation loop for the transformers backend (decoder-only models).

Why: on a CPU, plain ``model.generate`` on a left-padded batch spends its time where batching
does not help:

- Prefill on a padded batch computes every pad position, and PyTorch's CPU attention kernel with
  a padding mask is slow, so a prompt costs more inside a padded batch than alone.
- For one query token, that kernel is several times slower than two batched matrix products per
  key/value head group. The default cache also copies every layer's keys and values on each step
  (``torch.cat``).
- Rows that have finished (end of sequence, stop string) keep being decoded until the longest
  row of the batch is done, and ``torch.multinomial`` over a whole vocabulary is slow per step.

So :func:`generate` prefills each prompt on its own (no padding; causal attention computed block
by block, faster on a CPU than the flash kernel; prompts of at most ``PADDED_PREFILL_MAX_TOKENS``
tokens go in one padded batch instead), starting after the longest prefix whose keys/values an
optional :class:`~.prefix_cache.PrefixCache` holds from earlier prompts (consecutive turns of a
dialog share most of their prompt), copies the per-prompt caches once into one
left-padded, preallocated buffer per layer, and decodes all rows together with
:func:`grouped_attention` (registered with transformers' ``AttentionInterface`` as
``"sdpa_grouped"``; anything it does not cover goes to transformers' own SDPA function).
Finished rows leave the batch; tokens are drawn by inverse CDF.

Decoding matches the backend's ``generate`` configuration: greedy at temperature 0, else
temperature then nucleus (top-p) sampling from one generator per row, seeded with that row's seed
(a row's draws do not depend on the other rows of its batch), no top-k, no
repetition penalty; end-of-sequence tokens are suppressed for the first ``min_new_tokens`` steps;
a row stops at an end-of-sequence token or when its text contains a stop string. Greedy outputs
equal ``model.generate``'s on a float32 model (tests/llm/test_fast_decode.py).

Only models that take ``position_ids`` and ``logits_to_keep``, use transformers' attention
interface with SDPA, and have full attention in every layer use this loop (:func:`supported`);
others (sliding windows, linear attention, encoder-decoders) keep ``model.generate``.
``benchmarks/llm_throughput.py`` times this loop against plain ``model.generate``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple

NAME = "sdpa_grouped"


def grouped_attention(module, query, key, value, attention_mask, dropout: float = 0.0,
                      scaling: float | None = None, is_causal: bool | None = None, **kwargs):
    """Attention in transformers' functional layout: query ``[B, H, q, D]``, key/value ``[B, KVH, k, D]``;
    returns ``([B, q, H, D], None)``. Own paths for a single query token (decoding) and for an unpadded
    causal prefill, with or without cached keys before the queries (prefix reuse); anything else goes to
    transformers' SDPA function."""
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    batch, heads, q_len, dim = query.shape
    kv_heads, k_len = key.shape[1], key.shape[2]
    plain = (not dropout and kwargs.get("softcap") is None and kwargs.get("position_bias") is None
             and kwargs.get("s_aux") is None and not heads % kv_heads and value.shape[-1] == dim
             and key.shape[0] == batch)
    scale = dim ** -0.5 if scaling is None else scaling
    if plain and q_len == 1:
        return _single_query(query, key, value, attention_mask, scale), None
    causal = is_causal if is_causal is not None else getattr(module, "is_causal", True)
    if plain and causal and _plain_causal(attention_mask, batch, q_len, k_len):
        return _causal_blocks(query, key, value, scale), None
    return sdpa_attention_forward(module, query, key, value, attention_mask, dropout=dropout,
                                  scaling=scaling, is_causal=is_causal, **kwargs)


def _single_query(query, key, value, attention_mask, scale: float):
    """One query token per row: two matrix products per key/value head (its query heads stacked)."""
    import torch

    batch, heads, _, dim = query.shape
    kv_heads = key.shape[1]
    group = heads // kv_heads
    q = query.reshape(batch, kv_heads, group, dim)  # a group's queries share one key/value head
    scores = torch.matmul(q, key.transpose(-1, -2)).float() * scale  # [B, KVH, G, k]
    if attention_mask is not None:
        mask = attention_mask[:, :, -1:, -key.shape[2]:]  # [B or 1, 1 or H, 1, k]
        if mask.shape[1] != 1:
            mask = mask.reshape(mask.shape[0], kv_heads, group, mask.shape[-1])
        scores = scores.masked_fill(~mask, float("-inf")) if mask.dtype == torch.bool else scores + mask.float()
    probs = torch.softmax(scores, dim=-1).to(value.dtype)
    out = torch.matmul(probs, value)  # [B, KVH, G, D]
    return out.reshape(batch, heads, 1, dim).transpose(1, 2).contiguous()


def _plain_causal(attention_mask, batch: int, q_len: int, k_len: int) -> bool:
    """True when ``attention_mask`` only says "causal, queries are the last ``q_len`` of ``k_len`` keys".

    Without cached keys transformers passes None (SDPA's own ``is_causal``); with cached keys before
    the queries it builds this boolean mask (lower-right aligned), which :func:`_causal_blocks`
    applies without reading it. Anything else (padding, other patterns) returns False."""
    import torch

    if attention_mask is None:
        return k_len == q_len
    if (attention_mask.dtype != torch.bool or k_len < q_len or attention_mask.dim() != 4
            or attention_mask.shape[0] not in (1, batch) or tuple(attention_mask.shape[1:]) != (1, q_len, k_len)):
        return False
    causal = torch.ones(q_len, k_len, dtype=torch.bool, device=attention_mask.device).tril(k_len - q_len)
    return torch.equal(attention_mask, causal.expand_as(attention_mask))


def _causal_blocks(query, key, value, scale: float, block: int = 128):
    """Causal attention without padding, in query blocks of ``block`` tokens; the queries are the last
    ``q`` of the ``k`` keys (``k > q`` when earlier keys come from a cache). A block only looks at the keys
    up to its end, so about half of the score matrix is never computed. On one CPU thread this is ~3x
    faster than PyTorch's CPU flash kernel for 200-500 tokens (bf16, 9 query / 3 key heads)."""
    import torch

    batch, heads, length, dim = query.shape
    kv_heads, k_len = key.shape[1], key.shape[2]
    group, rows, past = heads // kv_heads, batch * kv_heads, k_len - length
    q = query.reshape(rows, group, length, dim)
    k = key.reshape(rows, k_len, dim)
    v = value.reshape(rows, k_len, dim)
    out = query.new_empty(rows, group, length, dim)
    for start in range(0, length, block):
        end = min(length, start + block)
        n, seen = end - start, past + end
        future = torch.ones(n, seen, dtype=torch.bool, device=query.device).triu(past + start + 1)  # key after query
        scores = torch.bmm(q[:, :, start:end].reshape(rows, group * n, dim), k[:, :seen].transpose(1, 2)).float()
        scores = scores.view(rows, group, n, seen).mul_(scale).masked_fill_(future, float("-inf"))
        probs = torch.softmax(scores, dim=-1).to(value.dtype).view(rows, group * n, seen)
        out[:, :, start:end] = torch.bmm(probs, v[:, :seen]).view(rows, group, n, dim)
    return out.view(batch, heads, length, dim).transpose(1, 2).contiguous()


@functools.cache
def register() -> str:
    """Register the attention function (with the SDPA mask builder) in transformers, once; return its name."""
    from transformers import AttentionInterface
    from transformers.masking_utils import ALL_MASK_ATTENTION_FUNCTIONS, sdpa_mask

    AttentionInterface.register(NAME, grouped_attention)
    ALL_MASK_ATTENTION_FUNCTIONS.register(NAME, sdpa_mask)
    return NAME


def _cache_keyword(model) -> str | None:
    """The forward's name for the key/value cache (transformers 5.x renamed past_key_values to cache)."""
    params = inspect.signature(model.forward).parameters
    return next((name for name in ("cache", "past_key_values") if name in params), None)


def supported(model) -> bool:
    """True when :func:`generate` can run ``model``: a decoder-only model on transformers' attention
    interface (SDPA or this module's), full attention in every layer, ``position_ids`` and
    ``logits_to_keep`` in its forward."""
    config = model.config
    if getattr(config, "is_encoder_decoder", False) or config._attn_implementation not in ("sdpa", NAME):
        return False
    if not getattr(model, "_supports_attention_backend", False):
        return False
    params = set(inspect.signature(model.forward).parameters)
    if not {"position_ids", "logits_to_keep", "attention_mask"} <= params or _cache_keyword(model) is None:
        return False
    text = config.get_text_config(decoder=True)
    layer_types = getattr(text, "layer_types", None)
    if layer_types is not None and any(t != "full_attention" for t in layer_types):
        return False
    return not (getattr(text, "sliding_window", None) and getattr(text, "use_sliding_window", True))


def enable(model) -> bool:
    """Switch ``model`` to :func:`grouped_attention` when :func:`supported`; True if it did."""
    if not supported(model):
        return False
    if model.config._attn_implementation != NAME:
        model.set_attn_implementation(register())
    return True


@contextmanager
def stock_attention(model):
    """Within the block ``model`` runs transformers' own SDPA attention (benchmarks: "raw generate")."""
    current = model.config._attn_implementation
    if current == NAME:
        model.set_attn_implementation("sdpa")
    try:
        yield model
    finally:
        if current == NAME:
            model.set_attn_implementation(NAME)


@dataclass(frozen=True)
class Decoding:
    """What :func:`generate` needs to know about decoding (the backend's GenerationConfig, in short);
    the sampling seeds are per row, given to :func:`generate` beside it."""

    max_new_tokens: int
    min_new_tokens: int = 0
    temperature: float = 0.0
    top_p: float = 1.0
    eos_ids: tuple[int, ...] = ()
    stop: tuple[str, ...] = ()


def sample_next(logits, decoding: Decoding, generators: Sequence):
    """Next token per row from float logits ``[B, V]``: argmax at temperature 0, else temperature
    scaling, the smallest set of tokens whose probability reaches ``top_p``, and a draw with row ``i``'s
    own ``generators[i]`` (so a row's draws do not depend on the other rows of its batch)."""
    import torch

    if decoding.temperature <= 0:
        return logits.argmax(dim=-1)
    logits = logits / decoding.temperature
    if decoding.top_p < 1.0:
        sorted_logits, order = torch.sort(logits, descending=True)
        probs = torch.softmax(sorted_logits, dim=-1)
        drop = probs.cumsum(dim=-1) - probs >= decoding.top_p  # mass before this token already reaches top_p
        drop[:, 0] = False
        logits = logits.scatter(1, order, sorted_logits.masked_fill(drop, float("-inf")))
    # inverse-CDF draw: one uniform number per row (torch.multinomial took 23 ms per step for 30 rows of
    # a 49k vocabulary on one CPU thread, this 2 ms)
    cdf = torch.softmax(logits, dim=-1).cumsum(dim=-1)
    u = torch.cat([torch.rand(1, generator=g, device=cdf.device) for g in generators]).unsqueeze(1) * cdf[:, -1:]
    return torch.searchsorted(cdf, u).squeeze(1).clamp(max=cdf.shape[1] - 1)


@functools.cache
def _buffer_layer_class():
    """A cache layer over a preallocated, contiguous key/value buffer (built lazily: transformers is heavy)."""
    from transformers.cache_utils import DynamicLayer

    class BufferLayer(DynamicLayer):
        """Keys/values of a whole batch in one ``[B, KVH, capacity, D]`` buffer, filled up to ``n``.

        ``update`` writes the new step in place and returns the whole buffer, so attention reads one
        contiguous tensor and nothing is copied per step (``DynamicLayer`` concatenates, which copies
        the cache on every step). Slots past ``n`` are masked by the 2D attention mask, which
        covers the full capacity (``get_mask_sizes``)."""

        def __init__(self, keys, values, filled: int):
            super().__init__()
            self.keys, self.values, self.n = keys, values, filled
            self.device, self.is_initialized = keys.device, True

        def update(self, key_states, value_states, *args, **kwargs):
            add = key_states.shape[-2]
            if self.n + add > self.keys.shape[-2]:
                raise RuntimeError("the decode buffer is full (capacity was sized for max_new_tokens)")
            self.keys[:, :, self.n : self.n + add] = key_states
            self.values[:, :, self.n : self.n + add] = value_states
            self.n += add
            return self.keys, self.values

        def get_seq_length(self) -> int:
            return self.n

        def get_mask_sizes(self, query_length: int) -> tuple[int, int]:
            return self.keys.shape[-2], 0

        def get_max_length(self) -> int:
            return self.keys.shape[-2]

        def batch_select_indices(self, indices) -> None:
            self.keys, self.values = self.keys[indices], self.values[indices]

    return BufferLayer


def _merge_caches(parts, lengths: list[int], capacity: int):
    """One cache for the batch: the prefilled parts ``(cache, rows, width)``, each row's keys/values
    right-aligned in its part, copied left-padded into buffers of ``capacity`` slots."""
    from transformers import DynamicCache

    buffer_layer = _buffer_layer_class()
    longest, layers = max(lengths), []
    for layer in range(len(parts[0][0].layers)):
        k0, v0 = parts[0][0].layers[layer].keys, parts[0][0].layers[layer].values
        keys = k0.new_zeros(len(lengths), k0.shape[1], capacity, k0.shape[3])
        values = v0.new_zeros(len(lengths), v0.shape[1], capacity, v0.shape[3])
        for part, rows, width in parts:
            for j, row in enumerate(rows):
                n = lengths[row]
                keys[row, :, longest - n : longest] = part.layers[layer].keys[j, :, width - n : width]
                values[row, :, longest - n : longest] = part.layers[layer].values[j, :, width - n : width]
        layers.append(buffer_layer(keys, values, longest))
    merged = DynamicCache()
    merged.layers = layers
    return merged


#: Prompts up to this many tokens are prefilled together in one left-padded batch: for short prompts
#: one padded forward pass is cheaper than many small ones (~30-token prompts, batch 64: 0.91 of
#: ``generate``'s speed with per-prompt prefill). Longer ones are prefilled one by one (no padding).
PADDED_PREFILL_MAX_TOKENS = 128


def _states(cache, row: int, pad: int, start: int, end: int):
    """Keys and values of a row's prompt tokens ``start:end`` (after ``pad`` left padding) as a new
    ``[layers, 2, kv_heads, n, head_dim]`` tensor (what :class:`~.prefix_cache.PrefixCache` stores)."""
    import torch

    return torch.stack([torch.stack((layer.keys[row, :, pad + start : pad + end],
                                     layer.values[row, :, pad + start : pad + end])) for layer in cache.layers])


def _prefill(model, batch_ids, device, cache_arg: str, prefix_cache=None):
    """Prefill the prompts; returns the parts ``[(cache, rows, width)]``, the last logits ``[B, V]`` and
    per row the prompt tokens taken from ``prefix_cache`` (:class:`~.prefix_cache.PrefixCache`).

    Prompts prefilled alone first look up their longest cached prefix (all but the last token at most:
    the last one's logits are needed) and compute only the rest, over the cached keys; each prompt's
    states are stored after its prefill, so a later prompt of the same batch can reuse them too."""
    import torch
    from transformers import DynamicCache

    lengths = [len(ids) for ids in batch_ids]
    longest = max(lengths)
    if len(batch_ids) > 1 and longest <= PADDED_PREFILL_MAX_TOKENS:
        ids = torch.zeros(len(batch_ids), longest, dtype=torch.long, device=device)
        mask = torch.zeros_like(ids)
        for row, prompt in enumerate(batch_ids):
            ids[row, longest - len(prompt) :] = torch.tensor(list(prompt), device=device)
            mask[row, longest - len(prompt) :] = 1
        cache = DynamicCache()
        out = model(input_ids=ids, attention_mask=mask, position_ids=(mask.cumsum(-1) - 1).clamp(min=0),
                    use_cache=True, logits_to_keep=1, **{cache_arg: cache})
        if prefix_cache is not None:
            for row, prompt in enumerate(batch_ids):
                prefix_cache.insert(prompt, functools.partial(_states, cache, row, longest - len(prompt)))
        return [(cache, list(range(len(batch_ids))), longest)], out.logits[:, -1].float(), [0] * len(batch_ids)
    parts, last, reused = [], [], []
    for row, prompt in enumerate(batch_ids):  # no padding: plain causal attention (over any reused keys)
        cache = DynamicCache()
        n, kv = prefix_cache.longest(prompt, limit=len(prompt) - 1) if prefix_cache is not None else (0, None)
        for layer in range(kv.shape[0] if n else 0):
            cache.update(kv[layer, 0].unsqueeze(0), kv[layer, 1].unsqueeze(0), layer)
        del kv
        out = model(input_ids=torch.tensor([list(prompt[n:])], device=device),
                    position_ids=torch.arange(n, len(prompt), device=device).unsqueeze(0),
                    use_cache=True, logits_to_keep=1, **{cache_arg: cache})
        if prefix_cache is not None:
            prefix_cache.insert(prompt, functools.partial(_states, cache, 0, 0))
        parts.append((cache, [row], len(prompt)))
        last.append(out.logits[0, -1].float())
        reused.append(n)
    return parts, torch.stack(last), reused


class Generated(NamedTuple):
    """What :func:`generate` returns, per prompt: generated token ids (an end-of-sequence token, when
    generated, ends its list) and how many prompt tokens came from the prefix cache."""

    tokens: list[list[int]]
    reused: list[int]


def generate(model, tokenizer, batch_ids: Sequence[Sequence[int]], decoding: Decoding, seeds: Sequence[int],
             prefix_cache=None) -> Generated:
    """Generate for each prompt; row ``i`` samples with its own generator seeded with ``seeds[i]``.

    ``model`` must be :func:`supported` (call :func:`enable` first to get the fast attention);
    ``prefix_cache`` (a :class:`~.prefix_cache.PrefixCache`, or None) is read and filled."""
    import torch

    if len(seeds) != len(batch_ids):
        raise ValueError(f"{len(seeds)} seeds for {len(batch_ids)} prompts")
    device = next(model.parameters()).device
    cache_arg = _cache_keyword(model)
    generators = [torch.Generator(device=device).manual_seed(int(seed)) for seed in seeds]
    eos = torch.tensor(sorted(set(decoding.eos_ids)), dtype=torch.long, device=device)
    outputs: list[list[int]] = [[] for _ in batch_ids]
    if decoding.max_new_tokens <= 0 or not batch_ids:
        return Generated(outputs, [0] * len(batch_ids))
    lengths = [len(ids) for ids in batch_ids]
    with torch.inference_mode():
        parts, logits, reused = _prefill(model, batch_ids, device, cache_arg, prefix_cache)
        longest = max(lengths)
        capacity = longest + decoding.max_new_tokens
        cache = _merge_caches(parts, lengths, capacity)
        del parts
        # 1 = a filled slot to attend to; left padding and the slots not yet written stay 0 (the last slot is
        # never written, so the mask is never all ones and transformers never drops it)
        mask = torch.zeros(len(batch_ids), capacity, dtype=torch.long, device=device)
        for row, n in enumerate(lengths):
            mask[row, longest - n : longest] = 1
        positions = torch.tensor(lengths, device=device)
        rows = list(range(len(batch_ids)))  # batch position -> prompt index
        for step in range(decoding.max_new_tokens):
            if step < decoding.min_new_tokens and len(eos):
                logits[:, eos] = float("-inf")
            tokens = sample_next(logits, decoding, [generators[row] for row in rows])
            finished = []
            for pos, (row, token) in enumerate(zip(rows, tokens.tolist())):
                outputs[row].append(token)
                if (token in decoding.eos_ids and step >= decoding.min_new_tokens) or (
                    decoding.stop and _hits_stop(tokenizer, outputs[row], decoding.stop)
                ):
                    finished.append(pos)
            if step + 1 == decoding.max_new_tokens:
                break
            if finished:
                done = set(finished)
                keep = [pos for pos in range(len(rows)) if pos not in done]
                if not keep:
                    break
                index = torch.tensor(keep, device=device)
                cache.batch_select_indices(index)
                mask, positions, tokens = mask[index], positions[index], tokens[index]
                rows = [rows[pos] for pos in keep]
            mask[:, longest + step] = 1
            out = model(input_ids=tokens.view(-1, 1), attention_mask=mask, position_ids=positions.view(-1, 1),
                        use_cache=True, **{cache_arg: cache})
            positions = positions + 1
            logits = out.logits[:, -1].float()
    return Generated(outputs, reused)


def _hits_stop(tokenizer, tokens: list[int], stop: tuple[str, ...]) -> bool:
    """True when the text of the last few generated tokens contains a stop string."""
    tail = tokenizer.decode(tokens[-(max(len(s) for s in stop) + 4):], skip_special_tokens=True)
    return any(s in tail for s in stop)
