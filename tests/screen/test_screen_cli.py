"""The screen's command line: every bad input stops with a clear error before any computation;
explicit compositions run end to end with stand-in stages; --submit goes to jobflow-remote."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import nasicon_workflows.screen.runner as runner
from nasicon_workflows.cli import main as cli_main
from nasicon_workflows.screen.cli import main as screen_main


@pytest.fixture
def no_compute(monkeypatch):
    """Fail the test if a screen starts."""

    def forbidden(*args, **kwargs):
        raise AssertionError("a computation started despite invalid input")

    monkeypatch.setattr(runner, "run_screen", forbidden)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--dopants", "Hf,Xx"], "Unknown dopant(s) ['Xx']: not element symbols"),
        (["--dopants", "Pt,Hf"], "Dopant(s) ['Pt'] have no known M-site oxidation state"),
        (["--dopants", " , "], "The dopant pool is empty"),
        (["--max-cations", "0"], "--max-cations 0 allows no cation"),
        (["--step", "0"], "--step 0.0 must be in (0, 2]"),
        (["--threshold", "1.5"], "--threshold 1.5 is outside [0, 1]"),
        (["--threshold", "-0.1"], "--threshold -0.1 is outside [0, 1]"),
        (["--compositions", "Na3Zr2.1Si2PO12"], "sum to 2.1"),
        (["--compositions", "Na3Zr2Si2PO12", "--weights", "speed=2"],
         "Cannot read ranking weight 'speed=2'"),
        (["--compositions", "Na3Zr2Si2PO12", "--top", "0"], "top must be >= 1"),
        (["--compositions", "Na3Zr2Si2PO12", "--relax", "vasp"], "VASP is not configured"),
        (["--dopants", "Hf,Sc", "--require", "Zr"], "--require ['Zr'] not in the dopant pool"),
        (["--min-entropy", "-1"], "--min-entropy -1.0 is negative"),
        (["--max-cations", "2", "--min-entropy", "1.5"], "with M-site entropy >= 1.5 R"),
    ],
)
def test_bad_input_is_one_line_before_computing(argv, message, no_compute, tmp_path, capsys):
    assert screen_main([*argv, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err, err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_empty_composition_file(no_compute, tmp_path, capsys):
    listing = tmp_path / "list.txt"
    listing.write_text("# nothing here\n\n")
    assert cli_main(["screen", "--compositions", str(listing), "--out", str(tmp_path / "o")]) == 2
    assert "No composition in" in capsys.readouterr().err


def test_unwritable_output_folder(no_compute, tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    argv = ["--compositions", "Na3Zr2Si2PO12", "--relax", "none", "--out", str(blocker / "o")]
    assert screen_main(argv) == 2
    assert "Cannot write to the output folder" in capsys.readouterr().err


def test_module_entry_point_exit_code(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "nasicon_workflows.screen", "--threshold", "7",
         "--out", str(tmp_path)],
        capture_output=True, text=True, check=False, timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: --threshold 7.0 is outside [0, 1]: give a probability such as 0.5."
    )


def test_composition_file_and_stand_in_screen(calls, tmp_path, capsys):
    listing = tmp_path / "list.txt"
    listing.write_text("Na3.4Zr1.8Mg0.2Si2PO12  # Mg-doped\nNa3.5Zr1.0Ti0.5Lu0.5Si2PO12\n")
    out = tmp_path / "screen"
    argv = ["--compositions", str(listing), "--threshold", "0.3", "--orderings", "2",
            "--relax", "chgnet", "--out", str(out), "--quiet"]
    # the Lu candidate fails (stand-in relaxation): exit code 1 = finished with failures
    assert screen_main(argv) == 1
    ranking = (out / "ranking.csv").read_text().splitlines()
    assert ranking[0].startswith("rank,composition,score,probability")
    assert len(ranking) == 2 and "Na3.4Zr1.8Mg0.2Si2PO12" in ranking[1]
    results = json.loads((out / "results.json").read_text())
    assert results["settings"]["threshold"] == 0.3
    assert results["settings"]["orderings"] == 2
    # the same command without --resume refuses to mix two screens in one folder
    assert screen_main(argv) == 2
    assert "pass --resume" in capsys.readouterr().err
    assert screen_main([*argv, "--resume"]) == 1


def test_submit_goes_to_jobflow_remote(monkeypatch, tmp_path, capsys):
    import nasicon_workflows.remote as remote

    seen = {}

    def fake_submit(maker, compositions=None, *, worker=None, project=None, **kwargs):
        seen.update(maker=maker, compositions=compositions, worker=worker, project=project)
        return ["1", "2"]

    monkeypatch.setattr(remote, "submit_screen", fake_submit)
    argv = ["--compositions", "Na3Zr2Si2PO12", "--relax", "vasp", "--submit", "--worker",
            "hpc", "--project", "nasicon", "--top", "3"]
    assert screen_main(argv) == 0
    # VASP is not configured here, but on --submit it runs on the worker: no local check
    assert seen["compositions"] == ["Na3Zr2Si2PO12"]
    assert (seen["worker"], seen["project"]) == ("hpc", "nasicon")
    assert seen["maker"].relax == "vasp" and seen["maker"].top == 3
    assert seen["maker"].cache_dir is None
    assert "submitted to jobflow-remote" in capsys.readouterr().err


def _rules(argv):
    import argparse

    from nasicon_workflows.screen.cli import add_arguments, enumeration_rules

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return enumeration_rules(parser.parse_args(argv))


def test_default_enumeration_keeps_dopants_on_the_zr_site():
    from nasicon_workflows.enumeration import EnumerationRules, count_candidates

    assert _rules([])["required_elements"] == ["Zr"]
    assert "required_elements" not in _rules(["--dopants", "Hf,Sc,Ti"])
    assert "required_elements" not in _rules(["--require", ""])
    assert _rules(["--dopants", "Hf,Sc,Ti", "--require", "Hf"])["required_elements"] == ["Hf"]
    # every enumerated composition of a small Zr-required pool contains Zr
    rules = EnumerationRules(dopant_pool=("Zr", "Hf", "Sc"), n_cations=(2, 3), step=0.5,
                             required_elements=("Zr",))
    free = EnumerationRules(dopant_pool=("Zr", "Hf", "Sc"), n_cations=(2, 3), step=0.5)
    assert 0 < count_candidates(rules) < count_candidates(free)


def test_default_enumeration_is_medium_entropy_and_up():
    import math

    from nasicon_workflows.enumeration import EnumerationRules, enumerate_candidates

    assert _rules([])["min_entropy_R"] == 1.0
    assert "min_entropy_R" not in _rules(["--min-entropy", "0"])
    rules = EnumerationRules(dopant_pool=("Zr", "Hf", "Sc", "Ti"), n_cations=(2, 4), step=0.5,
                             required_elements=("Zr",), min_entropy_R=1.0)
    seen = 0
    for chunk in enumerate_candidates(rules):
        x = chunk.amounts / 2
        entropy = -(x * [[math.log(v) if v > 0 else 0.0 for v in row] for row in x]).sum(axis=1)
        assert (entropy >= 1.0 - 1e-12).all()
        seen += len(x)
    assert seen > 0
