"""Report on a generated run folder: acceptance, rejection reasons, turns, intent-combination
distance to MSDialog train, and cost per 1,000 dialogs (tokens and CPU/LLM seconds).

Run: python benchmarks/corpus_report.py runs/solid-200
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    args = ap.parse_args()

    from solid_bench.corpora import resolve
    from solid_bench.generators.plans import combination_tvd

    manifest = json.loads((args.run / "manifest.json").read_text())
    counts, cost = manifest["counts"], manifest["cost"]
    synthetic = resolve(str(args.run), "train")
    human = resolve("human", "train")
    plans = counts["accepted"] + counts["rejected"]
    total = cost["all"]
    tokens = total["prompt_tokens"] + total["completion_tokens"]
    human_turns = human.n_utterances / human.n_dialogs
    print(f"run: {args.run}  model: {manifest.get('model')}  status: {manifest.get('status')}")
    print(f"plans {plans}: accepted {counts['accepted']} ({counts['accepted'] / plans:.1%}), rejected {counts['rejected']}")
    print(f"rejections by reason: {counts['rejected_by_reason']}")
    print(f"retried utterances in accepted dialogs: {counts.get('retried_utterances')}")
    print(f"mean turns: {counts['mean_turns']:.2f} (MSDialog train {human_turns:.2f})")
    print(f"intent-combination TVD vs MSDialog train: {combination_tvd(synthetic.dialogs, human.dialogs):.3f}")
    for stage, c in cost.items():
        print(f"  cost[{stage}]: calls {c['llm_calls']:.0f}  prompt {c['prompt_tokens']:.0f}  "
              f"completion {c['completion_tokens']:.0f}  LLM seconds {c['seconds']:.0f}")
    per = 1000 / max(1, counts["accepted"])
    print(f"per 1,000 accepted dialogs: {tokens * per / 1e6:.2f}M tokens, {total['llm_calls'] * per:.0f} LLM calls, "
          f"{total['seconds'] * per / 3600:.1f} LLM-hours of wall time on this CPU")


if __name__ == "__main__":
    main()
