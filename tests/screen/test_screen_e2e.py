"""Real end-to-end screens with every stage (classifier, structures, CHGNet, BVSE) on small
settings, and a kill -9 in the middle of a relaxation followed by --resume.

Numbers are checked against independent computations: the gate's own scores, a CHGNet single
point on the relaxed structure, and the BVSE stage run again on the relaxed structure.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import kill_after_first_relaxation

pytestmark = pytest.mark.slow

# on the 0.25 grid: the 84-site cell realises both exactly (a 0.1-step composition would need a
# ~206-atom 10-formula-unit cell, 2.5x the CPU time per step)
COMPOSITIONS = ["Na3.5Zr1.5Sc0.5Si2PO12", "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12"]
# Small but real: a few CHGNet steps, a coarse BVSE grid, one ordering.
SMALL = ["--relax", "chgnet", "--fmax", "0.5", "--relax-steps", "3", "--orderings", "1",
         "--bvse-resolution", "0.3", "--threshold", "0", "--seed", "0", "--quiet"]


def _screen(args: list[str], **kwargs) -> subprocess.Popen:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-m", "nasicon_workflows.screen", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            **kwargs)


@pytest.fixture(scope="module")
def screened(tmp_path_factory):
    out = tmp_path_factory.mktemp("screen")
    proc = _screen(["--compositions", *COMPOSITIONS, *SMALL, "--out", str(out)])
    stdout, stderr = proc.communicate(timeout=900)
    assert proc.returncode == 0, stderr[-3000:]
    return out, json.loads((out / "results.json").read_text())


def test_output_folder(screened):
    out, results = screened
    for name in ("ranking.csv", "results.json", "report.md", "report.html",
                 "plots/descriptor_map.png"):
        assert (out / name).is_file(), name
    assert len(list((out / "structures").glob("*.cif"))) == 2
    cubes = sorted(p.name for p in (out / "bvse_maps").glob("*.cube"))
    assert cubes == [f"{c}_0.cube" for c in sorted(
        ["Na3.5Zr1.5Sc0.5Si2PO12", "Na3.5ZrTi0.5Lu0.5Si2PO12"])]
    report = (out / "report.md").read_text()
    for heading in ("## What was screened", "## What was computed", "## Ranking",
                    "## The classifier", "## Caveats"):
        assert heading in report
    assert [c["status"] for c in results["candidates"]] == ["finished", "finished"]
    # exact cells: every configuration has its composition
    assert all(c["composition_error"] == pytest.approx(0.0, abs=1e-9)
               for cand in results["candidates"] for c in cand["configurations"])


def test_probabilities_are_the_gates(screened):
    from nasicon_workflows.classifier import SynthesizabilityGate

    _, results = screened
    frame = SynthesizabilityGate.load_default().score(COMPOSITIONS)
    expected = dict(zip(frame["composition"], frame["probability"]))
    for rec in results["scored"]:
        assert rec["probability"] == pytest.approx(expected[rec["composition"]], abs=1e-12)


def test_relaxed_energy_is_chgnet_energy_of_the_relaxed_cell(screened):
    from chgnet.model import CHGNet
    from pymatgen.core import Structure

    _, results = screened
    model = CHGNet.load(verbose=False)
    for cand in results["candidates"]:
        config = cand["configurations"][0]
        structure = Structure.from_dict(config["structure"])
        assert config["relaxed"] and config["n_atoms"] == len(structure)
        predicted = float(model.predict_structure(structure)["e"])  # eV/atom
        # the optimiser's last energy belongs to the returned cell (float32 model: ~1 meV/atom)
        assert config["energy_per_atom_eV"] == pytest.approx(predicted, abs=2e-3)


def test_barriers_are_the_bvse_of_the_relaxed_cell(screened):
    from pymatgen.core import Structure

    from nasicon_workflows.bvse import compute_bvse

    _, results = screened
    cand = results["candidates"][0]
    config = cand["configurations"][0]
    document = compute_bvse(Structure.from_dict(config["structure"]), resolution=0.3)
    assert config["barriers_eV"]["3D"] == pytest.approx(document.E_3D, abs=1e-9)
    assert cand["barrier_mean_eV"]["3D"] == pytest.approx(document.E_3D, abs=1e-9)
    assert cand["barrier_std_eV"]["3D"] == 0.0  # one configuration


def test_ranking_recomputes_from_results(screened):
    from nasicon_workflows.screen.flow import ranking_row
    from nasicon_workflows.screen.documents import CandidateResult
    from nasicon_workflows.screen.ranking import RankingWeights, rank_candidates

    _, results = screened
    rows = [ranking_row(CandidateResult.model_validate(c)) for c in results["candidates"]]
    ranking, _ = rank_candidates(rows, RankingWeights())
    assert ranking["composition"].tolist() == [r["composition"] for r in results["ranking"]]
    assert ranking["score"].tolist() == pytest.approx([r["score"] for r in results["ranking"]])


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.rglob("*.json")}


def test_kill_during_relaxation_then_resume(tmp_path):
    out = tmp_path / "killed"
    # Two orderings of one composition and enough steps that the second relaxation is still
    # running when the first one's result appears in the cache.
    args = ["--compositions", COMPOSITIONS[1], *SMALL, "--orderings", "2",
            "--relax-steps", "12", "--fmax", "0.01", "--out", str(out)]
    proc = _screen(args)
    # the second relaxation (12 CHGNet steps on 82 atoms, seconds) starts right after the first
    # one's record is written
    kill_after_first_relaxation(proc, out)
    assert proc.returncode == -signal.SIGKILL
    finished = _digest(out / "cache")
    assert any(k.startswith("relaxations/") for k in finished)
    assert not (out / "results.json").exists()
    # the job store file is whole JSON whatever the moment of the kill
    json.loads((out / "jobstore" / "docs.json").read_text())
    cached_relax = [json.loads((out / "cache" / k).read_text()) for k in finished
                    if k.startswith("relaxations/")]

    resumed = _screen([*args, "--resume"])
    _, err = resumed.communicate(timeout=900)
    assert resumed.returncode == 0, err[-3000:]
    after = _digest(out / "cache")
    # nothing finished before the kill was recomputed or rewritten
    assert {k: after.get(k) for k in finished} == finished
    results = json.loads((out / "results.json").read_text())
    cand = results["candidates"][0]
    assert cand["status"] == "finished" and len(cand["configurations"]) == 2
    used = {c["relax_job_uuid"] for c in cand["configurations"]}
    assert {r["relax_job_uuid"] for r in cached_relax} <= used
