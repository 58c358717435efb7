"""A relative --out behaves like an absolute one, the job store keeps every job id the
ranking refers to across resumes, and two runs on one folder cannot both compute.

Stand-in stages (conftest.py) keep these fast; the flow, jobflow, the job store and the report
are real. The kill -9 test with a relative --out runs the real stages (slow).
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import kill_after_first_relaxation, output_lock_held_elsewhere

from nasicon_workflows.fileio import OutputLockedError, output_lock
from nasicon_workflows.screen.flow import ScreeningFlowMaker
from nasicon_workflows.screen.runner import load_job_store, run_screen

FORMULAS = ["Na3.4Zr1.8Mg0.2Si2PO12", "Na3.2Zr1.6Hf0.2Sc0.2Si2PO12"]


def _ranking_job_ids(out: Path) -> set[str]:
    with open(out / "ranking.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    ids: set[str] = set()
    for row in rows:
        for column in ("classifier_job", "summary_job", "relax_jobs", "bvse_jobs"):
            ids.update(u for u in (row.get(column) or "").split(";") if u)
    assert ids, "the ranking names no job"
    return ids


def _stored_ids(out: Path) -> set[str]:
    docs = json.loads((out / "jobstore" / "docs.json").read_text())
    return {d["uuid"] for d in docs}


def _files(out: Path) -> set[str]:
    return {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file()}


def test_relative_out_resumed_by_relative_and_absolute_path(calls, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    maker = ScreeningFlowMaker(top=2, threshold=0.0, orderings=2)
    run_screen(maker, "rels", FORMULAS)
    out = tmp_path / "rels"
    # nothing written below the jobs' working directory (the issue's OUT/jobs/OUT/ copy)
    assert not (out / "jobs" / "rels").exists()
    assert not [p for p in _files(out) if p.startswith("jobs/")]
    first_ids = _ranking_job_ids(out)
    assert first_ids <= _stored_ids(out)
    computed = dict(calls)
    cache_files = {p for p in _files(out) if p.startswith("cache/")}

    for out_arg in ("rels", "rels", str(out), "./rels/../rels"):
        again = run_screen(ScreeningFlowMaker(top=2, threshold=0.0, orderings=2), out_arg,
                           FORMULAS, resume=True)
        assert again.out_dir == out.absolute() or again.out_dir.resolve() == out.resolve()
        # nothing recomputed, no second cache
        assert {k: calls[k] for k in ("build", "relax", "bvse")} == \
            {k: computed[k] for k in ("build", "relax", "bvse")}
        assert {p for p in _files(out) if p.startswith("cache/")} == cache_files
        assert all(c.from_cache for c in again.result.candidates)
        # every job id the ranking refers to is still in the store, including the first run's
        ids = _ranking_job_ids(out)
        stored = _stored_ids(out)
        assert ids <= stored, ids - stored
        assert first_ids <= stored
    assert not (out / "jobs" / "rels").exists()


def test_lock_refuses_a_second_run_on_the_same_folder(tmp_path):
    with output_lock_held_elsewhere(tmp_path):
        with pytest.raises(OutputLockedError, match="another screen is using"):
            with output_lock(tmp_path, what="screen"):
                pass
        start = time.monotonic()
        with pytest.raises(OutputLockedError, match="after waiting 0.3 s"):
            with output_lock(tmp_path, timeout_s=0.3, what="screen"):
                pass
        assert time.monotonic() - start >= 0.3
    # a killed holder leaves no stale lock: the OS released it with the process
    with output_lock(tmp_path):
        pass


def test_concurrent_screen_exits_2_with_one_line(calls, tmp_path, capsys):
    from nasicon_workflows.cli import main

    out = tmp_path / "screen"
    argv = ["screen", "--compositions", FORMULAS[0], "--relax", "none", "--orderings", "1",
            "--quiet", "--out", str(out)]
    with output_lock_held_elsewhere(out):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("error:") == 1 and "another screen is using" in err, err
        assert calls["score"] == 0 and calls["build"] == 0  # nothing computed
        assert not (out / "settings.json").exists()
    # once the other run is gone, the same command runs
    assert main(argv) == 0
    assert (out / "ranking.csv").is_file()


def test_quiet_prints_nothing(calls, tmp_path, capsys):
    from nasicon_workflows.cli import main

    argv = ["screen", "--compositions", FORMULAS[0], "--relax", "none", "--orderings", "1",
            "--quiet", "--out", str(tmp_path / "q")]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""
    assert (tmp_path / "q" / "ranking.csv").is_file()


@pytest.mark.slow
def test_kill_then_resume_with_a_relative_out(tmp_path):
    """kill -9 during a relaxation, then --resume with ``--out killed`` (relative) and again by
    the absolute path: nothing finished is recomputed, every ranked job id is stored."""
    args = ["--compositions", "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12", "--relax", "chgnet", "--fmax",
            "0.01", "--relax-steps", "12", "--orderings", "2", "--bvse-resolution", "0.3",
            "--threshold", "0", "--seed", "0", "--quiet"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join(sys.path)}

    def screen(extra):
        return subprocess.Popen([sys.executable, "-m", "nasicon_workflows.screen", *args, *extra],
                                cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True, env=env)

    out = tmp_path / "killed"
    kill_after_first_relaxation(screen(["--out", "killed"]), out)
    assert not (out / "jobs" / "killed").exists()
    finished = {p: p.read_bytes() for p in (out / "cache").rglob("*.json")}
    stored_before = _stored_ids(out)
    assert stored_before, "the job store of the killed run is empty"

    for extra in (["--out", "killed", "--resume"], ["--out", str(out), "--resume"]):
        resumed = screen(extra)
        printed, err = resumed.communicate(timeout=900)
        assert resumed.returncode == 0, err[-3000:]
        assert printed == "" and err == ""  # --quiet, also with CHGNet relaxing
        # nothing finished before the kill was recomputed or rewritten
        assert {p: p.read_bytes() for p in finished} == finished
        stored = _stored_ids(out)
        assert stored_before <= stored
        assert _ranking_job_ids(out) <= stored
    assert not (out / "jobs" / "killed").exists()
    results = json.loads((out / "results.json").read_text())
    cand = results["candidates"][0]
    assert cand["status"] == "finished" and len(cand["configurations"]) == 2
