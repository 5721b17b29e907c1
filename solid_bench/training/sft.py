"""Supervised fine-tuning of SOLID-RL with TRL's SFTTrainer: loss on the whole-dialog completion only, each
dialog's tokens weighted by its LMQ weight."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Sequence

from .common import done_summary, load_model_and_tokenizer, restore_final, run_stage, save_final, trainer_kwargs
from .config import TrainConfig

SFT_KEYS = ("prompt", "completion", "weight")  # TRL's conversational prompt-completion columns, and the LMQ weight


def fits(records: Sequence[dict], tokenizer, max_length: int, margin: int = 16) -> tuple[list[dict], int]:
    """Records whose prompt leaves at least ``margin`` tokens of completion inside ``max_length``; and how many were dropped."""
    kept = []
    for r in records:
        n = len(tokenizer.apply_chat_template(r["prompt"], add_generation_prompt=True, tokenize=True, return_dict=True)["input_ids"])
        if n + margin <= max_length:
            kept.append(r)
    return kept, len(records) - len(kept)


def to_dataset(records: Sequence[dict], keys: tuple[str, ...]):
    """A datasets.Dataset holding only ``keys`` (TRL's conversational columns)."""
    from datasets import Dataset

    return Dataset.from_list([{k: r[k] for k in keys} for r in records])


def sft_args(cfg: TrainConfig, stage_dir: Path, has_valid: bool):
    """SFTConfig: loss on the completion only; batches drawn from groups of similar length.

    Dialogs run from about 400 to over 1,000 tokens, so a random batch of 4 is padded to its longest: on
    the SOLID-Qwen dialogs about a fifth of the tokens a random batch processes are padding, against
    about 2% when batches are grouped by length (``benchmarks/training_padding.py sft``). Grouping keeps the
    order random across groups (transformers' LengthGroupedSampler: megabatches of 50 batches).
    """
    from trl import SFTConfig

    return SFTConfig(**trainer_kwargs(cfg, stage_dir, has_valid, cfg.epochs, cfg.lr), completion_only_loss=True,
                     train_sampling_strategy="group_by_length")


def weighted_sft_trainer():
    """TRL's SFTTrainer with a loss weight per training example (a dialog's LMQ weight, the ``weight`` column).

    A training batch's loss is ``sum_i w_i * sum_t loss_it / N``: TRL's mean over the batch's completion tokens
    (``N``, or the count over all accumulated micro-batches that the Trainer passes), each dialog's tokens
    weighted. TRL's own loss (its fused LM head, without full logits) runs once per distinct weight in the
    batch, on those rows, and the parts are added with their token shares. A batch whose weights are all 1
    takes TRL's loss unchanged, and evaluation is never weighted, so validation losses compare across settings.
    """
    import torch
    from trl import SFTTrainer

    class WeightedSFTTrainer(SFTTrainer):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            collate = self.data_collator  # TRL's collator drops columns it does not know

            def with_weights(examples):
                batch = collate(examples)
                if "weight" in examples[0]:
                    batch["weight"] = torch.tensor([float(e["weight"]) for e in examples])
                return batch

            self.data_collator = with_weights

        def _set_signature_columns_if_needed(self):
            super()._set_signature_columns_if_needed()
            if "weight" not in self._signature_columns:
                self._signature_columns = [*self._signature_columns, "weight"]

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            weights = inputs.pop("weight", None)
            if weights is None or not model.training or bool((weights == 1).all()):
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            n_rows = len(weights)
            tokens = (inputs["labels"][:, 1:] != -100).sum(dim=1)  # the tokens each row puts in TRL's mean
            total = (tokens.sum() if num_items_in_batch is None else torch.as_tensor(num_items_in_batch)).clamp(min=1)
            loss = None
            for w in torch.unique(weights):
                rows = weights == w
                part = {k: v[rows] if torch.is_tensor(v) and v.dim() and v.size(0) == n_rows else v for k, v in inputs.items()}
                # TRL's mean over these rows' tokens (without outputs: asking for them costs TRL a second forward pass)
                mean = super().compute_loss(model, part, False, None)
                term = w.to(mean.dtype) * mean * tokens[rows].sum().to(mean.dtype) / total.to(mean.dtype)
                loss = term if loss is None else loss + term
            if num_items_in_batch is not None and self.args.average_tokens_across_devices:
                loss = loss * self.accelerator.num_processes  # as TRL: the count spans all ranks, DDP averages them
            return (loss, None) if return_outputs else loss

    return WeightedSFTTrainer


def train_sft(cfg: TrainConfig, base: str, train: Sequence[dict], valid: Sequence[dict], stage_dir: Path,
              callbacks: Sequence = ()) -> dict:
    """Fine-tune ``base`` on prompt/completion/weight records; resumes from the last checkpoint in ``stage_dir``.
    ``callbacks``: extra TrainerCallbacks (the compute ledger's).

    Returns a summary: losses, steps, examples used and dropped, seconds, and the final model folder.
    """
    stage_dir = Path(stage_dir)
    if restore_final(stage_dir, base):
        return done_summary(stage_dir)
    t0 = time.perf_counter()
    model, tokenizer = load_model_and_tokenizer(base, cfg.lora)
    train, dropped_train = fits(train, tokenizer, cfg.max_length)
    valid, dropped_valid = fits(valid, tokenizer, cfg.max_length)
    if not train:
        from ..errors import UserError

        raise UserError(f"No training dialog's prompt fits in --max-length {cfg.max_length}; raise --max-length.")
    result = run_stage(weighted_sft_trainer(), sft_args(cfg, stage_dir, bool(valid)), model, tokenizer, train, valid, SFT_KEYS, cfg, stage_dir,
                       callbacks)
    trainer = result.pop("trainer")
    summary = {
        "stage": "sft",
        "train_examples": len(train),
        "valid_examples": len(valid),
        "dropped_too_long": dropped_train + dropped_valid,
        **result,
        "seconds": time.perf_counter() - t0,
    }
    save_final(trainer.model, tokenizer, stage_dir, cfg.lora, summary)
    return done_summary(stage_dir)
