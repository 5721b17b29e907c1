"""llm-fewshot: shot selection, answer parsing, and unparseable answers tallied as no-answer rows."""

from __future__ import annotations

import numpy as np

from solid_bench.examples import Examples
from solid_bench.llm.backends.fake import FakeBackend
from solid_bench.predictors import create
from solid_bench.schema import MSDIALOG, Dialog, Utterance


def _examples():
    dialogs = []
    for i in range(6):
        dialogs.append(Dialog(f"d{i}", "t", (
            Utterance("user", f"how do i fix error {i}?", ("OQ",)),
            Utterance("agent", f"try restarting {i}", ("PA",)),
            Utterance("user", f"it works now {i}", ("PF",) if i % 2 else ("FD", "NF")),
        )))
    return Examples.from_dialogs(dialogs)


def answer_by_role(request, rng):
    """A fake LLM that answers OQ for questions, PA for agent turns and garbage otherwise."""
    query = request.messages[-1][1].rsplit("Role: ", 1)[1]
    if query.startswith("agent"):
        return "PA\nbecause it proposes a fix"
    if "?" in query.split("Utterance: ", 1)[1].rsplit("\nLabels?", 1)[0]:
        return " oq_fd."
    return "I am not sure."


def test_shots_cover_the_most_frequent_combinations_first():
    p = create("llm-fewshot", k=3).fit(_examples(), None, MSDIALOG, seed=0)
    combos = [shot[3] for shot in p.shots_]
    assert sorted(combos) == ["OQ", "PA", "PF"] or sorted(combos) == ["FD_NF", "OQ", "PA"]
    chat = p.messages("user", "", "hello")
    assert chat[0][0] == "system" and "OQ: Original Question" in chat[0][1]
    assert [r for r, _ in chat[1:]] == ["user", "assistant"] * len(p.shots_) + ["user"]
    assert chat[-1][1].startswith("Role: user\nPrevious: -\nUtterance: hello")
    assert all(p.parse(answer) for _, answer in chat[2:-1:2])  # every shot's answer is a parseable label set


def test_parse_reads_known_codes_from_the_first_line():
    p = create("llm-fewshot").fit(_examples(), None, MSDIALOG, seed=0)
    assert p.parse(" fd_pa\nJK") == ("FD", "PA")
    assert p.parse("Labels: PA, IR.") == ("PA", "IR")
    assert p.parse("no idea") is None and p.parse("") is None


def test_unparseable_answers_are_nan_rows_and_tallied():
    ex = _examples()
    p = create("llm-fewshot", k=2, batch_size=4, cache=False).fit(ex, None, MSDIALOG, seed=0)
    p._backend_ = FakeBackend(rules=[answer_by_role])
    proba = p.predict_proba(ex)
    assert proba.shape == (18, len(MSDIALOG))
    user_followups = [i for i, e in enumerate(ex) if e.position == 2]
    assert np.isnan(proba[user_followups]).all()
    assert p.last_stats_["unparseable"] == 6 and p.last_stats_["answers"] == 18
    first = [i for i, e in enumerate(ex) if e.position == 0]
    assert (proba[first][:, [MSDIALOG.index("OQ"), MSDIALOG.index("FD")]] == 1).all()
    agent = [i for i, e in enumerate(ex) if e.role == "agent"]
    assert proba[agent].sum() == 6 and (proba[agent][:, MSDIALOG.index("PA")] == 1).all()


def test_backend_options_reach_the_backend(monkeypatch):
    import solid_bench.llm.cache as cache

    seen = {}
    monkeypatch.setattr(cache, "open_backend", lambda name, model, cache_path, **options: seen.update(
        name=name, model=model, cache_path=cache_path, options=options))
    p = create("llm-fewshot", backend="llama-server", model="qwen2.5-coder-1.5b", cache=False,
               options={"servers": 2, "parallel": 8})
    p._backend()
    assert seen == {"name": "llama-server", "model": "qwen2.5-coder-1.5b", "cache_path": False,
                    "options": {"servers": 2, "parallel": 8}}
    assert p.model_id == "llama-server:qwen2.5-coder-1.5b"
