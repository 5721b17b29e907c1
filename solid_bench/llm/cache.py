"""A SQLite cache in front of any backend, keyed on model id, messages and decoding parameters.

Hits come back with ``cached=True`` and ``seconds=0``; their original cost stays in
``meta["original_seconds"]`` (token counts are kept as first metered), so cost accounting can
count either what a run spent or what it would have cost. Every completion that passes through,
hit or miss, carries its request's key in ``meta["cache_key"]`` (not stored: the key is the row's
primary key), so a run folder's cost ledger can tell an answer it already paid for from one it
has not (``generators/runfolder.Meter``). Only misses go to the wrapped backend,
in one batch, in request order; a request repeated inside one batch is sent once. Several
processes may share one file (WAL journal, busy timeout, INSERT OR IGNORE). The key is built
from ``backend.model_id`` and the request only, so no API key or URL ever enters it.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from dataclasses import replace
from pathlib import Path
from typing import Sequence

from ..settings import llm_cache_path
from .base import Backend, Completion, Request

_SCHEMA = """CREATE TABLE IF NOT EXISTS completions (
    key TEXT PRIMARY KEY, model_id TEXT NOT NULL, text TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, seconds REAL NOT NULL,
    finish_reason TEXT NOT NULL, meta TEXT NOT NULL, created REAL NOT NULL DEFAULT (julianday('now'))
)"""


class CachedBackend:
    """Wraps a backend: answers repeated requests from SQLite and sends only the misses."""

    install_hint = ""

    def __init__(self, backend: Backend, path: str | Path):
        self.backend = backend
        self.model_id = backend.model_id
        self.path = Path(path)
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = -1

    @classmethod
    def is_available(cls) -> bool:
        """Always: sqlite3 is in the standard library."""
        return True

    def _db(self) -> sqlite3.Connection:
        if self._conn is None or self._pid != os.getpid():  # never share a connection across fork
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=60.0, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA busy_timeout = 60000")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute(_SCHEMA)
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def _lookup(self, keys: list[str]) -> dict[str, Completion]:
        found: dict[str, Completion] = {}
        db = self._db()
        for start in range(0, len(keys), 500):  # stay under SQLite's bound-parameter limit
            part = keys[start : start + 500]
            rows = db.execute(
                "SELECT key, text, prompt_tokens, completion_tokens, seconds, finish_reason, meta "
                f"FROM completions WHERE key IN ({','.join('?' * len(part))})",
                part,
            ).fetchall()
            for key, text, pt, ct, sec, reason, meta in rows:
                meta = {**json.loads(meta), "original_seconds": sec, "cache_key": key}
                found[key] = Completion(text, pt, ct, 0.0, cached=True, finish_reason=reason, meta=meta)
        return found

    def _store(self, items: list[tuple[str, Completion]]) -> None:
        rows = [
            (k, self.model_id, c.text, c.prompt_tokens, c.completion_tokens, c.seconds, c.finish_reason,
             json.dumps(c.meta, sort_keys=True, default=str))
            for k, c in items
        ]
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(
                "INSERT OR IGNORE INTO completions (key, model_id, text, prompt_tokens, completion_tokens, "
                "seconds, finish_reason, meta) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def complete(self, requests: Sequence[Request]) -> list[Completion]:
        """Completions in request order: cache hits marked cached, misses from the backend."""
        keys = [r.cache_key(self.model_id) for r in requests]
        with self._lock:
            found = self._lookup(sorted(set(keys)))
        todo: dict[str, Request] = {}
        for k, r in zip(keys, requests):
            if k not in found and k not in todo:
                todo[k] = r
        fresh: dict[str, Completion] = {}
        if todo:
            got = self.backend.complete(list(todo.values()))
            if len(got) != len(todo):
                raise RuntimeError(f"backend {self.model_id!r} returned {len(got)} completions for {len(todo)} requests")
            fresh = dict(zip(todo, got))
            with self._lock:
                self._store(list(fresh.items()))
        out: list[Completion] = []
        for k in keys:
            if k in fresh:
                c = fresh.pop(k)  # first occurrence is the real call; repeats below read as hits
                found[k] = Completion(c.text, c.prompt_tokens, c.completion_tokens, 0.0, True, c.finish_reason,
                                      {**c.meta, "original_seconds": c.seconds, "cache_key": k})
                out.append(replace(c, meta={**c.meta, "cache_key": k}))  # after _store: the key is not stored twice
                self.misses += 1
            else:
                out.append(found[k])
                self.hits += 1
        return out

    def close(self) -> None:
        """Close the database and the wrapped backend."""
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None
        self.backend.close()


def cache_totals(path: str | Path) -> dict:
    """What the calls stored in a cache file cost when they were made: ``llm_calls`` (one per row: a request
    is stored once), ``prompt_tokens``, ``completion_tokens`` and ``seconds``. Read-only."""
    conn = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)
    try:
        n, prompt, completion, seconds = conn.execute(
            "SELECT count(*), coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0), "
            "coalesce(sum(seconds), 0) FROM completions").fetchone()
    finally:
        conn.close()
    return {"llm_calls": int(n), "prompt_tokens": int(prompt), "completion_tokens": int(completion), "seconds": float(seconds)}


def open_backend(name: str, model: str | None = None, cache_path: str | Path | None | bool = None, **options):
    """Create backend ``name`` and wrap it in a cache (``cache_path`` None: the default file; False: no cache)."""
    from . import create_backend

    backend = create_backend(name, model=model, **options)
    if cache_path is False:
        return backend
    return CachedBackend(backend, llm_cache_path() if cache_path in (None, True) else cache_path)
