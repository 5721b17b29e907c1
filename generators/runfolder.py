"""The run folder of a generation: append-only JSONL files, an atomic manifest, resume and budget.

Layout::

    dialogs.jsonl     accepted dialogs, one per line (appended, flushed and fsync'd per batch)
    rejected.jsonl    rejected plans with their reasons (same)
    costs.jsonl       one line per backend call batch: stage, calls, tokens, seconds, and the answers
                      it paid for (the cost ledger; flushed per call, so a killed process loses
                      none of it; see ``Meter``)
    seeds.jsonl, entity_types.json, entities.jsonl, attributes.json, backgrounds.jsonl  (seeding)
    instructions.json merged multi-intent instructions
    manifest.json     config, model, prompt hashes, counts by reason, cost totals per stage

A rerun skips plan ids already in dialogs.jsonl or rejected.jsonl. A torn last line (a kill in
the middle of a write) is detected and cut off before anything is appended. Opening a folder
streams its files: memory holds the done plan ids and running counts, not the dialogs.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from solid_bench.errors import UserError
from solid_bench.outputs import write_json_atomic

MANIFEST_VERSION = 1
COST_KEYS = ("llm_calls", "cached_calls", "prompt_tokens", "completion_tokens", "seconds")
#: What a ledger line and a stage total add up: the cost, the tokens the backend computed in this
#: folder (``spent_tokens``, the budget's measure) and the answers replayed from its own cache.
LEDGER_KEYS = (*COST_KEYS, "spent_tokens", "replayed_calls")
#: Hex digits of the answer-cache key a ledger line keeps per paid answer (8 bytes: two keys of
#: a million-call folder share a prefix with probability about 3e-8).
PAID_KEY_HEX = 16


def iter_jsonl(path: Path, repair: bool = True) -> Iterator[dict]:
    """The records of a JSONL file, streamed line by line (memory does not grow with the file).

    A torn or unparsable LAST line (a kill in the middle of a write) ends the records and, when
    ``repair``, is truncated away once the iteration is done; a bad line in the middle is a
    UserError naming it."""
    path = Path(path)
    if not path.is_file():
        return
    good_end = torn = 0
    with open(path, "rb") as fh:
        for lineno, line in enumerate(fh, 1):
            try:
                if not line.endswith(b"\n"):
                    raise ValueError("no newline: torn write")
                record = json.loads(line) if line.strip() else None
            except ValueError:
                if fh.read(1):
                    raise UserError(f"{path}: line {lineno} is not valid JSON; the file is damaged "
                                    "in the middle, so fix or delete that line.") from None
                torn = 1
                break
            good_end += len(line)
            if record is not None:
                yield record
    if torn and repair:
        with open(path, "r+b") as fh:
            fh.truncate(good_end)
            fh.flush()
            os.fsync(fh.fileno())


def read_jsonl(path: Path, repair: bool = True) -> list[dict]:
    """All records of a JSONL file as a list (small files; see ``iter_jsonl`` for large ones)."""
    return list(iter_jsonl(path, repair))


def iter_outcomes(folder: Path) -> Iterator[tuple[str, dict]]:
    """(plan id, record) of every accepted dialog, then every rejected plan, of a run folder (streamed)."""
    for d in iter_jsonl(Path(folder) / "dialogs.jsonl", repair=False):
        yield d["meta"]["plan_id"], d
    for r in iter_jsonl(Path(folder) / "rejected.jsonl", repair=False):
        yield r["plan_id"], r


def generated_part(record: dict) -> dict:
    """An outcome record (dialog or rejection) without what was measured rather than generated (its
    ``cost`` and ``cost_retries``: seconds, cache hits), so that two runs of the same plans compare
    equal exactly when they wrote the same dialogs."""
    out = {k: v for k, v in record.items() if k not in ("cost", "cost_retries")}
    if isinstance(out.get("meta"), dict):
        out["meta"] = {k: v for k, v in out["meta"].items() if k not in ("cost", "cost_retries")}
    return out


def append_jsonl(path: Path, records: Iterable[dict], durable: bool = True) -> int:
    """Append records (one JSON line each) and flush; fsync too when ``durable`` (a kill never loses
    flushed lines; fsync guards against a crash of the machine). Returns how many were written."""
    lines = [json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in records]
    if not lines:
        return 0
    with open(path, "a", encoding="utf-8") as fh:
        fh.write("".join(lines))
        fh.flush()
        if durable:
            os.fsync(fh.fileno())
    return len(lines)


def empty_cost() -> dict[str, float]:
    """A zero cost record with every key of COST_KEYS."""
    return {k: 0 for k in COST_KEYS}


def add_completions(cost: dict, completions: Sequence) -> dict:
    """Add the metered cost of ``completions`` into ``cost`` (in place) and return it.

    A cache hit costs what the call that produced it cost (its ``original_seconds``), so a
    dialog's own cost is the same whether its answers came from the backend or the cache. The
    run's ledger (``Meter``) counts a hit at that cost only when the folder has not paid for the
    answer yet."""
    for c in completions:
        cached = bool(c.cached)
        cost["llm_calls"] += 1
        cost["cached_calls"] += int(cached)
        cost["prompt_tokens"] += int(c.prompt_tokens)
        cost["completion_tokens"] += int(c.completion_tokens)
        cost["seconds"] += float((c.meta or {}).get("original_seconds", c.seconds) if cached else c.seconds)
    return cost


def paid_key(completion) -> str | None:
    """The first PAID_KEY_HEX hex digits of a completion's answer-cache key; None when no cache
    answered it (``CachedBackend`` sets ``meta["cache_key"]`` on hits and misses alike)."""
    key = (completion.meta or {}).get("cache_key")
    return key[:PAID_KEY_HEX] if key else None


class PaidKeys:
    """A set of 8-byte keys in compact form: packed into 4,096 byte strings by their first 12
    bits. 8 bytes a key (a Python set of ints takes about 90: 33 MB for the 375,000 calls of a
    100,000-plan run, against 3.3 MB here), no rehash spikes; a lookup scans one string (92 keys
    at that size; 3.6 CPU µs a lookup on the shared 2-core machine). ``add`` does not look for
    the key first: a key added twice takes 16 bytes and is still found."""

    def __init__(self) -> None:
        self._buckets: list[bytearray | None] = [None] * 4096

    def add(self, key: bytes) -> None:
        """Add an 8-byte key."""
        slot = key[0] << 4 | key[1] >> 4
        bucket = self._buckets[slot]
        if bucket is None:
            bucket = self._buckets[slot] = bytearray()
        bucket += key

    def __contains__(self, key: bytes) -> bool:
        bucket = self._buckets[key[0] << 4 | key[1] >> 4]
        if bucket is None:
            return False
        at = bucket.find(key)
        while at >= 0:  # a match must start on a key boundary
            if not at & 7:
                return True
            at = bucket.find(key, at + 1)
        return False

    def nbytes(self) -> int:
        """Bytes of keys held (what memory grows by, beside 4,096 small byte strings)."""
        return sum(len(b) for b in self._buckets if b is not None)


class Meter:
    """Cost totals per stage, backed by the run folder's ``costs.jsonl`` ledger (survives kills).

    The ledger counts each answer once per folder. A line lists the answers it paid for
    (``paid``: the first 16 hex digits of each answer's cache key, when a cache answered). A
    cache hit on an answer the ledger already paid for (a resume re-asking the calls whose
    outcomes a kill lost, or a request repeated within the run) is a replay: it adds to
    ``replayed_calls`` and nothing else (no calls, tokens or seconds). A hit the ledger has not
    paid for (a copied or shared cache, a line lost in a kill) counts once at its original cost,
    as ``cached_calls`` too, and is paid from then on. A miss always counts: the backend computed
    it. Lines written before ``paid`` existed count as they are."""

    def __init__(self, ledger: Path | None = None):
        self.ledger = Path(ledger) if ledger else None
        self.stages: dict[str, dict] = {}
        self.paid = PaidKeys()
        for rec in iter_jsonl(self.ledger) if self.ledger else ():
            self._add(rec["stage"], rec)
            for key in rec.get("paid", ()):
                self.paid.add(bytes.fromhex(key))

    def _add(self, stage: str, rec: dict) -> None:
        tot = self.stages.setdefault(stage, dict.fromkeys(LEDGER_KEYS, 0))
        for k in LEDGER_KEYS:
            tot[k] += rec.get(k, 0)

    def add(self, stage: str, completions: Sequence) -> dict:
        """Record one backend call batch of ``stage``; returns its ledger line."""
        counted, paid, replayed = [], [], 0
        for c in completions:
            key = paid_key(c)
            if key is not None:
                packed = bytes.fromhex(key)
                if c.cached and packed in self.paid:
                    replayed += 1
                    continue
                self.paid.add(packed)
                paid.append(key)
            counted.append(c)
        rec = add_completions(empty_cost(), counted)
        rec["spent_tokens"] = sum(c.prompt_tokens + c.completion_tokens for c in completions if not c.cached)
        rec["replayed_calls"] = replayed
        self._add(stage, rec)
        if paid:
            rec["paid"] = paid
        if self.ledger:  # one line per backend call: flushed, not fsync'd (a fsync each step stalls the batch)
            append_jsonl(self.ledger, [{"stage": stage, **rec}], durable=False)
        return rec

    @property
    def spent_tokens(self) -> int:
        """Prompt + completion tokens actually computed (cache hits excluded), all stages, all sessions."""
        return int(sum(s["spent_tokens"] for s in self.stages.values()))

    def totals(self) -> dict[str, dict]:
        """Per-stage totals (LEDGER_KEYS) plus an ``all`` row."""
        out = {k: dict(v) for k, v in sorted(self.stages.items())}
        out["all"] = {k: sum(v[k] for v in out.values()) for k in LEDGER_KEYS}
        return out


class PlanIds:
    """A set of plan ids in compact form: an id ending in up to 7 digits ("plan-000042") is one bit
    in a bitmap per (prefix, digit count), any other id is kept as a string. 10^5 numbered plans
    take 12.5 kB instead of about 10 MB of strings."""

    _NUMBERED = re.compile(r"(.*?)(\d{1,7})")

    def __init__(self) -> None:
        self._bits: dict[tuple[str, int], bytearray] = {}
        self._other: set[str] = set()
        self._n = 0

    def _slot(self, plan_id: str) -> tuple[tuple[str, int], int] | None:
        m = self._NUMBERED.fullmatch(plan_id)
        return ((m.group(1), len(m.group(2))), int(m.group(2))) if m else None

    def add(self, plan_id: str) -> None:
        """Add ``plan_id`` (adding it twice is a no-op)."""
        slot = self._slot(plan_id)
        if slot is None:
            self._n += plan_id not in self._other
            self._other.add(plan_id)
            return
        key, i = slot
        bits = self._bits.setdefault(key, bytearray())
        if len(bits) <= i >> 3:
            bits.extend(bytes((i >> 3) + 1 - len(bits)))
        if not bits[i >> 3] & (1 << (i & 7)):
            bits[i >> 3] |= 1 << (i & 7)
            self._n += 1

    def __contains__(self, plan_id: str) -> bool:
        slot = self._slot(plan_id)
        if slot is None:
            return plan_id in self._other
        (_, i), bits = slot, self._bits.get(slot[0])
        return bits is not None and len(bits) > i >> 3 and bool(bits[i >> 3] & (1 << (i & 7)))

    def __len__(self) -> int:
        return self._n

    def __iter__(self) -> Iterator[str]:
        for (prefix, width), bits in self._bits.items():
            for byte_index, byte in enumerate(bits):
                for bit in range(8) if byte else ():
                    if byte & (1 << bit):
                        yield f"{prefix}{byte_index * 8 + bit:0{width}d}"
        yield from self._other


class Tally:
    """Running counts of a run folder's outcomes: what the manifest reports, kept in O(1) memory
    per reason (the dialogs themselves stay on disk)."""

    def __init__(self) -> None:
        self.accepted = self.rejected = self.turns = self.retried = 0
        self.reasons: Counter = Counter()

    def dialog(self, d: dict) -> None:
        """Count one accepted dialog record."""
        self.accepted += 1
        self.turns += len(d.get("utterances", ()))
        self.retried += d.get("meta", {}).get("retries", 0)

    def rejection(self, r: dict) -> None:
        """Count one rejected plan record."""
        self.rejected += 1
        self.reasons[r.get("reason", "unknown")] += 1

    def counts(self) -> dict[str, Any]:
        """Accepted, rejected, rejections by reason, mean turns of accepted dialogs, retried utterances."""
        return {
            "accepted": self.accepted,
            "rejected": self.rejected,
            "rejected_by_reason": dict(sorted(self.reasons.items())),
            "mean_turns": self.turns / self.accepted if self.accepted else 0.0,
            "retried_utterances": self.retried,
        }


class RunFolder:
    """A generation run folder; opening it repairs torn lines and reads (streaming) what is done.

    Memory holds the done plan ids (compactly, ``PlanIds``) and running counts, never the
    dialogs, so it stays flat in the number of dialogs written."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.dialogs_path = self.path / "dialogs.jsonl"
        self.rejected_path = self.path / "rejected.jsonl"
        self.manifest_path = self.path / "manifest.json"
        self.meter = Meter(self.path / "costs.jsonl")
        self.tally = Tally()
        self._done = PlanIds()
        for d in iter_jsonl(self.dialogs_path):
            self._note(d.get("meta", {}).get("plan_id"))
            self.tally.dialog(d)
        for r in iter_jsonl(self.rejected_path):
            self._note(r.get("plan_id"))
            self.tally.rejection(r)

    def _note(self, plan_id: str | None) -> None:
        if plan_id is not None:
            self._done.add(plan_id)

    def done_plan_ids(self) -> set[str]:
        """Plan ids already written, accepted or rejected."""
        return set(self._done)

    def is_done(self, plan_id: str) -> bool:
        """True when ``plan_id`` is already written (accepted or rejected)."""
        return plan_id in self._done

    @property
    def n_accepted(self) -> int:
        """Dialogs written so far."""
        return self.tally.accepted

    @property
    def n_rejected(self) -> int:
        """Rejected plans written so far."""
        return self.tally.rejected

    def append(self, dialogs: Sequence[dict], rejected: Sequence[dict]) -> None:
        """Append one batch's outcomes durably (dialogs first, then rejections)."""
        append_jsonl(self.dialogs_path, dialogs)
        append_jsonl(self.rejected_path, rejected)
        for d in dialogs:
            self._note(d.get("meta", {}).get("plan_id"))
            self.tally.dialog(d)
        for r in rejected:
            self._note(r.get("plan_id"))
            self.tally.rejection(r)

    def counts(self) -> dict[str, Any]:
        """Accepted, rejected, rejections by reason, mean turns of accepted dialogs."""
        return self.tally.counts()

    def read_manifest(self) -> dict | None:
        """The manifest, or None before the first one is written."""
        if not self.manifest_path.is_file():
            return None
        return json.loads(self.manifest_path.read_text(encoding="utf-8"))

    def check_config(self, identity: dict) -> None:
        """A rerun must use the same settings as the run it resumes (n and the budget may change)."""
        old = self.read_manifest()
        if not old:
            return
        before = old.get("identity", {})
        diff = sorted(k for k in set(before) | set(identity) if before.get(k) != identity.get(k))
        if diff:
            raise UserError(
                f"{self.path} was generated with other settings ({', '.join(f'{k}={before.get(k)!r}' for k in diff)}); "
                "rerun with the same settings to resume, or choose a new --out folder."
            )

    def write_manifest(self, *, identity: dict, config: dict, model: str, status: str, extra: dict | None = None) -> dict:
        """Write manifest.json atomically from the files' current state and the cost ledger."""
        from .prompts import template_hashes

        manifest = {
            "manifest_version": MANIFEST_VERSION,
            "status": status,
            "identity": identity,
            "config": config,
            "model": model,
            "prompt_hashes": template_hashes(),
            "counts": self.counts(),
            "cost": self.meter.totals(),
            **(extra or {}),
        }
        write_json_atomic(self.manifest_path, manifest)
        return manifest
