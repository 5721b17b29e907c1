"""Instructions: 24 single-intent ones; merges cached per (combination, role) in instructions.json."""

from __future__ import annotations

import json

from solid_bench.generators.instructions import SINGLE, InstructionBook, clean_merged, fallback
from solid_bench.llm.backends.fake import FakeBackend
from solid_bench.schema import MSDIALOG_LABELS


def test_24_single_instructions():
    assert set(SINGLE) == {(i, r) for i in MSDIALOG_LABELS for r in ("user", "agent")}
    assert len(set(SINGLE.values())) >= 22  # JK is the same for both roles


def test_merge_once_per_combination_and_role(tmp_path):
    backend = FakeBackend()
    book = InstructionBook(tmp_path / "instructions.json")
    needed = [(("NF", "FD"), "user"), (("FD", "NF"), "user"), (("FD", "NF"), "agent"), (("PA",), "agent")]
    assert book.ensure(needed, backend) == 2  # FD_NF|user and FD_NF|agent; PA needs no merge
    assert backend.calls == 1  # one batched call
    saved = json.loads((tmp_path / "instructions.json").read_text())
    assert sorted(saved) == ["FD_NF|agent", "FD_NF|user"]
    assert book.get(("PA",), "agent") == SINGLE[("PA", "agent")]
    merged = book.get(("NF", "FD"), "user")
    assert SINGLE[("FD", "user")] in merged and SINGLE[("NF", "user")] in merged  # the fake echoes both
    # a second book reads the cache and calls nothing
    again = FakeBackend()
    book2 = InstructionBook(tmp_path / "instructions.json")
    assert book2.ensure(needed, again) == 0 and again.calls == 0
    assert book2.get(("FD", "NF"), "user") == merged


def test_unusable_merge_falls_back_and_says_so(tmp_path):
    backend = FakeBackend(rules=[lambda request, rng: "!!"])
    book = InstructionBook(tmp_path / "instructions.json")
    book.ensure([(("CQ", "PA"), "agent")], backend)
    entry = json.loads((tmp_path / "instructions.json").read_text())["CQ_PA|agent"]
    assert entry["fallback"] is True
    assert entry["instruction"] == fallback(("PA", "CQ"), "agent")
    assert clean_merged("Merged instruction: Ask what they mean and give a fix.") == "Ask what they mean and give a fix."
