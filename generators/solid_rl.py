"""SOLID-RL generation: ONE backend call writes a whole intent-aware dialog (SOLID needs one per turn).

Same plans as SOLID (same seeds and intent sequences for the same run settings and ``--seeds``),
so costs compare seed for seed. Requests of a batch go to the backend together; an output that
does not parse against its plan (wrong count, roles or intents, garbage, empty text) is retried
``retries`` times with a fresh sampling seed, then the plan is rejected with the parser's reason.

The prompt carries ``Quality: high`` unless the model folder's ``training.json`` says the model
was trained without LMQ (``quality_tag: null``); the ``quality_tag`` option overrides both.
Token budget per request: ``max_new_tokens`` per utterance times the plan's turn count rounded
up to a multiple of 4 (few distinct values, so backends can still batch by decoding parameters).
"""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

from solid_bench.llm.base import Request
from solid_bench.schema import Dialog

from .base import BaseGenerator
from .registry import GENERATORS
from .runfolder import add_completions, empty_cost
from .solid_rl_format import build_prompt, parse

_UNSET = object()


def prompt_sha256() -> str:
    """Hash of the one-step prompt, rendered for a fixed dummy plan (changes when the wording does)."""
    from solid_bench.schema import Seed

    msgs = build_prompt(Seed("ENTITY", "TYPE", "ATTRIBUTE", "BACKGROUND", "STARTER"), [("user", "OQ"), ("agent", "PA")], "high")
    return hashlib.sha256(json.dumps(msgs).encode("utf-8")).hexdigest()


def model_quality_tag(backend) -> str | None:
    """The quality tag a trained SOLID-RL model expects, read from its folder's training.json ('high' if unknown)."""
    seen = 0
    while backend is not None and seen < 4:
        folder = getattr(backend, "model", None)
        if isinstance(folder, (str, Path)) and (Path(folder).expanduser() / "training.json").is_file():
            info = json.loads((Path(folder).expanduser() / "training.json").read_text(encoding="utf-8"))
            return info.get("quality_tag", "high")
        backend, seen = getattr(backend, "backend", None), seen + 1  # unwrap a cache wrapper
    return "high"


@GENERATORS.register("solid-rl")
class SolidRLGenerator(BaseGenerator):
    """SOLID-RL: a fine-tuned LLM writes each whole dialog in one call; outputs checked against the plan."""

    description = "SOLID-RL (Askari et al. 2024): a fine-tuned model writes the whole intent-aware dialog in one call"

    def __init__(self, backend, instructions=None, meter=None, *, seed: int = 0, max_new_tokens: int = 96,
                 temperature: float = 0.7, retries: int = 2, quality_tag=_UNSET, **_ignored):
        self.backend, self.meter, self.seed = backend, meter, seed
        self.max_new_tokens, self.temperature, self.retries = max_new_tokens, temperature, retries
        self.quality_tag = model_quality_tag(backend) if quality_tag is _UNSET else quality_tag

    def prompt_hashes(self) -> dict[str, str]:
        return {"one_step": prompt_sha256()}

    def call_seed(self, plan_id: str, attempt: int) -> int:
        """The sampling seed of one try: a function of the run seed, plan and attempt only (resume-safe)."""
        return random.Random(f"{self.seed}:{plan_id}:rl:{attempt}").randrange(2**31)

    def request(self, plan, attempt: int) -> Request:
        """The one-call request for a whole plan."""
        bucket = -(-plan.n_turns // 4) * 4
        temperature = self.temperature if attempt == 0 else max(self.temperature, 0.9)
        return Request(build_prompt(plan.seed, plan.turns, self.quality_tag), max_new_tokens=self.max_new_tokens * bucket,
                       temperature=temperature, seed=self.call_seed(plan.plan_id, attempt))

    def generate(self, plans) -> tuple[list[Dialog], list[dict]]:
        """Generate one batch of plans; returns (accepted dialogs, rejection records)."""
        costs = {p.plan_id: empty_cost() for p in plans}
        retry_costs = {p.plan_id: empty_cost() for p in plans}  # the calls of rejected tries
        attempts: dict[str, list] = {p.plan_id: [] for p in plans}
        done: dict[str, tuple] = {}
        todo = list(plans)
        for attempt in range(self.retries + 1):
            if not todo:
                break
            completions = self.backend.complete([self.request(p, attempt) for p in todo])
            if self.meter is not None:
                self.meter.add("dialogs", completions)
            again = []
            for p, c in zip(todo, completions):
                add_completions(costs[p.plan_id], [c])
                utts, reason = parse(c.text, p.turns)
                if utts is not None:
                    done[p.plan_id] = (utts, attempt)
                else:
                    add_completions(retry_costs[p.plan_id], [c])
                    attempts[p.plan_id].append({"attempt": attempt, "reason": reason, "raw": c.text[:400]})
                    again.append(p)
            todo = again
        model = self.backend.model_id
        dialogs, rejected = [], []
        for p in plans:
            cost, cost_retries = ({k: (round(v, 4) if isinstance(v, float) else v) for k, v in c[p.plan_id].items()}
                                  for c in (costs, retry_costs))
            if p.plan_id not in done:
                last = attempts[p.plan_id][-1]["reason"]
                rejected.append({"plan_id": p.plan_id, "reason": last.split(":", 1)[0], "detail": last,
                                 "turns": [[r, list(i)] for r, i in p.turns], "attempts": attempts[p.plan_id],
                                 "cost": cost, "model": model})
                continue
            utts, retries = done[p.plan_id]
            meta = {"generator": "solid-rl", "model": model, "plan_id": p.plan_id, "prompt_hashes": self.prompt_hashes(),
                    "quality_tag": self.quality_tag, "cost": cost, "cost_retries": cost_retries, "retries": retries,
                    "rejected_attempts": [a["reason"].split(":", 1)[0] for a in attempts[p.plan_id]]}
            dialogs.append(Dialog(f"solid-rl-{p.plan_id}", "solid-rl", utts, p.seed, meta))
        return dialogs, rejected
