"""SOLID-RL training data: SFT examples (prompt -> whole dialog, with its LMQ weight), the dialog-level split, DPO pairs.

Each SFT record carries its dialog's LMQ weight (high 1.0, low 0.5 by default), which SFT applies
to that dialog's token losses (``sft.weighted_sft_trainer``): every training dialog is seen once
per epoch. The validation loss is never weighted, so it stays comparable across settings.
"""

from __future__ import annotations

from typing import Callable, Sequence

from solid_bench.generators.lmq import Bands, quality, weight
from solid_bench.generators.lmq import tag as lmq_tag
from solid_bench.generators.solid_rl_format import build_prompt, format_target, parse, steps

from ..schema import Dialog


def messages_to_dicts(messages: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    """((role, content), ...) -> [{'role': ..., 'content': ...}, ...] (the TRL conversational form)."""
    return [{"role": r, "content": c} for r, c in messages]


def split_by_dialog(dialogs: Sequence[Dialog], valid_fraction: float, seed: int) -> tuple[list[Dialog], list[Dialog]]:
    """A seeded train/valid split of whole dialogs; valid gets round(fraction * n), at least 1 when n >= 2."""
    import numpy as np

    n = len(dialogs)
    n_valid = 0 if valid_fraction <= 0 or n < 2 else max(1, min(n - 1, round(valid_fraction * n)))
    order = np.random.default_rng(seed).permutation(n)
    valid_idx = set(order[:n_valid].tolist())
    return [d for i, d in enumerate(dialogs) if i not in valid_idx], [d for i, d in enumerate(dialogs) if i in valid_idx]


def sft_records(dialogs: Sequence[Dialog], bands: Bands | None) -> list[dict]:
    """One SFT record per dialog: prompt (with the LMQ tag when ``bands``), completion, tag, quality, weight."""
    records = []
    for d in dialogs:
        q = quality(d, bands) if bands is not None else None
        t = lmq_tag(q, bands) if bands is not None else None
        records.append({
            "id": d.id,
            "prompt": messages_to_dicts(build_prompt(d.seed, d.utterances, t)),
            "completion": [{"role": "assistant", "content": format_target(d)}],
            "tag": t,
            "quality": q,
            "weight": weight(t, bands.settings) if t is not None else 1.0,
        })
    return records


def dpo_pairs(
    dialogs: Sequence[Dialog],
    records: Sequence[dict],
    generate: Callable[[list[list[dict]]], list[str]],
    reverse: bool = False,
) -> list[dict]:
    """DPO pairs: chosen = SOLID's dialog, rejected = the SFT model's own output for the same prompt.

    ``reverse`` swaps them (an ablation). A model output identical to the target gives no pair.
    Each pair records whether the model output parses against the requested intent sequence.
    """
    outputs = generate([r["prompt"] for r in records])
    pairs = []
    for d, r, text in zip(dialogs, records, outputs):
        target = r["completion"][0]["content"]
        own = text.strip()
        if own == target:
            continue
        _, reason = parse(own, steps(d.utterances))
        good, bad = (own, target) if reverse else (target, own)
        pairs.append({
            "id": d.id,
            "prompt": r["prompt"],
            "chosen": [{"role": "assistant", "content": good}],
            "rejected": [{"role": "assistant", "content": bad}],
            "model_output_parse": reason,
        })
    return pairs
