"""MANtIS (Penha et al. 2019), the intent-labelled part, from $SOLID_BENCH_DATA/mantis/merged_*_intents.json."""

from __future__ import annotations

from pathlib import Path

from ..corpora import SOURCES, Corpus
from ..errors import UserError
from ..schema import LabelSet
from ..settings import data_root
from . import BaseSource

FOLDER = "mantis"
#: solid-bench split -> MANtIS file split
FILE_SPLIT = {"train": "train", "valid": "dev", "test": "test"}
URL = "https://guzpenha.github.io/MANtIS/"


@SOURCES.register("mantis")
class Mantis(BaseSource):
    description = "MANtIS (Penha et al. 2019): human multi-domain dialogs with MSDialog-style intents (manual download)"
    synthetic = False

    def folder(self) -> Path:
        return data_root() / FOLDER

    def path(self, split: str) -> Path:
        """The file holding ``split`` (valid is MANtIS's dev)."""
        return self.folder() / f"merged_{FILE_SPLIT[split]}_intents.json"

    def available(self) -> bool:
        """True when all three split files are present."""
        return all(self.path(s).is_file() for s in self.splits)

    def load(self, split: str, labels: LabelSet) -> Corpus:
        from ..formats import read_dialogs
        from .msdialog import file_sha256

        path = self.path(split)
        if not path.is_file():
            raise UserError(
                f"{path} is missing; download MANtIS's intent files (merged_train/dev/test_intents.json, {URL}) "
                f"into {self.folder()}, or set SOLID_BENCH_DATA to the folder holding {FOLDER}/."
            )
        dialogs = read_dialogs(path, labels, source="mantis", fmt="mantis-json")
        return Corpus(
            spec="mantis",
            split=split,
            dialogs=tuple(dialogs),
            labels=labels,
            synthetic=False,
            has_human=True,
            provenance={"path": str(path), "file_sha256": file_sha256(path)},
        )
