"""``solid-rl``: the default SOLID-RL run, ``home()/runs/solid-rl-default``, made by the user in two commands.

Unlike ``solid`` it is never generated on first use: it needs a fine-tuned model first, which
takes a training run the user should choose to start.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..corpora import SOURCES, Corpus
from ..errors import UserError
from ..schema import LabelSet
from ..settings import models_root, runs_root
from . import BaseSource


def default_folder() -> Path:
    """Where the default SOLID-RL run lives."""
    return runs_root() / "solid-rl-default"


def how_to_create(folder: Path) -> str:
    """The two commands that make the default SOLID-RL run."""
    solid = runs_root() / "solid-default"
    model = models_root() / "solid-rl"
    return (
        f"train a SOLID-RL model on SOLID dialogs with `solid-bench train-generator --from {solid} --out {model}` "
        f"(make the SOLID run first by loading the `solid` corpus, e.g. `solid-bench data stats solid`), then "
        f"`solid-bench generate --method solid-rl --model {model} --seeds {solid / 'seeds.jsonl'} --out {folder}`."
    )


@SOURCES.register("solid-rl")
class SolidRLSource(BaseSource):
    description = "SOLID-RL synthetic dialogs: the default run in home()/runs/solid-rl-default (made with train-generator, then generate --method solid-rl)"
    synthetic = True

    def available(self) -> bool:
        """Whether the default SOLID-RL run is here and complete."""
        path = default_folder() / "manifest.json"
        return (default_folder() / "dialogs.jsonl").is_file() and path.is_file() and \
            json.loads(path.read_text(encoding="utf-8")).get("status") == "complete"

    def load(self, split: str, labels: LabelSet) -> Corpus:
        from ..formats import read_dialogs
        from ..generator_names import generator_name

        folder = default_folder()
        if not (folder / "dialogs.jsonl").is_file() or not (folder / "manifest.json").is_file():
            raise UserError(f"There is no SOLID-RL run in {folder}; {how_to_create(folder)}")
        raw = (folder / "manifest.json").read_bytes()
        manifest = json.loads(raw)
        if manifest.get("status") != "complete":
            raise UserError(f"The SOLID-RL run in {folder} stopped ({manifest.get('status')}); rerun its generate command to resume it.")
        if (folder / "dialogs.jsonl").stat().st_size == 0:
            raise UserError(f"The SOLID-RL run in {folder} holds no accepted dialog; see its rejected.jsonl.")
        dialogs = read_dialogs(folder, labels, source="solid-rl", fmt="solid-bench-jsonl")
        return Corpus(
            spec="solid-rl", split=split, dialogs=tuple(dialogs), labels=labels, synthetic=True, has_human=False,
            provenance={"run_folder": str(folder), "manifest_sha256": hashlib.sha256(raw).hexdigest(),
                        "model": manifest.get("model"), "generator": generator_name(manifest),
                        "cost": manifest.get("cost", {}).get("all"),
                        "counts": manifest.get("counts")},
        )
