"""The Generator contract: BaseGenerator's default stream, and the check made at registration."""

from __future__ import annotations

import pytest

from solid_bench.generators.base import BaseGenerator, check_generator
from solid_bench.registry import Registry


class Chunks(BaseGenerator):
    """Records the size of every batch it is given; accepts every plan."""

    description = "test double"

    def __init__(self):
        self.sizes = []

    def generate(self, plans):
        self.sizes.append(len(plans))
        return list(plans), []


def test_the_default_stream_calls_generate_on_chunks_of_batch_size():
    gen = Chunks()
    outcomes = list(gen.stream(range(5), 2))
    assert gen.sizes == [2, 2, 1] and [d for d, _ in outcomes] == [[0, 1], [2, 3], [4]]
    assert gen.needed_instructions(range(5)) == set()


def test_the_default_stream_starts_no_chunk_once_admit_says_no():
    gen, calls = Chunks(), []

    def admit():
        calls.append(1)
        return len(calls) <= 2  # two chunks admitted, then the budget is spent

    assert [d for d, _ in gen.stream(range(9), 3, admit)] == [[0, 1, 2], [3, 4, 5]]
    assert gen.sizes == [3, 3] and len(calls) == 3
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        list(gen.stream(range(3), 0))


def test_registration_names_what_a_generator_lacks():
    registry = Registry("generator", check=check_generator)
    with pytest.raises(TypeError, match=r"Generator 'x' \(.*NoGenerate\) does not follow the Generator contract: "
                                        r"it lacks description \(required\); it does not define generate\(plans\)\."):
        registry.add("x", type("NoGenerate", (BaseGenerator,), {}))
    bare = type("Bare", (), {"description": "d", "generate": lambda self, plans: ([], [])})
    with pytest.raises(TypeError, match="it lacks needed_instructions, stream: subclass "
                                        "solid_bench.generators.base.BaseGenerator for the defaults"):
        registry.add("bare", bare)
    registry.add("chunks", Chunks)
    assert registry.names() == ["chunks"]
