"""SOLID through the openai backend against two fake server processes that fail, hang and send
bodies that are not JSON: a `generate` killed with SIGKILL and resumed loses and duplicates no
plan, leaks no credential, and (seeds derived from plan id and turn) writes the same corpus as
an uninterrupted run. The small version of benchmarks/load.py."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from solid_bench.generators.runfolder import iter_outcomes
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


def test_killed_and_resumed_through_faulty_servers(tiny_data, tmp_path):
    killed = tmp_path / "killed"
    with fleet(2, FAULTS) as servers:
        urls = ",".join(s.url.replace("http://", f"http://user:{SECRET}@") for s in servers)
        _kill_after(_cmd(killed, urls), killed, 60)
        partial = _outcomes(killed)
        done = subprocess.run(_cmd(killed, urls), capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
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
