"""SOLID against SOLID-RL: cost per ACCEPTED dialog on the same plans, backend and batch size, in one run.

Both sides get the same plans: the same seeds file (every field filled, so no self-seeding call
inside the run), the same ``--seed`` (so plan i has the same seed and intent sequence on both
sides), the same ``transformers`` backend class, batch size, sampling temperature and
per-utterance token limit, and no cache. SOLID uses the base model (default: the local
SmolLM2-135M-Instruct) and writes one LLM call per utterance (plus one-off merges of
multi-intent instructions); SOLID-RL uses the fine-tuned model in ``--model`` and writes each
whole dialog in one call. Both models are loaded (and warmed up with one short call) before any
clock starts.

Reported per side, per accepted dialog: LLM calls, prompt and completion tokens, wall-clock
seconds of the generation loop, and process CPU seconds (the CPU is shared: CPU seconds are
the fairer measure of work when other jobs run; wall-clock is what the issue asks). "Writing"
counts every stage of the run (SOLID: instruction merges and turns; SOLID-RL: dialogs).
"With seeding" adds the cost of making the seeds the plans use, read from the seeds' folder
(``seeding.json`` written by ``solid-bench seeds``, or a run folder's ``manifest.json``):
the per-seed average times the distinct seeds used, the same amount on both sides.

Run: OMP_NUM_THREADS=1 python benchmarks/solid_vs_solid_rl.py --seeds runs/seeds-new/seeds.jsonl \
        --model models/solid-rl --n 32 --batch-size 32 --json runs/solid-vs-solid-rl.json
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

KEYS = ("llm_calls", "prompt_tokens", "completion_tokens", "seconds")


def seeding_cost(seeds: Path) -> dict:
    """Total seeding cost and number of seeds made, from seeding.json or manifest.json next to ``seeds``."""
    folder = seeds.parent
    if (folder / "seeding.json").is_file():
        info = json.loads((folder / "seeding.json").read_text(encoding="utf-8"))
        stages, made = info.get("cost", {}), info.get("seeds")
    elif (folder / "manifest.json").is_file():
        info = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        stages, made = info.get("cost", {}), info.get("seeding", {}).get("seeds")
    else:
        return {"seeds_made": None, "total": None}
    total = {k: 0.0 for k in KEYS}
    for stage, c in stages.items():
        if stage.startswith("seeding.") or stage in ("entity_types", "entity_names", "attributes", "background", "starter"):
            for k in KEYS:
                total[k] += c.get(k, 0)
    made = made or sum(1 for line in seeds.read_text(encoding="utf-8").splitlines() if line.strip())
    return {"seeds_made": made, "total": total}


def run_side(method: str, llm, seeds: Path, n: int, batch_size: int, seed: int, max_new_tokens: int,
             temperature: float, out: Path, retries: int = 2) -> dict:
    """One generation run; its manifest costs, counts, wall-clock and CPU seconds."""
    from solid_bench.generators.pipeline import GenerationConfig, run_generation

    cfg = GenerationConfig(out=str(out), n=n, method=method, batch_size=batch_size, seed=seed, seeds_file=str(seeds),
                           cache=False, max_new_tokens=max_new_tokens, temperature=temperature,
                           retries=retries)
    marks: list[float] = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    manifest = run_generation(cfg, backend=llm, log=lambda s: None,
                              progress=lambda done, total: marks.append(time.perf_counter()))
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    stages = {k: v for k, v in manifest["cost"].items() if k != "all"}
    writing = {k: sum(c.get(k, 0) for s, c in stages.items() if not s.startswith("seeding.")) for k in KEYS}
    plans_seeds = {json.dumps(d.get("seed"), sort_keys=True) for d in _read(out / "dialogs.jsonl")}
    return {
        "method": method, "model": manifest.get("model"), "plans": n, "batch_size": batch_size,
        "accepted": manifest["counts"]["accepted"], "rejected": manifest["counts"]["rejected"],
        "rejected_by_reason": manifest["counts"]["rejected_by_reason"], "mean_turns": manifest["counts"]["mean_turns"],
        "stages": stages, "writing": writing, "wall_seconds": wall, "cpu_seconds": cpu,
        "loop_wall_seconds": (marks[-1] - marks[0]) if len(marks) > 1 else wall,
        "accepted_distinct_seeds": len(plans_seeds),
    }


def _read(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def per_accepted(side: dict, seeding_share: dict | None) -> dict:
    """Cost per accepted dialog, writing only and with the seeding share added."""
    a = max(1, side["accepted"])
    row = {f"{k}": side["writing"][k] / a for k in ("llm_calls", "prompt_tokens", "completion_tokens")}
    row["wall_seconds"] = side["wall_seconds"] / a
    row["cpu_seconds"] = side["cpu_seconds"] / a
    row["backend_seconds"] = side["writing"]["seconds"] / a
    if seeding_share:
        for k in ("llm_calls", "prompt_tokens", "completion_tokens"):
            row[f"{k}+seeding"] = (side["writing"][k] + seeding_share[k]) / a
        row["wall_seconds+seeding"] = (side["wall_seconds"] + seeding_share["seconds"]) / a
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", required=True, type=Path, help="seeds JSONL with every field filled (plans not used in training)")
    ap.add_argument("--model", required=True, help="the SOLID-RL model folder (train-generator output)")
    ap.add_argument("--base-model", default=None, help="SOLID's model (default: the backend's default SmolLM2)")
    ap.add_argument("--n", type=int, default=32, help="plans, the same on both sides")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--seed", type=int, default=1, help="plan and decoding seed (both sides)")
    ap.add_argument("--max-new-tokens", type=int, default=80, help="per utterance, both sides")
    ap.add_argument("--temperature", type=float, default=0.7)
    ap.add_argument("--retries", type=int, default=2, help="retries of a rejected utterance (SOLID) or dialog (SOLID-RL)")
    ap.add_argument("--keep", type=Path, default=None, help="keep both run folders here (default: a temporary folder)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    import torch

    from solid_bench.llm import Request, create_backend

    torch.set_num_threads(1)
    backends = {"solid": create_backend("transformers", args.base_model, batch_size=args.batch_size),
                "solid-rl": create_backend("transformers", args.model, batch_size=args.batch_size)}
    for llm in backends.values():  # load and warm up outside the clocks
        llm.load()
        llm.complete([Request((("user", "Hi"),), max_new_tokens=4, temperature=0.0)])
    root = args.keep or Path(tempfile.mkdtemp(prefix="solid-vs-rl-"))
    if args.keep:
        for name in backends:
            if (root / name).exists():
                raise SystemExit(f"{root / name} exists; remove it or choose another --keep (the benchmark runs fresh).")
    sides = {}
    try:
        for name, llm in backends.items():
            sides[name] = run_side(name, llm, args.seeds, args.n, args.batch_size, args.seed, args.max_new_tokens,
                                   args.temperature, root / name, args.retries)
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    seeding = seeding_cost(args.seeds)
    distinct = min(args.n, sum(1 for line in args.seeds.read_text(encoding="utf-8").splitlines() if line.strip()))
    share = None
    if seeding["total"] and seeding["seeds_made"]:
        share = {k: v * distinct / seeding["seeds_made"] for k, v in seeding["total"].items()}
    rows = {name: per_accepted(side, share) for name, side in sides.items()}

    print(f"same {args.n} plans (seed {args.seed}, {distinct} distinct seeds from {args.seeds}), transformers backend, "
          f"batch {args.batch_size}, temperature {args.temperature}, {args.max_new_tokens} new tokens per utterance, "
          f"{args.retries} retries, no cache")
    for name, side in sides.items():
        print(f"{name:>8}: {side['accepted']}/{side['plans']} accepted {json.dumps(side['rejected_by_reason'])}, "
              f"wall {side['wall_seconds']:.1f} s, CPU {side['cpu_seconds']:.1f} s, model {side['model']}")
    head = ["per accepted dialog", "LLM calls", "prompt tok", "completion tok", "wall s", "CPU s",
            "calls +seed", "tokens +seed", "wall s +seed"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for name, r in rows.items():
        seeded = ([f"{r['llm_calls+seeding']:.2f}", f"{r['prompt_tokens+seeding'] + r['completion_tokens+seeding']:.0f}",
                   f"{r['wall_seconds+seeding']:.2f}"] if share else ["-", "-", "-"])
        print("| " + " | ".join([name, f"{r['llm_calls']:.2f}", f"{r['prompt_tokens']:.0f}", f"{r['completion_tokens']:.0f}",
                                 f"{r['wall_seconds']:.2f}", f"{r['cpu_seconds']:.2f}", *seeded]) + " |")
    ratios = {k: rows["solid"][k] / max(1e-12, rows["solid-rl"][k])
              for k in rows["solid"] if not isinstance(rows["solid"][k], str)}
    print("SOLID / SOLID-RL per accepted dialog: " + ", ".join(f"{k} {v:.2f}x" for k, v in ratios.items()))
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "sides": sides,
                                         "seeding": seeding, "seeding_share": share, "distinct_seeds": distinct,
                                         "per_accepted": rows, "ratios": ratios}, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
