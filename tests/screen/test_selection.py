"""Choosing among the gate's top: ties within uncertainty, broken for diversity."""

from __future__ import annotations

import pandas as pd
import pytest

from nasicon_workflows.descriptors import compute_descriptors
from nasicon_workflows.screen.selection import SelectionError, select_diverse, tied_groups

# A plateau like the issue's: one chemistry (Ga/Sc/Hf with Zr) in many near-equal proportions
# on top, two other chemistries a hair below, then a clearly worse one.
PLATEAU = [
    ("Zr1.25Ga0.25Sc0.25Hf0.25Si2PO12", 0.902),
    ("Zr1Ga0.25Sc0.25Hf0.5Si2PO12", 0.901),
    ("Zr1Ga0.5Sc0.25Hf0.25Si2PO12", 0.900),
    ("Zr1Ga0.25Sc0.5Hf0.25Si2PO12", 0.899),
    ("Zr1Ti0.5Lu0.5Si2PO12", 0.895),
    ("Zr1.25Mg0.25Ti0.5Si2PO12", 0.893),
    ("Zr1.75Y0.25Si2PO12", 0.60),
]


def _frame(rows, std):
    out = []
    for formula, p in rows:
        d = compute_descriptors(formula, convention="paper")
        out.append({"composition": formula, "probability": p, "probability_std": std,
                    "ionic_radius_pm": d.ionic_radius_pm, "electronegativity": d.electronegativity,
                    "valence": d.valence, "entropy_R": d.entropy_R})
    return pd.DataFrame(out)


def test_plateau_picks_different_chemistries_not_the_noise_order():
    sel = select_diverse(_frame(PLATEAU, 0.02), n=3)
    # by probability alone the top 3 are one chemistry; the tie-break gives three dopant sets
    assert sel.selected[0] == PLATEAU[0][0]
    assert set(sel.selected[1:]) == {PLATEAU[4][0], PLATEAU[5][0]}
    by_comp = {r["composition"]: r for r in sel.rows}
    assert by_comp[PLATEAU[6][0]]["tier"] == 1  # 0.60 is not tied with 0.902 +- 0.02
    assert all(by_comp[c]["tier"] == 0 for c, _ in PLATEAU[:6])
    assert "6 of the 7 scored candidates" in sel.explanation
    assert "3 distinct M-site element sets" in sel.explanation


def test_without_ties_the_order_is_the_probability_order():
    sel = select_diverse(_frame(PLATEAU, 0.0001), n=3)
    assert sel.selected == [c for c, _ in PLATEAU[:3]]


def test_missing_uncertainty_is_said_and_ranks_by_probability():
    frame = _frame(PLATEAU, float("nan"))
    sel = select_diverse(frame, n=2)
    assert sel.selected == [PLATEAU[0][0], PLATEAU[1][0]]
    assert "no probability uncertainty" in sel.explanation
    assert sel.settings["has_probability_std"] is False


def test_same_dopant_sets_fall_back_to_descriptor_spread():
    # Only the Ga/Sc/Hf chemistry, all tied: the second pick is the one farthest in descriptor
    # space from the first, not the second most probable.
    rows = PLATEAU[:4]
    frame = _frame(rows, 0.05)
    sel = select_diverse(frame, n=2)
    cols = ["ionic_radius_pm", "electronegativity", "valence", "entropy_R"]
    X = frame[cols].to_numpy()
    Z = (X - X.mean(0)) / X.std(0)
    dist = ((Z - Z[0]) ** 2).sum(1) ** 0.5
    assert sel.selected == [rows[0][0], rows[int(dist[1:].argmax()) + 1][0]]


def test_lower_tiers_fill_the_remaining_picks():
    sel = select_diverse(_frame(PLATEAU, 0.0005), n=7)
    assert len(sel.selected) == 7 and sel.selected[-1] == PLATEAU[6][0]
    assert [r["pick_order"] for r in sel.rows if r["picked"]] == [1, 2, 3, 4, 5, 6, 7]


def test_tied_groups_and_errors():
    assert list(tied_groups([0.9, 0.89, 0.5], [0.01, 0.01, 0.01])) == [0, 0, 1]
    with pytest.raises(SelectionError, match="n must be >= 1"):
        select_diverse(_frame(PLATEAU, 0.01), n=0)
    with pytest.raises(SelectionError, match="No candidates"):
        select_diverse([], n=2)
    with pytest.raises(SelectionError, match="finite 'probability'"):
        select_diverse([{"composition": PLATEAU[0][0], "probability": None}], n=1)


def test_gate_records_with_descriptor_dicts_are_accepted():
    from nasicon_workflows.screen.documents import GateRecord

    frame = _frame(PLATEAU[:5], 0.02)
    records = [
        GateRecord(composition=r["composition"], probability=r["probability"],
                   descriptors={k: r[k] for k in ("ionic_radius_pm", "electronegativity",
                                                  "valence", "entropy_R", "probability_std")})
        for r in frame.to_dict(orient="records")
    ]
    sel = select_diverse(records, n=2)
    assert sel.selected == [PLATEAU[0][0], PLATEAU[4][0]]
