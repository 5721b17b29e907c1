"""vLLM's offline engine on this machine's GPUs (tensor parallel across them); an optional extra.

All requests of a call go to ``LLM.chat`` at once with one ``SamplingParams`` each and vLLM
schedules them (continuous batching); ``seconds`` is the call's wall time divided evenly over
its requests (``meta`` keeps the wall time). For several machines, run ``vllm serve`` on each
and use the ``openai`` backend with several base URLs.
"""

from __future__ import annotations

import importlib.util
import time
from pathlib import Path
from typing import Sequence

from ...errors import UserError
from .. import BACKENDS
from ..base import BaseBackend, Completion, Request


@BACKENDS.register("vllm")
class VLLMBackend(BaseBackend):
    """Batched chat generation with vLLM's offline engine (CUDA; tensor parallel on several GPUs)."""

    install_hint = (
        "pip install 'solid-bench[vllm]' on a CUDA machine; for several machines run `vllm serve` on each "
        "and use --backend openai --base-url URL1,URL2"
    )

    def __init__(
        self,
        model: str | None = None,
        tensor_parallel_size: int = 1,
        dtype: str = "auto",
        gpu_memory_utilization: float = 0.9,
        max_model_len: int | None = None,
        **options,
    ):
        if not self.is_available():
            raise UserError(f"vllm is not installed: {self.install_hint}.")
        self.model = model
        if model is None:
            from ..local_models import DEFAULT_MODEL_ID

            self.model_id = DEFAULT_MODEL_ID
        elif Path(model).expanduser().is_dir():
            from .transformers_backend import local_model_id

            self.model_id = local_model_id(Path(model).expanduser().resolve())
        else:
            self.model_id = str(model)
        self.engine_args = {
            "tensor_parallel_size": int(tensor_parallel_size),
            "dtype": dtype,
            "gpu_memory_utilization": float(gpu_memory_utilization),
            **({"max_model_len": int(max_model_len)} if max_model_len else {}),
            **{k: v for k, v in options.items() if k not in ("batch_size", "device")},
        }
        self._llm = None

    @classmethod
    def is_available(cls) -> bool:
        """True when vllm can be imported."""
        return importlib.util.find_spec("vllm") is not None

    def _load(self):
        if self._llm is None:
            from vllm import LLM

            if self.model is None:
                from ..local_models import default_model_path

                source = str(default_model_path())
            else:
                source = str(Path(self.model).expanduser()) if Path(self.model).expanduser().is_dir() else self.model
            self._llm = LLM(model=source, **self.engine_args)
        return self._llm

    def complete(self, requests: Sequence[Request]) -> list[Completion]:
        """Complete all requests in one vLLM call; completions come back in request order."""
        if not requests:
            return []
        from vllm import SamplingParams

        llm = self._load()
        params = [
            SamplingParams(
                max_tokens=r.max_new_tokens,
                temperature=r.temperature,
                top_p=r.top_p if r.temperature > 0 else 1.0,
                seed=r.seed if r.temperature > 0 else None,
                stop=list(r.stop) or None,
            )
            for r in requests
        ]
        t0 = time.perf_counter()
        outputs = llm.chat([r.as_openai_messages() for r in requests], params, use_tqdm=False)
        wall = time.perf_counter() - t0
        n = len(requests)
        return [
            Completion(
                text=o.outputs[0].text,
                prompt_tokens=len(o.prompt_token_ids or []),
                completion_tokens=len(o.outputs[0].token_ids),
                seconds=wall / n,
                finish_reason=o.outputs[0].finish_reason or "",
                meta={"batch_seconds": wall, "batch_size": n},
            )
            for o in outputs
        ]

    def close(self) -> None:
        """Drop the engine (vLLM frees its GPU memory when the engine is collected)."""
        self._llm = None
