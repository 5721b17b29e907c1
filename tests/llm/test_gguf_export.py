"""GGUF export of a fine-tuned folder (llm/gguf_export.py) against SmolLM2's packaged Q4_1 GGUF: the base's
own dequantised folder exports back to the packaged file byte for byte; a change to one q and one k row lands
on the rows llama.cpp's permutation puts them on; llama-server on an export agrees with the original file
and with the transformers backend on the same weights (when a llama-server binary is installed)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from solid_bench.errors import UserError
from solid_bench.generators.solid_rl import model_quality_tag
from solid_bench.llm import Request, create_backend
from solid_bench.llm.backends.llama_server_backend import LlamaServerBackend
from solid_bench.llm.gguf_export import base_gguf, export_gguf, permute_qk

gguf = pytest.importorskip("gguf")
np = pytest.importorskip("numpy")
torch = pytest.importorskip("torch")
needs_server = pytest.mark.skipif(not LlamaServerBackend.is_available(),
                                  reason="llama-server not installed: pip install 'solid-bench[llama-server]'")

PROMPTS = [("user", "Write one sentence about Outlook passwords."), ("user", "List three colours.")]


def _first_difference(a: Path, b: Path) -> int | None:
    """The first byte offset where two files differ (the shorter one's length if one is a prefix), else None."""
    x, y = np.fromfile(a, dtype=np.uint8), np.fromfile(b, dtype=np.uint8)
    n = min(len(x), len(y))
    where = np.flatnonzero(x[:n] != y[:n])
    return int(where[0]) if len(where) else (None if len(x) == len(y) else n)


def _tensor(reader, name: str):
    """A tensor of a GGUF as float32 (rows, columns), dequantised when quantised."""
    t = next(t for t in reader.tensors if t.name == name)
    return np.asarray(gguf.quants.dequantize(t.data, t.tensor_type), dtype=np.float32)


@pytest.fixture(scope="module")
def base_folder(gguf_path) -> Path:
    """SmolLM2's transformers folder, dequantised from the packaged Q4_1 GGUF (converted once, cached)."""
    from solid_bench.llm.local_models import default_model_path

    return default_model_path()


@pytest.fixture(scope="module")
def base_reader(gguf_path):
    """The packaged GGUF, parsed once (a parse takes seconds: 49,152 tokens and 48,900 merges)."""
    return gguf.GGUFReader(gguf_path)


@pytest.fixture(scope="module")
def trained(base_folder, tmp_path_factory) -> tuple[Path, dict]:
    """A finished train-generator folder holding the base's own weights, and the record of its model.gguf."""
    from solid_bench.training.pipeline import write_model_gguf

    out = tmp_path_factory.mktemp("trained")
    for f in base_folder.iterdir():
        if f.name != "solid-bench-converted":
            (out / f.name).symlink_to(f)
    return out, write_model_gguf(out, None)


@pytest.fixture(scope="module")
def changed(base_folder, tmp_path_factory) -> Path:
    """The base with 0.5 added to layer 3's q_proj row 33 and k_proj row 65, exported in f16 to model.gguf."""
    from safetensors.torch import load_file, save_file

    out = tmp_path_factory.mktemp("changed")
    for f in base_folder.iterdir():
        if f.name not in ("model.safetensors", "solid-bench-converted"):
            shutil.copy(f, out / f.name)
    weights = load_file(str(base_folder / "model.safetensors"))
    weights["model.layers.3.self_attn.q_proj.weight"][33] += 0.5
    weights["model.layers.3.self_attn.k_proj.weight"][65] += 0.5
    save_file(weights, str(out / "model.safetensors"), metadata={"format": "pt"})
    assert export_gguf(out, base_gguf(None)[0], out / "model.gguf", "f16")["tensor_types"] == {"F16": 211, "F32": 61}
    return out


def test_permutation_interleaves_each_heads_two_halves():
    rows = np.arange(8.0).reshape(8, 1)  # 2 heads of 4 rows: halves (0, 1 | 2, 3) and (4, 5 | 6, 7)
    assert permute_qk(rows, 2).ravel().tolist() == [0, 2, 1, 3, 4, 6, 5, 7]
    bias = np.arange(12.0)  # 1 head of 12: row (half s, i) goes to 2 i + s
    assert permute_qk(bias, 1).tolist() == [0, 6, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11]


@pytest.mark.slow
def test_base_folder_exports_back_to_the_packaged_gguf_byte_for_byte(trained, gguf_path):
    out, record = trained
    assert record["file"] == "model.gguf" and record["base_gguf"] == gguf_path.name and record["types"] == "auto"
    assert record["retyped_tensors"] == 0  # no tensor differs from the base's, so every one keeps its type
    assert record["tensor_types"] == {"F32": 61, "Q4_1": 210, "Q8_0": 1}
    assert record["bytes"] == gguf_path.stat().st_size == 98_362_432
    # metadata (33 keys in order), tensor infos and data: requantising dequantised Q4_1 and Q8_0 blocks is exact
    assert _first_difference(out / "model.gguf", gguf_path) is None


@pytest.mark.slow
def test_a_finished_folder_keeps_its_gguf_on_a_rerun(trained):
    from solid_bench.training.card import render_card
    from solid_bench.training.pipeline import write_model_gguf

    out, record = trained
    (out / "training.json").write_text(json.dumps({"gguf": record}))
    before = (out / "model.gguf").stat().st_mtime_ns
    assert write_model_gguf(out, None) == record and (out / "model.gguf").stat().st_mtime_ns == before
    (out / "training.json").unlink()
    card = render_card({"config": {"out": "models/rl", "dpo": False, "source": "solid", "seed": 0},
                        "data": {"sha256": "x", "n_dialogs": 2, "n_train": 1, "n_valid": 1}, "lmq": {"enabled": False},
                        "base": "b", "stages": [], "gguf": record, "device": "cpu fp32", "seconds": 1.0})
    assert "- `model.gguf`: these weights laid out as `SmolLM2-135M-Instruct.Q4_1.gguf`, the base's type for each " \
           "tensor the fine-tuning left unchanged and F16 for each it changed (61 F32, 210 Q4_1, 1 Q8_0 tensors; 98.4 MB)" in card


@pytest.mark.slow
def test_a_change_to_one_q_and_one_k_row_lands_where_llama_cpp_puts_those_rows(changed, base_reader):
    new, old = gguf.GGUFReader(changed / "model.gguf"), base_reader
    types = {t.name: t.tensor_type.name for t in new.tensors}
    assert types["blk.3.attn_q.weight"] == "F16" and types["token_embd.weight"] == "F16" and types["output_norm.weight"] == "F32"
    # HF row h*64 + s*32 + i is llama.cpp's row h*64 + 2*i + s: q row 33 (head 0, s 1, i 1) -> 3;
    # k row 65 (kv head 1, s 0, i 1) -> 66. The reference is llama.cpp's own packaged file.
    for name, row in (("blk.3.attn_q.weight", 3), ("blk.3.attn_k.weight", 66), ("blk.4.attn_q.weight", None)):
        diff = _tensor(new, name) - _tensor(old, name)
        moved = np.zeros(diff.shape[0], dtype=bool)
        if row is not None:
            moved[row] = True
            assert np.abs(diff[row] - 0.5).max() < 5e-4  # f16 spacing below 1 is at most 2**-11
        assert np.abs(diff[~moved]).max() < 5e-4  # every other row: the base's value, to f16 rounding


@needs_server
@pytest.mark.slow
def test_llama_server_on_the_exported_folder_writes_what_the_original_gguf_writes(trained, gguf_path):
    out, _ = trained
    requests = [Request.chat(p, max_new_tokens=16) for p in PROMPTS]
    exported = create_backend("llama-server", str(out), threads=1, ctx_size=512)
    assert exported.model_id.startswith(f"llama-server:{out.name}/model.gguf@sha256:")
    original = create_backend("llama-server", str(gguf_path), threads=1, ctx_size=512)
    try:
        got, want = exported.complete(requests), original.complete(requests)
    finally:
        exported.close()
        original.close()
    assert [c.text for c in got] == [c.text for c in want] and all(c.completion_tokens >= 8 for c in got)


@pytest.mark.slow
def test_auto_keeps_a_small_fine_tuning_that_the_base_types_would_round_away(base_folder, base_reader, tmp_path):
    """A LoRA-sized change (1e-3, a few percent of a Q4_1 step) to one matrix: requantised to Q4_1 it is
    nearly all rounded away; auto writes that matrix in F16 and keeps every other tensor in the base's type."""
    from safetensors.torch import load_file, save_file

    for f in base_folder.iterdir():
        if f.name not in ("model.safetensors", "solid-bench-converted"):
            shutil.copy(f, tmp_path / f.name)
    weights = load_file(str(base_folder / "model.safetensors"))
    key = "model.layers.5.mlp.down_proj.weight"
    delta = 1e-3 * torch.randn(weights[key].shape, generator=torch.Generator().manual_seed(0))
    weights[key] += delta
    save_file(weights, str(tmp_path / "model.safetensors"), metadata={"format": "pt"})
    gguf_file = base_gguf(None)[0]
    lost = export_gguf(tmp_path, gguf_file, tmp_path / "base-types.gguf", "base")
    assert lost["tensor_types"] == {"F32": 61, "Q4_1": 210, "Q8_0": 1}
    base_w = _tensor(base_reader, "blk.5.ffn_down.weight")
    d = delta.numpy()
    q4 = _tensor(gguf.GGUFReader(tmp_path / "base-types.gguf"), "blk.5.ffn_down.weight") - base_w
    assert np.linalg.norm(q4 - d) > 0.9 * np.linalg.norm(d)  # Q4_1 keeps less than a tenth of the change
    kept = export_gguf(tmp_path, gguf_file, tmp_path / "model.gguf")
    assert kept["types"] == "auto" and kept["retyped_tensors"] == 1
    assert kept["tensor_types"] == {"F16": 1, "F32": 61, "Q4_1": 209, "Q8_0": 1}
    f16 = _tensor(gguf.GGUFReader(tmp_path / "model.gguf"), "blk.5.ffn_down.weight") - base_w
    assert np.linalg.norm(f16 - d) < 0.1 * np.linalg.norm(d)  # F16 keeps it, to within its rounding


@needs_server
@pytest.mark.slow
def test_llama_server_on_an_f16_export_writes_what_transformers_writes_from_the_folder(changed):
    requests = [Request.chat(p, max_new_tokens=16) for p in PROMPTS]
    server = create_backend("llama-server", str(changed), threads=1, ctx_size=512)
    hf = create_backend("transformers", str(changed), batch_size=1)
    try:
        got, want = server.complete(requests), hf.complete(requests)
    finally:
        server.close()
        hf.close()
    assert [c.text for c in got] == [c.text for c in want] and all(c.completion_tokens >= 8 for c in got)


@needs_server
@pytest.mark.slow
def test_generate_solid_rl_on_llama_server_names_the_run_by_what_made_the_generator(trained, tiny_data, tmp_path):
    from solid_bench.cli import main
    from solid_bench.generator_names import run_folder_name
    from solid_bench.schema import Seed

    folder, _ = trained
    made = {"base_model": "SmolLM2-135M", "training_corpus": "SOLID · Qwen2.5-Coder-1.5B", "training_corpus_spec": "x"}
    cost = {"llm_calls": 7, "prompt_tokens": 70, "completion_tokens": 7, "seconds": 1.5}
    (folder / "training.json").write_text(json.dumps({"quality_tag": None, "made_from": made, "cost": {"total": cost}}))
    seeds = tmp_path / "seeds.jsonl"
    seeds.write_text("".join(json.dumps(Seed(n, "software", "price", "A mail client.", f"How much is {n}?").to_dict()) + "\n"
                             for n in ("Outlook", "Excel")))
    out = tmp_path / "rl"
    try:
        assert main(["generate", "--method", "solid-rl", "--backend", "llama-server", "--model", str(folder), "--n", "2",
                     "--seeds", str(seeds), "--retries", "0", "--max-new-tokens", "4", "--batch-size", "2",
                     "--out", str(out), "-o", "threads=1", "-o", "ctx_size=1024"]) == 0
    finally:
        (folder / "training.json").unlink()
    manifest = json.loads((out / "manifest.json").read_text())
    assert run_folder_name(out) == "SOLID-RL · SmolLM2-135M trained on SOLID · Qwen2.5-Coder-1.5B"
    assert manifest["model"].startswith(f"llama-server:{folder.name}/model.gguf@sha256:")
    assert manifest["counts"]["accepted"] + manifest["counts"]["rejected"] == 2
    assert manifest["external_costs"]["generator"]["llm_calls"] == 7


def _tiny_llama(folder: Path, vocab: int = 64) -> Path:
    """A tiny random Llama with a tied head (as SmolLM2): hidden 32, 4 heads of 8, 2 kv heads, 2 layers."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    LlamaForCausalLM(LlamaConfig(vocab_size=vocab, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                 num_attention_heads=4, num_key_value_heads=2, tie_word_embeddings=True)
                     ).save_pretrained(folder)
    return folder


def _tiny_base(folder: Path, path: Path) -> Path:
    """An all-zero F32 llama GGUF laid out for ``folder``'s weights, named as llama.cpp names them."""
    from safetensors import safe_open

    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, 2)
    w = gguf.GGUFWriter(path, "llama")
    for key, value in (("block_count", 2), ("attention.head_count", 4), ("attention.head_count_kv", 2)):
        w.add_uint32(f"llama.{key}", value)
    w.add_string("tokenizer.chat_template", "{{ messages }}")
    with safe_open(str(folder / "model.safetensors"), framework="numpy") as st:
        for key in sorted(st.keys()):
            w.add_tensor(names.get_name(key, try_suffixes=(".weight",)), np.zeros_like(st.get_tensor(key)))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path


def test_a_tiny_llama_exports_with_llama_cpp_names_and_permuted_q_k_rows(tmp_path):
    from safetensors.numpy import load_file

    folder = _tiny_llama(tmp_path / "tied")
    base = _tiny_base(folder, tmp_path / "base.gguf")
    record = export_gguf(folder, base, tmp_path / "out.gguf")
    assert record["types"] == "auto" and record["retyped_tensors"] == 0 and record["tensor_types"] == {"F32": 2 * 9 + 2}  # 9 per layer, embedding, norm
    out, hf = gguf.GGUFReader(tmp_path / "out.gguf"), load_file(str(folder / "model.safetensors"))
    assert out.fields["tokenizer.chat_template"].contents() == "{{ messages }}"
    q, k = _tensor(out, "blk.1.attn_q.weight"), _tensor(out, "blk.1.attn_k.weight")
    hq, hk = hf["model.layers.1.self_attn.q_proj.weight"], hf["model.layers.1.self_attn.k_proj.weight"]
    # heads of 8 rows: HF row 4 * s + i is llama.cpp's row 2 * i + s, head by head
    assert q[1].tolist() == hq[4].tolist() and q[2].tolist() == hq[1].tolist() and q[9].tolist() == hq[12].tolist()
    assert k[15].tolist() == hk[15].tolist() and k[14].tolist() == hk[11].tolist()
    assert _tensor(out, "blk.1.ffn_down.weight").tolist() == hf["model.layers.1.mlp.down_proj.weight"].tolist()
    assert _tensor(out, "token_embd.weight").tolist() == hf["model.embed_tokens.weight"].tolist()


def test_what_cannot_be_exported_is_one_sentence(tiny_model, tmp_path):
    folder = _tiny_llama(tmp_path / "tied")
    base = _tiny_base(folder, tmp_path / "base.gguf")
    with pytest.raises(UserError, match="holds tensor lm_head.weight, for which the base GGUF has no place"):
        export_gguf(tiny_model, base, tmp_path / "x.gguf")  # an untied head: the base ties it to the embedding
    _tiny_llama(tmp_path / "wide", vocab=80)
    with pytest.raises(UserError, match=r"model\.embed_tokens\.weight has shape \(80, 32\) but the base GGUF's "
                                         r"token_embd\.weight has \(64, 32\): export against the GGUF"):
        export_gguf(tmp_path / "wide", base, tmp_path / "x.gguf")
    (tmp_path / "qwen").mkdir()
    (tmp_path / "qwen" / "config.json").write_text('{"model_type": "qwen2"}')
    (tmp_path / "qwen" / "model.safetensors").symlink_to(folder / "model.safetensors")
    with pytest.raises(UserError, match="is a 'qwen2' model but the base GGUF is 'llama'"):
        export_gguf(tmp_path / "qwen", base, tmp_path / "x.gguf")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "config.json").write_text('{"model_type": "llama"}')
    with pytest.raises(UserError, match="holds no model.safetensors"):
        export_gguf(tmp_path / "empty", base, tmp_path / "x.gguf")
    with pytest.raises(UserError, match="Unknown GGUF types 'q4_k': use one of auto, base, f16, q8_0"):
        export_gguf(folder, base, tmp_path / "x.gguf", "q4_k")
    with pytest.raises(UserError, match="does not exist: name the GGUF the model was fine-tuned from"):
        export_gguf(folder, tmp_path / "none.gguf", tmp_path / "x.gguf")
    # nothing written, no temp folder left
    assert sorted(p.name for p in tmp_path.iterdir()) == ["base.gguf", "empty", "qwen", "tied", "wide"]


def test_the_base_gguf_is_found_by_name_by_conversion_folder_or_beside_the_weights(tiny_model, gguf_path, tmp_path):
    assert base_gguf(None) == base_gguf("smollm2-135m") == (gguf_path, "")
    converted = tmp_path / "converted"
    converted.mkdir()
    (converted / "solid-bench-converted").write_text(gguf_path.name + "\n")
    assert base_gguf(str(converted)) == (gguf_path, "")
    (tmp_path / "rl").mkdir()
    (tmp_path / "rl" / "model.gguf").write_bytes(b"GGUF")
    assert base_gguf(str(tmp_path / "rl")) == (tmp_path / "rl" / "model.gguf", "")
    found, why = base_gguf(str(tiny_model))
    assert found is None and why.startswith(f"the base {tiny_model} is neither a named local model")


def test_auto_writes_a_k_quant_base_in_q8_0(tmp_path):
    from safetensors.numpy import save_file

    (tmp_path / "ft").mkdir()
    (tmp_path / "ft" / "config.json").write_text('{"model_type": "qwen2"}')
    save_file({"model.embed_tokens.weight": np.full((2, 256), 127 / 256, dtype=np.float32)}, str(tmp_path / "ft" / "model.safetensors"))
    w = gguf.GGUFWriter(tmp_path / "k.gguf", "qwen2")
    w.add_uint32("qwen2.block_count", 1)
    w.add_uint32("qwen2.attention.head_count", 1)
    w.add_tensor("token_embd.weight", np.zeros((2, 210), dtype=np.uint8), raw_dtype=gguf.GGMLQuantizationType.Q6_K)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    with pytest.raises(UserError, match="holds Q6_K tensors, which the gguf package cannot write: export with types f16"):
        export_gguf(tmp_path / "ft", tmp_path / "k.gguf", tmp_path / "out.gguf", "base")
    record = export_gguf(tmp_path / "ft", tmp_path / "k.gguf", tmp_path / "out.gguf", "q8_0")
    assert record["types"] == "q8_0" and record["tensor_types"] == {"Q8_0": 1}
    # Q8_0 of a block of 127 / 256: scale 1 / 256 (exact in f16), every value 127 -> back to 127 / 256 exactly
    assert _tensor(gguf.GGUFReader(tmp_path / "out.gguf"), "token_embd.weight").tolist() == [[127 / 256] * 256] * 2
    # auto: the tensor differs from the base's (zeros), so it is written in F16, not in a type the package cannot write
    record = export_gguf(tmp_path / "ft", tmp_path / "k.gguf", tmp_path / "out.gguf")
    assert record["types"] == "auto" and record["tensor_types"] == {"F16": 1} and record["retyped_tensors"] == 1
    assert _tensor(gguf.GGUFReader(tmp_path / "out.gguf"), "token_embd.weight").tolist() == [[127 / 256] * 256] * 2


def test_the_llama_backends_take_a_folder_that_holds_model_gguf(gguf_path, tmp_path):
    (tmp_path / "rl").mkdir()
    (tmp_path / "rl" / "model.gguf").symlink_to(gguf_path)
    backend = create_backend("llama-server", str(tmp_path / "rl"), binary=sys.executable)
    assert backend.path == gguf_path.resolve() and backend.model == str(tmp_path / "rl")
    assert backend.model_id.startswith("llama-server:rl/model.gguf@sha256:")
    (tmp_path / "rl" / "training.json").write_text(json.dumps({"quality_tag": None}))  # trained with --no-lmq
    assert model_quality_tag(backend) is None and model_quality_tag(create_backend("llama-server", binary=sys.executable)) == "high"
    (tmp_path / "hf").mkdir()
    (tmp_path / "hf" / "config.json").write_text("{}")
    with pytest.raises(UserError, match=r"holds no model\.gguf: rerun `solid-bench train-generator` with the same"):
        create_backend("llama-server", str(tmp_path / "hf"), binary=sys.executable)
