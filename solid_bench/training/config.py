"""The settings of one SOLID-RL training run, validated once; recorded in the model card."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..errors import UserError

GEN_BACKENDS = ("transformers", "llama-server", "llama-cpp")  # the llama.cpp ones run the SFT model exported to GGUF


@dataclass(frozen=True)
class TrainConfig:
    """Hyperparameters and switches of ``solid-bench train-generator``."""

    source: str  # corpus spec or run folder with the SOLID dialogs
    out: Path
    base: str | None = None  # model folder or hub id; None: the default local SmolLM2
    dpo: bool = True
    reverse_pairs: bool = False  # DPO ablation: prefer the SFT model's own output over SOLID's dialog
    lora: bool = False
    lora_r: int = 16
    lora_alpha: int = 32
    lmq: bool = True
    lmq_threshold: float = 0.8
    lmq_high_weight: float = 1.0
    lmq_low_weight: float = 0.5
    epochs: float = 1.0
    lr: float = 5e-5
    batch_size: int = 4
    grad_accum: int = 1
    max_length: int = 1024
    seed: int = 0
    valid_fraction: float = 0.1
    max_steps: int = -1  # > 0 caps each stage's optimiser steps (smoke tests)
    save_steps: int = 50
    dpo_beta: float = 0.1
    dpo_lr: float = 5e-6
    dpo_epochs: float = 1.0
    gen_max_new_tokens: int = 512
    gen_temperature: float = 0.7
    gen_batch_size: int = 8
    gen_backend: str = "transformers"  # the engine the SFT model writes its own dialogs on (DPO rejected side)
    gen_options: dict = field(default_factory=dict)  # its options, e.g. llama-server's servers / parallel
    extra: dict = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        checks = [
            (self.epochs > 0, f"--epochs must be positive, got {self.epochs}"),
            (self.lr > 0, f"--lr must be positive, got {self.lr}"),
            (self.batch_size >= 1, f"--batch-size must be at least 1, got {self.batch_size}"),
            (self.grad_accum >= 1, f"--grad-accum must be at least 1, got {self.grad_accum}"),
            (self.max_length >= 32, f"--max-length must be at least 32 tokens, got {self.max_length}"),
            (0.0 <= self.lmq_threshold <= 1.0, f"--lmq-threshold must lie in [0, 1], got {self.lmq_threshold}"),
            (0.0 <= self.valid_fraction < 1.0, f"the validation fraction must lie in [0, 1), got {self.valid_fraction}"),
            (self.lmq_high_weight > 0 and self.lmq_low_weight > 0, "LMQ weights must be positive"),
            (self.seed >= 0, f"--seed must be 0 or more, got {self.seed}"),
            (self.save_steps >= 1, f"--save-steps must be at least 1, got {self.save_steps}"),
            (self.dpo_epochs > 0 and self.dpo_lr > 0 and self.dpo_beta > 0,
             f"--dpo-epochs, --dpo-lr and --dpo-beta must be positive, got {self.dpo_epochs}, {self.dpo_lr}, {self.dpo_beta}"),
            (self.gen_max_new_tokens >= 1, f"--gen-max-new-tokens must be at least 1, got {self.gen_max_new_tokens}"),
            (self.gen_batch_size >= 1, f"--gen-batch-size must be at least 1, got {self.gen_batch_size}"),
            (self.gen_backend in GEN_BACKENDS,
             f"--gen-backend must be one of {', '.join(GEN_BACKENDS)}, got {self.gen_backend!r}"),
        ]
        for ok, message in checks:
            if not ok:
                raise UserError(message + ".")

    def to_dict(self) -> dict:
        """JSON-able settings (paths as strings)."""
        d = asdict(self)
        d["out"] = str(self.out)
        return d
