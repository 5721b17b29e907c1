"""`solid-bench data`: list, stats, validate, download and export corpora."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from . import app

data_app = typer.Typer(help="List, inspect, validate, download and export dialog corpora.", no_args_is_help=True)
app.add_typer(data_app, name="data")


def _present(source) -> str:
    """'yes' / 'no' for a named source's files; '-' where there is nothing to tell (made on first use)."""
    return {True: "yes", False: "no", None: "-"}[source.available()]


def _table(rows: list[list[str]], right: set[int] = frozenset()) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for r in rows:
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths))]
        out.append("  ".join(cells).rstrip())
    return out


@data_app.command("list")
def list_data() -> None:
    """Show the named corpora (and whether their files are here) and the readable file formats."""
    from ..corpora import ALIASES, SOURCES
    from ..formats import FORMATS
    from ..settings import data_root

    typer.echo(f"Named corpora (data folder: {data_root()}):")
    rows = [["name", "files", "description"]]
    for name, cls in SOURCES.items():
        rows.append([name, _present(cls()), cls.description])
    for line in _table(rows):
        typer.echo(f"  {line}")
    for alias, target in sorted(ALIASES.items()):
        typer.echo(f"  {alias} = {target}")
    typer.echo("\nFile formats (detected automatically):")
    rows = [[name, cls.description] for name, cls in FORMATS.items()]
    for line in _table(rows):
        typer.echo(f"  {line}")


def _named_parts(spec: str) -> bool:
    """True if any part of ``spec`` is a named human source (synthetic ones give the same dialogs for every split)."""
    from ..specs import parse_spec

    return any(p.is_human_source() for p in parse_spec(spec).parts)


def corpus_stats(spec: str, split: str | None = None) -> tuple[list[tuple[str, int, int]], dict[str, dict[str, int]], tuple[str, ...]]:
    """(split, dialogs, utterances) rows and per-split label counts; files give one row, 'all'."""
    from ..corpora import SPLITS, resolve

    splits = ((split,) if split else SPLITS) if _named_parts(spec) else ("all",)
    rows, labels, codes = [], {}, ()
    for split in splits:
        c = resolve(spec, "train" if split == "all" else split)
        rows.append((split, c.n_dialogs, c.n_utterances))
        labels[split] = c.label_counts()
        codes = c.labels.codes
    return rows, labels, codes


def stats_lines(spec: str, split: str | None = None) -> list[str]:
    """The text `data stats` prints: 'train 1,760 / 8,064' lines, then a label table."""
    rows, labels, codes = corpus_stats(spec, split)
    lines = [f"{spec}: dialogs / utterances"]
    for split, nd, nu in rows:
        lines.append(f"{split:<6}{nd:,} / {nu:,}")
    if len(rows) > 1:
        lines.append(f"{'total':<6}{sum(r[1] for r in rows):,} / {sum(r[2] for r in rows):,}")
    splits = [r[0] for r in rows]
    total = {c: sum(labels[s][c] for s in splits) for c in codes}
    order = sorted(codes, key=lambda c: (-total[c], codes.index(c)))
    header = ["label", *splits] + (["total"] if len(splits) > 1 else [])
    table = [header]
    for c in order:
        table.append([c, *(f"{labels[s][c]:,}" for s in splits)] + ([f"{total[c]:,}"] if len(splits) > 1 else []))
    lines.append("")
    lines.append("utterances per label (an utterance may carry several):")
    lines.extend(_table(table, right=set(range(1, len(header)))))
    return lines


@data_app.command("stats")
def stats(
    spec: str = typer.Argument(..., help="Corpus spec: human, mantis, a file, a run folder, a+b, a@N."),
    split: Optional[str] = typer.Option(None, "--split", help="Only this split (train, valid or test)."),
) -> None:
    """Dialogs and utterances per split, and the count of each label."""
    for line in stats_lines(spec, split):
        typer.echo(line)


@data_app.command("validate")
def validate(
    path: Path = typer.Argument(..., help="A dialog file or run folder."),
    fmt: Optional[str] = typer.Option(None, "--format", help="Format name (see `data list`); detected when omitted."),
) -> None:
    """Read PATH with its format and report counts; a bad line exits 2 naming file:line."""
    from ..formats import FORMATS, detect_format, read_dialogs
    from ..schema import MSDIALOG

    if fmt is not None:
        FORMATS.get(fmt)
    if not path.exists():
        from ..errors import UserError

        raise UserError(f"{path}: no such file or folder; check the path.")
    name = fmt or detect_format(path)
    dialogs = read_dialogs(path, MSDIALOG, source=path.stem if path.is_file() else path.name, fmt=name)
    n_utts = sum(len(d.utterances) for d in dialogs)
    typer.echo(f"{path}: valid {name}, {len(dialogs):,} dialogs, {n_utts:,} utterances.")


@data_app.command("download")
def download(name: str = typer.Argument(..., help="What to download; only 'msdialog' (alias 'human') can be.")) -> None:
    """Fetch a public corpus into the data folder, checking its SHA-256."""
    from ..corpora import ALIASES
    from ..errors import UserError, did_you_mean
    from ..settings import data_root

    target = ALIASES.get(name, name)
    if target != "msdialog":
        hint = did_you_mean(name, ["msdialog", "human"])
        if target == "mantis":
            hint = " MANtIS is downloaded by hand: see `solid-bench data list` and docs/formats.md."
        raise UserError(f"Cannot download {name!r}; only 'msdialog' can be downloaded.{hint}")
    from ..download import download_msdialog
    from ..outputs import check_output_folder
    from ..sources.msdialog import FOLDER

    check_output_folder(data_root() / FOLDER, "the data folder (SOLID_BENCH_DATA)")
    download_msdialog(data_root(), echo=typer.echo)


@data_app.command("export")
def export_cmd(
    spec: str = typer.Argument(..., help="Corpus spec to export."),
    fmt: str = typer.Option(..., "--format", help="jsonl (solid-bench JSONL) or hf (a datasets folder)."),
    out: Path = typer.Option(..., "--out", help="Output file (jsonl) or folder (hf)."),
    split: str = typer.Option("train", "--split", help="train, valid or test (named corpora only)."),
) -> None:
    """Write a corpus as solid-bench JSONL or a Hugging Face datasets folder."""
    from ..corpora import resolve
    from ..export import check_export_out, export

    check_export_out(fmt, out)
    corpus = resolve(spec, split)
    path = export(corpus, fmt, out)
    typer.echo(f"Wrote {corpus.n_dialogs:,} dialogs ({corpus.n_utterances:,} utterances) to {path} ({fmt}).")


@data_app.command("report")
def report(
    specs: list[str] = typer.Argument(..., help="Corpus specs: run folders, dialog files, human, mixtures, ... Several are "
                                                 "reported side by side, scored by one judge."),
    out: Optional[Path] = typer.Option(None, "--out", help="Also write report.md and report.json into this folder."),
) -> None:
    """Measure a corpus before training on it: acceptance, stage fallbacks, turns, intent-combination distance
    to human train, LMQ in-band share, distinct-n, near-duplicates, label faithfulness against a judge and, for a
    run folder, generation throughput and cost per 1,000 accepted dialogs."""
    from ..corpora import resolve
    from ..corpus_report import Judge, side_by_side, to_markdown
    from ..corpus_report import report as make_report
    from ..outputs import check_output_folder, write_json_atomic, write_text_atomic
    from ..specs import parse_spec

    if out is not None:
        check_output_folder(out)
    for spec in specs:  # every spec is checked before the judge is trained
        parse_spec(spec).check()
    human = resolve("human", "train")
    judge = Judge.fit(human.labels, human)
    results = [make_report(spec, judge=judge, human_train=human) for spec in specs]
    if len(results) == 1:
        result, text = results[0], to_markdown(results[0])
    else:
        result, text = {"reports": results}, side_by_side(results) + "\n" + "\n".join(to_markdown(r) for r in results)
    if out is not None:
        write_json_atomic(Path(out) / "report.json", result, indent=1, sort_keys=True)
        write_text_atomic(Path(out) / "report.md", text)
    typer.echo(text, nl=False)
