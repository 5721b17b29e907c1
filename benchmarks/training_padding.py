"""Padding in SOLID-RL's training batches: random batches against batches grouped by length.

    SOLID_BENCH_DATA=... python benchmarks/training_padding.py sft leaderboards/corpora/solid-qwen2.5-coder-1.5b
    python benchmarks/training_padding.py dpo models/solid-rl-qwen/stages/dpo/pairs.jsonl

``sft`` builds the SFT examples exactly as ``solid-bench train-generator`` does (the dialog split,
LMQ tags) and tokenizes each prompt + completion with the base model's chat template.
``dpo`` reads the pairs a training run wrote; a DPO batch runs each pair's chosen and rejected
dialog, all padded to the longest, so a pair counts as twice its longer side. Then it counts the
tokens one epoch processes when every batch is padded to its longest example: with transformers'
RandomSampler (the Trainer default) and with its LengthGroupedSampler (what ``train_sft`` and
``train_dpo`` use), over several sampler seeds. On a CPU a training step's time grows with the
padded tokens it processes (the attention's quadratic part is small at these lengths), so the
ratio of padded tokens is the ratio of training compute.
"""

from __future__ import annotations

import argparse
import statistics


def _tokenizer():
    from transformers import AutoTokenizer

    from solid_bench.training.pipeline import _base_folder

    return AutoTokenizer.from_pretrained(_base_folder(None))


def _length(tokenizer, messages: list[dict]) -> int:
    return len(tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True)["input_ids"])


def pair_lengths(path: str) -> tuple[list[int], int]:
    """Per DPO pair, its longer side in tokens (prompt + chosen or rejected); and the pairs' real tokens."""
    import json
    from pathlib import Path

    tokenizer = _tokenizer()
    lengths, real = [], 0
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            p = json.loads(line)
            sides = [_length(tokenizer, p["prompt"] + p["chosen"]), _length(tokenizer, p["prompt"] + p["rejected"])]
            lengths.append(max(sides))
            real += sum(sides)
    return lengths, real


def example_lengths(source: str, valid_fraction: float, seed: int, lmq: bool) -> list[int]:
    """Token counts of the SFT training examples of ``source`` (one per train dialog), with train-generator's LMQ tags."""
    from pathlib import Path

    from solid_bench.corpora import resolve
    from solid_bench.training.config import TrainConfig
    from solid_bench.training.data import sft_records, split_by_dialog
    from solid_bench.training.pipeline import lmq_bands

    bands = lmq_bands(TrainConfig(source=source, out=Path("."), lmq=lmq, valid_fraction=valid_fraction, seed=seed))
    train, _ = split_by_dialog(list(resolve(source, "train").dialogs), valid_fraction, seed)
    records = sft_records(train, bands)
    tokenizer = _tokenizer()
    return [_length(tokenizer, r["prompt"] + r["completion"]) for r in records]


def padded_tokens(lengths: list[int], order: list[int], batch_size: int, rows: int = 1) -> int:
    """Tokens processed when the examples run in ``order``, each batch padded to its longest; an example
    is ``rows`` sequences (DPO: 2)."""
    total = 0
    for start in range(0, len(order), batch_size):
        batch = [lengths[i] for i in order[start:start + batch_size]]
        total += max(batch) * len(batch) * rows
    return total


def main(argv=None) -> None:
    """Print, per sampler, the padded tokens of one epoch and the share of them that is real text."""
    import torch
    from torch.utils.data import RandomSampler
    from transformers.trainer_pt_utils import LengthGroupedSampler

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("stage", choices=("sft", "dpo"))
    ap.add_argument("source", help="sft: the SOLID corpus train-generator trains on (run folder or corpus spec); "
                                   "dpo: a training run's stages/dpo/pairs.jsonl")
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--valid-fraction", type=float, default=0.034)
    ap.add_argument("--seeds", type=int, default=5, help="sampler seeds")
    ap.add_argument("--no-lmq", action="store_true")
    args = ap.parse_args(argv)

    if args.stage == "sft":
        lengths, rows = example_lengths(args.source, args.valid_fraction, 0, not args.no_lmq), 1
        real = sum(lengths)
    else:
        (lengths, real), rows = pair_lengths(args.source), 2
    print(f"{len(lengths)} {args.stage.upper()} examples, {real:,} tokens; lengths (DPO: the longer side) min {min(lengths)}, "
          f"median {statistics.median(lengths):.0f}, max {max(lengths)}; batch size {args.batch_size}")
    samplers = {
        "random": lambda g: RandomSampler(range(len(lengths)), generator=g),
        "grouped by length": lambda g: LengthGroupedSampler(args.batch_size, lengths=lengths, generator=g),
    }
    medians = {}
    for name, make in samplers.items():
        runs = [padded_tokens(lengths, list(make(torch.Generator().manual_seed(s))), args.batch_size, rows) for s in range(args.seeds)]
        medians[name] = statistics.median(runs)
        print(f"{name:18s} padded tokens per epoch: median {medians[name]:,.0f} over {args.seeds} seeds "
              f"(min {min(runs):,}, max {max(runs):,}); real text {real / medians[name]:.1%}")
    print(f"random / grouped: {medians['random'] / medians['grouped by length']:.3f}x the tokens")


if __name__ == "__main__":
    main()
