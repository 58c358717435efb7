"""VASP relaxation of NASICON cells with the published settings, tested the atomate2 way:
reference input/output folders, ``run_vasp`` monkeypatched, inputs checked against the
reference (INCAR keys, KPOINTS, POSCAR, POTCAR symbols via POTCAR.spec), whole flow run with
``jobflow.run_locally``. The reference outputs were written from CHGNet, not VASP (see
tests/test_data/vasp/README.md): they test the plumbing, not VASP's physics."""

from __future__ import annotations

from pathlib import Path

import pytest
from atomate2.utils.testing.vasp import monkeypatch_vasp
from emmet.core.tasks import TaskDoc
from jobflow import run_locally
from pymatgen.core import Structure
from pymatgen.io.vasp import Incar, Kpoints, Poscar

from nasicon_workflows.cli import main
from nasicon_workflows.relax import (
    NASICON_POTCARS,
    NasiconDoubleRelaxMaker,
    NasiconRelaxSetGenerator,
    RelaxationDocument,
    RelaxInputError,
    write_vasp_inputs,
)

VASP_TEST_DIR = Path(__file__).parent / "test_data" / "vasp"
ME1_POSCAR = VASP_TEST_DIR / "ME1-NZSP_ordered.POSCAR"
REF_PATHS = {
    "nasicon relax 1": "ME1-NZSP_double_relax/relax_1",
    "nasicon relax 2": "ME1-NZSP_double_relax/relax_2",
}
#: INCAR tags fixed by the source paper's SI (PBE, 550 eV, 1e-5 eV, -0.03 eV/Å, full relaxation)
#: plus our documented choices.
CHECKED_INCAR = [
    "GGA", "ENCUT", "EDIFF", "EDIFFG", "ISIF", "IBRION", "NSW", "ISMEAR", "SIGMA", "ISPIN",
    "PREC", "LREAL", "LDAU", "LWAVE", "LCHARG",
]


@pytest.fixture
def mock_vasp(monkeypatch):
    yield from monkeypatch_vasp(monkeypatch, VASP_TEST_DIR)


@pytest.fixture(scope="module")
def me1_cell() -> Structure:
    return Poscar.from_file(ME1_POSCAR).structure


def test_published_incar(me1_cell):
    vis = NasiconRelaxSetGenerator().get_input_set(me1_cell, potcar_spec=True)
    incar = vis["INCAR"]
    assert incar["GGA"].upper() == "PE"  # PBE (atomate2's base set is PBEsol)
    assert incar["ENCUT"] == 550
    assert incar["EDIFF"] == pytest.approx(1e-5)
    assert incar["EDIFFG"] == pytest.approx(-0.03)
    assert incar["ISIF"] == 3 and incar["IBRION"] == 2
    assert incar["ISPIN"] == 1 and "MAGMOM" not in incar  # closed-shell cations only
    assert not any(key.startswith("LDAU") and incar[key] for key in incar)
    assert "METAGGA" not in incar
    # Gamma-centred mesh, 64 k-points per Å^-3 of reciprocal volume: 1x2x2 for this cell.
    kpoints = vis["KPOINTS"]
    assert kpoints.style == Kpoints.supported_modes.Gamma
    assert list(kpoints.kpts[0]) == [1, 2, 2]
    assert vis["POTCAR.spec"].split("\n") == [
        NASICON_POTCARS[el] for el in ("Na", "Lu", "Zr", "Ti", "Si", "P", "O")
    ]


def test_heavy_element_potcars_and_open_shell_spin(me1_cell):
    cell = me1_cell.copy()
    lu_sites = [i for i, site in enumerate(cell) if site.specie.symbol == "Lu"]
    cell.replace(lu_sites[0], "Hf")
    cell.replace(lu_sites[1], "Ta")
    vis = NasiconRelaxSetGenerator().get_input_set(cell, potcar_spec=True)
    symbols = vis["POTCAR.spec"].split("\n")
    assert {"Hf_pv", "Ta_pv", "Zr_sv", "Na_pv"} <= set(symbols)
    iridium = me1_cell.copy()
    iridium.replace(lu_sites[0], "Ir")
    incar = NasiconRelaxSetGenerator().get_input_set(iridium, potcar_spec=True)["INCAR"]
    assert incar["ISPIN"] == 2  # Ir4+ is 5d5: spin polarised


def test_user_overrides_keep_published_keys(me1_cell):
    gen = NasiconRelaxSetGenerator(user_incar_settings={"NCORE": 8, "EDIFFG": -0.02})
    incar = gen.get_input_set(me1_cell, potcar_spec=True)["INCAR"]
    assert incar["NCORE"] == 8 and incar["EDIFFG"] == pytest.approx(-0.02)
    assert incar["ENCUT"] == 550


def test_write_inputs_without_potcars(me1_cell, tmp_path):
    files = write_vasp_inputs(me1_cell, tmp_path / "inputs")
    assert sorted(files) == ["INCAR", "KPOINTS", "POSCAR", "POTCAR.spec"]
    assert Incar.from_file(files["INCAR"])["ENCUT"] == 550
    written = Poscar.from_file(files["POSCAR"]).structure
    assert written.composition == me1_cell.composition
    with pytest.raises(RelaxInputError, match="partially occupied"):
        disordered = me1_cell.copy()
        disordered.replace(0, {"Na": 0.5})
        write_vasp_inputs(disordered, tmp_path / "bad")


def test_vasp_inputs_cli(tmp_path, capsys):
    out = tmp_path / "vasp"
    assert main(["vasp-inputs", str(ME1_POSCAR), "--out", str(out), "--incar", "NCORE=4"]) == 0
    printed = capsys.readouterr().out
    assert "ENCUT = 550" in printed and "POTCARs: Na_pv Lu_3 Zr_sv Ti_sv Si P O" in printed
    assert Incar.from_file(out / "INCAR")["NCORE"] == 4
    assert (out / "POTCAR.spec").read_text().split()[0] == "Na_pv"
    assert main(["vasp-inputs", str(ME1_POSCAR), "--out", str(out), "--incar", "NCORE"]) == 2
    assert "KEY=VALUE" in capsys.readouterr().err


def test_double_relax_mock_vasp(mock_vasp, me1_cell, tmp_path, monkeypatch):
    mock_vasp(
        REF_PATHS,
        {name: {"incar_settings": CHECKED_INCAR} for name in REF_PATHS},
    )
    flow = NasiconDoubleRelaxMaker().make(me1_cell)
    monkeypatch.chdir(tmp_path)
    responses = run_locally(flow, create_folders=True, ensure_success=True, log=False)
    relax1, relax2 = (responses[job.uuid][1].output for job in flow.jobs)
    assert [job.name for job in flow.jobs] == list(REF_PATHS)
    for doc in (relax1, relax2):
        assert isinstance(doc, TaskDoc)
        assert doc.calcs_reversed[0].input.incar["ENCUT"] == 550
        assert doc.calcs_reversed[0].input.incar["EDIFFG"] == pytest.approx(-0.03)
        assert doc.task_type.value == "Structure Optimization"
        assert doc.run_type.value == "PBE"
    # The second relaxation started from the first one's output structure (restart chain).
    start2 = Poscar.from_file(VASP_TEST_DIR / REF_PATHS["nasicon relax 2"] / "inputs" / "POSCAR")
    assert relax1.output.structure.lattice.abc == pytest.approx(start2.structure.lattice.abc)
    final = Poscar.from_file(
        VASP_TEST_DIR / REF_PATHS["nasicon relax 2"] / "outputs" / "CONTCAR"
    ).structure
    assert relax2.output.structure.lattice.abc == pytest.approx(final.lattice.abc, abs=1e-5)
    summary = RelaxationDocument.from_task_document(relax2, "vasp", fmax=0.03)
    assert summary.n_sites == len(me1_cell) and summary.formula == me1_cell.composition.reduced_formula
    assert summary.energy_per_atom == pytest.approx(relax2.output.energy / len(me1_cell))
    assert summary.a == pytest.approx(final.lattice.a)
    assert summary.n_steps == len(relax2.calcs_reversed[0].output.ionic_steps)


def test_mock_vasp_rejects_wrong_inputs(mock_vasp, me1_cell, tmp_path, monkeypatch):
    # The reference check must be able to fail: a different ENCUT is caught before "running".
    from jobflow import JobStore
    from maggma.stores import MemoryStore

    mock_vasp(REF_PATHS, {name: {"incar_settings": CHECKED_INCAR} for name in REF_PATHS})
    maker = NasiconDoubleRelaxMaker.from_settings(user_incar_settings={"ENCUT": 520})
    first = maker.make(me1_cell).jobs[0]
    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    store.connect()
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="INCAR value of ENCUT is inconsistent: expected 550"):
        first.run(store)


def test_pre_relax_chain_names(me1_cell):
    from nasicon_workflows.relax import get_relax_maker

    with pytest.raises(RelaxInputError, match="get_relax_maker"):
        NasiconDoubleRelaxMaker.from_settings(pre_relax="chgnet")
    maker = get_relax_maker("vasp", pre_relax="chgnet", check=False)
    flow = maker.make(me1_cell)
    names = [job.name for job in flow.jobs]
    assert names == ["chgnet relax (pre-relax)", "nasicon relax 1", "nasicon relax 2"]
