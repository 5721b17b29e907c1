"""The default backend: batched chat generation with Hugging Face transformers, left padding.

Requests are grouped by decoding parameters (max_new_tokens, temperature, top_p, stop; and the
seed with the ``"generate"`` loop); within a group they are sorted by prompt length and run
``batch_size`` at a time; completions come back in request order. Greedy when temperature == 0,
else sampling seeded with ``request.seed``: the ``"fast"`` loop draws each row with its own
generator, so a sampled text does not depend on which requests share its batch (up to
floating-point effects of batching); ``model.generate`` has one random stream per call, so there
a batch holds one seed only and its texts depend on the batch's composition.

Two decoding loops give the same greedy outputs up to floating-point rounding (``decode_loop``): ``"fast"``
(:mod:`solid_bench.llm.fast_decode`: each prompt prefilled alone, then all rows decoded together
with a grouped-query attention for single tokens, finished rows dropped) and ``"generate"``
(``model.generate`` on a left-padded batch). ``"auto"``, the default, takes ``"fast"`` on CPU for
models it supports and ``"generate"`` otherwise (on CUDA, padded batched prefill is cheap).

Prefix reuse (``"fast"`` loop only): the keys/values of prefilled prompts are kept in a
:class:`~solid_bench.llm.prefix_cache.PrefixCache` of at most ``prefix_cache_mb`` MiB (0 turns it
off); a prompt that starts like an earlier one (a dialog's next turn) is prefilled only from where
they differ. Outputs are the same up to floating-point rounding. ``prompt_tokens`` still counts the
whole prompt (the cost is about the prompt, not the saving); ``meta`` says how many of its tokens
came from the cache (``reused_prompt_tokens``) and how many were computed (``prefilled_tokens``).

Only the request's parameters apply (transformers' default top_k of 50 and a model's repetition
penalty are switched off). ``seconds`` is the batch's wall time divided evenly over its requests;
the batch wall time and size, and the decoding loop, are in ``meta``. ``completion_tokens`` counts
the tokens actually generated for the request (the end-of-sequence token included, padding
excluded).
"""

from __future__ import annotations

import hashlib
import importlib.util
import time
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from ...errors import UserError
from .. import BACKENDS
from ..base import BaseBackend, Completion, Request

if TYPE_CHECKING:
    from ..fast_decode import Decoding

# Options passed on to from_pretrained; any other option is a mistake (a typo must not be
# swallowed into the model config). Other backends' options are accepted and ignored.
_LOAD_OPTIONS = {"revision", "trust_remote_code", "attn_implementation", "local_files_only", "cache_dir"}
_IGNORED = {"max_concurrency", "base_url", "timeout", "retries"}
_DECODE_LOOPS = ("auto", "fast", "generate")
#: Default prefix cache budget: SmolLM2-135M's keys/values take 23 KiB per token in bf16 (46 in fp32),
#: Qwen2.5-1.5B's 28 KiB in bf16; 1 GiB holds the live prompts of ~64 dialogs at ~600 tokens in bf16.
PREFIX_CACHE_MB = 1024
_FALLBACK_TEMPLATE = (
    "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}assistant:{% endif %}"
)


def local_model_id(folder: Path) -> str:
    """A stable id for a local model folder: its name plus a hash of its files' names, sizes and ends."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".")):
        size = path.stat().st_size
        digest.update(f"{path.relative_to(folder)}\0{size}\0".encode())
        with path.open("rb") as fh:
            if size <= 1 << 24:
                digest.update(fh.read())
            else:  # big weight files: the first and last MiB tell versions apart cheaply
                digest.update(fh.read(1 << 20))
                fh.seek(size - (1 << 20))
                digest.update(fh.read())
    return f"{folder.name}@sha256:{digest.hexdigest()[:16]}"


@BACKENDS.register("transformers")
class TransformersBackend(BaseBackend):
    """Local chat generation with transformers (CPU or CUDA), batched with left padding."""

    install_hint = "pip install torch transformers"

    def __init__(
        self,
        model: str | None = None,
        batch_size: int = 32,
        dtype: str = "auto",
        device: str = "auto",
        ignore_eos: bool = False,
        decode_loop: str = "auto",
        prefix_cache_mb: float = PREFIX_CACHE_MB,
        **options,
    ):
        if int(batch_size) < 1:
            raise UserError(f"batch_size must be at least 1, got {batch_size}.")
        if isinstance(prefix_cache_mb, bool) or not isinstance(prefix_cache_mb, (int, float)) or prefix_cache_mb < 0:
            raise UserError(f"prefix_cache_mb must be a number of MiB, 0 or more (0 turns prefix reuse off), "
                            f"got {prefix_cache_mb!r}.")
        self.prefix_cache_mb = prefix_cache_mb
        if decode_loop not in _DECODE_LOOPS:
            raise UserError(f"Unknown decode_loop {decode_loop!r} for the transformers backend; use one of "
                            f"{', '.join(_DECODE_LOOPS)}.")
        self.decode_loop = decode_loop
        self.model = model
        self.batch_size = int(batch_size)
        self.dtype = dtype
        self.device = device
        self.ignore_eos = bool(ignore_eos)  # benchmarking: always generate max_new_tokens
        unknown = set(options) - _LOAD_OPTIONS - _IGNORED
        if unknown:
            raise UserError(
                f"Unknown option(s) for the transformers backend: {', '.join(sorted(unknown))}; known: batch_size, "
                f"dtype, device, ignore_eos, decode_loop, prefix_cache_mb, {', '.join(sorted(_LOAD_OPTIONS))}."
            )
        self.options = {k: v for k, v in options.items() if k in _LOAD_OPTIONS}
        if model is None:
            from ..local_models import DEFAULT_MODEL_ID

            self.model_id = DEFAULT_MODEL_ID
        elif Path(model).expanduser().is_dir():
            self.model_id = local_model_id(Path(model).expanduser().resolve())
        else:
            self.model_id = str(model)
        if dtype not in ("auto", "float32"):  # other numerics, other outputs: keep them apart in the cache
            self.model_id += f"@{dtype}"
        self._model = None
        self._tokenizer = None
        self._prefix_cache = None

    @classmethod
    def is_available(cls) -> bool:
        """True when torch and transformers can be imported."""
        return all(importlib.util.find_spec(m) is not None for m in ("torch", "transformers"))

    def load(self):
        """Load (once) and return ``(model, tokenizer)``; the tokenizer pads on the left."""
        if self._model is not None:
            return self._model, self._tokenizer
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        if self.model is None:
            from ..local_models import default_model_path

            source = str(default_model_path())
        else:
            source = str(Path(self.model).expanduser()) if Path(self.model).expanduser().is_dir() else self.model
        device = self.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        dtype = self.dtype
        if dtype == "auto":
            dtype = "bfloat16" if str(device).startswith("cuda") else "float32"
        try:
            tokenizer = AutoTokenizer.from_pretrained(source, **self.options)
            model = AutoModelForCausalLM.from_pretrained(source, dtype=getattr(torch, dtype), **self.options)
        except (OSError, ValueError) as exc:
            raise UserError(
                f"Cannot load model {source!r} ({type(exc).__name__}): give a local model folder "
                "or a hub id (hub ids need network)."
            ) from exc
        model.to(device).eval()
        tokenizer.padding_side = "left"
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        if not getattr(tokenizer, "chat_template", None):
            tokenizer.chat_template = _FALLBACK_TEMPLATE
        eos = model.generation_config.eos_token_id
        eos = list(eos) if isinstance(eos, (list, tuple)) else ([eos] if eos is not None else [])
        if tokenizer.eos_token_id is not None and tokenizer.eos_token_id not in eos:
            eos.append(tokenizer.eos_token_id)
        self._eos = eos
        self._device, self._dtype = device, dtype
        self._loop = "generate"
        if self.decode_loop != "generate":
            from .. import fast_decode

            wanted = self.decode_loop == "fast" or not str(device).startswith("cuda")
            if wanted and fast_decode.enable(model):
                self._loop = "fast"
                if self.prefix_cache_mb > 0:
                    from ..prefix_cache import PrefixCache

                    self._prefix_cache = PrefixCache(int(self.prefix_cache_mb * 2**20))
            elif self.decode_loop == "fast":
                raise UserError(
                    f"decode_loop='fast' does not support model {source!r} (it needs full attention in every "
                    "layer on SDPA, position_ids and logits_to_keep); use decode_loop='generate'."
                )
        self._model, self._tokenizer = model, tokenizer
        return model, tokenizer

    def complete(self, requests: Sequence[Request]) -> list[Completion]:
        """Complete chat requests in order (see the module docstring for batching and metering)."""
        if not requests:
            return []
        model, tokenizer = self.load()
        prompts = [
            tokenizer.apply_chat_template(
                r.as_openai_messages(), add_generation_prompt=True, tokenize=False
            )
            for r in requests
        ]
        ids = tokenizer(prompts, add_special_tokens=False)["input_ids"]
        groups: dict[tuple, list[int]] = {}
        for i, r in enumerate(requests):
            key = (r.max_new_tokens, r.temperature, r.top_p if r.temperature > 0 else 1.0, r.stop)
            if self._loop == "generate":  # one random stream per generate call: one seed per batch
                key += (r.seed,)
            groups.setdefault(key, []).append(i)
        out: list[Completion | None] = [None] * len(requests)
        for members in groups.values():
            members.sort(key=lambda i: len(ids[i]))
            for start in range(0, len(members), self.batch_size):
                chunk = members[start : start + self.batch_size]
                for i, c in zip(chunk, self._run_batch([ids[i] for i in chunk], [requests[i] for i in chunk])):
                    out[i] = c
        return out  # type: ignore[return-value]

    def _decoding(self, params: Request) -> Decoding:
        """The request's decoding settings, the same for both loops: greedy at temperature 0, else
        temperature and top-p only; ``ignore_eos`` forces ``max_new_tokens``."""
        from ..fast_decode import Decoding

        sample = params.temperature > 0
        return Decoding(
            max_new_tokens=params.max_new_tokens,
            min_new_tokens=params.max_new_tokens if self.ignore_eos else 0,
            temperature=params.temperature if sample else 0.0,
            top_p=params.top_p if sample else 1.0,
            eos_ids=tuple(self._eos),
            stop=tuple(params.stop),
        )

    def _run_batch(self, batch_ids: list[list[int]], batch: list[Request]) -> list[Completion]:
        """One batch of requests that share their decoding parameters (seeds may differ in the fast loop)."""
        t0 = time.perf_counter()
        params = batch[0]
        decoding = self._decoding(params)
        if self._loop == "fast":
            from ..fast_decode import generate

            new, reused = generate(self._model, self._tokenizer, batch_ids, decoding, [r.seed for r in batch],
                                   self._prefix_cache)
            prompt_lens = [len(ids) for ids in batch_ids]
        else:
            new, prompt_lens = self._generate(batch_ids, decoding, params.seed)
            reused = [0] * len(batch_ids)
        wall = time.perf_counter() - t0
        return [self._finish(tokens, int(n), r, wall, len(batch_ids), k)
                for tokens, n, r, k in zip(new, prompt_lens, batch, reused)]

    def _generate(self, batch_ids: list[list[int]], d: Decoding, seed: int) -> tuple[list[list[int]], list[int]]:
        """``model.generate`` on the left-padded batch: new tokens per row (padding after an end
        included) and prompt lengths."""
        import torch
        from transformers import GenerationConfig

        model, tokenizer = self._model, self._tokenizer
        enc = tokenizer.pad({"input_ids": batch_ids}, padding=True, return_tensors="pt").to(self._device)
        sample = d.temperature > 0
        config = GenerationConfig(
            max_new_tokens=d.max_new_tokens,
            min_new_tokens=d.min_new_tokens or None,
            do_sample=sample,
            temperature=d.temperature if sample else None,
            top_p=d.top_p if sample else None,
            top_k=0 if sample else None,  # the request's parameters only: no default top-k of 50
            repetition_penalty=1.0,
            pad_token_id=tokenizer.pad_token_id,
            eos_token_id=list(d.eos_ids),
            stop_strings=list(d.stop) or None,
        )
        if sample:
            torch.manual_seed(seed)
        with torch.inference_mode():
            seqs = model.generate(**enc, generation_config=config, tokenizer=tokenizer if d.stop else None)
        return seqs[:, enc["input_ids"].shape[1] :].tolist(), enc["attention_mask"].sum(dim=1).tolist()

    def _finish(self, tokens: list[int], n_prompt: int, params: Request, wall: float, n: int,
                reused: int) -> Completion:
        """Cut one generated row at eos/padding and at the first stop string; count its tokens."""
        tokenizer = self._tokenizer
        ends = set(self._eos) | {tokenizer.pad_token_id}
        stop_at = next((k for k, t in enumerate(tokens) if t in ends), None)
        if self.ignore_eos:
            stop_at = None
        body = tokens if stop_at is None else tokens[:stop_at]
        text = tokenizer.decode(body, skip_special_tokens=True)
        cut = min((p for p in (text.find(s) for s in params.stop) if p >= 0), default=-1)
        if cut >= 0:
            text, reason, used = text[:cut], "stop", len(body)
        elif stop_at is not None:
            reason, used = "stop", stop_at + 1  # the end-of-sequence token was generated too
        else:
            reason, used = "length", len(tokens)
        return Completion(
            text=text,
            prompt_tokens=n_prompt,
            completion_tokens=used,
            seconds=wall / n,
            finish_reason=reason,
            meta={"batch_seconds": wall, "batch_size": n, "device": self._device, "dtype": self._dtype,
                  "decode_loop": self._loop, "reused_prompt_tokens": reused, "prefilled_tokens": n_prompt - reused},
        )

    def close(self) -> None:
        """Free the model (and GPU memory)."""
        if self._model is not None:
            import gc

            import torch

            self._model = self._tokenizer = self._prefix_cache = None
            gc.collect()
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
