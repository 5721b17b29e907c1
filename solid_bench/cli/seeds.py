"""`solid-bench seeds`: SOLID self-seeding alone (entity types, names, attributes, backgrounds, starters)."""

from __future__ import annotations

from typing import List, Optional

import typer

from . import app
from .options import Backend, BackendOptions, BaseUrl, Cache, Model, NamesPerRequest, Seed, SeedsFile, parse_key_values


@app.command("seeds")
def seeds(
    out: str = typer.Option(..., "--out", help="Seeds file to write (JSONL); stage artifacts go next to it."),
    n: int = typer.Option(100, "--n", help="Number of seeds wanted."),
    backend: Backend = "transformers",
    model: Model = None,
    base_url: BaseUrl = None,
    batch_size: int = typer.Option(8, "--batch-size", help="Requests per backend call."),
    seed: Seed = 0,
    seeds_file: SeedsFile = None,
    names_per_request: NamesPerRequest = 5,
    cache: Cache = True,
    option: BackendOptions = None,
    exclude_seeds: Optional[List[str]] = typer.Option(
        None, "--exclude-seeds",
        help="Seeds whose entities must not be seeded again (repeatable): a seeds JSONL, an entity list, or a run "
             "folder holding seeds.jsonl; e.g. the seeds of the corpus a SOLID-RL generator was trained on."),
) -> None:
    """Run self-seeding alone; rerunning resumes from the stage artifacts."""
    import json
    from pathlib import Path

    from ..errors import UserError
    from ..generators.pipeline import GenerationConfig, open_llm
    from ..generators.runfolder import Meter
    from ..generators.seeding import SelfSeeder, load_seed_file
    from ..outputs import check_output_file, write_json_atomic, write_text_atomic

    target = Path(out)
    if target.suffix != ".jsonl":
        raise UserError(f"--out {out}: name a .jsonl file, e.g. runs/NAME/seeds.jsonl.")
    check_output_file(target)
    folder = target.parent
    config = GenerationConfig(out=str(folder), n=n, backend=backend, model=model, base_url=base_url,
                              batch_size=batch_size, seed=seed, seeds_file=seeds_file, cache=cache,
                              names_per_request=names_per_request, backend_options=parse_key_values(option, "--option", "delay=0.5"))
    config.check_seeds_file()
    excluded: list[str] = []
    for item in exclude_seeds or []:
        path = Path(item) / "seeds.jsonl" if Path(item).is_dir() else Path(item)
        if not path.is_file():
            raise UserError(f"--exclude-seeds {item}: no such seeds file; pass a seeds JSONL, an entity list or a run "
                            "folder holding seeds.jsonl.")
        try:
            excluded += [e["entity_name"] for e in load_seed_file(path)]
        except UserError as e:
            raise UserError(str(e).replace("--seeds ", "--exclude-seeds ", 1)) from None
    folder.mkdir(parents=True, exist_ok=True)
    meter = Meter(folder / "costs.jsonl")
    seeder = SelfSeeder(open_llm(config, folder), folder, meter, seed=seed, batch_size=batch_size,
                        names_per_request=names_per_request, seed_file=Path(seeds_file) if seeds_file else None,
                        exclude_names=excluded)
    made = seeder.run(n)
    if target.name != "seeds.jsonl":  # the stages always keep seeds.jsonl; copy the first n where asked
        write_text_atomic(target, "".join(json.dumps(s.to_dict(), ensure_ascii=False) + "\n" for s in made[:n]))
    write_json_atomic(folder / "seeding.json", {"seeds": len(made), **seeder.stats, "cost": meter.totals(),
                                                "excluded": {"from": list(exclude_seeds or []), "entities": len(seeder.exclude)}})
    typer.echo(f"{min(len(made), n)} seeds -> {target} ({json.dumps(seeder.stats)})")
