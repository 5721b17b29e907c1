"""Leaderboard plots (matplotlib, Agg, no pyplot state): learning curves, F1 vs cost, per-intent F1.

Output is deterministic: SVGs use a fixed hash salt and no date, PNGs carry no software stamp,
and every series is drawn in table order.
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from typing import Any, Callable

from .naming import human_curve_point
from .table import MAIN_SECTION, Table

PLOTS = ("learning_curve", "f1_vs_cost", "per_intent_f1")
_RC = {"svg.hashsalt": "solid-bench", "svg.fonttype": "path", "font.size": 9, "axes.grid": True, "grid.alpha": 0.3}


def _empty(ax, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def _many_tests(table: Table) -> bool:
    return len({r["test"] for r in table.rows}) > 1


def _main(table: Table) -> list[dict[str, Any]]:
    """The rows of the main section (one validation protocol): plots compare like with like."""
    return [r for r in table.rows if r["section"] == MAIN_SECTION]


def _family(row: dict[str, Any]) -> str:
    """A line's name: the generator, with 'human + ' for a mixture ('human' for human data alone)."""
    if not row["n_synthetic_dialogs"]:
        return "human"
    return f"human + {row['generator']}" if row["n_human_dialogs"] else row["generator"]


def _predictor_names(table: Table) -> dict[tuple[str, str], str]:
    """A legend name per (predictor, params_hash): the predictor, and where it runs with several parameter sets (an LLM
    predictor on two models), the model or else the parameters that tell them apart."""
    variants: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for r in table.rows:
        variants[r["predictor"]].add((r.get("params_hash", ""), r.get("params", "")))
    names = {}
    for pred, vs in variants.items():
        for h, params in vs:
            model = re.search(r"\bmodel=([^,}]+)", params)
            names[(pred, h)] = pred if len(vs) == 1 else f"{pred} ({model.group(1) if model else params or h[:8]})"
    return names


def _name(names: dict[tuple[str, str], str], row: dict[str, Any]) -> str:
    return names.get((row["predictor"], row.get("params_hash", "")), row["predictor"])


_MARKERS = (("o", "-"), ("s", "--"), ("^", ":"), ("D", "-."), ("v", "-"), ("P", "--"))
_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:olive", "tab:cyan")


def _styles(table: Table) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """A colour per family of the main rows (human data black) and a (marker, line style) per predictor, assigned in
    sorted order: the same in every plot and every run."""
    others = sorted({_family(r) for r in _main(table)} - {"human"})
    colors = {"human": "black"} | {f: _COLORS[i % len(_COLORS)] for i, f in enumerate(others)}
    return colors, {p: _MARKERS[i % len(_MARKERS)] for i, p in enumerate(sorted({r["predictor"] for r in table.rows}))}


def _band(ax, rows: list[dict[str, Any]], x: list[float], label: str, color: str, marker: tuple[str, str]) -> None:
    """A mean micro-F1 line with its 95% CI band."""
    ax.plot(x, [r["micro_f1_mean"] for r in rows], marker=marker[0], linestyle=marker[1], color=color, label=label)
    ax.fill_between(x, [r["micro_f1_ci_lo"] for r in rows], [r["micro_f1_ci_hi"] for r in rows], color=color, alpha=0.15)


def learning_curve(table: Table, fig) -> None:
    """micro-F1 vs training dialogs: the human curve (human@N and all human dialogs) against each generator's
    curve (synthetic data alone, x = synthetic dialogs), a line with CI band per (generator, predictor)."""
    ax = fig.add_subplot(1, 1, 1)
    names = _predictor_names(table)
    lines: dict[tuple[bool, str, str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in _main(table):
        if r["n_synthetic_dialogs"] and not r["n_human_dialogs"]:
            lines[(True, r["generator"], r["predictor"], _name(names, r), r["test"])].append(r)
        elif r["n_human_dialogs"] and human_curve_point(r["train"]):
            lines[(False, "human", r["predictor"], _name(names, r), r["test"])].append(r)
    if not lines:
        _empty(ax, "no learning-curve rows in these results")
        return
    suffix = _many_tests(table)
    colors, markers = _styles(table)
    for (synthetic, gen, pred, name, test), rows in sorted(lines.items()):
        key = "n_synthetic_dialogs" if synthetic else "n_human_dialogs"
        rows = sorted(rows, key=lambda r: r[key])
        label = f"{gen} / {name}" + (f" on {test}" if suffix else "")
        _band(ax, rows, [r[key] for r in rows], label, colors[gen], markers[pred])
    ax.set_xscale("log")
    ax.set_xlabel("training dialogs (human for the human curve, synthetic for a generator)")
    ax.set_ylabel("micro-F1 (mean over runs, 95% CI band)")
    ax.set_title("Learning curves: human data against each generator")
    _legend_outside(ax)


def _legend_outside(ax) -> None:
    """The legend right of the axes, so it hides no curve or baseline label however many series there are."""
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)


def f1_vs_cost(table: Table, fig) -> None:
    """micro-F1 vs all-in generation cost of the training data (dollars when priced, else tokens), a series per
    generator (mixtures apart) and predictor, each point labelled with its synthetic dialogs; human data as lines."""
    ax = fig.add_subplot(1, 1, 1)
    priced = bool(table.meta["prices"])
    key, unit = ("all_in_usd", "all-in generation cost ($)") if priced else ("all_in_tokens", "all-in generation tokens (prompt + completion)")
    rows = [r for r in _main(table) if r[key]]
    if not rows:
        _empty(ax, "no generation cost recorded in these results")
        return
    names = _predictor_names(table)
    series: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        series[(_family(r), r["predictor"], _name(names, r))].append(r)
    colors, markers = _styles(table)
    for (family, pred, name), rs in sorted(series.items()):
        rs = sorted(rs, key=lambda r: r[key])
        y = [r["micro_f1_mean"] for r in rs]
        err = [[m - r["micro_f1_ci_lo"] for m, r in zip(y, rs)], [r["micro_f1_ci_hi"] - m for m, r in zip(y, rs)]]
        ax.errorbar([r[key] for r in rs], y, yerr=err, fmt=markers[pred][0], linestyle=markers[pred][1], color=colors[family],
                    capsize=3, label=f"{family} / {name}")  # fmt: skip
        labelled = None  # from the costliest point down, a label per point not within 10% of the last labelled one's cost
        for r in reversed(rs):
            if labelled is None or r[key] < labelled / 1.1:
                ax.annotate(f"{r['n_synthetic_dialogs']:,}", (r[key], r["micro_f1_mean"]), textcoords="offset points", xytext=(4, 4), fontsize=7)
                labelled = r[key]
    for r in _main(table):
        if r["is_baseline"]:
            ax.axhline(r["micro_f1_mean"], linestyle="--", color="gray", linewidth=1)
            ax.annotate(f"{r['training_data']} / {_name(names, r)}", (0.01, r["micro_f1_mean"]), xycoords=("axes fraction", "data"),
                        fontsize=7, color="gray", va="bottom")  # fmt: skip
    ax.set_xscale("log")
    ax.set_xlabel(unit + ", total for the training set")
    ax.set_ylabel("micro-F1 (mean over runs, 95% CI)")
    ax.set_title("micro-F1 vs all-in generation cost (labels: synthetic dialogs)")
    _legend_outside(ax)


def per_intent_f1(table: Table, fig) -> None:
    """Per-intent F1 (mean over seeds), bars grouped by intent, one bar per training corpus; a panel per predictor."""
    panels: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in table.per_label:
        if r["tuned_on"] == table.meta["valid"]:
            panels[(r["test"], r["predictor"], r["params_hash"])].append(r)
    if not panels:
        _empty(fig.add_subplot(1, 1, 1), "no per-label scores in these results")
        return
    keys = list(panels)  # table order
    for i, key in enumerate(keys):
        ax = fig.add_subplot(len(keys), 1, i + 1)
        rows = panels[key]
        labels = list(dict.fromkeys(r["label"] for r in rows))
        trains = list(dict.fromkeys(r["train"] for r in rows))
        width = 0.8 / max(len(trains), 1)
        for j, train in enumerate(trains):
            f1 = {r["label"]: r["f1_mean"] for r in rows if r["train"] == train}
            ax.bar([k + (j - (len(trains) - 1) / 2) * width for k in range(len(labels))], [f1.get(c, 0.0) for c in labels], width, label=train)
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(labels)
        ax.set_ylim(0, 1)
        ax.set_ylabel("F1")
        ax.set_title(f"Per-intent F1: {key[1]} on {key[0]}", fontsize=9)
        ax.legend(fontsize=7, ncol=min(len(trains), 4))


_DRAW: dict[str, Callable[[Table, Any], None]] = {"learning_curve": learning_curve, "f1_vs_cost": f1_vs_cost, "per_intent_f1": per_intent_f1}


def render(table: Table, name: str, fmt: str) -> bytes:
    """One plot as PNG or SVG bytes, byte-identical for the same table."""
    import matplotlib
    from matplotlib.figure import Figure

    if fmt not in ("png", "svg"):
        raise ValueError(f"plot format must be png or svg, got {fmt!r}")
    with matplotlib.rc_context(_RC):
        panels = len({(r["test"], r["predictor"], r["params_hash"]) for r in table.per_label
                      if r["tuned_on"] == table.meta["valid"]}) if name == "per_intent_f1" else 1
        fig = Figure(figsize=(7.5, 4.0 * max(panels, 1)) if name == "per_intent_f1" else (11.0, 4.5), layout="tight")
        _DRAW[name](table, fig)
        buf = io.BytesIO()
        metadata = {"Date": None} if fmt == "svg" else {"Software": None}
        fig.savefig(buf, format=fmt, dpi=120, metadata=metadata)
    return buf.getvalue()


def render_all(table: Table, fmt: str) -> dict[str, bytes]:
    """Every plot in ``fmt``: name -> bytes."""
    return {name: render(table, name, fmt) for name in PLOTS}
