"""The fake OpenAI server process: replies are the fake backend's, latency and faults as configured."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from solid_bench.llm import Request
from solid_bench.llm.backends.fake import FakeBackend
from solid_bench.llm.fakeserver import Behaviour, fleet


def post(url: str, body: dict, timeout: float = 30.0) -> tuple[int, bytes]:
    req = urllib.request.Request(url + "/chat/completions", data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


BODY = {"model": "fake-llm", "max_tokens": 30, "temperature": 0.7, "top_p": 1.0, "seed": 11, "stop": ["\nUser:"],
        "messages": [{"role": "system", "content": "Role-play a help-forum conversation.\nYou are a user."},
                     {"role": "user", "content": "Write your next message now."}]}


def test_a_reply_is_the_fake_backends_answer_to_the_same_request():
    with fleet(2) as servers:
        answers = [json.loads(post(s.url, BODY)[1]) for s in servers for _ in range(2)]
        models = json.loads(urllib.request.urlopen(servers[0].url + "/models", timeout=10).read())
    request = Request.chat(*[(m["role"], m["content"]) for m in BODY["messages"]], max_new_tokens=30,
                           temperature=0.7, top_p=1.0, seed=11, stop=("\nUser:",))
    [want] = FakeBackend(model="fake-llm").complete([request])
    texts = {a["choices"][0]["message"]["content"] for a in answers}
    assert texts == {want.text}  # the same on both servers and on every call
    assert answers[0]["usage"] == {"prompt_tokens": want.prompt_tokens, "completion_tokens": want.completion_tokens,
                                   "total_tokens": want.prompt_tokens + want.completion_tokens}
    assert models["data"][0]["id"] == "fake-llm"


def test_the_seed_changes_the_reply():
    with fleet(1) as [srv]:
        a = json.loads(post(srv.url, BODY)[1])["choices"][0]["message"]["content"]
        b = json.loads(post(srv.url, {**BODY, "seed": 12})[1])["choices"][0]["message"]["content"]
    assert a != b


def test_each_fault_kind_at_rate_one():
    with fleet(1, Behaviour(error_rate=1.0)) as [srv]:
        assert post(srv.url, BODY)[0] == 503
        assert srv.stats()["errors"] == 1
    with fleet(1, Behaviour(malformed_rate=1.0)) as [srv]:
        bodies = [post(srv.url, BODY) for _ in range(6)]
        assert {status for status, _ in bodies} == {200}
        for _, data in bodies:
            with pytest.raises(ValueError):
                json.loads(data)
        assert srv.stats()["malformed"] == 6
    with fleet(1, Behaviour(hang_rate=1.0, hang_seconds=3.0)) as [srv]:
        with pytest.raises(TimeoutError):
            post(srv.url, BODY, timeout=0.3)
        assert srv.stats()["hangs"] == 1


def test_latency_per_token_and_slots():
    with fleet(1, Behaviour(ttft=0.2, per_token=0.02, slots=1)) as [srv]:
        t0 = time.monotonic()
        status, data = post(srv.url, BODY)
        one = time.monotonic() - t0
        tokens = json.loads(data)["usage"]["completion_tokens"]
        assert status == 200 and one >= 0.2 + 0.02 * tokens
        t0 = time.monotonic()
        with ThreadPoolExecutor(2) as pool:  # one slot: the second request waits for the first
            list(pool.map(lambda _: post(srv.url, BODY), range(2)))
        assert time.monotonic() - t0 >= 2 * (0.2 + 0.02 * tokens)
        assert srv.stats()["max_in_flight"] == 2


def test_bad_behaviour_is_refused():
    with pytest.raises(ValueError):
        Behaviour(error_rate=0.6, malformed_rate=0.6)
    with pytest.raises(ValueError):
        Behaviour(ttft=-1)
