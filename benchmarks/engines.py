"""Which engine runs SOLID fastest with a local model on this CPU: the same plans and seeds on each.

Two parts, both printing their figures (and writing them with ``--json``):

``raw``: prefill and decode tokens/s of each engine on synthetic prompts, one thread per process.
  llama.cpp's C++ ``llama-batched-bench`` (beside ``llama-server``, when the binary folder has it)
  at ``--batches``; llama-cpp-python in process at batch 1 (prefill ``--prompt-tokens`` tokens, then
  ``--decode-tokens`` tokens, greedy); transformers (bf16, the backend's fast loop) through
  ``complete()`` at each batch size, prefill from the time to a 1-token completion.

``solid``: SOLID generation (``generators/pipeline.py``, as ``solid-bench generate --method solid``)
  of the first ``--n`` plans from a fixed ``--seeds`` file (every seed field filled: no self-seeding
  call is timed) on each engine configuration, with and without prefix reuse, in rounds: each round
  runs every configuration once, in a fresh run folder, with a freshly started engine (no cache
  carried over from an earlier run, no SQLite answer cache). A configuration's clock runs from the
  first dialog turn to the last outcome written (model loading, the warm-up call and instruction
  merging are outside it). Reported per configuration: median over rounds of dialogs/h, plans/h,
  prompt and completion tokens/s (as the engine counts them: prompt tokens include the reused
  ones), and each engine's speed-up from prefix reuse (median of the per-round ratios).

Configurations (``--configs``, comma-separated):
  ``server-pN``   llama-server, N slots, 1 thread, prompt cache per slot + ``--cache-ram`` (reuse on)
  ``server-pN-noreuse``   the same with ``cache_prompt=false`` and no RAM cache
  ``llamacpp``    llama-cpp-python in process, 1 thread, LlamaRAMCache (``cache_ram`` MiB)
  ``llamacpp-noreuse``    the same without the RAM cache (the context still reuses the previous prompt's prefix)
  ``hf``          transformers, bf16, the fast decode loop, ``--batch-size`` rows (what main has)

Run (one thread per process; the machine has 2 cores):
  OMP_NUM_THREADS=1 python benchmarks/engines.py raw --model qwen2.5-coder-1.5b
  OMP_NUM_THREADS=1 python benchmarks/engines.py solid --model qwen2.5-coder-1.5b --seeds SEEDS.jsonl --n 8 \
      --configs server-p2,server-p2-noreuse,llamacpp,llamacpp-noreuse --rounds 3
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path


def engine(config: str, model: str, batch_size: int, cache_ram: int):
    """(backend, batch size of the SOLID pool) for a configuration name."""
    from solid_bench.errors import UserError
    from solid_bench.llm import create_backend

    reuse = not config.endswith("-noreuse")
    base = config.removesuffix("-noreuse")
    if base.startswith("server-p"):
        parallel = int(base.removeprefix("server-p"))
        backend = create_backend("llama-server", model, parallel=parallel, threads=1, cache_prompt=reuse,
                                 cache_ram=cache_ram)
        return backend, max(batch_size, parallel)
    if base == "llamacpp":
        return create_backend("llama-cpp", model, n_threads=1, n_ctx=4096, cache_ram=cache_ram if reuse else 0), batch_size
    if base == "hf":
        if not reuse:
            raise UserError("hf-noreuse: the transformers backend has no switch for prefix reuse; measure main before "
                            "and after it lands.")
        return create_backend("transformers", model, dtype="bfloat16", batch_size=batch_size), batch_size
    raise UserError(f"Unknown configuration {config!r}: server-pN[-noreuse], llamacpp[-noreuse] or hf.")


def solid_round(config: str, args, out: Path) -> dict:
    """One timed SOLID run of ``config`` on a fresh engine."""
    from solid_bench.generators.pipeline import GenerationConfig, run_generation
    from solid_bench.llm import Request

    backend, pool = engine(config, args.model, args.batch_size, args.cache_ram)
    try:
        backend.complete([Request.chat(("user", "Say OK."), max_new_tokens=2)])  # start / load outside the clock
        cfg = GenerationConfig(out=str(out), n=args.n, batch_size=pool, seeds_file=str(args.seeds), cache=False,
                               max_new_tokens=args.max_new_tokens, seed=args.seed, max_turns=args.max_turns)
        marks: list[float] = []
        manifest = run_generation(cfg, backend=backend, log=lambda s: None,
                                  progress=lambda done, total: marks.append(time.perf_counter()))
    finally:
        close = getattr(backend, "close", None)
        if close:
            close()
    seconds = marks[-1] - marks[0]
    turns = manifest["cost"].get("turns", {})
    accepted = manifest["counts"]["accepted"]
    return {"config": config, "pool": pool, "seconds": seconds, "accepted": accepted,
            "rejected": manifest["counts"]["rejected"], "turn_requests": turns.get("llm_calls", 0),
            "prompt_tokens": turns.get("prompt_tokens", 0), "completion_tokens": turns.get("completion_tokens", 0),
            "dialogs_per_hour": 3600 * accepted / seconds, "plans_per_hour": 3600 * args.n / seconds,
            "prompt_tps": turns.get("prompt_tokens", 0) / seconds,
            "completion_tps": turns.get("completion_tokens", 0) / seconds}


def solid(args) -> dict:
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    runs: dict[str, list[dict]] = {c: [] for c in configs}
    tmp = Path(tempfile.mkdtemp(prefix="solid-engines-"))
    try:
        for r in range(args.rounds):
            for c in configs:
                res = solid_round(c, args, tmp / f"{c}-{r}")
                runs[c].append(res)
                print(f"round {r + 1} {c:>22}: {res['seconds']:7.1f} s  accepted {res['accepted']:>3}/{args.n}  "
                      f"{res['dialogs_per_hour']:6.1f} dialogs/h  prompt {res['prompt_tps']:6.1f} tok/s  "
                      f"completion {res['completion_tps']:5.2f} tok/s  ({res['turn_requests']} turn requests, "
                      f"{res['prompt_tokens']}+{res['completion_tokens']} tokens)", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nmedian of {args.rounds} rounds, {args.n} plans, seeds {args.seeds.name}:")
    summary = {}
    for c, rs in runs.items():
        med = {k: statistics.median(x[k] for x in rs) for k in ("seconds", "dialogs_per_hour", "plans_per_hour",
                                                                  "prompt_tps", "completion_tps", "accepted")}
        summary[c] = med
        print(f"{c:>22}: {med['dialogs_per_hour']:6.1f} dialogs/h  {med['plans_per_hour']:6.1f} plans/h  "
              f"prompt {med['prompt_tps']:6.1f} tok/s  completion {med['completion_tps']:5.2f} tok/s  "
              f"({med['seconds']:.0f} s, {med['accepted']:.0f} accepted)")
    speedups = {}
    for c in configs:
        off = f"{c}-noreuse"
        if off in runs:
            ratios = [a["plans_per_hour"] / b["plans_per_hour"] for a, b in zip(runs[c], runs[off])]
            dialog_ratios = [a["dialogs_per_hour"] / max(1e-9, b["dialogs_per_hour"]) for a, b in zip(runs[c], runs[off])]
            speedups[c] = {"plans_per_hour": statistics.median(ratios), "dialogs_per_hour": statistics.median(dialog_ratios),
                           "rounds": ratios}
            print(f"prefix reuse speed-up, {c}: {speedups[c]['dialogs_per_hour']:.2f}x dialogs/h, "
                  f"{speedups[c]['plans_per_hour']:.2f}x plans/h (per round: {', '.join(f'{x:.2f}' for x in ratios)})")
    return {"runs": runs, "median": summary, "reuse_speedup": speedups}


def synthetic_prompt(n_words: int) -> str:
    """A forum-like text of ``n_words`` words (at least as many tokens: cut the tokens to length)."""
    words = ("my outlook stopped syncing after the update and the calendar shows old events while the mail folder "
             "keeps asking for the password even though it is correct on the web version").split()
    return " ".join(words[i % len(words)] for i in range(n_words))


def raw_llamacpp(gguf: Path, prompt_tokens: int, decode_tokens: int) -> dict:
    """llama-cpp-python in process, 1 thread: prefill then greedy decode at batch 1."""
    from llama_cpp import Llama

    llm = Llama(model_path=str(gguf), n_ctx=4096, n_threads=1, n_threads_batch=1, verbose=False)
    tokens = llm.tokenize(synthetic_prompt(prompt_tokens).encode())[:prompt_tokens]
    llm.reset()
    t0 = time.perf_counter()
    llm.eval(tokens)
    prefill = time.perf_counter() - t0
    t0 = time.perf_counter()
    for _ in range(decode_tokens):
        nxt = llm.sample(top_k=1)
        llm.eval([nxt])
    decode = time.perf_counter() - t0
    llm.close()
    return {"prompt_tokens": len(tokens), "prefill_tps": len(tokens) / prefill, "decode_tps": decode_tokens / decode}


def raw_batched_bench(gguf: Path, prompt_tokens: int, decode_tokens: int, batches: list[int]) -> str | None:
    """llama.cpp's llama-batched-bench table (prefill and decode tokens/s per batch), or None without it."""
    from solid_bench.llm.backends.llama_server_backend import find_binary

    tool = find_binary().with_name("llama-batched-bench")
    if not tool.is_file():
        return None
    cmd = [str(tool), "-m", str(gguf), "-t", "1", "-tb", "1", "-c", str((prompt_tokens + decode_tokens) * max(batches)),
           "-npp", str(prompt_tokens), "-ntg", str(decode_tokens), "-npl", ",".join(map(str, batches))]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    return "\n".join(ln for ln in out.stdout.splitlines() if ln.startswith("|"))


def raw_transformers(model: str, prompt_tokens: int, decode_tokens: int, batches: list[int]) -> dict:
    """transformers bf16 through the backend (fast loop): prefill from 1-token completions, decode from the rest."""
    from solid_bench.llm import Request, create_backend

    rows = {}
    backend = create_backend("transformers", model, dtype="bfloat16", batch_size=max(batches), ignore_eos=True)
    backend.load()
    for b in batches:
        reqs = [Request.chat(("user", f"{i} " + synthetic_prompt(prompt_tokens - 30))) for i in range(b)]
        one = [Request(r.messages, max_new_tokens=1) for r in reqs]
        full = [Request(r.messages, max_new_tokens=decode_tokens + 1) for r in reqs]
        t0 = time.perf_counter()
        done = backend.complete(one)
        t_prefill = time.perf_counter() - t0
        t0 = time.perf_counter()
        backend.complete(full)
        t_all = time.perf_counter() - t0
        n_prompt = sum(c.prompt_tokens for c in done)
        rows[b] = {"prompt_tokens": n_prompt // b, "prefill_tps": n_prompt / t_prefill,
                   "decode_tps": b * decode_tokens / max(1e-9, t_all - t_prefill)}
    return rows


def raw(args) -> dict:
    from solid_bench.llm.local_models import MODELS

    gguf = MODELS.get(args.model).gguf_path()
    batches = [int(b) for b in args.batches.split(",")]
    result = {}
    table = raw_batched_bench(gguf, args.prompt_tokens, args.decode_tokens, batches)
    if table is not None:
        print(f"llama.cpp llama-batched-bench, 1 thread (PP/TG: prompt/generated tokens per sequence, B: sequences; "
              f"S_PP/S_TG: prefill/decode tokens/s):\n{table}", flush=True)
        result["llama_batched_bench"] = table
    r = raw_llamacpp(gguf, args.prompt_tokens, args.decode_tokens)
    print(f"llama-cpp-python in process, 1 thread, batch 1: prefill {r['prefill_tps']:.1f} tok/s "
          f"({r['prompt_tokens']} tokens), decode {r['decode_tps']:.2f} tok/s", flush=True)
    result["llama_cpp_python"] = r
    if not args.skip_transformers:
        rows = raw_transformers(args.model, args.prompt_tokens, args.decode_tokens, batches)
        for b, row in rows.items():
            print(f"transformers bf16 fast loop, batch {b:>2}: prefill {row['prefill_tps']:6.1f} tok/s "
                  f"({row['prompt_tokens']} tokens each), decode {row['decode_tps']:6.2f} tok/s", flush=True)
        result["transformers"] = rows
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="part", required=True)
    r = sub.add_parser("raw", help="prefill and decode tokens/s per engine")
    r.add_argument("--prompt-tokens", type=int, default=512)
    r.add_argument("--decode-tokens", type=int, default=32)
    r.add_argument("--batches", default="1,2,4,8")
    r.add_argument("--skip-transformers", action="store_true")
    s = sub.add_parser("solid", help="SOLID generation per engine configuration")
    s.add_argument("--seeds", required=True, type=Path, help="seeds JSONL with every field filled")
    s.add_argument("--n", type=int, default=8, help="plans per run")
    s.add_argument("--configs", default="server-p2,server-p2-noreuse,llamacpp,llamacpp-noreuse")
    s.add_argument("--rounds", type=int, default=3)
    s.add_argument("--batch-size", type=int, default=8, help="dialogs in flight (llama-server: at least its slots)")
    s.add_argument("--max-new-tokens", type=int, default=80)
    s.add_argument("--max-turns", type=int, default=None)
    s.add_argument("--cache-ram", type=int, default=2048, help="MiB of prompt cache in host RAM (reuse on)")
    s.add_argument("--seed", type=int, default=0)
    for p in (r, s):
        p.add_argument("--model", default="qwen2.5-coder-1.5b")
        p.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    result = raw(args) if args.part == "raw" else solid(args)
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, **result}, indent=1))


if __name__ == "__main__":
    main()
