"""`bert`: input format, Trainer set-up, early stopping, scratch clean-up; one real MiniLM run."""

from __future__ import annotations

import os
import tempfile

import numpy as np
import pytest

from solid_bench.errors import UserError
from solid_bench.examples import Example, Examples
from solid_bench.predictors._check import TINY_LABELS, tiny_dialogs
from solid_bench.predictors.bert import (
    N_DIALOG_FEATURES,
    Bert,
    _best_state_callback,
    build_classifier,
    default_model,
    dialog_features,
    encode_inputs,
    make_tiny_bert,
    position_tag,
)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    return make_tiny_bert(str(tmp_path_factory.mktemp("tiny")))


def _ex(pos, n, role="user", text="hello", prev="", nxt=""):
    return Example("d", pos, n, role, text, prev, "first", (), nxt)


def test_input_is_role_position_utterance_paired_with_the_previous_one():
    assert position_tag(_ex(0, 6)) == "first early"
    assert position_tag(_ex(3, 7)) == "turn 4 middle"
    assert position_tag(_ex(8, 20)) == "turn 6 middle"
    assert position_tag(_ex(5, 6)) == "last late"
    assert encode_inputs(_ex(0, 3, "user", "my mail is gone")) == ("user first early : my mail is gone", "(dialog start)")
    assert encode_inputs(_ex(1, 3, "agent", "try this", "my mail")) == ("agent turn 2 middle : try this", "my mail")


def test_prev_next_context_clips_both_neighbours_so_truncation_keeps_the_next_one():
    first, second = encode_inputs(_ex(1, 3, "agent", "try this", "my mail is gone", "thanks it worked"), "prev+next", "[SEP]")
    assert (first, second) == ("agent turn 2 middle : try this", "my mail is gone [SEP] thanks it worked")
    assert encode_inputs(_ex(0, 1, "user", "hi"), "prev+next", "</s>")[1] == "(dialog start) </s> (dialog end)"
    long = " ".join(f"w{i}" for i in range(50))
    assert encode_inputs(_ex(1, 3, prev=long, nxt="ok"), "prev+next", "[SEP]", 4)[1] == "w0 w1 w2 w3 ... [SEP] ok"
    with pytest.raises(UserError, match="context"):
        Bert(context="whole dialog")


def test_bf16_follows_the_hardware_unless_pinned(monkeypatch):
    import solid_bench.predictors.bert as bert_module

    for native in (True, False):
        monkeypatch.setattr(bert_module, "cpu_has_native_bf16", lambda native=native: native)
        monkeypatch.setattr("torch.cuda.is_available", lambda: False)
        assert Bert()._use_bf16() is native and Bert(bf16=False)._use_bf16() is False
        assert Bert(bf16=True)._use_bf16() is True  # pinned: the same precision on every machine


def test_bf16_on_a_gpu_without_bf16_is_a_user_error(monkeypatch):
    monkeypatch.setattr("torch.cuda.is_available", lambda: True)
    monkeypatch.setattr("torch.cuda.is_bf16_supported", lambda: False)
    assert Bert()._use_bf16() is False
    with pytest.raises(UserError, match="bf16=false"):
        Bert(bf16=True)._use_bf16()


def test_tiny_fit_keeps_the_best_epoch_and_leaves_no_files(tiny_model, tmp_path, monkeypatch):
    scratch, cwd = tmp_path / "tmp", tmp_path / "cwd"
    scratch.mkdir(), cwd.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    monkeypatch.chdir(cwd)
    train, valid = Examples.from_dialogs(tiny_dialogs(12)), Examples.from_dialogs(tiny_dialogs(4, 12))
    m = Bert(model=tiny_model, epochs=2, batch_size=4, max_length=32, torch_threads=1).fit(train, valid, TINY_LABELS, 0)
    assert os.listdir(scratch) == [] and os.listdir(cwd) == []
    assert m.best_epoch_ in (1.0, 2.0) and 0.0 < m.valid_best_ <= 1.0
    assert m.params()["best_epoch"] == m.best_epoch_ and m.model_id == tiny_model
    assert m.last_stats_["precision"] == ("bf16 autocast" if m._use_bf16() else "fp32")
    p = m.predict_proba(valid)
    assert p.shape == (len(valid), len(TINY_LABELS)) and np.all(p[:, TINY_LABELS.index("ZZ")] == 0.0)
    assert np.all(p[:, :-1] > 0.0)


def test_dynamic_padding_versus_fixed_padding(tiny_model):
    train = Examples.from_dialogs(tiny_dialogs(6))
    dyn = Bert(model=tiny_model, epochs=1, batch_size=4, max_length=120, torch_threads=1, pad_multiple=None).fit(train, None, TINY_LABELS, 0)
    fixed = Bert(model=tiny_model, epochs=1, batch_size=4, max_length=120, torch_threads=1, pad_to_max_length=True).fit(train, None, TINY_LABELS, 0)
    dyn_lengths = {len(r["input_ids"]) for r in dyn._tokenize(train, False)}
    assert len(dyn_lengths) > 3 and max(dyn_lengths) <= 120
    assert {len(r["input_ids"]) for r in fixed._tokenize(train, False)} == {120}
    batch = Bert(model=tiny_model, pad_multiple=16).fit(train[:2], None, TINY_LABELS, 0)._collator()([{"input_ids": [2, 5, 3]}])
    assert batch["input_ids"].shape == (1, 16)
    for m, grouped in ((dyn, True), (fixed, False)):
        args = m._training_args(tempfile.gettempdir(), has_valid=False, seed=3)
        strategy = getattr(args, "train_sampling_strategy", None)
        assert (strategy == "group_by_length") is grouped if strategy is not None else args.group_by_length is grouped
        assert args.bf16 is m._use_bf16() and args.seed == 3 and getattr(args.save_strategy, "value", args.save_strategy) == "no"
        assert args.report_to in ("none", [], ["none"], None)


def test_best_state_callback_stops_after_patience_and_keeps_the_best_weights():
    import torch
    from transformers import TrainerControl

    cb, model, control = _best_state_callback(patience=1, metric="micro_f1"), torch.nn.Linear(2, 1), TrainerControl()
    for value, weight in ((0.5, 1.0), (0.6, 2.0), (0.55, 3.0)):
        with torch.no_grad():
            model.weight.fill_(weight)
        cb.on_evaluate(None, None, control, metrics={"eval_micro_f1": value}, model=model)
    assert cb.best == 0.6 and control.should_training_stop
    assert torch.all(cb.state_dict["weight"] == 2.0)
    loss_cb, control = _best_state_callback(patience=None, metric="loss"), TrainerControl()
    for value in (0.9, 0.7, 0.8, 0.85):
        loss_cb.on_evaluate(None, None, control, metrics={"eval_loss": value}, model=model)
    assert loss_cb.best == 0.7 and not control.should_training_stop


def test_user_errors(tiny_model, tmp_path):
    train = Examples.from_dialogs(tiny_dialogs(2))
    with pytest.raises(UserError, match="select_on"):
        Bert(model=tiny_model, select_on="accuracy").fit(train, None, TINY_LABELS, 0)
    for bad in ({"pooling": "max"}, {"features": "tfidf"}, {"pos_weight": "inverse"}):
        with pytest.raises(UserError, match=next(iter(bad))):
            Bert(model=tiny_model, **bad)
    with pytest.raises(UserError, match="cannot load encoder"):
        Bert(model=str(tmp_path / "no-such-model")).fit(train, None, TINY_LABELS, 0)


@pytest.mark.slow
def test_real_minilm_learns_in_a_few_steps():
    """Ten steps on the bundled MiniLM lower the training BCE well below the untrained model's."""
    assert os.path.isfile(os.path.join(default_model(), "config.json"))
    train = Examples.from_dialogs(tiny_dialogs(12))
    y = train.y(TINY_LABELS)[:, :-1]
    common = dict(batch_size=8, max_length=48, torch_threads=2, pad_multiple=8)

    def bce(m):
        p = np.clip(m.predict_proba(train)[:, :-1], 1e-7, 1 - 1e-7)
        return float(-(y * np.log(p) + (1 - y) * np.log(1 - p)).mean())

    untrained = Bert(lr=0.0, head_lr=0.0, max_steps=1, **common).fit(train, None, TINY_LABELS, 0)
    trained = Bert(lr=5e-4, max_steps=10, warmup=0.0, **common).fit(train, None, TINY_LABELS, 0)
    before, after = bce(untrained), bce(trained)
    assert before > 0.55 and after < before - 0.2, (before, after)
    assert trained.model_id == default_model()
    assert np.abs(trained.predict_proba(train) - untrained.predict_proba(train)).max() > 0.2


def test_examples_carry_both_neighbours():
    ex = Examples.from_dialogs(tiny_dialogs(1))
    assert ex[0].prev_text == "" and ex[-1].next_text == ""
    assert all(a.next_text == b.text and b.prev_text == a.text for a, b in zip(ex, ex[1:]))


def test_mean_pooling_ignores_padding_and_side_features_reach_the_head(tiny_model):
    import torch
    from transformers import AutoModel

    torch.manual_seed(0)
    for pooling in ("mean", "cls"):
        model = build_classifier(AutoModel.from_pretrained(tiny_model), 3, 2, pooling, dropout=0.0).eval()
        ids = torch.tensor([[2, 7, 8, 3]])
        feats = torch.tensor([[0.0, 1.0]])
        with torch.no_grad():
            short = model(input_ids=ids, attention_mask=torch.ones_like(ids), features=feats).logits
            padded = model(input_ids=torch.tensor([[2, 7, 8, 3, 0, 0]]), attention_mask=torch.tensor([[1, 1, 1, 1, 0, 0]]),
                           features=feats).logits
            other = model(input_ids=ids, attention_mask=torch.ones_like(ids), features=torch.tensor([[1.0, 0.0]])).logits
        assert torch.allclose(short, padded, atol=1e-5), pooling
        assert not torch.allclose(short, other)
    y = torch.tensor([[1.0, 0.0, 0.0]])
    weighted = build_classifier(AutoModel.from_pretrained(tiny_model), 3, 0, "mean", 0.0, pos_weight=[4.0, 1.0, 1.0]).eval()
    plain = build_classifier(AutoModel.from_pretrained(tiny_model), 3, 0, "mean", 0.0).eval()
    plain.load_state_dict(weighted.state_dict(), strict=False)
    with torch.no_grad():
        out_w = weighted(input_ids=ids, attention_mask=torch.ones_like(ids), labels=y)
        out_p = plain(input_ids=ids, attention_mask=torch.ones_like(ids), labels=y)
    logit = out_w.logits[0].double()
    by_hand = (-4.0 * torch.log(torch.sigmoid(logit[0])) - torch.log(1 - torch.sigmoid(logit[1:])).sum()) / 3
    assert float(out_w.loss) == pytest.approx(float(by_hand), rel=1e-4)
    assert float(out_w.loss) > float(out_p.loss)


def test_side_features_pos_weights_and_head_learning_rate(tiny_model):
    ex = Examples.from_dialogs(tiny_dialogs(2))
    f = dialog_features(ex)
    assert f.shape == (len(ex), N_DIALOG_FEATURES) and f[0, -1] == 0.0 and ((f >= 0) & (f <= 1)).all()
    e = Example("d", 2, 4, "user", "outlook mail gone again", "x", "my outlook mail is gone", ())
    assert dialog_features([e])[0, -1] == pytest.approx(3 / 6)  # {outlook, mail, gone} of 6 distinct words
    y = np.array([[1, 0, 0], [0, 0, 0], [0, 0, 0], [0, 0, 0], [1, 1, 0]])
    assert Bert(pos_weight="sqrt")._pos_weights(y) == pytest.approx([np.sqrt(1.5), 2.0, 1.0])
    assert Bert()._pos_weights(y) is None
    train = Examples.from_dialogs(tiny_dialogs(6))
    m = Bert(model=tiny_model, epochs=1, batch_size=4, max_length=32, torch_threads=1, lr=2e-4, head_lr=3e-3).fit(train, None, TINY_LABELS, 0)
    lrs = sorted({g["lr"] for g in m._optimizer(m.model_).param_groups})
    assert lrs == [2e-4, 3e-3]
    rows = m._tokenize(train, False)
    assert len(rows[0]["features"]) == N_DIALOG_FEATURES
    assert "features" not in Bert(model=tiny_model, features="none").fit(train, None, TINY_LABELS, 0)._tokenize(train, False)[0]
