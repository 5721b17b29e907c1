"""The prefix cache (solid_bench/llm/prefix_cache.py) on hand-made states: matches, sharing, memory, LRU."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

#: One state tensor per token: [layers=2, 2, kv_heads=1, tokens, head_dim=1] float32 = 16 bytes per token.
BYTES_PER_TOKEN = 2 * 2 * 1 * 1 * 4


class Prompt:
    """Token ids and states whose values say which prompt and position they came from (1000 * tag + pos)."""

    def __init__(self, ids, tag: int):
        self.ids, self.tag, self.calls = list(ids), tag, []

    def states(self, start: int, end: int):
        self.calls.append((start, end))
        pos = torch.arange(start, end, dtype=torch.float32) + 1000 * self.tag
        return pos.view(1, 1, 1, -1, 1).expand(2, 2, 1, -1, 1).clone()


def values(kv) -> list[int]:
    """The per-token values of states built by :class:`Prompt` (all layers/heads agree)."""
    assert torch.equal(kv, kv[:1, :1].expand_as(kv))
    return kv[0, 0, 0, :, 0].int().tolist()


def test_longest_prefix_is_exact_to_the_token_and_only_new_blocks_are_stored():
    from solid_bench.llm.prefix_cache import PrefixCache

    cache = PrefixCache(budget_bytes=10**6, block=32)
    a = Prompt(range(70), tag=1)  # blocks 0:32, 32:64, 64:70
    cache.insert(a.ids, a.states)
    assert a.calls == [(0, 32), (32, 64), (64, 70)]
    assert cache.bytes == 70 * BYTES_PER_TOKEN and len(cache) == 70
    n, kv = cache.longest(a.ids, limit=69)  # all but the last token
    assert n == 69 and values(kv) == [1000 + p for p in range(69)]
    b = Prompt(list(range(40)) + [900, 901] + list(range(42, 80)), tag=2)  # differs from a at position 40
    n, kv = cache.longest(b.ids)
    assert n == 40 and values(kv) == [1000 + p for p in range(40)]
    cache.insert(b.ids, b.states)
    assert b.calls == [(32, 64), (64, 80)]  # block 0:32 is shared; 32:64 differs from a's
    assert cache.bytes == (70 + 48) * BYTES_PER_TOKEN and len(cache) == 118
    n, kv = cache.longest(b.ids + [5])
    assert n == 80 and values(kv) == [1000 + p for p in range(32)] + [2000 + p for p in range(32, 80)]
    assert cache.longest([7, 7, 7]) == (0, None)
    assert cache.longest(a.ids, limit=0) == (0, None)


def test_a_shorter_last_block_is_replaced_by_a_full_one_and_never_stored_twice():
    from solid_bench.llm.prefix_cache import PrefixCache

    cache = PrefixCache(budget_bytes=10**6, block=32)
    short = Prompt(range(40), tag=1)  # 32 + a last block of 8
    cache.insert(short.ids, short.states)
    assert cache.bytes == 40 * BYTES_PER_TOKEN
    long = Prompt(range(64), tag=2)
    cache.insert(long.ids, long.states)
    assert long.calls == [(32, 64)]
    assert cache.bytes == 64 * BYTES_PER_TOKEN  # the 8-token leaf was dropped: the new block holds it
    again = Prompt(range(40), tag=3)
    cache.insert(again.ids, again.states)
    assert again.calls == [] and cache.bytes == 64 * BYTES_PER_TOKEN
    n, kv = cache.longest(range(40))
    assert n == 40 and values(kv) == [1000 + p for p in range(32)] + [2000 + p for p in range(32, 40)]


def test_least_recently_used_leaves_go_first_and_shared_blocks_stay():
    from solid_bench.llm.prefix_cache import PrefixCache

    block = 4
    cache = PrefixCache(budget_bytes=18 * BYTES_PER_TOKEN, block=block)
    shared = list(range(8))
    a, b, c = (Prompt(shared + [100 * t + i for i in range(4)], tag=t) for t in (1, 2, 3))
    cache.insert(a.ids, a.states)
    cache.insert(b.ids, b.states)
    assert cache.bytes == 16 * BYTES_PER_TOKEN
    assert cache.longest(a.ids)[0] == 12  # a is now more recent than b
    cache.insert(c.ids, c.states)  # 20 tokens > 18: b's own block (the least recently used leaf) goes
    assert cache.bytes == 16 * BYTES_PER_TOKEN
    assert cache.longest(b.ids)[0] == 8  # only the shared part is left of b
    assert cache.longest(a.ids)[0] == 12 and cache.longest(c.ids)[0] == 12
    tiny = PrefixCache(budget_bytes=6 * BYTES_PER_TOKEN, block=block)
    tiny.insert(a.ids, a.states)  # larger than the budget: its last blocks go, leaf by leaf
    assert tiny.bytes == 4 * BYTES_PER_TOKEN and tiny.longest(a.ids)[0] == 4


def test_zero_budget_stores_nothing():
    from solid_bench.llm.prefix_cache import PrefixCache

    cache = PrefixCache(budget_bytes=0)
    p = Prompt(range(50), tag=1)
    cache.insert(p.ids, p.states)
    assert p.calls == [] and cache.bytes == 0 and cache.longest(p.ids) == (0, None)
