"""Every folder solid-bench uses comes from solid_bench.settings, read from the environment on each call."""

from __future__ import annotations

from pathlib import Path

from solid_bench import settings
from solid_bench.sources.solid import default_folder
from solid_bench.sources.solid_rl import default_folder as rl_folder


def test_folders_follow_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("SOLID_BENCH_HOME", str(tmp_path / "h"))
    monkeypatch.setenv("SOLID_BENCH_DATA", str(tmp_path / "d"))
    assert settings.data_root() == tmp_path / "d" and settings.home() == tmp_path / "h"
    assert settings.llm_cache_path() == tmp_path / "h" / "cache" / "llm.sqlite"
    assert settings.models_root() == tmp_path / "h" / "models"
    assert default_folder() == tmp_path / "h" / "runs" / "solid-default" and rl_folder() == tmp_path / "h" / "runs" / "solid-rl-default"


def test_defaults_without_the_environment(monkeypatch):
    monkeypatch.delenv("SOLID_BENCH_HOME", raising=False)
    monkeypatch.delenv("SOLID_BENCH_DATA", raising=False)
    assert settings.home() == Path.home() / ".cache" / "solid-bench"
    assert settings.data_root() == Path.home() / ".local" / "share" / "solid-bench" / "data"
