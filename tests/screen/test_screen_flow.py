"""The screening flow's mechanics with stand-in stages: gate decisions, failure tolerance,
provenance, resume from the cache, the persistent job store and the output files.

The stand-ins (conftest.py) replace only the expensive stages (classifier, structures, relaxation, BVSE) through
``nasicon_workflows.screen.stages``; the flow, the jobflow machinery, the store and the report are
the real ones. The real stages run in tests/screen/test_screen_e2e.py.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from nasicon_workflows.errors import InvalidCompositionError
from nasicon_workflows.screen.documents import GateRecord
from nasicon_workflows.screen.errors import (
    EmptyCandidateSetError,
    OutputFolderError,
    ResumeMismatchError,
    ThresholdRangeError,
)
from nasicon_workflows.screen.flow import ScreeningFlowMaker, select_candidates
from nasicon_workflows.screen.runner import (
    AtomicJSONStore,
    check_output_folder,
    load_job_store,
    run_screen,
)

FORMULAS = [
    "Na3.4Zr1.8Mg0.2Si2PO12",          # entropy 0.325 R
    "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12",     # 1.040 R; the stand-in relaxation fails for Lu
    "Na3.2Zr1.6Hf0.2Sc0.2Si2PO12",     # 0.639 R
]

def _records():
    base = [
        GateRecord(composition="A", probability=0.9, in_domain=True),
        GateRecord(composition="B", probability=0.4, in_domain=True),
        GateRecord(composition="C", probability=0.95, in_domain=False, domain_reason="Pt unseen"),
        GateRecord(composition="D", probability=0.7, in_domain=True),
        GateRecord(composition="E", probability=0.8, in_domain=True),
        GateRecord(composition="F", probability=None),
    ]
    return base


def test_gate_reasons_and_top_n():
    out = {r.composition: r for r in select_candidates(_records(), threshold=0.5, top=2)}
    assert [c for c, r in out.items() if r.selected] == ["A", "E"]
    assert "rank 1 of 3 passing" in out["A"].reason
    assert "below threshold 0.5" in out["B"].reason and "0.400" in out["B"].reason
    assert "applicability domain: Pt unseen" in out["C"].reason
    assert "ranked 3 of 3, beyond top 2" in out["D"].reason
    assert "no probability" in out["F"].reason


def test_gate_threshold_is_inclusive():
    out = select_candidates([GateRecord(composition="A", probability=0.5, in_domain=True)], 0.5, 1)
    assert out[0].selected


def test_barriers_are_read_from_the_bvse_document_and_zero_survives():
    from nasicon_workflows.bvse import BVSEDocument
    from nasicon_workflows.screen.documents import ConfigurationBVSE

    doc = BVSEDocument(formula="NaZr", E_1D=0.0, E_2D=None, E_3D=0.31, grid_shape=(1, 1, 1),
                       resolution=0.1, grid_spacing_A=(0.1, 0.1, 0.1), energy_min_eV=0.0)
    bvse = ConfigurationBVSE(index=0, document=doc)
    assert bvse.barriers_eV == {"1D": 0.0, "2D": None, "3D": 0.31}
    # the stored form (data store / cache) reads back to the same numbers
    again = ConfigurationBVSE.model_validate(bvse.model_dump())
    assert again.barriers_eV["1D"] == 0.0 and again.barriers_eV["2D"] is None


def test_maker_validation():
    with pytest.raises(ThresholdRangeError, match=r"1.5 is outside \[0, 1\]"):
        ScreeningFlowMaker(threshold=1.5)
    with pytest.raises(EmptyCandidateSetError, match="composition list is empty"):
        ScreeningFlowMaker().make([])
    with pytest.raises(InvalidCompositionError, match="sum to 2.1"):
        ScreeningFlowMaker().make(["Na3Zr2.1Si2PO12"])


def test_screen_tolerates_failed_candidate_and_resumes(calls, tmp_path):
    maker = ScreeningFlowMaker(top=3, threshold=0.3, orderings=2)
    run = run_screen(maker, tmp_path, FORMULAS)
    result = run.result
    by_comp = {c.composition: c for c in result.candidates}
    # Hf/Sc is in domain (stand-in rule), Mg is 0.325 >= 0.3: all three selected
    assert len(by_comp) == 3
    failed = by_comp["Na3.5ZrTi0.5Lu0.5Si2PO12"]
    assert failed.status == "failed"
    assert "stand-in relaxation diverged" in failed.error
    finished = [c for c in result.candidates if c.status == "finished"]
    assert len(finished) == 2 and len(result.ranking) == 2
    assert any("not ranked (failed): Na3.5ZrTi0.5Lu0.5Si2PO12" in n for n in result.ranking_notes)
    # barrier mean/std over the two orderings, recomputed from the stand-in formula
    cand = by_comp["Na3.4Zr1.8Mg0.2Si2PO12"]
    barriers = [0.3 + c.volume_A3 / 1000.0 for c in cand.configurations]
    assert cand.barrier_mean_eV["3D"] == pytest.approx(np.mean(barriers))
    assert cand.barrier_std_eV["3D"] == pytest.approx(np.std(barriers, ddof=1))
    assert cand.n_percolating == {"1D": 2, "2D": 0, "3D": 2}
    assert cand.barrier_mean_eV["2D"] is None  # no 2D path in any ordering -> no statistic
    # ordering energy range per M cation: the stand-in energy is -0.1 eV/Å^3
    energies = [-0.1 * c.volume_A3 / c.n_m_cations for c in cand.configurations]
    assert cand.ordering_energy_range_eV_per_m == pytest.approx(max(energies) - min(energies))
    # every ranked number links to a job stored in the persistent store
    store = load_job_store(tmp_path)
    store.connect()
    row = result.ranking[0]
    for uuid in [row["classifier_job"], row["summary_job"], *row["relax_jobs"].split(";")]:
        assert store.query_one({"uuid": uuid}) is not None, uuid
    # outputs
    for name in ("ranking.csv", "results.json", "report.md", "plots/descriptor_map.png"):
        assert (tmp_path / name).is_file(), name
    assert len(list((tmp_path / "structures").glob("*.cif"))) == 4
    payload = json.loads((tmp_path / "results.json").read_text())
    assert {c["status"] for c in payload["candidates"]} == {"finished", "failed"}
    assert "stand-in relaxation diverged" in (tmp_path / "report.md").read_text()
    # second run: finished candidates come from the cache; only the failed one is retried
    before = dict(calls)
    with pytest.raises(OutputFolderError, match="pass --resume"):
        run_screen(maker, tmp_path, FORMULAS)
    again = run_screen(maker, tmp_path, FORMULAS, resume=True).result
    cached = {c.composition: c.from_cache for c in again.candidates}
    assert cached == {"Na3.4Zr1.8Mg0.2Si2PO12": True, "Na3.2Zr1.6Hf0.2Sc0.2Si2PO12": True,
                      "Na3.5ZrTi0.5Lu0.5Si2PO12": False}
    assert calls["bvse"] == before["bvse"]  # no BVSE recomputed
    assert calls["score"] == before["score"]  # the scored compositions come from the cache
    assert [r["composition"] for r in again.ranking] == [r["composition"] for r in result.ranking]
    assert again.ranking[0]["relax_jobs"] == result.ranking[0]["relax_jobs"]


def test_resume_refuses_changed_settings(tmp_path):
    check_output_folder(tmp_path, {"top": 4, "orderings": 2}, resume=False)
    with pytest.raises(ResumeMismatchError, match=r"orderings: 2 -> 3"):
        check_output_folder(tmp_path, {"top": 4, "orderings": 3}, resume=True)
    # selection and ranking settings may change: cached candidates are reused
    check_output_folder(tmp_path, {"top": 8, "orderings": 2}, resume=True)
    assert json.loads((tmp_path / "settings.json").read_text())["top"] == 8


def test_unwritable_output_folder(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(OutputFolderError, match="Cannot write to the output folder"):
        check_output_folder(blocker / "out", {}, resume=False)


def test_atomic_json_store_round_trip_and_no_partial_file(tmp_path, monkeypatch):
    path = tmp_path / "docs.json"
    store = AtomicJSONStore(str(path), read_only=False)
    store.connect()
    store.update([{"task_id": 1, "x": 1.5}, {"task_id": 2, "x": math.pi}], key="task_id")
    reread = AtomicJSONStore(str(path), read_only=False)
    reread.connect()
    assert reread.query_one({"task_id": 2})["x"] == pytest.approx(math.pi)
    # a write that dies half-way leaves the previous file intact
    import nasicon_workflows.fileio as fileio_module  # the one atomic writer

    def dying_fsync(fd):
        raise OSError("killed")

    monkeypatch.setattr(fileio_module.os, "fsync", dying_fsync)
    with pytest.raises(OSError, match="killed"):
        reread.update([{"task_id": 3, "x": 0.0}], key="task_id")
    monkeypatch.undo()
    assert len(json.loads(path.read_text())) == 2
    assert not list(tmp_path.glob(".docs.json.*"))
    # the atomic file has the permissions of a plainly created one, not mkstemp's 0600
    plain = tmp_path / "plain.txt"
    plain.write_text("")
    assert path.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777


def test_phonons_of_the_lowest_energy_configuration(calls, tmp_path):
    maker = ScreeningFlowMaker(top=1, threshold=0.0, orderings=3, phonons=True)
    result = run_screen(maker, tmp_path, [FORMULAS[2]]).result
    cand = result.candidates[0]
    lowest = min(cand.configurations, key=lambda c: c.energy_per_atom_eV)
    # the stand-in energy is -0.1 eV/Å^3: the largest cell has the lowest energy per atom
    assert lowest.volume_A3 == max(c.volume_A3 for c in cand.configurations)
    assert cand.phonons["index"] == lowest.index
    assert cand.phonons["min_frequency_THz"] == pytest.approx(-lowest.volume_A3 / 1000.0)
    assert cand.phonons["composition"] == FORMULAS[2]
    assert result.ranking[0]["n_imaginary_modes"] == 0
    assert "imaginary modes" in (tmp_path / "report.md").read_text()
    # resumed: the phonon result comes from the cache with the candidate
    n = calls["phonons"]
    again = run_screen(maker, tmp_path, [FORMULAS[2]], resume=True).result
    assert again.candidates[0].phonons == cand.phonons and calls["phonons"] == n


def test_relaxations_are_stored_one_by_one(calls, monkeypatch, tmp_path):
    """Relaxation i+1 starts only after relaxation i is in the cache (what kill -9 relies on)."""
    from dataclasses import dataclass

    from jobflow import Maker, job

    from nasicon_workflows.screen import stages

    stored_before = []

    @dataclass
    class CountingRelaxMaker(Maker):
        name: str = "counting relax"

        @job
        def make(self, structure):
            stored_before.append(len(list((tmp_path / "cache" / "relaxations").glob("*.json"))))
            from conftest import stand_in_task_document

            return stand_in_task_document(structure, -1.0)

    monkeypatch.setattr(stages, "relax_maker", lambda settings: CountingRelaxMaker())
    run_screen(ScreeningFlowMaker(top=1, threshold=0.0, orderings=3), tmp_path, [FORMULAS[0]])
    assert stored_before == [0, 1, 2]
