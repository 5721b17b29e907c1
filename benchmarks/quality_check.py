"""Quality check of a predictor on the human MSDialog-IntentPred splits (needs SOLID_BENCH_DATA).

Fits on train (validation = valid split), tunes one global threshold on valid for micro-F1 (at
least one label per utterance), scores on test. Usage:

    python benchmarks/quality_check.py tfidf-lr --seeds 0
    python benchmarks/quality_check.py bert --seeds 0 1 2 --param epochs=3 --param lr=5e-5
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def _decide(valid_y, valid_p, test_p):
    """Global threshold tuned on valid; solid_bench.decision when present, else a local grid."""
    try:
        from solid_bench.decision import apply, tune_threshold
    except ImportError:
        from solid_bench.predictors._common import best_global_micro_f1

        _, t = best_global_micro_f1(valid_p, valid_y)
        d = test_p >= t
        d[np.arange(len(test_p)), test_p.argmax(axis=1)] = True
        return d.astype(np.int8), f"local grid t={t:.2f}"
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
    args = ap.parse_args(argv)
    from solid_bench.corpora import resolve
    from solid_bench.examples import Examples
    from solid_bench.metrics import score
    from solid_bench.predictors import create

    params = {k: _value(v) for k, _, v in (p.partition("=") for p in args.param)}
    splits = {s: resolve("human", s) for s in ("train", "valid", "test")}
    labels = splits["train"].labels
    ex = {s: Examples.from_dialogs(c.dialogs) for s, c in splits.items()}
    rows = []
    for seed in args.seeds:
        pred = create(args.predictor, **params)
        t0 = time.perf_counter()
        pred.fit(ex["train"], ex["valid"], labels, seed)
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        pv, pt = pred.predict_proba(ex["valid"]), pred.predict_proba(ex["test"])
        pred_s = time.perf_counter() - t0
        y_pred, how = _decide(ex["valid"].y(labels), pv, pt)
        m = score(ex["test"].y(labels), y_pred, labels.codes)
        row = {"predictor": args.predictor, "seed": seed, "micro_f1": round(m["micro_f1"], 4), "qu_accuracy": round(m["qu_accuracy"], 4),
               "macro_f1": round(m["macro_f1"], 4), "fit_s": round(fit_s, 1), "predict_s": round(pred_s, 1), "decision": how,
               "params": pred.params()}
        rows.append(row)
        print(json.dumps(row), flush=True)
    for k in ("micro_f1", "qu_accuracy"):
        print(f"mean {k} over seeds {args.seeds}: {np.mean([r[k] for r in rows]):.4f}")


if __name__ == "__main__":
    main()
