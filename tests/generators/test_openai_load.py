"""SOLID through the openai backend against two fake server processes that fail, hang and send
bodies that are not JSON: a `generate` killed with SIGKILL and resumed loses and duplicates no
plan, leaks no credential, and (seeds derived from plan id and turn) writes the same dialogs as an
uninterrupted run; and SOLID's turn prompts keep one dialog on one server. The small version of
benchmarks/load.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from solid_bench.generators.runfolder import generated_part, iter_outcomes
from solid_bench.llm.fakeserver import Behaviour, fleet

SECRET = "pw-SECRET-do-not-leak-4242"
N = 200
FAULTS = Behaviour(ttft=0.002, sigma=0.5, error_rate=0.03, malformed_rate=0.02, hang_rate=0.004, hang_seconds=5.0)


def _cmd(out: Path, urls: str) -> list[str]:
    return [sys.executable, "-m", "solid_bench", "generate", "--method", "solid", "--backend", "openai",
            "--model", "fake-llm", "--base-url", urls, "--n", str(N), "--batch-size", "32", "--out", str(out),
            "-o", "max_concurrency=32", "-o", "timeout=0.5", "-o", "retries=8", "-o", "backoff=0.01"]


def _outcomes(out: Path) -> int:
    return sum(len(p.read_bytes().splitlines()) for p in (out / "dialogs.jsonl", out / "rejected.jsonl") if p.exists())


def _kill_after(cmd: list[str], out: Path, k: int) -> None:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while _outcomes(out) < k:
            assert proc.poll() is None, "generate ended before it could be killed"
            assert time.monotonic() < deadline, "generate wrote too little in 300 s"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL


def _generated(out: Path) -> dict[str, str]:
    return {plan_id: json.dumps(generated_part(rec), sort_keys=True) for plan_id, rec in iter_outcomes(out)}


def test_killed_and_resumed_through_faulty_servers(tiny_data, tmp_path):
    killed, plain = tmp_path / "killed", tmp_path / "plain"
    with fleet(2, FAULTS) as servers:
        urls = ",".join(s.url.replace("http://", f"http://user:{SECRET}@") for s in servers)
        _kill_after(_cmd(killed, urls), killed, 60)
        partial = _outcomes(killed)
        done = subprocess.run(_cmd(killed, urls), capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        uninterrupted = subprocess.run(_cmd(plain, urls), capture_output=True, text=True, timeout=600)
        assert uninterrupted.returncode == 0, uninterrupted.stderr[-2000:]
        stats = [s.stats() for s in servers]
    ids = sorted(plan_id for plan_id, _ in iter_outcomes(killed))
    assert ids == [f"plan-{i:06d}" for i in range(N)]  # every plan exactly once
    assert 60 <= partial < N
    served = {k: sum(s[k] for s in stats) for k in ("errors", "malformed", "hangs", "completions")}
    assert served["errors"] > 0 and served["malformed"] > 0 and served["hangs"] > 0, served
    manifest = json.loads((killed / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert manifest["config"]["base_url"] == ",".join(s.url for s in servers)
    assert manifest["counts"]["accepted"] >= 0.9 * N  # the fake server's answers pass SOLID's checks
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path
    assert SECRET not in done.stdout + done.stderr
    # seeds derive from plan id, utterance and attempt: the killed run wrote what an uninterrupted one writes
    assert _generated(killed) == _generated(plain)
    # and it costs what an uninterrupted one costs: the resume's replays from its own cache count nothing
    paid = {out: {k: json.loads((out / "manifest.json").read_text())["cost"]["all"][k]
                  for k in ("llm_calls", "prompt_tokens", "completion_tokens")} for out in (killed, plain)}
    assert paid[killed] == paid[plain]


def test_every_turn_of_a_solid_dialog_prefers_the_same_server(tmp_path):
    from solid_bench.generators.instructions import InstructionBook
    from solid_bench.generators.plans import DialogPlan
    from solid_bench.generators.solid import SolidGenerator, _State
    from solid_bench.llm import create_backend
    from solid_bench.llm.backends.fake import FakeBackend
    from solid_bench.llm.backends.openai_backend import affinity_key
    from solid_bench.schema import Seed

    turns = (("user", ("OQ",)), ("agent", ("CQ",)), ("user", ("FD",)), ("agent", ("PA",)), ("user", ("PF",)),
             ("agent", ("GG",)))
    seeds = [Seed(f"Product {k}", "Software Product", "price", f"Product {k} is sold by shop {k}. " * 12,
                  f"How much is Product {k}?") for k in range(12)]
    plans = [DialogPlan(f"plan-{k:06d}", seeds[k], turns) for k in range(12)]
    gen = SolidGenerator(FakeBackend(), InstructionBook(tmp_path / "i.json"))
    dialogs, rejected = gen.generate(plans)
    assert len(dialogs) == 12 and not rejected
    router = create_backend("openai", model="m", base_url="http://a:1/v1,http://b:2/v1,http://c:3/v1")
    keys, firsts = [], []
    for plan, dialog in zip(plans, dialogs):
        requests = []
        for t in range(1, len(turns)):  # turn 0 is the seed's starter
            state = _State(plan, t=t, utts=list(dialog.utterances[:t]))
            requests.append(gen.request(state, t, 0))
        assert len({affinity_key(r.messages) for r in requests}) == 1  # one key for the whole dialog
        assert len({router.route(r)[0] for r in requests}) == 1  # so one preferred server
        keys.append(affinity_key(requests[0].messages))
        firsts.append(router.route(requests[0])[0])
    assert len(set(keys)) == 12  # other seeds, other keys
    assert set(firsts) == {0, 1, 2}  # and the dialogs spread over the three servers
