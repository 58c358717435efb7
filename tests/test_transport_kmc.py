"""Lattice KMC of Na+: analytic limits, the Na lattice of a real cell, the CLI and its errors.

Analytic references
-------------------
* One particle on a simple cubic lattice (spacing a, six hops of rate nu exp(-E/kT) each):
  D = a^2 Gamma / (2 d) with Gamma = 6 nu exp(-E/kT), d = 3.
* Site-blocking lattice gas (no energy between particles) at coverage c: the collective ("jump")
  diffusivity is D0 (1 - c) exactly, the tracer diffusivity D0 (1 - c) f(c) with the tracer
  correlation factor f falling from 1 (c -> 0) to f0 = 0.6531 (c -> 1) for the simple cubic
  lattice (Compaan & Haven, Trans. Faraday Soc. 1956, 52, 786); so the Haven ratio D*/D_sigma = f(c).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from nasicon_workflows.cli import main
from nasicon_workflows.constants import BOLTZMANN_eV_PER_K
from nasicon_workflows.transport.errors import KMCSettingsError, LatticeConstructionError
from nasicon_workflows.transport.kmc import (
    arrhenius_fit,
    expand_lattice,
    run_kmc,
    run_kmc_temperatures,
)
from nasicon_workflows.transport.lattice import (
    build_na_lattice,
    minimax_saddle_eV,
    pair_interaction_eV,
    simple_cubic_lattice,
)

NU = 1e13
BARRIER = 0.3


def _d0_cm2_s(temperature_K: float, a_A: float = 1.0) -> float:
    gamma = 6 * NU * math.exp(-BARRIER / (BOLTZMANN_eV_PER_K * temperature_K))
    return a_A**2 * gamma / (2 * 3) * 1e-16


def _gas(reps: int, coverage: float, seed: int = 1):
    box = expand_lattice(simple_cubic_lattice(barrier_eV=BARRIER), repetitions=(reps,) * 3)
    rng = np.random.default_rng(seed)
    occ = np.zeros(box.n_sites, dtype=np.int8)
    occ[rng.choice(box.n_sites, max(1, round(coverage * box.n_sites)), replace=False)] = 1
    box.occ0 = occ
    return box


def test_single_particle_recovers_a2_gamma_over_2d():
    box = _gas(4, 0.0)  # one particle on 64 sites
    assert box.n_mobile == 1
    r = run_kmc(box, 600.0, n_runs=4, hops_per_ion=40000, equil_hops_per_ion=10, n_blocks=800)
    d0 = _d0_cm2_s(600.0)
    assert r.D_tracer_cm2_s == pytest.approx(d0, rel=0.05)
    # One particle: tracer and collective displacements are the same thing.
    assert r.D_sigma_cm2_s == pytest.approx(r.D_tracer_cm2_s, rel=1e-12)


def test_low_coverage_lattice_gas_recovers_single_particle_limit():
    box = _gas(10, 0.02)  # 20 particles on 1000 sites
    r = run_kmc(box, 600.0, n_runs=4, hops_per_ion=2000, equil_hops_per_ion=20, n_blocks=100)
    d0 = _d0_cm2_s(600.0)
    # D* = D0 (1 - c) f(c), f(0.02) > 0.98: within 6 % of D0 (statistical error ~2 %).
    assert r.D_tracer_cm2_s == pytest.approx(d0, rel=0.06)
    assert r.D_tracer_cm2_s < d0 * 1.02


def test_half_filled_lattice_gas_jump_diffusivity_and_tracer_correlation():
    box = _gas(8, 0.5)
    r = run_kmc(box, 600.0, n_runs=4, hops_per_ion=400, equil_hops_per_ion=20, n_blocks=40)
    d0 = _d0_cm2_s(600.0)
    assert r.D_sigma_cm2_s == pytest.approx(0.5 * d0, rel=0.15)  # exact: D0 (1 - c)
    # Correlated tracer motion: f0 = 0.653 < D*/(D0 (1 - c)) < 1.
    f = r.D_tracer_cm2_s / (0.5 * d0)
    assert 0.66 < f < 0.95
    assert 0.6 < r.haven_ratio < 1.0


def test_full_lattice_does_not_move_and_has_no_arrhenius_fit():
    lat = simple_cubic_lattice(barrier_eV=BARRIER, occupied=True)
    doc = run_kmc_temperatures(lat, (500, 600), n_runs=2, hops_per_ion=10, min_width_A=4)
    assert all(t.sigma_S_cm == 0 and t.D_tracer_cm2_s == 0 for t in doc.temperatures)
    assert doc.Ea_eV is None and "zero" in doc.note


def test_arrhenius_recovers_the_barrier_and_compiled_equals_python():
    box = _gas(6, 0.05)
    results = [run_kmc(box, t, n_runs=3, hops_per_ion=300, equil_hops_per_ion=10, n_blocks=20,
                       seed=10 * i) for i, t in enumerate((400.0, 550.0, 700.0))]
    fit = arrhenius_fit(results, "D_tracer_cm2_s")
    # D* T carries exp(-E/kT) times T, so ln(D* T) vs 1/kT has slope -E + k T_mean (~0.047 eV).
    assert fit.Ea_eV - 0.047 == pytest.approx(BARRIER, abs=0.03)
    lo, hi = fit.Ea_ci95_eV
    assert lo < fit.Ea_eV < hi
    small = _gas(4, 0.3)
    a = run_kmc(small, 600.0, n_runs=1, hops_per_ion=20, equil_hops_per_ion=2, n_blocks=4)
    b = run_kmc(small, 600.0, n_runs=1, hops_per_ion=20, equil_hops_per_ion=2, n_blocks=4,
                compiled=False)
    assert a.runs[0].D_tracer_cm2_s == b.runs[0].D_tracer_cm2_s
    assert a.runs[0].n_hops == b.runs[0].n_hops


def test_minimax_saddle_of_a_plane_barrier():
    n = 40
    fa = np.arange(n) / n
    energies = np.broadcast_to((1 - np.cos(2 * np.pi * fa))[:, None, None], (n, 10, 10)).copy()
    lattice = np.diag([8.0, 4.0, 4.0])
    # Crossing into the next cell along a must pass the plane at a = 0.5 (energy 2).
    s = minimax_saddle_eV(energies, lattice, np.zeros(3), np.array([1.0, 0, 0]), 1.0)
    assert s == pytest.approx(2.0)
    # Along b nothing changes: the saddle is the starting energy.
    s = minimax_saddle_eV(energies, lattice, np.zeros(3), np.array([0, 1.0, 0]), 1.0)
    assert s == pytest.approx(0.0)


def test_softbv_pair_term_matches_its_formula():
    from scipy.special import erfc

    lat = simple_cubic_lattice()
    from nasicon_workflows.transport.lattice import interaction_parameters

    p = interaction_parameters("softbv")
    assert p["n"] == 3 and p["covalent_radius_A"] == pytest.approx(1.66)
    v = pair_interaction_eV(np.array([3.47]), "softbv", p)[0]
    assert v == pytest.approx(14.4 / 3 / 3.47 * erfc(3.47 / (0.75 * 2 * 1.66)))
    assert pair_interaction_eV(np.array([3.0]), "none", {})[0] == 0.0
    assert lat.n_mobile == 1


@pytest.fixture(scope="module")
def nzsp_cell():
    from nasicon_workflows.structures import disordered_structure, order_structure

    return order_structure(disordered_structure("Na3Zr2Si2PO12"), k=1, max_atoms=84)[0].structure


def test_na_lattice_of_a_real_cell(nzsp_cell):
    from nasicon_workflows.bvse import analyse_landscape, compute_landscape

    landscape = compute_landscape(nzsp_cell, resolution=0.3)
    lat = build_na_lattice(nzsp_cell, resolution=0.3, landscape=landscape)
    assert lat.n_sites == 16 and lat.n_mobile == 12  # Na3Zr2Si2PO12: 12 Na on 16 sites
    labels = [lab.split("_")[0] for lab in lat.labels]
    assert labels.count("Na1") == 4 and labels.count("Na2") == 4 and labels.count("Na3") == 8
    table = lat.hop_table()
    # Every hop is Na1 <-> Na2/Na3 (3.47 Å in the framework; sites snap to the 0.3 Å grid);
    # each Na1 has six, each Na2/Na3 two.
    assert len(table) == 24
    assert all({r["label_i"][:3], r["label_j"][:3]} in ({"Na1", "Na2"}, {"Na1", "Na3"})
               for r in table)
    assert all(2.9 < r["length_A"] < 4.0 for r in table)
    counts = np.bincount(np.concatenate([lat.hop_i, lat.hop_j]), minlength=16)
    assert sorted(counts.tolist()) == [2] * 12 + [6] * 4
    assert np.all(lat.hop_saddle_eV >= np.maximum(lat.site_energy_eV[lat.hop_i],
                                                  lat.site_energy_eV[lat.hop_j]))
    # The lowest hop saddle cannot lie below the BVSE stage's lowest Na1-Na2/Na3 pathway saddle
    # (minimax over the whole grid), and on this grid it is the same path.
    doc = analyse_landscape(landscape)
    na1_rows = [p.saddle_energy_eV for p in doc.pathways
                if {p.label_a[:3], p.label_b[:3]} in ({"Na1", "Na2"}, {"Na1", "Na3"})]
    assert lat.hop_saddle_eV.min() >= min(na1_rows) - 1e-9
    assert lat.hop_saddle_eV.min() == pytest.approx(min(na1_rows), abs=0.05)


def test_kmc_maker_on_a_real_cell(nzsp_cell, tmp_path):
    from jobflow import run_locally

    from nasicon_workflows.transport.kmc import KMCMaker

    maker = KMCMaker(temperatures_K=(600.0, 800.0), n_runs=2, hops_per_ion=60,
                     equil_hops_per_ion=10, resolution=0.3)
    job = maker.make(nzsp_cell)
    responses = run_locally(job, root_dir=tmp_path, log=False, ensure_success=True)
    doc = responses[job.uuid][1].output
    assert doc.n_na_cell == 12 and doc.n_na_box == 12 * np.prod(doc.repetitions)
    for t in doc.temperatures:
        assert t.sigma_S_cm > 0 and 0 < t.haven_ratio < 2
    assert doc.temperatures[1].sigma_S_cm > doc.temperatures[0].sigma_S_cm
    assert doc.Ea_eV is not None and doc.Ea_ci95_eV[0] < doc.Ea_eV < doc.Ea_ci95_eV[1]


def test_cli_kmc_json(nzsp_cell, tmp_path, capsys):
    cif = tmp_path / "nzsp.cif"
    nzsp_cell.to(filename=str(cif))
    out = tmp_path / "kmc.json"
    code = main(["kmc", str(cif), "--temperatures", "600", "800", "--runs", "2",
                 "--hops-per-ion", "50", "--resolution", "0.3", "--json", "--out", str(out)])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert json.loads(out.read_text())["Ea_eV"] == data["Ea_eV"]
    assert {"temperatures", "Ea_eV", "Ea_ci95_eV", "sigma_300K_S_cm"} <= set(data)
    assert [t["temperature_K"] for t in data["temperatures"]] == [600.0, 800.0]


def _no_na_cif(tmp_path):
    from pymatgen.core import Lattice, Structure

    path = tmp_path / "zro2.cif"
    Structure(Lattice.cubic(5.1), ["Zr", "O"], [[0, 0, 0], [0.25, 0.25, 0.25]]).to(
        filename=str(path))
    return path


@pytest.mark.parametrize("argv, fragment", [
    (["kmc", "/no/such/file.cif"], "does not exist"),
    (["kmc", "CELL", "--temperatures", "600", "-5"], "positive kelvin"),
    (["kmc", "CELL", "--temperatures", "600", "600"], "distinct"),
    (["kmc", "CELL", "--runs", "0"], "n_runs"),
    (["kmc", "CELL", "--interaction", "coulomb"], "epsilon_r"),
    (["kmc", "NONA"], "no Na"),
    (["kmc", "NACL"], "not the C2/c NASICON cell"),
    (["validate-transport", "--out", "/dev/null/x"], "cannot"),
    (["validate-transport", "--out", "OUT", "--x", "0.3"], "multiples of 0.5"),
])
def test_bad_input_is_one_line_and_exit_2(argv, fragment, nzsp_cell, tmp_path, capsys):
    from pymatgen.core import Lattice, Structure

    cell = tmp_path / "cell.cif"
    nzsp_cell.to(filename=str(cell))
    nacl = tmp_path / "nacl.cif"
    Structure(Lattice.cubic(5.64), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]).to(
        filename=str(nacl))
    subst = {"CELL": str(cell), "NONA": str(_no_na_cif(tmp_path)), "NACL": str(nacl),
             "OUT": str(tmp_path / "val")}
    assert main([subst.get(a, a) for a in argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and fragment in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_settings_errors_are_typed():
    lat = simple_cubic_lattice()
    with pytest.raises(KMCSettingsError):
        run_kmc_temperatures(lat, (), n_runs=1)
    with pytest.raises(KMCSettingsError):
        expand_lattice(simple_cubic_lattice(interaction="softbv"), repetitions=(2, 2, 2))
    with pytest.raises(LatticeConstructionError):
        from pymatgen.core import Lattice, Structure

        build_na_lattice(Structure(Lattice.cubic(5.1), ["Zr", "O"], [[0, 0, 0], [0.25] * 3]))


def test_validation_scoring_and_status(tmp_path):
    from nasicon_workflows.transport.validation import (
        SeriesPoint,
        _criteria,
        recommended_weights,
        transport_validation_status,
    )

    def point(x, e3d, ea, s300):
        return SeriesPoint(x=x, formula=f"x{x}", cell={}, E_3D=e3d,
                           kmc={"softbv": {"Ea_eV": ea, "sigma_300K_S_cm": s300,
                                           "sigma_573K_S_cm": s300 * 1e3}})

    pts = [point(0.0, 0.75, 0.6, 1e-9), point(2.0, 0.73, 0.3, 1e-4), point(3.0, 0.71, 0.4, 1e-6)]
    crit = _criteria(pts)
    assert crit["bvse"]["x_of_maximum"] == 3.0 and not crit["bvse"]["maximum_in_window"]
    assert not crit["bvse"]["x0_tenfold_worse"]  # 0.02 eV < k T ln 10 at 573 K
    k = crit["kmc_softbv"]
    assert k["x_of_maximum"] == 2.0 and k["nzsp_in_window"] and k["x0_tenfold_worse"]
    w = recommended_weights(crit)
    assert w["bvse"]["weight"] == 0.0 and w["kmc_softbv"]["weight"] == pytest.approx(0.4)
    path = tmp_path / "v.json"
    path.write_text(json.dumps({"criteria": crit, "recommended_weights": w}))
    status = transport_validation_status(path)
    assert status["validated"] and "OUTSIDE [1.5, 2.5]" in status["statement"]
    assert "10.1038/s41467-022-32190-7" in status["statement"]


def test_shipped_validation_is_consistent_with_its_points():
    from nasicon_workflows.transport.validation import (
        SeriesPoint,
        _criteria,
        recommended_weights,
        transport_validation_status,
    )

    status = transport_validation_status()
    assert status["source"].endswith("transport_validation.json")
    from importlib import resources

    data = json.loads(resources.files("nasicon_workflows.data")
                      .joinpath("transport_validation.json").read_text())
    points = [SeriesPoint(**p) for p in data["points"]]
    assert [p.x for p in points] == [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0]
    assert all(p.cell["converged"] and p.cell["fmax_eV_per_A"] == 0.05 for p in points)
    crit = _criteria(points)
    for name in ("bvse", "kmc_softbv", "kmc_none"):
        for key in ("x_of_maximum", "maximum_in_window", "nzsp_in_window", "x0_tenfold_worse"):
            assert crit[name][key] == data["criteria"][name][key]
    assert recommended_weights(crit)["kmc_softbv"] == data["recommended_weights"]["kmc_softbv"]
    assert status["validated"] == any(
        c["maximum_in_window"] and c["nzsp_in_window"] and c["x0_tenfold_worse"]
        for n, c in crit.items() if not n.startswith("kmc_coulomb"))
