"""LMQ, length-based quality estimation of synthetic dialogs (this project's reading of SOLID-RL).

The paper weights SOLID-RL's training dialogs by a length-based quality estimate whose formula is
unpublished. Here:

* From the human TRAINING split, each intent code gets its usual length band: the 5th-95th
  percentile (numpy's default linear interpolation) of the whitespace token counts of the
  utterances that carry the code (a multi-intent utterance counts for each of its codes).
* An utterance is inside its band when its token count lies inside the band of at least one of
  its codes (the union of its codes' bands). Codes never seen in training have no band; an
  utterance none of whose codes has a band counts as inside (there is nothing to judge it by).
* A dialog's quality is the share of its utterances inside their bands; quality >= threshold
  (default 0.8) tags it "high", otherwise "low". The tag goes into the SOLID-RL prompt
  ("Quality: high") and maps to a training weight (default high 1.0, low 0.5).

Also defines the corpus sampling strategy ``lmq-high`` (``solid@500:lmq-high``): the n dialogs
of highest quality, ties broken at random, with bands fitted on ``resolve("human", "train")``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Iterable, Mapping

from solid_bench.sampling import STRATEGIES
from solid_bench.schema import Dialog, Utterance

TAGS = ("high", "low")


@dataclass(frozen=True)
class LMQSettings:
    """How quality becomes a tag and a weight; recorded in model cards."""

    threshold: float = 0.8
    high_weight: float = 1.0
    low_weight: float = 0.5
    lo_percentile: float = 5.0
    hi_percentile: float = 95.0

    def __post_init__(self) -> None:
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"LMQ threshold must lie in [0, 1], got {self.threshold}")
        if self.high_weight <= 0 or self.low_weight <= 0:
            raise ValueError("LMQ weights must be positive")
        if not 0 <= self.lo_percentile <= self.hi_percentile <= 100:
            raise ValueError("LMQ percentiles must satisfy 0 <= lo <= hi <= 100")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Bands:
    """Per-intent length bands (lo, hi) in whitespace tokens, fitted on a human training split."""

    bands: Mapping[str, tuple[float, float]]
    source_sha256: str = ""
    n_utterances: int = 0
    settings: LMQSettings = field(default_factory=LMQSettings)

    def to_dict(self) -> dict:
        return {
            "bands": {c: [lo, hi] for c, (lo, hi) in sorted(self.bands.items())},
            "source_sha256": self.source_sha256,
            "n_utterances": self.n_utterances,
            "percentiles": [self.settings.lo_percentile, self.settings.hi_percentile],
        }


def n_tokens(text: str) -> int:
    """Whitespace token count, the length unit of LMQ."""
    return len(text.split())


def fit_bands(corpus, settings: LMQSettings = LMQSettings()) -> Bands:
    """Length bands per intent code from ``corpus`` (a Corpus or an iterable of Dialogs)."""
    import numpy as np

    dialogs = corpus.dialogs if hasattr(corpus, "dialogs") else tuple(corpus)
    lengths: dict[str, list[int]] = {}
    n = 0
    for d in dialogs:
        for u in d.utterances:
            n += 1
            for code in set(u.intents):
                lengths.setdefault(code, []).append(n_tokens(u.text))
    bands = {
        code: (float(np.percentile(v, settings.lo_percentile)), float(np.percentile(v, settings.hi_percentile)))
        for code, v in lengths.items()
    }
    return Bands(bands, getattr(corpus, "sha256", ""), n, settings)


def in_band(utterance: Utterance, bands: Bands) -> bool:
    """Whether the utterance's length lies inside the band of at least one of its codes."""
    known = [bands.bands[c] for c in utterance.intents if c in bands.bands]
    if not known:
        return True
    k = n_tokens(utterance.text)
    return any(lo <= k <= hi for lo, hi in known)


def quality(dialog: Dialog, bands: Bands) -> float:
    """Share of the dialog's utterances inside their length bands (1.0 for an empty dialog)."""
    if not dialog.utterances:
        return 1.0
    return sum(in_band(u, bands) for u in dialog.utterances) / len(dialog.utterances)


def tag(dialog_or_quality: Dialog | float, bands: Bands | None = None, threshold: float | None = None) -> str:
    """'high' when quality >= threshold (default: the bands' settings, 0.8), else 'low'."""
    if isinstance(dialog_or_quality, Dialog):
        if bands is None:
            raise ValueError("tag(dialog) needs the bands")
        q = quality(dialog_or_quality, bands)
    else:
        q = float(dialog_or_quality)
    if threshold is None:
        threshold = bands.settings.threshold if bands is not None else LMQSettings().threshold
    return "high" if q >= threshold else "low"


def weight(tag_: str, settings: LMQSettings = LMQSettings()) -> float:
    """Training weight of a tag (high_weight or low_weight)."""
    if tag_ not in TAGS:
        raise ValueError(f"LMQ tag must be one of {TAGS}, got {tag_!r}")
    return settings.high_weight if tag_ == "high" else settings.low_weight


def tags(dialogs: Iterable[Dialog], bands: Bands) -> list[str]:
    """The tag of each dialog, in order."""
    return [tag(d, bands) for d in dialogs]


_HUMAN_BANDS: dict[str, Bands] = {}


def human_train_bands() -> Bands:
    """Bands fitted on ``resolve('human', 'train')``, cached per data folder for this process."""
    from solid_bench.corpora import resolve
    from solid_bench.settings import data_root

    key = str(data_root())
    if key not in _HUMAN_BANDS:
        _HUMAN_BANDS[key] = fit_bands(resolve("human", "train"))
    return _HUMAN_BANDS[key]


@STRATEGIES.register("lmq-high")
def lmq_high(corpus, n, rng):
    """The n dialogs of highest LMQ quality (bands from the human train split); ties at random."""
    bands = human_train_bands()
    order = rng.permutation(len(corpus.dialogs))
    qs = [quality(corpus.dialogs[i], bands) for i in order]
    ranked = sorted(range(len(order)), key=lambda j: -qs[j])  # stable: random order among ties
    return sorted(int(order[j]) for j in ranked[:n])
