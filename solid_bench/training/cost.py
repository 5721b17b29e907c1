"""What making a SOLID-RL generator costs: compute seconds as they are spent, the tokens its DPO stage
generated, and the roll-up with its training corpus's all-in generation cost.

``OUT/compute.jsonl`` is the compute ledger: one line per slice of wall-clock seconds that
``train-generator`` spent working on ``OUT``, written as the seconds are spent (at every checkpoint
save, after every batch of the DPO rejected side, at the end of each stage, and at exit), so a run
killed without warning (``kill -9``, a machine taken away) loses only the seconds since its last
line: one checkpoint interval or one generation batch. An invocation that finds every stage done
and only rebuilds weights from committed adapters writes nothing: rebuilding is not making.

``OUT/stages/dpo/generation-cost.json`` counts the LLM calls and tokens of the rejected side (the
SFT model writing a dialog for every training prompt), summed from that stage's answer cache, so
it counts batches written by a run that was later killed as well. Its seconds are already in the
ledger (the generation runs inside train-generator) and are not added twice.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

COMPUTE_LEDGER = "compute.jsonl"
GENERATION_COST = "generation-cost.json"
GENERATION_CACHE = "generation-cache.sqlite"  # the DPO stage's answer cache (local, not committed)
COUNT_KEYS = ("llm_calls", "prompt_tokens", "completion_tokens")  # what generation adds besides seconds
COST_KEYS = (*COUNT_KEYS, "seconds")


class ComputeLedger:
    """Appends the wall seconds of one ``train-generator`` invocation to ``OUT/compute.jsonl`` as it works.

    ``mark(status)`` writes the seconds since the previous line, once the invocation has started real
    work (``working()``: a stage trains or the SFT model generates) and has claimed ``OUT`` (its config
    file exists); before that the seconds accumulate into the first line written."""

    def __init__(self, out: Path, claim_file: str):
        self.path = Path(out) / COMPUTE_LEDGER
        self.claim = Path(out) / claim_file
        self.last = time.perf_counter()
        self.busy = False

    def working(self) -> None:
        """This invocation is now making something (training or generating), so its seconds are cost."""
        self.busy = True

    def worked(self, status: str) -> float:
        """A slice of real work (a generation batch) just ended: ``working()`` and ``mark(status)``."""
        self.working()
        return self.mark(status)

    def mark(self, status: str) -> float:
        """Append the seconds since the last line with ``status`` (when working on a claimed folder); the seconds written."""
        from solid_bench.generators.runfolder import append_jsonl

        if not (self.busy and self.claim.is_file()):
            return 0.0
        now = time.perf_counter()
        seconds = round(now - self.last, 3)
        append_jsonl(self.path, [{"seconds": seconds, "status": status}])
        self.last = now
        return seconds

    def trainer_callback(self):
        """A transformers TrainerCallback: the stage is working from train begin, and every checkpoint save writes a line."""
        from transformers import TrainerCallback

        ledger = self

        class ComputeLedgerCallback(TrainerCallback):
            def on_train_begin(self, args, state, control, **kwargs):
                ledger.working()

            def on_save(self, args, state, control, **kwargs):
                ledger.mark(f"checkpoint-{state.global_step}")

        return ComputeLedgerCallback()


def compute_seconds(out: Path) -> float:
    """Total seconds in ``out``'s compute ledger (0 when there is none)."""
    from solid_bench.generators.runfolder import read_jsonl

    return sum(float(r.get("seconds", 0.0)) for r in read_jsonl(Path(out) / COMPUTE_LEDGER))


def rejected_side_cost(stage_dir: Path) -> dict | None:
    """LLM calls and tokens of the DPO rejected side: ``stage_dir/generation-cost.json``, written from the
    stage's answer cache the first time it is asked for (kept, and committed with the run, since the cache is
    not); None when neither exists (pairs made elsewhere: their generation cost is unknown)."""
    from ..llm.cache import cache_totals
    from ..outputs import write_json_atomic

    stage_dir = Path(stage_dir)
    record = stage_dir / GENERATION_COST
    if record.is_file():
        return json.loads(record.read_text(encoding="utf-8"))
    cache = stage_dir / GENERATION_CACHE
    if not cache.is_file():
        return None
    info = cache_totals(cache) | {"source": cache.name,
                                  "note": "seconds are inside compute.jsonl already; only calls and tokens add to the making cost"}
    info["seconds"] = round(info["seconds"], 3)
    write_json_atomic(record, info)
    return info


def making_cost(corpus, out: Path, generation: dict | None = None) -> dict:
    """The cost of making a generator: its training corpus's all-in generation cost, the calls and tokens
    its DPO stage generated (``generation``, from ``rejected_side_cost``), and its compute seconds."""
    gen = corpus.generation_cost() or {}
    data = gen.get("all_in") or gen.get("marginal") or {}
    compute = compute_seconds(out)
    total = {k: data.get(k, 0) for k in COST_KEYS}
    for k in COUNT_KEYS:
        total[k] += (generation or {}).get(k, 0)
    total["seconds"] = float(total["seconds"]) + compute
    return {
        "training_corpus": {"spec": corpus.spec, "sha256": corpus.sha256, "dialogs": len(corpus.dialogs),
                            "all_in": bool(gen.get("all_in")), "cost": {k: data.get(k, 0) for k in COST_KEYS}},
        "dpo_generation": {k: generation[k] for k in COUNT_KEYS} if generation else None,
        "compute_seconds": round(compute, 3),
        "total": total,
    }
