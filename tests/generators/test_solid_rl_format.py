"""SOLID-RL one-step format: round trips (hypothesis) and each rejection reason."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from solid_bench.generators.solid_rl_format import build_prompt, format_target, normalise_text, parse, steps
from solid_bench.schema import MSDIALOG_LABELS, Dialog, Seed, Utterance

label_sets = st.lists(st.sampled_from(MSDIALOG_LABELS), min_size=1, max_size=4, unique=True).map(tuple)
texts = st.text(min_size=1, max_size=80).filter(lambda t: normalise_text(t) != "")
utterances = st.builds(Utterance, role=st.sampled_from(("user", "agent")), text=texts, intents=label_sets)
dialogs = st.lists(utterances, min_size=1, max_size=8).map(lambda us: Dialog("d", "test", tuple(us)))


def _seq(d: Dialog):
    return [(u.role, u.intents) for u in d.utterances]


@settings(max_examples=200, deadline=None)
@given(dialogs)
def test_format_then_parse_round_trips_exactly(dialog):
    out = format_target(dialog)
    assert out.count("\n") == len(dialog.utterances) - 1
    utts, reason = parse(out, _seq(dialog))
    assert reason == "ok"
    expected = tuple(Utterance(u.role, normalise_text(u.text), u.intents) for u in dialog.utterances)
    assert utts == expected


@settings(max_examples=100, deadline=None)
@given(dialogs, st.data())
def test_a_changed_intent_set_is_rejected_at_its_position(dialog, data):
    i = data.draw(st.integers(0, len(dialog.utterances) - 1))
    other = data.draw(label_sets.filter(lambda ls: set(ls) != set(dialog.utterances[i].intents)))
    seq = _seq(dialog)
    seq[i] = (seq[i][0], other)
    utts, reason = parse(format_target(dialog), seq)
    assert utts is None
    assert reason.startswith(f"intent-mismatch: utterance {i + 1} ")


@settings(max_examples=100, deadline=None)
@given(dialogs, st.data())
def test_a_flipped_role_is_rejected_at_its_position(dialog, data):
    i = data.draw(st.integers(0, len(dialog.utterances) - 1))
    seq = _seq(dialog)
    seq[i] = ({"user": "agent", "agent": "user"}[seq[i][0]], seq[i][1])
    utts, reason = parse(format_target(dialog), seq)
    assert utts is None and reason.startswith(f"role-mismatch: utterance {i + 1} ")


@settings(max_examples=50, deadline=None)
@given(dialogs, st.integers(1, 3))
def test_extra_or_missing_steps_are_a_count_mismatch(dialog, extra):
    seq = _seq(dialog) + [("user", ("FD",))] * extra
    utts, reason = parse(format_target(dialog), seq)
    assert utts is None and reason == f"count-mismatch: {len(dialog.utterances)} utterances, expected {len(seq)}"


def test_intent_order_inside_a_tag_does_not_matter_and_the_request_order_is_kept():
    utts, reason = parse("[user|OQ] hi there\n\n[agent|PA_FD]   try  safe mode \n", [("user", "OQ"), ("agent", ("FD", "PA"))])
    assert reason == "ok"
    assert utts == (Utterance("user", "hi there", ("OQ",)), Utterance("agent", "try safe mode", ("FD", "PA")))


def test_copied_plan_numbers_bullets_fences_and_a_missing_space_are_tolerated():
    out = "```\n1. [user|OQ] hi\n- [agent|PA]try this\n```"
    assert parse(out, [("user", "OQ"), ("agent", "PA")]) == (
        (Utterance("user", "hi", ("OQ",)), Utterance("agent", "try this", ("PA",))), "ok")


def test_rejections_name_the_reason():
    seq = [("user", "OQ"), ("agent", "PA")]
    assert parse("", seq) == (None, "empty-output: the model wrote nothing")
    assert parse("  \n \n", seq)[1].startswith("empty-output")
    assert parse("Sure! Here is the dialog:\n[user|OQ] a\n[agent|PA] b", seq)[1].startswith("garbage-line: line 1 ")
    assert parse("[user|OQ] a\n[agent|PA]", seq)[1] == "empty-text: utterance 2 has no text"
    assert parse("[user|OQ] a\n[agent|PA]    ", seq)[1] == "empty-text: utterance 2 has no text"
    assert parse("[user|OQ] a\n[bot|PA] b", seq)[1].startswith("garbage-line: line 2 ")
    assert parse("[user|OQ] a\n[agent|PA_PA] b", seq)[1].startswith("intent-mismatch: utterance 2 ")
    assert parse("[user|OQ] a", seq)[1] == "count-mismatch: 1 utterances, expected 2"


def test_prompt_holds_the_seed_the_sequence_and_the_quality_tag():
    seed = Seed("Outlook 2016", "software", "password reset", "Outlook is an email\nclient.", "My outlook asks again")
    seq = [("user", "OQ"), ("agent", ("CQ", "IR")), ("user", "FD")]
    msgs = build_prompt(seed, seq, "high")
    assert [r for r, _ in msgs] == ["system", "user"]
    text = msgs[1][1]
    for piece in ("Entity: Outlook 2016", "Entity type: software", "Attribute: password reset",
                  "Background: Outlook is an email client.", "Conversation starter: My outlook asks again",
                  "Quality: high", "exactly 3 utterances", "1. [user|OQ]", "2. [agent|CQ_IR]", "3. [user|FD]",
                  "- IR: Information Request"):
        assert piece in text, piece
    assert "Quality:" not in build_prompt(seed, seq, None)[1][1]
    assert steps(seq) == (("user", ("OQ",)), ("agent", ("CQ", "IR")), ("user", ("FD",)))
