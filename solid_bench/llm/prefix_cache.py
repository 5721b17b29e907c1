"""Prompt key/value states kept across calls, so a prompt that starts like an earlier one is prefilled
only from where they differ (the transformers backend's own decoding loop, :mod:`.fast_decode`).

Why: consecutive turn prompts of one SOLID dialog share their prefix (system prompt, seed,
background, history); only the newest utterance and the next instruction are new, and on a CPU
prefill is most of a turn's cost.

Contract: :meth:`PrefixCache.longest` returns the longest cached prefix of a token sequence and its
key/value states; :meth:`PrefixCache.insert` stores a prefilled prompt's states. Keys/values of one
prompt are one tensor ``[layers, 2, kv_heads, tokens, head_dim]`` (2 = keys, values; batch axis
dropped), post-RoPE, at positions 0.. of the prompt: a prefix's states do not depend on what comes
after it (causal attention), so they are valid for any prompt that starts with the same tokens.

Layout: a trie of token blocks of ``block`` tokens; a node holds its block's states. Prompts that
share a prefix share its nodes, so a dialog's turns cost memory once for their common part. A
prompt's last block may be shorter (a leaf), and a match may end inside a block (its first tokens
are used), so the match is exact to the token. Memory is bounded by ``budget_bytes``: after an
insert, least recently used leaves are dropped until the states fit (parents are touched with
their children, so a parent is never older than its children).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


@dataclass(eq=False)
class _Node:
    tokens: tuple[int, ...]
    kv: object  # torch.Tensor [layers, 2, kv_heads, len(tokens), head_dim]; None at the root
    parent: _Node | None
    children: dict[tuple[int, ...], _Node] = field(default_factory=dict)
    used: int = 0


def _common(a: Sequence[int], b: Sequence[int]) -> int:
    """Length of the common prefix of two token sequences."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


class PrefixCache:
    """LRU cache of prompt key/value states keyed by token ids (a trie of token blocks)."""

    def __init__(self, budget_bytes: int, block: int = 32):
        if block < 1:
            raise ValueError("block must be at least 1")
        self.budget_bytes, self.block = int(budget_bytes), int(block)
        self._root = _Node((), None, None)
        self._leaves: set[_Node] = set()
        self._clock = 0
        self.bytes = 0  # bytes of key/value states held

    def __len__(self) -> int:
        """Cached tokens (a token shared by several prompts counts once)."""
        return self._count(self._root)

    def _count(self, node: _Node) -> int:
        return len(node.tokens) + sum(self._count(c) for c in node.children.values())

    def _touch(self, node: _Node) -> None:
        self._clock += 1
        while node is not None:
            node.used = self._clock
            node = node.parent

    def longest(self, ids: Sequence[int], limit: int | None = None):
        """``(n, kv)``: the longest cached prefix of ``ids`` (at most ``limit`` tokens) and its states
        ``[layers, 2, kv_heads, n, head_dim]`` as a new tensor; ``(0, None)`` when nothing matches."""
        import torch

        limit = len(ids) if limit is None else min(limit, len(ids))
        node, n, pieces = self._root, 0, []
        while n < limit:
            want = tuple(ids[n : min(limit, n + self.block)])
            child = node.children.get(want) if len(want) == self.block else None
            if child is not None:
                node, n = child, n + self.block
                pieces.append(child.kv)
                continue
            best, best_n = None, 0  # the match ends inside one of the children
            for c in node.children.values():
                k = _common(c.tokens, want)
                if k > best_n:
                    best, best_n = c, k
            if best is not None:
                node, n = best, n + best_n
                pieces.append(best.kv[:, :, :, :best_n])
            break
        if not n:
            return 0, None
        self._touch(node)
        return n, torch.cat(pieces, dim=3)

    def insert(self, ids: Sequence[int], states: Callable[[int, int], object]) -> None:
        """Store a prompt's states; ``states(start, end)`` returns a new tensor ``[layers, 2, kv_heads,
        end - start, head_dim]`` for its tokens ``start:end`` (called only for blocks not yet cached)."""
        if self.budget_bytes <= 0:
            return
        node = self._root
        for start in range(0, len(ids), self.block):
            want = tuple(ids[start : start + self.block])
            child = node.children.get(want)
            if child is None:
                longer = next((c for c in node.children.values()
                               if len(c.tokens) > len(want) and c.tokens[: len(want)] == want), None)
                if longer is not None:  # a shorter last block already held by a full one
                    node = longer
                    break
                child = self._add(node, want, states(start, start + len(want)))
            node = child
        self._touch(node)
        self._evict()

    def _add(self, parent: _Node, tokens: tuple[int, ...], kv) -> _Node:
        for c in [c for c in parent.children.values() if not c.children and len(c.tokens) < len(tokens)
                  and tokens[: len(c.tokens)] == c.tokens]:
            self._drop(c)  # a shorter leaf this block covers
        child = _Node(tokens, kv, parent)
        parent.children[tokens] = child
        self._leaves.discard(parent)
        self._leaves.add(child)
        self.bytes += kv.numel() * kv.element_size()
        return child

    def _drop(self, leaf: _Node) -> None:
        parent = leaf.parent
        del parent.children[leaf.tokens]
        self._leaves.discard(leaf)
        self.bytes -= leaf.kv.numel() * leaf.kv.element_size()
        if parent is not self._root and not parent.children:
            self._leaves.add(parent)

    def _evict(self) -> None:
        while self.bytes > self.budget_bytes and self._leaves:
            self._drop(min(self._leaves, key=lambda node: node.used))
