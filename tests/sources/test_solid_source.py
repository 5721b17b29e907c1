"""The ``solid`` corpus: generated once on first use (fake backend here), then reused."""

from __future__ import annotations

import json

from solid_bench.corpora import resolve
from solid_bench.sources.solid import default_folder


def test_default_solid_is_generated_once_then_reused(tiny_data, monkeypatch, capsys):
    monkeypatch.setenv("SOLID_BENCH_DEFAULT_BACKEND", "fake")
    monkeypatch.setenv("SOLID_BENCH_DEFAULT_SOLID_N", "7")
    corpus = resolve("solid", "train")
    err = capsys.readouterr().err
    first = err.splitlines()[0]
    assert first.startswith("[solid] the default SOLID corpus is missing") and "generating 7 dialogs with fake" in first
    assert "LLM calls and" in first and "tokens, roughly 2 CPU-minutes" in first  # said before any work, with its estimate
    assert "[solid] 7/7 dialog plans done" in err  # progress, ending at the total
    folder = default_folder()
    assert str(folder).startswith(str(tiny_data.parent / "home"))
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["status"] == "complete"
    assert corpus.n_dialogs == manifest["counts"]["accepted"] and corpus.n_dialogs + manifest["counts"]["rejected"] == 7
    assert corpus.synthetic and not corpus.has_human
    assert corpus.provenance["run_folder"] == str(folder)
    assert corpus.provenance["cost"]["llm_calls"] == manifest["cost"]["all"]["llm_calls"]
    assert corpus.generation_cost()["all_in"]["dialogs"] == corpus.n_dialogs
    mtime = (folder / "dialogs.jsonl").stat().st_mtime_ns
    again = resolve("solid", "test")
    assert "generating" not in capsys.readouterr().err
    assert (folder / "dialogs.jsonl").stat().st_mtime_ns == mtime
    assert again.sha256 == corpus.sha256


def test_a_bigger_default_resumes_the_cached_run(tiny_data, monkeypatch):
    monkeypatch.setenv("SOLID_BENCH_DEFAULT_BACKEND", "fake")
    monkeypatch.setenv("SOLID_BENCH_DEFAULT_SOLID_N", "3")
    small = resolve("solid", "train")
    monkeypatch.setenv("SOLID_BENCH_DEFAULT_SOLID_N", "6")
    big = resolve("solid", "train")
    assert {d.id for d in small.dialogs} <= {d.id for d in big.dialogs}
    manifest = json.loads((default_folder() / "manifest.json").read_text())
    assert manifest["counts"]["accepted"] + manifest["counts"]["rejected"] == 6


def test_the_authors_entity_list_is_used_when_present(tiny_data, monkeypatch):
    monkeypatch.setenv("SOLID_BENCH_DEFAULT_BACKEND", "fake")
    monkeypatch.setenv("SOLID_BENCH_DEFAULT_SOLID_N", "2")
    path = tiny_data / "solid-self-seeds" / "entities_name_type.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(["Python\tProgramming Language", "Excel\tSoftware Product"]))
    corpus = resolve("solid", "train")
    manifest = json.loads((default_folder() / "manifest.json").read_text())
    assert manifest["identity"]["seeds_file"] == str(path)
    assert {d.seed.entity_name for d in corpus.dialogs} <= {"Python", "Excel"}


def test_two_processes_generate_the_default_once(tiny_data, tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "SOLID_BENCH_DEFAULT_BACKEND": "fake", "SOLID_BENCH_DEFAULT_SOLID_N": "8"}
    code = "from solid_bench.corpora import resolve; print(resolve('solid', 'train').sha256)"
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), outs
    assert outs[0][0] == outs[1][0]
    assert sum("generating 8 dialogs" in err for _, err in outs) == 1
    ids = [json.loads(x)["meta"]["plan_id"] for x in (default_folder() / "dialogs.jsonl").read_text().splitlines()]
    assert len(ids) == len(set(ids))
