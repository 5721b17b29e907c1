"""Any OpenAI-compatible chat server (vLLM, TGI, Ollama, llama.cpp server) over HTTP.

Requests run concurrently (``max_concurrency`` threads) and are spread round-robin over one or
more base URLs (data parallelism: one server per GPU or machine); a retry goes to the next URL.
Connection errors, timeouts, HTTP 429 and 5xx are retried with exponential backoff. The API key
is read from an environment variable (``OPENAI_API_KEY`` or the one ``api_key_env`` names) and
only ever put in the Authorization header: never in messages, ``meta``, ``model_id`` or logs.
``seconds`` is the batch's wall time divided evenly over its requests (``meta`` keeps the batch
wall time and each request's own latency). Token counts come from the response's ``usage``;
when a server sends none they are estimated (4 characters a token) and ``meta`` says so.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence
from urllib.parse import urlsplit, urlunsplit

from ...errors import UserError
from .. import BACKENDS
from ..base import Completion, Request

_IGNORED = {"batch_size", "dtype", "device"}  # other backends' options; concurrency governs here


def _display(url: str) -> str:
    """The URL without credentials or query, safe for messages and manifests."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _normalise(url: str) -> str:
    url = url.strip().rstrip("/")
    if "://" not in url:
        url = "http://" + url
    if urlsplit(url).path in ("", "/"):
        url += "/v1"
    return url


def _rough_tokens(text: str) -> int:
    return max(1, round(len(text) / 4)) if text else 0


@BACKENDS.register("openai")
class OpenAIBackend:
    """Chat completions from OpenAI-compatible servers, concurrent, retried, round-robin over URLs."""

    install_hint = "pip install 'solid-bench[openai]'"

    def __init__(
        self,
        model: str | None = None,
        base_url: str | Sequence[str] | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        max_concurrency: int = 16,
        timeout: float = 120.0,
        retries: int = 5,
        backoff: float = 0.5,
        extra_body: dict | None = None,
        **options,
    ):
        unknown = set(options) - _IGNORED
        if unknown:
            raise UserError(
                f"Unknown option(s) for the openai backend: {', '.join(sorted(unknown))}; known: base_url, "
                "api_key_env, max_concurrency, timeout, retries, backoff, extra_body."
            )
        if not self.is_available():
            raise UserError(f"httpx is not installed: {self.install_hint}.")
        if base_url is None:
            base_url = os.environ.get("OPENAI_BASE_URL", "http://127.0.0.1:8000/v1")
        urls = base_url.split(",") if isinstance(base_url, str) else list(base_url)
        self.base_urls = [_normalise(u) for u in urls if u.strip()]
        if not self.base_urls:
            raise UserError("No base URL given: pass --base-url http://host:port/v1 (several: comma-separated).")
        if int(max_concurrency) < 1 or int(retries) < 0:
            raise UserError("max_concurrency must be at least 1 and retries at least 0.")
        self.max_concurrency = int(max_concurrency)
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.backoff = float(backoff)
        self.extra_body = dict(extra_body or {})
        self.api_key_env = api_key_env
        key = os.environ.get(api_key_env, "")
        self._headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._next = itertools.count()
        self._count_lock = threading.Lock()
        self._client = None
        self.model = model if model is not None else self._served_model()
        self.model_id = f"openai:{self.model}"

    def __repr__(self) -> str:
        return f"OpenAIBackend(model={self.model!r}, base_urls={[_display(u) for u in self.base_urls]!r})"

    @classmethod
    def is_available(cls) -> bool:
        """True when httpx can be imported."""
        return importlib.util.find_spec("httpx") is not None

    def _http(self):
        if self._client is None:
            import httpx

            limits = httpx.Limits(max_connections=self.max_concurrency, max_keepalive_connections=self.max_concurrency)
            self._client = httpx.Client(timeout=self.timeout, limits=limits, headers=self._headers)
        return self._client

    def _call(self, method: str, path: str, body: dict | None, first: int) -> tuple[dict, str, int]:
        """One call with retries; attempt k goes to URL ``first + k``. Returns (json, url, attempts)."""
        import httpx

        last = ""
        for attempt in range(self.retries + 1):
            url = self.base_urls[(first + attempt) % len(self.base_urls)]
            wait = self.backoff * 2**attempt
            try:
                resp = self._http().request(method, url + path, json=body)
            except httpx.TransportError as exc:
                last = f"cannot reach {_display(url)} ({type(exc).__name__})"
            else:
                if resp.status_code == 429 or resp.status_code >= 500:
                    last = f"{_display(url)} answered HTTP {resp.status_code}"
                    retry_after = resp.headers.get("retry-after", "")
                    if retry_after.replace(".", "", 1).isdigit():
                        wait = max(wait, min(float(retry_after), 60.0))
                elif resp.status_code >= 400:
                    raise UserError(
                        f"{_display(url)} rejected the request with HTTP {resp.status_code}: "
                        f"{resp.text[:300].strip()} (check --model and the server's options)."
                    )
                else:
                    return resp.json(), url, attempt + 1
            if attempt < self.retries:
                time.sleep(min(wait, 30.0))
        if last.startswith("cannot reach"):
            raise UserError(f"{last} after {self.retries + 1} tries: start the server or fix --base-url.")
        raise UserError(f"{last} after {self.retries + 1} tries: the server is overloaded or failing; retry later.")

    def _served_model(self) -> str:
        data, _, _ = self._call("GET", "/models", None, 0)
        models = [m.get("id") for m in data.get("data", []) if m.get("id")]
        if not models:
            raise UserError(f"{_display(self.base_urls[0])} serves no model: pass --model NAME.")
        return models[0]

    def _one(self, request: Request) -> Completion:
        with self._count_lock:
            first = next(self._next)
        body = {
            "model": self.model,
            "messages": request.as_openai_messages(),
            "max_tokens": request.max_new_tokens,
            "temperature": request.temperature,
            "top_p": request.top_p,
            "seed": request.seed,
            **({"stop": list(request.stop)} if request.stop else {}),
            **self.extra_body,
        }
        t0 = time.perf_counter()
        data, url, attempts = self._call("POST", "/chat/completions", body, first)
        latency = time.perf_counter() - t0
        try:
            choice = data["choices"][0]
            text = choice["message"].get("content") or ""
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            raise UserError(
                f"{_display(url)} sent a response that is not a chat completion: {str(data)[:200]}"
            ) from exc
        usage = data.get("usage") or {}
        estimated = not ("prompt_tokens" in usage and "completion_tokens" in usage)
        if estimated:
            prompt_tokens = _rough_tokens("".join(c for _, c in request.messages))
            completion_tokens = _rough_tokens(text)
        else:
            prompt_tokens, completion_tokens = int(usage["prompt_tokens"]), int(usage["completion_tokens"])
        meta = {"base_url": _display(url), "attempts": attempts, "latency_seconds": latency,
                "usage_estimated": estimated}
        return Completion(text, prompt_tokens, completion_tokens, 0.0, False, choice.get("finish_reason") or "", meta)

    def complete(self, requests: Sequence[Request]) -> list[Completion]:
        """Send all requests concurrently; completions come back in request order."""
        if not requests:
            return []
        t0 = time.perf_counter()
        workers = min(self.max_concurrency, len(requests))
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="solid-openai") as pool:
            results = list(pool.map(self._one, requests))
        wall = time.perf_counter() - t0
        n = len(requests)
        return [
            Completion(c.text, c.prompt_tokens, c.completion_tokens, wall / n, False, c.finish_reason,
                       {**c.meta, "batch_seconds": wall, "batch_size": n})
            for c in results
        ]

    def close(self) -> None:
        """Close the HTTP connection pool."""
        if self._client is not None:
            self._client.close()
            self._client = None
