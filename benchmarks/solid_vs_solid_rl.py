"""SOLID against SOLID-RL: cost per ACCEPTED dialog on the same plans and machine, in one run.

Each ``--side NAME=METHOD,BACKEND,MODEL[,key=value...]`` is one generator: a method (``solid``
or ``solid-rl``), a backend and its model, and backend options (``servers=2``, ``parallel=16``,
``threads=1`` for llama-server; ``batch_size`` for transformers). Every side gets the same plans:
the same seeds file (every field filled, so no self-seeding call inside the run), the same
``--seed`` (so plan i has the same seed and intent sequence on every side), the same batch size,
sampling temperature, per-utterance token limit and retries, and no cache. Each backend is
started and warmed up with one short call before its clock starts; the sides run one after the
other, so each has the whole machine.

Reported per side, per accepted dialog: LLM calls, prompt and completion tokens, wall-clock
seconds of the generation loop, and CPU seconds (this process plus, for llama-server, the
servers' own CPU time read from /proc). "Writing" counts every stage of the run (SOLID:
instruction merges and turns; SOLID-RL: dialogs). "With seeding" adds the cost of making the
seeds the plans use, read from the seeds' folder (``seeding.json`` written by ``solid-bench
seeds``, or a run folder's ``manifest.json``): the per-seed average times the distinct seeds
used, the same amount on every side. For a SOLID-RL side whose model folder has a
``training.json``, the making cost (its training corpus's all-in generation cost plus training
compute) is printed too, with the number of accepted dialogs at which its all-in cost per dialog
would drop to each SOLID side's.

Ratios are each side's figure over the ``--reference`` side's (default: the first SOLID-RL side).
With ``--repeats K`` the sides run K rounds (every side once per round, in order, each on fresh
folders); each figure per accepted dialog is the median over rounds, and each ratio is the median
of the ratios measured within a round.

Run (the issue-13 comparison, every side on llama-server with both cores):
    OMP_NUM_THREADS=1 python benchmarks/solid_vs_solid_rl.py --seeds SEEDS --n 64 --batch-size 32 --seed 1 \
        --side solid-qwen=solid,llama-server,qwen2.5-coder-1.5b,servers=2,parallel=16,threads=1 \
        --side solid-smollm2=solid,llama-server,smollm2-135m,servers=2,parallel=16,threads=1 \
        --side solid-rl=solid-rl,llama-server,models/solid-rl,servers=2,parallel=16,threads=1 \
        --repeats 3 --json runs/solid-vs-solid-rl.json
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
    a = side["accepted"]
    row = {f"{k}": side["writing"][k] / a for k in ("llm_calls", "prompt_tokens", "completion_tokens")}
    row["wall_seconds"] = side["wall_seconds"] / a
    row["cpu_seconds"] = side["cpu_seconds"] / a
    row["backend_seconds"] = side["writing"]["seconds"] / a
    if seeding_share:
        for k in ("llm_calls", "prompt_tokens", "completion_tokens"):
            row[f"{k}+seeding"] = (side["writing"][k] + seeding_share[k]) / a
        row["wall_seconds+seeding"] = (side["wall_seconds"] + seeding_share["seconds"]) / a
    return row


def parse_side(text: str) -> dict:
    """``NAME=METHOD,BACKEND,MODEL[,key=value...]`` -> the side's name, method, backend, model and options."""
    from solid_bench.cli.options import parse_key_values

    name, sep, rest = text.partition("=")
    parts = rest.split(",")
    if not sep or len(parts) < 3 or parts[0] not in ("solid", "solid-rl"):
        raise SystemExit(f"--side {text!r} must look like NAME=METHOD,BACKEND,MODEL[,key=value...] with METHOD solid "
                         f"or solid-rl, e.g. --side solid-rl=solid-rl,llama-server,models/solid-rl,servers=2.")
    return {"name": name, "method": parts[0], "backend": parts[1], "model": parts[2],
            "options": parse_key_values(parts[3:], "--side", "servers=2")}


def server_cpu_seconds(llm) -> float:
    """CPU seconds (user + system) the backend's llama-server processes have used so far; 0 for in-process backends."""
    import os

    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for server in getattr(llm, "_servers", []) or []:
        try:
            fields = Path(f"/proc/{server.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime (fields 14 and 15 of stat)
    return total


def making_cost(model: str) -> dict | None:
    """A trained generator's making cost from its folder's training.json (None when there is none)."""
    path = Path(model) / "training.json"
    if not path.is_file():
        return None
    info = json.loads(path.read_text(encoding="utf-8"))
    return {"cost": info.get("cost"), "made_from": info.get("made_from")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", required=True, type=Path, help="seeds JSONL with every field filled (plans not used in training)")
    ap.add_argument("--side", action="append", required=True, type=parse_side,
                    help="NAME=METHOD,BACKEND,MODEL[,key=value...]; repeat for each generator")
    ap.add_argument("--reference", default=None, help="the side ratios are taken against (default: the first solid-rl side)")
    ap.add_argument("--n", type=int, default=32, help="plans, the same on every side")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--seed", type=int, default=1, help="plan and decoding seed (every side)")
    ap.add_argument("--max-new-tokens", type=int, default=80, help="per utterance, every side")
    ap.add_argument("--temperature", type=float, default=0.7)
    ap.add_argument("--retries", type=int, default=2, help="retries of a rejected utterance (SOLID) or dialog (SOLID-RL)")
    ap.add_argument("--keep", type=Path, default=None, help="keep the run folders here (default: a temporary folder)")
    ap.add_argument("--repeats", type=int, default=1, help="rounds of every side; figures are medians over rounds")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    if args.repeats < 1:
        raise SystemExit(f"--repeats must be at least 1; got {args.repeats}.")
    names = [side["name"] for side in args.side]
    if len(set(names)) != len(names):
        raise SystemExit(f"--side names must differ; got {names}.")
    reference = args.reference or next((s["name"] for s in args.side if s["method"] == "solid-rl"), names[0])
    if reference not in names:
        raise SystemExit(f"--reference {reference!r} is not a side; choose one of {names}.")

    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
    root = args.keep or Path(tempfile.mkdtemp(prefix="solid-vs-rl-"))
    folders = {(name, i): root / (name if args.repeats == 1 else f"{name}-r{i}") for name in names for i in range(args.repeats)}
    if args.keep:
        for folder in folders.values():
            if folder.exists():
                raise SystemExit(f"{folder} exists; remove it or choose another --keep (the benchmark runs fresh).")
    rounds: list[dict] = []
    conditions = {}
    try:
        for i in range(args.repeats):
            rounds.append(run_round(args, folders, i, conditions))
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    report(args, rounds, conditions, reference)


def run_round(args, folders: dict, i: int, conditions: dict) -> dict:
    """Every side once, one backend at a time: each side has the whole machine."""
    from solid_bench.llm import Request
    from solid_bench.llm.cache import open_backend

    sides = {}
    for spec in args.side:
        options = dict(spec["options"])
        if spec["backend"] == "transformers":
            options.setdefault("batch_size", args.batch_size)
        llm = open_backend(spec["backend"], spec["model"], cache_path=False, **options)
        try:
            if hasattr(llm, "load"):
                llm.load()
            llm.complete([Request((("user", "Hi"),), max_new_tokens=4, temperature=0.0)])  # start and warm up
            server0 = server_cpu_seconds(llm)
            side = run_side(spec["method"], llm, args.seeds, args.n, args.batch_size, args.seed,
                            args.max_new_tokens, args.temperature, folders[(spec["name"], i)], args.retries)
            side["server_cpu_seconds"] = server_cpu_seconds(llm) - server0
            side["cpu_seconds"] += side["server_cpu_seconds"]
        finally:
            llm.close()
        side["backend"], side["options"] = spec["backend"], spec["options"]
        side["making"] = making_cost(spec["model"]) if spec["method"] == "solid-rl" else None
        sides[spec["name"]] = side
        conditions[spec["name"]] = f"{spec['backend']} {json.dumps(spec['options'])}"
    return sides


def _median_rows(rows: list[dict]) -> dict:
    """Key by key, the median over rounds (of the rounds that have the key)."""
    from statistics import median

    keys = dict.fromkeys(k for r in rows for k in r)
    return {k: median(r[k] for r in rows if k in r) for k in keys}


def report(args, rounds: list[dict], conditions: dict, reference: str) -> None:
    """Print the per-round lines, the median table, ratios and break-even, and write the JSON."""
    seeding = seeding_cost(args.seeds)
    distinct = min(args.n, sum(1 for line in args.seeds.read_text(encoding="utf-8").splitlines() if line.strip()))
    share = None
    if seeding["total"] and seeding["seeds_made"]:
        share = {k: v * distinct / seeding["seeds_made"] for k, v in seeding["total"].items()}
    round_rows = [{name: per_accepted(side, share) for name, side in sides.items() if side["accepted"]} for sides in rounds]
    accepted_in_all = [name for name in rounds[0] if all(name in rr for rr in round_rows)]
    rows = {name: _median_rows([rr[name] for rr in round_rows]) for name in accepted_in_all}
    round_ratios = [{name: {k: rr[name][k] / max(1e-12, rr[reference][k]) for k in rr[name]} for name in rows if name != reference}
                    for rr in round_rows if reference in rows]
    sides = rounds[-1]

    print(f"same {args.n} plans (seed {args.seed}, {distinct} distinct seeds from {args.seeds}), batch {args.batch_size}, "
          f"temperature {args.temperature}, {args.max_new_tokens} new tokens per utterance, {args.retries} retries, no cache")
    for i, round_sides in enumerate(rounds):
        for name, side in round_sides.items():
            print(f"{'' if len(rounds) == 1 else f'round {i + 1} '}{name:>14}: {side['accepted']}/{side['plans']} accepted "
                  f"{json.dumps(side['rejected_by_reason'])}, wall {side['wall_seconds']:.1f} s, CPU {side['cpu_seconds']:.1f} s "
                  f"(servers {side['server_cpu_seconds']:.1f}), model {side['model']}, {conditions[name]}")
    if len(rounds) > 1:
        print(f"medians over {len(rounds)} rounds:")
    head = ["per accepted dialog", "LLM calls", "prompt tok", "completion tok", "wall s", "CPU s",
            "calls +seed", "tokens +seed", "wall s +seed"]
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for name, r in rows.items():
        seeded = ([f"{r['llm_calls+seeding']:.2f}", f"{r['prompt_tokens+seeding'] + r['completion_tokens+seeding']:.0f}",
                   f"{r['wall_seconds+seeding']:.2f}"] if share else ["-", "-", "-"])
        print("| " + " | ".join([name, f"{r['llm_calls']:.2f}", f"{r['prompt_tokens']:.0f}", f"{r['completion_tokens']:.0f}",
                                 f"{r['wall_seconds']:.2f}", f"{r['cpu_seconds']:.2f}", *seeded]) + " |")
    ratios = {name: _median_rows([rr[name] for rr in round_ratios]) for name in rows if name != reference and reference in rows}
    if reference not in rows:
        print(f"no ratios: the reference side {reference!r} accepted no dialog")
    for name, ratio in ratios.items():
        print(f"{name} / {reference} per accepted dialog: " + ", ".join(f"{k} {v:.2f}x" for k, v in ratio.items()))
    break_even = {}
    for name, side in sides.items():
        if name not in rows:
            continue
        total = ((side.get("making") or {}).get("cost") or {}).get("total")
        if not total:
            continue
        made_tokens = total.get("prompt_tokens", 0) + total.get("completion_tokens", 0)
        made_seconds = total.get("seconds", 0.0)
        print(f"{name}: making cost {made_tokens:,.0f} tokens and {made_seconds / 3600:.2f} h "
              f"(training corpus all-in + training compute)")
        r = rows[name]
        for other, o in rows.items():
            if other == name or sides[other]["method"] != "solid":  # rows holds sides with accepted dialogs
                continue
            tok_gap = (o["prompt_tokens"] + o["completion_tokens"]) - (r["prompt_tokens"] + r["completion_tokens"])
            sec_gap = o["wall_seconds"] - r["wall_seconds"]
            n_tok = made_tokens / tok_gap if tok_gap > 0 else None
            n_sec = made_seconds / sec_gap if sec_gap > 0 else None
            break_even[f"{name} vs {other}"] = {"tokens": n_tok, "wall_seconds": n_sec}
            print(f"  all-in per dialog below {other}'s after "
                  f"{'never' if n_tok is None else f'{n_tok:,.0f}'} accepted dialogs (tokens), "
                  f"{'never' if n_sec is None else f'{n_sec:,.0f}'} (wall-clock)")
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "sides": sides,
                                         "reference": reference, "seeding": seeding, "seeding_share": share,
                                         "distinct_seeds": distinct, "per_accepted": rows, "ratios": ratios,
                                         "break_even": break_even, "rounds": rounds, "per_accepted_by_round": round_rows,
                                         "ratios_by_round": round_ratios}, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
