"""A corpus quality report: measure a corpus before anyone trains on it.

``report(spec)`` works on any corpus spec, human ones included. Every figure is defined here:

* ``acceptance``: accepted / (accepted + rejected) plans of a run folder, and rejections by reason.
* ``fallbacks``: per SOLID stage, the share of its outputs that fell back to a default because the
  model's answer could not be used: entity types (default list), attributes per entity type
  (default attributes), merged multi-intent instructions (the single instructions concatenated),
  conversation starters (the template question), over the run folder's artifacts; background N/A
  answers (the entity is dropped) are reported beside them.
* ``turns``: utterances per dialog (mean, median, min, max) against human train.
* ``combination_tvd``: total variation distance between the corpus's and human train's
  distributions of utterance label combinations ("FD_PA").
* ``lmq_in_band``: share of utterances whose length lies in the human-train length band of one of
  their intents (``generators.lmq``), and the share of dialogs tagged "high".
* ``distinct_1`` / ``distinct_2``: distinct word uni-/bigrams over all of them (lower-cased ``\\w+``
  words), over all utterances and over the first ``DISTINCT_SAMPLE`` dialogs (comparable across
  corpora of different sizes).
* ``near_duplicate_rate``: share of utterances (of at least 3 words) whose word-3-gram set has
  Jaccard similarity >= ``NEAR_DUP_JACCARD`` with an earlier utterance anywhere in the corpus.
* ``throughput`` (run folders with a manifest): the run's whole generation cost (every stage:
  seeding, instruction merging, turns, retries, rejected plans) over its accepted dialogs.
  ``seconds`` is the sum of the backend calls' wall-clock time (SOLID's stages and steps call the
  backend one batch at a time, so this is the time spent generating; a cache hit counts the
  seconds of the call that filled it, once: the ledger counts each answer once per folder, so a
  resume's replays from the folder's own cache count nothing, ``runfolder.Meter``). From it:
  accepted dialogs per hour, prompt + completion tokens per second and completion tokens per
  second, LLM calls (answers paid for) per accepted dialog, and all-in
  tokens and seconds per 1,000 accepted dialogs, which add what the run owes outside its folder
  (``manifest.external_costs``: seeds made by another run, a trained generator's making; the
  leaderboard's all-in cost, ``formats.jsonl.all_in_cost_share``) and say how much of it that is;
  the marginal tokens per 1,000 (the accepted dialogs' own calls) stand beside them.
* ``faithfulness``: micro-F1 of the corpus's own labels against a judge: tfidf-lr trained on
  human train (seed 0), its threshold tuned on human valid. The same judge's score on human valid
  is the ceiling a corpus whose labels are as faithful as human annotations would reach.
"""

from __future__ import annotations

import json
import re
import statistics
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Sequence

from .schema import Dialog

DISTINCT_SAMPLE = 200
NEAR_DUP_JACCARD = 0.8
_WORD = re.compile(r"\w+")


def words(text: str) -> list[str]:
    """Lower-cased word tokens."""
    return _WORD.findall(text.lower())


def distinct_n(texts: Iterable[str], n: int) -> float | None:
    """Distinct n-grams over all n-grams of ``texts`` (n-grams do not cross utterances); None without any."""
    grams: list[tuple[str, ...]] = []
    for t in texts:
        w = words(t)
        grams += [tuple(w[i:i + n]) for i in range(len(w) - n + 1)]
    return len(set(grams)) / len(grams) if grams else None


def near_duplicate_rate(texts: Sequence[str], threshold: float = NEAR_DUP_JACCARD) -> float | None:
    """Share of utterances of >= 3 words whose word-3-gram Jaccard with an earlier one is >= ``threshold``."""
    index: dict[tuple[str, ...], list[int]] = {}
    shingles: list[set[tuple[str, ...]]] = []
    dup = counted = 0
    for text in texts:
        w = words(text)
        if len(w) < 3:
            continue
        s = {tuple(w[i:i + 3]) for i in range(len(w) - 2)}
        me = len(shingles)
        candidates = Counter(j for g in s for j in index.get(g, ()))
        counted += 1
        # |A & B| is the number of shared shingles; Jaccard = |A & B| / (|A| + |B| - |A & B|)
        if any(k / (len(s) + len(shingles[j]) - k) >= threshold for j, k in candidates.items()):
            dup += 1
        shingles.append(s)
        for g in s:
            index.setdefault(g, []).append(me)
    return dup / counted if counted else None


def turn_stats(dialogs: Sequence[Dialog]) -> dict[str, float]:
    """Utterances per dialog: mean, median, min, max."""
    n = [len(d.utterances) for d in dialogs]
    if not n:
        return {"mean": 0.0, "median": 0.0, "min": 0, "max": 0}
    return {"mean": sum(n) / len(n), "median": float(statistics.median(n)), "min": min(n), "max": max(n)}


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


def _read_jsonl(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def template_starter(seed: dict) -> bool:
    """True when a seed's conversation starter is the template fallback, not the model's question."""
    from solid_bench.generators.seeding import template_starter as template

    return seed.get("starter", "") == template(seed.get("attribute", ""), seed.get("entity_name", ""))


def stage_fallbacks(folder: Path) -> dict[str, dict[str, Any]]:
    """Per seeding/instruction stage: how many outputs were made and how many fell back to a default."""
    out: dict[str, dict[str, Any]] = {}

    def put(name: str, fallback: int, total: int, what: str) -> None:
        out[name] = {"fallback": fallback, "total": total, "rate": fallback / total if total else None, "what": what}

    types = _read_json(folder / "entity_types.json")
    if types:
        put("entity_types", int(types.get("source", "llm") != "llm"), 1, "the default type list replaced the model's")
    attrs = _read_json(folder / "attributes.json")
    if attrs:
        put("attributes", sum(v.get("source") == "default" for v in attrs.values()), len(attrs),
            "entity types given the default attributes")
    book = _read_json(folder / "instructions.json")
    if book:
        put("merge_instructions", sum(bool(v.get("fallback")) for v in book.values()), len(book),
            "multi-intent instructions concatenated instead of merged by the model")
    seeds = _read_jsonl(folder / "seeds.jsonl")
    if seeds:
        put("starter", sum(template_starter(s) for s in seeds), len(seeds), "seeds with the template conversation starter")
    backgrounds = _read_jsonl(folder / "backgrounds.jsonl")
    if backgrounds:
        put("background_na", sum(bool(b.get("na")) for b in backgrounds), len(backgrounds),
            "entities the model did not know (N/A: dropped, not a fallback)")
    return out


def acceptance(folder: Path) -> dict[str, Any] | None:
    """Accepted and rejected plans of a run folder, with rejections by reason."""
    dialogs, rejected = folder / "dialogs.jsonl", folder / "rejected.jsonl"
    if not dialogs.is_file():
        return None
    n_acc = sum(1 for line in dialogs.read_text(encoding="utf-8").splitlines() if line.strip())
    reasons = Counter(r.get("reason", "unknown") for r in _read_jsonl(rejected))
    n_rej = sum(reasons.values())
    plans = n_acc + n_rej
    return {"plans": plans, "accepted": n_acc, "rejected": n_rej, "rate": n_acc / plans if plans else None,
            "rejected_by_reason": dict(sorted(reasons.items()))}


def throughput(cost_all: dict[str, Any] | None, accepted: int, marginal: dict[str, Any] | None = None,
               all_in: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """Rates and per-1,000-dialog costs of a run from its manifest's ``cost.all`` (see the module docstring).

    ``all_in``: the whole cost as a cost record with its ``dialogs``, where the run owes costs outside its folder
    (``formats.jsonl.all_in_cost_share``: seeds made by another run, a trained generator's making); the rates stay
    those of the run's own calls."""
    if not cost_all or not accepted:
        return None
    from .leaderboard.cost import Prices, cost_columns

    # the per-1,000 figures come from the leaderboard's one definition of them
    own = cost_columns({"all_in": {**cost_all, "dialogs": accepted}}, Prices())
    per_1k = cost_columns({"marginal": marginal, "all_in": all_in or {**cost_all, "dialogs": accepted}}, Prices())
    seconds, tokens = own["all_in_seconds"], own["all_in_tokens"]
    outside = per_1k["all_in_tokens_per_1k"] - own["all_in_tokens_per_1k"]
    completion = int(cost_all.get("completion_tokens", 0))
    per_s = (lambda x: x / seconds) if seconds > 0 else (lambda x: None)
    return {
        "accepted": accepted,
        "llm_calls": int(cost_all.get("llm_calls", 0)),
        "tokens": int(tokens),
        "completion_tokens": completion,
        "seconds": seconds,
        "dialogs_per_hour": per_s(accepted * 3600),
        "tokens_per_second": per_s(tokens),
        "completion_tokens_per_second": per_s(completion),
        "calls_per_dialog": int(cost_all.get("llm_calls", 0)) / accepted,
        "all_in_tokens_per_1k": per_1k["all_in_tokens_per_1k"],
        "all_in_seconds_per_1k": per_1k["all_in_seconds_per_1k"],
        "outside_tokens_per_1k": outside if outside >= 0.5 else 0.0,  # not a rounding residue of the per-dialog share
        "marginal_tokens_per_1k": per_1k["marginal_tokens_per_1k"],
    }


def faithfulness(dialogs: Sequence[Dialog], labels, judge=None) -> dict[str, Any]:
    """micro-F1 of the dialogs' own labels against the judge's, and the judge's ceiling on human valid."""
    from .examples import Examples
    from .metrics import score

    judge = judge or Judge.fit(labels)
    ex = Examples.from_dialogs(dialogs)
    m = score(ex.y(labels), judge.predict(ex), labels.codes)
    return {"micro_f1": m["micro_f1"], "macro_f1": m["macro_f1"], "ceiling_human_valid": judge.ceiling,
            "judge": judge.description}


class Judge:
    """tfidf-lr trained on human train (seed 0), its threshold tuned on human valid."""

    description = "tfidf-lr trained on human train (seed 0), threshold tuned on human valid"

    def __init__(self, model, thresholds, labels, ceiling: float):
        self.model, self.thresholds, self.labels, self.ceiling = model, thresholds, labels, ceiling

    @classmethod
    def fit(cls, labels, human_train=None) -> "Judge":
        """Train on human train (``human_train`` when already loaded), tune on human valid; the ceiling is
        the judge's micro-F1 on human valid."""
        from .corpora import resolve
        from .decision import apply, tune_threshold
        from .examples import Examples
        from .metrics import score
        from .predictors import create

        train_corpus = human_train if human_train is not None else resolve("human", "train", labels)
        train = Examples.from_dialogs(train_corpus.dialogs)
        valid = Examples.from_dialogs(resolve("human", "valid", labels).dialogs)
        model = create("tfidf-lr").fit(train, valid, labels, 0)
        proba = model.predict_proba(valid)
        thresholds = tune_threshold(valid.y(labels), proba)
        ceiling = score(valid.y(labels), apply(proba, thresholds), labels.codes)["micro_f1"]
        return cls(model, thresholds, labels, ceiling)

    def predict(self, examples):
        """The judge's label sets (0/1 matrix) for ``examples``."""
        from .decision import apply

        return apply(self.model.predict_proba(examples), self.thresholds)


def report(spec: str, judge: Judge | None = None, human_train=None) -> dict[str, Any]:
    """Every figure of the module docstring for the corpus ``spec`` (its train split for named corpora)."""
    from solid_bench.generators.lmq import fit_bands, in_band, tag
    from solid_bench.generators.plans import combination_tvd

    from .corpora import resolve

    corpus = resolve(spec, "train")
    human = human_train if human_train is not None else resolve("human", "train", corpus.labels)
    dialogs = corpus.dialogs
    texts = [u.text for d in dialogs for u in d.utterances]
    sample = [u.text for d in dialogs[:DISTINCT_SAMPLE] for u in d.utterances]
    bands = fit_bands(human)
    n_utts = len(texts)
    path = Path(spec)
    folder = path if path.is_dir() else None
    out: dict[str, Any] = {
        "spec": spec,
        "sha256": corpus.sha256,
        "n_dialogs": len(dialogs),
        "n_utterances": n_utts,
        "synthetic": corpus.synthetic,
        "acceptance": acceptance(folder) if folder else None,
        "fallbacks": stage_fallbacks(folder) if folder else {},
        "turns": turn_stats(dialogs),
        "turns_human_train": turn_stats(human.dialogs),
        "combination_tvd": combination_tvd(dialogs, human.dialogs),
        "lmq_in_band": sum(in_band(u, bands) for d in dialogs for u in d.utterances) / n_utts if n_utts else None,
        "lmq_high_dialogs": sum(tag(d, bands) == "high" for d in dialogs) / len(dialogs) if dialogs else None,
        "distinct_1": distinct_n(texts, 1),
        "distinct_2": distinct_n(texts, 2),
        f"distinct_1_first_{DISTINCT_SAMPLE}": distinct_n(sample, 1),
        f"distinct_2_first_{DISTINCT_SAMPLE}": distinct_n(sample, 2),
        "near_duplicate_rate": near_duplicate_rate(texts),
        "faithfulness": faithfulness(dialogs, corpus.labels, judge or Judge.fit(corpus.labels, human)),
        "throughput": None,
    }
    if folder and (folder / "manifest.json").is_file():
        manifest = _read_json(folder / "manifest.json")
        from .formats.jsonl import all_in_cost_share
        from .generator_names import generator_name

        out["model"] = manifest.get("model")
        out["generator"] = generator_name(manifest)
        out["cost"] = manifest.get("cost", {}).get("all")
        acc = out["acceptance"]["accepted"] if out["acceptance"] else 0
        share = all_in_cost_share(folder)
        out["throughput"] = throughput(out["cost"], acc, (corpus.generation_cost() or {}).get("marginal"),
                                       {**share, "dialogs": 1} if share else None)
    return out


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.1f}%"


def _num(x: float | None, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def _big(x: float | None) -> str:
    if x is None:
        return "–"
    return f"{x / 1e6:.2f}M" if x >= 1e6 else f"{x / 1e3:.0f}k" if x >= 1e3 else f"{x:.0f}"


def to_markdown(r: dict[str, Any]) -> str:
    """The report as Markdown (what ``solid-bench data report`` prints)."""
    lines = [f"# Corpus report: `{r['spec']}`", "",
             f"{r['n_dialogs']:,} dialogs, {r['n_utterances']:,} utterances, sha256 `{r['sha256'][:16]}`"
             + (f", written by `{r['model']}`" if r.get("model") else ""), ""]
    acc = r.get("acceptance")
    if acc:
        reasons = ", ".join(f"{k} {v}" for k, v in acc["rejected_by_reason"].items()) or "none"
        lines += [f"- acceptance: {acc['accepted']:,} of {acc['plans']:,} plans ({_pct(acc['rate'])}); rejected by reason: {reasons}"]
    for name, f in r.get("fallbacks", {}).items():
        lines.append(f"- {name}: {f['fallback']} of {f['total']} ({_pct(f['rate'])}): {f['what']}")
    t, h = r["turns"], r["turns_human_train"]
    fa = r["faithfulness"]
    lines += [
        f"- turns per dialog: mean {t['mean']:.2f}, median {t['median']:g}, range {t['min']}-{t['max']} "
        f"(human train: mean {h['mean']:.2f}, median {h['median']:g})",
        f"- intent-combination TVD to human train: {_num(r['combination_tvd'])}",
        f"- LMQ: {_pct(r['lmq_in_band'])} of utterances in their intent's human length band; "
        f"{_pct(r['lmq_high_dialogs'])} of dialogs tagged high",
        f"- distinct-1 / distinct-2: {_num(r['distinct_1'])} / {_num(r['distinct_2'])} (all); "
        f"{_num(r[f'distinct_1_first_{DISTINCT_SAMPLE}'])} / {_num(r[f'distinct_2_first_{DISTINCT_SAMPLE}'])} "
        f"(first {DISTINCT_SAMPLE} dialogs)",
        f"- near-duplicate utterances (word-3-gram Jaccard >= {NEAR_DUP_JACCARD}): {_pct(r['near_duplicate_rate'])}",
        f"- label faithfulness: micro-F1 {_num(fa['micro_f1'])} of the corpus's labels against the judge "
        f"(ceiling, human valid: {_num(fa['ceiling_human_valid'])}); judge: {fa['judge']}",
    ]
    tp = r.get("throughput")
    if tp:
        lines.append(
            f"- throughput: {_num(tp['dialogs_per_hour'], 1)} accepted dialogs per hour of generation, "
            f"{_num(tp['tokens_per_second'], 1)} tokens/s ({_num(tp['completion_tokens_per_second'], 2)} completion tokens/s), "
            f"{tp['calls_per_dialog']:.1f} LLM calls per accepted dialog; all-in per 1,000 accepted dialogs: "
            f"{_big(tp['all_in_tokens_per_1k'])} tokens, {_num(tp['all_in_seconds_per_1k'] / 3600, 1)} h "
            + (f"({_big(tp['outside_tokens_per_1k'])} tokens of them outside this run: seeds made by another run, "
               "a trained generator's making) " if tp.get("outside_tokens_per_1k") else "")
            + f"(marginal: {_big(tp['marginal_tokens_per_1k'])} tokens)")
    lines += [
        "",
        "Definitions: `solid_bench/corpus_report.py`.",
        "",
    ]
    return "\n".join(lines)


def _fallback_cell(stage: str) -> Any:
    """The side-by-side cell of one stage's fallbacks: "n of total (rate)"."""
    def cell(r: dict[str, Any]) -> str:
        f = r.get("fallbacks", {}).get(stage)
        return f"{f['fallback']} of {f['total']} ({_pct(f['rate'])})" if f else "–"

    return cell


#: The rows of the side-by-side table: (label, function of one report giving its cell).
SIDE_BY_SIDE: list[tuple[str, Any]] = [
    ("written by", lambda r: f"`{r['model']}`" if r.get("model") else "–"),
    ("dialogs / utterances", lambda r: f"{r['n_dialogs']:,} / {r['n_utterances']:,}"),
    ("acceptance", lambda r: f"{r['acceptance']['accepted']:,} of {r['acceptance']['plans']:,} ({_pct(r['acceptance']['rate'])})"
     if r.get("acceptance") else "–"),
    ("rejected by reason", lambda r: ", ".join(f"{k} {v}" for k, v in r["acceptance"]["rejected_by_reason"].items()) or "none"
     if r.get("acceptance") else "–"),
    *((f"fallback: {stage}", _fallback_cell(stage)) for stage in ("entity_types", "attributes", "merge_instructions", "starter", "background_na")),
    ("turns per dialog (mean)", lambda r: f"{r['turns']['mean']:.2f}"),
    ("intent-combination TVD to human train", lambda r: _num(r["combination_tvd"])),
    ("LMQ in-band utterances", lambda r: _pct(r["lmq_in_band"])),
    ("distinct-1 / distinct-2 (all)", lambda r: f"{_num(r['distinct_1'])} / {_num(r['distinct_2'])}"),
    (f"distinct-1 / distinct-2 (first {DISTINCT_SAMPLE} dialogs)",
     lambda r: f"{_num(r[f'distinct_1_first_{DISTINCT_SAMPLE}'])} / {_num(r[f'distinct_2_first_{DISTINCT_SAMPLE}'])}"),
    ("near-duplicate utterances", lambda r: _pct(r["near_duplicate_rate"])),
    ("label faithfulness (micro-F1 vs judge)", lambda r: _num(r["faithfulness"]["micro_f1"])),
    ("accepted dialogs per generation hour", lambda r: _num((r.get("throughput") or {}).get("dialogs_per_hour"), 1)),
    ("tokens/s (completion tokens/s)", lambda r: f"{_num(r['throughput']['tokens_per_second'], 1)} "
     f"({_num(r['throughput']['completion_tokens_per_second'], 2)})" if r.get("throughput") else "–"),
    ("LLM calls per accepted dialog", lambda r: f"{r['throughput']['calls_per_dialog']:.1f}" if r.get("throughput") else "–"),
    ("all-in tokens per 1k accepted", lambda r: _big((r.get("throughput") or {}).get("all_in_tokens_per_1k"))),
    ("of them outside the run (seeds, generator's making)", lambda r: _big((r.get("throughput") or {}).get("outside_tokens_per_1k"))),
    ("all-in generation hours per 1k accepted", lambda r: _num(r["throughput"]["all_in_seconds_per_1k"] / 3600, 1)
     if r.get("throughput") else "–"),
    ("marginal tokens per 1k accepted", lambda r: _big((r.get("throughput") or {}).get("marginal_tokens_per_1k"))),
]


def side_by_side(reports: Sequence[dict[str, Any]]) -> str:
    """Several reports as one Markdown table, a column per corpus (the same judge scored them all)."""
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["# Corpus reports side by side", "",
             "| figure | " + " | ".join((f"{cell(r['generator'])}<br>" if r.get("generator") else "") + f"`{cell(r['spec'])}`"
                                        for r in reports) + " |",
             "| --- |" + " ---: |" * len(reports)]
    lines += [f"| {label} | " + " | ".join(cell(fn(r)) for r in reports) + " |" for label, fn in SIDE_BY_SIDE]
    ceiling = reports[0]["faithfulness"]["ceiling_human_valid"] if reports else None
    lines += ["", f"Faithfulness ceiling (the judge on human valid): {_num(ceiling)}; judge: "
              f"{reports[0]['faithfulness']['judge'] if reports else '–'}. Definitions: `solid_bench/corpus_report.py`.", ""]
    return "\n".join(lines)
