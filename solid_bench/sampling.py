"""Subsets of a corpus by size and strategy (``solid@500:balanced``), one function per strategy.

A strategy is a function ``(corpus, n, rng) -> list of dialog indices`` registered in
``STRATEGIES`` with ``@STRATEGIES.register(name)`` where it is defined: ``random`` and
``balanced`` here, ``lmq-high`` in ``generators/lmq.py``. The registry finds the ones outside
this module by scanning ``solid_bench.generators`` and the entry-point group
``solid_bench.sampling``, so nothing has to import them first.
"""

from __future__ import annotations

from collections import Counter

from .errors import UserError
from .registry import Registry

STRATEGIES: Registry = Registry("sampling strategy", package="solid_bench.generators", entry_point_group="solid_bench.sampling")


@STRATEGIES.register("random")
def _random(corpus, n, rng):
    return sorted(rng.choice(len(corpus.dialogs), size=n, replace=False).tolist())


@STRATEGIES.register("balanced")
def _balanced(corpus, n, rng):
    """Greedy intent balancing: repeatedly take the dialog that best covers the rarest labels so far."""
    import numpy as np

    order = rng.permutation(len(corpus.dialogs))
    counts: Counter = Counter()
    chosen: list[int] = []
    remaining = list(order)
    label_sets = [Counter(c for u in d.utterances for c in u.intents) for d in corpus.dialogs]
    while len(chosen) < n and remaining:
        # score: sum over the dialog's labels of 1 / (1 + count so far); ties keep random order
        scores = np.array([sum(v / (1.0 + counts[c]) for c, v in label_sets[i].items()) / max(1, sum(label_sets[i].values())) for i in remaining])
        j = int(np.argmax(scores))
        i = remaining.pop(j)
        chosen.append(int(i))
        counts.update(label_sets[i])
    return sorted(chosen)


def check_size(spec: str, size: int, n: int) -> None:
    """Refuse a sample of ``n`` from a corpus of ``size`` dialogs unless it is a proper subset.

    ``@N`` at the corpus's size would be the whole corpus under a second name: the same cell
    twice in a leaderboard, and an extra comparison in its Holm family."""
    if n > size:
        raise UserError(f"Corpus {spec!r} has {size} dialogs, fewer than the {n} asked for; generate more or ask for fewer.")
    if n == size:
        raise UserError(f"Corpus {spec!r} has exactly {size} dialogs, so '@{n}' is the whole corpus; name it without '@{n}' "
                        "so that it is one cell, not two.")


def sample(corpus, n: int, how: str = "random", seed: int = 0):
    """A corpus of ``n`` dialogs drawn from ``corpus`` by strategy ``how``, reproducibly."""
    import numpy as np

    from .corpora import Corpus

    choose = STRATEGIES.get(how)  # an unknown name is a UserError listing the known ones
    check_size(corpus.spec, len(corpus.dialogs), n)
    idx = choose(corpus, n, np.random.default_rng(seed))
    dialogs = tuple(corpus.dialogs[i] for i in idx)
    prov = dict(corpus.provenance) | {"sample": {"n": n, "strategy": how, "seed": seed, "from_sha256": corpus.sha256}}
    return Corpus(f"{corpus.spec}@{n}:{how}", corpus.split, dialogs, corpus.labels, corpus.synthetic, corpus.has_human, prov)
