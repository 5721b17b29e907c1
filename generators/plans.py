"""Dialog plans: a seed plus a (role, intents) sequence sampled whole from human TRAINING dialogs.

Sampling whole sequences keeps the dialog length and the label-combination frequencies of the
human train split. Plan ``i`` depends only on (seed, i), so a larger ``n`` extends a run without
changing its first plans. Also: combination distributions and their total variation distance.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

from solid_bench.errors import UserError
from solid_bench.schema import Dialog, Seed, join_labels

Turn = tuple[str, tuple[str, ...]]  # (role, intents)


@dataclass(frozen=True)
class DialogPlan:
    """What one synthetic dialog must be: its id, seed and (role, intents) per utterance."""

    plan_id: str
    seed: Seed
    turns: tuple[Turn, ...]

    @property
    def n_turns(self) -> int:
        """Number of utterances the dialog must have."""
        return len(self.turns)


def sequence_of(dialog: Dialog) -> tuple[Turn, ...]:
    """The (role, sorted intents) sequence of a dialog."""
    return tuple((u.role, tuple(sorted(u.intents))) for u in dialog.utterances)


def sequence_pool(train, max_turns: int | None = None, min_count: int = 1) -> list[tuple[Turn, ...]]:
    """Sequences of the train corpus that pass the filters (at most ``max_turns`` utterances; every
    combination seen at least ``min_count`` times in the corpus). ``train`` is a Corpus of the
    TRAIN split: plans never look at validation or test dialogs."""
    if getattr(train, "split", "train") != "train":
        raise UserError(f"Intent sequences must come from a train split, not {train.split!r}.")
    counts = combination_counts(train.dialogs)
    pool = []
    for d in train.dialogs:
        seq = sequence_of(d)
        if max_turns is not None and len(seq) > max_turns:
            continue
        if any(counts[join_labels(i)] < min_count for _, i in seq):
            continue
        pool.append(seq)
    if not pool:
        raise UserError("No human training dialog passes --max-turns / --min-count; loosen them.")
    return pool


def iter_plans(seeds: Sequence[Seed], pool: Sequence[tuple[Turn, ...]], n: int, seed: int = 0,
               prefix: str = "plan") -> Iterator[DialogPlan]:
    """``n`` plans, made one at a time (memory does not grow with ``n``): plan i takes seed i
    (cycling when there are fewer seeds) and a sequence drawn with a generator seeded by (seed, i)."""
    if not seeds:
        raise UserError("No seeds to plan dialogs with; self-seeding produced nothing usable.")

    def plan(i: int) -> DialogPlan:
        rng = random.Random(f"{seed}:{i}")
        return DialogPlan(f"{prefix}-{i:06d}", seeds[i % len(seeds)], pool[rng.randrange(len(pool))])

    return map(plan, range(n))


def make_plans(seeds: Sequence[Seed], pool: Sequence[tuple[Turn, ...]], n: int, seed: int = 0,
               prefix: str = "plan") -> list[DialogPlan]:
    """The ``n`` plans of ``iter_plans`` as a list."""
    return list(iter_plans(seeds, pool, n, seed, prefix))


def combination_counts(dialogs: Iterable[Dialog]) -> Counter:
    """Utterances per label combination ('FD_PA') over ``dialogs``."""
    return Counter(join_labels(u.intents) for d in dialogs for u in d.utterances)


def combination_distribution(dialogs: Iterable[Dialog]) -> dict[str, float]:
    """Share of utterances per label combination."""
    counts = combination_counts(dialogs)
    total = sum(counts.values())
    return {k: v / total for k, v in sorted(counts.items())} if total else {}


def total_variation(p: dict[str, float], q: dict[str, float]) -> float:
    """Total variation distance 0.5 * sum |p - q| over the union of keys (0 = same, 1 = disjoint)."""
    return 0.5 * sum(abs(p.get(k, 0.0) - q.get(k, 0.0)) for k in set(p) | set(q))


def combination_tvd(a: Iterable[Dialog], b: Iterable[Dialog]) -> float:
    """TVD between two corpora's label-combination distributions."""
    return total_variation(combination_distribution(a), combination_distribution(b))
