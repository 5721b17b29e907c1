"""SOLID turn-by-turn generation on the fake backend: batching, cleaning, rejection reasons, meta."""

from __future__ import annotations

import pytest

from solid_bench.generators.instructions import InstructionBook
from solid_bench.generators.plans import DialogPlan
from solid_bench.generators.prompts import TURN, turn_messages
from solid_bench.generators.solid import SolidGenerator, clean_utterance, reject_reason
from solid_bench.llm.backends.fake import FakeBackend
from solid_bench.schema import Seed

SEED = Seed("Excel", "Software Product", "stability", "Excel is a spreadsheet.", "Why does Excel crash?")
SEQ5 = (("user", ("OQ",)), ("agent", ("CQ",)), ("user", ("FD",)), ("agent", ("PA",)), ("user", ("GG",)))
SEQ3 = (("user", ("OQ",)), ("agent", ("IR", "PA")), ("user", ("PF",)))


def _plans(k: int) -> list[DialogPlan]:
    return [DialogPlan(f"plan-{i:06d}", SEED, SEQ5 if i % 2 else SEQ3) for i in range(k)]


def _generator(backend, tmp_path, **kw) -> SolidGenerator:
    book = InstructionBook(tmp_path / "instructions.json")
    gen = SolidGenerator(backend, book, **kw)
    book.ensure(gen.needed_instructions(_plans(2)), backend)
    return gen


def test_one_backend_call_per_turn_for_the_whole_batch(tmp_path):
    backend = FakeBackend()
    gen = _generator(backend, tmp_path)
    backend.calls = 0
    dialogs, rejected = gen.generate(_plans(6))
    assert rejected == []
    assert len(dialogs) == 6
    # the starter is utterance 0, so turns 1..4 need 4 calls for 6 dialogs, not 3*2 + 3*4 = 18
    assert backend.calls == 4
    for d in dialogs:
        assert d.utterances[0].text == SEED.starter
        assert d.intent_sequence == tuple(i for _, i in (SEQ5 if d.meta["plan_id"][-1] in "135" else SEQ3))
        assert [u.role for u in d.utterances] == [r for r, _ in (SEQ5 if len(d.utterances) == 5 else SEQ3)]
        assert not any(u.text.lower().startswith(("user:", "agent:")) for u in d.utterances)
        assert d.meta["generator"] == "solid" and d.meta["model"] == "fake"
        assert d.meta["prompt_hashes"]["turn"] == TURN.sha256
        # cost: one request per generated utterance, tokens = whitespace words of prompt and answer
        assert d.meta["cost"]["llm_calls"] == len(d.utterances) - 1
    long = next(d for d in dialogs if len(d.utterances) == 5)
    assert long.meta["cost"]["completion_tokens"] == sum(len(u.text.split()) for u in long.utterances[1:]) + 4  # "Agent:"/"User:"


def test_retries_are_batched_and_failures_rejected_with_reasons(tmp_path):
    backend = FakeBackend(bad_rate=0.5)
    gen = _generator(backend, tmp_path, retries=1)
    backend.calls = 0
    dialogs, rejected = gen.generate(_plans(12))
    assert len(dialogs) + len(rejected) == 12
    assert rejected, "bad_rate=0.5 with one retry must reject some plans"
    # at most one first try and one retry call per turn, whatever the batch size
    assert backend.calls <= 2 * 4
    for r in rejected:
        assert r["reason"] in {"empty", "garbage"}
        assert len([a for a in r["attempts"] if a["turn"] == r["turn"]]) == 2  # first try + 1 retry
        assert r["cost"]["llm_calls"] >= 2
    # accepted dialogs keep every label of their plan: nothing dropped silently
    assert all(len(d.utterances) in (3, 5) for d in dialogs)
    assert sum(d.meta["retries"] for d in dialogs) == sum(len(d.meta["rejected_attempts"]) for d in dialogs)


@pytest.mark.parametrize("raw,clean", [
    ("Agent: Try safe mode.", "Try safe mode."),
    ("**User:** It did not work.", "It did not work."),
    ('"Have you tried restarting?"', "Have you tried restarting?"),
    ("Try safe mode.\nUser: thanks!", "Try safe mode."),
    ("Reply: Thanks a lot", "Thanks a lot"),
    ("System: I'm glad it works now.", "I'm glad it works now."),
    ("I tried it. It works now", "I tried it. It works now"),
    # an instruction-tuned model's acknowledgement of the request is cut when a message follows it
    ("Sure, here's my next message:  Which version of Outlook do you use?", "Which version of Outlook do you use?"),
    ("Sure, I'd be happy to help! Have you tried safe mode?", "I'd be happy to help! Have you tried safe mode?"),
    ("Certainly! Could you send the log?", "Could you send the log?"),
    ("Sure!", "Sure!"),  # nothing follows: kept, and reject_reason calls it meta
    ("Sure thing.", "Sure thing."),
    ("Surely the driver is at fault here.", "Surely the driver is at fault here."),
])
def test_cleaning(raw, clean):
    assert clean_utterance(raw) == clean


def test_a_truncated_answer_loses_its_unfinished_sentence():
    text = "Open the menu. Then choose the repair option and wait for the"
    assert clean_utterance(text, truncated=True) == "Open the menu."
    assert clean_utterance(text) == text  # ended by the model itself: kept whole


@pytest.mark.parametrize("text,previous,intents,reason", [
    ("", [], ("PA",), "empty"),
    ("!!! ???", [], ("PA",), "empty"),
    ("ok ### $$$ %%% ^^^ &&&", [], ("PA",), "garbage"),
    ("Write the next message now please", [], ("PA",), "garbage"),
    ("fix fix fix fix fix fix fix", [], ("PA",), "garbage"),
    ("Try safe mode.", ["try safe mode"], ("PA",), "repeated"),
    ("As an AI, I cannot do that.", [], ("PA",), "refusal"),
    ("Sure, here's a reply for the user.", [], ("PA",), "meta"),
    ("It crashes on start.", [], ("CQ",), "no_question"),
    ("I would like to know how to stop the crash at start.", [], ("OQ",), None),  # a request, no "?"
    ("Please help me fix the crash at start.", [], ("FD", "OQ"), None),
    ("Is there a way to stop it crashing on start", [], ("FQ",), None),
    ("It crashes on start, and that did not help.", [], ("NF", "OQ"), "no_question"),  # a question intent among others
    ("It did not help.", [], ("NF", "PA"), None),
    ("Which 地铁 line goes to the airport?", [], ("FQ",), "non_english"),
    ("Which version do you use?", [], ("CQ",), None),
    ("Thanks!", [], ("GG",), None),
])
def test_reject_reasons(text, previous, intents, reason):
    assert reject_reason(text, previous, intents) == reason


def test_turn_messages_put_the_transcript_before_what_changes():
    history = [("user", "Q?"), ("agent", "A1."), ("agent", "A2."), ("user", "It failed.")]
    fields = dict(entity_name="E", entity_type="T", attribute="a", background="b")
    msgs = turn_messages(history, "agent", instruction="Give a fix.", **fields)
    assert [r for r, _ in msgs] == ["system", "user"]
    user = msgs[1][1]
    assert "User: Q?\nAgent: A1.\nAgent: A2.\nUser: It failed.\n\nWrite the next message, by the support agent." in user
    assert user.endswith("It must do this: Give a fix.\nWrite one to three sentences.")
    opening = turn_messages([], "user", instruction="Ask.", **fields)
    assert "(nothing yet: this is the first message)" in opening[1][1]
    assert "by the user who asked for help" in opening[1][1]


def test_consecutive_turn_prompts_share_everything_up_to_the_last_transcript_line():
    fields = dict(entity_name="E", entity_type="T", attribute="a", background="b")
    history = [("user", "Q?"), ("agent", "Try X.")]
    before = turn_messages(history, "user", instruction="Say it failed.", **fields)
    after = turn_messages(history + [("user", "It failed.")], "agent", instruction="Give a fix.", **fields)
    assert before[0] == after[0]  # one system message for every turn of every dialog
    cut = before[1][1].index("\n\nWrite the next message")
    assert after[1][1].startswith(before[1][1][:cut] + "\nUser: It failed.\n\nWrite the next message")


class _Recorder(FakeBackend):
    """The fake backend, recording each complete() call's requests."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.batches = []

    def complete(self, requests):
        self.batches.append(list(requests))
        return super().complete(requests)


def _tries(gen):
    """Wrap gen.request to record (plan id, utterance, attempt) of every request, in call order."""
    seen, inner = [], gen.request

    def request(s, t, attempt):
        seen.append((s.plan.plan_id, t, attempt))
        return inner(s, t, attempt)

    gen.request = request
    return seen


def test_continuous_batching_keeps_calls_full_until_the_tail(tmp_path):
    backend = _Recorder()
    gen = _generator(backend, tmp_path)
    backend.batches.clear()
    plans = _plans(23)
    dialogs, rejected = gen.generate(plans, batch_size=4)
    assert len(dialogs) == 23 and rejected == []
    sizes = [len(b) for b in backend.batches]
    # one request per generated utterance, plus one per retry
    assert sum(sizes) == sum(p.n_turns - 1 for p in plans) + sum(d.meta["retries"] for d in dialogs)
    # full calls while plans are queued; then the pool drains (at most 4 steps: the longest dialog)
    assert sizes == sorted(sizes, reverse=True)
    assert all(n == 4 for n in sizes[:-4])
    for batch in backend.batches:  # one set of decoding parameters per call (seeds are per request): one backend batch
        assert len({(r.max_new_tokens, r.temperature, r.top_p, r.stop) for r in batch}) == 1


def test_retries_share_a_call_with_other_dialogs_turns(tmp_path):
    backend = _Recorder(bad_rate=0.3)
    gen = _generator(backend, tmp_path, retries=2)
    backend.batches.clear()
    seen = _tries(gen)
    dialogs, rejected = gen.generate(_plans(20), batch_size=6)
    assert len(dialogs) + len(rejected) == 20 and rejected and dialogs
    calls, pos = [], 0
    for batch in backend.batches:
        calls.append(seen[pos:pos + len(batch)])
        pos += len(batch)
    mixed = [c for c in calls if any(a > 0 for _, _, a in c) and any(a == 0 for _, _, a in c)]
    assert mixed, "a retry must go in the same call as other dialogs' first tries"
    for c in calls:
        assert len({pid for pid, _, _ in c}) == len(c)  # one request per dialog per call
    sizes = [len(b) for b in backend.batches]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] == 6  # full until the queue is empty
    for batch in backend.batches:  # temperature 0.7: a retry resamples with the same temperature
        assert len({r.temperature for r in batch}) == 1
    for r in rejected:  # bounded retries, reasons recorded
        assert len([a for a in r["attempts"] if a["turn"] == r["turn"]]) == 3


def test_continuous_batching_is_deterministic(tmp_path):
    def run():
        gen = _generator(FakeBackend(bad_rate=0.3), tmp_path)
        return gen.generate(_plans(15), batch_size=4)

    (d1, r1), (d2, r2) = run(), run()
    assert [d.meta["plan_id"] for d in d1] == [d.meta["plan_id"] for d in d2]
    assert [[u.text for u in d.utterances] for d in d1] == [[u.text for u in d.utterances] for d in d2]

    def untimed(records):  # wall-clock seconds are measured, not determined
        return [{**r, "cost": {k: v for k, v in r["cost"].items() if k != "seconds"}} for r in records]

    assert untimed(r1) == untimed(r2)


def test_outcome_does_not_depend_on_batch_size_or_resume_point(tmp_path):
    """Seeds come from (plan, utterance, attempt): any batching, or a restart after some plans, writes the same dialogs."""
    plans = _plans(12)

    def texts(batch_size, chunks):
        gen = _generator(FakeBackend(bad_rate=0.6), tmp_path)
        out = {}
        for chunk in chunks:
            dialogs, rejected = gen.generate([plans[i] for i in chunk], batch_size=batch_size)
            out |= {d.meta["plan_id"]: [u.text for u in d.utterances] for d in dialogs}
            out |= {r["plan_id"]: r["reason"] for r in rejected}
        return out

    whole = texts(4, [range(12)])
    assert texts(1, [range(12)]) == whole
    assert texts(5, [range(3), range(3, 7), range(7, 12)]) == whole  # two "resumes"
    assert len(whole) == 12 and any(isinstance(v, str) for v in whole.values())  # some plans were rejected


def test_greedy_retries_sample(tmp_path):
    gen = _generator(FakeBackend(), tmp_path, temperature=0.0)
    s = gen._start(_plans(1)[0])
    assert gen.request(s, 1, 0).temperature == 0.0
    assert gen.request(s, 1, 1).temperature == 0.9  # greedy would only repeat the rejected answer
