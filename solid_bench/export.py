"""Write a resolved corpus as solid-bench JSONL or as a Hugging Face ``datasets`` folder, atomically."""

from __future__ import annotations

import json
from pathlib import Path

from .corpora import Corpus
from .errors import UserError
from .outputs import atomic_write, replace_folder, staging_folder
from .schema import dialog_to_dict, dialog_to_json

EXPORT_FORMATS = ("jsonl", "hf")


def export_jsonl(corpus: Corpus, out: Path) -> Path:
    """One dialog per line in solid-bench's JSONL (reads back identically through formats/jsonl.py)."""
    with atomic_write(out) as fh:
        for d in corpus.dialogs:
            fh.write(dialog_to_json(d) + "\n")
    return Path(out)


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
    with staging_folder(out) as tmp:
        ds = Dataset.from_list(hf_rows(corpus), features=hf_features())
        ds.save_to_disk(str(tmp / "ds"))
        replace_folder(tmp / "ds", out)
    return out


def check_export_out(fmt: str, out: Path) -> Path:
    """Refuse, before the corpus is loaded, an ``--out`` that format ``fmt`` cannot write (jsonl: a file, hf: a folder)."""
    from .outputs import check_output_file, check_output_folder

    if fmt not in EXPORT_FORMATS:
        raise UserError(f"Unknown export format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}.")
    return check_output_file(out) if fmt == "jsonl" else check_output_folder(out)


def export(corpus: Corpus, fmt: str, out: Path) -> Path:
    """Export ``corpus`` in ``fmt`` (jsonl or hf) to ``out``."""
    if fmt == "jsonl":
        return export_jsonl(corpus, out)
    if fmt == "hf":
        return export_hf(corpus, out)
    raise UserError(f"Unknown export format {fmt!r}; use one of {', '.join(EXPORT_FORMATS)}.")
