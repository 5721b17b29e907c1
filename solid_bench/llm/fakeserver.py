"""A fake OpenAI-compatible chat server for load and fault tests: a real process speaking HTTP/1.1.

It is a test double, NOT a model. The reply to a chat completion is the ``fake`` backend's answer
to the same request (messages, max_tokens, temperature, top_p, seed, stop) under the served model
name, so it is a deterministic function of the request, the same on every server of a fleet, and
it answers SOLID's stages plausibly (the fake backend's rules track the SOLID prompts).

What makes it a load target rather than an echo:

* latency: first-token time drawn from a log-normal (``--ttft`` median, ``--sigma``) plus
  ``--per-token`` seconds per completion token; ``--slots`` bounds the requests served at once
  (like llama.cpp's ``--parallel``), the rest queue;
* faults, drawn per attempt (a retry may succeed): HTTP 5xx (``--error-rate``), a hang longer
  than any sane client timeout (``--hang-rate``, ``--hang-seconds``) and a 200 whose body is
  not JSON, cut off or an HTML page (``--malformed-rate``);
* ``GET /stats``: connections, requests, faults served and the most requests in flight, for tests.

One asyncio event loop, stdlib only. ``python -m solid_bench.llm.fakeserver --port 0`` prints
``listening http://127.0.0.1:PORT/v1`` on its first stdout line; ``spawn()`` starts one (or
``fleet()`` several) as subprocesses and returns their URLs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import random
import subprocess
import sys
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Iterator

HTML_PAGE = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 500: "Internal Server Error", 503: "Service Unavailable"}


@dataclass(frozen=True)
class Behaviour:
    """How the server answers: served model, latency model, slots and fault rates (per attempt)."""

    model: str = "fake-llm"
    ttft: float = 0.0  # median seconds before the first token (log-normal)
    sigma: float = 0.0  # log-normal shape of the first-token time; 0: always ttft
    per_token: float = 0.0  # seconds per completion token
    slots: int = 0  # requests served at once; 0: unbounded
    error_rate: float = 0.0  # HTTP 503
    hang_rate: float = 0.0  # no answer for hang_seconds
    hang_seconds: float = 60.0
    malformed_rate: float = 0.0  # HTTP 200 with a body that is not JSON
    seed: int = 0  # of the latency and fault draws (replies never depend on it)

    def __post_init__(self) -> None:
        rates = (self.error_rate, self.hang_rate, self.malformed_rate)
        if min(rates) < 0 or sum(rates) > 1 or min(self.ttft, self.sigma, self.per_token, self.slots) < 0:
            raise ValueError(f"bad fake-server behaviour: {self}")

    def argv(self) -> list[str]:
        """Command-line flags that recreate this behaviour in ``python -m solid_bench.llm.fakeserver``."""
        return [x for k, v in asdict(self).items() for x in (f"--{k.replace('_', '-')}", str(v))]


class FakeChatServer:
    """The request handler and its counters (one instance per process)."""

    def __init__(self, behaviour: Behaviour):
        from .backends.fake import FakeBackend

        self.b = behaviour
        self.backend = FakeBackend(model=behaviour.model)
        self.rng = random.Random(behaviour.seed)
        self.slots = asyncio.Semaphore(behaviour.slots) if behaviour.slots else None
        self.stats = {"connections": 0, "requests": 0, "completions": 0, "errors": 0, "hangs": 0, "malformed": 0,
                      "in_flight": 0, "max_in_flight": 0}

    def reply(self, body: dict) -> tuple[dict, int]:
        """The chat completion for ``body`` (a function of the request only) and its completion tokens."""
        from .base import Request

        request = Request(
            tuple((m["role"], m["content"]) for m in body["messages"]),
            max_new_tokens=int(body.get("max_tokens") or 128), temperature=float(body.get("temperature", 0.0)),
            top_p=float(body.get("top_p", 1.0)), seed=int(body.get("seed") or 0), stop=tuple(body.get("stop") or ()),
        )
        [c] = self.backend.complete([request])
        payload = {
            "id": "chatcmpl-" + request.cache_key(self.b.model)[:24], "object": "chat.completion",
            "model": self.b.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": c.text},
                         "finish_reason": c.finish_reason or "stop"}],
            "usage": {"prompt_tokens": c.prompt_tokens, "completion_tokens": c.completion_tokens,
                      "total_tokens": c.prompt_tokens + c.completion_tokens},
        }
        return payload, c.completion_tokens

    def _latency(self, tokens: int) -> float:
        first = self.b.ttft * (math.exp(self.rng.gauss(0.0, self.b.sigma)) if self.b.sigma else 1.0)
        return first + self.b.per_token * tokens

    async def completion(self, raw: bytes) -> tuple[int, bytes, str]:
        """(status, body, content type) for one POST /v1/chat/completions, faults and latency included."""
        self.stats["requests"] += 1
        draw = self.rng.random()
        b = self.b
        if draw < b.error_rate:
            self.stats["errors"] += 1
            await asyncio.sleep(self._latency(0))
            return 503, b'{"error": {"message": "injected: server busy"}}', "application/json"
        draw -= b.error_rate
        if draw < b.hang_rate:
            self.stats["hangs"] += 1
            await asyncio.sleep(b.hang_seconds)
            return 503, b'{"error": {"message": "injected: hung"}}', "application/json"
        draw -= b.hang_rate
        malformed = draw < b.malformed_rate
        try:
            body = json.loads(raw)
            payload, tokens = self.reply(body)
        except (ValueError, KeyError, TypeError) as exc:
            return 400, json.dumps({"error": {"message": f"bad request: {exc}"}}).encode(), "application/json"
        if self.slots is not None:
            await self.slots.acquire()
        try:
            await asyncio.sleep(self._latency(tokens))
        finally:
            if self.slots is not None:
                self.slots.release()
        data = json.dumps(payload).encode()
        if malformed:
            self.stats["malformed"] += 1
            if self.rng.random() < 0.5:
                return 200, data[: len(data) // 2], "application/json"  # cut off
            return 200, HTML_PAGE, "text/html"
        self.stats["completions"] += 1
        return 200, data, "application/json"

    async def route(self, method: str, path: str, raw: bytes) -> tuple[int, bytes, str]:
        """Dispatch one request by method and path."""
        path = path.split("?", 1)[0].rstrip("/")
        if method == "GET" and path in ("/v1/models", "/models"):
            return 200, json.dumps({"object": "list", "data": [{"id": self.b.model, "object": "model"}]}).encode(), \
                "application/json"
        if method == "GET" and path == "/health":
            return 200, b'{"status": "ok"}', "application/json"
        if method == "GET" and path == "/stats":
            return 200, json.dumps(self.stats).encode(), "application/json"
        if method == "POST" and path in ("/v1/chat/completions", "/chat/completions"):
            self.stats["in_flight"] += 1
            self.stats["max_in_flight"] = max(self.stats["max_in_flight"], self.stats["in_flight"])
            try:
                return await self.completion(raw)
            finally:
                self.stats["in_flight"] -= 1
        return 404, json.dumps({"error": {"message": f"no route {method} {path}"}}).encode(), "application/json"

    async def connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one keep-alive connection until the client closes it."""
        self.stats["connections"] += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = (lines[0].split(" ", 2) + ["", ""])[:3]
                headers = {k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
                raw = await reader.readexactly(int(headers.get("content-length") or 0))
                status, body, ctype = await self.route(method, path, raw)
                close = headers.get("connection", "").lower() == "close"
                writer.write(
                    f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}\r\nContent-Type: {ctype}\r\n"
                    f"Content-Length: {len(body)}\r\n{'Connection: close' if close else 'Connection: keep-alive'}"
                    "\r\n\r\n".encode("latin-1") + body
                )
                await writer.drain()
                if close:
                    return
        except (ConnectionError, asyncio.IncompleteReadError):
            return  # the client gave up (a timeout on a hang): nothing to answer
        finally:
            writer.close()


async def _serve(behaviour: Behaviour, host: str, port: int) -> None:
    handler = FakeChatServer(behaviour)
    server = await asyncio.start_server(handler.connection, host, port, backlog=4096, limit=1 << 24)
    bound = server.sockets[0].getsockname()[1]
    print(f"listening http://{host}:{bound}/v1", flush=True)
    async with server:
        await server.serve_forever()


def main(argv: list[str] | None = None) -> None:
    """Command line: serve until killed."""
    parser = argparse.ArgumentParser(prog="python -m solid_bench.llm.fakeserver", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0: a free port (printed on the first line)")
    for name, default in asdict(Behaviour()).items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=type(default), default=default)
    args = vars(parser.parse_args(argv))
    host, port = args.pop("host"), args.pop("port")
    try:
        asyncio.run(_serve(Behaviour(**args), host, port))
    except KeyboardInterrupt:
        pass


@dataclass
class Running:
    """A fake server process and its base URL."""

    url: str
    process: subprocess.Popen

    def stats(self) -> dict:
        """The server's counters (GET /stats)."""
        import urllib.request

        with urllib.request.urlopen(self.url.removesuffix("/v1") + "/stats", timeout=10) as resp:
            return json.loads(resp.read())

    def stop(self) -> None:
        """Kill the process and reap it."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=30)
        if self.process.stdout is not None:
            self.process.stdout.close()


def start(behaviour: Behaviour = Behaviour(), host: str = "127.0.0.1") -> Running:
    """Start one fake server process on a free port; returns once it listens."""
    cmd = [sys.executable, "-m", "solid_bench.llm.fakeserver", "--host", host, "--port", "0", *behaviour.argv()]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline().strip()
    if not line.startswith("listening "):
        proc.kill()
        proc.wait(timeout=30)
        raise RuntimeError(f"the fake server did not start (first line {line!r})")
    return Running(line.split(" ", 1)[1], proc)


@contextmanager
def fleet(n: int = 1, behaviour: Behaviour = Behaviour(), **changes) -> Iterator[list[Running]]:
    """``n`` fake server processes (server ``i`` draws faults with seed ``behaviour.seed + i``), stopped on exit."""
    from dataclasses import replace

    behaviour = replace(behaviour, **changes)
    servers: list[Running] = []
    try:
        for i in range(n):
            servers.append(start(replace(behaviour, seed=behaviour.seed + i)))
        yield servers
    finally:
        for s in servers:
            s.stop()


if __name__ == "__main__":
    main()
