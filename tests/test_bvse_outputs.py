"""BVSE outputs: document consistency, cube/.grd/PNG files, Makers, ensemble statistics and CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nasicon_workflows.bvse import (
    BVSEEnsembleMaker,
    BVSEMaker,
    analyse_landscape,
    compute_bvse,
    compute_landscape,
    ensemble_document,
    plot_sections,
    point_energies,
    write_cube,
    write_grd,
)
from nasicon_workflows.bvse.plots import section_heights
from nasicon_workflows.cli import main

SHIPPED_NZSP = Path(__file__).resolve().parents[1] / "nasicon_workflows/data/structures/NZSP.cif"


@pytest.fixture(scope="module")
def landscape(nzp_primitive):
    return compute_landscape(nzp_primitive(), resolution=0.3)


@pytest.fixture(scope="module")
def document(landscape):
    return analyse_landscape(landscape)


def test_document_is_self_consistent(landscape, document):
    barriers = [document.E_1D, document.E_2D, document.E_3D]
    assert all(b is not None for b in barriers) and barriers == sorted(barriers)
    rel = landscape.energies_eV - landscape.energies_eV.min()
    # each barrier is the energy of a grid point (exact threshold, not a bisection midpoint)
    for b in barriers:
        assert np.abs(rel - b).min() < 1e-12
    sites = landscape.mobile_indices
    expected = (point_energies(landscape, landscape.structure.cart_coords[sites])
                - landscape.energies_eV.min())
    assert [s.energy_eV for s in document.site_energies] == pytest.approx(list(expected))
    for k, key in enumerate(("percolation_1D_eV", "percolation_2D_eV", "percolation_3D_eV")):
        per_site = [getattr(s, key) for s in document.site_energies]
        assert min(per_site) >= barriers[k] - 1e-12
    nets = {n.dimension: n for n in document.networks}
    assert nets[3].labels == ["Na1"] and nets[3].energy_eV == document.E_3D
    assert document.pathways[0].label_a == "Na1"
    assert document.pathways[0].saddle_energy_eV <= document.E_3D
    assert document.grid_shape == landscape.grid_shape
    fractions = [lvl.volume_fraction for lvl in document.isosurfaces if lvl.name.startswith("E_")]
    assert fractions == sorted(fractions) and 0 < fractions[0] < 1


def test_cube_round_trip(landscape, tmp_path):
    from ase.io.cube import read_cube_data

    path = write_cube(landscape, tmp_path / "nzp")
    assert path == tmp_path / "nzp.cube"
    data, atoms = read_cube_data(str(path))
    rel = landscape.energies_eV - landscape.energies_eV.min()
    np.testing.assert_allclose(data, rel, rtol=1e-4, atol=1e-4)
    assert len(atoms) == len(landscape.structure)
    np.testing.assert_allclose(atoms.cell.lengths(), landscape.structure.lattice.abc, rtol=1e-6)


def test_grd_layout(landscape, tmp_path):
    path = write_grd(landscape, tmp_path / "nzp.grd")
    assert path == tmp_path / "nzp.grd"  # kept, and appended to any other ending
    assert write_grd(landscape, tmp_path / "nzp.v1") == tmp_path / "nzp.v1.grd"
    lines = path.read_text().splitlines()
    assert [float(x) for x in lines[1].split()] == pytest.approx(
        [*landscape.structure.lattice.abc, *landscape.structure.lattice.angles], abs=1e-5)
    assert tuple(int(x) for x in lines[2].split()) == landscape.grid_shape
    values = np.array(lines[3:], dtype=float)
    assert values.size == np.prod(landscape.grid_shape)
    rel = landscape.energies_eV - landscape.energies_eV.min()
    assert values[1] == pytest.approx(rel[1, 0, 0], abs=2e-6)  # a index fastest
    assert values[landscape.grid_shape[0]] == pytest.approx(rel[0, 1, 0], abs=2e-6)


def test_sections_png(landscape, document, tmp_path):
    heights = section_heights(landscape)
    na_c = sorted({round(f % 1.0, 2) % 1.0 for f in
                   landscape.structure.frac_coords[landscape.mobile_indices, 2]})
    assert heights == pytest.approx(na_c)
    path = plot_sections(landscape, tmp_path / "sections.png", document)
    import matplotlib.image

    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[1] > image.shape[0] > 100


def test_bvse_maker_runs_as_job(nzp_primitive):
    from jobflow import run_locally

    structure = nzp_primitive()
    job = BVSEMaker(resolution=0.5).make(structure)
    responses = run_locally(job, ensure_success=True)
    output = responses[job.uuid][1].output
    direct = compute_bvse(structure, resolution=0.5)
    assert output.E_3D == pytest.approx(direct.E_3D)
    assert job.name == "bvse"


def test_ensemble_statistics(nzp_primitive):
    from jobflow import run_locally

    base = nzp_primitive()
    strained = base.copy()
    strained.scale_lattice(base.volume * 1.06)
    job = BVSEEnsembleMaker(resolution=0.5).make([base, strained])
    output = run_locally(job, ensure_success=True)[job.uuid][1].output
    values = [compute_bvse(s, resolution=0.5).E_3D for s in (base, strained)]
    assert output.E_3D.mean_eV == pytest.approx(np.mean(values))
    assert output.E_3D.std_eV == pytest.approx(np.std(values, ddof=1))
    assert output.E_3D.std_eV > 0.01  # a 6 % volume change moves the barrier
    assert output.n_configurations == 2


def test_ensemble_document_handles_non_percolating(document):
    blocked = document.model_copy(update={"E_3D": None})
    ens = ensemble_document([document, blocked])
    assert ens.E_3D.n_percolating == 1 and ens.E_3D.std_eV == 0.0
    assert ens.E_3D.values_eV == [document.E_3D, None]


def test_cli_json_and_files(tmp_path, capsys, nzp_primitive):
    cif = tmp_path / "nzp.cif"
    nzp_primitive().to(filename=str(cif))
    out = tmp_path / "maps"
    assert main(["bvse", str(cif), "--resolution", "0.5", "--json", "--out", str(out)]) == 0
    data = json.loads(capsys.readouterr().out)
    direct = compute_bvse(nzp_primitive(), resolution=0.5)
    assert data["E_3D"] == pytest.approx(direct.E_3D)
    assert {"E_1D", "E_2D", "site_energies", "pathways", "grid_shape", "timings"} <= set(data)
    assert sorted(p.name for p in out.iterdir()) == ["bvse.cube", "bvse.grd", "bvse_sections.png"]


def test_cli_ensemble_on_disordered_reference(capsys):
    code = main(["bvse", str(SHIPPED_NZSP), "--ensemble", "2", "--resolution", "0.5", "--json"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["n_configurations"] == 2
    values = [d["E_3D"] for d in data["documents"]]
    assert data["E_3D"]["mean_eV"] == pytest.approx(np.mean(values))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.cif"], "does not exist"),
        ([str(SHIPPED_NZSP)], "partially occupied"),
        ([str(SHIPPED_NZSP), "--ensemble", "0"], "K >= 1 configurations"),
        (["ORDERED", "--ensemble", "2"], "already ordered"),
        (["ORDERED", "--ion", "K"], "contains no K"),
        (["ORDERED", "--resolution", "5"], "resolution=5.0"),
    ],
)
def test_cli_errors(args, message, tmp_path, capsys, nzp_primitive):
    cif = tmp_path / "nzp.cif"
    nzp_primitive().to(filename=str(cif))
    args = [str(cif) if a == "ORDERED" else a for a in args]
    if "--resolution" not in args:
        args += ["--resolution", "0.6"]  # keep any grid that is computed small
    assert main(["bvse", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err


def test_ensemble_maker_orders_a_disordered_cell():
    from jobflow import run_locally

    from nasicon_workflows.structures import load_reference_structure

    job = BVSEEnsembleMaker(resolution=0.6, n_configurations=2).make(
        load_reference_structure("ME1-NZSP"))
    output = run_locally(job, ensure_success=True)[job.uuid][1].output
    assert output.n_configurations == 2
    assert all(d.site_energies for d in output.documents)
    values = [d.E_3D for d in output.documents]
    assert output.E_3D.mean_eV == pytest.approx(np.mean(values))
