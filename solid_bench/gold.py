"""Gold labels by reference: Result files without ``y_true``, rebuilt from the test corpus when read.

A Result may leave out the test set's gold labels (``predictions.y_true``) and name where they
come from instead (``predictions.gold``, see ``solid_bench.results``), so that Result files of
research-use test sets such as MSDialog can be shared and committed. ``strip_gold`` turns a
Result into that form; ``rehydrate_gold`` puts ``y_true`` back from the test corpus, after
checking that the corpus is the one the Result was scored on (same sha256).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from .errors import UserError

GOLD_SOURCE = "test corpus"
DATA_HINT = ("point SOLID_BENCH_DATA at the unmodified data the Results were scored on (for MSDialog: the folder holding "
             "msdialog-intentpred/, or run `solid-bench data download msdialog`)")


def has_gold(result: Mapping[str, Any]) -> bool:
    """True when the Result carries its gold labels (``predictions.y_true``)."""
    return "y_true" in (result.get("predictions") or {})


def gold_reference(test_summary: Mapping[str, Any]) -> dict[str, Any]:
    """The ``predictions.gold`` record that replaces ``y_true``: which corpus, which split, which sha256."""
    return {"source": GOLD_SOURCE, "spec": test_summary["spec"], "split": test_summary.get("split", "test"), "sha256": test_summary["sha256"]}


def strip_gold(result: Mapping[str, Any], where: str = "Result") -> dict[str, Any]:
    """A copy of ``result`` without ``predictions.y_true`` and with ``predictions.gold``; unchanged if already stripped."""
    out = copy.deepcopy(dict(result))
    pred = out.get("predictions")
    if not isinstance(pred, dict) or "y_pred" not in pred:
        raise UserError(f"{where} has no per-utterance predictions, so it has no gold labels to strip; check that it is a solid-bench Result file.")
    if "y_true" not in pred:
        if "gold" not in pred:
            raise UserError(f"{where} has neither y_true nor a gold reference; rerun its cell with `solid-bench run`.")
        return out
    test = (out.get("corpora") or {}).get("test") or {}
    if not test.get("spec") or not test.get("sha256"):
        raise UserError(f"{where} does not record its test corpus (corpora.test spec and sha256), so its gold labels could not be rebuilt; keep y_true in it.")
    del pred["y_true"]
    pred["gold"] = gold_reference(test)
    return out


def strip_gold_files(results_dir: Path, out_dir: Path | None = None, log: Callable[[str], None] = lambda s: None) -> dict[str, int]:
    """Rewrite every Result under ``results_dir`` without y_true (into ``out_dir``, same relative paths), atomically.

    Idempotent: a file already without gold is left alone in place (copied when ``out_dir`` differs).
    Returns counts of stripped and already-stripped files.
    """
    from .results import load_result, result_files, write_result

    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise UserError(f"Results folder {str(results_dir)!r} does not exist; pass the folder given to `solid-bench run --out`.")
    out_dir = Path(out_dir) if out_dir is not None else results_dir
    paths = result_files(results_dir)
    if not paths:
        raise UserError(f"No result files (*.json) under {str(results_dir)!r}; pass the folder given to `solid-bench run --out`.")
    # Check every file before writing any, so a bad file leaves the folder as it was.
    stripped = [(p, load_result(p)) for p in paths]
    stripped = [(p, r, strip_gold(r, where=str(p))) for p, r in stripped]
    counts = {"stripped": 0, "already": 0}
    in_place = out_dir.resolve() == results_dir.resolve()
    for path, before, after in stripped:
        target = out_dir / path.relative_to(results_dir)
        if not has_gold(before):
            counts["already"] += 1
            if in_place:
                continue
        else:
            counts["stripped"] += 1
        write_result(target, after)
        log(f"{'stripped' if has_gold(before) else 'copied'} {target}")
    return counts


def _gold_index(spec: str, split: str, codes: Sequence[str]) -> tuple[str, dict[tuple[str, int], str]]:
    """(sha256, {(dialog_id, position): 'FD_PA'}) of a corpus spec's split, resolved as the runner does."""
    from .corpora import resolve
    from .examples import Examples
    from .results import label_strings
    from .schema import MSDIALOG, LabelSet

    labels = MSDIALOG if tuple(codes) == MSDIALOG.codes else LabelSet("result", tuple(codes))
    try:
        corpus = resolve(spec, split, labels)
    except UserError as e:
        raise UserError(f"Results stored without gold labels need their {split} corpus {spec!r} to rebuild them, and it could not be loaded: {e}") from None
    examples = Examples.from_dialogs(corpus.dialogs)
    y = examples.y(labels)
    index = {(e.dialog_id, e.position): text for e, text in zip(examples, label_strings(y, labels.codes))}
    return corpus.sha256, index


def rehydrate_gold(results: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Results with ``predictions.y_true`` rebuilt from the test corpus where it was left out.

    Each test corpus is loaded once per (spec, split, label set). Raises a UserError when the
    corpus is missing, its sha256 differs from the recorded one, or it lacks a recorded utterance.
    """
    cache: dict[tuple[str, str, tuple[str, ...]], tuple[str, dict[tuple[str, int], str]]] = {}
    out = []
    for r in results:
        pred = r.get("predictions") or {}
        if "y_true" in pred or "y_pred" not in pred:
            out.append(r)  # with gold, or without predictions at all (the leaderboard reports that itself)
            continue
        ref = pred.get("gold")
        name = r.get("config_hash", "?")
        if not isinstance(ref, dict) or not ref.get("spec") or not ref.get("sha256"):
            raise UserError(f"Result {name} has neither y_true nor a gold reference (predictions.gold); rerun its cell with `solid-bench run`.")
        key = (ref["spec"], ref.get("split", "test"), tuple(pred["labels"]))
        if key not in cache:
            cache[key] = _gold_index(*key)
        sha, index = cache[key]
        if sha != ref["sha256"]:
            raise UserError(
                f"The {key[1]} corpus {key[0]!r} found here (sha256 {sha[:12]}) is not the one Result {name} was scored on "
                f"(sha256 {ref['sha256'][:12]}), so its gold labels cannot be rebuilt; {DATA_HINT}."
            )
        try:
            y_true = [index[(d, int(p))] for d, p in zip(pred["dialog_ids"], pred["positions"])]
        except KeyError as e:
            raise UserError(f"Result {name} names test utterance {e.args[0]} that the {key[1]} corpus {key[0]!r} lacks; check SOLID_BENCH_DATA.") from None
        new = dict(r)
        new["predictions"] = {k: v for k, v in pred.items() if k != "gold"} | {"y_true": y_true}
        out.append(new)
    return out
