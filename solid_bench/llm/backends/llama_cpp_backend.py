"""Chat generation with llama.cpp (llama-cpp-python) from any GGUF file; the default is SmolLM2.

llama-cpp-python runs one stream at a time, so requests run one after another; each
completion's ``seconds`` is its own wall time (``meta`` also has the whole call's). Sampling
follows the request only: greedy at temperature 0, otherwise temperature and top_p with the
request's seed; llama.cpp's own extras (top_k 40, min_p 0.05, repeat penalty 1.1) are switched
off so that a request means the same here as on the other backends.

Prefix reuse is off by default: every request starts from an empty context, because a prefix
evaluated in another split gives slightly different logits, and the same seeded request could then
sample another text. ``cache_ram`` (MiB, default 0: off) adds llama-cpp-python's
LlamaRAMCache, which keeps the states of earlier prompts and restores the one sharing the longest
prefix: consecutive turns of one dialog then reuse their prefix even when other dialogs' requests
come in between.
"""

from __future__ import annotations

import hashlib
import importlib.util
import time
from pathlib import Path
from typing import Sequence

from ...errors import UserError
from .. import BACKENDS
from ..base import BaseBackend, Completion, Request


def gguf_model_id(path: Path) -> str:
    """A stable id for a GGUF file: its name plus a hash of its size and first and last MiB."""
    size = path.stat().st_size
    digest = hashlib.sha256(f"{size}\0".encode())
    with path.open("rb") as fh:
        digest.update(fh.read(1 << 20))
        fh.seek(max(0, size - (1 << 20)))
        digest.update(fh.read())
    return f"{path.name}@sha256:{digest.hexdigest()[:16]}"


def gguf_source(model: str | None, backend: str) -> tuple[Path, str]:
    """The GGUF a llama.cpp backend loads for ``model`` and its id: the default model's (None), a .gguf
    file, or a model folder holding ``model.gguf`` (a trained SOLID-RL generator; its id names the folder)."""
    from ..gguf_export import model_gguf

    if model is None:
        from ..local_models import default_gguf_path

        path = default_gguf_path()
        return path.resolve(), gguf_model_id(path)
    path = Path(model).expanduser()
    if path.is_dir():
        found = model_gguf(path)
        if found is None:
            fix = ("rerun `solid-bench train-generator` with the same options on it to write model.gguf, or use "
                   "--backend transformers" if (path / "config.json").is_file() else "name a .gguf file")
            raise UserError(f"The {backend} backend needs a GGUF but the folder {model!r} holds no model.gguf: {fix}.")
        return found.resolve(), f"{path.resolve().name}/{gguf_model_id(found)}"
    if not path.is_file() or path.suffix.lower() != ".gguf":
        raise UserError(f"The {backend} backend needs a .gguf file, a model folder holding model.gguf or a named model "
                        f"(solid-bench models list); {model!r} is none of these.")
    return path.resolve(), gguf_model_id(path)


@BACKENDS.register("llama-cpp")
class LlamaCppBackend(BaseBackend):
    """Local chat generation with llama.cpp from a GGUF file, one request at a time."""

    install_hint = "pip install 'solid-bench[llama-cpp]'"

    def __init__(
        self,
        model: str | None = None,
        n_ctx: int = 2048,
        n_threads: int | None = None,
        n_gpu_layers: int = 0,
        chat_format: str | None = None,
        cache_ram: int = 0,
        **options,
    ):
        if not self.is_available():
            raise UserError(f"llama-cpp-python is not installed: {self.install_hint}.")
        self.model = model  # as given: a trained generator's folder also holds its training.json
        self.path, model_id = gguf_source(model, "llama-cpp")
        self.model_id = f"llama-cpp:{model_id}"
        self.n_ctx, self.n_threads, self.n_gpu_layers, self.chat_format = int(n_ctx), n_threads, int(n_gpu_layers), chat_format
        if int(cache_ram) < 0:
            raise UserError(f"cache_ram is MiB of prompt cache (0: off), not {cache_ram}.")
        self.cache_ram = int(cache_ram)
        self.options = {k: v for k, v in options.items() if k not in ("batch_size", "dtype", "device")}
        self._llm = None

    @classmethod
    def is_available(cls) -> bool:
        """True when llama-cpp-python can be imported."""
        return importlib.util.find_spec("llama_cpp") is not None

    def _load(self):
        if self._llm is None:
            from llama_cpp import Llama

            self._llm = Llama(
                model_path=str(self.path),
                n_ctx=self.n_ctx,
                n_threads=self.n_threads,
                n_gpu_layers=self.n_gpu_layers,
                chat_format=self.chat_format,
                verbose=False,
                **self.options,
            )
            if self.cache_ram:
                from llama_cpp import LlamaRAMCache

                self._llm.set_cache(LlamaRAMCache(capacity_bytes=self.cache_ram << 20))
        return self._llm

    def complete(self, requests: Sequence[Request]) -> list[Completion]:
        """Complete requests one after another, in order."""
        llm = self._load()
        t_all = time.perf_counter()
        out = []
        for r in requests:
            t0 = time.perf_counter()
            if not self.cache_ram:
                # llama.cpp would otherwise reuse the KV of the previous prompt's common prefix, and a prefix
                # evaluated in another split gives slightly different logits: the same request could then
                # sample another text. Without a prompt cache asked for, every request starts afresh.
                llm.reset()
            resp = llm.create_chat_completion(
                messages=r.as_openai_messages(),
                max_tokens=r.max_new_tokens,
                temperature=r.temperature,
                top_p=r.top_p,
                top_k=0,
                min_p=0.0,
                repeat_penalty=1.0,
                seed=r.seed,
                stop=list(r.stop),
            )
            seconds = time.perf_counter() - t0
            choice, usage = resp["choices"][0], resp.get("usage") or {}
            out.append(
                Completion(
                    text=choice["message"].get("content") or "",
                    prompt_tokens=int(usage.get("prompt_tokens", 0)),
                    completion_tokens=int(usage.get("completion_tokens", 0)),
                    seconds=seconds,
                    finish_reason=choice.get("finish_reason") or "",
                    meta={"n_ctx": self.n_ctx},
                )
            )
        wall = time.perf_counter() - t_all
        return [Completion(c.text, c.prompt_tokens, c.completion_tokens, c.seconds, False, c.finish_reason,
                           {**c.meta, "batch_seconds": wall, "batch_size": len(out)}) for c in out]

    def close(self) -> None:
        """Free the llama.cpp model."""
        if self._llm is not None:
            close = getattr(self._llm, "close", None)
            if close is not None:
                close()
            self._llm = None
