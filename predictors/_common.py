"""Helpers shared by predictors (not a predictor: the leading underscore keeps it out of discovery)."""

from __future__ import annotations

import numpy as np

STRUCTURE_FEATURES = ("is_user", "is_first", "is_last", "is_second", "relative_position", "position_capped",
                      "has_question_mark", "prev_has_question_mark", "log_words")


def structure_features(examples) -> np.ndarray:
    """Dialog-structure features (``STRUCTURE_FEATURES``): role, position, question marks, length; in [0, 1]."""
    rows = []
    for e in examples:
        n_words = len(e.text.split())
        rows.append(
            [
                e.role == "user",
                e.is_first,
                e.is_last,
                e.position == 1,
                e.relative_position,
                min(e.position, 10) / 10,
                "?" in e.text,
                "?" in e.prev_text,
                min(np.log1p(n_words), 6.0) / 6.0,
            ]
        )
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(STRUCTURE_FEATURES))


def word_overlap(a: str, b: str) -> float:
    """Jaccard overlap of the lower-cased word sets of two texts (0 when either is empty)."""
    wa, wb = set(a.lower().split()), set(b.lower().split())
    return len(wa & wb) / len(wa | wb) if wa and wb else 0.0
