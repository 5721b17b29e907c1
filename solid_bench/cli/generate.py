"""`solid-bench generate`: synthetic dialogs into a resumable run folder, with a progress bar."""

from __future__ import annotations

from typing import List, Optional

import typer

from . import app


def parse_options(items: list[str] | None) -> dict:
    """['delay=0.5', 'device=cpu'] -> {'delay': 0.5, 'device': 'cpu'} (numbers and booleans parsed)."""
    import json

    from ..errors import UserError

    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UserError(f"--option {item!r}: write it as KEY=VALUE, e.g. --option delay=0.5.")
        try:
            out[key.strip().replace("-", "_")] = json.loads(value)
        except ValueError:
            out[key.strip().replace("-", "_")] = value
    return out


@app.command("generate")
def generate(
    out: str = typer.Option(..., "--out", help="Run folder (created; rerunning the same command resumes it)."),
    n: int = typer.Option(100, "--n", help="Number of dialog plans to generate."),
    method: str = typer.Option("solid", "--method", help="Generator (see the generator registry), e.g. solid."),
    backend: str = typer.Option("transformers", "--backend", help="LLM backend: transformers, llama-cpp, llama-server, openai, vllm, fake."),
    model: Optional[str] = typer.Option(None, "--model", help="A named model (solid-bench models list: smollm2-135m, qwen2.5-coder-1.5b), a path or an id (default: smollm2-135m; openai: the served model)."),
    base_url: Optional[str] = typer.Option(None, "--base-url", help="Server URL for the openai backend."),
    batch_size: int = typer.Option(8, "--batch-size", help="Dialogs advanced together in one backend call."),
    seed: int = typer.Option(0, "--seed", help="Seed for seeding, plan sampling and decoding."),
    seeds: Optional[str] = typer.Option(None, "--seeds", help="Seeds file: JSONL of seed fields, or a JSON array of 'name<TAB>type'."),
    max_turns: Optional[int] = typer.Option(None, "--max-turns", help="Only sample human sequences of at most this many utterances."),
    min_count: int = typer.Option(1, "--min-count", help="Only sample sequences whose label combinations occur this often."),
    budget_tokens: Optional[int] = typer.Option(None, "--budget-tokens", help="Stop cleanly once this many tokens are spent."),
    max_new_tokens: int = typer.Option(80, "--max-new-tokens", help="Longest utterance, in tokens."),
    retries: int = typer.Option(2, "--retries", help="Retries of a rejected utterance before its dialog is rejected."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only estimate calls and tokens; call no LLM."),
    names_per_request: int = typer.Option(5, "--names-per-request", help="Entity names asked for per (entity type, initial letter) request."),
    cache: bool = typer.Option(True, "--cache/--no-cache", help="Cache LLM answers in the run folder (SQLite)."),
    option: Optional[List[str]] = typer.Option(None, "--option", "-o", help="Backend option KEY=VALUE (repeatable)."),
) -> None:
    """Generate synthetic dialogs (SOLID or SOLID-RL, --method) into a run folder; rerun the same command to resume."""
    import json
    import sys

    from ..generators.pipeline import GenerationConfig, estimate, run_generation
    from ..outputs import check_output_folder

    check_output_folder(out)
    config = GenerationConfig(
        out=out, n=n, method=method, backend=backend, model=model, base_url=base_url, batch_size=batch_size,
        seed=seed, seeds_file=seeds, max_turns=max_turns, min_count=min_count, budget_tokens=budget_tokens,
        cache=cache, max_new_tokens=max_new_tokens, retries=retries, names_per_request=names_per_request,
        backend_options=parse_options(option),
    )
    from ..generators.registry import GENERATORS

    GENERATORS.get(method)  # an unknown method fails before anything is loaded
    config.check_seeds_file()
    from ..corpora import resolve

    train = resolve("human", "train")
    if dry_run:
        est = estimate(config, train)
        typer.echo(json.dumps(est, indent=2))
        return
    total = estimate(config, train)["total"]
    typer.echo(f"[generate] estimate for {n} plans (upper bound when resuming): ~{total['llm_calls']} LLM calls, "
               f"~{total['prompt_tokens'] + total['completion_tokens']} tokens", err=True)
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    columns = (TextColumn("dialogs"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
               TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn())
    try:
        with Progress(*columns, transient=False, console=_stderr_console()) as bar:
            task = bar.add_task("generate", total=n, rate="")

            def progress(done: int, total: int) -> None:
                speed = bar.tasks[0].speed
                bar.update(task, completed=done, total=total, rate=f"{speed * 60:.1f}/min" if speed else "")

            manifest = run_generation(config, train=train, progress=progress)
    except KeyboardInterrupt:
        typer.echo("interrupted; rerun the same command to resume", err=True)
        # SystemExit, not typer.Exit: cli.main() drops the exit code click returns for Exit
        raise SystemExit(130) from None
    c = manifest["counts"]
    cost = manifest["cost"]["all"]
    typer.echo(
        f"{manifest['status']}: {c['accepted']} accepted, {c['rejected']} rejected "
        f"{json.dumps(c['rejected_by_reason'])}; {cost.get('llm_calls', 0)} LLM calls, "
        f"{cost.get('prompt_tokens', 0)}+{cost.get('completion_tokens', 0)} tokens -> {out}"
    )
    sys.stdout.flush()


def _stderr_console():
    from rich.console import Console

    return Console(stderr=True)
