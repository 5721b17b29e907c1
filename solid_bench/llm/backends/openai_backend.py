"""Any OpenAI-compatible chat server (vLLM, TGI, Ollama, llama.cpp server) over HTTP.

Requests run concurrently on a persistent pool of ``max_concurrency`` threads over keep-alive
connections (an idle pool per server) of the standard library's ``http.client``: on the load
benchmark httpx cost several times more client CPU per request (docs/load.md). With several
base URLs (data parallelism: one server per GPU or machine) a request goes to a server chosen
by its prefix, see ``affinity_key``: the turns of one dialog share their opening messages, so
they land on the server whose prompt cache (llama.cpp slots, vLLM prefix caching) already holds
that prefix. The choice is rendezvous hashing over the URLs with a load bound (``load_cap``): a
request whose server is full goes to the least loaded one instead, so a prompt layout without
per-dialog openings still spreads. A retry goes to the next server in the request's order.

Connection errors, timeouts, HTTP 429 and 5xx and a 200 whose body is not JSON (cut off, or a
proxy's HTML page) are retried with exponential backoff; when retries run out the error names
what happened (unreachable, timed out, failing status, not JSON) and the fix. The API key is
read from an environment variable (``OPENAI_API_KEY`` or the one ``api_key_env`` names) and only
ever put in the Authorization header; credentials in a base URL are sent as basic auth and
stripped (``public_url``) from every message, ``meta``, ``model_id`` and ``repr``.
``seconds`` is the batch's wall time divided evenly over its requests (``meta`` keeps the batch
wall time and each request's own latency). Token counts come from the response's ``usage``;
when a server sends none they are estimated (4 characters a token) and ``meta`` says so.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import math
import os
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence
from urllib.parse import unquote, urlsplit

from ...errors import UserError
from .. import BACKENDS
from ..base import BaseBackend, Completion, Request
from ..urls import public_url

_IGNORED = {"batch_size", "dtype", "device"}  # other backends' options; concurrency governs here
#: Characters of the second message that join the first message in the affinity key.
AFFINITY_CHARS = 256


def affinity_key(messages: Sequence[tuple[str, str]]) -> bytes:
    """What requests share when they should go to the same server: the first message's content
    (where chat templates put the system prompt) and the first AFFINITY_CHARS characters of the
    second one (a dialog's first utterance, or the opening of a single user message), not roles.

    SOLID's turn prompts of one dialog keep the dialog's context and its history up front, so
    consecutive turns agree on this key and different dialogs (other seeds) do not."""
    first = messages[0][1] if messages else ""
    second = messages[1][1][:AFFINITY_CHARS] if len(messages) > 1 else ""
    return f"{first}\x00{second}".encode("utf-8", "surrogatepass")


def load_cap(max_concurrency: int, n_servers: int) -> int:
    """Requests one server may hold at once when there is a choice: its even share of
    ``max_concurrency`` plus three standard deviations of a random spread, plus one. Dialogs with
    distinct prefixes almost never reach it; one prefix shared by every request (a layout with no
    per-dialog opening) is held to about 1.4x its share at 256 in flight over 4 servers."""
    share = max_concurrency / n_servers
    return math.ceil(share + 3 * math.sqrt(share)) + 1


def _normalise(url: str) -> str:
    url = url.strip().rstrip("/")
    if "://" not in url:
        url = "http://" + url
    if urlsplit(url).path in ("", "/"):
        url += "/v1"
    return url


class _Failure(Exception):
    """A transport failure of one attempt: ``kind`` is connect, timeout or lost."""

    def __init__(self, kind: str, name: str):
        super().__init__(kind, name)
        self.kind, self.name = kind, name


class _Server:
    """One base URL: where to connect, the path prefix, basic auth from the URL, and a pool of
    idle keep-alive connections (at most ``keep`` are kept)."""

    def __init__(self, url: str, timeout: float, keep: int):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise UserError(f"--base-url {public_url(url)}: only http:// and https:// servers are supported.")
        try:
            self.host, self.port = parts.hostname or "", parts.port
        except ValueError:
            raise UserError(f"--base-url {public_url(url)}: the port is not a number.") from None
        self.https, self.timeout, self.keep = parts.scheme == "https", timeout, keep
        self.prefix = parts.path.rstrip("/")
        self.query = f"?{parts.query}" if parts.query else ""
        self.auth = ""
        if parts.username is not None:
            token = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            self.auth = "Basic " + base64.b64encode(token).decode("ascii")
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def _new(self) -> http.client.HTTPConnection:
        if self.https:
            return http.client.HTTPSConnection(self.host, self.port, timeout=self.timeout,
                                               context=ssl.create_default_context())
        return http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)

    def request(self, method: str, path: str, payload: bytes | None, headers: dict) -> tuple[int, str, bytes]:
        """(status, Retry-After, body) of one HTTP exchange; raises _Failure. A kept connection the
        server has closed meanwhile is replaced once, silently (that is not a failed attempt)."""
        with self._lock:
            conn = self._idle.pop() if self._idle else None
        reused = conn is not None
        while True:
            if conn is None:
                conn = self._new()
                try:
                    conn.connect()
                except TimeoutError:
                    conn.close()
                    raise _Failure("connect", "ConnectTimeout") from None
                except OSError as exc:
                    conn.close()
                    raise _Failure("connect", type(exc).__name__) from None
            try:
                conn.request(method, self.prefix + path + self.query, body=payload, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except TimeoutError:
                conn.close()
                raise _Failure("timeout", "ReadTimeout") from None
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                conn.close()
                if reused:  # the server closed an idle keep-alive connection: open a fresh one
                    conn, reused = None, False
                    continue
                raise _Failure("lost", type(exc).__name__) from None
            except (http.client.HTTPException, OSError) as exc:
                conn.close()
                raise _Failure("lost", type(exc).__name__) from None
            if resp.will_close:
                conn.close()
            else:
                with self._lock:
                    if len(self._idle) < self.keep:
                        self._idle.append(conn)
                        conn = None
                if conn is not None:
                    conn.close()
            return resp.status, resp.getheader("retry-after") or "", data

    def close(self) -> None:
        """Close every idle connection."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def _rough_tokens(text: str) -> int:
    return max(1, round(len(text) / 4)) if text else 0


def _snippet(text: str, n: int = 60) -> str:
    text = " ".join(text.split())
    return repr(text[:n] + ("..." if len(text) > n else ""))


@BACKENDS.register("openai")
class OpenAIBackend(BaseBackend):
    """Chat completions from OpenAI-compatible servers: concurrent, retried, routed by prefix over URLs."""

    install_hint = ""

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
        if base_url is None:
            base_url = os.environ.get("OPENAI_BASE_URL", "http://127.0.0.1:8000/v1")
        urls = base_url.split(",") if isinstance(base_url, str) else list(base_url)
        self.base_urls = [_normalise(u) for u in urls if u.strip()]
        if not self.base_urls:
            raise UserError("No base URL given: pass --base-url http://host:port/v1 (several: comma-separated).")
        if int(max_concurrency) < 1 or int(retries) < 0 or float(timeout) <= 0:
            raise UserError("max_concurrency must be at least 1, retries at least 0 and timeout above 0 seconds.")
        self.max_concurrency = int(max_concurrency)
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.backoff = float(backoff)
        self.extra_body = dict(extra_body or {})
        self.api_key_env = api_key_env
        self._key = os.environ.get(api_key_env, "")
        self._servers = [_Server(u, self.timeout, self.max_concurrency) for u in self.base_urls]
        self._salts = [hashlib.blake2b(u.encode(), digest_size=8).digest() for u in self.base_urls]
        self._cap = load_cap(self.max_concurrency, len(self.base_urls))
        self._in_flight = [0] * len(self.base_urls)
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._pid = os.getpid()
        self.model = model if model is not None else self._served_model()
        self.model_id = f"openai:{self.model}"

    def __repr__(self) -> str:
        return f"OpenAIBackend(model={self.model!r}, base_urls={[public_url(u) for u in self.base_urls]!r})"

    @classmethod
    def is_available(cls) -> bool:
        """Always: the transport is the standard library's http.client."""
        return True

    def _workers(self) -> ThreadPoolExecutor:
        """The worker threads, made once per process (connections and threads are never shared across fork)."""
        if self._pid != os.getpid():
            self._servers = [_Server(u, self.timeout, self.max_concurrency) for u in self.base_urls]
            self._in_flight = [0] * len(self.base_urls)
            self._lock = threading.Lock()
            self._pool, self._pid = None, os.getpid()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.max_concurrency, thread_name_prefix="solid-openai")
        return self._pool

    def _headers(self, server: _Server) -> dict[str, str]:
        auth = f"Bearer {self._key}" if self._key else server.auth
        return {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": "solid-bench",
                **({"Authorization": auth} if auth else {})}

    def route(self, request: Request) -> list[int]:
        """The order in which ``request`` tries the base URLs (indices): rendezvous hashing of its
        affinity key, so the same prefix prefers the same server whatever else is in flight."""
        if len(self.base_urls) == 1:
            return [0]
        digest = hashlib.blake2b(affinity_key(request.messages), digest_size=16).digest()
        scores = [(hashlib.blake2b(digest + salt, digest_size=8).digest(), i) for i, salt in enumerate(self._salts)]
        return [i for _, i in sorted(scores, reverse=True)]

    def _claim(self, order: list[int]) -> int:
        """The position in ``order`` of the server to try first (the preferred one unless it holds
        ``load_cap`` requests, then the least loaded); counts it in flight."""
        with self._lock:
            pos = 0
            if self._in_flight[order[0]] >= self._cap:
                pos = min(range(len(order)), key=lambda k: (self._in_flight[order[k]], k))
            self._in_flight[order[pos]] += 1
        return pos

    def _count(self, index: int, delta: int) -> None:
        with self._lock:
            self._in_flight[index] += delta

    def _call(self, method: str, path: str, body: dict | None, order: list[int]) -> tuple[dict, str, int]:
        """One call with retries over the servers in ``order`` (a retry moves on to the next).
        Returns (json, url, attempts)."""
        payload = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        last, fix = "", ""
        routed = len(order) > 1  # in-flight counts matter only when there is a choice
        pos = self._claim(order) if routed else 0
        for attempt in range(self.retries + 1):
            index = order[(pos + attempt) % len(order)]
            server, url = self._servers[index], self.base_urls[index]
            shown = public_url(url)
            wait = self.backoff * 2**attempt
            if routed and attempt:
                self._count(index, +1)
            answer = None
            try:
                answer = server.request(method, path, payload, self._headers(server))
            except _Failure as exc:
                if exc.kind == "connect":
                    last, fix = f"cannot reach {shown} ({exc.name})", "start the server or fix --base-url"
                elif exc.kind == "timeout":
                    last = f"{shown} did not answer within {self.timeout:g} s ({exc.name})"
                    fix = "raise the limit with --option timeout=SECONDS, send fewer requests at once, or check the server"
                else:
                    last, fix = f"lost the connection to {shown} ({exc.name})", "check the server's log"
            finally:
                if routed:
                    self._count(index, -1)
            if answer is not None:
                status, retry_after, data = answer
                if status == 429 or status >= 500:
                    last, fix = f"{shown} answered HTTP {status}", "the server is overloaded or failing; retry later"
                    if retry_after.replace(".", "", 1).isdigit():
                        wait = max(wait, min(float(retry_after), 60.0))
                elif status >= 400:
                    raise UserError(
                        f"{shown} rejected the request with HTTP {status}: "
                        f"{data[:300].decode('utf-8', 'replace').strip()} (check --model and the server's options)."
                    )
                else:
                    try:
                        return json.loads(data), url, attempt + 1
                    except ValueError:  # cut off, or an HTML page from a proxy: retried like a 5xx
                        last = (f"{shown} answered HTTP {status} with a body that is not JSON "
                                f"({_snippet(data.decode('utf-8', 'replace'))})")
                        fix = "check that --base-url points at an OpenAI-compatible server and that it is healthy"
            if attempt < self.retries:
                time.sleep(min(wait, 30.0))
        raise UserError(f"{last} after {self.retries + 1} tries: {fix}.")

    def _served_model(self) -> str:
        data, _, _ = self._call("GET", "/models", None, [0])
        listed = data.get("data") if isinstance(data, dict) else None
        models = [m.get("id") for m in listed if isinstance(m, dict) and m.get("id")] if isinstance(listed, list) else []
        if not models:
            raise UserError(f"{public_url(self.base_urls[0])} serves no model: pass --model NAME.")
        return models[0]

    def _one(self, request: Request) -> Completion:
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
        data, url, attempts = self._call("POST", "/chat/completions", body, self.route(request))
        latency = time.perf_counter() - t0
        try:
            choice = data["choices"][0]
            text = choice["message"].get("content") or ""
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            raise UserError(
                f"{public_url(url)} sent a response that is not a chat completion: {str(data)[:200]}"
            ) from exc
        usage = data.get("usage") or {}
        estimated = not ("prompt_tokens" in usage and "completion_tokens" in usage)
        if estimated:
            prompt_tokens = _rough_tokens("".join(c for _, c in request.messages))
            completion_tokens = _rough_tokens(text)
        else:
            prompt_tokens, completion_tokens = int(usage["prompt_tokens"]), int(usage["completion_tokens"])
        meta = {"base_url": public_url(url), "attempts": attempts, "latency_seconds": latency,
                "usage_estimated": estimated}
        return Completion(text, prompt_tokens, completion_tokens, 0.0, False, choice.get("finish_reason") or "", meta)

    def complete(self, requests: Sequence[Request]) -> list[Completion]:
        """Send all requests concurrently (at most ``max_concurrency`` at once); completions come
        back in request order."""
        if not requests:
            return []
        t0 = time.perf_counter()
        results = list(self._workers().map(self._one, requests))
        wall = time.perf_counter() - t0
        n = len(requests)
        return [
            Completion(c.text, c.prompt_tokens, c.completion_tokens, wall / n, False, c.finish_reason,
                       {**c.meta, "batch_seconds": wall, "batch_size": n})
            for c in results
        ]

    def close(self) -> None:
        """Stop the worker threads and close the kept connections."""
        if self._pool is not None and self._pid == os.getpid():
            self._pool.shutdown(wait=True)
        self._pool = None
        for server in self._servers:
            server.close()
