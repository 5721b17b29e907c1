"""SOLID-RL generation over a scripted fake backend: one call per dialog, retries, rejections, run folder, resume."""

from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest

from solid_bench.corpora import resolve
from solid_bench.errors import UserError
from solid_bench.generators.fake_rules import SolidRules
from solid_bench.generators.pipeline import GenerationConfig, run_generation
from solid_bench.generators.plans import DialogPlan
from solid_bench.generators.runfolder import Meter
from solid_bench.generators.solid_rl import SolidRLGenerator, model_quality_tag
from solid_bench.generators.solid_rl_format import SYSTEM_PROMPT
from solid_bench.llm.backends.fake import FakeBackend
from solid_bench.schema import Seed

PLAN_LINE = re.compile(r"^\d+\. (\[(?:user|agent)\|[A-Z_]+\])$", re.M)


def rl_rule(request, rng):
    """Answer SOLID-RL prompts: entity 'Broken' always garbage, 'Flaky' garbage on the first try only."""
    system, user = request.messages[0][1], request.messages[-1][1]
    if system != SYSTEM_PROMPT:
        return None
    if "Entity: Broken" in user or ("Entity: Flaky" in user and request.temperature < 0.9):
        return "Sure! Here is your dialog."
    return "\n".join(f"{tag} {' '.join(rng.choice(['reset', 'outlook', 'works', 'try']) for _ in range(4))}"
                     for tag in PLAN_LINE.findall(user))


def seed(name: str) -> Seed:
    return Seed(name, "software", "price", "A mail client.", f"How much is {name}?")


TURNS = (("user", ("OQ",)), ("agent", ("FD", "PA")), ("user", ("PF",)))


def test_one_call_per_dialog_retries_then_rejects_with_the_parser_reason():
    backend = FakeBackend(rules=(rl_rule,))
    meter = Meter()
    plans = [DialogPlan("p-0", seed("Outlook"), TURNS), DialogPlan("p-1", seed("Flaky"), TURNS),
             DialogPlan("p-2", seed("Broken"), TURNS[:2])]
    gen = SolidRLGenerator(backend, None, meter, seed=0, retries=1, max_new_tokens=50)
    dialogs, rejected = gen.generate(plans)
    assert backend.calls == 2  # first attempt for all three, one retry batch for the two failures
    assert [d.id for d in dialogs] == ["solid-rl-p-0", "solid-rl-p-1"]
    for d in dialogs:
        assert tuple((u.role, u.intents) for u in d.utterances) == TURNS
        assert d.meta["generator"] == "solid-rl" and d.meta["quality_tag"] == "high"
    assert [d.meta["cost"]["llm_calls"] for d in dialogs] == [1, 2]
    assert dialogs[1].meta["retries"] == 1 and dialogs[1].meta["rejected_attempts"] == ["garbage-line"]
    (r,) = rejected
    assert r["plan_id"] == "p-2" and r["reason"] == "garbage-line" and len(r["attempts"]) == 2
    assert r["cost"]["llm_calls"] == 2
    assert meter.totals()["dialogs"]["llm_calls"] == 5
    # per-request budget: 50 tokens per utterance x turns rounded up to a multiple of 4
    assert gen.request(plans[0], 0).max_new_tokens == 200
    assert "Quality: high" in gen.request(plans[0], 0).messages[1][1]


def test_quality_tag_follows_the_model_folder(tmp_path):
    (tmp_path / "training.json").write_text(json.dumps({"quality_tag": None}))
    cached = SimpleNamespace(model_id="x", backend=SimpleNamespace(model=str(tmp_path)))
    assert model_quality_tag(cached) is None
    assert model_quality_tag(SimpleNamespace(model="hub/id")) == "high"
    gen = SolidRLGenerator(cached, None)
    assert "Quality:" not in gen.request(DialogPlan("p", seed("A"), TURNS), 0).messages[1][1]


def _seeds_file(path):
    names = ["Outlook", "Excel", "Broken", "Skype", "Word", "Teams"]
    path.write_text("".join(json.dumps(seed(n).to_dict()) + "\n" for n in names))
    return path


def test_run_folder_resume_and_same_plans_as_solid(tiny_data, tmp_path):
    seeds = _seeds_file(tmp_path / "seeds.jsonl")
    train = resolve("human", "train")
    backend = FakeBackend(rules=(rl_rule, SolidRules()))
    cfg = GenerationConfig(out=str(tmp_path / "rl"), n=6, method="solid-rl", backend="fake", seeds_file=str(seeds),
                           batch_size=4, retries=1, cache=False)
    m = run_generation(cfg, train=train, backend=backend, log=lambda s: None)
    assert m["status"] == "complete"
    assert m["counts"]["accepted"] == 5 and m["counts"]["rejected"] == 1
    assert m["counts"]["rejected_by_reason"] == {"garbage-line": 1}
    assert m["cost"]["dialogs"]["llm_calls"] == 6 + 1  # one call per dialog, one retry for 'Broken'
    rows = [json.loads(line) for line in (tmp_path / "rl" / "dialogs.jsonl").read_text().splitlines()]
    rejected = [json.loads(line) for line in (tmp_path / "rl" / "rejected.jsonl").read_text().splitlines()]
    assert len(rows) == 5 and rejected[0]["reason"] == "garbage-line"
    calls = backend.calls
    m2 = run_generation(cfg, train=train, backend=backend, log=lambda s: None)
    assert backend.calls == calls and m2["counts"] == m["counts"]  # resume: nothing left to do
    # SOLID with the same seeds and settings plans the same intent sequences, seed for seed
    solid = run_generation(GenerationConfig(out=str(tmp_path / "solid"), n=6, backend="fake", seeds_file=str(seeds),
                                            batch_size=4, cache=False),
                           train=train, backend=FakeBackend(), log=lambda s: None)
    assert solid["status"] == "complete"
    solid_rows = {json.loads(line)["meta"]["plan_id"]: json.loads(line)
                  for line in (tmp_path / "solid" / "dialogs.jsonl").read_text().splitlines()}
    common = [r for r in rows if r["meta"]["plan_id"] in solid_rows]
    assert common
    for r in common:
        s = solid_rows[r["meta"]["plan_id"]]
        assert [(u["role"], u["intents"]) for u in r["utterances"]] == [(u["role"], u["intents"]) for u in s["utterances"]]
        assert r["seed"] == s["seed"]


def test_solid_rl_corpus_explains_how_to_make_it_then_loads_it(tiny_data, tmp_path):
    with pytest.raises(UserError) as e:
        resolve("solid-rl", "train")
    assert "solid-bench train-generator --from" in str(e.value) and "generate --method solid-rl" in str(e.value)
    from solid_bench.sources.solid_rl import default_folder

    cfg = GenerationConfig(out=str(default_folder()), n=3, method="solid-rl", backend="fake",
                           seeds_file=str(_seeds_file(tmp_path / "s.jsonl")), cache=False)
    run_generation(cfg, backend=FakeBackend(rules=(rl_rule, SolidRules())), log=lambda s: None)
    corpus = resolve("solid-rl", "test")
    assert corpus.n_dialogs == 2 and corpus.synthetic and not corpus.has_human  # 'Broken' (plan 2) is rejected
    # the cost is all-in: the rejected plan's calls are spread over the two accepted dialogs
    manifest = json.loads((default_folder() / "manifest.json").read_text())
    assert manifest["cost"]["all"]["llm_calls"] == 5  # 1 + 1 + (1 + 2 retries) for 'Broken'
    cost = corpus.generation_cost()
    assert cost["all_in"]["llm_calls"] == pytest.approx(5) and cost["all_in"]["dialogs"] == 2
    assert cost["marginal"]["llm_calls"] == 2  # each dialog's own calls stay recorded: the marginal figure
    assert sum(d.meta["cost"]["llm_calls"] for d in corpus.dialogs) == 2
