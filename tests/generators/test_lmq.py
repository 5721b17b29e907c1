"""LMQ: percentile bands by hand, union bands for multi-intent utterances, quality, tags, weights, lmq-high."""

from __future__ import annotations

import pytest

from solid_bench.corpora import Corpus
from solid_bench.generators import lmq
from solid_bench.sampling import sample
from solid_bench.schema import Dialog, Utterance


def words(n: int) -> str:
    return " ".join(f"w{i}" for i in range(n))


def dlg(i, *utts) -> Dialog:
    return Dialog(f"d{i}", "t", tuple(Utterance(role, words(k), tuple(codes.split("_"))) for role, codes, k in utts))


TRAIN = [
    dlg(1, ("user", "OQ", 10), ("agent", "PA", 1), ("user", "PF", 3)),
    dlg(2, ("user", "OQ", 20), ("agent", "FD_PA", 5), ("agent", "PA", 2)),
    dlg(3, ("user", "OQ", 30), ("agent", "PA", 3), ("user", "FD", 9), ("agent", "PA", 4)),
]


def test_bands_are_the_5th_and_95th_percentiles_per_code():
    b = lmq.fit_bands(TRAIN)
    # OQ lengths [10, 20, 30]: positions 0.05*2 = 0.1 and 0.95*2 = 1.9 -> 11 and 29
    assert b.bands["OQ"] == pytest.approx((11.0, 29.0))
    # PA lengths [1, 2, 3, 4, 5] (the FD_PA utterance counts for PA): positions 0.2 and 3.8
    assert b.bands["PA"] == pytest.approx((1.2, 4.8))
    # FD lengths [5, 9]: 5 + 0.05*4 and 5 + 0.95*4
    assert b.bands["FD"] == pytest.approx((5.2, 8.8))
    assert b.bands["PF"] == pytest.approx((3.0, 3.0))
    assert set(b.bands) == {"OQ", "PA", "FD", "PF"}
    assert b.n_utterances == 10


def test_quality_is_the_share_inside_the_union_band_and_tags_follow_the_threshold():
    b = lmq.fit_bands(TRAIN)
    d = dlg(9,
            ("user", "OQ", 15),     # in  [11, 29]
            ("agent", "PA", 10),    # out [1.2, 4.8]
            ("agent", "FD_PA", 7),  # out of PA, in FD [5.2, 8.8] -> in (union)
            ("agent", "PA", 1),     # out, 1 < 1.2
            ("user", "GG", 50))     # no band for GG -> counts as in
    assert lmq.quality(d, b) == pytest.approx(3 / 5)
    assert lmq.tag(d, b) == "low"
    assert lmq.tag(d, b, threshold=0.6) == "high"
    assert lmq.tag(0.8) == "high" and lmq.tag(0.79) == "low"
    # the extremes of each code fall outside its band: d1 OQ 10 and PA 1 out; d2 FD_PA 5 out of
    # both [1.2, 4.8] and [5.2, 8.8]; d3 OQ 30 and FD 9 out
    assert [lmq.quality(t, b) for t in TRAIN] == pytest.approx([1 / 3, 2 / 3, 2 / 4])
    assert lmq.tags(TRAIN, b) == ["low", "low", "low"]
    assert lmq.tags(TRAIN, b.__class__(b.bands, settings=lmq.LMQSettings(threshold=0.5))) == ["low", "high", "high"]


def test_weights_and_settings_checks():
    s = lmq.LMQSettings(high_weight=2.0, low_weight=0.25)
    assert lmq.weight("high", s) == 2.0 and lmq.weight("low", s) == 0.25
    assert lmq.weight("high") == 1.0 and lmq.weight("low") == 0.5
    with pytest.raises(ValueError):
        lmq.weight("medium")
    with pytest.raises(ValueError):
        lmq.LMQSettings(threshold=1.5)


def test_lmq_high_sampling_takes_the_dialogs_inside_the_human_train_bands(tiny_data):
    # tiny human train OQ lengths (conftest): 8, 7, 5 tokens -> band [5.2, 7.9]
    lmq._HUMAN_BANDS.clear()
    assert lmq.human_train_bands().bands["OQ"] == pytest.approx((5.2, 7.9))
    cands = tuple(dlg(i, ("user", "OQ", k)) for i, k in enumerate([20, 6, 1, 7, 30]))
    corpus = Corpus("synthetic", "train", cands, synthetic=True, has_human=False)
    picked = sample(corpus, 2, "lmq-high", seed=3)
    assert [d.id for d in picked.dialogs] == ["d1", "d3"]
    assert picked.provenance["sample"]["strategy"] == "lmq-high"
