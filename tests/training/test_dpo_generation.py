"""DPO's rejected side: the SFT model's own dialogs, cached batch by batch, on transformers or on llama-server."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from tiny_model import build_tiny_model  # noqa: E402

from solid_bench.errors import UserError  # noqa: E402
from solid_bench.training.config import TrainConfig  # noqa: E402
from solid_bench.training.dpo import sft_generate  # noqa: E402

pytest.importorskip("torch")

PROMPTS = [[{"role": "user", "content": f"Write dialog number {i} about Outlook."}] for i in range(5)]


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "base")


class Killed(Exception):
    """Stands for a kill while the model writes."""


def _cfg(tmp_path: Path, **kw) -> TrainConfig:
    return TrainConfig(source="x", out=tmp_path / "out", gen_max_new_tokens=6, gen_batch_size=2, **kw)


def test_a_run_killed_while_the_model_writes_resumes_with_the_batches_it_finished(tiny_base, tmp_path, monkeypatch):
    from solid_bench.llm.backends.transformers_backend import TransformersBackend

    whole = sft_generate(tiny_base, _cfg(tmp_path), tmp_path / "whole.sqlite")(PROMPTS)
    assert len(whole) == 5

    calls, dies = [], [True]
    original = TransformersBackend.complete

    def dies_on_the_second_batch(self, requests):
        calls.append(len(requests))
        if len(calls) == 2 and dies[0]:
            raise Killed
        return original(self, requests)

    monkeypatch.setattr(TransformersBackend, "complete", dies_on_the_second_batch)
    with pytest.raises(Killed):
        sft_generate(tiny_base, _cfg(tmp_path), tmp_path / "killed.sqlite")(PROMPTS)
    calls.clear()
    dies[0] = False
    resumed = sft_generate(tiny_base, _cfg(tmp_path), tmp_path / "killed.sqlite")(PROMPTS)
    assert calls == [2, 1]  # the first batch of 2 came from the cache; 2 + 1 prompts were written again
    assert resumed == whole  # seeded sampling: the same dialogs as the run that was not killed


def test_a_base_without_a_gguf_cannot_run_on_llama_server(tiny_base, tmp_path):
    with pytest.raises(UserError, match="--gen-backend llama-server runs the SFT model as a GGUF, but the base"):
        sft_generate(tiny_base, _cfg(tmp_path, base=str(tiny_base), gen_backend="llama-server"), tmp_path / "c.sqlite")
    with pytest.raises(UserError, match="--gen-backend must be one of transformers, llama-server, llama-cpp"):
        _cfg(tmp_path, gen_backend="vllm-server")


@pytest.mark.skipif(shutil.which("llama-server") is None, reason="no llama-server binary on PATH (see docs/engines.md)")
def test_the_sft_model_writes_on_llama_server_from_its_gguf_export(tmp_path):
    # SmolLM2's own folder stands for an SFT model: exported once to model.gguf, then served
    from solid_bench.llm.local_models import default_model_path

    folder = tmp_path / "sft-final"
    folder.mkdir()
    for f in default_model_path().iterdir():
        if f.name != "solid-bench-converted":
            (folder / f.name).symlink_to(f)
    cfg = _cfg(tmp_path, gen_backend="llama-server", gen_options={"parallel": 2, "threads": 1})
    texts = sft_generate(folder, cfg, tmp_path / "c.sqlite")(PROMPTS)
    assert len(texts) == 5 and all(isinstance(t, str) for t in texts) and any(t.strip() for t in texts)
    assert (folder / "model.gguf").is_file()
    again = sft_generate(folder, cfg, tmp_path / "c.sqlite")(PROMPTS)  # every answer from the cache, no new export
    assert again == texts
