"""The whole SOLID-RL recipe: load SOLID dialogs, LMQ-tag, split, SFT, (DPO), save model + card.

Output folder layout::

    OUT/                  the final model (transformers folder) + README.md (model card) + training.json
    OUT/model.gguf        the same weights for llama.cpp (llama-server, llama-cpp backends), laid out as the
                          base model's GGUF (when the base is a named local model; see llm/gguf_export.py)
    OUT/stages/sft/       SFT checkpoints while training, final/ when done (kept: the SFT-only model)
    OUT/stages/dpo/       pairs.jsonl (cached DPO pairs), checkpoints, final/

Rerunning the same command resumes: a finished stage is skipped, an unfinished one restarts
from its last checkpoint. Checkpoints are deleted once their stage has finished.

What making the generator cost is recorded in training.json (``cost``) and the model card: the
all-in generation cost of its training corpus, the calls and tokens of the DPO rejected side, and
the compute seconds of every invocation of this command on ``OUT``, written to ``compute.jsonl``
as they are spent, so a killed run loses at most one checkpoint interval (see training/cost.py).
``solid-bench generate --method solid-rl`` carries the total into its run's manifest, so the
corpus's all-in cost includes the generator's own making.
"""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import replace
from pathlib import Path

from ..errors import UserError
from ..inputs import load_json
from ..outputs import copy_file_atomic, write_json_atomic
from .common import DONE, describe, precision
from .config import TrainConfig
from .cost import GENERATION_CACHE, ComputeLedger, making_cost, rejected_side_cost

CONFIG_FILE = "training-config.json"


def _check_same_config(out: Path, cfg: TrainConfig) -> None:
    path = out / CONFIG_FILE
    new = cfg.to_dict()
    new.pop("extra", None)
    if path.is_file():
        defaults = {k: v for k, v in TrainConfig(source="", out=Path()).to_dict().items() if k not in ("source", "out", "extra")}
        old = {**defaults, **load_json(path)}  # a setting added since that run started keeps its default
        diff = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        if diff:
            raise UserError(
                f"{out} holds a training run with other settings ({', '.join(diff)}); "
                "rerun with the same options to resume, or choose another --out."
            )
    else:
        write_json_atomic(path, new)


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("torch", "transformers", "trl", "peft", "datasets"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            pass
    return out


def _publish(final: Path, out: Path) -> None:
    """Copy the final model's files to the top of ``out`` (so ``out`` loads as a model folder)."""
    for f in final.iterdir():
        if f.is_file() and f.name not in (DONE, "summary.json"):
            copy_file_atomic(f, out / f.name)


def _drop_checkpoints(stage_dir: Path) -> None:
    """Remove a finished stage's checkpoints, and the model-card template TRL leaves in the stage folder (the
    run's own card is OUT/README.md)."""
    for ckpt in stage_dir.glob("checkpoint-*"):
        shutil.rmtree(ckpt, ignore_errors=True)
    (stage_dir / "README.md").unlink(missing_ok=True)


def made_from(base: str | None, corpus) -> dict:
    """What a generator is made from, by display name (``generate`` copies it into each corpus's
    manifest, which names the corpus by it: "SOLID-RL · SmolLM2-135M trained on SOLID · Qwen2.5-Coder-1.5B")."""
    from ..generator_names import corpus_name, model_name

    return {"base_model": model_name(base), "training_corpus": corpus_name(corpus.provenance, corpus.spec),
            "training_corpus_spec": corpus.spec}


def _base_folder(base: str | None) -> str:
    """The model folder (or hub id) training starts from: a named local model (None: the default) is its
    transformers conversion, made once from its GGUF."""
    from ..llm.local_models import MODELS, default_model_path

    if base is None:
        return str(default_model_path())
    return str(MODELS.get(base).transformers_path()) if base in MODELS.names() else base


def write_model_gguf(out: Path, base: str | None) -> dict:
    """Write ``out/model.gguf`` (for the llama.cpp backends) unless a finished run already did; its record
    for training.json, or why none was written."""
    from ..llm.gguf_export import GGUF_FILE, export_beside

    previous = load_json(out / "training.json").get("gguf") if (out / "training.json").is_file() else None
    if (out / GGUF_FILE).is_file() and previous and previous.get("file"):
        return previous
    record = export_beside(out, base)
    if record["file"] is None:
        print(f"[train-generator] no {GGUF_FILE}: {record['skipped']}; the model runs on the transformers backend", file=sys.stderr)
    else:
        print(f"[train-generator] wrote {out / GGUF_FILE} (laid out as {record['base_gguf']})", file=sys.stderr, flush=True)
    return record


def train_generator(cfg: TrainConfig) -> dict:
    """Train a SOLID-RL generator as ``cfg`` says; returns the training.json record."""
    t0 = time.perf_counter()
    ledger = ComputeLedger(Path(cfg.out), CONFIG_FILE)
    try:
        info = _train(cfg, t0, ledger)
    except BaseException as e:
        ledger.mark(type(e).__name__)  # the seconds since the last checkpoint, when the run had started working
        raise
    return info


def lmq_bands(cfg: TrainConfig):
    """The LMQ length bands (fit on the human train split) carrying ``cfg``'s tag threshold and weights;
    None with ``--no-lmq``."""
    if not cfg.lmq:
        return None
    from solid_bench.generators.lmq import LMQSettings, human_train_bands

    settings = LMQSettings(cfg.lmq_threshold, cfg.lmq_high_weight, cfg.lmq_low_weight)
    try:
        return replace(human_train_bands(), settings=settings)
    except UserError as e:
        raise UserError(f"LMQ needs the human train split to fit its length bands: {e} Or pass --no-lmq.") from None


def _train(cfg: TrainConfig, t0: float, ledger: ComputeLedger) -> dict:
    from ..corpora import resolve
    from .card import write_card
    from .data import dpo_pairs, sft_records, split_by_dialog
    from .dpo import load_or_build_pairs, sft_generate, train_dpo
    from .sft import train_sft

    out = Path(cfg.out)
    corpus = resolve(cfg.source, "train")
    dialogs = list(corpus.dialogs)
    if len(dialogs) < 2:
        raise UserError(f"{cfg.source!r} holds {len(dialogs)} dialog(s); SOLID-RL training needs at least 2.")
    _check_same_config(out, cfg)
    base = _base_folder(cfg.base)
    bands = lmq_bands(cfg)
    train_d, valid_d = split_by_dialog(dialogs, cfg.valid_fraction, cfg.seed)
    train_r, valid_r = sft_records(train_d, bands), sft_records(valid_d, bands)
    stages_dir = out / "stages"
    stages = [train_sft(cfg, base, train_r, valid_r, stages_dir / "sft", callbacks=[ledger.trainer_callback()])]
    ledger.mark("sft")
    _drop_checkpoints(stages_dir / "sft")
    pairs_info = generation = None
    if cfg.dpo:
        sft_final = Path(stages[0]["final"])
        valid_ids = {d.id for d in valid_d}
        pairs = load_or_build_pairs(
            stages_dir / "dpo",
            lambda: dpo_pairs(train_d + valid_d, train_r + valid_r,
                              sft_generate(sft_final, cfg, stages_dir / "dpo" / GENERATION_CACHE,
                                           on_batch=ledger.worked), cfg.reverse_pairs),
        )
        generation = rejected_side_cost(stages_dir / "dpo")
        stages.append(train_dpo(cfg, sft_final, [p for p in pairs if p["id"] not in valid_ids],
                                [p for p in pairs if p["id"] in valid_ids], stages_dir / "dpo",
                                callbacks=[ledger.trainer_callback()]))
        ledger.mark("dpo")
        _drop_checkpoints(stages_dir / "dpo")
        pairs_info = {"n": len(pairs), "n_parse_ok": sum(p["model_output_parse"] == "ok" for p in pairs)}
    _publish(Path(stages[-1]["final"]), out)
    gguf = write_model_gguf(out, cfg.base)
    tags = [r["tag"] for r in train_r]
    p = precision()
    info = {
        "schema_version": 1,
        "method": "solid-rl",
        "base": base,
        "config": cfg.to_dict(),
        "made_from": made_from(cfg.base, corpus),
        "data": {
            "spec": cfg.source, "sha256": corpus.sha256, "n_dialogs": len(dialogs), "n_train": len(train_d),
            "n_valid": len(valid_d),
        },
        "lmq": {
            "enabled": cfg.lmq,
            "settings": bands.settings.to_dict() if bands else None,
            "bands": bands.to_dict()["bands"] if bands else None,
            "bands_source_sha256": bands.source_sha256 if bands else None,
            "tag_counts": {t: tags.count(t) for t in ("high", "low")} if cfg.lmq else {},
        },
        "quality_tag": "high" if cfg.lmq else None,  # what to put in generation prompts
        "stages": [{k: v for k, v in s.items() if not k.endswith("_by_step")} for s in stages],
        "loss_curves": {s["stage"]: {"train": s["train_loss_by_step"], "valid": s["eval_loss_by_step"]} for s in stages},
        "pairs": pairs_info,
        "gguf": gguf,
        "device": describe(p),
        "environment": _versions(),
        "seconds": time.perf_counter() - t0,
    }
    ledger.mark("complete")
    info["cost"] = making_cost(corpus, out, generation)
    write_json_atomic(out / "training.json", info)
    write_card(out, info)
    return info
