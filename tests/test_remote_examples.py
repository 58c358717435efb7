"""The example scripts of flows/: they build the flows they promise and their numbers are right."""

from __future__ import annotations

import argparse
import json
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

FLOWS = Path(__file__).resolve().parents[1] / "flows"


def run_script(name: str, argv: list[str], monkeypatch) -> None:
    """Run flows/<name> as ``__main__`` with the given arguments, in this process."""
    monkeypatch.setattr(sys, "argv", [name, *argv])
    runpy.run_path(str(FLOWS / name), run_name="__main__")


def test_screen_local_dry_run_builds_the_screen(monkeypatch, capsys):
    run_script("screen_local.py", ["--dry-run", "--relax", "none"], monkeypatch)
    out = capsys.readouterr().out
    assert "screen classify" in out and "screen gate" in out


def test_screen_hpc_tags_relaxations_for_the_cluster_worker():
    pytest.importorskip("jobflow_remote")
    module = runpy.run_path(str(FLOWS / "screen_hpc.py"))
    args = argparse.Namespace(
        compositions=["Na3Zr2Si2PO12"], top=1, orderings=1, relax="none", threshold=0.5,
        hpc_worker="hpc", exec_config="vasp",
    )
    flow = module["build_flow"](args)
    for job in flow.jobs:
        # Cheap jobs stay on the submission worker; the update waits for the relaxation jobs
        # that the gate creates at run time (dynamic update with a name filter).
        assert job.config.manager_config == {}
        (update,) = job.config_updates
        assert update["name_filter"] == "relax"
        assert update["config"]["_set"]["manager_config->worker"] == "hpc"
        assert update["config"]["_set"]["manager_config->exec_config"] == "vasp"


@pytest.mark.slow
def test_relax_vasp_writes_the_published_settings(tmp_path, monkeypatch, capsys):
    pytest.importorskip("atomate2")
    from pymatgen.core import Composition
    from pymatgen.io.vasp import Incar, Kpoints, Poscar

    out = tmp_path / "vasp"
    run_script("relax_vasp.py", ["Na3.5Zr1.5Sc0.5Si2PO12", "--orderings", "1",
                                 "--write-inputs", str(out)], monkeypatch)
    folder = out / "config_0"
    incar = Incar.from_file(folder / "INCAR")
    # Zuo et al. 2026, SI: PBE, 550 eV cutoff, 1e-5 eV electronic, 0.03 eV/Å forces, full cell.
    assert incar["GGA"].upper() == "PE" and incar["ENCUT"] == 550
    assert incar["EDIFF"] == pytest.approx(1e-5) and incar["EDIFFG"] == pytest.approx(-0.03)
    assert incar["ISIF"] == 3
    poscar = Poscar.from_file(folder / "POSCAR")
    symbols = poscar.site_symbols
    assert len(symbols) == len(set(symbols))  # one block per element, one POTCAR each
    target = Composition("Na3.5Zr1.5Sc0.5Si2PO12").fractional_composition
    assert poscar.structure.composition.fractional_composition.almost_equals(target)
    potcars = (folder / "POTCAR.spec").read_text().split()
    assert len(potcars) == len(symbols) and "Na_pv" in potcars and "Zr_sv" in potcars
    assert Kpoints.from_file(folder / "KPOINTS").kpts


@pytest.mark.slow
def test_bvse_only_matches_the_engine_on_the_same_cells(tmp_path, monkeypatch, capsys):
    from nasicon_workflows.bvse import compute_bvse
    from nasicon_workflows.structures import disordered_structure, order_structure

    formula = "Na3.5Zr1.5Sc0.5Si2PO12"
    run_script("bvse_only.py", [formula, "--resolution", "0.4", "--orderings", "2",
                                "--out", str(tmp_path)], monkeypatch)
    summary = json.loads((tmp_path / "bvse_summary.json").read_text())[formula]

    cells = order_structure(disordered_structure(formula), k=2, max_atoms=100)
    direct = [compute_bvse(c.structure, resolution=0.4).E_3D for c in cells]
    assert summary["E_3D"]["values_eV"] == pytest.approx(direct, abs=1e-9)
    assert summary["E_3D"]["mean_eV"] == pytest.approx(np.mean(direct), abs=1e-9)
    assert summary["E_3D"]["std_eV"] == pytest.approx(np.std(direct, ddof=1), abs=1e-9)
    assert "E_3D =" in capsys.readouterr().out
