"""Quality check of a predictor on the human MSDialog-IntentPred splits (needs SOLID_BENCH_DATA).

Fits on train (validation = valid split), tunes one global threshold on valid for micro-F1 (at
least one label per utterance), scores on test. Usage:

    python benchmarks/quality_check.py tfidf-lr --seeds 0
    python benchmarks/quality_check.py bert --seeds 0 1 2 --param epochs=3 --grid lr=5e-5,1e-4

With ``--grid name=v1,v2`` (repeatable) every combination is fitted for the first seed, the one
with the best VALIDATION micro-F1 is kept, and the other seeds use it. Test figures of the
losing combinations are printed too, but they never influence the choice.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time

import numpy as np


def _decide(valid_y, valid_p, test_p):
    """Global threshold tuned on valid by the harness's decision rule."""
    from solid_bench.decision import apply, tune_threshold

    th = tune_threshold(valid_y, valid_p)
    return apply(test_p, th), "solid_bench.decision"


def _value(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main(argv=None) -> None:
    """Fit, tune and score the named predictor for each seed; print one JSON line per seed and the mean."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("predictor")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--param", action="append", default=[], help="name=value (JSON value)")
    ap.add_argument("--grid", action="append", default=[], help="name=v1,v2,... (JSON values), chosen on validation")
    args = ap.parse_args(argv)
    from solid_bench.corpora import resolve
    from solid_bench.examples import Examples
    from solid_bench.metrics import score
    from solid_bench.predictors import create

    params = {k: _value(v) for k, _, v in (p.partition("=") for p in args.param)}
    splits = {s: resolve("human", s) for s in ("train", "valid", "test")}
    labels = splits["train"].labels
    ex = {s: Examples.from_dialogs(c.dialogs) for s, c in splits.items()}
    grid = [[(k, _value(v)) for v in vs.split(",")] for k, _, vs in (g.partition("=") for g in args.grid)]
    combos = [dict(c) for c in itertools.product(*grid)] if grid else [{}]

    def one(seed, extra):
        pred = create(args.predictor, **params, **extra)
        t0 = time.perf_counter()
        pred.fit(ex["train"], ex["valid"], labels, seed)
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        pv, pt = pred.predict_proba(ex["valid"]), pred.predict_proba(ex["test"])
        pred_s = time.perf_counter() - t0
        from solid_bench.decision import best_micro_f1

        y_pred, how = _decide(ex["valid"].y(labels), pv, pt)
        m = score(ex["test"].y(labels), y_pred, labels.codes)
        row = {"predictor": args.predictor, "seed": seed, "valid_micro_f1": round(best_micro_f1(ex["valid"].y(labels), pv)[0], 4),
               "micro_f1": round(m["micro_f1"], 4), "qu_accuracy": round(m["qu_accuracy"], 4),
               "macro_f1": round(m["macro_f1"], 4), "fit_s": round(fit_s, 1), "predict_s": round(pred_s, 1), "decision": how,
               "grid": extra, "params": pred.params()}
        print(json.dumps(row), flush=True)
        return row

    first = [one(args.seeds[0], c) for c in combos]
    best = max(first, key=lambda r: r["valid_micro_f1"])
    if len(combos) > 1:
        print(f"chosen on validation: {best['grid']} (valid micro-F1 {best['valid_micro_f1']})", flush=True)
    rows = [best] + [one(seed, best["grid"]) for seed in args.seeds[1:]]
    for k in ("micro_f1", "qu_accuracy"):
        print(f"mean {k} over seeds {args.seeds}: {np.mean([r[k] for r in rows]):.4f}")


if __name__ == "__main__":
    main()
