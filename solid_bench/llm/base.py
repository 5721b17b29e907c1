"""The backend contract: Request and Completion records and the Backend protocol."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from typing import Protocol, Sequence, runtime_checkable

from ..registry import contract_error, member_problems


@dataclass(frozen=True)
class Request:
    """Chat messages plus decoding parameters. ``messages`` is ((role, content), ...)."""

    messages: tuple[tuple[str, str], ...]
    max_new_tokens: int = 128
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0
    stop: tuple[str, ...] = ()

    @classmethod
    def chat(cls, *messages: tuple[str, str], **params) -> "Request":
        return cls(tuple((r, c) for r, c in messages), **params)

    def as_openai_messages(self) -> list[dict[str, str]]:
        return [{"role": r, "content": c} for r, c in self.messages]

    def cache_key(self, model_id: str) -> str:
        """Stable hash of model, messages and decoding parameters (the SQLite cache key).

        Every field goes in, read shallowly: the JSON is the same as that of ``asdict(self)``
        (tuples encode as lists either way) at half the cost, which counts at 10^6 requests."""
        params = {f.name: getattr(self, f.name) for f in fields(self)}
        payload = json.dumps({"model": model_id, **params}, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Completion:
    """What came back for one request, with its metered cost."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    cached: bool = False
    finish_reason: str = ""
    meta: dict = field(default_factory=dict, compare=False, hash=False)


@runtime_checkable
class Backend(Protocol):
    """Anything that completes a batch of chat requests, in order: the contract of an LLM backend.

    Required:

    * ``model_id`` (str): names the model exactly enough to key the answer cache (a local folder's
      content hash, a GGUF's name and digest, a server's model name); set in ``__init__``.
    * ``complete(requests) -> list[Completion]``: one completion per request, in request order.
      Requests may differ in decoding parameters and seeds; a backend groups them as it can.
    * ``close()``: release processes, connections and memory; called once the backend is no longer
      needed (a second call does nothing). ``BaseBackend`` gives a no-op.

    A backend class registers itself with ``@BACKENDS.register(name)`` in one file under
    ``solid_bench/llm/backends/`` (or through the entry-point group ``solid_bench.backends``), and
    is built as ``cls(model=..., **options)``; see docs/backends.md.
    """

    model_id: str

    def complete(self, requests: Sequence[Request]) -> list[Completion]: ...

    def close(self) -> None: ...


class BaseBackend:
    """Defaults for the optional parts of the ``Backend`` contract (subclass it, then add ``complete``)."""

    model_id: str

    def close(self) -> None:
        """Nothing to release."""


def check_backend(name: str, cls: type) -> None:
    """Registration check: the members of ``Backend`` a class must have (``model_id`` is set per instance)."""
    problems = member_problems(cls, ("complete",), ("close",), "solid_bench.llm.BaseBackend")
    if problems:
        raise contract_error("Backend", name, cls, problems)
