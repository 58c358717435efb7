"""The ranking score: each criterion checked against a hand computation."""

from __future__ import annotations

import math

import pytest

from nasicon_workflows.screen.errors import RankingWeightsError
from nasicon_workflows.screen.ranking import (
    BOLTZMANN_eV_PER_K,
    RankingWeights,
    criterion_scores,
    rank_candidates,
)

KT_300 = BOLTZMANN_eV_PER_K * 300.0  # 25.85 meV


def _row(name, p, s, mean, std, spread):
    return {"composition": name, "probability": p, "entropy_R": s, "barrier_3D_mean_eV": mean,
            "barrier_3D_std_eV": std, "ordering_energy_range_eV_per_m": spread}


def test_boltzmann_constant_codata():
    assert KT_300 == pytest.approx(0.025852, abs=1e-6)


def test_criterion_scores_by_hand():
    import pandas as pd

    frame = pd.DataFrame([
        _row("a", 0.8, 0.75, 0.40, 0.00, 0.010),
        _row("b", 0.6, 1.61, 0.40, 0.02, 0.010 + KT_300),
    ])
    scores = criterion_scores(frame, RankingWeights())
    assert scores["score_entropy"].tolist() == pytest.approx([0.5, 1.0])  # 0.75/1.5; capped
    # b's pessimistic barrier is 0.42 eV: 20 meV above a's
    assert scores["barrier_used_eV"].tolist() == pytest.approx([0.40, 0.42])
    assert scores["score_barrier"].tolist() == pytest.approx([1.0, math.exp(-0.02 / KT_300)])
    # an ordering-energy spread one kT larger scores 1/e
    assert scores["score_energetics"].tolist() == pytest.approx([1.0, math.exp(-1.0)])


def test_rank_order_and_weighted_score():
    rows = [_row("a", 0.8, 0.75, 0.40, 0.00, 0.01), _row("b", 0.6, 1.61, 0.40, 0.02, 0.02)]
    # the pre-validation weights, BVSE barrier 0.40 (no KMC column: the kmc criterion is dropped)
    ranking, notes = rank_candidates(rows, RankingWeights.parse("barrier=0.4"))
    by = {r["composition"]: r for r in ranking.to_dict(orient="records")}
    expected_a = 0.35 * 0.8 + 0.15 * 0.5 + 0.40 * 1.0 + 0.10 * 1.0
    eb = math.exp(-0.02 / KT_300)
    en = math.exp(-0.01 / KT_300)
    expected_b = 0.35 * 0.6 + 0.15 * 1.0 + 0.40 * eb + 0.10 * en
    assert by["a"]["score"] == pytest.approx(expected_a)
    assert by["b"]["score"] == pytest.approx(expected_b)
    assert ranking["composition"].tolist()[0] == ("a" if expected_a > expected_b else "b")
    assert ranking["rank"].tolist() == [1, 2]
    assert "weights used: probability 0.350" in notes[-1]


def test_missing_criterion_is_dropped_for_everyone_and_weights_renormalised():
    rows = [_row("a", 0.9, 0.5, 0.3, 0.0, None), _row("b", 0.5, 0.5, 0.3, 0.0, 0.01)]
    ranking, notes = rank_candidates(rows, RankingWeights.parse("barrier=0.4"))
    assert any("criterion 'energetics' dropped: no value for a" in n for n in notes)
    total = 0.35 + 0.15 + 0.40
    top = ranking.iloc[0]
    assert top["composition"] == "a"
    assert top["score"] == pytest.approx((0.35 * 0.9 + 0.15 * 0.5 / 1.5 + 0.40) / total)


def test_user_weights_change_the_order():
    rows = [_row("fast", 0.55, 0.5, 0.30, 0.0, 0.0), _row("likely", 0.95, 0.5, 0.45, 0.0, 0.0)]
    by_barrier, _ = rank_candidates(rows, RankingWeights.parse("barrier=1,probability=0"))
    by_probability, _ = rank_candidates(rows, RankingWeights.parse("barrier=0,probability=1"))
    assert by_barrier["composition"].tolist() == ["fast", "likely"]
    assert by_probability["composition"].tolist() == ["likely", "fast"]


def test_empty_ranking():
    ranking, notes = rank_candidates([])
    assert ranking.empty and "nothing was ranked" in notes[0]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("speed=1", "Cannot read ranking weight 'speed=1'"),
        ("probability=high", "probability='high' is not a number"),
        ("probability=-1", "must be finite and >= 0"),
        ("probability=0,entropy=0,barrier=0,energetics=0,kmc=0", "All ranking weights are zero"),
        ("barrier_dimension=4D", "'4D' is not one of"),
        ("temperature_K=0", "temperature_K must be > 0"),
    ],
)
def test_bad_weights(text, message):
    with pytest.raises(RankingWeightsError, match=message):
        RankingWeights.parse(text)


def test_report_flags_shared_cells_and_unconverged_relaxations():
    from nasicon_workflows.screen.documents import (
        CandidateResult,
        ConfigurationResult,
        ScreeningResult,
    )
    from nasicon_workflows.screen.report import render_report

    def config(cell, converged):
        return ConfigurationResult(index=0, n_atoms=81, realised_formula=cell, relaxed=True,
                                   relax_converged=converged, relax_steps=40)

    shared = "Na3.25Sc0.25Zr1.75Si2PO12"
    result = ScreeningResult(
        settings={"relax": "chgnet"},
        candidates=[
            CandidateResult(composition="Na3.3Sc0.3Zr1.7Si2PO12", status="finished",
                            configurations=[config(shared, False)]),
            CandidateResult(composition="Na3.2Sc0.2Zr1.8Si2PO12", status="finished",
                            configurations=[config(shared, True)]),
            CandidateResult(composition="Na3.5Zr1.5Lu0.5Si2PO12", status="finished",
                            configurations=[config("Na3.5Zr1.5Lu0.5Si2PO12", True)]),
        ],
    )
    text = render_report(result)
    assert ("Na3.3Sc0.3Zr1.7Si2PO12, Na3.2Sc0.2Zr1.8Si2PO12 are realised by the same finite cell "
            f"({shared})") in text
    assert "Na3.5Zr1.5Lu0.5Si2PO12, " not in text
    assert "1 of 3 relaxations stopped at the step limit" in text
