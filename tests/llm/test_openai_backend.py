"""The openai backend against real HTTP servers: a small one in a thread (echoes, records what it
saw), the fake OpenAI server process (solid_bench.llm.fakeserver: faults, hangs) and llama.cpp."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from solid_bench.errors import UserError
from solid_bench.llm import BACKENDS, Request, create_backend
from solid_bench.llm.cache import CachedBackend

SECRET = "sk-test-SECRET-do-not-leak-0123456789"


class _Listening(ThreadingHTTPServer):
    request_queue_size = 256  # not the default 5: dozens of clients connect at once in these tests


class FakeServer:
    """A tiny OpenAI-compatible server: echoes the last message, can fail, records what it saw."""

    def __init__(self, fail_first=0, fail_status=503, usage=True, delay=0.0, name="fake", malformed_first=0):
        self.fail_first, self.fail_status, self.usage, self.delay, self.name = fail_first, fail_status, usage, delay, name
        self.malformed_first = malformed_first
        self.bodies, self.auth, self.times = [], [], []
        self.in_flight = self.max_in_flight = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status, payload):
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._send(200, {"object": "list", "data": [{"id": f"{outer.name}-model"}]})

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with outer.lock:
                    outer.bodies.append(body)
                    outer.auth.append(self.headers.get("Authorization"))
                    outer.times.append(time.monotonic())
                    failing = len(outer.bodies) <= outer.fail_first
                    malformed = len(outer.bodies) <= outer.malformed_first
                    outer.in_flight += 1
                    outer.max_in_flight = max(outer.max_in_flight, outer.in_flight)
                time.sleep(outer.delay)
                with outer.lock:  # leave the count before answering: the client may reuse its slot at once
                    outer.in_flight -= 1
                if failing:
                    return self._send(outer.fail_status, {"error": "busy"})
                if self.path != "/v1/chat/completions":
                    return self._send(404, {"error": f"no route {self.path}"})
                text = f"{outer.name}:{body['messages'][-1]['content']}"
                payload = {"choices": [{"message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]}
                if outer.usage:
                    payload["usage"] = {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
                if malformed:  # a body cut off in the middle, with a matching length
                    data = json.dumps(payload).encode()[:25]
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    return self.wfile.write(data)
                self._send(200, payload)

        self.httpd = _Listening(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reqs(n, **params):
    return [Request.chat(("system", "sys"), ("user", f"q{i}"), max_new_tokens=5, **params) for i in range(n)]


def test_round_trip_body_usage_and_order():
    with FakeServer() as srv:
        backend = create_backend("openai", model="m1", base_url=srv.url, max_concurrency=4)
        got = backend.complete(reqs(6, temperature=0.5, top_p=0.9, seed=3, stop=("\n",)))
    assert [c.text for c in got] == [f"fake:q{i}" for i in range(6)]
    assert {(c.prompt_tokens, c.completion_tokens, c.finish_reason) for c in got} == {(11, 7, "stop")}
    body = srv.bodies[0]
    assert body["model"] == "m1" and body["max_tokens"] == 5 and body["temperature"] == 0.5
    assert body["top_p"] == 0.9 and body["seed"] == 3 and body["stop"] == ["\n"]
    assert body["messages"][0] == {"role": "system", "content": "sys"}
    assert backend.model_id == "openai:m1"
    for c in got:
        assert c.seconds == pytest.approx(c.meta["batch_seconds"] / 6) and c.meta["usage_estimated"] is False


def test_model_defaults_to_the_served_one_and_missing_usage_is_estimated():
    with FakeServer(usage=False, name="srv") as srv:
        backend = create_backend("openai", base_url=srv.url.removesuffix("/v1"))  # /v1 is added
        got = backend.complete([Request.chat(("user", "x" * 40))])
    assert backend.model == "srv-model"
    assert got[0].text == "srv:" + "x" * 40 and got[0].meta["usage_estimated"] is True
    assert (got[0].prompt_tokens, got[0].completion_tokens) == (10, 11)  # 40 and 44 characters / 4


def test_retries_with_exponential_backoff_on_5xx_and_429():
    for status in (503, 429):
        with FakeServer(fail_first=3, fail_status=status) as srv:
            backend = create_backend("openai", model="m", base_url=srv.url, retries=4, backoff=0.05)
            got = backend.complete(reqs(1))
        assert got[0].text == "fake:q0" and got[0].meta["attempts"] == 4
        gaps = [b - a for a, b in zip(srv.times, srv.times[1:])]
        assert gaps[0] >= 0.05 and gaps[1] >= 0.1 and gaps[2] >= 0.2  # 0.05 * 2**k


def test_gives_up_with_a_clear_error():
    with FakeServer(fail_first=100) as srv:
        backend = create_backend("openai", model="m", base_url=srv.url, retries=1, backoff=0.01)
        with pytest.raises(UserError, match="HTTP 503 after 2 tries"):
            backend.complete(reqs(1))
    url = f"http://127.0.0.1:{free_port()}/v1"
    backend = create_backend("openai", model="m", base_url=url, retries=2, backoff=0.01)
    with pytest.raises(UserError, match=f"cannot reach {url} .* after 3 tries: start the server or fix --base-url"):
        backend.complete(reqs(1))
    with pytest.raises(UserError, match="cannot reach"):
        create_backend("openai", base_url=url, retries=0)  # asking the server for its model


def test_client_error_is_not_retried():
    with FakeServer() as srv:
        backend = create_backend("openai", model="m", base_url=srv.url.replace("/v1", "/v2"), retries=3)
        with pytest.raises(UserError, match="HTTP 404"):
            backend.complete(reqs(1))
    assert len(srv.bodies) == 1


def test_concurrency_is_bounded_and_used():
    with FakeServer(delay=0.15) as srv:
        backend = create_backend("openai", model="m", base_url=srv.url, max_concurrency=3)
        t0 = time.monotonic()
        backend.complete(reqs(9))
        wall = time.monotonic() - t0
    assert srv.max_in_flight == 3
    assert wall < 9 * 0.15 * 0.7  # three waves of 0.15 s, not nine


def dialog_turns(d, t):
    """Turn ``t`` of dialog ``d`` as SOLID lays it out: the dialog's context first, then its history."""
    history = [(("user", "assistant")[k % 2], f"utterance {k} of dialog {d}") for k in range(t + 1)]
    return Request.chat(("system", f"Dialog {d} is about entity number {d}."), *history, ("user", "Next message?"),
                        max_new_tokens=5)


def test_a_dialogs_turns_go_to_one_server_and_dialogs_spread():
    with FakeServer(name="a") as a, FakeServer(name="b") as b, FakeServer(name="c") as c:
        backend = create_backend("openai", model="m", base_url=f"{a.url},{b.url},{c.url}", max_concurrency=8)
        where: dict[int, set] = {}
        for t in range(4):  # one call per turn, 30 dialogs each, as SOLID's continuous batches do
            got = backend.complete([dialog_turns(d, t) for d in range(30)])
            for d, comp in enumerate(got):
                where.setdefault(d, set()).add(comp.meta["base_url"])
        assert all(len(urls) == 1 for urls in where.values())  # every turn of a dialog on its server
        assert {u for urls in where.values() for u in urls} == {a.url, b.url, c.url}  # and all servers used
        assert len(a.bodies) + len(b.bodies) + len(c.bodies) == 120
        assert backend.route(dialog_turns(7, 0)) == backend.route(dialog_turns(7, 3))
        assert sorted(backend.route(dialog_turns(7, 0))) == [0, 1, 2]


def test_one_hot_prefix_is_spread_by_the_load_bound():
    from solid_bench.llm.backends.openai_backend import load_cap

    assert [load_cap(c, n) for c, n in ((256, 4), (32, 2), (8, 3), (1, 2))] == [89, 29, 9, 4]
    # slow servers (2 s), so all 32 requests are in flight at once
    with FakeServer(name="a", delay=2.0) as a, FakeServer(name="b", delay=2.0) as b:
        backend = create_backend("openai", model="m", base_url=f"{a.url},{b.url}", max_concurrency=32)
        same = [Request.chat(("system", "one shared prompt"), ("user", "same"), max_new_tokens=5, seed=i)
                for i in range(32)]
        got = backend.complete(same)
    assert len(got) == 32 and {c.meta["attempts"] for c in got} == {1}
    first, other = (a, b) if len(a.bodies) > len(b.bodies) else (b, a)
    # 32 in flight over 2 servers: ceil(16 + 3 * 4) + 1 = 29 on the preferred one, the other 3 spill over
    assert (len(first.bodies), first.max_in_flight, len(other.bodies)) == (29, 29, 3)


def test_a_retry_goes_to_the_next_server():
    with FakeServer(name="b") as b:
        dead = f"http://127.0.0.1:{free_port()}/v1"
        backend = create_backend("openai", model="m", base_url=[dead, b.url], backoff=0.01)
        got = backend.complete(reqs(8))
    assert [c.text for c in got] == [f"b:q{i}" for i in range(8)]
    attempts = [c.meta["attempts"] for c in got]
    assert set(attempts) == {1, 2}  # those whose prefix preferred the dead server took a second try
    assert {c.meta["base_url"] for c in got} == {b.url}


def test_a_200_that_is_not_json_is_retried_then_named():
    with FakeServer(malformed_first=2) as srv:
        backend = create_backend("openai", model="m", base_url=srv.url, retries=3, backoff=0.01)
        got = backend.complete(reqs(1))
    assert got[0].text == "fake:q0" and got[0].meta["attempts"] == 3
    from solid_bench.llm.fakeserver import Behaviour, fleet

    with fleet(1, Behaviour(malformed_rate=1.0)) as [srv]:
        backend = create_backend("openai", model="fake-llm", base_url=srv.url, retries=2, backoff=0.01)
        with pytest.raises(UserError) as err:
            backend.complete(reqs(1))
        assert srv.stats()["malformed"] == 3
    assert str(err.value).startswith(f"{srv.url} answered HTTP 200 with a body that is not JSON (")
    assert str(err.value).endswith("after 3 tries: check that --base-url points at an OpenAI-compatible server "
                                   "and that it is healthy.")


def test_a_read_timeout_is_reported_as_a_timeout():
    from solid_bench.llm.fakeserver import Behaviour, fleet

    with fleet(1, Behaviour(hang_rate=1.0, hang_seconds=5.0)) as [srv]:
        backend = create_backend("openai", model="fake-llm", base_url=srv.url, timeout=0.3, retries=1, backoff=0.01)
        t0 = time.monotonic()
        with pytest.raises(UserError) as err:
            backend.complete(reqs(1))
        wall = time.monotonic() - t0
    assert str(err.value) == (f"{srv.url} did not answer within 0.3 s (ReadTimeout) after 2 tries: raise the limit "
                              "with --option timeout=SECONDS, send fewer requests at once, or check the server.")
    assert 0.6 <= wall < 4.0  # two tries of 0.3 s, not the server's 5 s hang


def test_keep_alive_connections_are_reused_and_a_closed_one_is_replaced():
    from solid_bench.llm.fakeserver import fleet

    with fleet(1) as [srv]:
        backend = create_backend("openai", model="fake-llm", base_url=srv.url, max_concurrency=1)
        for _ in range(5):
            backend.complete(reqs(4))
        assert srv.stats()["connections"] == 2  # one for the 20 requests, one for this stats call
    # a server that keeps HTTP/1.1 connections open but drops them when idle
    with FakeServer() as closing:
        closing.httpd.RequestHandlerClass.protocol_version = "HTTP/1.1"
        original = closing.httpd.RequestHandlerClass.do_POST

        def post_then_drop(handler):
            original(handler)
            handler.close_connection = True  # no "Connection: close" header: the client learns on reuse

        closing.httpd.RequestHandlerClass.do_POST = post_then_drop
        backend = create_backend("openai", model="m", base_url=closing.url, max_concurrency=1, retries=0)
        got = [backend.complete(reqs(1))[0] for _ in range(3)]
    assert [c.meta["attempts"] for c in got] == [1, 1, 1] and len(closing.bodies) == 3


def test_credentials_in_the_url_are_sent_as_basic_auth():
    import base64

    with FakeServer() as srv:
        url = srv.url.replace("http://", f"http://user:{SECRET}@")
        backend = create_backend("openai", model="m", base_url=url)
        got = backend.complete(reqs(1))
    assert srv.auth == ["Basic " + base64.b64encode(f"user:{SECRET}".encode()).decode()]
    assert got[0].meta["base_url"] == srv.url and SECRET not in repr(backend)


def test_api_key_is_sent_but_never_leaked(tmp_path, monkeypatch, caplog, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("MY_KEY", SECRET + "-other")
    caplog.set_level(logging.DEBUG)
    with FakeServer() as srv:
        backend = create_backend("openai", model="m", base_url=srv.url)
        cached = CachedBackend(backend, tmp_path / "cache.sqlite")
        got = cached.complete(reqs(2))
        other = create_backend("openai", model="m", base_url=srv.url, api_key_env="MY_KEY")
        other.complete(reqs(1))
    assert srv.auth == [f"Bearer {SECRET}"] * 2 + [f"Bearer {SECRET}-other"]
    dead = f"http://user:{SECRET}@127.0.0.1:{free_port()}/v1"
    with pytest.raises(UserError) as err:
        create_backend("openai", model="m", base_url=dead, retries=0).complete(reqs(1))
    seen = [
        str(err.value), repr(backend), backend.model_id, json.dumps([c.meta for c in got]),
        caplog.text, capsys.readouterr().out, (tmp_path / "cache.sqlite").read_bytes().decode("latin-1"),
    ]
    assert all(SECRET not in s for s in seen)
    assert "127.0.0.1" in str(err.value)


def test_bad_options_are_user_errors():
    assert BACKENDS.get("openai").is_available() is True
    with pytest.raises(UserError, match="Unknown option"):
        create_backend("openai", model="m", base_url="http://x", bogus=1)
    with pytest.raises(UserError, match="max_concurrency"):
        create_backend("openai", model="m", base_url="http://x", max_concurrency=0)


@pytest.mark.slow
def test_real_llama_cpp_server(gguf_path, tmp_path):
    pytest.importorskip("llama_cpp.server")
    port = free_port()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf_path), "--host", "127.0.0.1",
           "--port", str(port), "--n_ctx", "2048", "--n_threads", "2"]
    log = (tmp_path / "server.log").open("wb")  # a file, not a pipe: the server logs ~200 kB at start
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        import httpx

        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama.cpp server exited: {(tmp_path / 'server.log').read_text()[-2000:]}")
            try:
                if httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "llama.cpp server did not come up in 180 s"
            time.sleep(0.5)
        backend = create_backend("openai", base_url=f"http://127.0.0.1:{port}", max_concurrency=2)
        got = backend.complete(
            [Request.chat(("user", "What is the capital of France?"), max_new_tokens=8),
             Request.chat(("user", "Say hello."), max_new_tokens=6)]
        )
        backend.close()
        assert all(c.text.strip() for c in got)
        assert all(c.prompt_tokens > 5 and 1 <= c.completion_tokens <= 8 for c in got)
        assert all(c.meta["usage_estimated"] is False for c in got)
    finally:
        proc.kill()
        proc.wait(30)
        log.close()
