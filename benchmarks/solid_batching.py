"""SOLID generation: continuous batching against one dialog at a time, side by side in one run.

Both sides use the same backend object (transformers, default SmolLM2), the same seeds (a seeds
file with every field filled, so no self-seeding calls), the same plans (the one-at-a-time side
may take only the first ``--single-n`` of them: it is the slow one), the same decoding
(``--temperature``, default 0.7 as in the generator: a retry resamples in the same call) and fixed
output lengths (``ignore_eos``: a completion runs to ``--max-new-tokens`` tokens unless every row
of its batch hit a stop string), so they do the same work per request and differ only in
batching (sampled texts, hence retries and rejections, differ by chance between the sides).
No cache. The clock of a side runs from its first dialog turn to its last outcome written (the
generation loop with its file writes; instruction merging and model loading are outside it).

Reported per side: generation seconds, accepted dialogs, dialogs per hour, turn requests,
completion tokens and tokens per second. Then raw ``model.generate`` tokens/s on the SAME
prompts: the batched side's first, middle and last full backend calls, re-run as plain padded
``model.generate`` calls (same batch size and rows per generate call, same max_new_tokens, ignore_eos, no stop strings,
median of the three, or of ``--raw-calls``), for the generator-overhead ratio; and ``--raw-single`` prompts spread over
the first full call, one at a time: the speedup plain batching gives on these prompts (a ceiling).

Run: OMP_NUM_THREADS=1 python benchmarks/solid_batching.py --seeds runs/solid-200/seeds.jsonl --n 64 --batch-size 32 --single-n 12
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path


class Recording:
    """The backend, recording the requests of every complete() call (for the raw side)."""

    def __init__(self, backend):
        self.backend, self.model_id, self.calls, self.timings = backend, backend.model_id, [], []

    def complete(self, requests):
        self.calls.append(list(requests))
        start = time.perf_counter()
        out = self.backend.complete(requests)
        self.timings.append((len(requests), sum(c.completion_tokens for c in out), time.perf_counter() - start))
        return out


def run_side(llm, seeds: Path, n: int, batch_size: int, max_new_tokens: int, temperature: float, out: Path) -> dict:
    from solid_bench.generators.pipeline import GenerationConfig, run_generation

    cfg = GenerationConfig(out=str(out), n=n, batch_size=batch_size, seeds_file=str(seeds), cache=False,
                           max_new_tokens=max_new_tokens, temperature=temperature)
    marks: list[float] = []  # progress(): once when generation starts, then after each written outcome
    start = time.perf_counter()
    manifest = run_generation(cfg, backend=llm, log=lambda s: None, progress=lambda done, total: marks.append(time.perf_counter()))
    wall = time.perf_counter() - start
    gen_wall = marks[-1] - marks[0]
    turns = manifest["cost"].get("turns", {})
    accepted, rejected = manifest["counts"]["accepted"], manifest["counts"]["rejected"]
    return {"batch_size": batch_size, "plans": n, "run_seconds": wall, "seconds": gen_wall, "accepted": accepted,
            "rejected": rejected, "mean_turns": manifest["counts"]["mean_turns"],
            "turn_requests": turns.get("llm_calls", 0), "prompt_tokens": turns.get("prompt_tokens", 0),
            "completion_tokens": turns.get("completion_tokens", 0),
            "dialogs_per_hour": 3600 * accepted / gen_wall, "plans_per_hour": 3600 * n / gen_wall,
            "tokens_per_second": turns.get("completion_tokens", 0) / gen_wall}


def raw_generate(llm, batches: list, max_new_tokens: int, chunk: int) -> dict:
    """Tokens/s of plain greedy model.generate on the given request batches (their own prompts), each
    run as the backend runs it: sorted by prompt length, ``chunk`` rows per generate call."""
    from solid_bench.llm.fast_decode import stock_attention

    model, tok = llm.load()
    with stock_attention(model):  # raw means stock transformers: its SDPA, not the fast loop's attention
        return _raw_generate(model, tok, batches, max_new_tokens, chunk)


def _raw_generate(model, tok, batches: list, max_new_tokens: int, chunk: int) -> dict:
    import torch

    rates, lens, padded = [], [], 0
    for requests in batches:
        prompts = [tok.apply_chat_template(r.as_openai_messages(), add_generation_prompt=True, tokenize=False)
                   for r in requests]
        ids = sorted(tok(prompts, add_special_tokens=False)["input_ids"], key=len)
        generated, start = 0, time.perf_counter()
        for i in range(0, len(ids), chunk):
            enc = tok.pad({"input_ids": ids[i:i + chunk]}, padding=True, return_tensors="pt")
            lens += enc["attention_mask"].sum(dim=1).tolist()
            padded += enc["input_ids"].numel()
            with torch.inference_mode():
                out = model.generate(**enc, max_new_tokens=max_new_tokens, min_new_tokens=max_new_tokens,
                                     do_sample=False, pad_token_id=tok.pad_token_id)
            generated += (out.shape[1] - enc["input_ids"].shape[1]) * enc["input_ids"].shape[0]
        rates.append(generated / (time.perf_counter() - start))
    return {"tokens_per_second": statistics.median(rates), "runs": rates, "batch_sizes": [len(b) for b in batches],
            "mean_prompt_tokens": sum(lens) / len(lens), "padding_share": 1 - sum(lens) / padded,
            "seconds_per_request": max_new_tokens / statistics.median(rates)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", required=True, type=Path, help="seeds JSONL with every field filled")
    ap.add_argument("--n", type=int, default=8, help="plans for the batched side")
    ap.add_argument("--single-n", type=int, default=None, help="first plans for the one-at-a-time side (default: --n)")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--max-new-tokens", type=int, default=80, help="per utterance (the generator's default)")
    ap.add_argument("--temperature", type=float, default=0.7, help="the generator's default; retries resample in the same call")
    ap.add_argument("--backend-batch", type=int, default=None,
                    help="rows per model.generate call (the backend sorts a call's requests by prompt length and "
                         "splits them; default: --batch-size, one generate call per step)")
    ap.add_argument("--raw-calls", type=int, default=3, help="full calls of the batched side re-run as raw model.generate")
    ap.add_argument("--raw-single", type=int, default=4, help="prompts of the first full call re-run one at a time (raw ceiling)")
    ap.add_argument("--model", default=None)
    ap.add_argument("--dtype", default="auto", help="model dtype for both sides and raw (auto: fp32 on CPU, bf16 on CUDA)")
    ap.add_argument("--decode-loop", default="auto", choices=("auto", "fast", "generate"),
                    help="the transformers backend's decoding loop for both sides (auto: fast on CPU)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    from solid_bench.generators.prompts import stage_of
    from solid_bench.llm import create_backend

    llm = create_backend("transformers", args.model, batch_size=args.backend_batch or args.batch_size,
                         ignore_eos=True, dtype=args.dtype, decode_loop=args.decode_loop)
    llm.load()
    tmp = Path(tempfile.mkdtemp(prefix="solid-batching-"))
    rec = Recording(llm)
    try:
        batched = run_side(rec, args.seeds, args.n, args.batch_size, args.max_new_tokens, args.temperature, tmp / "batched")
        single = run_side(llm, args.seeds, args.single_n or args.n, 1, args.max_new_tokens, args.temperature, tmp / "single")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    turn_calls = [c for c in rec.calls if c and stage_of(c[0].messages[0][1]) == "turn"]
    steps = [t for c, t in zip(rec.calls, rec.timings) if c and stage_of(c[0].messages[0][1]) == "turn"]
    full_steps = [t for t in steps if t[0] == args.batch_size]
    batched["full_calls"] = len(full_steps)
    batched["partial_calls"] = len(steps) - len(full_steps)
    batched["full_call_seconds"] = sum(t[2] for t in full_steps)
    batched["full_call_tokens_per_second"] = sum(t[1] for t in full_steps) / max(1e-9, batched["full_call_seconds"])
    batched["call_sizes"] = [t[0] for t in steps]
    full = [c for c in turn_calls if len(c) == args.batch_size] or [max(turn_calls, key=len)]
    picks = [full[0], full[len(full) // 2], full[-1]][: args.raw_calls] if len(full) >= 3 else full[: args.raw_calls]
    raw = raw_generate(llm, picks, args.max_new_tokens, llm.batch_size)  # picks[0] is full[0]
    step = max(1, len(full[0]) // max(1, args.raw_single))
    raw1 = raw_generate(llm, [[r] for r in full[0][::step][: args.raw_single]], args.max_new_tokens, 1)
    # mean over the single prompts (not the median): seconds per request = tokens / rate
    raw1["seconds_per_request"] = statistics.mean(args.max_new_tokens / r for r in raw1["runs"])
    first_call = args.max_new_tokens / raw["runs"][0]  # seconds per request of the call they come from
    ceiling = raw1["seconds_per_request"] / first_call
    for name, side in (("batched", batched), ("one-at-a-time", single)):
        print(f"{name:>13} (batch {side['batch_size']:>3}, {side['plans']} plans): {side['seconds']:7.1f} s  "
              f"accepted {side['accepted']:>3}  turn requests {side['turn_requests']:>4}  "
              f"completion tokens {side['completion_tokens']:>6}  {side['dialogs_per_hour']:7.1f} dialogs/h  "
              f"{side['plans_per_hour']:7.1f} plans/h  {side['tokens_per_second']:6.1f} tok/s")
    speedup = batched["dialogs_per_hour"] / max(1e-9, single["dialogs_per_hour"])
    print(f"decode loop: {llm._loop}; dtype {args.dtype}")
    print(f"batched / one-at-a-time dialogs per hour: {speedup:.2f}x "
          f"(plans per hour: {batched['plans_per_hour'] / max(1e-9, single['plans_per_hour']):.2f}x)")
    ratio = batched["tokens_per_second"] / raw["tokens_per_second"]
    full_ratio = batched["full_call_tokens_per_second"] / raw["tokens_per_second"]
    print(f"raw model.generate on {len(picks)} of the batched side's full calls ({args.batch_size} requests, "
          f"{llm.batch_size} rows per generate call, "
          f"prompt ~{raw['mean_prompt_tokens']:.0f} tokens, {100 * raw['padding_share']:.0f}% of prompt positions padding): "
          f"{raw['tokens_per_second']:.1f} tok/s "
          f"(runs {', '.join(f'{r:.1f}' for r in raw['runs'])}); generator / raw: {ratio:.2f}")
    print(f"  the batched side's {batched['full_calls']} full calls alone: {batched['full_call_tokens_per_second']:.1f} tok/s "
          f"({full_ratio:.2f} of raw); then {batched['partial_calls']} calls while the pool drained "
          f"(sizes {batched['call_sizes'][batched['full_calls']:]})")
    print(f"raw ceiling: {len(raw1['runs'])} prompts of the first full call, one at a time, take "
          f"{raw1['seconds_per_request']:.2f} s per request (prompt ~{raw1['mean_prompt_tokens']:.0f} tokens) against "
          f"{first_call:.2f} s in that full call: plain batching speedup {ceiling:.2f}x")
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "batched": batched,
                                         "single": single, "raw": raw, "raw_single": raw1, "raw_ceiling": ceiling, "speedup": speedup,
                                         "generator_over_raw": ratio, "full_calls_over_raw": full_ratio}, indent=1))


if __name__ == "__main__":
    main()
