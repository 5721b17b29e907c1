"""``llm-fewshot``: prompt an LLM backend with the intent definitions and k labelled examples.

The paper's LLM baseline. The k examples come from the training data (seeded, covering the most
frequent label combinations first). The model's answer is parsed into a label set; an answer
with no known intent code is *unparseable*: its row is NaN ("no answer"), which the harness
turns into an empty prediction, so it counts as wrong. Unparseable answers are tallied in
``last_stats_`` and in the Result, never dropped.
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from . import BasePredictor, register

MAX_WORDS = 30  # utterances are truncated in prompts to bound prompt length on CPU


def _short(text: str, n: int = MAX_WORDS) -> str:
    words = text.split()
    return " ".join(words[:n]) + (" ..." if len(words) > n else "")


@register("llm-fewshot")
class LLMFewShot(BasePredictor):
    """Few-shot intent labelling by an LLM over any backend (default: local SmolLM2)."""

    description = "LLM few-shot baseline: intent definitions + k training examples in the prompt; parses the label set"
    may_abstain = True  # rows may be NaN = unparseable answer, scored as wrong
    outputs_label_sets = True  # 0/1 rows: no threshold to tune, so validation data is not predicted
    _backend_ = None  # the open backend, made on first use and never pickled

    def __init__(self, backend: str = "transformers", model: str | None = None, k: int = 4, max_new_tokens: int = 8,
                 batch_size: int = 16, base_url: str | None = None, cache: bool = True, dtype: str = "auto",
                 options: dict | None = None):
        self.backend = backend
        self.model = model
        self.k = k
        self.max_new_tokens = max_new_tokens
        self.batch_size = batch_size
        self.base_url = base_url
        self.cache = cache
        self.dtype = dtype  # transformers backend only: "auto", "float32", "bfloat16", ...
        self.options = dict(options or {})  # more backend options, e.g. llama-server's {servers = 2, parallel = 8}

    @property
    def model_id(self) -> str:
        """The backend and the model it serves (``transformers:default`` for the default local model)."""
        return f"{self.backend}:{self.model or 'default'}"

    @classmethod
    def tiny_params(cls, workdir: str) -> dict:
        """The fake backend (a test double) and three shots, without the answer cache."""
        return {"backend": "fake", "k": 3, "cache": False}

    def fit(self, train, valid, labels, seed: int):
        """Pick k labelled examples: one per frequent label combination, then random fill."""
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(train))
        by_combo: dict[tuple, list[int]] = {}
        for i in order:
            by_combo.setdefault(tuple(sorted(train[int(i)].intents)), []).append(int(i))
        combos = [c for c, _ in Counter({c: len(v) for c, v in by_combo.items()}).most_common()]
        picked = [by_combo[c][0] for c in combos[: self.k]]
        for i in order:
            if len(picked) >= self.k:
                break
            if int(i) not in picked:
                picked.append(int(i))
        self.labels_ = labels
        self.shots_ = [(train[i].role, _short(train[i].prev_text), _short(train[i].text), "_".join(sorted(train[i].intents))) for i in picked]
        self.seed_ = seed
        return self

    def _system(self) -> str:
        from solid_bench.schema import INTENT_DESCRIPTIONS

        defs = "\n".join(f"{c}: {INTENT_DESCRIPTIONS.get(c, c)}" for c in self.labels_.codes)
        return ("You label utterances from technical-support forum dialogs with intent codes.\n"
                f"Codes:\n{defs}\nAnswer with the code or codes joined by '_' (e.g. FD_PA), nothing else.")

    @staticmethod
    def _query(role: str, prev: str, text: str) -> str:
        return f"Role: {role}\nPrevious: {prev or '-'}\nUtterance: {text}\nLabels?"

    def messages(self, role: str, prev: str, text: str) -> list[tuple[str, str]]:
        """The chat: intent definitions as the system turn, each shot as a user turn answered by its
        labels in an assistant turn (small chat models copy that answer format far more reliably
        than examples pasted into one message), then the utterance to label."""
        out = [("system", self._system())]
        for r, p, t, y in self.shots_:
            out += [("user", self._query(r, p, t)), ("assistant", y)]
        return out + [("user", self._query(role, prev, text))]

    def parse(self, answer: str) -> tuple[str, ...] | None:
        """Known codes in the answer's first line, or None when there is none (unparseable)."""
        first = answer.strip().splitlines()[0] if answer.strip() else ""
        tokens = re.split(r"[^A-Za-z]+", first.upper())
        codes = tuple(dict.fromkeys(t for t in tokens if t in self.labels_.codes))
        return codes or None

    def _backend(self):
        """The backend, behind the shared answer cache (``settings.llm_cache_path()``) unless ``cache=False``."""
        from solid_bench.llm.cache import open_backend

        options = {"batch_size": self.batch_size, "dtype": self.dtype} if self.backend == "transformers" else {}
        if self.base_url:
            options["base_url"] = self.base_url
        options.update(self.options)
        return open_backend(self.backend, self.model, cache_path=None if self.cache else False, **options)

    def predict_proba(self, examples) -> np.ndarray:
        from solid_bench.llm import Request

        requests = [Request.chat(*self.messages(e.role, _short(e.prev_text), _short(e.text)),
                                 max_new_tokens=self.max_new_tokens, temperature=0.0, seed=self.seed_) for e in examples]
        if self._backend_ is None:
            self._backend_ = self._backend()
        backend = self._backend_
        completions = []
        for start in range(0, len(requests), max(1, self.batch_size)):
            completions += backend.complete(requests[start:start + self.batch_size])
        out = np.zeros((len(examples), len(self.labels_)), dtype=np.float32)
        unparseable = 0
        for i, c in enumerate(completions):
            codes = self.parse(c.text)
            if codes is None:
                out[i] = np.nan
                unparseable += 1
            else:
                for code in codes:
                    out[i, self.labels_.index(code)] = 1.0
        self.last_stats_ = {"answers": len(completions), "unparseable": unparseable,
                            "prompt_tokens": sum(c.prompt_tokens for c in completions),
                            "completion_tokens": sum(c.completion_tokens for c in completions)}
        return out

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_backend_", None)  # a loaded model or HTTP client is rebuilt on demand
        return state
