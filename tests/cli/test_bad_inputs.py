"""Every verb that reads or writes files, run over generated bad inputs: exit 2, one sentence, nothing left behind.

The cases are generated: each kind of damage (bytes that are not UTF-8 at several offsets, a
byte-order mark, an empty or truncated file, wrong JSON types, a folder in place of a file) is
applied to a good file of each input kind (dialog files of every format, --seeds lists, matrix
configs, Result files) and fed to every verb that reads that kind; every verb that writes gets
read-only, file-shaped and unusable output locations; every verb gets unknown options and bad
numbers; corpus specs get empty parts, bad sizes, repeats and absurd lengths. Each case runs
through ``solid_bench.cli.main`` in-process and must return 2, print exactly one line on stderr
starting ``error: `` (naming the bad file where there is one), raise nothing, and leave the
workspace exactly as it was. A handful run through the installed ``solid-bench`` executable.
No model is loaded: every case must fail before any work starts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from dialog_files import TINY_TSV, write_tsv

from solid_bench.cli import main

BACKSTOP = "the system refused a file operation"  # cli.main's last resort: no case may need it

# --- good inputs --------------------------------------------------------------------------------


def _dialog(i: int, **over) -> dict:
    d = {"id": f"d{i}", "source": "syn", "utterances": [
        {"role": "user", "text": f"how do I fix thing {i}?", "intents": ["OQ"]},
        {"role": "agent", "text": "restart it", "intents": ["PA"]},
        {"role": "user", "text": "that worked, thanks", "intents": ["PF", "GG"]},
    ]}
    return d | over


def _jsonl(rows) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()


GOOD_JSONL = _jsonl(_dialog(i) for i in range(3))
GOOD_MSDIALOG_JSON = json.dumps({str(k): {"utterances": [
    {"utterance_pos": 1, "actor_type": "User", "utterance": "outlook will not start", "tags": "OQ"},
    {"utterance_pos": 2, "actor_type": "Agent", "utterance": "run it in safe mode", "tags": "PA"},
]} for k in (101, 102)}, indent=1).encode()
GOOD_MANTIS_JSON = json.dumps({str(k): {"has_intent_labels": True, "utterances": [
    {"utterance_pos": 1, "actor_type": "user", "utterance": "ssh hangs on login", "intent": ["OQ"]},
    {"utterance_pos": 2, "actor_type": "agent", "utterance": "check the dns setting", "intent": ["PA"]},
]} for k in (7, 8)}, indent=1).encode()
GOOD_RELEASE_JSONL = _jsonl({"generated_dialogue": [{"how do I install it?": "OQ"}, {"use the installer": "PA"}],
                             "entity_card_obj": {"entity_name": f"App{i}", "entity_type": "Software"}} for i in range(2))
GOOD_SEEDS_JSONL = _jsonl({"entity_name": n, "entity_type": "Software Product"} for n in ("Skype", "Excel"))
GOOD_SEEDS_ARRAY = json.dumps(["Python\tProgramming Language", "Excel\tSoftware Product"]).encode()
GOOD_MATRIX = b'out = "matrix-results"\ntrain = ["human"]\ntest = ["human"]\nseeds = [0]\n\n[[predictors]]\nname = "majority"\n'


def _tsv_bytes() -> bytes:
    blocks = ["\n".join("\t".join(u) for u in d) for d in TINY_TSV["train"]]
    return ("\n\n".join(blocks) + "\n").encode()


GOOD_TSV = _tsv_bytes()

#: Dialog files: name in the workspace -> good content. Every format the readers know.
DIALOG_FILES = {
    "dialogs.jsonl": GOOD_JSONL,
    "dialogs.tsv": GOOD_TSV,
    "msdialog.json": GOOD_MSDIALOG_JSON,
    "mantis.json": GOOD_MANTIS_JSON,
    "release.jsonl": GOOD_RELEASE_JSONL,
}

# --- kinds of damage ----------------------------------------------------------------------------


def _insert(data: bytes, at: int, bad: bytes) -> bytes:
    return data[:at] + bad + data[at:]


def _cut_inside_a_line(data: bytes) -> bytes:
    """``data`` cut near its middle, with text on both sides of the cut (a torn write, never whole lines)."""
    at = len(data) // 2
    while at > 1 and (data[at - 1:at] in (b"\n", b"") or data[at:at + 1] in (b"\n", b"")):
        at -= 1
    return data[:at]


def _line_start(data: bytes, k: int) -> int:
    """Offset of the k-th line (0-based) of ``data``; the middle of a file with fewer lines."""
    pos = 0
    for _ in range(k):
        nl = data.find(b"\n", pos)
        if nl < 0 or nl + 1 >= len(data):
            return len(data) // 2
        pos = nl + 1
    return pos


#: name -> bytes -> damaged bytes; the same damage for every kind of file.
BYTE_DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "ff-at-0": lambda d: _insert(d, 0, b"\xff"),
    "ff-at-1": lambda d: _insert(d, 1, b"\xff"),
    "c3-cut-mid": lambda d: _insert(d, len(d) // 2, b"\xc3"),
    "80-line2": lambda d: _insert(d, _line_start(d, 1) + 3, b"\x80"),
    "surrogate-last-line": lambda d: _insert(d, d.rstrip(b"\n").rfind(b"\n") + 2, b"\xed\xa0\x80"),
    "fe-before-eof": lambda d: _insert(d, len(d.rstrip(b"\n")), b"\xfe"),
    "latin1-word": lambda d: _insert(d, _line_start(d, 1) + 1, "caf\u00e9".encode("latin-1")),
    "bom": lambda d: b"\xef\xbb\xbf" + d,
    "empty": lambda d: b"",
    "blank": lambda d: b"  \n\n\t\n",
    "truncated": _cut_inside_a_line,
    "truncated-end": lambda d: d.rstrip(b"\n")[:-3],
    "nul-bytes": lambda d: b"\x00" * 16,
}

#: Wrong JSON shapes, per JSON kind of file.
JSONL_DAMAGE = {
    "array-line": _jsonl([[1, 2]]),
    "string-line": _jsonl(["x"]),
    "null-line": b"null\n",
    "number-line": b"5\n",
    "text-null": _jsonl([_dialog(0, utterances=[{"role": "user", "text": None, "intents": ["OQ"]}])]),
    "text-number": _jsonl([_dialog(0, utterances=[{"role": "user", "text": 5, "intents": ["OQ"]}])]),
    "intents-null": _jsonl([_dialog(0, utterances=[{"role": "user", "text": "q", "intents": None}])]),
    "intents-number": _jsonl([_dialog(0, utterances=[{"role": "user", "text": "q", "intents": 3}])]),
    "role-number": _jsonl([_dialog(0, utterances=[{"role": 1, "text": "q", "intents": ["OQ"]}])]),
    "role-bogus": _jsonl([_dialog(0, utterances=[{"role": "bot", "text": "q", "intents": ["OQ"]}])]),
    "unknown-label": _jsonl([_dialog(0, utterances=[{"role": "user", "text": "q", "intents": ["ZZ"]}])]),
    "utterances-object": _jsonl([_dialog(0, utterances={"a": 1})]),
    "utterances-empty": _jsonl([_dialog(0, utterances=[])]),
    "no-id": _jsonl([{k: v for k, v in _dialog(0).items() if k != "id"}]),
    "id-null": _jsonl([_dialog(0, id=None)]),
    "id-list": _jsonl([_dialog(0, id=[1])]),
    "source-number": _jsonl([_dialog(0, source=3)]),
    "meta-string": _jsonl([_dialog(0, meta="x")]),
    "meta-list": _jsonl([_dialog(0, meta=[1])]),
    "seed-string": _jsonl([_dialog(0, seed="x")]),
    "duplicate-ids": _jsonl([_dialog(0), _dialog(1), _dialog(0)]),
    "bad-line-3": GOOD_JSONL + b"{not json\n" + GOOD_JSONL[:10] + b"\n",
    "deep-nesting": b'{"id": "x", "utterances": ' + b"[" * 100000 + b"]" * 100000 + b"}\n",
}
TSV_DAMAGE = {
    "two-columns": b"OQ\thello\n",
    "four-columns": b"OQ\thello\tUser\textra\n",
    "bad-role": b"OQ\thello\tBot\n",
    "no-label": b"\thello\tUser\n",
    "unknown-label": b"ZZ\thello\tUser\n",
}
JSON_OBJECT_DAMAGE = {
    "array": b"[1, 2]",
    "string": b'"x"',
    "utterances-missing": b'{"1": {"x": 1}}',
    "utterances-string": b'{"1": {"utterances": "x", "tags": 1}}',
    "utterance-number": b'{"1": {"utterances": [5], "tags": 1}}',
    "duplicate-dialog-key": GOOD_MSDIALOG_JSON[:-1] + b', "101": ' + json.dumps(json.loads(GOOD_MSDIALOG_JSON)["101"]).encode() + b"}",
    "bad-actor": b'{"1": {"utterances": [{"utterance_pos": 1, "actor_type": "Bot", "utterance": "q", "tags": "OQ"}]}}',
    "no-tags": b'{"1": {"utterances": [{"utterance_pos": 1, "actor_type": "User", "utterance": "q", "tags": ""}]}}',
}
RELEASE_DAMAGE = {
    "dialogue-missing": b'{"generated_dialogue": []}\n',
    "dialogue-string": b'{"generated_dialogue": "x"}\n',
    "turn-two-keys": b'{"generated_dialogue": [{"a": "OQ", "b": "PA"}]}\n',
    "turn-no-label": b'{"generated_dialogue": [{"a": ""}]}\n',
    "card-string": b'{"generated_dialogue": [{"a": "OQ"}], "entity_card_obj": "x"}\n',
}
SEEDS_DAMAGE = {
    "empty-array": b"[]",
    "array-of-numbers": b"[1, 2]",
    "array-no-tab": b'["Python Programming Language"]',
    "array-no-name": b'["\\tType"]',
    "jsonl-no-name": _jsonl([{"entity_type": "App"}]),
    "jsonl-array-line": _jsonl([[1]]),
    "jsonl-bad-line-2": GOOD_SEEDS_JSONL[: GOOD_SEEDS_JSONL.index(b"\n") + 1] + b"{oops\n",
    "truncated-array": GOOD_SEEDS_ARRAY[:-5],
}


def _toml(body: str) -> bytes:
    return body.encode()


MATRIX_DAMAGE = {
    "block-int": _toml('out = "r"\nblock = [5]\n[[predictors]]\nname = "majority"\n'),
    "block-string": _toml('out = "r"\nblock = ["x"]\n[[predictors]]\nname = "majority"\n'),
    "block-table": _toml('out = "r"\ntrain = ["human"]\nblock = { train = ["human"] }\n[[predictors]]\nname = "majority"\n'),
    "params-C-string": _toml('out = "r"\ntrain = ["human"]\n[[predictors]]\nname = "tfidf-lr"\nparams = { C = "abc" }\n'),
    "params-unknown": _toml('out = "r"\ntrain = ["human"]\n[[predictors]]\nname = "majority"\nparams = { bogus = 1 }\n'),
    "params-bool-wrong": _toml('out = "r"\ntrain = ["human"]\n[[predictors]]\nname = "majority"\nparams = { by_role = 3 }\n'),
    "params-class-weight": _toml('out = "r"\ntrain = ["human"]\n[[predictors]]\nname = "tfidf-lr"\nparams = { class_weight = "heavy" }\n'),
    "params-not-table": _toml('out = "r"\ntrain = ["human"]\n[[predictors]]\nname = "majority"\nparams = 5\n'),
    "seeds-negative": _toml('out = "r"\ntrain = ["human"]\nseeds = [-1]\n[[predictors]]\nname = "majority"\n'),
    "seeds-string": _toml('out = "r"\ntrain = ["human"]\nseeds = ["a"]\n[[predictors]]\nname = "majority"\n'),
    "predictor-seeds-negative": _toml('out = "r"\ntrain = ["human"]\n[[predictors]]\nname = "majority"\nseeds = [-2]\n'),
    "sizes-zero": _toml('out = "r"\ntrain = ["human"]\nsizes = [0]\n[[predictors]]\nname = "majority"\n'),
    "strategy-unknown": _toml('out = "r"\ntrain = ["human"]\nsizes = [2]\nstrategy = "nope"\n[[predictors]]\nname = "majority"\n'),
    "train-number": _toml('out = "r"\ntrain = [5]\n[[predictors]]\nname = "majority"\n'),
    "train-empty-part": _toml('out = "r"\ntrain = ["human+"]\n[[predictors]]\nname = "majority"\n'),
    "train-repeat": _toml('out = "r"\ntrain = ["human+human"]\n[[predictors]]\nname = "majority"\n'),
    "train-10k": _toml('out = "r"\ntrain = ["' + "x" * 10000 + '"]\n[[predictors]]\nname = "majority"\n'),
    "train-unknown": _toml('out = "r"\ntrain = ["humna"]\n[[predictors]]\nname = "majority"\n'),
    "test-bad-size": _toml('out = "r"\ntrain = ["human"]\ntest = ["human@x"]\n[[predictors]]\nname = "majority"\n'),
    "valid-number": _toml('out = "r"\ntrain = ["human"]\nvalid = 3\n[[predictors]]\nname = "majority"\n'),
    "predictor-unknown": _toml('out = "r"\ntrain = ["human"]\n[[predictors]]\nname = "majorty"\n'),
    "predictor-name-number": _toml('out = "r"\ntrain = ["human"]\n[[predictors]]\nname = 5\n'),
    "predictors-missing": _toml('out = "r"\ntrain = ["human"]\n'),
    "out-missing": _toml('train = ["human"]\n[[predictors]]\nname = "majority"\n'),
    "out-number": _toml('out = 5\ntrain = ["human"]\n[[predictors]]\nname = "majority"\n'),
    "out-empty": _toml('out = ""\ntrain = ["human"]\n[[predictors]]\nname = "majority"\n'),
    "unknown-key": _toml('out = "r"\ntrian = ["human"]\ntrain = ["human"]\n[[predictors]]\nname = "majority"\n'),
    "store-gold-string": _toml('out = "r"\ntrain = ["human"]\nstore_gold = "no"\n[[predictors]]\nname = "majority"\n'),
    "bad-toml": _toml('out = "r\ntrain = [\n'),
    "duplicate-key": _toml('out = "r"\nout = "s"\n'),
}

#: Result files beside one good Result: what must not sink `leaderboard`.
RESULT_DAMAGE = {
    "array": b"[1, 2]",
    "no-metrics": None,  # built from the good Result in _damaged_result
    "no-cell": None,
    "metrics-string": None,
    "cell-seed-string": None,
    "y-pred-short": None,
    "y-pred-unknown-label": None,
    "newer-schema": None,
    "no-schema": None,
}


def _damaged_result(name: str, good: dict) -> bytes:
    r = json.loads(json.dumps(good))
    if name == "no-metrics":
        del r["metrics"]
    elif name == "no-cell":
        del r["cell"]
    elif name == "metrics-string":
        r["metrics"] = "good"
    elif name == "cell-seed-string":
        r["cell"]["seed"] = "0"
    elif name == "y-pred-short":
        r["predictions"]["y_pred"] = r["predictions"]["y_pred"][:-1]
    elif name == "y-pred-unknown-label":
        r["predictions"]["y_pred"][0] = "ZZ"
    elif name == "newer-schema":
        r["schema_version"] = 99
    elif name == "no-schema":
        del r["schema_version"]
    return json.dumps(r).encode()


# --- the workspace ------------------------------------------------------------------------------


@dataclass
class Workspace:
    """A tmp folder with data, inputs and a place for outputs, and a read-only folder; snapshots compare the tmp folder."""

    root: Path
    inp: Path
    out: Path
    ro: Path
    results: Path
    good_result: dict
    monkeypatch: pytest.MonkeyPatch

    def write(self, name: str, data: bytes) -> Path:
        path = self.inp / name
        path.write_bytes(data)
        return path

    def snapshot(self) -> set[str]:
        return {str(p.relative_to(self.root)) for p in self.root.rglob("*")}


def _make_read_only(folder: Path) -> Callable[[], None]:
    """Make ``folder`` refuse new entries (chmod for users, chattr +i for root); return the undo."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        undo = lambda: folder.chmod(0o755)  # noqa: E731
    else:
        subprocess.run(["chattr", "+i", str(folder)], check=True, capture_output=True)
        undo = lambda: subprocess.run(["chattr", "-i", str(folder)], check=False, capture_output=True)  # noqa: E731
    try:
        (folder / "probe").touch()
    except OSError:
        return undo
    undo()
    pytest.fail(f"could not make {folder} read-only on this machine")


@pytest.fixture(scope="module")
def good_result_dir(tmp_path_factory) -> Path:
    """One real Result (majority predictor on the tiny split), made once through the CLI."""
    root = tmp_path_factory.mktemp("good-result")
    data = root / "data"
    for split in ("train", "valid", "test"):
        write_tsv(data / "msdialog-intentpred" / f"{split}.tsv", TINY_TSV["train"])
    env = dict(os.environ, SOLID_BENCH_DATA=str(data), SOLID_BENCH_HOME=str(root / "home"))
    old = os.environ.copy()
    os.environ.update(env)
    try:
        assert main(["run", "--train", "human", "--test", "human", "--predictor", "majority", "--out", str(root / "results"), "-q"]) == 0
    finally:
        os.environ.clear()
        os.environ.update(old)
    return root / "results"


@pytest.fixture(scope="module")
def read_only_dir(tmp_path_factory) -> Path:
    """An empty folder nothing can be written in (shared: no case may change it)."""
    folder = tmp_path_factory.mktemp("read-only")
    undo = _make_read_only(folder)
    yield folder
    undo()


@pytest.fixture
def ws(tmp_path, monkeypatch, good_result_dir, read_only_dir) -> Workspace:
    data = tmp_path / "data"
    for split in ("train", "valid", "test"):
        write_tsv(data / "msdialog-intentpred" / f"{split}.tsv", TINY_TSV["train"])
    monkeypatch.setenv("SOLID_BENCH_DATA", str(data))
    monkeypatch.setenv("SOLID_BENCH_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    inp, out = tmp_path / "in", tmp_path / "out"
    for folder in (inp, out):
        folder.mkdir()
    results = tmp_path / "results"
    shutil.copytree(good_result_dir, results)
    (good,) = [json.loads(p.read_text()) for p in results.glob("*.json")]
    for name, data_ in DIALOG_FILES.items():
        (inp / name).write_bytes(data_)
    (inp / "seeds.jsonl").write_bytes(GOOD_SEEDS_JSONL)
    (inp / "matrix.toml").write_bytes(GOOD_MATRIX)
    (out / "a-file").write_text("x")
    return Workspace(tmp_path, inp, out, read_only_dir, results, good, monkeypatch)


# --- the cases ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One bad input: ``make(ws)`` writes what it needs and returns (argv, text the error must contain)."""

    id: str
    make: Callable[[Workspace], tuple[list[str], str]]


def _reading_verbs(path: Path, ws: Workspace) -> dict[str, list[str]]:
    """Every verb that reads a dialog file, with good values for everything else."""
    p = str(path)
    return {
        "data-validate": ["data", "validate", p],
        "data-stats": ["data", "stats", p],
        "data-report": ["data", "report", p],
        "data-export": ["data", "export", p, "--format", "jsonl", "--out", str(ws.out / "x.jsonl")],
        "run-train": ["run", "--train", p, "--test", "human", "-p", "majority", "--out", str(ws.out / "res")],
        "run-test": ["run", "--train", "human", "--test", p, "-p", "majority", "--out", str(ws.out / "res")],
        "run-valid": ["run", "--train", "human", "--test", "human", "--valid", p, "-p", "majority", "--out", str(ws.out / "res")],
        "train-generator": ["train-generator", "--from", p, "--out", str(ws.out / "model")],
    }


READING_VERBS = ("data-validate", "data-stats", "data-report", "data-export", "run-train", "run-test", "run-valid", "train-generator")


def dialog_file_cases() -> list[Case]:
    cases = []
    damages: dict[str, dict[str, Callable[[bytes], bytes] | bytes]] = {
        name: dict(BYTE_DAMAGE) for name in DIALOG_FILES
    }
    damages["dialogs.jsonl"] |= JSONL_DAMAGE
    damages["dialogs.tsv"] |= TSV_DAMAGE
    damages["msdialog.json"] |= JSON_OBJECT_DAMAGE
    damages["mantis.json"] |= {k: v for k, v in JSON_OBJECT_DAMAGE.items() if k not in ("bad-actor", "no-tags")}
    damages["release.jsonl"] |= RELEASE_DAMAGE
    for fname, kinds in damages.items():
        for kind, damage in kinds.items():
            for verb in READING_VERBS:
                def make(ws, fname=fname, damage=damage, verb=verb):
                    data = damage(DIALOG_FILES[fname]) if callable(damage) else damage
                    path = ws.write(f"bad-{fname}", data)
                    return _reading_verbs(path, ws)[verb], path.name
                cases.append(Case(f"{fname}-{kind}-{verb}", make))
    for verb in READING_VERBS:  # a folder where a file is named, and a file that does not exist
        def folder(ws, verb=verb):
            path = ws.inp / "folder.jsonl"
            path.mkdir()
            return _reading_verbs(path, ws)[verb], "folder.jsonl"

        def missing(ws, verb=verb):
            return _reading_verbs(ws.inp / "missing.jsonl", ws)[verb], "missing.jsonl"
        cases += [Case(f"folder-as-file-{verb}", folder), Case(f"missing-file-{verb}", missing)]
    return cases


def seeds_cases() -> list[Case]:
    cases = []
    kinds: dict[str, Callable[[bytes], bytes] | bytes] = dict(BYTE_DAMAGE) | SEEDS_DAMAGE
    for base_name, base in (("jsonl", GOOD_SEEDS_JSONL), ("array", GOOD_SEEDS_ARRAY)):
        for kind, damage in kinds.items():
            for verb in ("generate", "seeds", "seeds-exclude"):
                def make(ws, base=base, damage=damage, verb=verb, kind=kind, base_name=base_name):
                    path = ws.write(f"seeds-{base_name}-{kind}.json", damage(base) if callable(damage) else damage)
                    if verb == "generate":
                        argv = ["generate", "--seeds", str(path), "--out", str(ws.out / "run"), "--backend", "fake", "--n", "2"]
                    elif verb == "seeds":
                        argv = ["seeds", "--seeds", str(path), "--out", str(ws.out / "s" / "seeds.jsonl"), "--backend", "fake", "--n", "2"]
                    else:
                        argv = ["seeds", "--exclude-seeds", str(path), "--out", str(ws.out / "s" / "seeds.jsonl"), "--backend", "fake",
                                "--n", "2"]
                    return argv, path.name
                cases.append(Case(f"seeds-{base_name}-{kind}-{verb}", make))
    return cases


def matrix_cases() -> list[Case]:
    cases = []
    kinds: dict[str, Callable[[bytes], bytes] | bytes] = dict(BYTE_DAMAGE) | MATRIX_DAMAGE
    for kind, damage in kinds.items():
        for dry in (False, True):
            def make(ws, damage=damage, dry=dry, kind=kind):
                path = ws.write(f"matrix-{kind}.toml", damage(GOOD_MATRIX) if callable(damage) else damage)
                return ["matrix", str(path)] + (["--dry-run"] if dry else []), path.name
            cases.append(Case(f"matrix-{kind}{'-dry-run' if dry else ''}", make))

    def folder(ws):
        path = ws.inp / "cfg.toml"
        path.mkdir()
        return ["matrix", str(path)], "cfg.toml"
    return cases + [Case("matrix-folder-as-config", folder)]


def result_cases() -> list[Case]:
    cases = []
    kinds: dict[str, Callable[[bytes], bytes] | bytes | None] = dict(BYTE_DAMAGE) | RESULT_DAMAGE
    for kind, damage in kinds.items():
        for verb in ("leaderboard", "strip-gold", "upgrade"):
            def make(ws, damage=damage, verb=verb, kind=kind):
                good = json.dumps(ws.good_result).encode()
                data = damage(good) if callable(damage) else damage if damage is not None else _damaged_result(kind, ws.good_result)
                path = ws.results / f"damaged-{kind}.json"
                path.write_bytes(data)
                if verb == "leaderboard":
                    return ["leaderboard", str(ws.results), "--out", str(ws.out / "lb"), "--formats", "md,csv"], path.name
                if verb == "upgrade":
                    return ["results", "upgrade", str(ws.results)], path.name
                return ["results", "strip-gold", str(ws.results), "--out", str(ws.out / "stripped")], path.name
            cases.append(Case(f"result-{kind}-{verb}", make))

    def folder(ws):
        (ws.results / "x.json").mkdir()
        return ["leaderboard", str(ws.results), "--out", str(ws.out / "lb"), "--formats", "md"], "x.json"
    return cases + [Case("result-folder-named-x.json-leaderboard", folder)]


#: Verbs that write: argv for an output location (kind "folder" or "file" says what --out names).
def _writers(ws: Workspace) -> dict[str, tuple[str, Callable[[str], list[str]]]]:
    seeds = str(ws.inp / "seeds.jsonl")

    def matrix(out: str) -> list[str]:
        cfg = ws.inp / "out-matrix.toml"
        cfg.write_text(GOOD_MATRIX.decode().replace('"matrix-results"', json.dumps(out)))
        return ["matrix", str(cfg)]

    return {
        "generate": ("folder", lambda o: ["generate", "--out", o, "--backend", "fake", "--n", "2", "--seeds", seeds]),
        "generate-dry-run": ("folder", lambda o: ["generate", "--out", o, "--backend", "fake", "--n", "2", "--dry-run"]),
        "run": ("folder", lambda o: ["run", "--train", "human", "--test", "human", "-p", "majority", "--out", o]),
        "export-jsonl": ("file", lambda o: ["data", "export", "human", "--format", "jsonl", "--out", o]),
        "export-hf": ("folder", lambda o: ["data", "export", "human", "--format", "hf", "--out", o]),
        "leaderboard": ("folder", lambda o: ["leaderboard", str(ws.results), "--out", o, "--formats", "md"]),
        "seeds": ("file", lambda o: ["seeds", "--out", o, "--backend", "fake", "--n", "2", "--seeds", seeds]),
        "matrix": ("folder", matrix),
        "train-generator": ("folder", lambda o: ["train-generator", "--from", str(ws.inp / "dialogs.jsonl"), "--out", o]),
        "strip-gold": ("folder", lambda o: ["results", "strip-gold", str(ws.results), "--out", o]),
        "data-report": ("folder", lambda o: ["data", "report", "human", "--out", o]),
    }


def output_cases() -> list[Case]:
    cases = []
    places = {
        "read-only": lambda ws, kind: ws.ro / "x.jsonl" if kind == "file" else ws.ro,
        "under-read-only": lambda ws, kind: ws.ro / "sub" / ("x.jsonl" if kind == "file" else "res"),
        "existing-file": lambda ws, kind: ws.out / "a-file",
        "under-a-file": lambda ws, kind: ws.out / "a-file" / ("x.jsonl" if kind == "file" else "res"),
        "existing-folder": lambda ws, kind: ws.out,
        "name-too-long": lambda ws, kind: ws.out / ("n" * 300 + (".jsonl" if kind == "file" else "")),
    }
    verbs = ("generate", "generate-dry-run", "run", "export-jsonl", "export-hf", "leaderboard", "seeds", "matrix",
             "train-generator", "strip-gold", "data-report")
    for place, where in places.items():
        for verb in verbs:
            def make(ws, verb=verb, where=where):
                kind, argv = _writers(ws)[verb]
                return argv(str(where(ws, kind))), ""
            if place == "existing-folder" and verb not in ("export-jsonl", "seeds"):
                continue  # a folder is the right --out for the others
            if place == "existing-file" and verb in ("export-jsonl",):
                continue  # an existing file is replaced: that is what the user asked for
            if place == "existing-file" and verb == "seeds":
                continue  # seeds wants a .jsonl name; a-file has none (covered by its own case below)
            cases.append(Case(f"out-{place}-{verb}", make))

    def seeds_suffix(ws):
        return ["seeds", "--out", str(ws.out / "seeds.txt"), "--backend", "fake", "--n", "2"], "seeds.txt"

    def download_read_only(ws):
        ws.monkeypatch.setenv("SOLID_BENCH_DATA", str(ws.ro))
        return ["data", "download", "msdialog"], f"cannot write in {ws.ro}"
    return cases + [Case("out-seeds-not-jsonl", seeds_suffix), Case("out-download-read-only-data", download_read_only)]


SPECS = {
    "empty-part-end": "human+",
    "empty-part-start": "+human",
    "empty-part-middle": "human++solid",
    "blank": " ",
    "no-name": "@5",
    "size-zero": "human@0",
    "size-negative": "human@-3",
    "size-word": "human@x",
    "size-float": "human@2.5",
    "strategy-empty": "human@2:",
    "strategy-unknown": "human@2:nope",
    "repeat": "human+human",
    "alias-repeat": "human+msdialog",
    "repeat-1700": "+".join(["human"] * 1700),
    "human-plus-1700": "human+" * 1700,
    "10k-chars": "x" * 10000,
    "long-part": "y" * 300,
    "unknown": "humna",
    "missing-file": "nothere.jsonl",
    "missing-folder": "runs/nothere",
    "too-many-dialogs": "human@999",
}


def spec_cases() -> list[Case]:
    cases = []
    for name, spec in SPECS.items():
        for verb in ("data-stats", "data-report", "run-train", "run-test", "run-valid", "data-export", "train-generator", "matrix"):
            def make(ws, spec=spec, verb=verb):
                if verb == "matrix":
                    cfg = ws.write("spec-matrix.toml", GOOD_MATRIX.replace(b'train = ["human"]', b"train = " + json.dumps([spec]).encode()))
                    return ["matrix", str(cfg)], ""
                argv = _reading_verbs(Path(spec), ws)[verb]
                return [spec if a == str(Path(spec)) else a for a in argv], ""
            cases.append(Case(f"spec-{name}-{verb}", make))
    return cases


def usage_cases() -> list[Case]:
    """Unknown verbs and options, missing and extra arguments, bad numbers and names."""
    def o(ws):
        return str(ws.out / "o")
    table: dict[str, Callable[[Workspace], list[str]]] = {
        "unknown-verb": lambda ws: ["frobnicate"],
        "unknown-subverb": lambda ws: ["data", "frobnicate"],
        "unknown-top-option": lambda ws: ["--bogus"],
        "generate-no-options": lambda ws: ["generate"],
        "matrix-no-config": lambda ws: ["matrix"],
        "leaderboard-no-out": lambda ws: ["leaderboard", str(ws.results)],
        "train-generator-no-from": lambda ws: ["train-generator", "--out", o(ws)],
        "export-no-format": lambda ws: ["data", "export", "human", "--out", o(ws)],
        "run-extra-argument": lambda ws: ["run", "extra"],
        "run-option-without-value": lambda ws: ["run", "--seed"],
        "run-bogus": lambda ws: ["run", "--bogus"],
        "run-seed-word": lambda ws: ["run", "--seed", "x", "--out", o(ws)],
        "run-seed-negative": lambda ws: ["run", "--seed", "-1", "-p", "majority", "--out", o(ws)],
        "run-seed-float": lambda ws: ["run", "--seed", "1.5", "--out", o(ws)],
        "run-predictor-unknown": lambda ws: ["run", "-p", "majorty", "--out", o(ws)],
        "run-param-no-equals": lambda ws: ["run", "-p", "majority", "--param", "by_role", "--out", o(ws)],
        "run-param-unknown": lambda ws: ["run", "-p", "majority", "--param", "bogus=1", "--out", o(ws)],
        "run-param-wrong-type": lambda ws: ["run", "-p", "majority", "--param", "by_role=3", "--out", o(ws)],
        "run-param-C-word": lambda ws: ["run", "-p", "tfidf-lr", "--param", "C=abc", "--out", o(ws)],
        "run-param-class-weight": lambda ws: ["run", "-p", "tfidf-lr", "--param", "class_weight=heavy", "--out", o(ws)],
        "generate-n-zero": lambda ws: ["generate", "--out", o(ws), "--backend", "fake", "--n", "0"],
        "generate-n-negative": lambda ws: ["generate", "--out", o(ws), "--backend", "fake", "--n", "-3"],
        "generate-n-word": lambda ws: ["generate", "--out", o(ws), "--backend", "fake", "--n", "many"],
        "generate-batch-zero": lambda ws: ["generate", "--out", o(ws), "--backend", "fake", "--batch-size", "0"],
        "generate-seed-negative": lambda ws: ["generate", "--out", o(ws), "--backend", "fake", "--seed", "-1"],
        "generate-max-turns-zero": lambda ws: ["generate", "--out", o(ws), "--backend", "fake", "--max-turns", "0"],
        "generate-budget-zero": lambda ws: ["generate", "--out", o(ws), "--backend", "fake", "--budget-tokens", "0"],
        "generate-retries-negative": lambda ws: ["generate", "--out", o(ws), "--backend", "fake", "--retries", "-1"],
        "generate-max-new-tokens-zero": lambda ws: ["generate", "--out", o(ws), "--backend", "fake", "--max-new-tokens", "0"],
        "generate-min-count-zero": lambda ws: ["generate", "--out", o(ws), "--backend", "fake", "--min-count", "0"],
        "generate-method-unknown": lambda ws: ["generate", "--out", o(ws), "--backend", "fake", "--method", "sold"],
        "generate-backend-unknown": lambda ws: ["generate", "--out", o(ws), "--backend", "fakes"],
        "generate-option-no-equals": lambda ws: ["generate", "--out", o(ws), "--backend", "fake", "-o", "novalue"],
        "seeds-n-zero": lambda ws: ["seeds", "--out", str(ws.out / "s.jsonl"), "--backend", "fake", "--n", "0"],
        "seeds-seed-negative": lambda ws: ["seeds", "--out", str(ws.out / "s.jsonl"), "--backend", "fake", "--seed", "-4"],
        "matrix-jobs-zero": lambda ws: ["matrix", str(ws.inp / "matrix.toml"), "--jobs", "0"],
        "matrix-jobs-word": lambda ws: ["matrix", str(ws.inp / "matrix.toml"), "--jobs", "two"],
        "matrix-missing-config": lambda ws: ["matrix", str(ws.inp / "nothere.toml")],
        "leaderboard-bootstrap-zero": lambda ws: ["leaderboard", str(ws.results), "--out", o(ws), "--bootstrap", "0"],
        "leaderboard-permutations-negative": lambda ws: ["leaderboard", str(ws.results), "--out", o(ws), "--permutations", "-5"],
        "leaderboard-price-negative": lambda ws: ["leaderboard", str(ws.results), "--out", o(ws), "--price-per-gpu-hour", "-1"],
        "leaderboard-formats-unknown": lambda ws: ["leaderboard", str(ws.results), "--out", o(ws), "--formats", "md,docx"],
        "leaderboard-formats-empty": lambda ws: ["leaderboard", str(ws.results), "--out", o(ws), "--formats", ","],
        "leaderboard-on-bad-unknown": lambda ws: ["leaderboard", str(ws.results), "--out", o(ws), "--on-bad-result", "ignore"],
        "leaderboard-missing-results": lambda ws: ["leaderboard", str(ws.inp / "nothere"), "--out", o(ws)],
        "leaderboard-empty-results": lambda ws: ["leaderboard", str(ws.out), "--out", o(ws)],
        "leaderboard-out-inside-results": lambda ws: ["leaderboard", str(ws.results), "--out", str(ws.results / "lb")],
        "train-generator-epochs-zero": lambda ws: ["train-generator", "--from", str(ws.inp / "dialogs.jsonl"), "--out", o(ws), "--epochs", "0"],
        "train-generator-lr-negative": lambda ws: ["train-generator", "--from", str(ws.inp / "dialogs.jsonl"), "--out", o(ws), "--lr", "-1"],
        "train-generator-valid-fraction": lambda ws: ["train-generator", "--from", str(ws.inp / "dialogs.jsonl"), "--out", o(ws), "--valid-fraction", "1.5"],
        "train-generator-lmq-threshold": lambda ws: ["train-generator", "--from", str(ws.inp / "dialogs.jsonl"), "--out", o(ws), "--lmq-threshold", "2"],
        "train-generator-seed-negative": lambda ws: ["train-generator", "--from", str(ws.inp / "dialogs.jsonl"), "--out", o(ws), "--seed", "-1"],
        "train-generator-save-steps-zero": lambda ws: ["train-generator", "--from", str(ws.inp / "dialogs.jsonl"), "--out", o(ws), "--save-steps", "0"],
        "train-generator-batch-word": lambda ws: ["train-generator", "--from", str(ws.inp / "dialogs.jsonl"), "--out", o(ws), "--batch-size", "x"],
        "stats-split-unknown": lambda ws: ["data", "stats", "human", "--split", "dev"],
        "export-format-unknown": lambda ws: ["data", "export", "human", "--format", "csv", "--out", o(ws)],
        "export-split-unknown": lambda ws: ["data", "export", "human", "--format", "jsonl", "--split", "dev", "--out", str(ws.out / "x.jsonl")],
        "validate-format-unknown": lambda ws: ["data", "validate", str(ws.inp / "dialogs.jsonl"), "--format", "csv"],
        "validate-format-wrong": lambda ws: ["data", "validate", str(ws.inp / "dialogs.tsv"), "--format", "solid-bench-jsonl"],
        "download-unknown": lambda ws: ["data", "download", "mantis"],
        "strip-gold-missing": lambda ws: ["results", "strip-gold", str(ws.inp / "nothere")],
        "upgrade-missing": lambda ws: ["results", "upgrade", str(ws.inp / "nothere")],
        "run-valid-auto": lambda ws: ["run", "-p", "majority", "--valid", "auto", "--out", o(ws)],
        "run-valid-empty": lambda ws: ["run", "-p", "majority", "--valid", "", "--out", o(ws)],
        "report-out-file": lambda ws: ["data", "report", "human", "--out", str(ws.out / "a-file")],
    }
    return [Case(f"usage-{name}", lambda ws, f=f: (f(ws), "")) for name, f in table.items()]


CASES = dialog_file_cases() + seeds_cases() + matrix_cases() + result_cases() + output_cases() + spec_cases() + usage_cases()


def check_one_sentence(code: int, err: str, must_name: str) -> str:
    assert "Traceback" not in err, err
    lines = err.strip().splitlines()
    assert code == 2, (code, err)
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert BACKSTOP not in lines[0], f"caught only by cli.main's backstop, not up front: {lines[0]}"
    if must_name:
        assert must_name in lines[0], f"the message does not name {must_name!r}: {lines[0]}"
    return lines[0]


def test_the_suite_is_large_and_covers_every_verb():
    assert len(CASES) == len({c.id for c in CASES}) >= 700, len(CASES)
    verbs = {c.id.rsplit("-", 1)[-1] for c in CASES}
    for verb in ("validate", "stats", "export", "train", "test", "valid", "generator", "generate", "seeds", "leaderboard",
                 "gold", "matrix", "run"):
        assert verb in verbs or any(verb in c.id for c in CASES), verb


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case, ws: Workspace, capsys):
    argv, must_name = case.make(ws)
    capsys.readouterr()
    before = ws.snapshot()
    code = main(argv)
    out, err = capsys.readouterr()
    check_one_sentence(code, err, must_name)
    assert ws.snapshot() == before, f"left behind: {sorted(ws.snapshot() ^ before)}"


# --- the same through the installed executable --------------------------------------------------

EXECUTABLE_CASES = ("dialogs.jsonl-c3-cut-mid-data-validate", "dialogs.tsv-80-line2-run-train", "usage-unknown-verb",
                    "usage-run-seed-word", "matrix-block-int", "result-truncated-leaderboard", "out-existing-folder-export-jsonl",
                    "out-read-only-generate", "spec-10k-chars-data-stats", "seeds-jsonl-bom-generate")


@pytest.mark.parametrize("case_id", EXECUTABLE_CASES)
def test_bad_input_through_the_executable(case_id: str, ws: Workspace):
    (case,) = [c for c in CASES if c.id == case_id]
    argv, must_name = case.make(ws)
    before = ws.snapshot()
    exe = Path(sys.executable).parent / "solid-bench"
    proc = subprocess.run([str(exe), *argv], capture_output=True, text=True, timeout=120, env=os.environ.copy())
    check_one_sentence(proc.returncode, proc.stderr, must_name)
    assert proc.stdout == ""
    assert ws.snapshot() == before, f"left behind: {sorted(ws.snapshot() ^ before)}"
