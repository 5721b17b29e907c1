"""SOLID-RL training: data building, SFT + DPO on a tiny random Llama, resume, model card; a few real SmolLM2 SFT steps."""

from __future__ import annotations

import json
import math
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from tiny_model import build_tiny_model  # noqa: E402

from solid_bench.cli import main  # noqa: E402
from solid_bench.errors import UserError  # noqa: E402
from solid_bench.generators.solid_rl_format import format_target  # noqa: E402
from solid_bench.schema import Dialog, Seed, Utterance, dialog_to_json  # noqa: E402
from solid_bench.training.config import TrainConfig  # noqa: E402
from solid_bench.training.data import dpo_pairs, sft_records, split_by_dialog  # noqa: E402

torch = pytest.importorskip("torch")
pytest.importorskip("trl")


def synthetic_dialogs(n: int = 6) -> list[Dialog]:
    out = []
    for i in range(n):
        utts = (
            Utterance("user", "my outlook asks for the password again" if i % 2 else "outlook", ("OQ",)),
            Utterance("agent", "go to settings and choose reset", ("PA", "FD")),
            Utterance("user", "that worked , thanks", ("PF",)),
        )
        out.append(Dialog(f"solid-{i}", "solid", utts, Seed("Outlook", "software", "password", "Outlook is mail.", "reset"),
                          meta={"generator": "solid"}))
    return out


@pytest.fixture(scope="module")
def tiny_base(tmp_path_factory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("tiny") / "base")


@pytest.fixture
def run_folder(tmp_path) -> Path:
    run = tmp_path / "runs" / "solid-x"
    run.mkdir(parents=True)
    (run / "dialogs.jsonl").write_text("".join(dialog_to_json(d) + "\n" for d in synthetic_dialogs()), encoding="utf-8")
    return run


def test_split_is_by_dialog_seeded_and_disjoint():
    ds = synthetic_dialogs(10)
    tr, va = split_by_dialog(ds, 0.2, seed=1)
    assert len(tr) == 8 and len(va) == 2
    assert {d.id for d in tr}.isdisjoint({d.id for d in va}) and len(tr) + len(va) == 10
    assert split_by_dialog(ds, 0.2, seed=1) == (tr, va)
    assert split_by_dialog(ds, 0.0, seed=1) == (ds, [])


def weighted_records() -> list[dict]:
    """Four SFT records of different lengths, weights 1.0, 0.5, 1.0, 0.5."""
    ds = synthetic_dialogs(4)
    ds[2] = Dialog("long-2", "solid", ds[2].utterances * 3, ds[2].seed, meta=ds[2].meta)
    return [{**r, "weight": w} for r, w in zip(sft_records(ds, None), (1.0, 0.5, 1.0, 0.5))]


def reference_weighted_loss(model, batch, weights) -> "torch.Tensor":
    """sum_i w_i * sum_t CE_it / (completion tokens), from the full logits (independent of TRL's fused loss)."""
    logits = model(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).logits[:, :-1].float()
    labels = batch["labels"][:, 1:]
    ce = torch.nn.functional.cross_entropy(logits.transpose(1, 2), labels, ignore_index=-100, reduction="none")
    return (ce.sum(dim=1) * weights).sum() / (labels != -100).sum()


def test_sft_loss_weighs_each_dialog_by_its_lmq_weight(tiny_base, tmp_path):
    from solid_bench.training.common import build_trainer, load_model_and_tokenizer
    from solid_bench.training.sft import SFT_KEYS, sft_args, weighted_sft_trainer

    cfg = TrainConfig(source="x", out=tmp_path, batch_size=4, max_length=1024, valid_fraction=0.0)
    model, tokenizer = load_model_and_tokenizer(str(tiny_base))
    trainer = build_trainer(weighted_sft_trainer(), sft_args(cfg, tmp_path / "sft", False), model, tokenizer,
                            weighted_records(), [], SFT_KEYS, cfg)
    (batch,) = list(trainer.get_train_dataloader())  # the weights reach the batch through the dataloader
    assert sorted(batch["weight"].tolist()) == [0.5, 0.5, 1.0, 1.0]
    model.train()
    weights = batch["weight"].clone()
    with torch.no_grad():
        got = trainer.compute_loss(model, dict(batch)).item()
        want = reference_weighted_loss(model, batch, weights).item()
        unweighted = trainer.compute_loss(model, {k: v for k, v in batch.items() if k != "weight"}).item()
        ones = trainer.compute_loss(model, {**batch, "weight": torch.ones(4)}).item()
        # with gradient accumulation the Trainer passes the tokens of all micro-batches of the step
        n_tokens = int((batch["labels"][:, 1:] != -100).sum())
        accumulated = trainer.compute_loss(model, dict(batch), num_items_in_batch=torch.tensor(3 * n_tokens)).item()
        model.eval()  # evaluation is never weighted
        evaluated = trainer.compute_loss(model, dict(batch)).item()
    assert got == pytest.approx(want, rel=1e-4)
    assert unweighted == pytest.approx(reference_weighted_loss(model, batch, torch.ones(4)).item(), rel=1e-4)
    assert ones == pytest.approx(unweighted, rel=1e-6) and evaluated == pytest.approx(unweighted, rel=1e-4)
    assert got < unweighted  # half the weight on two of the four dialogs
    assert accumulated == pytest.approx(got / 3, rel=1e-4)


def short_and_long_records() -> list[dict]:
    """SFT records of 4 short (about 600 tokens) and 4 long dialogs (950, or cut at 1,024), alternating."""
    short = synthetic_dialogs(4)
    long = [Dialog(f"long-{i}", "solid", d.utterances * 5, d.seed, meta=d.meta) for i, d in enumerate(synthetic_dialogs(4))]
    return sft_records([d for pair in zip(short, long) for d in pair], None)


def never_short_with_long(lengths_by_batch: list[list[int]]) -> bool:
    return all(max(b) < 700 or min(b) > 900 for b in lengths_by_batch)


def test_sft_batches_group_dialogs_of_similar_length(tiny_base, tmp_path):
    from solid_bench.training.common import build_trainer, load_model_and_tokenizer
    from solid_bench.training.sft import SFT_KEYS, sft_args, weighted_sft_trainer

    cfg = TrainConfig(source="x", out=tmp_path, batch_size=2, max_length=1024, valid_fraction=0.0)
    model, tokenizer = load_model_and_tokenizer(str(tiny_base))
    trainer = build_trainer(weighted_sft_trainer(), sft_args(cfg, tmp_path / "sft", False), model, tokenizer, short_and_long_records(), [],
                            SFT_KEYS, cfg)
    batches = [b["attention_mask"].sum(dim=1).tolist() for b in trainer.get_train_dataloader()]
    assert sorted(n for b in batches for n in b) == sorted(len(r) for r in trainer.train_dataset["input_ids"])
    assert never_short_with_long(batches), batches


def test_dpo_batches_group_pairs_of_similar_length(tiny_base, tmp_path):
    from solid_bench.training.common import build_trainer, load_model_and_tokenizer
    from solid_bench.training.dpo import DPO_KEYS, dpo_args, grouped_dpo_trainer

    pairs = [{**r, "chosen": r["completion"], "rejected": [{"role": "assistant", "content": "[user|OQ] outlook"}]}
             for r in short_and_long_records()]
    cfg = TrainConfig(source="x", out=tmp_path, batch_size=2, max_length=1024, valid_fraction=0.0)
    model, tokenizer = load_model_and_tokenizer(str(tiny_base))
    trainer = build_trainer(grouped_dpo_trainer(), dpo_args(cfg, tmp_path / "dpo", False), model, tokenizer, pairs, [], DPO_KEYS, cfg)
    batches = [b["attention_mask"].sum(dim=1).tolist()[:2] for b in trainer.get_train_dataloader()]  # the chosen halves
    assert len(batches) == 4 and sum(len(b) for b in batches) == 8
    assert never_short_with_long(batches), batches


def test_dpo_pairs_chosen_is_solid_rejected_is_model_and_reverse_swaps():
    ds = synthetic_dialogs(3)
    recs = sft_records(ds, None)
    outs = ["garbage", format_target(ds[1]), "[user|OQ] x\n[agent|FD_PA] y\n[user|PF] z"]
    pairs = dpo_pairs(ds, recs, lambda prompts: outs[: len(prompts)])
    assert [p["id"] for p in pairs] == ["solid-0", "solid-2"]  # an exact copy of the target gives no pair
    assert pairs[0]["chosen"][0]["content"] == format_target(ds[0]) and pairs[0]["rejected"][0]["content"] == "garbage"
    assert pairs[0]["model_output_parse"].startswith("garbage-line") and pairs[1]["model_output_parse"] == "ok"
    rev = dpo_pairs(ds, recs, lambda prompts: outs[: len(prompts)], reverse=True)
    assert rev[0]["chosen"][0]["content"] == "garbage" and rev[0]["rejected"][0]["content"] == format_target(ds[0])


def test_sft_then_dpo_writes_model_card_and_finite_losses(tiny_base, run_folder, tmp_path, tiny_data, capsys):
    out = tmp_path / "models" / "rl"
    argv = ["train-generator", "--from", str(run_folder), "--base", str(tiny_base), "--out", str(out),
            "--max-steps", "2", "--save-steps", "1", "--batch-size", "2", "--grad-accum", "2", "--max-length", "1024",
            "--gen-max-new-tokens", "16", "--lr", "1e-3"]
    assert main(argv) == 0
    info = json.loads((out / "training.json").read_text())
    assert [s["stage"] for s in info["stages"]] == ["sft", "dpo"]
    for s in info["stages"]:
        assert s["global_step"] == 2
        assert math.isfinite(s["train_loss_last"]) and math.isfinite(s["eval_loss"])
    assert info["stages"][1]["eval_loss"] < 1.0  # DPO's loss starts at log 2 = 0.693
    # what the generator is made from, by name (a folder without a manifest shows its folder name)
    assert info["made_from"] == {"base_model": "base", "training_corpus": "solid-x", "training_corpus_spec": str(run_folder)}
    # LMQ on the tiny human train (conftest): OQ lengths 8, 7, 5 -> band [5.2, 7.9]; "outlook" (1 token) is
    # out, so dialogs with an even index score 2/3 (low) and odd ones 3/3 (high); PA_FD and PF bands hold theirs
    assert info["data"]["n_train"] == 5 and info["data"]["n_valid"] == 1
    train_ids = [d.id for d in split_by_dialog(synthetic_dialogs(), 0.1, 0)[0]]
    n_high = sum(int(i.split("-")[1]) % 2 for i in train_ids)
    assert info["lmq"]["tag_counts"] == {"high": n_high, "low": 5 - n_high}
    assert info["stages"][0]["train_examples"] == 5  # each training dialog once, weighted by its LMQ tag
    assert (out / "config.json").is_file() and (out / "model.safetensors").is_file()
    assert not list((out / "stages").glob("*/checkpoint-*"))
    pairs = (out / "stages" / "dpo" / "pairs.jsonl").read_text().splitlines()
    assert len(pairs) == 6
    card = (out / "README.md").read_text()
    for piece in (f"base model: `{tiny_base}`", info["data"]["sha256"], "threshold 0.8", "| sft | 2 |", "| dpo | 2 |", "lr | 0.0010"):
        assert piece in card, piece
    assert "Quality: " in json.loads(pairs[0])["prompt"][1]["content"]
    # a base that no GGUF came from gets no model.gguf, and the record and the card say why
    assert info["gguf"] == {"file": None, "skipped": f"the base {tiny_base} is neither a named local model (solid-bench "
                            "models list) nor a folder holding model.gguf, so there is no GGUF to take the tokenizer and "
                            "layout from"}
    assert not (out / "model.gguf").exists() and f"- no model.gguf: the base {tiny_base} is neither" in card
    # the compute ledger was written as the run went: each checkpoint, each stage's end, the rejected side's
    # batch, the exit; the making cost adds its seconds and the rejected side's tokens (counted in its cache)
    ledger = [json.loads(line) for line in (out / "compute.jsonl").read_text().splitlines()]
    assert [r["status"] for r in ledger] == ["checkpoint-1", "checkpoint-2", "sft", "rejected-side-6",
                                            "checkpoint-1", "checkpoint-2", "dpo", "complete"]
    assert all(r["seconds"] >= 0 for r in ledger)
    assert info["cost"]["compute_seconds"] == pytest.approx(sum(r["seconds"] for r in ledger), abs=1e-3)
    import sqlite3

    with sqlite3.connect(out / "stages" / "dpo" / "generation-cache.sqlite") as db:
        calls, prompt, completion = db.execute("SELECT count(*), sum(prompt_tokens), sum(completion_tokens) FROM completions").fetchone()
    assert calls == 2 and prompt > 0 and completion > 0  # the 6 fixture dialogs make 2 distinct prompts
    assert info["cost"]["dpo_generation"] == {"llm_calls": 2, "prompt_tokens": prompt, "completion_tokens": completion}
    assert json.loads((out / "stages" / "dpo" / "generation-cost.json").read_text())["prompt_tokens"] == prompt
    assert info["cost"]["total"]["prompt_tokens"] == info["cost"]["training_corpus"]["cost"]["prompt_tokens"] + prompt
    # a rerun finds both stages finished, retrains nothing, and adds nothing to the ledger
    assert main(argv) == 0
    assert json.loads((out / "training.json").read_text())["stages"] == info["stages"]
    assert [json.loads(line) for line in (out / "compute.jsonl").read_text().splitlines()] == ledger
    # the same folder with other settings is refused
    assert main(argv[:-2] + ["--lr", "2e-3"]) == 2
    assert "other settings (lr)" in capsys.readouterr().err


def test_sft_resumes_from_the_last_checkpoint(tiny_base, tmp_path):
    from solid_bench.training.sft import train_sft

    recs = sft_records(synthetic_dialogs(6), None)
    stage = tmp_path / "sft"
    cfg = TrainConfig(source="x", out=tmp_path, max_steps=2, save_steps=1, batch_size=2, max_length=1024, valid_fraction=0.0)
    first = train_sft(cfg, str(tiny_base), recs, [], stage)
    assert first["global_step"] == 2 and first["resumed_from"] is None and first["eval_loss"] is None
    shutil.rmtree(stage / "final")  # as if killed after checkpoint-2, before the end
    second = train_sft(TrainConfig(**{**cfg.__dict__, "max_steps": 4}), str(tiny_base), recs, [], stage)
    assert second["resumed_from"] == "checkpoint-2" and second["global_step"] == 4
    assert math.isfinite(second["train_loss_last"])
    assert [s for s, _ in second["train_loss_by_step"]][-2:] == [3, 4]


def test_lora_sft_saves_a_merged_plain_model(tiny_base, tmp_path):
    from transformers import AutoModelForCausalLM

    from solid_bench.training.sft import train_sft

    recs = sft_records(synthetic_dialogs(4), None)
    cfg = TrainConfig(source="x", out=tmp_path, max_steps=1, save_steps=1, batch_size=2, max_length=1024, lora=True, lr=1e-2)
    s = train_sft(cfg, str(tiny_base), recs[:3], recs[3:], tmp_path / "sft")
    final = Path(s["final"])
    assert not (final / "adapter_config.json").exists()
    merged = AutoModelForCausalLM.from_pretrained(final)
    base = AutoModelForCausalLM.from_pretrained(tiny_base)
    assert sum(p.numel() for p in merged.parameters()) == sum(p.numel() for p in base.parameters())
    assert math.isfinite(s["eval_loss"])


def test_a_lora_run_keeps_its_adapters_and_rebuilds_its_merged_weights_from_them(tiny_base, run_folder, tmp_path, tiny_data, capsys):
    """A LoRA run folder committed without its merged weights (a fresh clone) rebuilds them, bit for bit, by
    rerunning the same command: each stage's adapter merged into the model that stage trained on."""
    from safetensors.torch import load_file

    out = tmp_path / "models" / "rl-lora"
    argv = ["train-generator", "--from", str(run_folder), "--base", str(tiny_base), "--out", str(out), "--lora",
            "--max-steps", "2", "--save-steps", "1", "--batch-size", "2", "--max-length", "1024",
            "--gen-max-new-tokens", "16", "--lr", "1e-2", "--dpo-lr", "1e-2"]
    assert main(argv) == 0
    info = json.loads((out / "training.json").read_text())
    merged = {name: load_file(out / "stages" / name / "final" / "model.safetensors") for name in ("sft", "dpo")}
    top = load_file(out / "model.safetensors")
    base = load_file(tiny_base / "model.safetensors")
    for name in ("sft", "dpo"):
        adapter = out / "stages" / name / "adapter"
        assert (adapter / "adapter_config.json").is_file()
        assert not (adapter / "README.md").exists() and not (out / "stages" / name / "README.md").exists()
        assert json.loads((adapter / "summary.json").read_text())["global_step"] == 2
        assert (adapter / "adapter_model.safetensors").stat().st_size < (out / "stages" / name / "final" / "model.safetensors").stat().st_size
    assert any(not torch.equal(merged["dpo"][k], base[k]) for k in base)  # training moved the weights
    assert any(not torch.equal(merged["dpo"][k], merged["sft"][k]) for k in base)  # and DPO moved them again
    # a clone: adapters, pairs and records only
    for name in ("sft", "dpo"):
        shutil.rmtree(out / "stages" / name / "final")
    for f in out.glob("*.safetensors"):
        f.unlink()
    capsys.readouterr()
    assert main(argv) == 0
    assert capsys.readouterr().err.count("from its LoRA adapter") == 2
    for name in ("sft", "dpo"):
        rebuilt = load_file(out / "stages" / name / "final" / "model.safetensors")
        assert rebuilt.keys() == merged[name].keys() and all(torch.equal(rebuilt[k], merged[name][k]) for k in rebuilt)
    again = load_file(out / "model.safetensors")
    assert all(torch.equal(again[k], top[k]) for k in top)
    assert json.loads((out / "training.json").read_text())["stages"] == info["stages"]
    assert not list((out / "stages").glob("*/checkpoint-*"))  # nothing was trained again


def test_missing_corpus_and_bad_options_are_user_errors(tmp_path, capsys):
    assert main(["train-generator", "--from", str(tmp_path / "nope"), "--out", str(tmp_path / "o")]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    with pytest.raises(UserError, match="--max-length"):
        TrainConfig(source="x", out=tmp_path, max_length=8)
    assert main(["train-generator", "--from", str(tmp_path), "--out", str(tmp_path / "o"), "--grad-accum", "0"]) == 2
    assert "--grad-accum must be at least 1, got 0." in capsys.readouterr().err


@pytest.mark.slow
def test_a_few_real_sft_steps_on_smollm2(tmp_path):
    from solid_bench.llm.local_models import default_model_path
    from solid_bench.training.sft import train_sft

    base = default_model_path()  # cached under SOLID_BENCH_HOME (default ~/.cache/solid-bench), converted once
    recs = sft_records(synthetic_dialogs(3), None)
    cfg = TrainConfig(source="x", out=tmp_path, max_steps=2, save_steps=10, batch_size=1, max_length=384, lr=1e-5)
    s = train_sft(cfg, str(base), recs[:2], recs[2:], tmp_path / "sft")
    assert s["global_step"] == 2 and s["dropped_too_long"] == 0
    assert all(math.isfinite(v) for _, v in s["train_loss_by_step"])
    # an instruct model already knows chat text: its completion loss is far below uniform (log 49152 = 10.8)
    assert 0.0 < s["eval_loss"] < 8.0
