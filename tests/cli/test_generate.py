"""`solid-bench generate`: CLI, kill -9 and resume (every plan id and every call exactly once), Ctrl-C, datasets."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from solid_bench.cli import main


def _ids(out):
    ids = []
    for name in ("dialogs.jsonl", "rejected.jsonl"):
        path = out / name
        if path.exists():
            for line in path.read_text().splitlines():
                rec = json.loads(line)
                ids.append(rec["meta"]["plan_id"] if name == "dialogs.jsonl" else rec["plan_id"])
    return ids


def _cmd(out, n, *extra):
    return [sys.executable, "-m", "solid_bench", "generate", "--backend", "fake", "--n", str(n), "--batch-size", "2",
            "--out", str(out), *extra]


def test_generate_and_dry_run(tiny_data, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["generate", "--backend", "fake", "--n", "5", "--out", str(out), "--dry-run"]) == 0
    est = json.loads(capsys.readouterr().out)
    assert est["n"] == 5 and est["total"]["llm_calls"] > 0
    assert not out.exists()
    assert main(["generate", "--backend", "fake", "--n", "5", "--out", str(out), "--no-cache"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("complete: ") and str(out) in text
    assert sorted(_ids(out)) == [f"plan-{i:06d}" for i in range(5)]


def test_user_errors_exit_2(tiny_data, tmp_path, capsys):
    assert main(["generate", "--method", "sold", "--n", "2", "--out", str(tmp_path / "r")]) == 2
    assert "Did you mean: solid" in capsys.readouterr().err
    assert main(["generate", "--backend", "fake", "--n", "0", "--out", str(tmp_path / "r")]) == 2
    assert main(["generate", "--backend", "fake", "--n", "2", "--out", str(tmp_path / "r"), "-o", "novalue"]) == 2
    assert main(["generate", "--backend", "fakes", "--n", "2", "--out", str(tmp_path / "r")]) == 2
    assert "Did you mean: fake" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text('["no tab"]')
    assert main(["generate", "--backend", "fake", "--n", "2", "--out", str(tmp_path / "r"), "--seeds", str(bad)]) == 2
    assert "name<TAB>type" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()  # no partial run folder after a user error


def _wait_for_lines(path, k, proc, timeout=60, containing=""):
    start = time.time()
    while time.time() - start < timeout:
        if path.exists() and sum(containing in line for line in path.read_text().splitlines()) >= k:
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.05)
    return False


def test_kill_9_then_rerun_holds_every_plan_exactly_once(tiny_data, tmp_path):
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    cmd = _cmd(out, 12, "-o", "delay=0.15")
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # killed once three dialog-turn batches are in the ledger: dialogs in flight have turns to lose
        assert _wait_for_lines(out / "costs.jsonl", 3, proc, containing='"stage":"turns"'), "the run should be generating dialogs by now"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    partial = _ids(out)
    assert len(partial) < 12  # killed part-way
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    ids = _ids(out)
    assert sorted(ids) == [f"plan-{i:06d}" for i in range(12)]
    assert set(partial) <= set(ids)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    # the calls of the dialogs the kill lost were asked again, from the folder's own cache: the
    # ledger counts them once, so the run costs what the same run uninterrupted does
    plain = tmp_path / "plain"
    assert main(["generate", "--backend", "fake", "--n", "12", "--batch-size", "2", "--out", str(plain)]) == 0
    want = json.loads((plain / "manifest.json").read_text())["cost"]["all"]
    for k in ("llm_calls", "prompt_tokens", "completion_tokens"):
        assert manifest["cost"]["all"][k] == want[k], k


def test_ctrl_c_says_how_to_resume(tiny_data, tmp_path):
    out = tmp_path / "run"
    # A foreground Ctrl-C: restore SIGINT's default in the child, since an earlier test (or a
    # non-interactive shell) may have left it ignored, and ignored signals are inherited.
    proc = subprocess.Popen(_cmd(out, 50, "-o", "delay=0.2"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert _wait_for_lines(out / "costs.jsonl", 3, proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert "interrupted; rerun the same command to resume" in err
    assert json.loads((out / "manifest.json").read_text())["status"] == "interrupted"


def test_run_folder_opens_with_datasets(tiny_data, tmp_path):
    out = tmp_path / "run"
    assert main(["generate", "--backend", "fake", "--n", "6", "--out", str(out), "--no-cache"]) == 0
    from datasets import load_dataset

    ds = load_dataset("json", data_files=str(out / "dialogs.jsonl"), split="train", cache_dir=str(tmp_path / "hf"))
    assert ds.num_rows == len((out / "dialogs.jsonl").read_text().splitlines())
    first = json.loads((out / "dialogs.jsonl").read_text().splitlines()[0])
    assert ds[0]["id"] == first["id"]
    assert ds[0]["utterances"][0]["intents"] == first["utterances"][0]["intents"]
    assert ds[0]["meta"]["cost"]["llm_calls"] == first["meta"]["cost"]["llm_calls"]


def test_generated_folder_is_a_corpus(tiny_data, tmp_path):
    from solid_bench.corpora import resolve

    out = tmp_path / "run"
    assert main(["generate", "--backend", "fake", "--n", "4", "--out", str(out), "--no-cache"]) == 0
    corpus = resolve(str(out), "train")
    assert corpus.synthetic and not corpus.has_human
    assert corpus.n_dialogs == len(_ids(out)) - len((out / "rejected.jsonl").read_text().splitlines()
                                                    if (out / "rejected.jsonl").exists() else [])
    cost = corpus.generation_cost()
    assert cost["marginal"]["llm_calls"] > 0 and cost["all_in"]["llm_calls"] >= cost["marginal"]["llm_calls"]


@pytest.mark.parametrize("name", ["seeds.jsonl", "mine.jsonl"])
def test_seeds_command(tiny_data, tmp_path, capsys, name):
    out = tmp_path / "s" / name
    assert main(["seeds", "--backend", "fake", "--n", "4", "--out", str(out), "--no-cache"]) == 0
    lines = out.read_text().splitlines()
    assert len(lines) >= 4 if name == "seeds.jsonl" else len(lines) == 4
    assert all(json.loads(line)["starter"] for line in lines)
    assert (tmp_path / "s" / "entity_types.json").is_file()
