"""Builders of synthetic Result JSON files for the leaderboard tests (no real runs, no real data)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from solid_bench.metrics import score
from solid_bench.results import SCHEMA_VERSION, config_hash, result_path, write_result

LABELS = ["OQ", "RQ", "CQ", "FD", "FQ", "IR", "PA", "PF", "NF", "GG", "JK", "O"]
N_DIALOGS = 10
#: 10 test dialogs x 2 utterances = 20 test utterances: (OQ, PA) for even dialogs, (OQ, FD_PA) for odd ones.
GOLD = [g for i in range(N_DIALOGS) for g in ("OQ", "PA" if i % 2 == 0 else "FD_PA")]
KEYS = [(f"t{i}", pos) for i in range(N_DIALOGS) for pos in (0, 1)]


def matrix(strings: list[str]) -> np.ndarray:
    """Indicator matrix of 'FD_PA'-style label strings."""
    y = np.zeros((len(strings), len(LABELS)), dtype=np.int8)
    for i, s in enumerate(strings):
        for c in filter(None, s.split("_")):
            y[i, LABELS.index(c)] = 1
    return y


def weak(seed: int) -> list[str]:
    """Baseline-like predictions: first utterances right, second ones 'GG' (seed 1 gets dialog t0 right too)."""
    out = ["OQ" if pos == 0 else "GG" for _, pos in KEYS]
    if seed == 1:
        out[1] = GOLD[1]
    return out


def strong(seed: int) -> list[str]:
    """Near-perfect predictions (seed 2 misses the FD of dialog t1)."""
    out = list(GOLD)
    if seed == 2:
        out[3] = "PA"
    return out


def wrong(seed: int) -> list[str]:
    """Predictions that are wrong everywhere."""
    return ["JK"] * len(GOLD)


def synthetic_cost(n: int) -> dict[str, float]:
    """Marginal generation cost of n synthetic dialogs: 2,000 prompt + 500 completion tokens and 3.6 s per dialog."""
    return {"llm_calls": 10 * n, "prompt_tokens": 2000 * n, "completion_tokens": 500 * n, "seconds": 3.6 * n, "dialogs": n}


def generation_cost(n: int) -> dict[str, dict[str, float]]:
    """Both cost figures of n synthetic dialogs: all-in is twice the marginal cost (seeding, retries, rejected plans)."""
    marginal = synthetic_cost(n)
    return {"marginal": marginal, "all_in": {k: (v if k == "dialogs" else 2 * v) for k, v in marginal.items()}}


def corpus_summary(spec: str) -> dict[str, Any]:
    """A Corpus.summary()-like record for a train spec (mixtures carry their parts)."""
    parts = []
    for part in spec.split("+"):
        name, _, size = part.partition("@")
        synthetic = name != "human"
        n = int(size.partition(":")[0]) if size else 40
        parts.append({"spec": part, "n_dialogs": n, "n_utterances": 4 * n, "synthetic": synthetic, "has_human": not synthetic,
                      "generation_cost": generation_cost(n) if synthetic else None, "provenance": {}})  # fmt: skip
    synth = [p for p in parts if p["synthetic"]]
    return {
        "spec": spec, "split": "train", "sha256": config_hash({"spec": spec}),
        "n_dialogs": sum(p["n_dialogs"] for p in parts), "n_utterances": sum(p["n_utterances"] for p in parts),
        "synthetic": bool(synth), "has_human": any(p["has_human"] for p in parts),
        "generation_cost": generation_cost(sum(p["n_dialogs"] for p in synth)) if synth else None,
        "provenance": {"parts": parts} if len(parts) > 1 else {},
    }  # fmt: skip


def make_result(train: str, seed: int, y_pred: list[str], predictor: str = "tfidf_lr", params: dict | None = None,
                metrics: dict | None = None, test: str = "human") -> dict[str, Any]:  # fmt: skip
    """One Result dict as the runner writes it; metrics come from score() unless given."""
    cell = {"train": train, "valid": "human", "test": test, "predictor": predictor, "params": dict(params or {}), "seed": seed}
    m = score(matrix(GOLD), matrix(y_pred), LABELS)
    if metrics:
        m.update(metrics)
    summary = corpus_summary(train)
    return {
        "schema_version": SCHEMA_VERSION, "solid_bench_version": "0.1.0", "config_hash": config_hash(cell), "cell": cell,
        "corpora": {"train": summary, "valid": summary, "test": {"spec": test, "n_dialogs": N_DIALOGS, "n_utterances": len(GOLD),
                    "synthetic": False, "has_human": True, "generation_cost": None}},
        "predictor": {"name": predictor, "params": dict(params or {}), "model_id": None},
        "seed": seed, "metrics": m, "ci": {"micro_f1": [0.0, 1.0]},
        "generation_cost": summary["generation_cost"],
        "timing": {"train_seconds": 1.0 + seed, "predict_seconds": 0.5},
        "predictions": {"labels": LABELS, "dialog_ids": [d for d, _ in KEYS], "positions": [p for _, p in KEYS],
                        "y_true": GOLD, "y_pred": y_pred},
        "environment": {"solid_bench": "0.1.0", "python": "3.11.2", "platform": "Linux", "processor": "x86_64",
                        "cpu_count": 2, "packages": {}, "device": "cpu", "git_commit": "0123456789abcdef0123"},
    }  # fmt: skip


#: train spec -> prediction function; the standard fixture's systems (all with tfidf_lr, seeds 0-2).
SYSTEMS = {"human": weak, "solid@100": lambda s: weak(0), "solid@500": strong, "human+solid@500": strong, "solid-rl@500": wrong}


def write_results(folder: Path, systems=SYSTEMS, seeds=(0, 1, 2)) -> Path:
    """Write one Result file per system and seed into ``folder``."""
    for train, fn in systems.items():
        for seed in seeds:
            r = make_result(train, seed, fn(seed))
            write_result(result_path(folder, r["cell"]), r)
    return folder
