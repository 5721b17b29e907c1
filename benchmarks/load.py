"""Load benchmark: SOLID generation through the openai backend against a fleet of fake servers.

Each fake server (``solid_bench.llm.fakeserver``) is its own process with log-normal latency and
injected faults (5xx, hangs past the client timeout, 200s that are not JSON); its replies are a
deterministic function of the request, so a resumed run can be compared with an uninterrupted
one. ``solid-bench generate --method solid --backend openai`` runs as a child process, measured
with ``wait4`` (CPU seconds, peak RSS), and is SIGKILLed and resumed ``--kills`` times.

    run    one generation of --plans plans (kills and resumes; --compare also runs it again
           uninterrupted and compares the two corpora dialog by dialog). Reports harness CPU per
           dialog, peak RSS, resume time of the finished folder, SQLite cache size and lookup
           time, and fails (exit 1) on any lost or duplicated plan id.
    sweep  dialogs/s against concurrency (batch size = max_concurrency = each --concurrency value),
           on one shared seeds file, so only dialog generation is timed.

    OMP_NUM_THREADS=1 python benchmarks/load.py run --plans 10000 --kills 2 --compare
    OMP_NUM_THREADS=1 python benchmarks/load.py sweep --concurrency 1,4,16,64,256

The human train split (``$SOLID_BENCH_DATA``) supplies the intent sequences. Figures: docs/load.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from solid_bench.generators.runfolder import generated_part, iter_outcomes
from solid_bench.llm.fakeserver import Behaviour, fleet

CLK_TCK = os.sysconf("SC_CLK_TCK")


class Tail:
    """Counts the lines of a growing file by reading only what was appended since the last call."""

    def __init__(self, path: Path):
        self.path, self.offset, self.lines = path, 0, 0

    def count(self) -> int:
        if self.path.is_file():
            with open(self.path, "rb") as fh:
                fh.seek(self.offset)
                while chunk := fh.read(1 << 20):  # in chunks: this process must stay small (see peak_rss)
                    self.offset += len(chunk)
                    self.lines += chunk.count(b"\n")
        return self.lines


def peak_rss_mb(pid: int) -> float | None:
    """The process's own peak resident memory (VmHWM), or None once it is gone.

    Not ``ru_maxrss`` from wait4: Linux carries the spawning parent's RSS into the child's
    ru_maxrss (measured: a child of a 300 MB parent reports 314 MB), so it would report this
    benchmark's memory, not generate's."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


@dataclass
class Segment:
    """One generate process: how it ended and what it cost."""

    rc: int
    wall: float
    cpu: float
    maxrss_mb: float
    outcomes: int  # dialogs + rejections appended while it ran
    marks: list = field(default_factory=list)  # (seconds since start, outcomes so far)


def solid_bench(code: str | None) -> list[str]:
    """The command that runs `solid-bench`: this checkout, or the source tree ``code`` (an older
    version, for before/after figures; the editable install's finder is removed so it cannot win)."""
    if not code:
        return [sys.executable, "-m", "solid_bench"]
    boot = ("import runpy, sys; sys.meta_path[:] = [f for f in sys.meta_path if '__editable__' not in "
            "getattr(type(f), '__module__', '') + getattr(f, '__module__', '')]; "
            f"sys.path.insert(0, {str(Path(code).resolve())!r}); "
            "runpy.run_module('solid_bench', run_name='__main__', alter_sys=True)")
    return [sys.executable, "-c", boot]


def generate_cmd(out: Path, n: int, urls: list[str], batch: int, concurrency: int, timeout: float,
                 seeds: Path | None = None, code: str | None = None) -> list[str]:
    """The `solid-bench generate` command line of a load run."""
    cmd = [*solid_bench(code), "generate", "--method", "solid", "--backend", "openai",
           "--model", "fake-llm", "--base-url", ",".join(urls), "--n", str(n), "--batch-size", str(batch),
           "--out", str(out), "-o", f"max_concurrency={concurrency}", "-o", f"timeout={timeout}",
           "-o", "retries=8", "-o", "backoff=0.05"]
    return cmd + (["--seeds", str(seeds)] if seeds else [])


def run_segment(cmd: list[str], out: Path, kill_at: int | None = None, poll: float = 0.2) -> Segment:
    """Run ``cmd`` to its end, or SIGKILL it once ``kill_at`` outcomes are on disk in total."""
    tails = [Tail(out / "dialogs.jsonl"), Tail(out / "rejected.jsonl")]
    before = sum(t.count() for t in tails)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    start = time.monotonic()
    with open(out.parent / f"{out.name}.log", "ab") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=log)
    marks, peak = [], 0.0
    # wait4 (never Popen.poll/wait) reaps the child, so its CPU time is not lost
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        peak = max(peak, peak_rss_mb(proc.pid) or 0.0)
        time.sleep(poll)
        done = sum(t.count() for t in tails)
        marks.append((time.monotonic() - start, done - before))
        if kill_at is not None and done >= kill_at:
            peak = max(peak, peak_rss_mb(proc.pid) or 0.0)
            os.kill(proc.pid, signal.SIGKILL)
            pid, status, usage = os.wait4(proc.pid, 0)
            break
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic() - start
    done = sum(t.count() for t in tails)
    marks.append((wall, done - before))
    return Segment(proc.returncode, wall, usage.ru_utime + usage.ru_stime, peak, done - before, marks)


def plan_check(out: Path, n: int) -> dict:
    """Every plan id exactly once over dialogs.jsonl + rejected.jsonl: lost, duplicated, unknown."""
    seen = Counter(plan_id for plan_id, _ in iter_outcomes(out))
    expected = {f"plan-{i:06d}" for i in range(n)}
    return {"lost": len(expected - set(seen)), "duplicated": sum(1 for c in seen.values() if c > 1),
            "unknown": len(set(seen) - expected)}


def canonical(out: Path) -> dict[str, str]:
    """plan id -> its dialog (or rejection) as JSON, without the measured cost (seconds, cache hits)."""
    return {plan_id: json.dumps(generated_part(rec), sort_keys=True, ensure_ascii=False)
            for plan_id, rec in iter_outcomes(out)}


def compare(a: Path, b: Path) -> dict:
    """How many plans have the same dialog (or rejection) in both folders, cost aside."""
    ca, cb = canonical(a), canonical(b)
    same = sum(1 for k in ca if cb.get(k) == ca[k])
    return {"plans": len(ca), "identical": same, "different": len(set(ca) | set(cb)) - same}


def cache_report(path: Path, lookups: int = 20_000, batch: int = 256) -> dict:
    """Size of the SQLite cache (with its WAL) and the time of batched lookups through CachedBackend."""
    import sqlite3

    from solid_bench.llm.cache import CachedBackend

    size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT count(*) FROM completions").fetchone()[0]
        keys = [k for (k,) in db.execute("SELECT key FROM completions")]
    rng = random.Random(0)
    hit = rng.sample(keys, min(lookups, len(keys)))
    miss = [f"{rng.getrandbits(256):064x}" for _ in range(len(hit))]

    class _Nothing:
        model_id = "none"

        def close(self) -> None:
            pass

    cache = CachedBackend(_Nothing(), path)
    timings = {}
    for label, sample in (("hit", hit), ("miss", miss)):
        t0, c0 = time.perf_counter(), time.process_time()
        found = 0
        for i in range(0, len(sample), batch):
            found += len(cache._lookup(sample[i:i + batch]))
        timings[label] = ((time.perf_counter() - t0) / len(sample) * 1e6, (time.process_time() - c0) / len(sample) * 1e6)
        assert found == (len(sample) if label == "hit" else 0)
    cache.close()
    return {"rows": rows, "mb": round(size / 2**20, 1), "bytes_per_row": round(size / max(rows, 1)), "batch": batch,
            "lookup_us_per_key_hit": round(timings["hit"][0], 1), "lookup_cpu_us_per_key_hit": round(timings["hit"][1], 1),
            "lookup_us_per_key_miss": round(timings["miss"][0], 1),
            "lookup_cpu_us_per_key_miss": round(timings["miss"][1], 1)}


def behaviour_from(args) -> Behaviour:
    return Behaviour(ttft=args.ttft, sigma=args.sigma, per_token=args.per_token, error_rate=args.error_rate,
                     hang_rate=args.hang_rate, hang_seconds=args.hang_seconds, malformed_rate=args.malformed_rate)


def server_cpu(servers) -> float:
    total = 0.0
    for s in servers:
        fields = Path(f"/proc/{s.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / CLK_TCK
    return total


def full_run(args, work: Path, urls: list[str], kills: int, tag: str) -> dict:
    """One generation of args.plans plans, SIGKILLed and resumed ``kills`` times; then a no-op resume."""
    out = work / tag
    cmd = generate_cmd(out, args.plans, urls, args.batch_size, args.concurrency, args.timeout, code=args.code)
    segments = []
    for k in range(kills):  # kill at evenly spaced fractions of the plans
        target = args.plans * (k + 1) // (kills + 1)
        seg = run_segment(cmd, out, kill_at=target)
        if seg.rc != -signal.SIGKILL:
            raise SystemExit(f"{tag}: segment {k} ended with {seg.rc} before its kill (see {out}.log)")
        segments.append(seg)
    seg = run_segment(cmd, out)
    if seg.rc != 0:
        raise SystemExit(f"{tag}: the last segment failed with exit status {seg.rc} (see {out}.log)")
    segments.append(seg)
    noop = [run_segment(cmd, out) for _ in range(3)]  # resume of the finished folder: open, check, exit
    from solid_bench.generators.runfolder import RunFolder

    opening = []
    for _ in range(3):  # the part of a resume that grows with the folder: reading what is done
        t0, c0 = time.perf_counter(), time.process_time()
        RunFolder(out)
        opening.append((time.perf_counter() - t0, time.process_time() - c0))
    manifest = json.loads((out / "manifest.json").read_text())
    counts = manifest["counts"]
    outcomes = counts["accepted"] + counts["rejected"]
    cpu = sum(s.cpu for s in segments)
    return {
        "tag": tag, "plans": args.plans, "kills": kills, "segments": [
            {"rc": s.rc, "wall_s": round(s.wall, 1), "cpu_s": round(s.cpu, 1), "maxrss_mb": round(s.maxrss_mb, 1),
             "outcomes": s.outcomes} for s in segments],
        "accepted": counts["accepted"], "rejected": counts["rejected"], "rejected_by_reason": counts["rejected_by_reason"],
        "turn_calls": manifest["cost"].get("turns", {}).get("llm_calls"), "all_calls": manifest["cost"]["all"]["llm_calls"],
        "wall_s": round(sum(s.wall for s in segments), 1), "cpu_s": round(cpu, 1),
        "cpu_ms_per_dialog": round(1000 * cpu / outcomes, 2),
        "cpu_ms_per_call": round(1000 * cpu / manifest["cost"]["all"]["llm_calls"], 3),
        "peak_rss_mb": round(max(s.maxrss_mb for s in segments), 1),
        "noop_resume_s": round(statistics.median(s.wall for s in noop), 2),
        "noop_resume_cpu_s": round(statistics.median(s.cpu for s in noop), 2),
        "noop_resume_rss_mb": round(max(s.maxrss_mb for s in noop), 1),
        "open_folder_s": round(statistics.median(w for w, _ in opening), 3),
        "open_folder_cpu_s": round(statistics.median(c for _, c in opening), 3),
        "check": plan_check(out, args.plans),
        "out": str(out),
    }


def cmd_run(args) -> int:
    work = Path(args.work or tempfile.mkdtemp(prefix="solid-load-"))
    work.mkdir(parents=True, exist_ok=True)
    behaviour = behaviour_from(args)
    report = {"plans": args.plans, "servers": args.servers, "concurrency": args.concurrency,
              "batch_size": args.batch_size, "timeout": args.timeout, "behaviour": behaviour.__dict__, "work": str(work),
              "code": args.code or "this checkout", "loadavg_start": os.getloadavg()}
    with fleet(args.servers, behaviour) as servers:
        urls = [s.url for s in servers]
        main = full_run(args, work, urls, args.kills, "killed")
        report["run"] = main
        if args.compare:
            plain = full_run(args, work, urls, 0, "uninterrupted")
            report["uninterrupted"] = plain
            report["compare"] = compare(Path(main["out"]), Path(plain["out"]))
        stats = [s.stats() for s in servers]
        report["servers_cpu_s"] = round(server_cpu(servers), 1)
    (work / "report-runs.json").write_text(json.dumps(report, indent=2))  # the runs' figures survive a later failure
    report["server_stats"] = {k: sum(s[k] for s in stats) for k in ("requests", "completions", "errors", "hangs", "malformed")}
    report["server_stats"]["max_in_flight"] = max(s["max_in_flight"] for s in stats)
    report["server_ms_per_request"] = round(1000 * report["servers_cpu_s"] / max(1, report["server_stats"]["requests"]), 3)
    report["cache"] = cache_report(Path(main["out"]) / "llm-cache.sqlite")
    report["loadavg_end"] = os.getloadavg()
    print(json.dumps(report, indent=2))
    bad = [r["check"] for r in (main, report.get("uninterrupted")) if r and any(r["check"].values())]
    if bad:
        print(f"FAIL: lost or duplicated plans: {bad}", file=sys.stderr)
        return 1
    if not args.keep:
        shutil.rmtree(work)
    return 0


class InFlight:
    """Samples the requests in flight over all servers (their /stats) every ``every`` seconds."""

    def __init__(self, servers, every: float = 0.05):
        import threading

        self.servers, self.every, self.samples = servers, every, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.samples.append(sum(s.stats()["in_flight"] for s in self.servers))
            except OSError:
                pass

    def __enter__(self) -> "InFlight":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def summary(self) -> dict:
        """Most requests in flight at once, and the mean while any was (generation, not start-up)."""
        busy = [x for x in self.samples if x]
        return {"max_in_flight": max(self.samples, default=0),
                "mean_in_flight": round(statistics.mean(busy), 1) if busy else 0.0}


def dialog_rate(seg: Segment) -> float:
    """Outcomes per second between 10% and 90% of the outcomes (no warm-up, no tail)."""
    total = seg.marks[-1][1]
    lo = next(t for t, d in seg.marks if d >= 0.1 * total)
    hi = next(t for t, d in seg.marks if d >= 0.9 * total)
    done_lo = next(d for t, d in seg.marks if d >= 0.1 * total)
    done_hi = next(d for t, d in seg.marks if d >= 0.9 * total)
    return (done_hi - done_lo) / (hi - lo) if hi > lo else float("nan")


def cmd_sweep(args) -> int:
    work = Path(args.work or tempfile.mkdtemp(prefix="solid-sweep-"))
    work.mkdir(parents=True, exist_ok=True)
    behaviour = behaviour_from(args)
    rows = []
    with fleet(args.servers, behaviour) as servers:
        urls = [s.url for s in servers]
        seeds = work / "seeds" / "seeds.jsonl"
        if not seeds.is_file():  # one seeds file for every point: only dialog generation is timed
            subprocess.run([sys.executable, "-m", "solid_bench", "seeds", "--backend", "openai", "--model", "fake-llm",
                            "--base-url", ",".join(urls), "--n", "1000", "--batch-size", "64", "--out", str(seeds),
                            "-o", "max_concurrency=64", "-o", f"timeout={args.timeout}", "-o", "retries=8",
                            "-o", "backoff=0.05"], check=True, stdout=subprocess.DEVNULL)
        for c in [int(x) for x in args.concurrency.split(",")]:
            for rep in range(args.repeats):
                n = max(args.min_plans, args.plans_per_slot * c)
                out = work / f"c{c}-r{rep}"
                cpu0 = server_cpu(servers)
                with InFlight(servers) as flight:
                    seg = run_segment(generate_cmd(out, n, urls, c, c, args.timeout, seeds, args.code), out, poll=0.05)
                if seg.rc != 0:
                    raise SystemExit(f"concurrency {c}: generate failed with {seg.rc} (see {out}.log)")
                check = plan_check(out, n)
                rows.append({"concurrency": c, "plans": n, "loadavg": os.getloadavg()[0], "dialogs_per_s": round(dialog_rate(seg), 2),
                             "wall_s": round(seg.wall, 1), "cpu_s": round(seg.cpu, 1),
                             "cpu_ms_per_dialog": round(1000 * seg.cpu / n, 2),
                             "servers_cpu_s": round(server_cpu(servers) - cpu0, 1),
                             "peak_rss_mb": round(seg.maxrss_mb, 1), **flight.summary(), "check": check})
                print(json.dumps(rows[-1]), flush=True)
                if any(check.values()):
                    print(f"FAIL: lost or duplicated plans at concurrency {c}", file=sys.stderr)
                    return 1
    if not args.keep:
        shutil.rmtree(work)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="what", required=True)
    for name in ("run", "sweep"):
        p = sub.add_parser(name)
        p.add_argument("--servers", type=int, default=4)
        p.add_argument("--timeout", type=float, default=5.0, help="client timeout (s); hangs last --hang-seconds")
        p.add_argument("--ttft", type=float, default=0.05, help="median first-token seconds (log-normal)")
        p.add_argument("--sigma", type=float, default=0.5)
        p.add_argument("--per-token", type=float, default=0.002)
        p.add_argument("--error-rate", type=float, default=0.01)
        p.add_argument("--malformed-rate", type=float, default=0.005)
        p.add_argument("--hang-rate", type=float, default=5e-5)
        p.add_argument("--hang-seconds", type=float, default=30.0)
        p.add_argument("--work", help="folder for the run folders (default: a temporary one)")
        p.add_argument("--keep", action="store_true", help="keep the run folders")
        p.add_argument("--code", help="run generate from this solid-bench source tree (before/after figures)")
    run, sweep = sub.choices["run"], sub.choices["sweep"]
    run.add_argument("--plans", type=int, default=1000)
    run.add_argument("--concurrency", type=int, default=256, help="max_concurrency of the openai backend")
    run.add_argument("--batch-size", type=int, default=256, help="dialogs advanced per backend call")
    run.add_argument("--kills", type=int, default=2)
    run.add_argument("--compare", action="store_true", help="also run uninterrupted and compare the corpora")
    sweep.add_argument("--concurrency", default="1,4,16,64,256", help="comma-separated; batch size = concurrency")
    sweep.add_argument("--plans-per-slot", type=int, default=8)
    sweep.add_argument("--min-plans", type=int, default=100)
    sweep.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args(argv)
    return {"run": cmd_run, "sweep": cmd_sweep}[args.what](args)


if __name__ == "__main__":
    sys.exit(main())
