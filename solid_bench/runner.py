"""Run one (train, valid, test, predictor, seed) cell end to end and write its Result JSON.

The order is fixed and the same for every predictor: fit on train (the predictor may use the
validation examples for early stopping), tune the decision threshold on validation
predictions, then predict the test split once and score it. The test split is never used for
any choice.

The validation data is a choice of the cell (``valid``), recorded in every Result:

* ``human``: the valid split of the human corpus (MSDialog-IntentPred), for every training set,
  so rows that differ in their training data differ in nothing else (the default when testing on
  human data);
* ``holdout``: 10% of the training dialogs held out by dialog (seeded by the cell's seed);
* any other corpus spec: its valid split (a named corpus) or all of its dialogs (a file).
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable

from .corpora import Corpus, resolve
from .errors import UserError
from .results import SCHEMA_VERSION, config_hash, environment, label_strings, result_path, write_result
from .schema import MSDIALOG

HUMAN_VALID = "human"
HOLDOUT = "holdout"
HELD_OUT_SHARE = 0.10


@dataclass(frozen=True)
class Cell:
    """What identifies one result: corpora specs, predictor with parameters, and seed."""

    train: str
    test: str
    predictor: str = "tfidf-lr"
    seed: int = 0
    valid: str = HUMAN_VALID
    params: dict = field(default_factory=dict, hash=False)

    def key(self) -> dict[str, Any]:
        return {
            "train": self.train,
            "valid": self.valid,
            "test": self.test,
            "predictor": self.predictor,
            "params": dict(sorted(self.params.items())),
            "seed": self.seed,
        }

    def path(self, out_dir: Path) -> Path:
        return result_path(out_dir, self.key())


def default_valid(test: str) -> str:
    """The validation choice when none is given: the test corpus's own valid split when it is a
    named corpus with splits (``human`` for MSDialog), else ``holdout``."""
    from .corpora import ALIASES
    from .specs import parse_spec

    try:
        parts = parse_spec(test).parts
    except UserError:
        return HOLDOUT  # the test spec's own problem is reported where it is checked
    if len(parts) == 1 and parts[0].is_human_source():
        return {v: k for k, v in ALIASES.items()}.get(parts[0].name, parts[0].name)  # msdialog -> human
    return HOLDOUT


def check_valid(valid: str) -> None:
    """Refuse the retired ``auto`` and empty choices with one sentence."""
    if not valid or not valid.strip():
        raise UserError("--valid is empty; use human, holdout or a corpus spec.")
    if valid == "auto":
        raise UserError("--valid auto is no longer a choice: tuning data must be explicit; use --valid human (the human "
                        "valid split for every row) or --valid holdout (10% of the training dialogs).")


def split_validation(train: Corpus, valid_spec: str, seed: int) -> tuple[Corpus, Corpus, str]:
    """Return (train, valid, how): 10% of the training dialogs held out by dialog (``holdout``),
    or the named validation corpus's valid split (``human`` or any corpus spec)."""
    import numpy as np

    check_valid(valid_spec)
    if valid_spec != HOLDOUT:
        how = "human valid split of msdialog" if valid_spec == HUMAN_VALID else f"given: {valid_spec}"
        return train, resolve(valid_spec, "valid", train.labels), how
    n = len(train.dialogs)
    if n < 2:
        raise UserError(f"Training corpus {train.spec!r} has {n} dialog(s); at least 2 are needed to hold out validation data.")
    rng = np.random.default_rng(seed)
    order = rng.permutation(n)
    n_valid = max(1, int(round(HELD_OUT_SHARE * n)))
    held = set(order[:n_valid].tolist())
    keep = tuple(d for i, d in enumerate(train.dialogs) if i not in held)
    valid = tuple(d for i, d in enumerate(train.dialogs) if i in held)
    prov = {"held_out_from": train.sha256, "share": HELD_OUT_SHARE, "seed": seed}
    return (
        Corpus(train.spec, "train", keep, train.labels, train.synthetic, train.has_human, dict(train.provenance) | {"held_out": prov}),
        Corpus(f"{train.spec}[held-out]", "valid", valid, train.labels, train.synthetic, train.has_human, prov),
        f"{HELD_OUT_SHARE:.0%} of training dialogs held out by dialog (seed {seed})",
    )


def check_cell(cell: Cell) -> None:
    """The cell's seed and corpus specs checked before anything is loaded (a UserError for the first problem)."""
    from .specs import parse_spec

    if cell.seed < 0:
        raise UserError(f"Seed {cell.seed} is negative; use a seed of 0 or more.")
    for spec in (cell.train, cell.test, *(() if cell.valid == HOLDOUT else (cell.valid,))):
        parse_spec(spec).check()


def split_no_answer(proba):
    """(probabilities with NaN rows zeroed, mask of NaN rows): a NaN row means the predictor gave no answer."""
    import numpy as np

    proba = np.asarray(proba, dtype=np.float64)
    mask = np.isnan(proba).any(axis=1)
    return np.where(np.isnan(proba), 0.0, proba), mask


def _schema1_match(result: dict[str, Any], part: str, spec: str, corpus: Corpus, old: str) -> bool:
    """A Result upgraded from schema 1 keeps a held-out validation corpus's sha256 as schema 1 computed it
    (with the load-time cost share in each dialog's meta; the upgrade rewrote only the training corpus's)."""
    if part != "valid" or not (result.get("upgraded") or {}).get("from_schema_version") == 1:
        return False
    from .upgrade import schema1_sha256

    return schema1_sha256(result["cell"]["train"], corpus.dialogs) == old


def _made(spec: str) -> bool:
    """False when ``spec`` names a generated corpus (``solid``, ``solid-rl``) that is not made yet."""
    from .corpora import SOURCES
    from .specs import parse_spec

    if spec == HOLDOUT:
        return True
    for part in parse_spec(spec).parts:
        if part.is_named() and SOURCES.get(part.source).synthetic and SOURCES.get(part.source)().available() is not True:
            return False
    return True


def stale_reason(cell: Cell, result: dict[str, Any], memo: dict | None = None) -> str | None:
    """Why an existing Result no longer answers its cell, or None when it does.

    A Result records the sha256 of its train, valid and test corpora. When a corpus has changed
    since (a run folder grown or regenerated: ``@N`` samples of it change too), the Result
    describes data that is gone, and the cell must run again. ``memo`` shares loaded corpora
    between calls (keyed by spec and split)."""
    memo = {} if memo is None else memo
    if any(not _made(spec) for spec in (cell.train, cell.valid, cell.test)):
        return None  # a named corpus made on first use is not here: never generate it just to check

    def load(spec: str, split: str, labels=None, sample_seed: int = 0) -> Corpus:
        key = (spec, split, sample_seed if "@" in spec else 0)
        if key not in memo:
            memo[key] = resolve(spec, split, labels if labels is not None else MSDIALOG, sample_seed=sample_seed)
        return memo[key]

    recorded = result.get("corpora") or {}
    train = load(cell.train, "train", sample_seed=cell.seed)
    if cell.valid == HOLDOUT:
        train, valid, _ = split_validation(train, cell.valid, cell.seed)
    else:
        valid = load(cell.valid, "valid", train.labels)
    now = {"train": (cell.train, train), "valid": (cell.valid, valid), "test": (cell.test, load(cell.test, "test", train.labels))}
    for part, (spec, corpus) in now.items():
        old = (recorded.get(part) or {}).get("sha256")
        if old is not None and old != corpus.sha256 and not _schema1_match(result, part, spec, corpus, old):
            return f"its {part} corpus {spec!r} has changed since it ran (sha256 {old[:12]} then, {corpus.sha256[:12]} now)"
    return None


def run_cell(
    cell: Cell, out_dir: Path, force: bool = False, log: Callable[[str], None] = lambda s: None, store_gold: bool = True
) -> dict[str, Any]:
    """Train, tune, predict and score one cell; write and return its Result (skip if it exists).

    With ``store_gold=False`` the written file leaves out the test gold labels (``y_true``) and
    records the test corpus instead (see ``solid_bench.gold``); the returned Result keeps them.
    """
    from .decision import Thresholds, apply, tune_threshold
    from .examples import Examples
    from .metrics import score
    from .paths import portable
    from .predictors import create
    from .results import load_result
    from .stats import bootstrap_ci

    path = cell.path(out_dir)
    if path.exists() and not force:
        existing = load_result(path)
        why = stale_reason(cell, existing)
        if why is None:
            log(f"skip (result exists): {path.name}")
            return existing
        log(f"rerun {path.name}: {why}")

    check_cell(cell)
    predictor = create(cell.predictor, **cell.params)  # fail fast on an unknown name or bad params
    train = resolve(cell.train, "train", sample_seed=cell.seed)  # '@N': each seed trains on its own sample
    test = resolve(cell.test, "test", train.labels)
    train, valid, valid_how = split_validation(train, cell.valid, cell.seed)
    log(f"corpora loaded: train={cell.train} ({train.n_dialogs} dialogs), test={cell.test} ({test.n_dialogs} dialogs)")
    labels = train.labels
    if test.labels != labels:
        raise UserError(f"The test corpus {cell.test!r} uses label set {test.labels.name}, the training corpus {labels.name}.")
    train_ex, valid_ex, test_ex = (Examples.from_dialogs(c.dialogs) for c in (train, valid, test))

    log(f"fitting {cell.predictor} (seed {cell.seed}) on {len(train_ex)} utterances; validation: {valid_how}")
    t0 = time.perf_counter()
    predictor.fit(train_ex, valid_ex, labels, cell.seed)
    train_seconds = time.perf_counter() - t0

    if predictor.outputs_label_sets:
        thresholds = Thresholds(0.5)  # 0/1 outputs: every threshold in (0, 1) gives the same sets
    else:
        valid_proba, _ = split_no_answer(predictor.predict_proba(valid_ex))
        thresholds = tune_threshold(valid_ex.y(labels), valid_proba)
    t0 = time.perf_counter()
    proba, no_answer = split_no_answer(predictor.predict_proba(test_ex))
    predict_seconds = time.perf_counter() - t0
    y_true, y_pred = test_ex.y(labels), apply(proba, thresholds)
    y_pred[no_answer] = 0  # no answer predicts no label: it counts as wrong, never dropped

    metrics = score(y_true, y_pred, labels.codes)
    ci = bootstrap_ci(y_true, y_pred, test_ex.dialog_groups(), seed=cell.seed)
    codes = labels.codes

    def as_strings(y):
        return label_strings(y, codes)

    result = {
        "schema_version": SCHEMA_VERSION,
        "config_hash": config_hash(cell.key()),
        "cell": cell.key(),
        "corpora": portable({"train": train.summary(), "valid": valid.summary() | {"how": valid_how}, "test": test.summary()}),
        "predictor": portable({
            "name": cell.predictor,
            "params": predictor.params(),
            "model_id": predictor.model_id,
        }),
        "seed": cell.seed,
        "decision": {
            "rule": thresholds.rule,
            "description": "thresholds tuned on validation predictions for micro-F1; at least one label per utterance",
            "thresholds": thresholds.to_dict(codes),
        },
        "metrics": metrics,
        "ci": {k: [float(lo), float(hi)] for k, (lo, hi) in ci.items()},
        "ci_method": "95% percentile bootstrap over test dialogs, 1000 resamples",
        "generation_cost": train.generation_cost(),
        "no_answer": int(no_answer.sum()),
        "predictor_stats": predictor.last_stats_,
        "timing": {"train_seconds": round(train_seconds, 3), "predict_seconds": round(predict_seconds, 3)},
        "predictions": {
            "labels": list(codes),
            "dialog_ids": test_ex.dialog_ids,
            "positions": [e.position for e in test_ex],
            "y_true": as_strings(y_true),
            "y_pred": as_strings(y_pred),
        },
        "environment": environment(),
    }
    from . import __version__

    result["solid_bench_version"] = __version__
    if store_gold:
        write_result(path, result)
    else:
        from .gold import strip_gold

        write_result(path, strip_gold(result))
    log(f"wrote {path}")
    return result


def run_cells(
    cells: list[Cell], out_dir: Path, force: bool = False, log: Callable[[str], None] = lambda s: None, store_gold: bool = True
) -> list[dict[str, Any]]:
    """Run cells in order, skipping finished ones; return their Results."""
    return [run_cell(c, out_dir, force=force, log=log, store_gold=store_gold) for c in cells]


def cell_summary(result: dict[str, Any]) -> dict[str, Any]:
    """The few numbers a results table shows for one Result."""
    m, ci = result["metrics"], result.get("ci", {})
    return {
        "train": result["cell"]["train"],
        "test": result["cell"]["test"],
        "predictor": result["cell"]["predictor"],
        "seed": result["cell"]["seed"],
        "micro_f1": m["micro_f1"],
        "micro_f1_ci": ci.get("micro_f1"),
        "qu_accuracy": m["qu_accuracy"],
        "macro_f1": m["macro_f1"],
        "exact_match": m["exact_match"],
        "train_seconds": result["timing"]["train_seconds"],
    }


__all__ = ["Cell", "run_cell", "stale_reason", "run_cells", "split_validation", "default_valid", "cell_summary", "asdict"]
