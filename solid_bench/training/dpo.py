"""DPO for SOLID-RL with TRL's DPOTrainer; rejected dialogs come from the SFT model itself.

The SFT model writes its own dialog for each training prompt (batched, seeded sampling) on the
``transformers`` backend or, exported to GGUF, on llama-server (``--gen-backend``); its answers
are cached batch by batch and the pairs kept in ``pairs.jsonl`` inside the stage folder, so a
resumed run does not generate them again.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

from ..errors import UserError
from ..outputs import atomic_write
from .common import done_summary, load_model_and_tokenizer, restore_final, run_stage, save_final, trainer_kwargs
from .config import TrainConfig


def sft_generate(model_dir: Path, cfg: TrainConfig, cache_path: Path, on_batch: Callable[[str], object] | None = None):
    """A ``generate(prompts) -> texts`` function: the SFT model in ``model_dir`` on ``cfg.gen_backend``.

    The llama.cpp backends run the model exported to GGUF (``model_dir/model.gguf``, written once, laid out
    as the base's GGUF). Answers go through an answer cache at ``cache_path`` a batch of
    ``cfg.gen_batch_size`` prompts at a time, so a run killed while the model writes (hours for a corpus
    of a thousand dialogs) resumes with the batches it finished. ``on_batch(status)`` is called after each batch
    the model wrote (not one answered from the cache): the compute ledger's line."""
    from ..llm import Request, create_backend
    from ..llm.cache import CachedBackend

    options = dict(cfg.gen_options)
    if cfg.gen_backend == "transformers":
        options.setdefault("batch_size", cfg.gen_batch_size)
    else:
        _export_for_llama_cpp(model_dir, cfg)
    backend = CachedBackend(create_backend(cfg.gen_backend, model=str(model_dir), **options), cache_path)

    def generate(prompts: Sequence[list[dict]]) -> list[str]:
        requests = [
            Request(
                messages=tuple((m["role"], m["content"]) for m in p),
                max_new_tokens=cfg.gen_max_new_tokens,
                temperature=cfg.gen_temperature,
                seed=cfg.seed,
            )
            for p in prompts
        ]
        texts: list[str] = []
        try:
            for start in range(0, len(requests), cfg.gen_batch_size):
                batch = backend.complete(requests[start:start + cfg.gen_batch_size])
                texts += [c.text for c in batch]
                if on_batch is not None and not all(c.cached for c in batch):
                    on_batch(f"rejected-side-{len(texts)}")
                print(f"[train-generator] DPO rejected side: {len(texts)}/{len(requests)} dialogs written by the SFT model",
                      file=sys.stderr, flush=True)
        finally:
            backend.close()
        return texts

    return generate


def _export_for_llama_cpp(model_dir: Path, cfg: TrainConfig) -> None:
    """Write ``model_dir/model.gguf`` (once) for the llama.cpp backends."""
    from ..llm.gguf_export import GGUF_FILE, export_beside

    if (Path(model_dir) / GGUF_FILE).is_file():
        return
    record = export_beside(model_dir, cfg.base)
    if record["file"] is None:
        raise UserError(f"--gen-backend {cfg.gen_backend} runs the SFT model as a GGUF, but {record['skipped']}; "
                        "use --gen-backend transformers.")


def load_or_build_pairs(stage_dir: Path, build) -> list[dict]:
    """Pairs from ``stage_dir/pairs.jsonl`` when present, else ``build()`` written there atomically."""
    path = Path(stage_dir) / "pairs.jsonl"
    if path.is_file():
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    pairs = build()
    with atomic_write(path) as fh:
        for p in pairs:
            fh.write(json.dumps(p, ensure_ascii=False) + "\n")
    return pairs


DPO_KEYS = ("prompt", "chosen", "rejected")  # TRL's conversational preference columns


def dpo_args(cfg: TrainConfig, stage_dir: Path, has_valid: bool):
    """DPOConfig from the shared trainer arguments and the DPO settings."""
    from trl import DPOConfig

    return DPOConfig(**trainer_kwargs(cfg, stage_dir, has_valid, cfg.dpo_epochs, cfg.dpo_lr), beta=cfg.dpo_beta)


def grouped_dpo_trainer():
    """TRL's DPOTrainer drawing its batches from groups of pairs of similar length.

    A DPO batch runs every pair's chosen and rejected dialog padded to the longest of them all, so,
    as in SFT, pairs of similar length go together (transformers' LengthGroupedSampler, on each pair's
    longer side). transformers infers lengths only from an ``input_ids`` column, which a tokenized
    preference dataset does not have, hence the sampler hook.
    """
    from transformers.trainer_pt_utils import LengthGroupedSampler
    from trl import DPOTrainer

    class GroupedDPOTrainer(DPOTrainer):
        def _get_train_sampler(self, train_dataset=None):
            ds = self.train_dataset if train_dataset is None else train_dataset
            lengths = [len(p) + max(len(c), len(r)) for p, c, r in zip(ds["prompt_ids"], ds["chosen_ids"], ds["rejected_ids"])]
            return LengthGroupedSampler(self.args.train_batch_size * self.args.gradient_accumulation_steps, lengths=lengths)

    return GroupedDPOTrainer


def train_dpo(cfg: TrainConfig, sft_model: Path, train: Sequence[dict], valid: Sequence[dict], stage_dir: Path,
              callbacks: Sequence = ()) -> dict:
    """Preference-tune the SFT model on (prompt, chosen, rejected) pairs; resumes from the last checkpoint.
    ``callbacks``: extra TrainerCallbacks (the compute ledger's)."""
    stage_dir = Path(stage_dir)
    if restore_final(stage_dir, str(sft_model)):
        return done_summary(stage_dir)
    if not train:
        raise UserError("No DPO pairs: the SFT model reproduced every training dialog; train without --dpo.")
    t0 = time.perf_counter()
    model, tokenizer = load_model_and_tokenizer(str(sft_model), cfg.lora)
    args = dpo_args(cfg, stage_dir, bool(valid))
    result = run_stage(grouped_dpo_trainer(), args, model, tokenizer, train, valid, DPO_KEYS, cfg, stage_dir, callbacks)
    trainer = result.pop("trainer")
    summary = {
        "stage": "dpo",
        "train_pairs": len(train),
        "valid_pairs": len(valid),
        **result,
        "seconds": time.perf_counter() - t0,
    }
    save_final(trainer.model, tokenizer, stage_dir, cfg.lora, summary)
    return done_summary(stage_dir)
