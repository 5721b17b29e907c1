"""Run folder: torn-line repair, resume without duplicates or losses, budget stop, dry-run estimate,
and a cost ledger that counts each answer once per folder."""

from __future__ import annotations

import json
import shutil

import pytest

from solid_bench.errors import UserError
from solid_bench.generators.pipeline import GenerationConfig, estimate, run_generation
from solid_bench.generators.prompts import template_hashes
from solid_bench.generators.runfolder import Meter, RunFolder, append_jsonl, read_jsonl
from solid_bench.llm.backends.fake import FakeBackend
from solid_bench.llm.base import Completion
from solid_bench.llm.cache import CachedBackend


def _lines(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _plan_ids(out):
    ids = [d["meta"]["plan_id"] for d in _lines(out / "dialogs.jsonl")]
    if (out / "rejected.jsonl").exists():
        ids += [r["plan_id"] for r in _lines(out / "rejected.jsonl")]
    return ids


def test_torn_last_line_is_truncated(tmp_path):
    path = tmp_path / "x.jsonl"
    append_jsonl(path, [{"a": 1}, {"a": 2}])
    with open(path, "a") as fh:
        fh.write('{"a": 3, "b"')  # a kill in the middle of a write
    assert read_jsonl(path) == [{"a": 1}, {"a": 2}]
    assert path.read_text() == '{"a":1}\n{"a":2}\n'
    append_jsonl(path, [{"a": 4}])
    assert read_jsonl(path) == [{"a": 1}, {"a": 2}, {"a": 4}]


def test_damage_in_the_middle_is_a_user_error(tmp_path):
    path = tmp_path / "x.jsonl"
    path.write_text('{"a":1}\nnot json\n{"a":2}\n')
    with pytest.raises(UserError, match="line 2"):
        read_jsonl(path)


def test_run_writes_everything_and_a_rerun_adds_nothing(tmp_path, tiny_train):
    out = tmp_path / "run"
    config = GenerationConfig(out=str(out), n=10, backend="fake", batch_size=4, cache=False)
    backend = FakeBackend(bad_rate=0.2)
    manifest = run_generation(config, train=tiny_train, backend=backend, log=lambda m: None)
    ids = _plan_ids(out)
    assert sorted(ids) == [f"plan-{i:06d}" for i in range(10)]
    for name in ("dialogs.jsonl", "seeds.jsonl", "instructions.json", "manifest.json", "costs.jsonl"):
        assert (out / name).is_file(), name
    m = json.loads((out / "manifest.json").read_text())
    assert m == manifest
    assert m["status"] == "complete"
    assert m["prompt_hashes"] == template_hashes()
    assert m["counts"]["accepted"] + m["counts"]["rejected"] == 10
    assert sum(m["counts"]["rejected_by_reason"].values()) == m["counts"]["rejected"]
    # cost totals: the ledger's turns stage equals the sum of per-dialog and per-rejection costs
    per_plan = sum(d["meta"]["cost"]["prompt_tokens"] for d in _lines(out / "dialogs.jsonl"))
    if (out / "rejected.jsonl").exists():
        per_plan += sum(r["cost"]["prompt_tokens"] for r in _lines(out / "rejected.jsonl"))
    assert m["cost"]["turns"]["prompt_tokens"] == per_plan
    assert m["cost"]["all"]["llm_calls"] == sum(s["llm_calls"] for k, s in m["cost"].items() if k != "all")
    # a display_name written by hand (generator_names) survives the rerun's manifest
    (out / "manifest.json").write_text(json.dumps(m | {"display_name": "SOLID · mine"}), encoding="utf-8")
    again = FakeBackend(bad_rate=0.2)
    run_generation(config, train=tiny_train, backend=again, log=lambda m: None)
    assert again.calls == 0
    assert sorted(_plan_ids(out)) == sorted(ids)
    assert json.loads((out / "manifest.json").read_text())["display_name"] == "SOLID · mine"


def test_resume_after_a_partial_run_loses_nothing(tmp_path, tiny_train):
    out = tmp_path / "run"
    first = GenerationConfig(out=str(out), n=6, backend="fake", batch_size=4, cache=False)
    run_generation(first, train=tiny_train, backend=FakeBackend(), log=lambda m: None)
    with open(out / "dialogs.jsonl", "a") as fh:
        fh.write('{"id": "solid-plan-0000')  # torn line
    bigger = GenerationConfig(out=str(out), n=11, backend="fake", batch_size=4, cache=False)
    run_generation(bigger, train=tiny_train, backend=FakeBackend(), log=lambda m: None)
    ids = _plan_ids(out)
    assert sorted(ids) == [f"plan-{i:06d}" for i in range(11)]  # each exactly once


def test_other_settings_on_resume_are_refused(tmp_path, tiny_train):
    out = tmp_path / "run"
    run_generation(GenerationConfig(out=str(out), n=2, backend="fake", cache=False), train=tiny_train,
                   backend=FakeBackend(), log=lambda m: None)
    with pytest.raises(UserError, match="seed=0"):
        run_generation(GenerationConfig(out=str(out), n=2, backend="fake", seed=5, cache=False), train=tiny_train,
                       backend=FakeBackend(), log=lambda m: None)


def test_budget_stops_cleanly_and_a_bigger_budget_continues(tmp_path, tiny_train):
    out = tmp_path / "run"
    config = GenerationConfig(out=str(out), n=20, backend="fake", batch_size=2, cache=False, budget_tokens=1)
    m = run_generation(config, train=tiny_train, backend=FakeBackend(), log=lambda m: None)
    assert m["status"] == "budget_reached"
    assert m["counts"]["accepted"] + m["counts"]["rejected"] == 0  # seeding alone spent the budget
    spent = Meter(out / "costs.jsonl").spent_tokens
    config = GenerationConfig(out=str(out), n=20, backend="fake", batch_size=2, cache=False, budget_tokens=spent + 1)
    m = run_generation(config, train=tiny_train, backend=FakeBackend(), log=lambda m: None)
    assert m["status"] == "budget_reached"
    assert m["counts"]["accepted"] + m["counts"]["rejected"] == 2  # one batch, then the check stops it
    config = GenerationConfig(out=str(out), n=20, backend="fake", batch_size=2, cache=False)
    m = run_generation(config, train=tiny_train, backend=FakeBackend(), log=lambda m: None)
    assert m["status"] == "complete" and len(_plan_ids(out)) == 20


def test_dry_run_estimate_counts_calls_from_the_plans(tmp_path, tiny_train):
    config = GenerationConfig(out=str(tmp_path / "never"), n=30, backend="fake")
    est = estimate(config, tiny_train, retry_rate=0.0, na_rate=0.0)
    assert not (tmp_path / "never").exists()  # no LLM and no files
    # tiny train: OQ-first sequences of 3, 4 and 5 utterances -> 2, 3 or 4 generated turns per plan
    from solid_bench.generators.plans import make_plans, sequence_pool
    from solid_bench.schema import Seed

    plans = make_plans([Seed("x")], sequence_pool(tiny_train), 30, seed=0)
    assert est["stages"]["turns"]["llm_calls"] == sum(p.n_turns - 1 for p in plans)
    assert est["stages"]["seeding.starter"]["llm_calls"] == 30
    assert est["stages"]["seeding.background"]["llm_calls"] == 31
    assert est["stages"]["instructions"]["llm_calls"] == len({(tuple(sorted(i)), r) for p in plans
                                                               for r, i in p.turns if len(i) > 1})
    assert est["total"]["llm_calls"] == sum(s["llm_calls"] for s in est["stages"].values())
    # the estimate is of the right order for the fake backend's real run
    out = tmp_path / "run"
    m = run_generation(GenerationConfig(out=str(out), n=30, backend="fake", cache=False), train=tiny_train,
                       backend=FakeBackend(), log=lambda m: None)
    assert m["cost"]["turns"]["llm_calls"] == est["stages"]["turns"]["llm_calls"]


def test_run_folder_counts(tmp_path):
    folder = RunFolder(tmp_path)
    folder.append([{"id": "a", "utterances": [1, 2, 3], "meta": {"plan_id": "p1", "retries": 2}}],
                  [{"plan_id": "p2", "reason": "empty"}, {"plan_id": "p3", "reason": "empty"}])
    reopened = RunFolder(tmp_path)
    assert reopened.done_plan_ids() == {"p1", "p2", "p3"}
    assert reopened.counts() == {"accepted": 1, "rejected": 2, "rejected_by_reason": {"empty": 2},
                                 "mean_turns": 3.0, "retried_utterances": 2}


class _Interrupting(FakeBackend):
    """The fake backend, interrupted (as by Ctrl-C) at its ``at``-th turn call."""

    def __init__(self, at: int, **kw):
        super().__init__(**kw)
        self.at, self.turn_calls = at, 0

    def complete(self, requests):
        if self._is_turn(requests):
            self.turn_calls += 1
            if self.turn_calls == self.at:
                raise KeyboardInterrupt
        return super().complete(requests)

    @staticmethod
    def _is_turn(requests):
        from solid_bench.generators.prompts import stage_of

        return bool(requests) and stage_of(requests[0].messages[0][1]) == "turn"


def test_dialogs_are_written_as_they_finish_and_an_interrupt_loses_only_those_in_flight(tmp_path, tiny_train):
    out = tmp_path / "run"
    config = GenerationConfig(out=str(out), n=12, backend="fake", batch_size=3, cache=False)
    with pytest.raises(KeyboardInterrupt):
        run_generation(config, train=tiny_train, backend=_Interrupting(at=8), log=lambda m: None)
    written = _plan_ids(out)
    assert 0 < len(written) < 12 and len(set(written)) == len(written)
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"
    run_generation(config, train=tiny_train, backend=FakeBackend(), log=lambda m: None)
    assert sorted(_plan_ids(out)) == [f"plan-{i:06d}" for i in range(12)]  # each exactly once


def test_plan_ids_are_a_compact_exact_set():
    from solid_bench.generators.runfolder import PlanIds

    ids = PlanIds()
    for plan_id in ["plan-000042", "plan-000042", "plan-7", "odd id", "plan-000000", "run2-0009", "plan-12345678"]:
        ids.add(plan_id)
    assert len(ids) == 6
    assert sorted(ids) == ["odd id", "plan-000000", "plan-000042", "plan-12345678", "plan-7", "run2-0009"]
    assert "plan-000042" in ids and "plan-00042" not in ids and "plan-000043" not in ids and "plan-8" not in ids
    assert "run2-9" not in ids and "run2-0009" in ids and "odd id" in ids
    many = PlanIds()
    for i in range(100_000):
        many.add(f"plan-{i:06d}")
    assert len(many) == 100_000 and "plan-099999" in many and "plan-100000" not in many
    assert sum(len(b) for b in many._bits.values()) == 12_500  # one bit per plan


def _answer(digit: str, prompt: int, completion: int, seconds: float, cached: bool = False) -> Completion:
    """A completion as CachedBackend returns it: key ``digit`` x 64; a hit has seconds 0 and its original ones in meta."""
    meta = {"cache_key": digit * 64}
    if cached:
        return Completion("x", prompt, completion, 0.0, True, "stop", {**meta, "original_seconds": seconds})
    return Completion("x", prompt, completion, seconds, False, "stop", meta)


def _cost(calls, cached, prompt, completion, seconds, spent, replayed):
    return {"llm_calls": calls, "cached_calls": cached, "prompt_tokens": prompt, "completion_tokens": completion,
            "seconds": seconds, "spent_tokens": spent, "replayed_calls": replayed}


def test_a_resume_counts_an_answer_it_replays_from_its_own_cache_once(tmp_path):
    ledger = tmp_path / "costs.jsonl"
    Meter(ledger).add("turns", [_answer("a", 10, 5, 1.0), _answer("b", 20, 4, 2.0)])
    # killed here: both dialogs were lost, the ledger line was not; the resume asks "a" again
    resumed = Meter(ledger)
    line = resumed.add("turns", [_answer("a", 10, 5, 1.0, cached=True), _answer("c", 30, 6, 3.0)])
    assert line == _cost(1, 0, 30, 6, 3.0, 36, 1) | {"paid": ["c" * 16]}
    assert resumed.totals()["all"] == _cost(3, 0, 60, 15, 6.0, 75, 1)
    assert Meter(ledger).totals() == resumed.totals()  # read back from the ledger: the same


def test_a_hit_the_folder_has_not_paid_for_counts_once_at_its_original_cost(tmp_path):
    meter = Meter(tmp_path / "costs.jsonl")  # a new folder whose cache was copied from another run
    line = meter.add("turns", [_answer("a", 10, 5, 1.0, True), _answer("a", 10, 5, 1.0, True), _answer("b", 20, 4, 2.0, True)])
    assert line == _cost(2, 2, 30, 9, 3.0, 0, 1) | {"paid": ["a" * 16, "b" * 16]}
    assert meter.add("background", [_answer("b", 20, 4, 2.0, True)]) == _cost(0, 0, 0, 0, 0.0, 0, 1)
    assert meter.add("background", [_answer("b", 20, 4, 2.5)])["llm_calls"] == 1  # computed again: a real cost
    assert meter.totals()["all"] == _cost(3, 2, 50, 13, 5.5, 24, 2)


def test_old_ledger_lines_load_as_they_were_counted(tmp_path):
    ledger = tmp_path / "costs.jsonl"
    ledger.write_text(
        '{"stage":"seeding.starter","llm_calls":4,"cached_calls":0,"prompt_tokens":100,"completion_tokens":40,'
        '"seconds":8.0,"spent_tokens":140}\n'
        '{"stage":"turns","llm_calls":2,"cached_calls":2,"prompt_tokens":50,"completion_tokens":10,"seconds":3.0,'
        '"spent_tokens":0}\n'
        '{"stage":"turns","llm_calls":1,"cached_calls":0,"prompt_tokens":7,"completion_tokens":3,"seconds":1.0}\n')
    meter = Meter(ledger)
    assert meter.totals() == {"seeding.starter": _cost(4, 0, 100, 40, 8.0, 140, 0), "turns": _cost(3, 2, 57, 13, 4.0, 0, 0),
                              "all": _cost(7, 2, 157, 53, 12.0, 140, 0)}
    assert meter.spent_tokens == 140  # earlier sessions count towards --budget-tokens
    assert meter.add("turns", [_answer("a", 10, 5, 1.0, True)])["llm_calls"] == 1  # old lines name no answer


def _cached_run(out, tiny_train, backend):
    config = GenerationConfig(out=str(out), n=12, backend="fake", batch_size=3)
    cache = CachedBackend(backend, out / "llm-cache.sqlite")
    try:
        return run_generation(config, train=tiny_train, backend=cache, log=lambda m: None)
    finally:
        cache.close()  # the last connection's close moves the WAL into the file (copied below)


def test_an_interrupted_run_resumed_from_its_cache_costs_what_an_uninterrupted_one_does(tmp_path, tiny_train):
    want = _cached_run(tmp_path / "plain", tiny_train, FakeBackend())["cost"]["all"]
    out = tmp_path / "run"
    with pytest.raises(KeyboardInterrupt):  # the dialogs in flight are lost; their calls are in the ledger and cache
        _cached_run(out, tiny_train, _Interrupting(at=8))
    lost = 12 - len(_plan_ids(out))
    got = _cached_run(out, tiny_train, FakeBackend())["cost"]["all"]
    for k in ("llm_calls", "cached_calls", "prompt_tokens", "completion_tokens", "spent_tokens"):
        assert got[k] == want[k], k
    assert want["llm_calls"] > 0 and want["cached_calls"] == 0
    assert lost > 0 and got["replayed_calls"] > want["replayed_calls"]  # the lost dialogs' calls, asked again


def test_a_new_folder_filled_from_a_copied_cache_counts_the_original_cost_once(tmp_path, tiny_train):
    want = _cached_run(tmp_path / "plain", tiny_train, FakeBackend())["cost"]["all"]
    (tmp_path / "copy").mkdir()
    shutil.copy(tmp_path / "plain" / "llm-cache.sqlite", tmp_path / "copy" / "llm-cache.sqlite")
    backend = FakeBackend()
    got = _cached_run(tmp_path / "copy", tiny_train, backend)["cost"]["all"]
    assert backend.calls == 0  # every answer came from the copied cache
    for k in ("llm_calls", "prompt_tokens", "completion_tokens", "replayed_calls"):
        assert got[k] == want[k], k
    assert got["seconds"] == pytest.approx(want["seconds"], rel=1e-9)
    assert (got["cached_calls"], got["spent_tokens"]) == (want["llm_calls"], 0)


def test_paid_keys_are_a_compact_exact_set():
    from solid_bench.generators.runfolder import PaidKeys

    keys = PaidKeys()
    held = [i.to_bytes(8, "big") for i in (0, 1, 2**64 - 1, 0x0123456789ABCDEF)]
    for key in held:
        keys.add(key)
    assert all(key in keys for key in held)
    assert (2).to_bytes(8, "big") not in keys and (0x0123456789ABCDEE).to_bytes(8, "big") not in keys
    shifted = PaidKeys()  # a key found only across two held keys' boundary is not held
    shifted.add(bytes.fromhex("00000000000000aa"))
    shifted.add(bytes.fromhex("0000000000000000"))
    assert bytes.fromhex("000000aa00000000") not in shifted and bytes.fromhex("00000000000000aa") in shifted
    many = PaidKeys()
    for i in range(100_000):
        many.add((i * 0x9E3779B97F4A7C15 % 2**64).to_bytes(8, "big"))
    assert many.nbytes() == 800_000  # 8 bytes a key
    assert (99_999 * 0x9E3779B97F4A7C15 % 2**64).to_bytes(8, "big") in many
    assert (100_000 * 0x9E3779B97F4A7C15 % 2**64).to_bytes(8, "big") not in many
