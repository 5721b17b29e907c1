"""Is a GGUF export faithful? SmolLM2-135M's own transformers folder (dequantised from the packaged
Q4_1 GGUF) exported back with ``solid_bench.llm.gguf_export``, as ``train-generator`` does for a
fine-tuned folder:

1. export seconds per type (``auto``: the base's types for tensors equal to the base's, as here; ``f16``; ``q8_0``), median of ``--runs``;
   whether the ``auto`` export is byte-identical to the packaged file;
2. greedy agreement on ``--prompts`` chat prompts (``--max-new-tokens`` each): identical texts and
   the mean shared token prefix, for each export on llama-server against the packaged GGUF on
   llama-server and against the transformers backend (float32) on the folder;
3. decode speed on llama-server (one thread, one slot): completion tokens per second of each GGUF,
   the servers taking turns each round, median of ``--runs`` rounds.

Run: OMP_NUM_THREADS=1 nice -n 10 python benchmarks/gguf_export.py   (needs llama-server: PATH or
     pip install 'solid-bench[llama-server]')
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from solid_bench.llm import Request, create_backend
from solid_bench.llm.gguf_export import export_gguf
from solid_bench.llm.local_models import default_gguf_path, default_model_path

TOPICS = ["outlook", "excel", "skype", "windows update", "onedrive", "teams", "word", "the printer"]
ASKS = ["How do I fix a crash in", "Why is it slow to open", "How can I reset the settings of", "What does error 0x80 mean in"]


def prompts(n: int, max_new_tokens: int) -> list[Request]:
    """``n`` fixed, distinct chat requests."""
    return [Request.chat(("user", f"{ASKS[i % 4]} {TOPICS[i % 8]}?"), max_new_tokens=max_new_tokens) for i in range(n)]


def shared_prefix(a: list[int], b: list[int]) -> int:
    """How many leading tokens two token lists share."""
    return next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--prompts", type=int, default=8)
    ap.add_argument("--max-new-tokens", type=int, default=48)
    args = ap.parse_args()
    from transformers import AutoTokenizer

    base, folder = default_gguf_path(), default_model_path()
    tok = AutoTokenizer.from_pretrained(str(folder))
    work = Path(tempfile.mkdtemp(prefix="gguf-export-bench-"))
    files, seconds = {"packaged Q4_1": base}, {}
    for types in ("auto", "f16", "q8_0"):
        times = []
        for _ in range(args.runs):
            record = export_gguf(folder, base, work / f"{types}.gguf", types)
            times.append(record["seconds"])
        seconds[types] = statistics.median(times)
        files[f"export {types}"] = work / f"{types}.gguf"
        print(f"export {types}: {statistics.median(times):.1f} s (median of {args.runs}: "
              f"{', '.join(f'{t:.1f}' for t in times)}), {record['bytes'] / 1e6:.1f} MB, {record['tensor_types']}")
    same = (work / "auto.gguf").read_bytes() == base.read_bytes()
    print(f"export auto byte-identical to {base.name}: {same}")

    requests = prompts(args.prompts, args.max_new_tokens)
    servers = {name: create_backend("llama-server", str(path), threads=1, ctx_size=1024) for name, path in files.items()}
    texts, speed = {}, {name: [] for name in servers}
    try:
        for name, backend in servers.items():  # the first round starts each server and gives the greedy texts
            texts[name] = [c.text for c in backend.complete(requests)]
        for _ in range(args.runs):
            for name, backend in servers.items():
                t0 = time.perf_counter()
                got = backend.complete(requests)
                speed[name].append(sum(c.completion_tokens for c in got) / (time.perf_counter() - t0))
    finally:
        for backend in servers.values():
            backend.close()
    hf = create_backend("transformers", str(folder), batch_size=1)
    texts["transformers fp32"] = [c.text for c in hf.complete(requests)]
    hf.close()

    print(f"\ngreedy agreement, {args.prompts} prompts x {args.max_new_tokens} new tokens (llama-server, 1 thread):")
    print("| GGUF on llama-server | against | identical texts | mean shared prefix (tokens) |")
    print("|---|---|---|---|")
    for name in files:
        for ref in ("packaged Q4_1", "transformers fp32"):
            if name == ref:
                continue
            a, b = texts[name], texts[ref]
            prefix = statistics.mean(shared_prefix(tok.encode(x), tok.encode(y)) for x, y in zip(a, b))
            mean_len = statistics.mean(len(tok.encode(x)) for x in a)
            print(f"| {name} | {ref} | {sum(x == y for x, y in zip(a, b))}/{len(a)} | {prefix:.1f} of {mean_len:.1f} |")
    print(f"\ndecode speed on llama-server (1 thread, 1 slot), completion tokens/s, median of {args.runs} rounds:")
    print("| GGUF | tokens/s | rounds |")
    print("|---|---|---|")
    for name, rates in speed.items():
        print(f"| {name} | {statistics.median(rates):.1f} | {', '.join(f'{r:.1f}' for r in rates)} |")


if __name__ == "__main__":
    main()
