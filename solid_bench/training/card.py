"""The model card (README.md) of a trained SOLID-RL generator: what it was trained on, how, and how well."""

from __future__ import annotations

from pathlib import Path


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.2e}" if 0 < abs(v) < 1e-3 else f"{v:.4f}"  # learning rates such as 5e-6 stay readable
    return str(v)


def render_card(info: dict) -> str:
    """Markdown for ``info`` (the training.json record)."""
    cfg, data, lmq = info["config"], info["data"], info["lmq"]
    lines = [
        f"# SOLID-RL generator: {Path(cfg['out']).name}",
        "",
        "A causal LM fine-tuned to write a whole intent-aware dialog in ONE call (SOLID-RL), from SOLID's",
        "turn-by-turn dialogs: supervised fine-tuning" + (", then DPO against its own outputs." if cfg["dpo"] else " only (no DPO)."),
        "Use it with `solid-bench generate --method solid-rl --model <this folder>`.",
        "",
        "## Base model and data",
        f"- base model: `{info['base']}`",
        f"- training dialogs: `{cfg['source']}` (sha256 `{data['sha256']}`, {data['n_dialogs']} dialogs)",
        f"- split by dialog (seed {cfg['seed']}): {data['n_train']} train / {data['n_valid']} valid",
        "",
        "## Length-based quality (LMQ)",
    ]
    if lmq["enabled"]:
        s = lmq["settings"]
        lines += [
            f"- bands: per-intent {s['lo_percentile']:g}th-{s['hi_percentile']:g}th percentile of whitespace tokens "
            f"on the human train split (sha256 `{lmq['bands_source_sha256']}`)",
            f"- threshold {s['threshold']}: tags high {lmq['tag_counts'].get('high', 0)}, low {lmq['tag_counts'].get('low', 0)} "
            "(train split); the tag is in the prompt as `Quality: high|low`",
            f"- weights high {s['high_weight']} / low {s['low_weight']}, applied to each training dialog's SFT token "
            "losses (every dialog seen once per epoch)",
        ]
    else:
        lines.append("- disabled (`--no-lmq`): no quality tag in the prompt, no weights")
    lines += ["", "## Hyperparameters", "", "| setting | value |", "|---|---|"]
    for k in ("epochs", "lr", "batch_size", "grad_accum", "max_length", "seed", "lora", "lora_r", "lora_alpha",
              "max_steps", "dpo", "reverse_pairs", "dpo_beta", "dpo_lr", "dpo_epochs", "gen_temperature", "gen_max_new_tokens"):
        lines.append(f"| {k} | {_fmt(cfg.get(k))} |")
    lines += ["", "## Losses", "", "| stage | steps | final train loss | mean train loss | validation loss | seconds (the run that finished it) |",
              "|---|---|---|---|---|---|"]
    for stage in info["stages"]:
        lines.append(
            f"| {stage['stage']} | {stage['global_step']} | {_fmt(stage.get('train_loss_last'))} | "
            f"{_fmt(stage.get('train_loss_mean'))} | {_fmt(stage.get('eval_loss'))} | {stage['seconds']:.1f} |"
        )
    if info.get("pairs"):
        p = info["pairs"]
        lines += ["", f"DPO pairs: {p['n']} ({p['n_parse_ok']} of the SFT model's own outputs parsed as valid dialogs; "
                  f"{'reverse pairing: chosen = model output' if cfg['reverse_pairs'] else 'chosen = SOLID dialog, rejected = model output'})."]
    cost = info.get("cost")
    if cost:
        tc, total = cost["training_corpus"], cost["total"]
        kind = "all-in" if tc["all_in"] else "marginal (its run folder gave no all-in figure)"
        lines += ["", "## What making this generator cost",
                  f"- training corpus `{tc['spec']}` ({tc['dialogs']} dialogs), {kind} generation cost: "
                  f"{tc['cost']['llm_calls']:,} LLM calls, {tc['cost']['prompt_tokens']:,} prompt + "
                  f"{tc['cost']['completion_tokens']:,} completion tokens, {tc['cost']['seconds']:,.0f} s",
                  *([f"- DPO rejected side (the SFT model writing its own dialogs): {dg['llm_calls']:,} LLM calls, "
                     f"{dg['prompt_tokens']:,} prompt + {dg['completion_tokens']:,} completion tokens (its seconds are in the compute)"]
                    if (dg := cost.get("dpo_generation")) else []),
                  f"- training compute: {cost['compute_seconds']:,.0f} s (every run of train-generator on this folder, "
                  "`compute.jsonl`)",
                  f"- total carried into the manifest of each corpus it generates: {total['prompt_tokens'] + total['completion_tokens']:,} "
                  f"tokens, {total['seconds']:,.0f} s"]
    gguf = info.get("gguf")
    if gguf:
        lines += ["", "## llama.cpp"]
        if gguf.get("file"):
            kinds = ", ".join(f"{n} {t}" for t, n in gguf["tensor_types"].items())
            how = {"auto": "the base's type for each tensor the fine-tuning left unchanged and F16 for each it changed",
                   "base": "base types"}.get(gguf["types"], f"{gguf['types']} types")
            lines += [f"- `{gguf['file']}`: these weights laid out as `{gguf['base_gguf']}`, {how} "
                      f"({kinds} tensors; {gguf['bytes'] / 1e6:,.1f} MB)",
                      "- `solid-bench generate --method solid-rl --backend llama-server --model <this folder>` runs on it"]
        else:
            lines.append(f"- no model.gguf: {gguf['skipped']}")
    env = info.get("environment", {})
    lines += ["", "## Run", f"- device: {info['device']}; the run that wrote this card took {info['seconds']:.1f} s "
              "(every run's compute is in the cost above)",
              "- versions: " + ", ".join(f"{k} {v}" for k, v in sorted(env.items())), ""]
    return "\n".join(lines)


def write_card(out: Path, info: dict) -> Path:
    """Write README.md into ``out`` atomically."""
    from ..outputs import write_text_atomic

    return write_text_atomic(Path(out) / "README.md", render_card(info))
