"""MD transport tier: diffusion analysis on synthetic random walks, error paths, CHGNet smoke run.

Synthetic trajectories: independent 3D Gaussian random walks of Na⁺ among fixed Cl⁻ "framework"
ions in a cubic cell, wrapped into the cell (so the analysis must unwrap them). Per stored frame
each Cartesian component moves N(0, 2 D Δt), so the exact tracer diffusion coefficient is D
(Einstein: MSD = 6 D t). Tolerances are statistical: the kinisi estimate must lie within three
posterior standard deviations of the true D, and the true value inside the 95 % interval
(fixed seeds, so the tests are deterministic).
"""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from nasicon_workflows.cli import main
from nasicon_workflows.constants import BOLTZMANN_eV_PER_K, ELEMENTARY_CHARGE_C
from nasicon_workflows.transport.diffusion import (
    DiffusionRegimeError,
    TransportInputError,
    analyse_diffusion,
    arrhenius_fit,
    check_temperatures,
    nernst_einstein_S_per_cm,
)
from nasicon_workflows.transport.md import MDTransportMaker, run_md_transport

FRAME_FS = 20.0  # 2 fs time step x 10 steps per frame


def random_walk(D_cm2_per_s, n_frames=300, n_na=24, box_A=10.0, seed=0):
    """Wrapped random-walk trajectory of n_na Na+ with tracer diffusivity D (cm²/s)."""
    rng = np.random.default_rng(seed)
    # 1 cm²/s = 10 Å²/fs
    sigma_A = math.sqrt(2 * D_cm2_per_s * 10.0 * FRAME_FS)
    steps = rng.normal(0.0, sigma_A, (n_frames - 1, n_na, 3))
    start = rng.uniform(0, box_A, (1, n_na, 3))
    pos = start + np.concatenate([np.zeros((1, n_na, 3)), np.cumsum(steps, axis=0)])
    framework = rng.uniform(0, box_A, (8, 3))
    lattice = Lattice.cubic(box_A)
    species = ["Na+"] * n_na + ["Cl-"] * 8
    return [
        Structure(lattice, species, np.vstack([p % box_A, framework]), coords_are_cartesian=True)
        for p in pos
    ]


def test_random_walk_recovers_known_D():
    D_true = 1.0e-4
    doc = analyse_diffusion(random_walk(D_true), 800.0, 2.0, 10, min_msd_A2=1.0, seed=1)
    assert doc.diffusive
    assert abs(doc.D_cm2_per_s - D_true) < 3 * doc.D_std_cm2_per_s
    assert doc.D_ci95_cm2_per_s[0] < D_true < doc.D_ci95_cm2_per_s[1]
    # Relative posterior width of 24 walkers x 6 ps: ~15 %, not a degenerate fit.
    assert 0.02 < doc.D_std_cm2_per_s / doc.D_cm2_per_s < 0.5
    # Nernst–Einstein by hand: n e² D / (k_B T), 24 ions in 1000 Å³.
    n = 24 / 1000e-24
    sigma = n * ELEMENTARY_CHARGE_C**2 * doc.D_cm2_per_s / (
        BOLTZMANN_eV_PER_K * 800.0 * ELEMENTARY_CHARGE_C)
    assert doc.sigma_S_per_cm == pytest.approx(sigma, rel=0.02)


def test_arrhenius_recovers_activation_energy():
    Ea_true, D0 = 0.30, 1.0e-2
    temps = (600.0, 800.0, 1000.0)
    docs = [
        analyse_diffusion(
            random_walk(D0 * math.exp(-Ea_true / (BOLTZMANN_eV_PER_K * t)), seed=i),
            t, 2.0, 10, min_msd_A2=1.0, seed=i,
        )
        for i, t in enumerate(temps)
    ]
    fit = arrhenius_fit(docs, seed=0)
    assert fit.Ea_ci95_eV[0] < Ea_true < fit.Ea_ci95_eV[1]
    assert abs(fit.Ea_eV - Ea_true) < 0.06
    d300 = D0 * math.exp(-Ea_true / (BOLTZMANN_eV_PER_K * 300.0))
    assert fit.D_300K_ci95_cm2_per_s[0] < d300 < fit.D_300K_ci95_cm2_per_s[1]
    s300 = nernst_einstein_S_per_cm(d300, 24, 1000.0, 300.0)
    assert fit.sigma_300K_ci95_S_cm[0] < s300 < fit.sigma_300K_ci95_S_cm[1]


def test_too_short_run_is_not_diffusive():
    # 1e-7 cm²/s for 6 ps: MSD ~ 0.04 Å², far below one Na-Na hop.
    traj = random_walk(1.0e-7, seed=3)
    with pytest.raises(DiffusionRegimeError, match="too short or too cold"):
        analyse_diffusion(traj, 800.0, 2.0, 10, min_msd_A2=4.0)
    doc = analyse_diffusion(traj, 800.0, 2.0, 10, min_msd_A2=4.0, require_diffusive=False)
    assert not doc.diffusive and doc.D_cm2_per_s is None and doc.msd_final_A2 < 4.0
    with pytest.raises(DiffusionRegimeError, match="frames"):
        analyse_diffusion(traj[:5], 800.0, 2.0, 10)


def test_no_mobile_ion_is_an_error():
    traj = [s.copy() for s in random_walk(1e-5, n_frames=20)]
    for s in traj:
        s.replace_species({"Na+": "K+"})
    with pytest.raises(TransportInputError, match="no Na ion"):
        analyse_diffusion(traj, 800.0, 2.0, 10)
    with pytest.raises(TransportInputError, match="no Na ion"):
        run_md_transport(traj[0], temperatures_K=(800,), n_production_steps=20, traj_interval=1)


@pytest.mark.parametrize(
    "temps, match",
    [((), "at least one"), ((-5,), "outside"), ((float("nan"),), "outside"),
     ((800, 800), "repeated"), ((5000,), "outside"), (("hot",), "numbers")],
)
def test_bad_temperatures(temps, match):
    with pytest.raises(TransportInputError, match=match):
        check_temperatures(temps)


def test_arrhenius_needs_two_temperatures():
    doc = analyse_diffusion(random_walk(1e-4), 800.0, 2.0, 10, min_msd_A2=1.0)
    with pytest.raises(TransportInputError, match="two or more"):
        arrhenius_fit([doc])


def test_maker_builds_equilibration_production_and_analysis():
    structure = random_walk(1e-5, n_frames=1)[0]
    flow = MDTransportMaker(temperatures_K=(900, 700), n_equilibration_steps=100,
                            n_production_steps=1000).make(structure)
    names = [j.name for j in flow.jobs]
    assert names == ["md equilibration 700 K", "md production 700 K",
                     "md equilibration 900 K", "md production 900 K", "md transport analysis"]
    prod = flow.jobs[1]
    # atomate2 convention: the trajectory goes to the jobflow "data" store.
    assert "trajectory" in prod._kwargs["data"]
    assert prod.maker.store_trajectory.value == "partial"
    assert flow.jobs[0].maker.store_trajectory.value == "no"
    assert prod.maker.temperature == 700.0 and prod.maker.ensemble.value == "nvt"


def test_maker_rejects_too_short_production_and_unknown_force_field():
    with pytest.raises(DiffusionRegimeError, match="frames"):
        MDTransportMaker(n_production_steps=50, traj_interval=10).check()
    with pytest.raises(TransportInputError, match="not supported"):
        MDTransportMaker(force_field="vasp").check()


@pytest.mark.skipif(importlib.util.find_spec("sevenn") is not None, reason="sevenn installed")
def test_sevennet_missing_fails_clearly():
    from nasicon_workflows.errors import NasiconWorkflowsError

    with pytest.raises(NasiconWorkflowsError, match="(?i)sevenn"):
        MDTransportMaker(force_field="sevennet").check()


def test_cli_bad_input_exit_2(tmp_path, capsys):
    cif = tmp_path / "kcl.cif"
    s = random_walk(1e-5, n_frames=1)[0]
    s.replace_species({"Na+": "K+"})
    s.to(filename=str(cif))
    assert main(["md", str(cif), "--temperatures", "800", "--production-steps", "20",
                 "--traj-interval", "1"]) == 2
    assert "no Na ion" in capsys.readouterr().err
    assert main(["md", str(cif), "--temperatures", "-3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "outside" in err and "Traceback" not in err
    assert main(["md", str(cif), "--production-steps", "30"]) == 2
    assert "frames" in capsys.readouterr().err


@pytest.mark.slow
def test_chgnet_md_smoke(tmp_path):
    """Real CHGNet NVT MD (80-atom NZSP cell, 12 steps): runs through atomate2, stays bonded,
    and the regime guard reports that 24 fs is not diffusive."""
    pytest.importorskip("chgnet")
    import torch

    from nasicon_workflows.structures import load_reference_structure, order_structure

    torch.set_num_threads(1)
    cell = order_structure(load_reference_structure("NZSP"), k=1, max_atoms=84,
                           n_restarts=2, n_sweeps=200)[0].structure
    doc = run_md_transport(cell, temperatures_K=(1000,), n_equilibration_steps=2,
                           n_production_steps=10, traj_interval=1)
    (res,) = doc.per_temperature
    assert res.n_frames == 11 and res.n_mobile == 12 and res.n_atoms == 80
    # 20 fs at 1000 K: thermal motion only; Na vibrates ~0.1-1 Å, far below one hop (~3.4 Å).
    assert 1e-3 < res.msd_final_A2 < 2.0
    assert not res.diffusive and doc.Ea_eV is None
    assert any("too short" in w for w in doc.warnings)


def test_gpu_worker_routing_of_docs_snippet():
    """The name filters of docs/md.md send the MD jobs, and only them, to the GPU worker."""
    pytest.importorskip("jobflow_remote")
    from jobflow_remote import set_run_config

    structure = random_walk(1e-5, n_frames=1)[0]
    flow = MDTransportMaker(temperatures_K=(800, 1000)).make(structure)
    for name in ("md equilibration", "md production"):
        set_run_config(flow, name_filter=name, worker="gpu", exec_config="md_gpu")
    workers = {j.name: j.config.manager_config.get("worker") for j in flow.jobs}
    assert workers.pop("md transport analysis") is None
    assert set(workers.values()) == {"gpu"} and len(workers) == 4


def test_cli_writes_document_and_plots(tmp_path, monkeypatch, capsys):
    """CLI success path: JSON summary, md_transport.json, msd.png, arrhenius.png. The MD itself is
    replaced by synthetic random walks (the real MD path is the slow smoke test)."""
    import json

    import nasicon_workflows.transport.md as md_module
    from nasicon_workflows.transport.md import analyse_md_transport

    temps = [700.0, 1000.0]
    trajs = [random_walk(1e-2 * math.exp(-0.3 / (BOLTZMANN_eV_PER_K * t)), seed=i)
             for i, t in enumerate(temps)]

    def fake_run(structure, maker=None, **kwargs):
        assert sorted(maker.temperatures_K) == temps
        return analyse_md_transport.original(trajs, temps, 2.0, 10, min_msd_A2=1.0)

    monkeypatch.setattr(md_module, "run_md_transport", fake_run)
    cif = tmp_path / "cell.cif"
    trajs[0][0].to(filename=str(cif))
    out = tmp_path / "out"
    code = main(["md", str(cif), "--temperatures", "1000", "700", "--json", "--out", str(out)])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["Ea_ci95_eV"][0] < 0.3 < summary["Ea_ci95_eV"][1]
    assert summary["haven_ratio_assumed"] == 1.0
    assert [r["diffusive"] for r in summary["per_temperature"]] == [True, True]
    full = json.loads((out / "md_transport.json").read_text())
    assert len(full["per_temperature"][0]["msd_A2"]) > 10
    for png in ("msd.png", "arrhenius.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG"
