"""Seconds until ``corpora.resolve`` answers three absurd corpus specs (issue 15, item 5).

    SOLID_BENCH_DATA=... python benchmarks/absurd_specs.py

Each must be refused with one sentence before any corpus is loaded.
"""

import time

from solid_bench.corpora import resolve
from solid_bench.errors import UserError

cases = {
    "'human+' x 1,700": "human+" * 1700,
    "'human' x 1,700, joined by '+'": "+".join(["human"] * 1700),
    "'human' x 600 (3,599 chars)": "+".join(["human"] * 600),
    "10,000 x's": "x" * 10000,
}
for name, spec in cases.items():
    t = time.perf_counter()
    try:
        resolve(spec, "train")
        outcome = "no error"
    except UserError as e:
        outcome = "UserError: " + str(e)[:90]
    except OSError as e:
        outcome = f"{type(e).__name__}: {str(e)[:60]}"
    print(f"{name:32s} {(time.perf_counter() - t) * 1000:8.3f} ms  {outcome}")
