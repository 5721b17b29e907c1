"""LLM backends behind one narrow contract: ``complete(requests) -> completions``, batched.

One file per backend, each registered in ``BACKENDS``; heavy imports happen inside methods.
"""

from __future__ import annotations

from ..registry import Registry
from .base import Backend, BaseBackend, Completion, Request, check_backend

BACKENDS: Registry = Registry("LLM backend", package="solid_bench.llm.backends", entry_point_group="solid_bench.backends",
                              check=check_backend)

__all__ = ["BACKENDS", "Backend", "BaseBackend", "Completion", "Request", "create_backend"]


def create_backend(name: str, model: str | None = None, **options) -> Backend:
    """Instantiate backend ``name`` for ``model``: a named local model (``solid-bench models list``), a
    path, a hub id or a server's model name; None: the backend's default model."""
    from .local_models import resolve_model

    cls = BACKENDS.get(name)
    return cls(model=resolve_model(model, name), **options)
