"""The benchmark matrix: a TOML config -> validated cells -> Result files, resumable and parallel.

Config keys (top level; each ``[[block]]`` may override train, test, valid, predictors, seeds,
sizes and strategy, and its cells are added to the top-level ones)::

    out = "results/msdialog"            # output folder, relative to the config file
    train = ["human", "solid", "human+solid"]
    test = ["human"]
    valid = "human"                     # optional: human | holdout | a corpus spec; default: the test
                                        # corpus's valid split (human for test = human), else holdout
    seeds = [0, 1, 2]
    sizes = [50, 100, 200]              # optional: each synthetic train spec X -> X@50, X@100, X@200
    strategy = "random"                 # sampling strategy for sizes: random | balanced | lmq-high
    store_gold = true                   # optional: false leaves the test gold labels (y_true) out of
                                        # the Result files, so they can be committed (see results.py)

    [[predictors]]
    name = "tfidf-lr"
    [[predictors]]
    name = "bert"
    params = { epochs = 3 }
    seeds = [0, 1, 2]                   # optional per-predictor seeds

``out`` belongs to the config, so it is relative to the config file. Corpus specs (train, test,
valid) are the same strings as on the command line and in every Result's cell key, so a path in
them is relative to the working directory, as everywhere (see ``solid_bench.corpora``): a Result
names its corpora in a form that ``solid-bench run --train <spec>`` reads the same way.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .errors import UserError, did_you_mean
from .runner import HOLDOUT, Cell, check_valid, default_valid

TOP_KEYS = ("out", "train", "test", "valid", "seeds", "sizes", "strategy", "predictors", "block", "name", "description", "store_gold")
BLOCK_KEYS = ("train", "test", "valid", "seeds", "sizes", "strategy", "predictors", "name")
PREDICTOR_KEYS = ("name", "params", "seeds")


@dataclass(frozen=True)
class Matrix:
    """A validated matrix: its output folder, the cells to run (stable order), and whether Results keep y_true."""

    out: Path
    cells: tuple[Cell, ...]
    name: str = "matrix"
    store_gold: bool = True


def _load_toml(path: Path) -> dict[str, Any]:
    from .inputs import load_toml

    if not path.is_file():
        raise UserError(f"{path}: no such matrix config; pass a TOML file such as leaderboards/configs/msdialog.toml.")
    return load_toml(path)


def _check_keys(obj: dict, allowed: tuple[str, ...], where: str, errors: list[str]) -> None:
    for key in obj:
        if key not in allowed:
            errors.append(f"{where}: unknown key {key!r}.{did_you_mean(key, allowed)}")


def _str_list(value: Any, key: str, errors: list[str]) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        errors.append(f"{key}: must be a non-empty list of corpus specs (strings).")
        return []
    return value


def _int_list(value: Any, key: str, errors: list[str], positive: bool = False) -> list[int]:
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        errors.append(f"{key}: must be a non-empty list of whole numbers.")
        return []
    if positive and any(v <= 0 for v in value):
        errors.append(f"{key}: sizes must be positive.")
        return []
    return value


def _seed_list(value: Any, key: str, errors: list[str]) -> list[int]:
    """Seeds: whole numbers, none negative (numpy's generators take no negative seed)."""
    seeds = _int_list(value, key, errors)
    if any(v < 0 for v in seeds):
        errors.append(f"{key}: seeds must be 0 or more, not {min(seeds)}.")
        return []
    return seeds


def _blocks(config: dict, errors: list[str]) -> list[dict]:
    """The [[block]] tables; anything else under ``block`` is one error, not a crash."""
    blocks = config.get("block", [])
    if not isinstance(blocks, list) or not all(isinstance(b, dict) for b in blocks):
        errors.append("block: each block must be a [[block]] table of keys such as train and predictors.")
        return []
    return blocks


def _check_spec(spec: str, key: str, errors: list[str]) -> None:
    from .specs import parse_spec

    try:
        parsed = parse_spec(spec)
    except UserError as e:
        errors.append(f"{key}: {e}")
        return
    errors.extend(f"{key}: {problem}" for problem in parsed.problems())


def _check_params(name: str, params: dict, where: str, errors: list[str]) -> bool:
    """Parameters checked against the predictor's __init__ signature and annotated types."""
    from .predictors import check

    problems = check(name, params)
    errors.extend(f"{where}.params: {p}" for p in problems)
    return not problems


def _predictors(value: Any, key: str, errors: list[str]) -> list[dict]:
    from .predictors import PREDICTORS

    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        errors.append(f"{key}: must list at least one predictor ([[predictors]] with a name).")
        return []
    out = []
    for i, p in enumerate(value):
        where = f"{key}[{i}]"
        if isinstance(p, str):
            p = {"name": p}
        if not isinstance(p, dict) or "name" not in p:
            errors.append(f"{where}: a predictor needs a 'name'.")
            continue
        _check_keys(p, PREDICTOR_KEYS, where, errors)
        name = p["name"]
        if not isinstance(name, str):
            errors.append(f"{where}.name: must be a predictor name (a string).")
            continue
        if name not in PREDICTORS:
            errors.append(f"{where}.name: unknown predictor {name!r}.{did_you_mean(name, PREDICTORS.names())}")
            continue
        params = p.get("params", {})
        if not isinstance(params, dict):
            errors.append(f"{where}.params: must be a table of hyperparameters.")
            continue
        if not _check_params(name, params, where, errors):
            continue
        seeds = _seed_list(p["seeds"], f"{where}.seeds", errors) if "seeds" in p else None
        out.append({"name": name, "params": params, "seeds": seeds})
    return out


def _expand(block: dict, defaults: dict, where: str, errors: list[str]) -> list[Cell]:
    merged = defaults | block
    train = _str_list(merged.get("train"), f"{where}.train", errors)
    test = _str_list(merged.get("test", ["human"]), f"{where}.test", errors)
    valid = merged.get("valid")
    if valid is not None:
        if not isinstance(valid, str):
            errors.append(f"{where}.valid: must be human, holdout or a corpus spec (a string).")
            valid = None
        else:
            try:
                check_valid(valid)
            except UserError as e:
                errors.append(f"{where}.valid: {e}")
                valid = None
    seeds = _seed_list(merged.get("seeds", [0]), f"{where}.seeds", errors)
    sizes = _int_list(merged["sizes"], f"{where}.sizes", errors, positive=True) if "sizes" in merged else None
    strategy = merged.get("strategy", "random")
    predictors = _predictors(merged.get("predictors"), f"{where}.predictors", errors)
    if sizes:
        train = [f"{spec}@{n}" + ("" if strategy == "random" else f":{strategy}") for spec in train for n in sizes]
    for spec in train:
        _check_spec(spec, f"{where}.train", errors)
    for spec in test:
        _check_spec(spec, f"{where}.test", errors)
    if valid is not None and valid != HOLDOUT:
        _check_spec(valid, f"{where}.valid", errors)
    cells = []
    for p in predictors:
        for spec in train:
            for t in test:
                for s in p["seeds"] or seeds:
                    cells.append(Cell(spec, t, p["name"], s, valid or default_valid(t), p["params"]))
    return cells


def _check_sample_sizes(cells: list[Cell], errors: list[str]) -> None:
    """Every '@N' must be a proper subset of a corpus that exists now (run folders, files, human
    corpora); named synthetic corpora are built on first use, so they are checked when sampled."""
    from .corpora import SOURCES, resolve
    from .sampling import check_size
    from .specs import parse_spec

    sizes: dict[str, int | None] = {}
    for spec in sorted({c.train for c in cells}):
        for part in parse_spec(spec).parts:
            name = part.name
            if part.size is None:
                continue
            if name not in sizes:
                if part.is_named() and SOURCES.get(part.source).synthetic:
                    sizes[name] = None
                else:
                    try:
                        sizes[name] = len(resolve(name, "train").dialogs)
                    except UserError as e:
                        errors.append(f"train: {spec!r}: {e}")
                        sizes[name] = None
            if sizes[name] is not None:
                try:
                    check_size(name, sizes[name], part.size)
                except UserError as e:
                    errors.append(f"train: {spec!r}: {e}")


def load_matrix(path: Path) -> Matrix:
    """Parse and validate a matrix config; every mistake is reported with its key before any work."""
    path = Path(path)
    config = _load_toml(path)
    errors: list[str] = []
    _check_keys(config, TOP_KEYS, "config", errors)
    if not isinstance(config.get("out"), str) or not config["out"].strip():
        errors.append("out: required, the folder for Result files (a string).")
    store_gold = config.get("store_gold", True)
    if not isinstance(store_gold, bool):
        errors.append("store_gold: must be true or false (false leaves the test gold labels out of the Result files).")
    defaults = {k: v for k, v in config.items() if k in BLOCK_KEYS}
    cells: list[Cell] = []
    blocks = _blocks(config, errors)
    if "train" in config or not blocks:
        cells += _expand({}, defaults, "config", errors)
    for i, block in enumerate(blocks):
        _check_keys(block, BLOCK_KEYS, f"block[{i}]", errors)
        cells += _expand(block, defaults, f"block[{i}]", errors)
    if not errors:
        _check_sample_sizes(cells, errors)
    if errors:
        raise UserError(f"{path}: {len(errors)} problem(s) in the matrix config: " + "; ".join(e.rstrip(".") for e in errors) + ".")
    unique: dict[str, Cell] = {}
    for c in cells:
        unique.setdefault(str(sorted(c.key().items())), c)
    out = Path(config["out"])
    if not out.is_absolute():
        out = (path.parent / out).resolve()
    return Matrix(out, tuple(unique.values()), str(config.get("name", path.stem)), store_gold)


def _run_one(cell: Cell, out: Path, threads: int | None, store_gold: bool, rerun: bool = False) -> str:
    """Worker entry (also used in-process): run a cell under a per-cell file lock; ``rerun`` replaces a stale Result."""
    import fcntl

    from .runner import run_cell

    if threads:
        os.environ["OMP_NUM_THREADS"] = str(threads)
        try:
            import torch

            torch.set_num_threads(threads)
        except ImportError:
            pass
    path = cell.path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second matrix on the same folder waits, then skips
        if path.exists() and not rerun:
            return "skipped"
        run_cell(cell, out, force=rerun, store_gold=store_gold)
    return "rerun" if rerun else "done"


def cell_status(matrix: Matrix) -> list[tuple[Cell, str]]:
    """Each cell with ``todo``, ``done`` or ``stale`` (its Result exists, but a corpus it was run on has changed since)."""
    from .results import load_result
    from .runner import stale_reason

    memo: dict = {}
    out = []
    for cell in matrix.cells:
        path = cell.path(matrix.out)
        if not path.exists():
            out.append((cell, "todo"))
        else:
            out.append((cell, "stale" if stale_reason(cell, load_result(path), memo) else "done"))
    return out


def run_matrix(matrix: Matrix, jobs: int = 1, on_cell: Callable[[Cell, str], None] = lambda c, s: None) -> dict[str, int]:
    """Run every unfinished or stale cell (``jobs`` processes); returns counts of done/rerun/skipped cells."""
    from .corpora import resolve

    counts = {"done": 0, "skipped": 0, "rerun": 0}
    todo = []
    for cell, status in cell_status(matrix):
        if status == "done":
            counts["skipped"] += 1
            on_cell(cell, "skipped")
        else:
            todo.append((cell, status == "stale"))
    # Resolve each training corpus once up front: builds default synthetic corpora sequentially.
    for spec in sorted({c.train for c, _ in todo}):
        resolve(spec, "train")
    if jobs <= 1:
        for cell, rerun in todo:
            status = _run_one(cell, matrix.out, None, matrix.store_gold, rerun)
            counts[status] += 1
            on_cell(cell, status)
        return counts
    threads = max(1, (os.cpu_count() or 1) // jobs)
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(_run_one, cell, matrix.out, threads, matrix.store_gold, rerun): cell for cell, rerun in todo}
        for fut in as_completed(futures):
            status = fut.result()
            counts[status] += 1
            on_cell(futures[fut], status)
    return counts
