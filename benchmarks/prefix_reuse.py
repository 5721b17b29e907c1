"""SOLID generation with prefix reuse on and off, side by side in one process (median of repeats).

Both sides use ONE transformers backend object (the fast decoding loop), the same seeds file
(every field filled, so no self-seeding calls), the same plans, batch size, temperature and
per-request seeds; they differ only in the prefix cache: off (``prefix_cache_mb=0``) or on (a new,
empty cache of ``--prefix-cache-mb`` MiB at the start of each run, so every run starts cold).
The sides alternate (off, on, on, off, off, on, ...) to spread drifts in machine load; each side
is run ``--repeats`` times and medians are reported. The clock of a run is the generation loop
(first dialog turn to last outcome written), as in benchmarks/solid_batching.py.

Reported per side: seconds, accepted dialogs, dialogs/h, plans/h, prompt tokens sent and prompt
tokens actually prefilled (the rest came from the cache), and whether the two sides wrote the same
texts (the same seeds give the same tokens up to floating-point effects of reusing keys/values).
Sampling stops at end of sequence unless ``--ignore-eos`` (then every turn runs
``--max-new-tokens`` tokens, the same decode work on both sides).

``--synthetic`` replaces SOLID with a workload of the same shape (for a prompt layout without shared
turn prefixes): ``--n`` dialogs of ``--turns`` turns, continuous batches of ``--batch-size``; turn t's
prompt is a fixed system prompt, a per-dialog ~``--background-words`` background, the previous turns'
questions and replies, then a short per-turn instruction.

``--prefill L,P`` measures the mechanism alone instead: CPU seconds to prefill one random L-token
prompt in full and with its first P tokens cached (median of ``--repeats``).

Run: OMP_NUM_THREADS=1 python benchmarks/prefix_reuse.py --seeds runs/bench/seeds.jsonl --n 32 --batch-size 32
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from solid_batching import run_side


class Metered:
    """The backend, summing prompt tokens sent and prefilled, and keeping every text (to compare the sides)."""

    def __init__(self, backend):
        self.backend, self.model_id = backend, backend.model_id
        self.prompt_tokens = self.prefilled = self.calls = 0
        self.texts: list[str] = []

    def complete(self, requests):
        out = self.backend.complete(requests)
        self.calls += 1
        self.prompt_tokens += sum(c.prompt_tokens for c in out)
        self.prefilled += sum(c.meta["prefilled_tokens"] for c in out)
        self.texts += [c.text for c in out]
        return out


def set_reuse(llm, on: bool, mb: float) -> None:
    """A fresh prefix cache (on) or none (off) on the loaded backend: both sides share one model."""
    from solid_bench.llm.prefix_cache import PrefixCache

    llm._prefix_cache = PrefixCache(int(mb * 2**20)) if on else None


def synthetic_side(llm, n: int, turns: int, batch_size: int, max_new_tokens: int, temperature: float,
                   background_words: int) -> dict:
    """Dialogs of a fixed shape through the backend in continuous batches; returns seconds and counts."""
    import random

    from solid_bench.llm import Request

    rng = random.Random(0)
    words = "printer driver update network setting account password install error version screen file".split()
    system = ("Role-play a help-forum conversation between a user and a support agent. Write the next message "
              "only, one to three sentences, in the voice of the speaker named in the instruction.")
    backgrounds = [" ".join(rng.choice(words) for _ in range(background_words)) for _ in range(n)]
    queue, pool, done, calls = list(range(n)), [], 0, 0
    history: dict[int, list[tuple[str, str]]] = {}
    start = time.perf_counter()
    while queue or pool:
        while queue and len(pool) < batch_size:
            d = queue.pop(0)
            pool.append(d)
            history[d] = []
        reqs = []
        for d in pool:
            t = len(history[d])
            speaker = "User" if t % 2 == 0 else "Agent"
            msgs = [("system", system), ("user", f"Entity {d}. Background: {backgrounds[d]}")]
            msgs += [("assistant" if i % 2 else "user", text) for i, (_, text) in enumerate(history[d])]
            msgs.append(("user", f"Instruction for turn {t + 1}: as the {speaker}, "
                                 f"{rng.choice(['ask a question', 'give an answer', 'say thanks'])}."))
            reqs.append(Request.chat(*msgs, max_new_tokens=max_new_tokens, temperature=temperature,
                                     seed=rng.randrange(2**31)))
        out = llm.complete(reqs)
        calls += 1
        for d, c in zip(pool, out):
            history[d].append(("x", c.text or "(empty)"))
        finished = [d for d in pool if len(history[d]) == turns]
        done += len(finished)
        pool = [d for d in pool if d not in finished]
    wall = time.perf_counter() - start
    return {"seconds": wall, "accepted": done, "plans": n, "dialogs_per_hour": 3600 * done / wall,
            "plans_per_hour": 3600 * n / wall, "calls": calls}


def prefill_only(llm, length: int, cached: int, repeats: int, mb: float) -> dict:
    """CPU seconds of a full prefill of a random ``length``-token prompt and of one over its first ``cached`` tokens."""
    import torch

    from solid_bench.llm.fast_decode import _cache_keyword, _prefill
    from solid_bench.llm.prefix_cache import PrefixCache

    model, _ = llm.load()
    arg, gen = _cache_keyword(model), torch.Generator().manual_seed(0)
    vocab = model.config.vocab_size
    first = torch.randint(100, vocab, (length,), generator=gen).tolist()
    prompt = first[:cached] + torch.randint(100, vocab, (length - cached,), generator=gen).tolist()
    full, reuse = [], []
    with torch.inference_mode():
        for _ in range(repeats):
            t = time.process_time()
            _prefill(model, [prompt], "cpu", arg, None)
            full.append(time.process_time() - t)
            cache = PrefixCache(int(mb * 2**20))
            _prefill(model, [first], "cpu", arg, cache)
            t = time.process_time()
            _, _, reused = _prefill(model, [prompt], "cpu", arg, cache)
            reuse.append(time.process_time() - t)
            assert reused == [cached], reused
    return {"full": statistics.median(full), "reuse": statistics.median(reuse), "runs_full": full, "runs_reuse": reuse}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=Path, help="seeds JSONL with every field filled (SOLID workload)")
    ap.add_argument("--synthetic", action="store_true", help="a synthetic workload instead of SOLID (see above)")
    ap.add_argument("--turns", type=int, default=6, help="--synthetic: turns per dialog")
    ap.add_argument("--background-words", type=int, default=150, help="--synthetic: background length")
    ap.add_argument("--n", type=int, default=32, help="plans (dialogs) per run")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--max-new-tokens", type=int, default=80, help="per utterance (the generator's default)")
    ap.add_argument("--temperature", type=float, default=0.7, help="the generator's default")
    ap.add_argument("--ignore-eos", action="store_true", help="every turn generates --max-new-tokens tokens")
    ap.add_argument("--prefix-cache-mb", type=float, default=None, help="cache budget (default: the backend's)")
    ap.add_argument("--model", default=None)
    ap.add_argument("--dtype", default="auto", help="model dtype (auto: fp32 on CPU)")
    ap.add_argument("--prefill", default=None, metavar="L,P", help="time one L-token prefill with P tokens cached")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    if not args.synthetic and args.seeds is None and args.prefill is None:
        ap.error("give --seeds FILE (SOLID), --synthetic or --prefill L,P")

    from solid_bench.llm import create_backend
    from solid_bench.llm.backends.transformers_backend import PREFIX_CACHE_MB

    mb = PREFIX_CACHE_MB if args.prefix_cache_mb is None else args.prefix_cache_mb
    llm = create_backend("transformers", args.model, batch_size=args.batch_size, ignore_eos=args.ignore_eos,
                         dtype=args.dtype, decode_loop="fast")
    llm.load()
    if args.prefill:
        length, cached = (int(x) for x in args.prefill.split(","))
        got = prefill_only(llm, length, cached, args.repeats, mb)
        print(f"model {llm.model_id}; dtype {args.dtype}; CPU s, median of {args.repeats}: full prefill of {length} "
              f"tokens {got['full']:.2f}, the last {length - cached} over {cached} cached {got['reuse']:.2f} "
              f"({got['full'] / got['reuse']:.1f}x)")
        return
    runs: dict[str, list[dict]] = {"off": [], "on": []}
    texts: dict[str, list[list[str]]] = {"off": [], "on": []}
    tmp = Path(tempfile.mkdtemp(prefix="prefix-reuse-"))
    try:
        for r in range(args.repeats):
            for side in (("off", "on") if r % 2 == 0 else ("on", "off")):
                set_reuse(llm, side == "on", mb)
                metered = Metered(llm)
                if args.synthetic:
                    result = synthetic_side(metered, args.n, args.turns, args.batch_size, args.max_new_tokens,
                                            args.temperature, args.background_words)
                else:
                    result = run_side(metered, args.seeds, args.n, args.batch_size, args.max_new_tokens,
                                      args.temperature, tmp / f"{side}-{r}")
                result.update(prompt_tokens_sent=metered.prompt_tokens, prefilled_tokens=metered.prefilled,
                              backend_calls=metered.calls,
                              cache_mib=(llm._prefix_cache.bytes / 2**20) if llm._prefix_cache is not None else 0.0)
                runs[side].append(result)
                texts[side].append(metered.texts)
                print(f"run {r + 1} {side:>3}: {result['seconds']:7.1f} s  accepted {result['accepted']:>3}/"
                      f"{result['plans']}  {result['dialogs_per_hour']:7.1f} dialogs/h  prompt tokens "
                      f"{metered.prompt_tokens:>7}  prefilled {metered.prefilled:>7}  calls {metered.calls}  "
                      f"cache {result['cache_mib']:.0f} MiB", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    med = {side: {k: statistics.median(x[k] for x in runs[side])
                  for k in ("seconds", "accepted", "dialogs_per_hour", "plans_per_hour", "prompt_tokens_sent",
                            "prefilled_tokens")} for side in runs}
    same = [a == b for a, b in zip(texts["off"][0], texts["on"][0])]
    speedup = med["on"]["dialogs_per_hour"] / max(1e-9, med["off"]["dialogs_per_hour"])
    plan_speedup = med["on"]["plans_per_hour"] / max(1e-9, med["off"]["plans_per_hour"])
    print(f"model {llm.model_id}; dtype {args.dtype}; {'synthetic' if args.synthetic else 'SOLID'}; "
          f"{args.n} plans, batch {args.batch_size}, {args.repeats} runs per side, cache {mb:g} MiB")
    for side in ("off", "on"):
        m = med[side]
        print(f"median {side:>3}: {m['seconds']:7.1f} s  accepted {m['accepted']:g}  {m['dialogs_per_hour']:7.1f} "
              f"dialogs/h  {m['plans_per_hour']:7.1f} plans/h  prefilled {m['prefilled_tokens']:g} of "
              f"{m['prompt_tokens_sent']:g} prompt tokens")
    print(f"reuse on / off: {speedup:.2f}x dialogs/h, {plan_speedup:.2f}x plans/h; first runs wrote the same text "
          f"for {sum(same)} of {len(same)} requests (both sides sent {len(texts['off'][0])} / {len(texts['on'][0])})")
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "runs": runs,
                                         "median": med, "speedup_dialogs_per_hour": speedup,
                                         "speedup_plans_per_hour": plan_speedup,
                                         "same_texts": [sum(same), len(same)]}, indent=1))


if __name__ == "__main__":
    main()
