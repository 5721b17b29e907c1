"""A GGUF for a fine-tuned transformers folder whose base model came from a GGUF (SOLID-RL on llama.cpp).

``export_gguf(folder, base_gguf, out)`` copies every metadata key/value of the base GGUF
(architecture, hyperparameters, tokenizer, chat template) in the base's order and writes the
folder's weights in place of the base's, with the base's tensor names, shapes and order. The
weights are read from the folder's safetensors; q_proj/k_proj rows of a Llama are permuted as
llama.cpp's ``convert_hf_to_gguf.py`` does (transformers' GGUF loader undoes that permutation).

Types (``types``): ``auto`` (the default) decides per tensor. A tensor the fine-tuning left as the
base has it keeps the base's type (SmolLM2's file: Q4_1 matrices, a Q8_0 token embedding, F32
norms), or Q8_0 where the gguf package cannot write that type (a K-quant base such as Qwen's
Q4_K_M). A tensor the fine-tuning changed is written in F16: requantising it to a 4-bit type
rounds the change away (a LoRA fine-tuning of SmolLM2-135M moved its matrices by about 2% of a
Q4_1 step, and not one Q4_1 code changed; docs/generation.md). F32 tensors stay F32. ``base``
writes every tensor in the base's type; ``f16`` and ``q8_0`` write every matrix in that type and
keep the base's F32 tensors F32, as ``convert_hf_to_gguf.py --outtype`` does. Exported from the
base's own dequantised folder, ``auto`` and ``base`` give back the base file byte for byte
(tests/llm/test_gguf_export.py).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path

from ..errors import UserError

GGUF_FILE = "model.gguf"  # the GGUF beside a model folder's weights; the llama backends load it from the folder
TYPES = ("auto", "base", "f16", "q8_0")
#: GGUF architectures this export knows, and whether llama.cpp stores their q/k rows permuted (LlamaModel.permute).
ARCHITECTURES = {"llama": True, "qwen2": False}
_FILE_TYPE = {"f16": 1, "q8_0": 7}  # gguf.LlamaFileType MOSTLY_F16, MOSTLY_Q8_0
_WRITABLE = ("F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0")  # types gguf.quants can write


def model_gguf(folder: Path | str) -> Path | None:
    """``folder/model.gguf`` when ``folder`` is a model folder that holds one, else None."""
    path = Path(folder).expanduser() / GGUF_FILE
    return path if path.is_file() else None


def base_gguf(base: str | None) -> tuple[Path | None, str]:
    """The GGUF a fine-tune of ``base`` is exported against, and why there is none: a named local model
    (None: the default) or its transformers conversion gives its GGUF, a model folder its model.gguf."""
    from .local_models import source_gguf

    found = model_gguf(base) if base is not None and Path(base).expanduser().is_dir() else None
    found = found or source_gguf(base)
    if found is None:
        return None, (f"the base {base} is neither a named local model (solid-bench models list) nor a folder "
                      "holding model.gguf, so there is no GGUF to take the tokenizer and layout from")
    return found, ""


def permute_qk(weights, n_head: int):
    """HF q/k rows -> llama.cpp's rotary layout: per head, rows (half, i) become (i, half)."""
    return (weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
            .swapaxes(1, 2).reshape(weights.shape))


def _field_value(field):
    """(value, type, sub_type) of a reader field, strings as raw bytes (copied exactly)."""
    from gguf import GGUFValueType

    main = field.types[0]
    if main == GGUFValueType.STRING:
        return bytes(field.parts[field.data[0]]), main, None
    if main == GGUFValueType.ARRAY:
        sub = field.types[-1]
        if len(field.types) != 2:
            raise UserError(f"The base GGUF's key {field.name} is a nested array, which this export cannot copy: "
                            "convert with llama.cpp's convert_hf_to_gguf.py instead.")
        if sub == GGUFValueType.STRING:
            return [bytes(field.parts[i]) for i in field.data], main, sub
        return field.contents(), main, sub
    return field.contents(), main, None


def _hf_weights(folder: Path) -> dict[str, tuple[Path, list[int]]]:
    """HF tensor name -> (safetensors file, shape) for a model folder (one file or an index of shards)."""
    from safetensors import safe_open

    index = folder / "model.safetensors.index.json"
    if index.is_file():
        where = {k: folder / f for k, f in json.loads(index.read_text(encoding="utf-8"))["weight_map"].items()}
    elif (folder / "model.safetensors").is_file():
        with safe_open(str(folder / "model.safetensors"), framework="pt") as st:
            where = dict.fromkeys(st.keys(), folder / "model.safetensors")
    else:
        raise UserError(f"{folder} holds no model.safetensors: give the folder that train-generator wrote.")
    out = {}
    for f in sorted(set(where.values())):
        with safe_open(str(f), framework="pt") as st:
            out.update({k: (f, list(st.get_slice(k).get_shape())) for k, at in where.items() if at == f})
    return out


def _target_type(base_type, types: str, shape: list[int], changed: bool = False):
    """The GGML type a tensor is written in (see the module docstring)."""
    from gguf import GGMLQuantizationType as Q

    if types == "auto":
        if base_type == Q.F32:
            return Q.F32
        if changed:
            return Q.F16
        types = "base" if base_type.name in _WRITABLE else "q8_0"
    if types == "base":
        if base_type.name not in _WRITABLE:
            raise UserError(f"The base GGUF holds {base_type.name} tensors, which the gguf package cannot write: "
                            "export with types f16 or q8_0 instead.")
        return base_type
    if base_type == Q.F32:
        return Q.F32
    if types == "q8_0" and shape[-1] % 32 == 0:
        return Q.Q8_0
    return Q.F16


def _changed(tensor, data) -> bool:
    """Whether the folder's tensor ``data`` (float32, in llama.cpp's row order) differs from the base GGUF's ``tensor``."""
    import gguf
    import numpy as np

    base = np.asarray(gguf.quants.dequantize(tensor.data, tensor.tensor_type), dtype=np.float32).reshape(data.shape)
    return not np.array_equal(base, data)


def _config(folder: Path) -> dict:
    """The folder's config.json."""
    try:
        return json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise UserError(f"{folder} has no readable config.json: give a transformers model folder.") from None


def _plan(folder: Path, config: dict, hf: dict, reader, types: str, read) -> tuple[str, list[tuple]]:
    """Check that ``folder`` (its config and weights ``hf``) fits the base GGUF; (architecture, [(gguf name,
    hf name, safetensors file, shape, type, heads to permute or None)]) in the base's tensor order."""
    import gguf

    fields = reader.fields
    arch = fields["general.architecture"].contents()
    if arch not in ARCHITECTURES:
        raise UserError(f"The base GGUF's architecture {arch!r} is not one this export knows ({', '.join(ARCHITECTURES)}): "
                        "convert with llama.cpp's convert_hf_to_gguf.py instead.")
    if config.get("model_type") != arch:
        raise UserError(f"{folder} is a {config.get('model_type')!r} model but the base GGUF is {arch!r}: "
                        "export against the GGUF the model was fine-tuned from.")
    n_blocks = int(fields[f"{arch}.block_count"].contents())
    n_head = int(fields[f"{arch}.attention.head_count"].contents())
    kv = fields.get(f"{arch}.attention.head_count_kv")
    n_head_kv = int(kv.contents()) if kv is not None else n_head
    names = gguf.get_tensor_name_map(next(a for a, n in gguf.MODEL_ARCH_NAMES.items() if n == arch), n_blocks)
    by_gguf: dict[str, str] = {}
    base_names = {t.name for t in reader.tensors}
    for key in hf:
        target = names.get_name(key, try_suffixes=(".weight", ".bias"))
        if target == "output.weight" and target not in base_names and config.get("tie_word_embeddings"):
            continue  # a tied lm_head is the token embedding, which the base writes once
        if target not in base_names:
            raise UserError(f"{folder} holds tensor {key}, for which the base GGUF has no place: export against "
                            "the GGUF the model was fine-tuned from.")
        by_gguf[target] = key
    plan = []
    for t in reader.tensors:
        key = by_gguf.get(t.name)
        if key is None:
            raise UserError(f"{folder} lacks the base GGUF's tensor {t.name}: export against the GGUF the model "
                            "was fine-tuned from.")
        file, shape = hf[key]
        if list(reversed(shape)) != [int(n) for n in t.shape]:
            raise UserError(f"{folder}'s {key} has shape {tuple(shape)} but the base GGUF's {t.name} has "
                            f"{tuple(int(n) for n in reversed(t.shape))}: export against the GGUF the model was "
                            "fine-tuned from.")
        heads = None
        if ARCHITECTURES[arch] and t.name.endswith(("attn_q.weight", "attn_q.bias")):
            heads = n_head
        elif ARCHITECTURES[arch] and t.name.endswith(("attn_k.weight", "attn_k.bias")):
            heads = n_head_kv
        changed = types == "auto" and t.tensor_type != gguf.GGMLQuantizationType.F32 and _changed(t, read(file, key, heads))
        plan.append((t.name, key, file, shape, _target_type(t.tensor_type, types, shape, changed), heads))
    return arch, plan


class _Tensors:
    """Folder tensors as float32 numpy in llama.cpp's row order, one open safetensors handle per file."""

    def __init__(self):
        self.handles: dict[Path, object] = {}

    def __call__(self, path: Path, key: str, heads: int | None):
        import numpy as np
        from safetensors import safe_open

        if path not in self.handles:
            self.handles[path] = safe_open(str(path), framework="pt")
        data = self.handles[path].get_tensor(key).float().numpy()
        return np.ascontiguousarray(permute_qk(data, heads) if heads is not None else data)


def export_beside(folder: Path | str, base: str | None) -> dict:
    """Write ``folder/model.gguf`` laid out as ``base``'s GGUF: the export's record, or ``{"file": None,
    "skipped": why}`` when ``base`` has no GGUF to take the layout from."""
    source, why = base_gguf(base)
    if source is None:
        return {"file": None, "skipped": why}
    return export_gguf(folder, source, Path(folder) / GGUF_FILE, "auto")


def export_gguf(folder: Path | str, base_gguf: Path | str, out: Path | str, types: str = "auto") -> dict:
    """Write ``out``: ``base_gguf``'s metadata with ``folder``'s weights (see the module docstring); what was written."""
    import gguf
    import numpy as np

    from ..outputs import staging_folder

    t0 = time.perf_counter()
    folder, base_gguf, out = Path(folder).expanduser(), Path(base_gguf).expanduser(), Path(out)
    if types not in TYPES:
        raise UserError(f"Unknown GGUF types {types!r}: use one of {', '.join(TYPES)}.")
    if not base_gguf.is_file():
        raise UserError(f"The base GGUF {base_gguf} does not exist: name the GGUF the model was fine-tuned from.")
    config, hf = _config(folder), _hf_weights(folder)  # the cheap checks first: parsing the base takes seconds
    reader = gguf.GGUFReader(base_gguf)
    read = _Tensors()
    arch, plan = _plan(folder, config, hf, reader, types, read)
    base_types = {t.name: t.tensor_type for t in reader.tensors}
    retyped = [p[4].name for p in plan if p[4] != base_types[p[0]]]
    if types == "auto":  # general.file_type names the main type: F16 once a fine-tuned matrix is F16
        file_type = _FILE_TYPE["f16"] if "F16" in retyped else (_FILE_TYPE["q8_0"] if retyped else None)
    else:
        file_type = None if types == "base" else _FILE_TYPE[types]
    with staging_folder(out) as tmp:
        writer = gguf.GGUFWriter(tmp / out.name, arch)
        for name, field in reader.fields.items():
            if name.startswith("GGUF.") or name == "general.architecture":  # header fields; the writer adds the arch
                continue
            value, vtype, sub = _field_value(field)
            if name == "general.file_type" and file_type is not None:
                value = file_type
            if name == "general.alignment":
                writer.data_alignment = int(value)
            writer.add_key_value(name, value, vtype, sub)
        for name, _, _, shape, qtype, _ in plan:
            nbytes = int(np.prod(gguf.quants.quant_shape_to_byte_shape(shape, qtype)))
            writer.add_tensor_info(name, shape, np.float32, nbytes, raw_dtype=qtype)
        writer.write_header_to_file()
        writer.write_kv_data_to_file()
        writer.write_ti_data_to_file()
        try:
            for _, key, path, _, qtype, heads in plan:
                writer.write_tensor_data(gguf.quants.quantize(read(path, key, heads), qtype))
        finally:
            read.handles.clear()
            writer.close()
        (tmp / out.name).replace(out)
    return {"file": out.name, "base_gguf": base_gguf.name, "types": types, "retyped_tensors": len(retyped),
            "tensor_types": dict(sorted(Counter(p[4].name for p in plan).items())),
            "bytes": out.stat().st_size, "seconds": round(time.perf_counter() - t0, 2)}
