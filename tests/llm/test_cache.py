"""The SQLite completion cache: hits, misses, order, keys, several processes."""

from __future__ import annotations

import multiprocessing
import sqlite3

import pytest

from solid_bench.llm import BaseBackend, Completion, Request
from solid_bench.llm.cache import CachedBackend, open_backend
from solid_bench.settings import llm_cache_path


class Counting(BaseBackend):
    """A trivial backend that echoes the last message and records every batch it is sent."""

    model_id = "counting-v1"

    def __init__(self):
        self.batches: list[list[Request]] = []

    def complete(self, requests):
        self.batches.append(list(requests))
        return [
            Completion(f"echo:{r.messages[-1][1]}:{r.temperature}", 3, len(r.messages[-1][1]), 0.5, meta={"n": len(requests)})
            for r in requests
        ]


def req(text, **params):
    return Request.chat(("user", text), **params)


def test_hits_are_cached_and_only_misses_are_sent_in_order(tmp_path):
    inner = Counting()
    cache = CachedBackend(inner, tmp_path / "c.sqlite")
    first = cache.complete([req("a"), req("b")])
    assert [c.text for c in first] == ["echo:a:0.0", "echo:b:0.0"]
    assert [c.cached for c in first] == [False, False] and [c.seconds for c in first] == [0.5, 0.5]

    second = cache.complete([req("c"), req("a"), req("d"), req("b")])
    assert [[r.messages[-1][1] for r in b] for b in inner.batches] == [["a", "b"], ["c", "d"]]  # one batch of misses
    assert [c.text for c in second] == ["echo:c:0.0", "echo:a:0.0", "echo:d:0.0", "echo:b:0.0"]
    assert [c.cached for c in second] == [False, True, False, True]
    hit = second[1]
    assert hit.seconds == 0.0 and hit.meta["original_seconds"] == 0.5
    assert (hit.prompt_tokens, hit.completion_tokens, hit.meta["n"]) == (3, 1, 2)
    assert (cache.hits, cache.misses) == (2, 4)



def test_every_answer_carries_its_key_and_the_key_is_not_stored_twice(tmp_path):
    inner = Counting()
    cache = CachedBackend(inner, tmp_path / "c.sqlite")
    miss, repeat = cache.complete([req("a"), req("a")])
    hit = cache.complete([req("a")])[0]
    key = req("a").cache_key("counting-v1")
    assert miss.meta == {"n": 1, "cache_key": key} and not miss.cached  # only the key is added to a miss
    assert repeat.meta == hit.meta == {"n": 1, "original_seconds": 0.5, "cache_key": key} and hit.cached
    with sqlite3.connect(tmp_path / "c.sqlite") as db:
        assert db.execute("SELECT key, meta FROM completions").fetchall() == [(key, '{"n": 1}')]

def test_all_hits_send_nothing_and_duplicates_are_sent_once(tmp_path):
    inner = Counting()
    cache = CachedBackend(inner, tmp_path / "c.sqlite")
    got = cache.complete([req("x"), req("x"), req("y"), req("x")])
    assert [len(b) for b in inner.batches] == [2]
    assert [c.cached for c in got] == [False, True, False, True]
    cache.complete([req("y"), req("x")])
    assert len(inner.batches) == 1
    assert cache.complete([]) == [] and len(inner.batches) == 1


def test_different_parameters_or_models_are_different_keys(tmp_path):
    base = req("q")
    variants = [
        req("q", temperature=0.7), req("q", max_new_tokens=5), req("q", top_p=0.9), req("q", seed=1),
        req("q", stop=("\n",)), Request.chat(("system", "s"), ("user", "q")), req("Q"),
    ]
    keys = {r.cache_key("m") for r in [base, *variants]}
    assert len(keys) == 1 + len(variants)
    assert base.cache_key("m") != base.cache_key("m2")
    inner = Counting()
    cache = CachedBackend(inner, tmp_path / "c.sqlite")
    cache.complete([base])
    got = cache.complete([base, *variants])
    assert [c.cached for c in got] == [True] + [False] * len(variants)
    other = Counting()
    other.model_id = "counting-v2"
    assert CachedBackend(other, tmp_path / "c.sqlite").complete([base])[0].cached is False


def test_cache_persists_across_instances_and_uses_wal(tmp_path):
    path = tmp_path / "sub" / "c.sqlite"
    CachedBackend(Counting(), path).complete([req("a")])
    inner = Counting()
    again = CachedBackend(inner, path).complete([req("a")])
    assert again[0].cached and inner.batches == []
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def _worker(path, start, out):
    cache = CachedBackend(Counting(), path)
    for i in range(20):
        cache.complete([req(f"p{(start + i) % 25}"), req(f"p{(start + 2 * i) % 25}")])
    out.put(cache.misses)


def test_several_processes_share_one_file(tmp_path):
    path = tmp_path / "c.sqlite"
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(path, s, out)) for s in (0, 7, 13)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    assert sum(out.get(timeout=5) for _ in procs) >= 25
    rows = sqlite3.connect(path).execute("SELECT COUNT(*), COUNT(DISTINCT key) FROM completions").fetchone()
    assert rows == (25, 25)


def test_open_backend_wraps_unless_disabled(tmp_path, monkeypatch):
    monkeypatch.setenv("SOLID_BENCH_HOME", str(tmp_path))
    assert llm_cache_path() == tmp_path / "cache" / "llm.sqlite"
    wrapped = open_backend("transformers", model=str(tmp_path), cache_path=tmp_path / "x.sqlite")
    assert isinstance(wrapped, CachedBackend) and wrapped.path == tmp_path / "x.sqlite"
    assert wrapped.model_id == wrapped.backend.model_id
    assert not isinstance(open_backend("transformers", cache_path=False), CachedBackend)
    assert open_backend("transformers").path == llm_cache_path()


def test_backend_returning_wrong_count_is_an_error(tmp_path):
    class Broken(Counting):
        def complete(self, requests):
            return []

    with pytest.raises(RuntimeError, match="returned 0 completions for 1"):
        CachedBackend(Broken(), tmp_path / "c.sqlite").complete([req("a")])


def test_the_cache_key_of_a_fixed_request_never_changes():
    # the digest of json.dumps({"model": "m", **asdict(request)}, sort_keys=True, ensure_ascii=False):
    # cache files written before the faster key function still hit
    r = Request.chat(("system", "Be brief."), ("user", "Héllo?"), max_new_tokens=7, temperature=0.5, top_p=0.9,
                     seed=3, stop=("\nUser:",))
    assert r.cache_key("m") == "dcbbfa579bf64b434adfd6a6e21ad02a99c1d3c393be956b1fc20fd756e0e838"
