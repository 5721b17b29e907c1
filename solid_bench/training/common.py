"""What SFT and DPO share: device and precision, model loading, trainer arguments, checkpoints, saving."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from ..errors import UserError
from ..hardware import cpu_has_native_bf16
from .config import TrainConfig

DONE = "solid-bench-stage-done"  # marker written last into a finished stage's final/ (and adapter/) folder
ADAPTER = "adapter"  # a LoRA stage's adapter (megabytes), kept beside its merged final/ model


def precision() -> dict:
    """bf16 autocast on a CUDA device that supports it, and on a CPU with native bf16; else fp32.

    On a CPU with native bf16 (AVX512-BF16 or AMX), bf16 autocast (fp32 master weights, bf16
    matmuls) runs the matrix products in hardware and trains faster than fp32. Set
    SOLID_BENCH_CPU_BF16=0 to train in fp32 on such a CPU, or =1 to force autocast on one without
    native bf16 (slow there).
    """
    import os

    import torch

    cuda = torch.cuda.is_available()
    if cuda:
        bf16 = bool(torch.cuda.is_bf16_supported())
    else:
        forced = os.environ.get("SOLID_BENCH_CPU_BF16", "").strip()
        bf16 = forced == "1" if forced in ("0", "1") else cpu_has_native_bf16()
    # dtype of a frozen LoRA base: bf16 only on CUDA (CPU keeps fp32 weights and autocasts)
    dtype = torch.bfloat16 if cuda and bf16 else torch.float32
    return {"cuda": cuda, "bf16": bf16, "dtype": dtype}


def describe(p: dict) -> str:
    """'cuda bf16', 'cuda', 'cpu bf16 autocast' or 'cpu fp32' (for the model card)."""
    if p["cuda"]:
        return "cuda" + (" bf16" if p["bf16"] else "")
    return "cpu bf16 autocast" if p["bf16"] else "cpu fp32"


def load_model_and_tokenizer(source: str, lora: bool = False):
    """A causal LM and its tokenizer, with a pad token set.

    Full fine-tuning loads fp32 weights (bf16 autocast, on CUDA or CPU, keeps fp32 master weights);
    with LoRA the frozen base is loaded in bf16 where the GPU supports it.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    dtype = precision()["dtype"] if lora else torch.float32
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForCausalLM.from_pretrained(source, dtype=dtype)
    except OSError as exc:
        raise UserError(f"Cannot load base model {source!r}: give a local model folder (hub ids need network).") from exc
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if not getattr(tokenizer, "chat_template", None):
        raise UserError(f"Base model {source!r} has no chat template; use an instruct/chat model.")
    if model.generation_config is not None and model.generation_config.pad_token_id is None:
        model.generation_config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def trainer_kwargs(cfg: TrainConfig, output_dir: Path, has_valid: bool, epochs: float, lr: float) -> dict:
    """TrainingArguments fields common to SFTConfig and DPOConfig."""
    p = precision()
    return dict(
        output_dir=str(output_dir),
        num_train_epochs=epochs,
        max_steps=cfg.max_steps if cfg.max_steps > 0 else -1,
        learning_rate=lr,
        per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum,
        max_length=cfg.max_length,
        seed=cfg.seed,
        data_seed=cfg.seed,
        bf16=p["bf16"],
        fp16=False,
        use_cpu=not p["cuda"],
        gradient_checkpointing=False,
        logging_steps=1,
        logging_first_step=True,
        save_strategy="steps",
        save_steps=cfg.save_steps,
        save_total_limit=2,
        eval_strategy="epoch" if has_valid else "no",
        report_to="none",
        disable_tqdm=False,
        dataloader_num_workers=0,
    )


def lora_config(cfg: TrainConfig):
    """A PEFT LoRA config on the attention and MLP projections (``--lora``)."""
    from peft import LoraConfig

    return LoraConfig(
        r=cfg.lora_r,
        lora_alpha=cfg.lora_alpha,
        lora_dropout=0.05,
        target_modules="all-linear",
        task_type="CAUSAL_LM",
    )


def last_checkpoint(folder: Path) -> str | None:
    """The newest ``checkpoint-N`` folder in ``folder`` (to resume from), or None."""
    from transformers.trainer_utils import get_last_checkpoint

    return get_last_checkpoint(str(folder)) if Path(folder).is_dir() else None


def is_done(stage_dir: Path) -> bool:
    """Whether the stage already saved its final model."""
    return (Path(stage_dir) / "final" / DONE).is_file()


def done_summary(stage_dir: Path) -> dict:
    """The summary a finished stage saved with its final model."""
    import json

    return json.loads((Path(stage_dir) / "final" / "summary.json").read_text(encoding="utf-8"))


def save_final(model, tokenizer, stage_dir: Path, lora: bool, summary: dict) -> Path:
    """Save the trained model (LoRA merged in) and ``summary.json`` to ``stage_dir/final`` atomically.

    A LoRA stage first keeps its adapter in ``stage_dir/adapter`` (weights of the adapter only, its
    config, the summary): a run folder kept or committed without its merged weights rebuilds them
    from it (``restore_final``)."""
    import json

    from ..outputs import replace_folder, staging_folder

    stage_dir = Path(stage_dir)
    if lora:
        adapter = stage_dir / ADAPTER
        with staging_folder(adapter) as tmp:
            model.save_pretrained(tmp / ADAPTER)
            (tmp / ADAPTER / "README.md").unlink(missing_ok=True)  # PEFT's empty model-card template
            (tmp / ADAPTER / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
            (tmp / ADAPTER / DONE).write_text("ok\n", encoding="utf-8")
            replace_folder(tmp / ADAPTER, adapter)
        model = model.merge_and_unload()
    final = stage_dir / "final"
    with staging_folder(final) as tmp:
        model.save_pretrained(tmp / "final")
        tokenizer.save_pretrained(tmp / "final")
        summary = dict(summary, final=str(final))
        (tmp / "final" / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
        (tmp / "final" / DONE).write_text("ok\n", encoding="utf-8")
        replace_folder(tmp / "final", final)
    return final


def restore_final(stage_dir: Path, base: str) -> bool:
    """Rebuild a finished LoRA stage's ``final/`` from its ``adapter/`` merged into ``base`` (the model the
    stage trained on), when only the adapter is there: a run folder committed without its merged
    weights, on a fresh clone. True when the stage's final model is (now) there."""
    import json
    import sys

    stage_dir = Path(stage_dir)
    if is_done(stage_dir):
        return True
    adapter = stage_dir / ADAPTER
    if not (adapter / DONE).is_file():
        return False
    from peft import PeftModel

    print(f"[train-generator] rebuilding {stage_dir / 'final'} from its LoRA adapter and {base}", file=sys.stderr, flush=True)
    model, tokenizer = load_model_and_tokenizer(base, lora=True)
    merged = PeftModel.from_pretrained(model, str(adapter)).merge_and_unload()
    summary = json.loads((adapter / "summary.json").read_text(encoding="utf-8"))
    save_final(merged, tokenizer, stage_dir, False, summary)
    return True


def log_losses(log_history: list[dict]) -> dict:
    """The last train loss, the last eval loss and the per-step train losses from a Trainer log."""
    train = [(h["step"], h["loss"]) for h in log_history if "loss" in h]
    evals = [(h["step"], h["eval_loss"]) for h in log_history if "eval_loss" in h]
    return {
        "train_loss_last": train[-1][1] if train else None,
        "eval_loss_last": evals[-1][1] if evals else None,
        "train_loss_by_step": train,
        "eval_loss_by_step": evals,
    }


def build_trainer(trainer_cls, args, model, tokenizer, train, valid, keys: tuple[str, ...], cfg: TrainConfig,
                  callbacks: Sequence = ()):
    """A TRL trainer over the records' ``keys`` columns (LoRA-wrapped with ``--lora``), with extra ``callbacks``."""
    from .sft import to_dataset

    return trainer_cls(
        model=model,
        args=args,
        train_dataset=to_dataset(train, keys),
        eval_dataset=to_dataset(valid, keys) if valid else None,
        processing_class=tokenizer,
        peft_config=lora_config(cfg) if cfg.lora else None,
        callbacks=list(callbacks) or None,
    )


def run_stage(trainer_cls, args, model, tokenizer, train, valid, keys: tuple[str, ...], cfg: TrainConfig, stage_dir: Path,
              callbacks: Sequence = ()) -> dict:
    """Build a TRL trainer (with extra ``callbacks``, e.g. the compute ledger's), train (resuming from the last
    checkpoint), evaluate; the common summary fields."""
    trainer = build_trainer(trainer_cls, args, model, tokenizer, train, valid, keys, cfg, callbacks)
    resume = last_checkpoint(stage_dir)
    out = trainer.train(resume_from_checkpoint=resume)
    eval_loss = trainer.evaluate()["eval_loss"] if valid else None
    return {
        "trainer": trainer,
        "global_step": trainer.state.global_step,
        "resumed_from": Path(resume).name if resume else None,
        "train_loss_mean": out.training_loss,
        "eval_loss": eval_loss,
        **log_losses(trainer.state.log_history),
    }
