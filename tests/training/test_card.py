"""Model card number formatting: small learning rates stay readable, losses keep four decimals."""

from solid_bench.training.card import _fmt


def test_small_floats_use_scientific_notation_and_losses_four_decimals():
    assert _fmt(5e-6) == "5.00e-06"
    assert _fmt(0.9165382) == "0.9165"
    assert _fmt(0.0) == "0.0000"
    assert _fmt(None) == "-" and _fmt(3) == "3"
