"""Multi-label intent metrics (qu_accuracy, micro P/R/F1, macro F1, exact match) as an ``evaluate`` metric.

Load it offline with ``evaluate.load(solid_bench.evaluate.PATH)``. Inputs are one list of intent
codes per utterance, e.g. ``predictions=[["OQ"], ["PA", "FD"]]``; ``labels`` (keyword of
``compute``) is the label set, the 12 MSDialog codes by default. The result is exactly
``solid_bench.metrics.score``'s dict, whose docstring defines each metric.
"""

from __future__ import annotations

from typing import Sequence

import datasets
import evaluate
import numpy as np

from solid_bench.errors import UserError
from solid_bench.metrics import score
from solid_bench.schema import MSDIALOG_LABELS

_DESCRIPTION = """solid-bench's multi-label intent metrics for information-seeking dialogs (MSDialog-IntentPred):
qu_accuracy (mean per-utterance |Y∩Ŷ|/|Y∪Ŷ|, Qu et al. 2019's "accuracy"), micro_p, micro_r, micro_f1,
macro_f1 (over the labels present in the gold or predicted sets), exact_match (subset accuracy),
n_utterances and per_label p/r/f1/support/predicted, computed by solid_bench.metrics.score."""

_KWARGS_DESCRIPTION = """
Args:
    predictions: one list of predicted intent codes per utterance, e.g. [["OQ"], ["PA", "FD"], []].
    references: one list of gold intent codes per utterance, in the same order.
    labels: the label set (a sequence of distinct codes); default the MSDialog codes
        OQ RQ CQ FD FQ IR PA PF NF GG JK O. A code outside it is an error.
Returns:
    qu_accuracy, micro_p, micro_r, micro_f1, macro_f1, exact_match (floats), n_utterances (int),
    per_label: code -> {p, r, f1, support, predicted}.
Example:
    >>> import evaluate, solid_bench.evaluate
    >>> metric = evaluate.load(solid_bench.evaluate.PATH)
    >>> metric.compute(predictions=[["OQ"], ["PA", "FD"]], references=[["OQ"], ["PA"]])["micro_f1"]
    0.8
"""

_CITATION = """@inproceedings{qu2019user,
  title={User Intent Prediction in Information-seeking Conversations},
  author={Qu, Chen and Yang, Liu and Croft, W. Bruce and Zhang, Yongfeng and Trippas, Johanne R. and Qiu, Minghui},
  booktitle={CHIIR}, year={2019}
}"""


def indicator_matrix(label_sets: Sequence[Sequence[str]], codes: Sequence[str], name: str) -> np.ndarray:
    """Rows of code lists as a bool matrix (n_utterances, len(codes)); a code outside ``codes`` is a UserError."""
    column = {code: j for j, code in enumerate(codes)}
    y = np.zeros((len(label_sets), len(codes)), dtype=bool)
    for i, row in enumerate(label_sets):
        for code in row:
            if code not in column:
                raise UserError(f"{name}[{i}] has the intent code {code!r}, which is not in labels ({' '.join(codes)}); "
                                f"fix the code or pass labels=[...] to compute().")
            y[i, column[code]] = True
    return y


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class IntentMetrics(evaluate.Metric):
    """solid_bench.metrics.score over per-utterance intent-code lists."""

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features({
                "predictions": datasets.Sequence(datasets.Value("string")),
                "references": datasets.Sequence(datasets.Value("string")),
            }),
            reference_urls=["https://arxiv.org/abs/1901.03489", "https://arxiv.org/abs/2402.11633"],
        )

    def _compute(self, predictions, references, labels: Sequence[str] | None = None) -> dict:
        if labels is not None and (isinstance(labels, str) or not labels or len(set(labels)) != len(labels)):
            raise UserError(f"labels must be a list of distinct intent codes, got {labels!r}; pass each code once.")
        codes = [str(c) for c in (MSDIALOG_LABELS if labels is None else labels)]
        return score(indicator_matrix(references, codes, "references"), indicator_matrix(predictions, codes, "predictions"), codes)
