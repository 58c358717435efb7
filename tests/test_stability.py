"""Tests of the shipped DFT stability data and the E_hull(1000 K) regressor.

Reference values: the CSV of Ouyang et al., Nat. Commun. 2021, 12, 5752 (E_hull(1000 K) of
Na3Zr2Si2PO12 -6.0, NaZr2(PO4)3 0.54, Na3Sc2(PO4)3 1.5, Na3ZrTiSi2PO12 3.8 meV/atom, as the
rows of that CSV give them).
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest

from nasicon_workflows.composition import NasiconComposition
from nasicon_workflows.stability import load_stability_data, stability_feature_arrays
from nasicon_workflows.stability.model import (
    STABILITY_FEATURES,
    build_stability_regressor,
    compositions_to_arrays,
)


@pytest.fixture(scope="module")
def data():
    return load_stability_data()


def test_every_na_row_is_read_or_listed_with_its_reason(data):
    assert data.n_rows == 3881
    assert data.n_without_na == 296
    n_na = data.n_rows - data.n_without_na
    assert n_na == 3585
    assert len(data.compositions) + len(data.rejected) == n_na
    # 2,445 rows carry S (sulfate or mixed S polyanions), 59 have Na 0.5 per formula unit
    assert data.rejection_counts() == {"TetrahedralSumError": 2445, "SodiumRangeError": 59}
    assert len(data.compositions) == 1081
    for row in data.rejected:
        assert row.reason and row.formula and row.line >= 2
        if row.error == "TetrahedralSumError":
            assert "S" in row.formula and "sulfate" in row.reason
        else:
            assert "Na = 0.5" in row.reason
    # mixed Si/P survives (326 accepted rows have fractional Si per formula unit)
    si = np.array([c.si for c in data.compositions])
    assert ((si % 1) > 1e-9).sum() == 326
    assert si.min() == 0 and si.max() == 3


def test_source_values_read_per_formula_unit(data):
    table = dict(zip((c.formula for c in data.compositions), data.ehull_1000K_meV_per_atom))
    assert table["Na3Zr2Si2PO12"] == pytest.approx(-6.0, abs=0.05)
    assert table["NaZr2P3O12"] == pytest.approx(0.54, abs=0.01)
    assert table["Na3Sc2P3O12"] == pytest.approx(1.5, abs=0.05)
    assert table["Na3ZrTiSi2PO12"] == pytest.approx(3.8, abs=0.05)


def test_licence_and_provenance_travel_with_the_data():
    folder = resources.files("nasicon_workflows.data")
    licence = folder.joinpath("ouyang2021_LICENSE.txt").read_text()
    assert "MIT License" in licence and "Bin Ouyang" in licence
    prov = folder.joinpath("PROVENANCE.md").read_text()
    assert "10.1038/s41467-021-26006-3" in prov and "ouyang2021_LICENSE.txt" in prov


def test_vectorised_features_equal_hand_computation():
    comp = NasiconComposition.from_formula("Na3Zr2Ti2SiP5O24", per_12_oxygen=True)
    row = compositions_to_arrays([comp])[0]
    f = dict(zip(STABILITY_FEATURES, row))
    # Shannon CN VI: Zr4+ 72 pm, Ti4+ 60.5 pm
    assert f["r_mean_pm"] == pytest.approx((72 + 60.5) / 2)
    assert f["r_std_pm"] == pytest.approx((72 - 60.5) / 2)
    assert (f["r_min_pm"], f["r_max_pm"]) == pytest.approx((60.5, 72))
    assert f["na"] == pytest.approx(1.5) and f["si"] == pytest.approx(0.5)
    assert f["entropy_R"] == pytest.approx(np.log(2))
    direct = stability_feature_arrays(np.array([[1.0, 1.0]]), ["Zr", "Ti"], si=0.5)[0]
    np.testing.assert_allclose(direct, row, rtol=1e-12)


def test_batch_features_equal_one_by_one_with_mixed_oxidation_states():
    # a non-default oxidation state puts Ce in a group of its own; rows must land in input order
    comps = [
        NasiconComposition.from_formula("Na3.5Zr1.5Sc0.5Si2PO12"),
        NasiconComposition.from_formula("Na3Zr1.5Ce0.5Si2PO12", oxidation_states={"Ce": 4}),
        NasiconComposition.from_formula("Zr1.5Ce0.5Si2PO12", oxidation_states={"Ce": 3}),
        NasiconComposition.from_formula("Na3Zr2Ti2SiP5O24", per_12_oxygen=True),
    ]
    batch = compositions_to_arrays(comps)
    single = np.vstack([compositions_to_arrays([c]) for c in comps])
    np.testing.assert_allclose(batch, single, rtol=1e-12)  # column order differs per group
    na = dict(zip(STABILITY_FEATURES, range(len(STABILITY_FEATURES))))["na"]
    assert batch[1, na] != batch[2, na]  # Ce4+ and Ce3+ were not given one property table


def test_held_out_element_beats_the_median_baseline(data):
    """Leave every Hf row out: the regressor must rank and fit them better than a constant."""
    from scipy.stats import spearmanr

    X = compositions_to_arrays(data.compositions)
    y = np.asarray(data.ehull_1000K_meV_per_atom)
    test = np.array(["Hf" in c.m_site for c in data.compositions])
    assert test.sum() > 50
    model = build_stability_regressor().fit(X[~test], y[~test])
    pred = model.predict(X[test])
    err_model = np.median(np.abs(pred - y[test]))
    err_base = np.median(np.abs(np.median(y[~test]) - y[test]))
    assert err_model < err_base
    assert spearmanr(pred, y[test]).statistic > 0.5
