"""Leaderboard writers and the CLI: content of each format, bold best, byte-identical reruns, atomic output."""

from __future__ import annotations

import csv
import json

import pytest

from solid_bench.cli import main
from solid_bench.leaderboard.build import DEFAULT_FORMATS, load_table, write_leaderboard
from solid_bench.leaderboard.cost import Prices
from solid_bench.leaderboard.table import COLUMNS, Options
from solid_bench.leaderboard.writers import load_writers

FAST = ["--bootstrap", "200", "--permutations", "500"]
EXPECTED_FILES = sorted(
    ["leaderboard.md", "leaderboard.csv", "leaderboard_per_label.csv", "leaderboard.tex", "leaderboard.json", "leaderboard.html"]
    + [f"{p}.{ext}" for p in ("learning_curve", "f1_vs_cost", "per_intent_f1") for ext in ("png", "svg")]
)
SOLID_TITLE = "Self-seeding and Multi-intent Self-instructing LLMs for Generating Intent-aware Information-Seeking dialogs"


@pytest.fixture
def table(results_dir):
    return load_table(results_dir, Options(prices=Prices(per_gpu_hour=2.0), n_resamples=200, n_permutations=500))


def test_every_format_has_a_registered_writer():
    assert set(DEFAULT_FORMATS) <= set(load_writers().names())


def test_cli_outputs_are_byte_identical_when_run_twice(results_dir, tmp_path, capsys):
    outs = [tmp_path / "a", tmp_path / "b"]
    for out in outs:
        assert main(["leaderboard", str(results_dir), "--out", str(out), "--price-per-gpu-hour", "2", *FAST]) == 0
    printed = capsys.readouterr().out.split()
    assert len(printed) == 2 * len(EXPECTED_FILES)
    names = sorted(p.name for p in outs[0].iterdir())
    assert names == EXPECTED_FILES == sorted(p.name for p in outs[1].iterdir())
    for name in names:
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp folder left behind


def test_latex_bolds_the_best_value_per_column(table, tmp_path):
    tex = write_leaderboard(table, tmp_path, ["tex"])[0].read_text()
    lines = {line.split(" & ")[3]: line for line in tex.splitlines() if line.startswith("main & human & ")}
    assert set(lines) == {"human (baseline)", "human+solid@500", "solid@100", "solid@500", "solid-rl@500"}
    # micro-F1 over the two distinct runs of solid@500 (1 and 48/49): 0.990 +- 0.014, best, for the two near-perfect systems.
    best = r"\textbf{0.990 $\pm$ 0.014}$^{\uparrow}$"
    assert best in lines["solid@500"] and best in lines["human+solid@500"]
    assert "\\textbf" not in lines["human (baseline)"] and "\\textbf" not in lines["solid@100"]
    assert lines["solid-rl@500"].split(" & ")[7] == r"0.000$^{\downarrow}$"  # one run: no spread
    assert lines["solid-rl@500"].split(" & ")[6] == "0=1=2 (1 run)"
    assert lines["solid-rl@500"].split(" & ")[2] == r"SOLID-RL \textperiodcentered{} 500 dialogs"
    assert lines["solid-rl@500"].split(" & ")[10] == r"\textless{} 40 [\textless{} 40, \textless{} 40]"  # censored: below the curve
    for needle in ("\\toprule", "\\midrule", "\\bottomrule", "\\caption{", "Holm correction over the family of 4 comparisons",
                   "test dialog as the unit", "identical are one run", "per GPU hour", "% @software{solid_bench"):  # fmt: skip
        assert needle in tex, needle


def test_markdown_rows_marks_caption_and_footer(table, tmp_path):
    md = write_leaderboard(table, tmp_path, ["md"])[0].read_text()
    rows = [line for line in md.splitlines() if line.startswith("| main | human |")]
    assert len(rows) == 5
    assert ("| main | human | SOLID · 500 dialogs | solid@500 | tfidf_lr | human valid | 0=1,2 (2 runs) | **0.990 ± 0.014**▲ | "
            "[0.970, 1.000] | 0.002 (0.008) | > 40 [> 40, > 40] | > 16.0 | 2,500,000 | 5,000,000 |") in md
    assert "| main | human | SOLID-RL · 500 dialogs | solid-rl@500 | tfidf_lr | human valid | 0=1=2 (1 run) | 0.000▼ |" in md
    # baseline: two distinct runs (seeds 0 and 2 predict the same): F1 20/45 and 22/45
    assert rows[0].startswith("| main | human | human · 40 dialogs | human (baseline) | tfidf_lr | human valid | 0=2,1 (2 runs) | 0.467 ± 0.031 |")
    # human-equivalent dialogs per 1M all-in tokens (the one-point curve: < 40 for 5M tokens / 1k dialogs x 0.1k dialogs);
    # marginal and all-in tokens per 1,000 dialogs; later seconds per 1,000 dialogs and dollars at $2 per GPU hour
    assert "| < 40 [< 40, 40] | < 80.0 | 2,500,000 | 5,000,000 |" in rows[1]
    assert rows[1].endswith("| 100 | 3,600 | 7,200 | 2.00 | 4.00 |")
    assert "Human-equiv. dialogs: the number of human training dialogs" in md and "running maximum" in md
    for needle in ("git commit 0123456789abcdef0123", "Hardware: x86_64, 2 CPUs, device cpu", "Result schema version 2",
                   SOLID_TITLE, "@article{askari2024solid", "@software{solid_bench", "Holm"):  # fmt: skip
        assert needle in md, needle


def test_csv_and_json_hold_the_same_numbers(table, tmp_path):
    paths = write_leaderboard(table, tmp_path, ["csv", "json"])
    with open(paths[0], encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == list(COLUMNS) and len(rows) == len(table.rows)
    for got, want in zip(rows, table.rows):
        assert float(got["micro_f1_mean"]) == want["micro_f1_mean"] and got["train"] == want["train"]
        assert got["mark"] == want["mark"] and (got["p_holm"] == "" if want["p_holm"] is None else float(got["p_holm"]) == want["p_holm"])
    with open(paths[1], encoding="utf-8", newline="") as fh:
        per_label = list(csv.DictReader(fh))
    assert len(per_label) == 5 * 12 and {r["label"] for r in per_label} >= {"OQ", "PA", "FD"}
    data = json.loads(paths[2].read_text())
    assert data["rows"] == [dict(r) for r in table.rows] and "Holm" in data["caption"]
    assert data["meta"]["provenance"]["git_commits"] == ["0123456789abcdef0123"]


def test_plots_are_valid_images(table, tmp_path):
    files = write_leaderboard(table, tmp_path, ["png", "svg"])
    assert len(files) == 6
    for f in files:
        data = f.read_bytes()
        if f.suffix == ".png":
            assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5000
        else:
            assert data.lstrip().startswith(b"<?xml") and b"<svg" in data and b"<dc:date>" not in data


def test_html_page_is_self_contained(table, tmp_path):
    html = write_leaderboard(table, tmp_path, ["html"])[0].read_text()
    assert html.count("<tr data-order=") == 5 and 'id="filter"' in html
    assert html.count("data:image/svg+xml;base64,") == 3
    assert "http://" not in html.replace("http://www.w3.org", "") and "https://" not in html  # no network fetches
    assert SOLID_TITLE in html and "Holm" in html


def test_failed_writer_leaves_no_partial_output(table, tmp_path, monkeypatch):
    from solid_bench.leaderboard import writer_html

    def boom(_table):
        raise RuntimeError("disk full")

    monkeypatch.setattr(writer_html, "render", boom)
    out = tmp_path / "board"
    with pytest.raises(RuntimeError):
        write_leaderboard(table, out, ["md", "csv", "html"])
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["results"]  # no temp folder either


@pytest.mark.parametrize(
    "args, message",
    [
        (["leaderboard", "{missing}", "--out", "{out}"], "does not exist"),
        (["leaderboard", "{empty}", "--out", "{out}"], "No result files"),
        (["leaderboard", "{results}", "--out", "{out}", "--formats", "md,xlsx"], "Unknown leaderboard format 'xlsx'"),
        (["leaderboard", "{results}", "--out", "{out}", "--formats", "mdd"], "Did you mean: md"),
        (["leaderboard", "{results}", "--out", "{results}/board"], "inside the results folder"),
        (["leaderboard", "{results}", "--out", "{out}", "--price-per-gpu-hour", "1", "--price-per-1k-prompt-tokens", "1",
          "--price-per-1k-completion-tokens", "1"], "not both"),  # fmt: skip
    ],
)
def test_cli_user_errors_exit_2_without_output(args, message, results_dir, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    paths = {"missing": tmp_path / "nope", "empty": tmp_path / "empty", "out": tmp_path / "out", "results": results_dir}
    assert main([a.format(**paths) for a in args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists() and not (results_dir / "board").exists()


def test_f1_vs_cost_labels_each_point_unless_a_costlier_label_sits_within_ten_percent():
    from types import SimpleNamespace

    from matplotlib.figure import Figure

    from solid_bench.leaderboard.plots import f1_vs_cost
    from solid_bench.leaderboard.table import MAIN_SECTION

    def row(n: int, tokens: float) -> dict:
        return {"section": MAIN_SECTION, "all_in_tokens": tokens, "micro_f1_mean": 0.6, "micro_f1_ci_lo": 0.55,
                "micro_f1_ci_hi": 0.65, "n_synthetic_dialogs": n, "n_human_dialogs": 0, "generator": "SOLID · X",
                "predictor": "tfidf-lr", "is_baseline": False, "training_data": f"SOLID · X · {n} dialogs", "test": "human"}

    # 1,000 dialogs cost within 10% of the whole 1,043-dialog corpus: its label would print over the corpus's
    table = SimpleNamespace(rows=[row(100, 2.4e5), row(1000, 2.39e6), row(1043, 2.49e6)], meta={"prices": {}})
    fig = Figure()
    f1_vs_cost(table, fig)
    assert sorted(t.get_text() for t in fig.axes[0].texts) == ["1,043", "100"]


def test_plots_name_each_model_of_a_predictor_run_with_several():
    from types import SimpleNamespace

    from matplotlib.figure import Figure

    from solid_bench.leaderboard.plots import f1_vs_cost, learning_curve
    from solid_bench.leaderboard.table import MAIN_SECTION

    def row(predictor: str, params: str, f1: float) -> dict:
        return {"section": MAIN_SECTION, "all_in_tokens": None, "micro_f1_mean": f1, "micro_f1_ci_lo": f1 - 0.02,
                "micro_f1_ci_hi": f1 + 0.02, "n_synthetic_dialogs": 0, "n_human_dialogs": 1760, "generator": "",
                "predictor": predictor, "params": params, "params_hash": str(hash(params)), "is_baseline": True,
                "train": "human", "training_data": "human · 1,760 dialogs", "test": "human"}

    rows = [row("llm-fewshot", "backend=llama-server, model=qwen-1.5b, options={'a': 1, 'b': 2}", 0.27),
            row("llm-fewshot", "backend=llama-server, model=smol-135m, options={'a': 1, 'b': 2}", 0.20),
            row("tfidf-lr", "", 0.72)]
    table = SimpleNamespace(rows=rows, meta={"prices": {}})
    fig = Figure()
    learning_curve(table, fig)
    legend = sorted(t.get_text() for t in fig.axes[0].get_legend().get_texts())
    assert legend == ["human / llm-fewshot (qwen-1.5b)", "human / llm-fewshot (smol-135m)", "human / tfidf-lr"]
    rows.append(dict(row("bert", "", 0.6), all_in_tokens=1e6, n_synthetic_dialogs=100, n_human_dialogs=0,
                     generator="SOLID · X", is_baseline=False))
    fig = Figure()
    f1_vs_cost(table, fig)
    texts = {t.get_text() for t in fig.axes[0].texts}
    assert {"human · 1,760 dialogs / llm-fewshot (qwen-1.5b)", "human · 1,760 dialogs / llm-fewshot (smol-135m)"} <= texts
