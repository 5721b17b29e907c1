"""The HTML leaderboard in a real headless Chromium: one table per section, header clicks sort a table, the filter hides
rows of every table, the header row is sticky, screenshots work.

Chromium is driven over ``--remote-debugging-pipe`` (DevTools protocol as NUL-separated JSON on
fds 3/4), so no websocket library is needed; a second check uses ``--dump-dom`` with the URL
fragment the page reads at load (``#sort=...&dir=...&filter=...``).
"""

from __future__ import annotations

import base64
import json
import os
import re
import select
import shutil
import subprocess
import time

import pytest
from leaderboard_fixtures import make_result, strong, weak

from solid_bench.leaderboard.build import load_table, write_leaderboard
from solid_bench.leaderboard.table import Options
from solid_bench.results import result_path, write_result

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium; `make test` does it)")
TIMEOUT = 60


def flags(tmp_path) -> list[str]:
    profile = tmp_path / "chromium-profile"
    profile.mkdir(exist_ok=True)
    return [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", "--window-size=1600,1000"]  # fmt: skip


class DevTools:
    """A minimal DevTools-protocol client over Chromium's --remote-debugging-pipe."""

    def __init__(self, argv: list[str]):
        to_chrome_r, self._w = os.pipe()
        self._r, from_chrome_w = os.pipe()

        def wire():  # the child reads commands on fd 3 and writes replies on fd 4
            r, w = os.dup(to_chrome_r), os.dup(from_chrome_w)  # first out of the way of 3 and 4
            os.dup2(r, 3)
            os.dup2(w, 4)

        # close_fds=False keeps the dup2'd 3 and 4; every other fd Python opened is close-on-exec (PEP 446).
        self.proc = subprocess.Popen(argv + ["--remote-debugging-pipe", "about:blank"], preexec_fn=wire, close_fds=False,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buf, self._id, self.events = b"", 0, []

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._r], [], [], left)[0]:
                raise TimeoutError("no reply from chromium")
            chunk = os.read(self._r, 1 << 20)
            if not chunk:
                raise EOFError("chromium closed the debugging pipe")
            self._buf += chunk
        msg, _, self._buf = self._buf.partition(b"\0")
        return json.loads(msg)

    def call(self, method: str, session: str | None = None, **params) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params} | ({"sessionId": session} if session else {})
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self._id:
                assert "error" not in reply, reply
                return reply["result"]
            self.events.append(reply)

    def wait_event(self, method: str) -> dict:
        deadline = time.monotonic() + TIMEOUT
        while True:
            for i, e in enumerate(self.events):
                if e.get("method") == method:
                    return self.events.pop(i)
            self.events.append(self._read(deadline))

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except (OSError, EOFError, TimeoutError, AssertionError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._w)
        os.close(self._r)


@pytest.fixture
def page(results_dir, tmp_path):
    """The standard fixture plus a whole synthetic corpus (main comparison) and a hold-out-tuned row (ablations)."""
    for seed in (0, 1, 2):
        whole = make_result("solid", seed, strong(seed))
        write_result(result_path(results_dir, whole["cell"]), whole)
        ablation = make_result("solid@100", seed, weak(0))
        ablation["cell"]["valid"] = "holdout"
        write_result(result_path(results_dir, ablation["cell"]), ablation)
    table = load_table(results_dir, Options(n_resamples=100, n_permutations=200))
    return write_leaderboard(table, tmp_path / "board", ["html"])[0], table


SECTIONS = {"main": ["human (baseline)", "solid"], "curves": ["solid@100", "solid@500", "human+solid@500", "solid-rl@500"],
            "ablations": ["solid@100"]}  # fmt: skip


def test_page_sections_sort_filter_sticky_header_and_screenshot(page, tmp_path):
    html, table = page
    chrome = DevTools(flags(tmp_path))
    try:
        target = next(t for t in chrome.call("Target.getTargets")["targetInfos"] if t["type"] == "page")
        s = chrome.call("Target.attachToTarget", targetId=target["targetId"], flatten=True)["sessionId"]
        chrome.call("Page.enable", session=s)
        chrome.call("Page.navigate", session=s, url=html.as_uri())
        chrome.wait_event("Page.loadEventFired")

        def js(expr: str):
            return chrome.call("Runtime.evaluate", session=s, expression=expr, returnByValue=True)["result"]["value"]

        def visible_trains(section: str):
            board = f"#board-{section}"
            col = js(f"Array.from(document.querySelectorAll('{board} thead th')).findIndex(th => th.dataset.key === 'train')")
            return js(f"Array.from(document.querySelectorAll('{board} tbody tr')).filter(r => !r.hidden).map(r => r.cells[{col}].textContent)")

        def click(selector: str):
            box = js(f"(() => {{ const e = document.querySelector('{selector}'); e.scrollIntoView({{block: 'center', inline: 'center'}});"
                     " const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()")  # fmt: skip
            for kind in ("mousePressed", "mouseReleased"):
                chrome.call("Input.dispatchMouseEvent", session=s, type=kind, x=box[0], y=box[1], button="left", clickCount=1)

        assert js("document.title") == "solid-bench leaderboard"
        assert js("Array.from(document.querySelectorAll('h2')).map(h => h.textContent)")[:3] == ["Main comparison", "Learning curves", "Ablations"]
        assert {k: visible_trains(k) for k in SECTIONS} == SECTIONS  # each section its own table, in table order
        f1 = {r["train"]: r["micro_f1_mean"] for r in table.rows if r["tuned_on"] == "human"}

        click("#board-curves th[data-key=micro_f1]")  # first click on a number column: best first, this table only
        desc = visible_trains("curves")
        assert [f1[t] for t in desc] == sorted((f1[t] for t in desc), reverse=True) and desc[-1] == "solid-rl@500"
        assert js("document.querySelector('#board-curves th[data-key=micro_f1]').getAttribute('aria-sort')") == "descending"
        assert visible_trains("main") == SECTIONS["main"] and visible_trains("ablations") == SECTIONS["ablations"]
        click("#board-curves th[data-key=micro_f1]")  # second click reverses
        assert visible_trains("curves")[0] == "solid-rl@500" and [f1[t] for t in visible_trains("curves")] == sorted(f1[t] for t in desc)
        click("#board-main th[data-key=train]")
        assert visible_trains("main") == ["human (baseline)", "solid"]

        # the header row stays at the top of the viewport while its table scrolls under it
        assert js("getComputedStyle(document.querySelector('#board-curves th')).position") == "sticky"
        chrome.call("Emulation.setDeviceMetricsOverride", session=s, width=1600, height=300, deviceScaleFactor=1, mobile=False)
        js("window.scrollTo(0, document.getElementById('board-curves').getBoundingClientRect().top + window.scrollY + 40)")
        head_top, table_top = js("[document.querySelector('#board-curves th').getBoundingClientRect().top,"
                                 " document.getElementById('board-curves').getBoundingClientRect().top]")  # fmt: skip
        assert table_top < -30 and abs(head_top) < 1
        chrome.call("Emulation.clearDeviceMetricsOverride", session=s)

        click("#filter")
        chrome.call("Input.insertText", session=s, text="solid@")  # filters every table
        assert visible_trains("main") == [] and visible_trains("curves") == ["solid@100", "solid@500", "human+solid@500"]
        assert visible_trains("ablations") == ["solid@100"]
        assert js("document.getElementById('count').textContent") == "4 of 7 rows shown"
        assert js("Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)") is True  # inline plots render

        png = base64.b64decode(chrome.call("Page.captureScreenshot", session=s, format="png")["data"])
        shot = tmp_path / "leaderboard.png"
        shot.write_bytes(png)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    finally:
        chrome.close()


def test_url_fragment_applies_sort_and_filter_in_dumped_dom(page, tmp_path):
    html, table = page
    url = html.as_uri() + "#sort=micro_f1&dir=asc&filter=solid"
    out = subprocess.run(flags(tmp_path) + ["--dump-dom", url], capture_output=True, text=True, timeout=TIMEOUT)
    assert out.returncode == 0, out.stderr[-2000:]
    boards = out.stdout.split('<table class="board"')[1:]
    assert len(boards) == 3
    for board in boards:  # every table sorted by its own rows' micro-F1
        order = [int(i) for i, _ in re.findall(r'<tr data-order="(\d+)"( hidden="")?>', board)]
        f1 = [table.rows[i]["micro_f1_mean"] for i in order]
        assert f1 == sorted(f1)
    rows = re.findall(r'<tr data-order="(\d+)"( hidden="")?>', out.stdout)
    assert len(rows) == 7 and [table.rows[int(i)]["train"] for i, h in rows if h] == ["human"]  # the only row without 'solid'
    assert '<span id="count">6 of 7 rows shown</span>' in out.stdout


def test_screenshot_flag_writes_a_png(page, tmp_path):
    html, _ = page
    shot = tmp_path / "shot.png"
    out = subprocess.run(flags(tmp_path) + [f"--screenshot={shot}", html.as_uri()], capture_output=True, text=True, timeout=TIMEOUT)
    assert out.returncode == 0, out.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
