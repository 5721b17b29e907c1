"""Speed of the leaderboard statistics on an MSDialog-test-sized problem (970 utterances, 219 dialogs, 12 labels).

Run: python benchmarks/stats_speed.py   (prints the median of 5 runs of each call)
"""

from __future__ import annotations

import statistics
import time

import numpy as np

from solid_bench.stats import bootstrap_ci, paired_randomization_test


def _problem(seed: int = 0):
    rng = np.random.default_rng(seed)
    groups = np.sort(np.r_[np.arange(219), rng.integers(0, 219, 970 - 219)])  # every dialog non-empty
    gold = rng.random((970, 12)) < 0.15
    pred_a = np.where(rng.random(gold.shape) < 0.1, ~gold, gold)
    pred_b = np.where(rng.random(gold.shape) < 0.12, ~gold, gold)
    return gold, pred_a, pred_b, groups


def _median_seconds(fn, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Print median wall seconds for bootstrap_ci and the randomization test."""
    gold, a, b, groups = _problem()
    print(f"problem: {gold.shape[0]} utterances, {len(np.unique(groups))} dialogs, {gold.shape[1]} labels")
    t = _median_seconds(lambda: bootstrap_ci(gold, a, groups, n_resamples=1000))
    print(f"bootstrap_ci (6 metrics, 1000 dialog resamples): median {t * 1000:.1f} ms of 5 runs")
    t = _median_seconds(lambda: paired_randomization_test(gold, a, b, groups=groups, n_permutations=10000))
    print(f"paired_randomization_test (micro_f1, 10000 dialog swaps): median {t * 1000:.1f} ms of 5 runs")
    t = _median_seconds(lambda: paired_randomization_test(gold, a, b, n_permutations=10000))
    print(f"paired_randomization_test (micro_f1, 10000 utterance swaps): median {t * 1000:.1f} ms of 5 runs")


if __name__ == "__main__":
    main()
