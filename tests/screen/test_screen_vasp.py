"""A whole screen with ``relax="vasp"`` through atomate2's mock VASP (``monkeypatch_vasp``).

Every VASP job the screen creates must carry the published settings of Zuo et al., Energy
Environ. Sci. 2026, 19, 860 (SI): PBE (GGA = PE) with PAW potentials, ENCUT 550 eV, EDIFF 1e-5
eV, EDIFFG -0.03 eV/Å, full relaxation (ISIF 3) done twice, and our documented NSW 200 — never
the screen's force-field budget (fmax 0.1 eV/Å, 25 steps). The mock copies reference outputs
(tests/test_data/vasp/README.md: CHGNet numbers in VASP formats), so this tests the plumbing: the
inputs written, the chaining and the reading back of converged VASP task documents.
"""

from __future__ import annotations

import logging
from pathlib import Path

import atomate2.vasp.jobs.base
import pytest
from atomate2.utils.testing.vasp import monkeypatch_vasp
from jobflow import CURRENT_JOB, JobStore, run_locally
from maggma.stores import MemoryStore
from pymatgen.io.vasp import Incar, Kpoints

from nasicon_workflows.relax import NASICON_POTCARS, VaspRelaxSettings
from nasicon_workflows.screen import stages
from nasicon_workflows.screen.flow import ScreeningFlowMaker
from nasicon_workflows.screen.documents import ScreeningResult
from nasicon_workflows.screen.report import write_outputs

VASP_TEST_DIR = Path(__file__).resolve().parents[1] / "test_data" / "vasp"
FORMULA = "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12"  # ME1-NZSP: an 82-atom ordered cell, as the reference
CANONICAL = "Na3.5ZrTi0.5Lu0.5Si2PO12"
PUBLISHED = {"GGA": "Pe", "ENCUT": 550, "EDIFF": 1e-5, "EDIFFG": -0.03, "ISIF": 3, "IBRION": 2,
             "NSW": 200}
#: Keys the mock compares with the reference INCAR (written by the published-settings input set).
CHECKED_INCAR = ["GGA", "ENCUT", "EDIFF", "EDIFFG", "ISIF", "IBRION", "NSW", "ISMEAR", "SIGMA",
                 "ISPIN", "PREC", "LREAL", "LWAVE", "LCHARG"]


@pytest.fixture
def mock_vasp(monkeypatch):
    yield from monkeypatch_vasp(monkeypatch, VASP_TEST_DIR)


@pytest.mark.slow
def test_vasp_screen_carries_the_published_settings_in_every_job(mock_vasp, tmp_path,
                                                                 monkeypatch):
    names = {}
    for i in range(2):  # two orderings, two relaxations each
        for step in (1, 2):
            names[f"nasicon relax {step} [{CANONICAL} #{i}]"] = (
                f"ME1-NZSP_double_relax/relax_{step}"
            )
    # The ordered cells differ from the reference POSCAR (composition path, other orderings):
    # check INCAR, KPOINTS and POTCAR against the reference, not the positions.
    mock_vasp(names, {name: {"incar_settings": CHECKED_INCAR,
                             "check_inputs": ("incar", "kpoints", "potcar")} for name in names})
    written = {}
    mock_run_vasp = atomate2.vasp.jobs.base.run_vasp

    def recording_run_vasp(*args, **kwargs):
        written[CURRENT_JOB.job.name] = (
            Incar.from_file("INCAR"), Kpoints.from_file("KPOINTS"),
            Path("POTCAR.spec").read_text().split(),
        )
        return mock_run_vasp(*args, **kwargs)

    monkeypatch.setattr(atomate2.vasp.jobs.base, "run_vasp", recording_run_vasp)
    monkeypatch.setattr(stages, "score_compositions", lambda formulas: [
        {"composition": f, "probability": 0.9, "in_domain": True, "entropy_R": 1.04,
         "entropy_class": "medium"} for f in formulas])
    monkeypatch.setattr(stages, "classifier_summary", lambda: {"model_name": "stand-in"})
    maker = ScreeningFlowMaker(relax="vasp", top=1, orderings=2, threshold=0.5,
                               bvse_resolution=0.3)
    assert (maker.fmax, maker.relax_steps) == (0.049, 300)  # the force-field budget is there...
    # One folder per job, as on a cluster: the second relaxation copies the first one's outputs.
    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    monkeypatch.chdir(tmp_path)
    responses = run_locally(maker.make([FORMULA]), store=store, create_folders=True, log=False,
                            root_dir=tmp_path / "jobs")
    result = next(r.output for by_index in responses.values() for r in by_index.values()
                  if isinstance(r.output, ScreeningResult))
    write_outputs(result, tmp_path / "out")
    # the inputs each VASP job wrote, as VASP would have read them...
    assert sorted(written) == sorted(names)
    for name, (incar, kpoints, potcars) in written.items():
        for key, value in PUBLISHED.items():  # ...never the force-field budget
            assert incar[key] == pytest.approx(value) if isinstance(value, float) \
                else incar[key] == value, (name, key, incar[key])
        assert not any(k.startswith("LDAU") and incar[k] for k in incar)  # plain PBE, no +U
        assert kpoints.style == Kpoints.supported_modes.Gamma
        assert list(kpoints.kpts[0]) == [1, 2, 2]
        assert potcars == [NASICON_POTCARS[el] for el in ("Na", "Lu", "Zr", "Ti", "Si", "P", "O")]
    docs = {d["name"]: d for d in store.query({"name": {"$regex": "^nasicon relax"}})}
    assert sorted(docs) == sorted(names)
    assert all(d["output"]["run_type"] == "PBE" for d in docs.values())

    cand = result.candidates[0]
    assert cand.status == "finished", cand.error
    assert len(cand.configurations) == 2
    for config in cand.configurations:
        # RelaxationDocument.from_task_document reads VASP task documents as converged
        assert config.relaxer == "vasp" and config.relax_converged is True
        assert config.relax_steps is not None and config.relax_steps >= 1
        assert config.energy_per_atom_eV is not None
    report = (tmp_path / "out" / "report.md").read_text()
    assert "NOT converged" not in report
    assert "ENCUT 550" in report and "EDIFFG -0.03" in report and "NSW 200" in report
    assert result.settings["relax_settings"]["incar"]["EDIFFG"] == -0.03


def test_vasp_settings_never_take_the_force_field_budget(caplog):
    from pymatgen.core import Lattice, Structure

    cell = Structure(Lattice.cubic(8.0), ["Na", "Zr", "O", "O"],
                     [[0, 0, 0], [0.5, 0.5, 0.5], [0.25, 0.25, 0.25], [0.75, 0.75, 0.75]])

    def incar_of(maker):
        flow = stages.relax_maker(maker.relax_settings()).make(cell)
        gens = [job.maker.input_set_generator for job in flow.jobs]
        return [{**g.user_incar_settings, "NSW": g.nsw} for g in gens]

    for budget in ({"fmax": 0.1, "relax_steps": 25}, {"fmax": 0.5, "relax_steps": 3}):
        incars = incar_of(ScreeningFlowMaker(relax="vasp", **budget))
        assert len(incars) == 2  # double relaxation
        for incar in incars:
            assert incar["EDIFFG"] == -0.03 and incar["NSW"] == 200
            assert incar["ENCUT"] == 550 and incar["EDIFF"] == 1e-5 and incar["GGA"] == "PE"
    # an override is explicit (VaspRelaxSettings) and logged as a warning
    with caplog.at_level(logging.WARNING, logger="nasicon_workflows.relax.settings"):
        maker = ScreeningFlowMaker(
            relax="vasp", vasp=VaspRelaxSettings(nsw=80, incar_overrides={"EDIFFG": -0.05}))
        incars = incar_of(maker)
    assert all(i["EDIFFG"] == -0.05 and i["NSW"] == 80 for i in incars)
    assert "EDIFFG = -0.05 overrides the published -0.03" in caplog.text
    assert maker.settings()["relax_settings"]["incar"]["EDIFFG"] == -0.05


def test_relax_stage_defaults_agree_with_the_docs():
    from nasicon_workflows.relax import DEFAULT_VASP_NSW, get_relax_maker

    maker = get_relax_maker("vasp", check=False)
    for relax in (maker.relax_maker1, maker.relax_maker2):
        assert relax.input_set_generator.nsw == DEFAULT_VASP_NSW == 200
        assert relax.input_set_generator.user_incar_settings["EDIFFG"] == -0.03
    docs = (Path(__file__).resolve().parents[2] / "docs" / "relax.md").read_text()
    assert "| `ISIF`, `IBRION`, `NSW` | 3 (cell + ions), 2, 200 |" in docs
    assert NASICON_POTCARS["Na"] == "Na_pv"
