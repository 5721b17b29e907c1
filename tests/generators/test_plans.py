"""Plans: whole (role, intents) sequences from the TRAIN split only, seeded; combination TVD."""

from __future__ import annotations

from collections import Counter

import pytest

from solid_bench.corpora import resolve
from solid_bench.errors import UserError
from solid_bench.generators.plans import combination_distribution, combination_tvd, make_plans, sequence_pool, total_variation
from solid_bench.schema import Dialog, Seed, Utterance

SEEDS = [Seed(f"E{i}", "T", "a", "bg", "q?") for i in range(3)]


def test_pool_holds_the_train_sequences(tiny_train):
    pool = sequence_pool(tiny_train)
    assert len(pool) == 3
    assert pool[1] == (("user", ("OQ",)), ("agent", ("IR", "PA")), ("user", ("FD", "NF")), ("agent", ("PA",)))
    assert [len(s) for s in sequence_pool(tiny_train, max_turns=4)] == [3, 4]
    # every dialog holds a combination seen once (PF; IR_PA, FD_NF; CQ, FD, GG): min_count=2 keeps none
    with pytest.raises(UserError, match="min-count"):
        sequence_pool(tiny_train, min_count=2)


def test_pool_refuses_other_splits(tiny_data):
    with pytest.raises(UserError, match="train split"):
        sequence_pool(resolve("human", "test"))


def test_plans_are_seeded_and_prefix_stable(tiny_train):
    pool = sequence_pool(tiny_train)
    a = make_plans(SEEDS, pool, 50, seed=7)
    assert a == make_plans(SEEDS, pool, 50, seed=7)
    assert a[:20] == make_plans(SEEDS, pool, 20, seed=7)  # growing n keeps the first plans
    assert a != make_plans(SEEDS, pool, 50, seed=8)
    assert [p.plan_id for p in a[:2]] == ["plan-000000", "plan-000001"]
    assert [p.seed.entity_name for p in a[:4]] == ["E0", "E1", "E2", "E0"]
    assert {p.turns for p in a} == set(pool)  # whole sequences, never spliced


def test_sampled_lengths_follow_the_train_split(tiny_train):
    pool = sequence_pool(tiny_train)
    counts = Counter(p.n_turns for p in make_plans(SEEDS, pool, 3000, seed=0))
    for length in (3, 4, 5):  # one train dialog of each length: each about a third
        assert abs(counts[length] / 3000 - 1 / 3) < 0.03


def _d(*combos):
    return Dialog("x", "s", tuple(Utterance("user", "t", c) for c in combos))


def test_tvd_against_hand_computation():
    a = [_d(("OQ",), ("PA",)), _d(("OQ",), ("FD", "PA"))]  # OQ .5, PA .25, FD_PA .25
    b = [_d(("OQ",), ("PA",), ("PA",), ("GG",))]  # OQ .25, PA .5, GG .25
    assert combination_distribution(a) == {"FD_PA": 0.25, "OQ": 0.5, "PA": 0.25}
    # |.5-.25| + |.25-.5| + |.25-0| + |0-.25| = 1.0 -> 0.5
    assert combination_tvd(a, b) == pytest.approx(0.5)
    assert combination_tvd(a, a) == 0.0
    assert total_variation({"A": 1.0}, {"B": 1.0}) == 1.0
