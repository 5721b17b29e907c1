"""One SOLID-RL training step on this machine: full fine-tuning against LoRA, and what a checkpoint weighs.

    OMP_NUM_THREADS=1 python benchmarks/training_step.py --tokens 600 --steps 4 --repeats 3

Builds the base model exactly as ``solid-bench train-generator`` does (the default SmolLM2-135M,
dequantised from its GGUF to fp32), and for each mode times an optimiser step of AdamW on one
sequence of ``--tokens`` random token ids (the run's ``--batch-size 1``): forward with labels,
backward, step. LoRA is ``--lora``'s config (``training/common.py``: r 16, all linear layers).
On a CPU with native bf16 (what ``training/common.py``'s ``precision`` checks) both are also timed
under bf16 autocast, which train-generator then uses. Modes alternate within each repeat, so both see the same machine load; the first step of each
mode is a warm-up and is not timed. Prints tokens/s (median over repeats of the median step), the
LoRA/full ratio measured side by side, peak RSS, and the size of a Trainer checkpoint (trainable
weights + AdamW's two moments, fp32), which decides whether a run folder can be committed while
it trains.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time


def _model(lora: bool):
    import torch
    from transformers import AutoModelForCausalLM

    from solid_bench.training.common import lora_config
    from solid_bench.training.config import TrainConfig
    from solid_bench.training.pipeline import _base_folder

    model = AutoModelForCausalLM.from_pretrained(_base_folder(None), dtype=torch.float32)
    if lora:
        from pathlib import Path

        from peft import get_peft_model

        model = get_peft_model(model, lora_config(TrainConfig(source="", out=Path("."), lora=True)))
    model.train()
    return model


def _time_steps(model, tokens: int, steps: int, seed: int, bf16: bool) -> tuple[float, int]:
    """Median seconds of ``steps`` timed AdamW steps (after one warm-up), and the trainable parameter count."""
    import contextlib

    import torch

    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-5)
    g = torch.Generator().manual_seed(seed)
    vocab = model.config.vocab_size
    times = []
    for i in range(steps + 1):
        ids = torch.randint(0, vocab, (1, tokens), generator=g)
        t0 = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext():
            loss = model(input_ids=ids, labels=ids).loss
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        if i:
            times.append(time.perf_counter() - t0)
    return statistics.median(times), sum(p.numel() for p in params)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tokens", type=int, default=600, help="tokens in the training sequence (a SOLID-Qwen example is 300-900)")
    ap.add_argument("--steps", type=int, default=4, help="timed steps per mode and repeat")
    ap.add_argument("--repeats", type=int, default=3, help="rounds, each timing both modes")
    args = ap.parse_args()

    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s); {args.tokens} tokens a step, "
          f"{args.steps} timed steps x {args.repeats} rounds")
    from solid_bench.hardware import cpu_has_native_bf16

    models = {"full": _model(False), "lora": _model(True)}
    modes = [(m, False) for m in models] + ([(m, True) for m in models] if cpu_has_native_bf16() else [])
    print("this CPU has native bf16: train-generator autocasts to bf16 (timed too)" if len(modes) > 2 else
          "no native bf16 on this CPU: train-generator trains in fp32")
    per_round: dict[str, list[float]] = {}
    trainable: dict[str, int] = {}
    for r in range(args.repeats):
        for name, bf16 in modes:
            mode = name + (" bf16" if bf16 else " fp32")
            sec, trainable[mode] = _time_steps(models[name], args.tokens, args.steps, seed=r, bf16=bf16)
            per_round.setdefault(mode, [])
            per_round[mode].append(sec)
            print(f"  round {r}: {mode:9s} {sec:6.2f} s a step = {args.tokens / sec:6.1f} tokens/s")
    for mode in per_round:
        sec = statistics.median(per_round[mode])
        ckpt_mb = trainable[mode] * 4 * 3 / 1e6  # weights + exp_avg + exp_avg_sq, fp32
        print(f"{mode:9s}: {args.tokens / sec:6.1f} tokens/s (median step {sec:.2f} s); "
              f"{trainable[mode] / 1e6:.2f} M trainable parameters; checkpoint about {ckpt_mb:,.0f} MB")
    for a, b in (("full fp32", "lora fp32"), ("full bf16", "lora bf16"), ("full fp32", "full bf16"), ("lora fp32", "lora bf16")):
        if a in per_round and b in per_round:
            ratios = [x / y for x, y in zip(per_round[a], per_round[b])]
            print(f"{b} / {a} speed: {statistics.median(ratios):.2f}x (median of per-round ratios "
                  f"{', '.join(f'{x:.2f}' for x in ratios)})")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6:.1f} GB (both models loaded)")


if __name__ == "__main__":
    main()
