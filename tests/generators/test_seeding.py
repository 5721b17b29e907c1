"""Self-seeding: noise filter, N/A dropping, stage artifacts and resume, external seed lists."""

from __future__ import annotations

import json
import zlib

import pytest

from solid_bench.errors import UserError
from solid_bench.generators.runfolder import Meter
from solid_bench.generators.seeding import SelfSeeder, clean_starter, is_na, load_seed_file, noise_reason, parse_list
from solid_bench.llm.backends.fake import FakeBackend


def test_parse_list_drops_numbers_junk_overlong_duplicates_and_refusals():
    text = "\n".join([
        "1. Microsoft Excel", "2) Python", "- 12345", "* ab", "Microsoft Excel", "microsoft excel",
        "I'm sorry, I cannot list those", "As an AI model", "**Visual Studio Code**",
        "A very long name with far too many words in it to be an entity", "  ", "x" * 70,
    ])
    assert parse_list(text) == ["Microsoft Excel", "Python", "Visual Studio Code"]


@pytest.mark.parametrize("name,reason", [("42", "too_short"), ("2019", "number"), ("ab", "too_short"),
                                         ("Sure, here are five", "refusal"), ("Windows 10", None), ("C++ 17", None),
                                         ("Hello. I'm so glad you asked", "not_a_name"),
                                         ("I'm a business, not a businessperson", "not_a_name"),
                                         ("Abcde, Abcdef, Abcddef", "not_a_name"), ("Washington, D.C.", None)])
def test_noise_reason(name, reason):
    assert noise_reason(name) == reason


def test_na_detection_and_starter_cleaning():
    assert is_na("N/A") and is_na("n/a.") and is_na("") and is_na("I'm sorry, I do not know this entity.")
    assert not is_na("Python is a programming language created by Guido van Rossum.")
    assert clean_starter('"How do I install Python on Windows? I tried twice."') == "How do I install Python on Windows?"
    assert clean_starter("Python is nice.") == ""
    assert clean_starter("How can I help you?") == ""  # an assistant's line, not a user's question
    assert clean_starter("I'm sorry for the misunderstanding. Can you assist me with Python?") == ""
    assert clean_starter("How do I update the driver?", entity="Python") == ""  # does not name the entity
    assert clean_starter("How do I update Python drivers?", entity="Python") == "How do I update Python drivers?"


def test_a_starter_may_ask_in_words_without_a_question_mark():
    # Qwen2.5-Coder's opening posts often ask with a request phrase and no "?": kept up to the end of
    # the sentence that asks, which is what a forum user's first post does
    post = "My backups on Backblaze worry me. I want to know more about their security measures. Thanks in advance!"
    assert clean_starter(post, "Backblaze") == "My backups on Backblaze worry me. I want to know more about their security measures."
    assert clean_starter("I need help figuring out the DNS name of TFTP. One or two sentences please.", "TFTP") == \
        "I need help figuring out the DNS name of TFTP."
    assert clean_starter("I'm interested in knowing the storage of the Samsung Galaxy S9. It has 64 GB.", "Samsung") == \
        "I'm interested in knowing the storage of the Samsung Galaxy S9."
    assert clean_starter("My Arris Broadband Router drops out. I would appreciate some guidance on it.", "Arris Broadband Router") == \
        "My Arris Broadband Router drops out. I would appreciate some guidance on it."
    assert clean_starter("I have an urgent question about my Oppo A53. I would appreciate any help.", "Oppo A53") == \
        "I have an urgent question about my Oppo A53."
    # asking nowhere, or cut off (the token limit) before the asking sentence ends: no starter
    assert clean_starter("I recently read about the Hard Drive of CompuServe. CompuServe was founded in", "CompuServe") == ""
    assert clean_starter("I'm interested in the storage of the Samsung Galaxy S9 for my needs.", "Samsung") == ""
    assert clean_starter("I need help with Word macros that stop working when", "Word") == ""


def test_stages_write_artifacts_and_drop_na(tmp_path):
    backend = FakeBackend(na_rate=0.4)
    meter = Meter(tmp_path / "costs.jsonl")
    seeder = SelfSeeder(backend, tmp_path, meter, seed=3, batch_size=4)
    seeds = seeder.run(10)
    assert len(seeds) >= 10
    for name in ("entity_types.json", "entities.jsonl", "attributes.json", "backgrounds.jsonl", "seeds.jsonl"):
        assert (tmp_path / name).is_file(), name
    bgs = [json.loads(line) for line in (tmp_path / "backgrounds.jsonl").read_text().splitlines()]
    na = [b for b in bgs if b["na"]]
    assert na, "na_rate=0.4 must produce some N/A answers"
    names = {s.entity_name for s in seeds}
    assert not names & {b["entity_name"] for b in na}  # every N/A entity is dropped
    assert len(seeds) == 10 <= len(bgs) - len(na)  # starters are written for the n seeds asked for, no more
    assert seeder.stats["na_dropped"] == len(na)
    assert all("12345" != s.entity_name for s in seeds)
    assert len(names) == len(seeds)  # the fake repeats a name per request; duplicates are dropped
    assert all(s.starter.endswith("?") and s.attribute and s.background for s in seeds)
    # every call is metered per stage
    assert set(meter.totals()) >= {"seeding.entity_types", "seeding.entity_names", "seeding.background", "seeding.starter"}


class _DiesAfter(FakeBackend):
    """The fake model, killed after ``calls_left`` backend calls (as kill -9 would stop a run)."""

    def __init__(self, calls_left: int, **kw):
        super().__init__(**kw)
        self.calls_left = calls_left

    def complete(self, requests):
        if self.calls_left == 0:
            raise KeyboardInterrupt
        self.calls_left -= 1
        return super().complete(requests)


def test_a_run_killed_at_any_call_keeps_its_finished_batches_and_resumes_to_the_same_seeds(tmp_path):
    counted = FakeBackend()
    whole = SelfSeeder(counted, tmp_path / "whole", seed=2, batch_size=2).run(8)
    partial_stages = set()
    for calls in range(1, counted.calls):
        folder = tmp_path / f"killed-{calls}"
        with pytest.raises(KeyboardInterrupt):
            SelfSeeder(_DiesAfter(calls), folder, seed=2, batch_size=2).run(8)
        for name in ("backgrounds.jsonl", "seeds.jsonl"):
            final = len((tmp_path / "whole" / name).read_text().splitlines())
            if (folder / name).is_file() and 0 < len((folder / name).read_text().splitlines()) < final:
                partial_stages.add(name)  # killed inside the stage: its finished batches are on disk
        resumed = SelfSeeder(FakeBackend(), folder, seed=2, batch_size=2).run(8)
        assert resumed == whole, calls
        for name in ("entities.jsonl", "backgrounds.jsonl", "seeds.jsonl"):
            assert (folder / name).read_text() == (tmp_path / "whole" / name).read_text(), (calls, name)
    assert partial_stages == {"backgrounds.jsonl", "seeds.jsonl"}


def test_rerun_resumes_without_new_calls(tmp_path):
    first = SelfSeeder(FakeBackend(), tmp_path, seed=1).run(6)
    again = FakeBackend()
    second = SelfSeeder(again, tmp_path, seed=1).run(6)
    assert again.calls == 0
    assert second == first


def test_external_name_type_list(tmp_path):
    path = tmp_path / "entities_name_type.json"
    path.write_text(json.dumps(["Python\tProgramming Language", "12\tNumber", "Excel\tSoftware Product",
                                "Python\tProgramming Language", "Outlook\tSoftware Product"]), encoding="utf-8")
    seeds = SelfSeeder(FakeBackend(), tmp_path / "run", seed_file=path).run(3)
    assert sorted(s.entity_name for s in seeds) == ["Excel", "Outlook", "Python"]
    assert {s.entity_type for s in seeds} == {"Programming Language", "Software Product"}
    assert all(s.background and s.starter and s.attribute for s in seeds)  # filled in by the LLM stages


def test_external_jsonl_seeds_keep_given_fields(tmp_path):
    path = tmp_path / "seeds.jsonl"
    path.write_text(json.dumps({"entity_name": "Skype", "entity_type": "App", "attribute": "ringing",
                                "background": "Skype is a calling app.", "starter": "Why does Skype not ring?"}) + "\n")
    backend = FakeBackend()
    [seed] = SelfSeeder(backend, tmp_path / "run", seed_file=path).run(1)
    assert seed.to_dict() == {"entity_name": "Skype", "entity_type": "App", "attribute": "ringing",
                              "background": "Skype is a calling app.", "starter": "Why does Skype not ring?"}
    assert backend.calls == 0


def test_bad_seed_file_is_a_user_error(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('["no tab here"]')
    with pytest.raises(UserError, match="name<TAB>type"):
        load_seed_file(bad)


def test_a_model_that_names_nothing_stops_after_a_few_rounds(tmp_path):
    backend = FakeBackend(rules=[lambda request, rng: "1. 2. 3."])  # no usable name, type or attribute
    seeds = SelfSeeder(backend, tmp_path, seed=0, batch_size=4, max_barren=3).run(5)
    assert seeds == []
    records = [json.loads(x) for x in (tmp_path / "entities.jsonl").read_text().splitlines()]
    # 1 call for types (default types are used and marked), then 3 barren rounds of 2 requests each
    assert json.loads((tmp_path / "entity_types.json").read_text())["source"].startswith("default")
    assert len(records) == 3 * 2 and backend.calls == 1 + 3


def test_a_list_on_one_line_is_split_at_commas():
    from solid_bench.generators.seeding import parse_list

    assert parse_list("Linux Mint, MacOS, Microsoft Office, macOS Terminal") == ["Linux Mint", "MacOS", "Microsoft Office", "macOS Terminal"]
    assert parse_list("Paris, France") == ["Paris, France"]  # one comma: one item


def test_starters_leave_out_foreign_script_and_assistant_replies():
    from solid_bench.generators.seeding import clean_starter

    assert clean_starter("Which bus or 地铁 line goes to Lisbon airport?", "Lisbon") == ""
    assert clean_starter("Sure, I'd be happy to help you with that!", "Excel") == ""
    assert clean_starter("My Excel macros stopped working after the update. How do I fix them? Thanks", "Microsoft Excel") == (
        "My Excel macros stopped working after the update. How do I fix them?")


def test_backgrounds_are_asked_only_for_the_seeds_still_missing(tmp_path):
    # entities are listed with a 1.5x margin; a background (a long answer) is asked a batch at a time
    # only until the usable ones cover the seeds asked for; the rest wait for a larger run
    backend = FakeBackend()
    seeder = SelfSeeder(backend, tmp_path, seed=0, batch_size=2)
    assert len(seeder.run(4)) == 4
    listed = sum(len(json.loads(line)["entities"]) for line in (tmp_path / "entities.jsonl").read_text().splitlines())
    asked = len((tmp_path / "backgrounds.jsonl").read_text().splitlines())
    assert listed > 4 and asked == 4  # two batches of two, no N/A
    entity_calls = len((tmp_path / "entities.jsonl").read_text().splitlines())
    assert len(SelfSeeder(FakeBackend(), tmp_path, seed=0, batch_size=2).run(6)) == 6  # a larger run uses the waiting ones
    assert len((tmp_path / "entities.jsonl").read_text().splitlines()) == entity_calls  # no new names were needed
    assert len((tmp_path / "backgrounds.jsonl").read_text().splitlines()) == 6


def test_excluded_entities_are_never_seeded(tmp_path):
    # fresh seeds for a trained generator: no entity of its training corpus's seeds comes back
    first = SelfSeeder(FakeBackend(), tmp_path / "train", seed=0, batch_size=2).run(6)
    taken = [s.entity_name for s in first]
    again = SelfSeeder(FakeBackend(), tmp_path / "same", seed=0, batch_size=2).run(6)
    assert {s.entity_name for s in again} & set(taken)  # the same seed would repeat them
    fresh = SelfSeeder(FakeBackend(), tmp_path / "fresh", seed=0, batch_size=2, exclude_names=[t.upper() for t in taken]).run(6)
    assert len(fresh) == 6 and not {s.entity_name.lower() for s in fresh} & {t.lower() for t in taken}
    listed = [e["entity_name"] for line in (tmp_path / "fresh" / "entities.jsonl").read_text().splitlines()
              for e in json.loads(line)["entities"]]
    assert not {n.lower() for n in listed} & {t.lower() for t in taken}  # not even listed


def test_cli_seeds_exclude_takes_a_run_folder(tmp_path, capsys):
    from solid_bench.cli import main

    assert main(["seeds", "--backend", "fake", "--n", "4", "--batch-size", "2", "--out", str(tmp_path / "a" / "seeds.jsonl")]) == 0
    assert main(["seeds", "--backend", "fake", "--n", "4", "--batch-size", "2", "--exclude-seeds", str(tmp_path / "a"),
                 "--out", str(tmp_path / "b" / "seeds.jsonl")]) == 0
    names = [{json.loads(line)["entity_name"] for line in (tmp_path / f / "seeds.jsonl").read_text().splitlines()} for f in "ab"]
    assert len(names[1]) == 4 and not names[0] & names[1]
    info = json.loads((tmp_path / "b" / "seeding.json").read_text())
    assert info["excluded"] == {"from": [str(tmp_path / "a")], "entities": 4}


def test_names_are_asked_in_further_rounds_once_every_type_and_letter_was_asked(tmp_path):
    # 2 types x 20 letters x 4 names is 160 names: 200 seeds need a second round. A round asks a pair
    # again naming what it said before, and never asks a pair whose last round brought nothing new.
    import random

    from solid_bench.generators.fake_rules import SolidRules
    from solid_bench.generators.seeding import LETTERS

    solid = SolidRules()
    prompts = []

    def rules(request, rng):
        user = request.messages[-1][1]
        if "whose names start with the letter" in user:
            prompts.append(user)
            if "letter W." in user:
                return "I know none."
        return solid(request, rng)

    seeds = SelfSeeder(FakeBackend(rules=[rules]), tmp_path, seed=4, batch_size=16, n_types=2).run(200)
    assert len(seeds) == 200 and len({s.entity_name for s in seeds}) == 200
    records = [json.loads(x) for x in (tmp_path / "entities.jsonl").read_text().splitlines()]
    keys = [r["request"] for r in records]
    types = json.loads((tmp_path / "entity_types.json").read_text())["types"]
    pairs = [(t, letter) for t in types for letter in LETTERS]
    random.Random(4).shuffle(pairs)
    assert keys[:40] == [f"{t}|{letter}" for t, letter in pairs]  # round 1 in the order runs have always used
    second = [k for k in keys if k.endswith("|2")]
    assert second and all(k == f"{k.split('|')[0]}|{k.split('|')[1]}|2" for k in second)
    assert not [k for k in keys if "|W" in k and k.endswith("|2")]  # W named nothing in round 1
    first = {r["request"]: r for r in records}
    again = next(p for p in prompts if p.startswith("Other than "))
    t, letter = again.split('of type "')[1].split('"')[0], again.split("the letter ")[1][0]
    said = [e["entity_name"] for e in first[f"{t}|{letter}"]["entities"]]
    assert all(name in again.split(":")[0] for name in said)  # the second round names what the first said


def test_name_rounds_cap_the_names_a_model_is_asked_for(tmp_path):
    seeder = SelfSeeder(FakeBackend(), tmp_path, seed=0, batch_size=16, n_types=2, name_rounds=2)
    seeds = seeder.run(1000)
    keys = [json.loads(x)["request"] for x in (tmp_path / "entities.jsonl").read_text().splitlines()]
    assert len(keys) == 2 * 2 * 20 and seeder.stats["name_rounds"] == 2
    assert 0 < len(seeds) < 1000  # fewer seeds than asked: the run says so and reuses them
    resumed = FakeBackend()
    assert SelfSeeder(resumed, tmp_path, seed=0, batch_size=16, n_types=2, name_rounds=2).run(1000) == seeds
    assert resumed.calls == 0


class _PlainStarters(_DiesAfter):
    """The fake model, whose every other opening post asks nothing (the seeder falls back to the template)."""

    def _answer(self, request):
        if "opening post" in request.messages[0][1] and zlib.crc32(request.messages[-1][1].encode()) % 2:
            return "Thanks for reading."
        return super()._answer(request)


def test_template_starter_count_covers_the_sessions_before_a_resume(tmp_path):
    from solid_bench.generators.seeding import template_starter

    def templated(seeds) -> int:
        return sum(s["starter"] == template_starter(s["attribute"], s["entity_name"]) for s in seeds)

    with pytest.raises(KeyboardInterrupt):  # killed inside the starter stage, some seeds written
        SelfSeeder(_PlainStarters(15), tmp_path, seed=4, batch_size=2).run(12)
    before = [json.loads(line) for line in (tmp_path / "seeds.jsonl").read_text().splitlines()]
    seeder = SelfSeeder(_PlainStarters(-1), tmp_path, seed=4, batch_size=2)
    seeder.run(12)
    after = [json.loads(line) for line in (tmp_path / "seeds.jsonl").read_text().splitlines()]
    assert len(after) == 12 and 0 < templated(before) < templated(after)  # fallbacks in both sessions
    assert seeder.stats["starter_template_fallback"] == templated(after)
