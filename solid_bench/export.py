"""Write a resolved corpus as solid-bench JSONL or as a Hugging Face ``datasets`` folder, atomically."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from .corpora import Corpus
from .errors import UserError
from .schema import dialog_to_dict, dialog_to_json

EXPORT_FORMATS = ("jsonl", "hf")


def export_jsonl(corpus: Corpus, out: Path) -> Path:
    """One dialog per line in solid-bench's JSONL (reads back identically through formats/jsonl.py)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for d in corpus.dialogs:
                fh.write(dialog_to_json(d) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


def hf_rows(corpus: Corpus) -> list[dict]:
    """Rows for a ``datasets.Dataset``: id, source, utterances [{role, text, intents}], seed, meta (JSON)."""
    rows = []
    for d in corpus.dialogs:
        obj = dialog_to_dict(d)
        rows.append(
            {
                "id": obj["id"],
                "source": obj["source"],
                "utterances": obj["utterances"],
                "seed": obj.get("seed"),
                "meta": json.dumps(obj.get("meta") or {}, ensure_ascii=False, sort_keys=True),
            }
        )
    return rows


def hf_features():
    """The explicit Arrow schema, so seeds that are all None still get a struct column."""
    from datasets import Features, Value

    try:
        from datasets import List
    except ImportError:  # datasets < 4
        from datasets import Sequence as List

    text = Value("string")
    return Features(
        {
            "id": text,
            "source": text,
            "utterances": [{"role": text, "text": text, "intents": List(text)}],
            "seed": {k: text for k in ("entity_name", "entity_type", "attribute", "background", "starter")},
            "meta": text,
        }
    )


def export_hf(corpus: Corpus, out: Path) -> Path:
    """A ``datasets`` folder (save_to_disk) that ``datasets.load_from_disk`` opens."""
    from datasets import Dataset

    out = Path(out)
    if out.exists() and not out.is_dir():
        raise UserError(f"{out} is a file; give --out a folder path for the hf format.")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".part", dir=out.parent))
    try:
        ds = Dataset.from_list(hf_rows(corpus), features=hf_features())
        ds.save_to_disk(str(tmp / "ds"))
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
            os.replace(out, old / "x")
            os.replace(tmp / "ds", out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp / "ds", out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def export(corpus: Corpus, fmt: str, out: Path) -> Path:
    """Export ``corpus`` in ``fmt`` (jsonl or hf) to ``out``."""
    if fmt == "jsonl":
        return export_jsonl(corpus, out)
    if fmt == "hf":
        return export_hf(corpus, out)
    raise UserError(f"Unknown export format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}.")
