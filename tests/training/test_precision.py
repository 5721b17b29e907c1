"""Training precision: bf16 autocast on CUDA or on a CPU with native bf16, fp32 weights on CPU, env override."""

from __future__ import annotations

import pytest

from solid_bench.training import common

torch = pytest.importorskip("torch")


@pytest.fixture
def no_cuda(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


@pytest.mark.parametrize("flag, native, expected", [("0", True, False), ("1", False, True), ("", True, True), ("", False, False)])
def test_cpu_bf16_follows_the_cpu_and_the_override(no_cuda, monkeypatch, flag, native, expected):
    monkeypatch.setenv("SOLID_BENCH_CPU_BF16", flag)
    monkeypatch.setattr(common, "cpu_has_native_bf16", lambda: native)
    p = common.precision()
    assert p["cuda"] is False and p["bf16"] is expected
    assert p["dtype"] == torch.float32  # CPU keeps fp32 weights (autocast only), LoRA included
    assert common.describe(p) == ("cpu bf16 autocast" if expected else "cpu fp32")


def test_trainer_arguments_carry_the_cpu_bf16_choice(no_cuda, monkeypatch, tmp_path):
    from solid_bench.training.config import TrainConfig

    monkeypatch.setenv("SOLID_BENCH_CPU_BF16", "1")
    kw = common.trainer_kwargs(TrainConfig(source="x", out=tmp_path), tmp_path, False, 1.0, 1e-4)
    assert kw["bf16"] is True and kw["use_cpu"] is True and kw["fp16"] is False


def test_cuda_keeps_bf16_when_supported(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    p = common.precision()
    assert p["bf16"] is True and p["dtype"] == torch.bfloat16 and common.describe(p) == "cuda bf16"
