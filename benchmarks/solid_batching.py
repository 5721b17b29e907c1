"""SOLID generation: batched turn-by-turn against one dialog at a time, side by side in one run.

Both sides use the same backend object (transformers, default SmolLM2), the same seeds (a seeds
file with every field filled, so no self-seeding calls), the same plans, greedy decoding and
fixed output lengths (``ignore_eos``: every completion is exactly ``--max-new-tokens`` tokens), so
they do the same work and differ only in batching. No cache. Reported per side: wall seconds of
the whole run (instruction merging included), accepted dialogs, dialogs per hour, LLM calls,
completion tokens per second. Then raw ``model.generate`` tokens/s at the same batch size, on
prompts of the same mean length, for the pipeline-overhead ratio.

Run: OMP_NUM_THREADS=1 python benchmarks/solid_batching.py --seeds runs/solid-200/seeds.jsonl --n 8 --batch-size 8
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path


def run_side(llm, seeds: Path, n: int, batch_size: int, max_new_tokens: int, out: Path) -> dict:
    from solid_bench.generators.pipeline import GenerationConfig, run_generation

    cfg = GenerationConfig(out=str(out), n=n, batch_size=batch_size, seeds_file=str(seeds), cache=False,
                           max_new_tokens=max_new_tokens, temperature=0.0)
    start = time.perf_counter()
    manifest = run_generation(cfg, backend=llm, log=lambda s: None)
    wall = time.perf_counter() - start
    cost = manifest["cost"]["all"]
    calls, completion, prompt = cost.get("llm_calls", 0), cost["completion_tokens"], cost["prompt_tokens"]
    accepted = manifest["counts"]["accepted"]
    return {"batch_size": batch_size, "wall_seconds": wall, "accepted": accepted, "llm_calls": calls,
            "prompt_tokens": prompt, "completion_tokens": completion,
            "dialogs_per_hour": 3600 * accepted / wall, "tokens_per_second": completion / wall}


def raw_generate(llm, batch_size: int, prompt_tokens: int, max_new_tokens: int, runs: int = 3) -> float:
    """Median tokens/s of model.generate on a full batch of prompts of ``prompt_tokens`` tokens."""
    import torch

    model, tok = llm.load()
    words = ("please explain how the settings of this product can be changed after the last update " * 64).split()
    text = " ".join(words[: max(1, int(prompt_tokens * 0.75))])
    enc = tok([text] * batch_size, return_tensors="pt", padding=True, truncation=True, max_length=prompt_tokens)
    rates = []
    for _ in range(runs):
        start = time.perf_counter()
        with torch.no_grad():
            model.generate(**enc, max_new_tokens=max_new_tokens, min_new_tokens=max_new_tokens, do_sample=False,
                           pad_token_id=tok.pad_token_id or tok.eos_token_id)
        rates.append(batch_size * max_new_tokens / (time.perf_counter() - start))
    return statistics.median(rates)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", required=True, type=Path, help="seeds JSONL with every field filled")
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--max-new-tokens", type=int, default=48)
    ap.add_argument("--model", default=None)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    from solid_bench.llm import create_backend

    llm = create_backend("transformers", args.model, batch_size=args.batch_size, ignore_eos=True)
    llm.load()
    tmp = Path(tempfile.mkdtemp(prefix="solid-batching-"))
    try:
        batched = run_side(llm, args.seeds, args.n, args.batch_size, args.max_new_tokens, tmp / "batched")
        single = run_side(llm, args.seeds, args.n, 1, args.max_new_tokens, tmp / "single")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    mean_prompt = int(batched["prompt_tokens"] / max(1, batched["llm_calls"]))
    raw = raw_generate(llm, args.batch_size, mean_prompt, args.max_new_tokens)
    for side in (batched, single):
        print(f"batch {side['batch_size']:>3}: {side['wall_seconds']:8.1f} s  accepted {side['accepted']:>3}  "
              f"calls {side['llm_calls']:>4}  completion tokens {side['completion_tokens']:>6}  "
              f"{side['dialogs_per_hour']:8.1f} dialogs/h  {side['tokens_per_second']:6.1f} tok/s")
    speedup = batched["dialogs_per_hour"] / max(1e-9, single["dialogs_per_hour"])
    print(f"batched / one-at-a-time dialogs per hour: {speedup:.2f}x")
    print(f"raw model.generate at batch {args.batch_size} (prompt ~{mean_prompt} tokens): {raw:.1f} tok/s; "
          f"generator / raw: {batched['tokens_per_second'] / raw:.2f}")
    if args.json:
        args.json.write_text(json.dumps({"batched": batched, "single": single, "raw_tokens_per_second": raw,
                                         "speedup": speedup}, indent=1))


if __name__ == "__main__":
    main()
