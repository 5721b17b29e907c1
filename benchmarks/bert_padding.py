"""Speed of `bert` training and prediction: dynamic padding + length grouping vs fixed max-length padding.

Both modes use the same encoder, max_length, batch size and number of optimizer steps over the
whole training split (so the length-grouped sampler sees all of it, as in a real epoch: grouping
within a small subset would group nothing), side by side in one run, repeated with different
seeds; medians are printed. The grouped sampler sorts each mega-batch of 50 batches longest
first, so time at least 50 steps (e.g. ``--steps 50 --batch-size 4`` on a CPU), or the timed
steps are only the longest ones. Needs SOLID_BENCH_DATA
(MSDialog-IntentPred train split). Usage:

    python benchmarks/bert_padding.py --steps 50 --repeats 3 --threads 2      # predictor defaults: batch 16, max_length 128
    python benchmarks/bert_padding.py --steps 100 --repeats 3 --full-epoch      # on a GPU

Training utterances/second come from the Trainer's own loop time (model loading and
tokenization excluded); prediction utterances/second from ``predict_proba`` over a random
sample of steps x batch-size training utterances. The one-epoch time over all training utterances is extrapolated from the training
rate and, with ``--full-epoch``, also measured once per mode.
"""

from __future__ import annotations

import argparse
import statistics
import time

MODES = {"dynamic+grouped": False, "fixed max_length": True}  # name -> pad_to_max_length


def _fit(train, labels, args, pad: bool, seed: int, steps: int):
    from solid_bench.predictors.bert import Bert

    params = dict(max_length=args.max_length, batch_size=args.batch_size, eval_batch_size=args.batch_size, epochs=1, max_steps=steps,
                  pad_to_max_length=pad, torch_threads=args.threads, patience=None)
    if args.model:
        params["model"] = args.model
    return Bert(**params).fit(train, None, labels, seed)


def main(argv=None) -> None:
    """Run the side-by-side timing and print per-repeat figures, medians and ratios."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="encoder path or hub id (default: the bundled MiniLM)")
    ap.add_argument("--steps", type=int, default=50, help="optimizer steps per timed training run (>= 50: one mega-batch)")
    ap.add_argument("--batch-size", type=int, default=16, help="default: the bert predictor's default")
    ap.add_argument("--max-length", type=int, default=128, help="default: the bert predictor's default")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    ap.add_argument("--full-epoch", action="store_true", help="also time one full epoch per mode")
    args = ap.parse_args(argv)

    import numpy as np
    import torch

    from solid_bench.corpora import resolve
    from solid_bench.examples import Examples

    corpus = resolve("human", "train")
    labels, full = corpus.labels, Examples.from_dialogs(corpus.dialogs)
    n = min(len(full), args.steps * args.batch_size)
    from solid_bench.predictors.bert import Bert

    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"CPU ({args.threads or torch.get_num_threads()} torch threads)"
    device += f", bf16 autocast {'on' if Bert()._use_bf16() else 'off'}"
    print(f"device: {device}; {len(full)} training utterances; {args.steps} timed steps x {args.batch_size}; predict sample {n}; "
          f"max_length {args.max_length}; {args.repeats} repeats", flush=True)

    rates: dict[str, dict[str, list[float]]] = {m: {"train": [], "predict": []} for m in MODES}
    for r in range(args.repeats):
        subset = full.subset(np.random.default_rng(r).permutation(len(full))[:n])
        for mode, pad in MODES.items():
            model = _fit(full, labels, args, pad, seed=r, steps=args.steps)
            train_rate = args.steps * args.batch_size / model.train_runtime_
            t0 = time.perf_counter()
            model.predict_proba(subset)
            predict_rate = n / (time.perf_counter() - t0)
            rates[mode]["train"].append(train_rate)
            rates[mode]["predict"].append(predict_rate)
            print(f"repeat {r} {mode:17s} train {train_rate:8.1f} utt/s  predict {predict_rate:8.1f} utt/s", flush=True)
            del model

    med = {m: {k: statistics.median(v) for k, v in d.items()} for m, d in rates.items()}
    dyn, fix = med["dynamic+grouped"], med["fixed max_length"]
    print("\nmedians (utterances/second):")
    for mode, d in med.items():
        print(f"  {mode:17s} train {d['train']:8.1f}  predict {d['predict']:8.1f}  "
              f"extrapolated epoch of {len(full)}: {len(full) / d['train'] / 60:6.2f} min")
    print(f"  speed-up dynamic/fixed: train {dyn['train'] / fix['train']:.2f}x  predict {dyn['predict'] / fix['predict']:.2f}x")

    if args.full_epoch:
        steps = -(-len(full) // args.batch_size)
        for mode, pad in MODES.items():
            model = _fit(full, labels, args, pad, seed=0, steps=steps)
            print(f"measured full epoch ({len(full)} utterances, {steps} steps) {mode}: "
                  f"{model.train_runtime_:.1f} s = {model.train_runtime_ / 60:.2f} min", flush=True)
            del model


if __name__ == "__main__":
    main()
