"""`majority`: each label's training frequency, optionally per speaker role. A floor baseline."""

from __future__ import annotations

import numpy as np

from . import BasePredictor, register


@register("majority")
class Majority(BasePredictor):
    """Predicts every utterance's label probabilities as their training frequencies.

    With ``by_role=True`` (default) the frequencies are counted separately for user and agent
    utterances; a role unseen in training falls back to the overall frequencies.
    """

    description = "label frequencies in training (per speaker role): a floor baseline"
    model_id = "none"

    def __init__(self, by_role: bool = True):
        self.by_role = by_role

    def fit(self, train, valid, labels, seed: int = 0) -> "Majority":
        """Count label frequencies in ``train`` (``valid`` and ``seed`` are not used)."""
        y = train.y(labels).astype(np.float64)
        self.labels_ = labels
        self.overall_ = y.mean(axis=0) if len(y) else np.zeros(len(labels))
        self.by_role_ = {}
        if self.by_role:
            roles = np.array([e.role for e in train])
            for role in sorted(set(roles.tolist())):
                self.by_role_[role] = y[roles == role].mean(axis=0)
        return self

    def predict_proba(self, examples) -> np.ndarray:
        """(n, n_labels) frequencies of the training labels."""
        out = np.empty((len(examples), len(self.labels_)), dtype=np.float64)
        for i, e in enumerate(examples):
            out[i] = self.by_role_.get(e.role, self.overall_)
        return out
