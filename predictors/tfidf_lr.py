"""`tfidf-lr`: TF-IDF of the utterance and its predecessor plus structure, one logistic regression per label."""

from __future__ import annotations

from typing import Literal

import numpy as np

from ..decision import best_micro_f1
from . import BasePredictor, register
from ._common import structure_features

C_GRID = (1.0, 2.0, 4.0, 8.0)
CLASS_WEIGHT_GRID = (None, "balanced")


@register("tfidf-lr")
class TfidfLR(BasePredictor):
    """Word 1-2-gram TF-IDF of the utterance and (separately) of the previous one, structural
    features and the cosine similarity to the dialog's first utterance; one L2 logistic
    regression per label.

    ``C=None`` / ``class_weight="search"`` pick from a small grid by validation micro-F1 at the
    best global threshold (``decision.best_micro_f1``, the harness's own rule) when a validation
    set is given, else C=2, balanced.
    A label constant in training gets a constant probability (0 when it never occurs).
    """

    description = "TF-IDF (utterance + previous utterance) + structure, per-label logistic regression"
    model_id = "sklearn-logistic-regression"

    def __init__(self, C: float | None = None, class_weight: Literal["search", "balanced"] | None = "search",
                 prev_weight: float = 0.5, struct_weight: float = 1.0, ngram_max: int = 2, min_df: int = 2, max_iter: int = 1000):
        self.C = C
        self.class_weight = class_weight
        self.prev_weight = prev_weight
        self.struct_weight = struct_weight
        self.ngram_max = ngram_max
        self.min_df = min_df
        self.max_iter = max_iter

    def params(self) -> dict:
        """Hyperparameters (plus, after fit, the C and class weight chosen on validation data)."""
        fitted = {"C_selected": self.C_, "class_weight_selected": self.class_weight_} if "C_" in vars(self) else {}
        return super().params() | fitted

    def _vectorizer(self, docs: list[str], min_df: int):
        from sklearn.feature_extraction.text import TfidfVectorizer

        for df, fit_docs in ((min_df, docs), (1, docs), (1, ["__empty__"])):  # no words at all: a dummy vocabulary
            try:
                return TfidfVectorizer(ngram_range=(1, self.ngram_max), sublinear_tf=True, min_df=df).fit(fit_docs)
            except ValueError:
                continue
        raise AssertionError("unreachable")

    def _features(self, examples):
        from scipy import sparse

        text = self.text_vec_.transform([e.text for e in examples])
        prev = self.prev_vec_.transform([e.prev_text for e in examples])
        first = self.text_vec_.transform([e.first_text for e in examples])
        sim = np.asarray(text.multiply(first).sum(axis=1)).reshape(-1, 1)
        dense = np.hstack([structure_features(examples), sim]) * self.struct_weight
        return sparse.hstack([text, prev * self.prev_weight, sparse.csr_matrix(dense)]).tocsr()

    def _fit_models(self, X, y, C, class_weight, seed):
        from sklearn.linear_model import LogisticRegression

        models = []
        for j in range(y.shape[1]):
            col = y[:, j]
            if col.min() == col.max():
                models.append(float(col[0]) if len(col) else 0.0)
                continue
            lr = LogisticRegression(C=C, class_weight=class_weight, solver="liblinear", max_iter=self.max_iter, random_state=seed)
            models.append(lr.fit(X, col))
        return models

    @staticmethod
    def _proba(models, X) -> np.ndarray:
        out = np.zeros((X.shape[0], len(models)), dtype=np.float64)
        for j, m in enumerate(models):
            out[:, j] = m if isinstance(m, float) else m.predict_proba(X)[:, 1]
        return out

    def fit(self, train, valid, labels, seed: int = 0) -> "TfidfLR":
        """Fit the vectorizers on ``train`` and the per-label models; pick C on ``valid``."""
        self.labels_ = labels
        min_df = self.min_df if len(train) >= 50 * self.min_df else 1  # tiny corpora keep every word
        self.text_vec_ = self._vectorizer([e.text for e in train], min_df)
        self.prev_vec_ = self._vectorizer([e.prev_text for e in train], min_df)
        X, y = self._features(train), train.y(labels)
        c_grid = C_GRID if self.C is None else (float(self.C),)
        cw_grid = CLASS_WEIGHT_GRID if self.class_weight == "search" else (self.class_weight,)
        if valid is not None and len(valid) and len(c_grid) * len(cw_grid) > 1:
            Xv, yv = self._features(valid), valid.y(labels)
            scored = []
            for C in c_grid:
                for cw in cw_grid:
                    models = self._fit_models(X, y, C, cw, seed)
                    scored.append((best_micro_f1(yv, self._proba(models, Xv))[0], -C, cw is None, C, cw, models))
            scored.sort(key=lambda s: s[:3], reverse=True)
            self.valid_micro_f1_, _, _, self.C_, self.class_weight_, self.models_ = scored[0]
        else:
            self.C_ = c_grid[0] if self.C is not None else 2.0
            self.class_weight_ = cw_grid[0] if self.class_weight != "search" else "balanced"
            self.models_ = self._fit_models(X, y, self.C_, self.class_weight_, seed)
        return self

    def predict_proba(self, examples) -> np.ndarray:
        """(n, n_labels) per-label probabilities."""
        if not len(examples):
            return np.zeros((0, len(self.labels_)))
        return self._proba(self.models_, self._features(examples))
