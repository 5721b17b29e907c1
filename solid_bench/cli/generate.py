"""`solid-bench generate`: synthetic dialogs into a resumable run folder, with a progress bar."""

from __future__ import annotations

from typing import Optional

import typer

from . import app
from .options import Backend, BackendOptions, BaseUrl, Cache, Model, NamesPerRequest, Seed, SeedsFile, parse_key_values


@app.command("generate")
def generate(
    out: str = typer.Option(..., "--out", help="Run folder (created; rerunning the same command resumes it)."),
    n: int = typer.Option(100, "--n", help="Number of dialog plans to generate."),
    method: str = typer.Option("solid", "--method", help="Generator (see the generator registry), e.g. solid."),
    backend: Backend = "transformers",
    model: Model = None,
    base_url: BaseUrl = None,
    batch_size: int = typer.Option(8, "--batch-size", help="Dialogs advanced together in one backend call."),
    seed: Seed = 0,
    seeds: SeedsFile = None,
    max_turns: Optional[int] = typer.Option(None, "--max-turns", help="Only sample human sequences of at most this many utterances."),
    min_count: int = typer.Option(1, "--min-count", help="Only sample sequences whose label combinations occur this often."),
    budget_tokens: Optional[int] = typer.Option(None, "--budget-tokens", help="Stop cleanly once this many tokens are spent."),
    max_new_tokens: int = typer.Option(80, "--max-new-tokens", help="Longest utterance, in tokens."),
    retries: int = typer.Option(2, "--retries", help="Retries of a rejected utterance before its dialog is rejected."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Only estimate calls and tokens; call no LLM."),
    names_per_request: NamesPerRequest = 5,
    cache: Cache = True,
    option: BackendOptions = None,
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
        backend_options=parse_key_values(option, "--option", "delay=0.5"),
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
