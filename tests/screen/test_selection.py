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


# --------------------------------------------------------------------------- E_hull inside a tie
# Five tied rows (std 0.1 >> their 0.004 spread). Lu is absent from the DFT stability data, so
# the Lu row's E_hull is an extrapolation even though it is the lowest.
TIE = [
    # formula, p, predicted E_hull (meV/atom), ehull_note
    ("Zr1Ga0.25Sc0.25Hf0.5Si2PO12", 0.902, 9.0, ""),
    ("Zr1Ti0.5Lu0.5Si2PO12", 0.901, 1.0, "elements absent from the DFT stability data: Lu"),
    ("Zr1Ga0.5Sc0.25Hf0.25Si2PO12", 0.900, 4.0, ""),
    ("Zr1.25Mg0.25Ti0.5Si2PO12", 0.899, 12.0, ""),
    ("Zr1Ga0.25Sc0.5Hf0.25Si2PO12", 0.898, 3.0, ""),
]


def _tie_frame(ehull=True):
    frame = _frame([(c, p) for c, p, _, _ in TIE], 0.1)
    if ehull:
        frame["ehull_1000K_meV_per_atom"] = [e for _, _, e, _ in TIE]
        frame["ehull_note"] = [n for _, _, _, n in TIE]
    return frame


def test_a_tie_is_ordered_by_ehull_with_dft_covered_rows_first():
    sel = select_diverse(_tie_frame(), n=1)
    # not the most probable (9.0) nor the lowest E_hull (1.0, extrapolated): the lowest covered
    assert sel.selected == [TIE[4][0]]
    row = next(r for r in sel.rows if r["picked"])
    assert "predicted E_hull 3.0 meV/atom, lowest of the 4 tied candidates with DFT-covered" \
        in row["reason"]
    assert sel.settings["ehull_order"] is True
    # every tied row covered by the DFT data: the extrapolated one is only taken when alone
    only_lu = select_diverse(_tie_frame().iloc[[1]], n=1)
    assert "an extrapolation" in only_lu.rows[0]["reason"]


def test_diversity_still_wins_over_ehull():
    sel = select_diverse(_tie_frame(), n=3)
    # pick 2: TIE[2] (4.0 meV/atom) has pick 1's elements (similarity 1); the Lu and Mg rows
    # share only Zr (element sets 1/6, amounts 1/3: 0.33), look-alikes of no pick: the lowest
    # E_hull among them wins, DFT-covered before extrapolated
    amounts = {
        TIE[0][0]: {"Zr": 1, "Ga": 0.25, "Sc": 0.25, "Hf": 0.5},
        TIE[1][0]: {"Zr": 1, "Ti": 0.5, "Lu": 0.5},
        TIE[2][0]: {"Zr": 1, "Ga": 0.5, "Sc": 0.25, "Hf": 0.25},
        TIE[3][0]: {"Zr": 1.25, "Mg": 0.25, "Ti": 0.5},
        TIE[4][0]: {"Zr": 1, "Ga": 0.25, "Sc": 0.5, "Hf": 0.25},
    }

    def similarity(a, b):
        els = set(amounts[a]) | set(amounts[b])
        lo = sum(min(amounts[a].get(e, 0), amounts[b].get(e, 0)) for e in els)
        weighted = lo / sum(max(amounts[a].get(e, 0), amounts[b].get(e, 0)) for e in els)
        return max(len(set(amounts[a]) & set(amounts[b])) / len(els), weighted)

    first = TIE[4][0]
    assert similarity(TIE[2][0], first) == 1.0
    assert similarity(TIE[3][0], first) == pytest.approx(1 / 3)
    assert sel.selected[:2] == [first, TIE[3][0]]
    # pick 3: every row left is a look-alike of a pick; the Lu row shares Zr1 Ti0.5 with pick 2
    # (amounts 1.5/2.5 = 0.6), less than the Ga-Sc-Hf rows with pick 1 (1.0): it is taken
    # despite its extrapolated E_hull
    assert sel.selected[2] == TIE[1][0]
    reason = next(r["reason"] for r in sel.rows if r["pick_order"] == 2)
    assert "not a look-alike of the picks (M-site similarity 0.33" in reason
    assert "predicted E_hull 12.0 meV/atom, the only one with DFT-covered elements of the 2" \
        in reason
    reason = next(r["reason"] for r in sel.rows if r["pick_order"] == 3)
    assert "every tied candidate left is a look-alike of a pick" in reason
    assert "0.60 to its nearest pick" in reason
    # the rows left out say whose look-alike they are
    left = {r["composition"]: r["reason"] for r in sel.rows if not r["picked"]}
    assert left[TIE[2][0]] == (f"not picked: tied, but a look-alike of the pick {first} "
                               "(M-site similarity 1.00); predicted E_hull 4.0 meV/atom")


def test_lowest_ehull_among_non_look_alikes():
    # the second pick is the most stable non-look-alike, not the most dissimilar row: to pick 1
    # (Zr0.5HfSc0.25In0.25) the Sn-Ti-Sc row has similarity 2/6 = 0.33 and the Sn-Mg row 1/6,
    # but the Sn-Ti-Sc row is predicted more stable; the Sc-rich row is a look-alike
    # (amounts 1.75/2.25 = 0.78) despite the next-lowest E_hull
    rows = [("Zr0.5Hf1Sc0.25In0.25Si2PO12", 0.90, 0.2), ("Zr0.5Hf1Sc0.5Si2PO12", 0.90, 0.5),
            ("Zr1Sn0.5Ti0.25Sc0.25Si2PO12", 0.90, 3.0), ("Zr0.5Sn1Mg0.5Si2PO12", 0.90, 9.0)]
    frame = _frame([(c, p) for c, p, _ in rows], 0.1)
    frame["ehull_1000K_meV_per_atom"] = [e for *_, e in rows]
    frame["ehull_note"] = ""
    sel = select_diverse(frame, n=2)
    assert sel.selected[0] == rows[0][0]  # lowest E_hull overall
    assert sel.selected[1] == rows[2][0]
    assert sel.settings["look_alike"] == 0.5
    # a stricter look-alike bound (0.3) makes the Sn-Ti-Sc row a look-alike too: Sn-Mg is taken
    strict = select_diverse(frame, n=2, look_alike=0.3)
    assert strict.selected[1] == rows[3][0]
    with pytest.raises(SelectionError, match="look_alike"):
        select_diverse(frame, n=2, look_alike=0)


def test_m_site_similarity_weights_the_amounts():
    from nasicon_workflows.screen.selection import m_site_similarity

    backbone = [{"Zr": 0.5, "Hf": 1.0, "Mg": 0.25, "Sn": 0.25},
                {"Zr": 0.5, "Hf": 1.0, "Sc": 0.25, "In": 0.25}]
    # different element sets (Jaccard 2/6) but 1.5 of 2.5 of the M-site amount in common
    assert m_site_similarity(*backbone) == pytest.approx(1.5 / 2.5)
    assert m_site_similarity(backbone[0], backbone[0]) == 1.0
    assert m_site_similarity({"Zr": 2.0}, {"Hf": 2.0}) == 0.0
    # same elements, other amounts: alike
    assert m_site_similarity({"Zr": 1.5, "Ga": 0.25, "Sc": 0.25},
                             {"Zr": 1, "Ga": 0.5, "Sc": 0.5}) == 1.0
    other = {"Zr": 1.0, "Sn": 0.5, "Ti": 0.25, "Sc": 0.25}
    assert m_site_similarity(backbone[1], other) == pytest.approx(2 / 6)


def test_without_ehull_the_order_is_unchanged():
    plain = select_diverse(_tie_frame(ehull=False), n=3)
    nan = _tie_frame(ehull=False)
    nan["ehull_1000K_meV_per_atom"] = float("nan")
    with_nan = select_diverse(nan, n=3)
    assert with_nan.selected == plain.selected
    assert with_nan.explanation == plain.explanation
    assert [r["reason"] for r in with_nan.rows] == [r["reason"] for r in plain.rows]
    assert plain.selected[0] == TIE[0][0]  # most probable first, as before
    assert "E_hull" not in plain.explanation


def test_the_explanation_quotes_the_ehull_order_and_the_models_error():
    from nasicon_workflows.stability.data import stability_model_skill

    mae = stability_model_skill("grouped_mset")["median_ae"]["mean"]
    sel = select_diverse(_tie_frame(), n=3)
    assert "predicted E_hull(1000 K)" in sel.explanation
    assert f"median absolute error {mae:.1f}" in sel.explanation
    # picks at 3.0, 12.0 and 1.0 meV/atom: spread 11.0 > the median error (5.3)
    assert "spans 1.0 to 12.0 meV/atom (spread 11.0), which exceeds" in sel.explanation
    two = select_diverse(_tie_frame().iloc[[2, 4]], n=2)  # 4.0 and 3.0: spread 1.0
    assert "(spread 1.0), which does not exceed" in two.explanation
    assert "The pick's predicted E_hull is" not in two.explanation
    assert "1 of the picks' E_hull are extrapolations" in sel.explanation
    assert "extrapolations" not in two.explanation
    assert "1 have an extrapolated E_hull" in sel.explanation


def test_gate_records_carry_ehull_reasons_into_the_screen_selection():
    from nasicon_workflows.screen.documents import GateRecord
    from nasicon_workflows.screen.gate import select_candidates_explained

    frame = _tie_frame()
    records = [GateRecord(composition=r["composition"], probability=r["probability"],
                          probability_std=r["probability_std"], in_domain=True,
                          ehull_1000K_meV_per_atom=r["ehull_1000K_meV_per_atom"],
                          ehull_note=r["ehull_note"],
                          descriptors={k: r[k] for k in ("ionic_radius_pm", "electronegativity",
                                                         "valence", "entropy_R")})
               for r in frame.to_dict(orient="records")]
    out, selection = select_candidates_explained(records, threshold=0.5, top=2)
    picked = {r.composition: r.reason for r in out if r.selected}
    assert set(picked) == {TIE[4][0], TIE[3][0]}
    assert "predicted E_hull 3.0 meV/atom" in picked[TIE[4][0]]
    assert "predicted E_hull" in selection["explanation"]
    # a composition's missing note is derived from its elements (Lu: absent from the DFT data)
    records[1].ehull_note = None
    out, _ = select_candidates_explained(records, threshold=0.5, top=1)
    assert [r.composition for r in out if r.selected] == [TIE[4][0]]
