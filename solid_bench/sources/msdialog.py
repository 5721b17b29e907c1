"""MSDialog-IntentPred (Qu et al. 2019), the standard train/valid/test split, from $SOLID_BENCH_DATA."""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..corpora import SOURCES, Corpus
from ..errors import UserError
from ..schema import LabelSet
from ..settings import data_root
from . import BaseSource

FOLDER = "msdialog-intentpred"
#: SHA-256 of the public copy (github.com/ChuanMeng/SIP @ 9c474c8, dataset/MSDialog/).
SHA256 = {
    "train": "4798ca33eb4a03d9ce637eb41525411513d3cfce5dc55f57352dd8f10fe215b9",
    "valid": "588dfb361d06c4058b1a9ff0d5bdfcf7226ce2f98e31c4a091d081cd445fc0d6",
    "test": "53d8683f379c6da0d5ca134867a37afe7943d030d647a8ba39d780b971d07538",
}


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@SOURCES.register("msdialog")
class MSDialog(BaseSource):
    description = "MSDialog-IntentPred (Qu et al. 2019): human dialogs, train/valid/test = 1760/220/219 dialogs"
    synthetic = False

    def folder(self) -> Path:
        return data_root() / FOLDER

    def available(self) -> bool:
        """True when all three split files are in the data folder."""
        return all((self.folder() / f"{s}.tsv").is_file() for s in self.splits)

    def load(self, split: str, labels: LabelSet) -> Corpus:
        from ..formats import read_dialogs

        root = data_root()
        if not root.is_dir():
            raise UserError(
                f"The data folder {root} does not exist; set SOLID_BENCH_DATA to the folder holding "
                f"{FOLDER}/, or run `solid-bench data download msdialog`."
            )
        path = self.folder() / f"{split}.tsv"
        if not path.is_file():
            raise UserError(
                f"{path} is missing; run `solid-bench data download msdialog` or copy the MSDialog-IntentPred "
                f"{split}.tsv there."
            )
        dialogs = read_dialogs(path, labels, source="msdialog", fmt="msdialog-tsv")
        digest = file_sha256(path)
        return Corpus(
            spec="msdialog",
            split=split,
            dialogs=tuple(dialogs),
            labels=labels,
            synthetic=False,
            has_human=True,
            provenance={"path": str(path), "file_sha256": digest, "matches_public_copy": digest == SHA256.get(split)},
        )
