"""``nasicon-workflows build`` / ``validate`` and the BuildStructuresMaker job."""

from __future__ import annotations

import json

import pytest
from jobflow import run_locally
from pymatgen.core.ewald import EwaldSummation
from pymatgen.io.cif import CifParser

from nasicon_workflows.cli import main
from nasicon_workflows.structures import (
    BuildStructuresMaker,
    RefinementDefectError,
    StructuresDocument,
)

FAST_K = ["-k", "2"]


def test_validate_raw_table_lists_defects_and_exits_1(capsys):
    assert main(["validate", "--refined", "HE1-NZSP", "--json"]) == 1
    defects = json.loads(capsys.readouterr().out)
    assert {"kind", "site", "expected", "found"} == set(defects[0])
    assert sum(d["kind"] == "missing_site" for d in defects) == 5


def test_validate_shipped_cif_is_clean(capsys):
    from importlib import resources

    path = resources.files("nasicon_workflows.data").joinpath("structures", "ME1-NZSP.cif")
    assert main(["validate", "--cif", str(path), "--nominal", "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12"]) == 0
    assert "no defects" in capsys.readouterr().out


def test_build_formula_writes_cifs_and_summary(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["build", "Na3.5Zr1.5Lu0.5Si2PO12", *FAST_K, "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert len(summary) == 2
    for row in summary:
        assert {"path", "formula", "n_atoms", "net_charge", "composition_error", "score"} <= set(row)
        structure = CifParser(row["path"]).parse_structures(primitive=False)[0]
        assert len(structure) == row["n_atoms"] == 82
        assert row["net_charge"] == 0.0 and row["composition_error"] == pytest.approx(0.0, abs=1e-12)
        assert row["score"] == pytest.approx(EwaldSummation(structure).total_energy, abs=1e-3)
    assert json.loads((out / "summary.json").read_text()) == summary


def test_build_defective_refinement_needs_repair(tmp_path, capsys):
    assert main(["build", "--refined", "ME1-NZSP", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ME1-NZSP has") and "missing_lattice_parameter" in err
    assert main(["build", "--refined", "ME1-NZSP", "--repair", "-k", "1", "--out", str(tmp_path),
                 "--json"]) == 0
    log = json.loads((tmp_path / "repair_log.json").read_text())
    assert log["defects"] and any(e["quantity"] == "beta" for e in log["repair_log"])


@pytest.mark.parametrize(("argv", "message"), [
    (["build", "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12", "--max-atoms", "40"], "Raise max_atoms to at least 82"),
    (["build", "--refined", "XX-NZSP"], "available: ME1-NZSP"),
    (["build", "Na3Zr2Si2PO11"], "O = 11"),
    (["validate", "--cif", "missing.cif"], "does not exist"),
])
def test_cli_errors_are_one_clear_line(tmp_path, capsys, argv, message):
    assert main([*argv, "--out", str(tmp_path)] if argv[0] == "build" else argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err


def test_maker_runs_as_a_jobflow_job():
    job = BuildStructuresMaker(k=1, seed=2).make("HE2-NZSP")
    responses = run_locally(job, ensure_success=True, log=False)
    doc = responses[job.uuid][1].output
    assert isinstance(doc, StructuresDocument)
    assert doc.source == "HE2-NZSP" and doc.repair_log  # shipped repair log travels along
    assert doc.composition_error == pytest.approx(0.025)
    assert doc.scores[0] == pytest.approx(EwaldSummation(doc.structures[0]).total_energy, abs=1e-6)
    assert {s.label for s in doc.structures[0]} >= {"Na1", "M1", "T1", "O6"}


def test_maker_refuses_defective_structure_without_repair():
    from nasicon_workflows.structures import load_refinement, repair_refinement
    from nasicon_workflows.structures.jobs import build_structures

    structure, _ = repair_refinement(load_refinement("ME1-NZSP"))
    for i, site in enumerate(structure):
        if site.label == "M1":  # half-empty M site, as in Tables S6/S7
            structure.replace(i, {sp: x / 2 for sp, x in site.species.items()}, label="M1")
    with pytest.raises(RefinementDefectError, match="site_underfilled at M1"):
        build_structures(structure=structure)
    repaired = build_structures(structure=structure, repair=True, k=1)
    assert repaired.composition_error == pytest.approx(0.0, abs=1e-12)
    assert any(e.site == "M1" for e in repaired.repair_log)
