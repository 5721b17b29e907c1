"""`solid-bench train-generator`: fine-tune SOLID-RL (SFT, then DPO) on a SOLID run's dialogs."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from . import app


@app.command("train-generator")
def train_generator(
    source: str = typer.Option(..., "--from", help="SOLID dialogs to learn from: a run folder (runs/NAME), a dialogs JSONL or a corpus spec such as solid."),
    out: Path = typer.Option(..., "--out", help="Output folder for the trained model, e.g. models/solid-rl."),
    base: Optional[str] = typer.Option(
        None, "--base", help="Base model: a named local model (solid-bench models list), a folder or a hub id (default: smollm2-135m)."),
    dpo: bool = typer.Option(True, "--dpo/--no-dpo", help="Run DPO after SFT (chosen = SOLID dialog, rejected = the SFT model's own output)."),
    reverse_pairs: bool = typer.Option(False, "--reverse-pairs", help="DPO ablation: prefer the SFT model's output over SOLID's dialog."),
    lora: bool = typer.Option(False, "--lora", help="Train LoRA adapters (PEFT) instead of all weights; merged into the saved model."),
    no_lmq: bool = typer.Option(False, "--no-lmq", help="No length-based quality tag in prompts and no quality weighting."),
    lmq_threshold: float = typer.Option(0.8, "--lmq-threshold", help="Share of in-band utterances for the 'high' quality tag."),
    epochs: float = typer.Option(1.0, "--epochs", help="SFT epochs."),
    lr: float = typer.Option(5e-5, "--lr", help="SFT learning rate."),
    batch_size: int = typer.Option(4, "--batch-size", help="Examples per device step (DPO: pairs)."),
    grad_accum: int = typer.Option(
        1, "--grad-accum", help="Device steps per optimiser step: --batch-size 2 --grad-accum 2 trains on 4 examples a step with half the activation memory."),
    max_length: int = typer.Option(1024, "--max-length", help="Token limit of prompt + dialog; longer prompts are dropped."),
    seed: int = typer.Option(0, "--seed", help="Seed of the split, the shuffling and the DPO generation."),
    valid_fraction: float = typer.Option(
        0.1, "--valid-fraction", help="Share of dialogs held out for the validation loss (split by dialog; at least 1 when > 0)."),
    dpo_epochs: float = typer.Option(1.0, "--dpo-epochs", help="DPO epochs."),
    dpo_lr: float = typer.Option(5e-6, "--dpo-lr", help="DPO learning rate."),
    dpo_beta: float = typer.Option(0.1, "--dpo-beta", help="DPO beta."),
    max_steps: int = typer.Option(-1, "--max-steps", help="Cap on optimiser steps per stage (smoke tests); -1 = no cap."),
    save_steps: int = typer.Option(50, "--save-steps", help="Checkpoint every N steps (resume point)."),
    gen_max_new_tokens: int = typer.Option(512, "--gen-max-new-tokens", help="Token limit of the SFT model's own dialogs (DPO rejected side)."),
    gen_batch_size: int = typer.Option(8, "--gen-batch-size", help="Prompts per generation batch when the SFT model writes its own dialogs."),
    gen_backend: str = typer.Option(
        "transformers", "--gen-backend",
        help="Engine of the SFT model's own dialogs: transformers, or llama-server / llama-cpp on the model exported to GGUF."),
    gen_option: Optional[List[str]] = typer.Option(
        None, "--gen-option", help="KEY=VALUE option of --gen-backend (repeat), e.g. --gen-option servers=2 --gen-option parallel=16."),
) -> None:
    """Fine-tune an LLM to write a whole intent-aware dialog in one call (SOLID-RL); rerun to resume."""
    from ..outputs import check_output_folder
    from ..training.config import TrainConfig
    from ..training.pipeline import train_generator as run
    from .options import parse_key_values

    check_output_folder(out)
    cfg = TrainConfig(
        source=source, out=out, base=base, dpo=dpo, reverse_pairs=reverse_pairs, lora=lora, lmq=not no_lmq,
        lmq_threshold=lmq_threshold, epochs=epochs, lr=lr, batch_size=batch_size, grad_accum=grad_accum, max_length=max_length,
        seed=seed,
        valid_fraction=valid_fraction,
        dpo_epochs=dpo_epochs, dpo_lr=dpo_lr, dpo_beta=dpo_beta, max_steps=max_steps, save_steps=save_steps,
        gen_max_new_tokens=gen_max_new_tokens, gen_batch_size=gen_batch_size, gen_backend=gen_backend,
        gen_options=parse_key_values(gen_option, "--gen-option", "parallel=16"),
    )
    info = run(cfg)
    for s in info["stages"]:
        ev = s.get("eval_loss")
        typer.echo(f"{s['stage']}: {s['global_step']} steps, train loss {s['train_loss_last']:.4f}"
                   + (f", validation loss {ev:.4f}" if ev is not None else ""), err=True)
    typer.echo(str(out))
