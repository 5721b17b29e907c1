"""`majority`: training label frequencies, per role or overall, checked against hand counts."""

from __future__ import annotations

import numpy as np

from solid_bench.examples import Example, Examples
from solid_bench.predictors import create
from solid_bench.schema import LabelSet

LABELS = LabelSet("t", ("OQ", "PA", "PF", "ZZ"))


def _ex(role, intents, pos=0):
    return Example("d", pos, 5, role, "text", "", "text", intents)


TRAIN = Examples([
    _ex("user", ("OQ",)), _ex("agent", ("PA",)), _ex("user", ("PF",)),
    _ex("agent", ("PA",)), _ex("user", ("OQ", "PF")), _ex("agent", ("PF",)),
])


def test_per_role_frequencies_match_hand_counts():
    m = create("majority").fit(TRAIN, None, LABELS, 0)
    p = m.predict_proba(Examples([_ex("user", ()), _ex("agent", ())]))
    # users: OQ 2/3, PF 2/3; agents: PA 2/3, PF 1/3; ZZ never
    np.testing.assert_allclose(p, [[2 / 3, 0, 2 / 3, 0], [0, 2 / 3, 1 / 3, 0]])


def test_overall_frequencies_and_unseen_role_fall_back():
    m = create("majority", by_role=False).fit(TRAIN, None, LABELS, 0)
    np.testing.assert_allclose(m.predict_proba(Examples([_ex("agent", ())])), [[2 / 6, 2 / 6, 3 / 6, 0]])
    users_only = create("majority").fit(Examples([e for e in TRAIN if e.role == "user"]), None, LABELS, 0)
    np.testing.assert_allclose(users_only.predict_proba(Examples([_ex("agent", ())])), [[2 / 3, 0, 2 / 3, 0]])
    assert users_only.params() == {"by_role": True} and m.params() == {"by_role": False}
