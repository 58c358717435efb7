"""Impedance analysis: published Table 3 conductivities, synthetic spectra from known circuits,
Arrhenius recovery, readers and sign conventions, uncertainty propagation, rank correlations."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from eis_synthetic import CASES, arrhenius_set, synthetic  # noqa: E402

from nasicon_workflows.constants import BOLTZMANN_eV_PER_K
from nasicon_workflows.eis import (
    ArrheniusError,
    PelletGeometry,
    Spectrum,
    analyse_spectra,
    analyse_spectrum,
    compare_transport,
    conductivity_S_cm,
    fit_arrhenius,
    fit_circuit,
    read_spectrum,
    spearman_with_ci,
)
from nasicon_workflows.eis.fitting import capacitance_class

# Zhao et al., "Deep learning-driven evaluation and prediction of ion-doped NASICON materials",
# Table 3: R_Ω, R_ct (Ω), thickness t (cm), σ_total (S/cm); pellets of radius 0.8 cm.
ZHAO_TABLE3 = [
    (30.31, 35.35, 0.127, 9.62e-4),
    (49.32, 53.21, 0.113, 5.48e-4),
    (66.99, 263.8, 0.112, 1.68e-4),
]


def _spectrum(name, noise=0.0, seed=0):
    f, z = synthetic(name, noise, seed)
    return Spectrum.from_arrays(f, z.real, z.imag, source=f"{name} seed {seed}")


@pytest.mark.parametrize(("r_ohm", "r_ct", "t_cm", "sigma"), ZHAO_TABLE3)
def test_zhao_table3_from_resistances(r_ohm, r_ct, t_cm, sigma):
    value, err = conductivity_S_cm(r_ohm + r_ct, PelletGeometry.from_radius(t_cm, 0.8))
    assert value == pytest.approx(sigma, rel=0.005)
    assert err == 0.0  # exact inputs, no uncertainty invented


def test_zhao_table3_row1_through_a_fitted_randles_spectrum():
    # A Randles spectrum built with the row-1 resistances, fitted with the 'randles' preset:
    # the whole chain spectrum -> R_Ω + R_ct -> σ reproduces the published 9.62e-4 S/cm.
    result, _ = analyse_spectrum(
        _spectrum("randles"), PelletGeometry.from_radius(0.127, 0.8), "randles"
    )
    assert result.R_bulk_ohm == pytest.approx(30.31, rel=1e-6)
    assert result.R_gb_ohm == pytest.approx(35.35, rel=1e-6)
    assert result.sigma_total_S_cm == pytest.approx(9.62e-4, rel=0.005)


@pytest.mark.parametrize("name", list(CASES))
def test_clean_spectra_recover_every_element(name):
    circuit, true, _, _ = CASES[name]
    fit = fit_circuit(_spectrum(name), name)
    assert fit.circuit == circuit
    np.testing.assert_allclose(fit.values, true, rtol=1e-6)
    assert fit.chi2_reduced < 1e-12


@pytest.mark.parametrize("name", list(CASES))
def test_noisy_spectra_recover_elements_within_stated_tolerances(name):
    """1 % proportional noise, seeds 0-4. Tolerances (docs/eis.md): resistances and the Warburg
    coefficient within 6 %, CPE exponents within 5 %, every parameter within 5 standard errors
    of the truth; the reduced χ² is the noise variance per |Z|², 1e-4 (Z'² + Z''²)/(2|Z|²) =
    5e-5, within a factor 2."""
    circuit, true, _, _ = CASES[name]
    true = np.array(true)
    for seed in range(5):
        fit = fit_circuit(_spectrum(name, 0.01, seed), name, kramers_kronig=False)
        rel = np.abs(fit.values - true) / true
        for i, pname in enumerate(fit.parameter_names):
            if pname.startswith(("R", "W")):
                assert rel[i] < 0.06, (seed, pname, rel[i])
            if pname.startswith("CPE") and pname.endswith("_1"):
                assert rel[i] < 0.05, (seed, pname, rel[i])
        z = np.abs(fit.values - true) / fit.uncertainties
        assert np.all(z < 5), (seed, dict(zip(fit.parameter_names, z.round(1))))
        assert 2.5e-5 < fit.chi2_reduced < 1e-4


def test_roles_follow_capacitance_and_sigma_propagates():
    geometry = PelletGeometry(0.1, 1.0, thickness_uncertainty_cm=0.001, diameter_uncertainty_cm=0.01)
    result, fit = analyse_spectrum(_spectrum("bulk-gb-electrode", 0.01, 1), geometry)
    bulk, gb = fit.role("bulk"), fit.role("grain_boundary")
    assert (bulk.name, gb.name) == ("R0", "R1")
    assert capacitance_class(bulk.capacitance_F) == "bulk"  # ~5.6 pF
    assert capacitance_class(gb.capacitance_F) == "grain boundary"  # ~0.5 nF
    area = math.pi * 0.25
    assert result.sigma_bulk_S_cm == pytest.approx(0.1 / (bulk.resistance_ohm * area))
    # independent propagation: relative errors in quadrature, area error twice the diameter's
    rel = math.hypot(bulk.resistance_uncertainty_ohm / bulk.resistance_ohm, 0.01, 2 * 0.01)
    assert result.sigma_bulk_uncertainty_S_cm == pytest.approx(result.sigma_bulk_S_cm * rel)
    # R_total uses the covariance: the bulk-gb anticorrelation makes it smaller than the sum
    i, j = fit.parameter_names.index("R0"), fit.parameter_names.index("R1")
    assert fit.covariance[i, j] < 0
    assert result.R_total_uncertainty_ohm == pytest.approx(
        math.sqrt(fit.covariance[i, i] + fit.covariance[j, j] + 2 * fit.covariance[i, j])
    )
    assert result.R_total_uncertainty_ohm < math.hypot(
        bulk.resistance_uncertainty_ohm, gb.resistance_uncertainty_ohm
    )
    assert abs(result.R_total_ohm - 3.0e4) < 3 * result.R_total_uncertainty_ohm


def test_multi_temperature_set_recovers_known_ea():
    ea = 0.35
    data = arrhenius_set(ea)
    spectra = [Spectrum.from_arrays(f, z.real, z.imag, source=f"{t} K") for t, f, z, _ in data]
    # a 2 % thickness error is common to all temperatures: it moves σ(25 °C), not Ea
    document, _ = analyse_spectra(
        spectra, PelletGeometry(0.1, 1.0, thickness_uncertainty_cm=0.002), [t for t, *_ in data],
        composition="Na3.2Zr1.8In0.2Si2PO12", outcome="synthesizable", source="synthetic",
    )
    for key in ("sigma_bulk", "sigma_gb", "sigma_total"):
        assert document.arrhenius[key].Ea_eV == pytest.approx(ea, abs=1e-4), key
    total = document.arrhenius["sigma_total"]
    # σ_total(298.15 K) of the generating circuit: R = 2e4 + 1e4 Ω, t = 0.1 cm, d = 1 cm
    assert total.sigma_25C_S_cm == pytest.approx(0.1 / (3e4 * math.pi / 4), rel=1e-4)
    assert not total.sigma_25C_extrapolated
    assert total.sigma_25C_uncertainty_S_cm / total.sigma_25C_S_cm == pytest.approx(0.02, rel=1e-3)
    assert total.Ea_uncertainty_eV < 1e-4
    row = document.outcome_row
    assert row["Ea_eV"] == pytest.approx(ea, abs=1e-4) and row["temperature_K"] == 298.15


def test_arrhenius_noise_forms_and_errors():
    t = np.array([300.0, 330.0, 360.0, 390.0, 420.0])
    rng = np.random.default_rng(0)
    sigma_t = 1e5 * np.exp(-0.40 / (BOLTZMANN_eV_PER_K * t))
    noisy = sigma_t / t * (1 + 0.03 * rng.standard_normal(t.size))
    fit = fit_arrhenius(t, noisy, 0.03 * noisy)
    assert abs(fit.Ea_eV - 0.40) < 3 * fit.Ea_uncertainty_eV
    assert 0 < fit.Ea_uncertainty_eV < 0.02 and fit.weighted
    assert fit.sigma_25C_extrapolated  # 298.15 K is below the measured range
    # σ instead of σT: Ea smaller by about k_B T_mean (the 1/T factor is absorbed)
    plain = fit_arrhenius(t, sigma_t / t, form="sigma")
    assert plain.Ea_eV == pytest.approx(0.40 - BOLTZMANN_eV_PER_K / np.mean(1 / t), abs=2e-3)
    with pytest.raises(ArrheniusError, match="at least 3"):
        fit_arrhenius([300, 300, 350], [1e-4, 1e-4, 2e-4])
    with pytest.raises(ArrheniusError, match="not a positive"):
        fit_arrhenius([300, 320, 340], [1e-4, -1e-4, 2e-4])


# (header, separator, frequency scale, impedance scale, +1: column holds Im Z / -1: holds -Im Z)
HEADERS = [
    ("freq,Z_real,Z_imag\n", ",", 1.0, 1.0, 1.0),
    ("frequency_Hz;Zre;-Zim\n", ";", 1.0, 1.0, -1.0),  # semicolons
    ("f/Hz\tRe(Z)/Ohm\t-Im(Z)/Ohm\n", "\t", 1.0, 1.0, -1.0),  # BioLogic names
    ("Z'  -Z''  freq\n", "  ", 1.0, 1.0, -1.0),  # whitespace, other column order
    ("f/kHz,Z' (kOhm),Z'' (kOhm)\n", ",", 1e-3, 1e-3, 1.0),  # units scaled
    ("freq,Z_real,Z_imag\n", ",", 1.0, 1.0, -1.0),  # header says Im Z, the values are -Im Z
]


@pytest.mark.parametrize(("header", "sep", "f_scale", "z_scale", "imag_sign"), HEADERS)
def test_reader_recognises_headers_and_sign(tmp_path, header, sep, f_scale, z_scale, imag_sign):
    f, z = synthetic("bulk-electrode", descending=True)
    names = header.strip().split(sep.strip() or None) if sep.strip() else header.split()
    cols = {"f": f * f_scale, "re": z.real * z_scale, "im": imag_sign * z.imag * z_scale}
    order = []
    for name in names:
        low = name.lower()
        order.append("f" if low.startswith("f") else "im" if ("im" in low or "''" in low) else "re")
    lines = [sep.join(f"{cols[k][i]:.12g}" for k in order) for i in range(f.size)]
    path = tmp_path / "s.txt"
    path.write_text("# a comment line\n" + header + "\n".join(lines) + "\n")
    spec = read_spectrum(path)
    np.testing.assert_allclose(spec.frequency_Hz, f[::-1], rtol=1e-10)
    np.testing.assert_allclose(spec.z_real_ohm, z.real[::-1], rtol=1e-10)
    np.testing.assert_allclose(spec.z_imag_ohm, z.imag[::-1], rtol=1e-10)
    assert np.all(spec.z_imag_ohm < 0)
    statement = next(n for n in spec.notes if n.startswith("sign convention"))
    assert ("read as -Z''" in statement) == (imag_sign < 0)


def test_reader_headerless_and_biologic_mpt(tmp_path):
    f, z = synthetic("bulk-electrode")
    plain = tmp_path / "plain.dat"
    plain.write_text("\n".join(f"{a:.12g} {b:.12g} {c:.12g}" for a, b, c in zip(f, z.real, -z.imag)))
    spec = read_spectrum(plain)
    np.testing.assert_allclose(spec.z_imag_ohm, z.imag, rtol=1e-10)
    assert "no header" in spec.notes[0]
    # BioLogic EC-Lab text export: 'Nb header lines' counts the lines up to the column names
    mpt = tmp_path / "pellet.mpt"
    head = ["EC-Lab ASCII FILE", "Nb header lines : 4", "", ]
    cols = "freq/Hz\tRe(Z)/Ohm\t-Im(Z)/Ohm\t|Z|/Ohm\tPhase(Z)/deg\ttime/s\t"
    rows = [
        f"{a:.10E}\t{b:.10E}\t{c:.10E}\t{abs(complex(b, -c)):.6E}\t0\t{i}\t"
        for i, (a, b, c) in enumerate(zip(f[::-1], z.real[::-1], -z.imag[::-1]))
    ]
    mpt.write_text("\n".join(head + [cols] + rows) + "\n", encoding="latin-1")
    spec = read_spectrum(mpt)
    np.testing.assert_allclose(spec.z_imag_ohm, z.imag, rtol=1e-9)
    assert "readBioLogic" in spec.notes[0]


def test_kramers_kronig_flags_a_drifting_spectrum():
    clean = fit_circuit(_spectrum("bulk-gb-electrode"), "bulk-gb-electrode").kramers_kronig
    assert clean["max_abs_residual_real"] < 0.02 and clean["max_abs_residual_imag"] < 0.02
    # A pellet whose resistance grows 30 % during the sweep (low frequencies measured last) is
    # not a linear time-invariant system: its lin-KK residuals are several times larger.
    f, z = synthetic("bulk-gb-electrode")
    drift = 1 + 0.3 * np.linspace(1, 0, f.size)  # f ascending: index 0 measured last
    bad = Spectrum.from_arrays(f, z.real * drift, z.imag)
    from nasicon_workflows.eis import kramers_kronig_check

    kk = kramers_kronig_check(bad)
    assert max(kk["max_abs_residual_real"], kk["max_abs_residual_imag"]) > 3 * max(
        clean["max_abs_residual_real"], clean["max_abs_residual_imag"]
    )


def test_spearman_with_ci_against_scipy_and_small_n():
    from scipy.stats import spearmanr

    x = [0.31, 0.35, 0.42, 0.38, 0.50, 0.29, 0.45]
    y = [0.25, 0.33, 0.36, 0.41, 0.47, 0.30, 0.40]
    res = spearman_with_ci(x, y, labels=list("abcdefg"))
    assert res.status == "ok" and res.n == 7
    assert res.rho == pytest.approx(spearmanr(x, y).statistic)
    assert res.ci_low <= res.rho <= res.ci_high <= 1
    assert "exact permutation" in res.p_method and 0 < res.p_value < 0.05
    assert "n = 7" in res.summary() and "CI" in res.summary()
    few = spearman_with_ci([1, 2], [2, 1])
    assert few.status == "too few" and few.rho is None and "too few" in few.summary()
    assert spearman_with_ci([1, 1, 1], [1, 2, 3]).status == "undefined"
    # n = 4: exact bootstrap over all 4^4 resamples, reproducible without a seed
    a = spearman_with_ci([1, 2, 3, 4], [1, 3, 2, 4])
    assert "exact bootstrap" in a.ci_method and a.n == 4
    assert (a.ci_low, a.ci_high) == (
        spearman_with_ci([1, 2, 3, 4], [1, 3, 2, 4], seed=5).ci_low, a.ci_high
    )


def test_compare_transport_matches_compositions():
    measured = {"Na3.2Zr1.8In0.2Si2PO12": 0.30, "Na3.4Zr1.6Sc0.4Si2PO12": 0.28,
                "Na3Zr2Si2PO12": 0.35, "Na3.5Zr1.5Lu0.5Si2PO12": 0.40}
    predicted = {"Na3.2In0.2Zr1.8Si2PO12": 0.5, "Na3.4Sc0.4Zr1.6Si2PO12": 0.45,
                 "Na3Zr2Si2PO12": 0.6, "Na3.3Zr1.7Y0.3Si2PO12": 0.9}
    res = compare_transport(measured, predicted, "Ea_eV", "E_3D_eV")
    assert res.n == 3 and res.rho == pytest.approx(1.0)
    assert set(res.labels) == {"Na3.2Zr1.8In0.2Si2PO12", "Na3.4Zr1.6Sc0.4Si2PO12",
                               "Na3Zr2Si2PO12"}


def test_maker_runs_as_a_jobflow_job(tmp_path):
    from jobflow import run_locally

    from nasicon_workflows.eis import EISAnalysisMaker

    f, z = synthetic("randles")
    path = tmp_path / "r.csv"
    path.write_text("freq,Z_real,Z_imag\n" + "\n".join(
        f"{a:.15g},{b:.15g},{c:.15g}" for a, b, c in zip(f, z.real, z.imag)) + "\n")
    job = EISAnalysisMaker(thickness_cm=0.127, diameter_cm=1.6, circuit="randles").make(
        [str(path)], [298.15]
    )
    responses = run_locally(job, ensure_success=True, root_dir=tmp_path)
    doc = responses[job.uuid][1].output
    assert doc.spectra[0].sigma_total_S_cm == pytest.approx(9.62e-4, rel=0.005)


def test_unneeded_element_and_wrong_circuit_are_reported():
    from nasicon_workflows.eis import FitConvergenceError

    spec = _spectrum("bulk-gb-electrode", 0.01, 3)
    # the synthetic pellet has no series resistance: R0 runs to zero and is named
    with pytest.raises(FitConvergenceError, match=r"R0 = .* no longer change"):
        fit_circuit(spec, "R0-p(R1,CPE1)-p(R2,CPE2)-CPE3", kramers_kronig=False)
    # one arc for a two-arc spectrum: a result, with a warning against the lin-KK residuals
    fit = fit_circuit(spec, "bulk-electrode")
    assert fit.residual_rms_relative > 0.03
    assert any("Kramers-Kronig-compliant" in w for w in fit.warnings)
