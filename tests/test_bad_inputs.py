"""Every subcommand, given bad input, stops with exit code 2, exactly one ``error:``
line on stderr, no traceback, and no new or half-written file.

Cases run in-process through :func:`nasicon_workflows.cli.main` (fast); only what needs a real
file descriptor (stdout on ``/dev/full``, a closed pipe) runs in a subprocess.

Unwritable outputs are tested three ways: a file where a folder should be, a read-only folder and
a full device. The tests run as root, for whom permission bits do not apply, so the read-only
folder is ``/sys`` (``/sys/kernel`` exists and refuses new files with EACCES even for root;
``/sys/nasicon_out`` cannot be created), and the full device is ``/dev/full`` (ENOSPC on write).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nasicon_workflows.cli import main

GOOD = "Na3.4Zr1.6Sc0.4Si2PO12"
READ_ONLY = "/sys/kernel"  # exists; root cannot create files in it
READ_ONLY_NEW = "/sys/nasicon_out"  # cannot be created
FULL = "/dev/full"

# {tmp} is replaced by the test's temporary folder (also the working directory).
FILE = "{tmp}/file.txt"  # a regular text file that is not what the command wants
BINARY = "{tmp}/binary.bin"
EMPTY = "{tmp}/empty.txt"
MISSING = "{tmp}/missing.txt"
DIR = "{tmp}/folder"
UNDER_FILE = "{tmp}/file.txt/sub"
CIF = "{tmp}/ordered.cif"  # a valid ordered cell (the shipped ordered ME1-NZSP POSCAR)
SCREEN_DONE = "{tmp}/done"  # a folder that already holds a screen

_SMALL_POOL = ["--pool", "Zr", "Sc", "Hf", "--n-cations", "2,2", "--step", "0.5",
               "--min-entropy", "0", "--model", "gnb"]


def _cases() -> list:
    c: list = []

    def add(command: str, args: list[str], message: str | None = None, marks=()):
        c.append(pytest.param([command, *args] if command else args, message, marks=marks,
                              id=f"{command or 'top'}:{' '.join(args)[:70]}"))

    # ------------------------------------------------------------------ top level
    add("", [], "give a command")
    add("", ["no-such-command"], "invalid choice")
    add("", ["--bogus"], None)

    # ------------------------------------------------------------------ descriptors
    for formula, message in [
        ("Na3Zr2.1Si2PO12", "sum to 2.1"),
        ("Na3Xx2Si2PO12", "Unknown element 'Xx'"),
        ("Na3Zr2Si3PO12", None),
        ("Na3Zr2Si2PO11", None),
        ("Na3Zr2Si2", None),
        ("hello", None),
        ("", None),
        ("Na3Zr2Si2PO12Pt", None),
        ("Na-3Zr2Si2PO12", None),
        ("Na3Zr0Hf2Si2PO12", None),
        ("Na9Zr2Si2PO12", None),
        ("Na3Zr2Si2PO12)", None),
        ("NaNZr2Si2PO12", None),
        ("Na3.5Zr1.5Zr0.5Si2PO12", None),
    ]:
        add("descriptors", [formula], message)
    add("descriptors", [GOOD, "Na3Zr2.1Si2PO12"], "sum to 2.1")
    add("descriptors", [GOOD, "--convention", "bogus"], "invalid choice")
    add("descriptors", [], "required")

    # ------------------------------------------------------------------ classify
    add("classify", ["Na3Zr2.1Si2PO12"], "sum to 2.1")
    add("classify", [GOOD, "--model", "bogus"], None)
    add("classify", [GOOD, "Na3Xx2Si2PO12", "--json"], "Unknown element 'Xx'")
    add("classify", [], "required")
    add("classify", ["hello", "--model", "gnb"], None)
    add("classify", [GOOD, "--user-model", "--data-dir", MISSING], None)
    add("classify", [GOOD, "--user-model", "--data-dir", FILE], None)

    # ------------------------------------------------------------------ evaluate
    for args, message in [
        (["--models", "gnb", "--folds", "1000"], "exceeds the smaller class"),
        (["--models", "gnb", "--folds", "27"], "exceeds the smaller class"),
        (["--models", "gnb", "--folds", "1"], "--folds must be >= 2"),
        (["--models", "gnb", "--folds", "0"], "--folds must be >= 2"),
        (["--models", "gnb", "--folds", "-3"], "--folds must be >= 2"),
        (["--models", "gnb", "--repeats", "0"], "--repeats must be >= 1"),
        (["--models", "gnb", "--splits", "0"], "--splits must be >= 1"),
        (["--models", "gnb", "--importance-repeats", "0"], "--importance-repeats must be >= 1"),
        (["--models", "gnb", "--seed", "-1"], "--seed -1 is outside"),
        (["--models", "gnb", "--seed", str(2**32)], "is outside"),
        (["--models", "bogus"], None),
        (["--models", "gnb", "--convention", "bogus"], "invalid choice"),
        (["--models", "gnb", "--folds", "ten"], "invalid int"),
        (["--models", "gnb", "--data", MISSING], None),
        (["--models", "gnb", "--data", BINARY], None),
        (["--models", "gnb", "--data", DIR], None),
        (["--models", "gnb", "--data", EMPTY], None),
        (["--models", "gnb", "--output", FILE], "cannot write"),
        (["--models", "gnb", "--output", UNDER_FILE], "cannot write"),
        (["--models", "gnb", "--output", READ_ONLY], "cannot write"),
        (["--models", "gnb", "--output", READ_ONLY_NEW], "cannot write"),
        (["--models", "gnb", "--output", FULL], "cannot write"),
        (["--models", "gnb", "--output", FULL + "/x"], "cannot write"),
        (["--models", "gnb", "--predicted-transport", MISSING], "does not exist"),
        (["--models", "gnb", "--predicted-transport", BINARY], "cannot read predicted transport"),
    ]:
        add("evaluate", args, message)

    # ------------------------------------------------------------------ enumerate
    for args, message in [
        (["--pool", "Zr", "Sc", "Y", "--chunk-size", "0"], "--chunk-size 0"),
        (["--pool", "Zr", "Sc", "Y", "--chunk-size", "-5"], "--chunk-size -5"),
        (["--pool", "Zr", "Sc", "Y", "--chunk-size", "100000000"], "--chunk-size"),
        (["--pool", "Zr", "Sc", "Y", "Mg", "Ti", "--step", "1e-5"], "enumeration too large"),
        (["--pool", "Zr", "Sc", "Y", "Mg", "Ti", "--step", "0.001"], "enumeration too large"),
        (["--step", "0.02"], "enumeration too large"),
        (["--pool", "Zr", "Sc", "--step", "0.01", "--min-entropy", "0", "--max-candidates", "10"],
         "enumeration too large"),
        (["--pool", "Zr", "Sc", "Y", "--step", "0.01",
          "--max-enumeration-memory-mb", "1"], "enumeration too large"),
        (["--max-candidates", "0"], "--max-candidates"),
        (["--max-enumeration-memory-mb", "-1"], "--max-enumeration-memory-mb"),
        (["--step", "0"], "--step 0.0 must be in (0, 2]"),
        (["--step", "-0.1"], "--step -0.1 must be in (0, 2]"),
        (["--step", "3"], "must be in (0, 2]"),
        (["--step", "nan"], "finite"),
        (["--step", "inf"], "finite"),
        (["--step", "0.3"], "divide 2"),
        (["--pool", "Zr", "Xx"], "Unknown dopant(s) ['Xx']"),
        (["--pool", "Zr", "Pt"], "have no known M-site oxidation state"),
        (["--pool", ","], "The dopant pool is empty"),
        (["--pool", "Hf", "Sc", "--require", "Zr"], "not in the dopant pool"),
        (["--min-entropy", "-1"], "is negative"),
        (["--min-entropy", "nan"], "finite"),
        (["--n-cations", "3,2"], "n_cations"),
        (["--n-cations", "0,2"], "n_cations"),
        (["--n-cations", "2"], "MIN,MAX"),
        (["--n-cations", "a,b"], "MIN,MAX"),
        (["--max-cations", "0"], "allows no cation"),
        (["--valence", "6,2"], "valence_range"),
        (["--na-range", "5,6"], "na_range"),
        (["--na-range", "3"], "MIN,MAX"),
        (["--na-range", "4,3"], "na_range"),
        (["--si", "4"], "si 4.0"),
        (["--si", "nan"], "finite"),
        (["--radius-window", "nan"], "finite"),
        (["--top", "0"], "--top must be >= 1"),
        (["--top", "-1"], "--top must be >= 1"),
        (["--model", "bogus"], None),
        (["--pool", "Zr", "Ti", "--na-range", "3.5,4", "--model", "gnb"], "No composition"),
        ([*_SMALL_POOL, "--csv", FULL], "cannot write /dev/full"),
        ([*_SMALL_POOL, "--csv", UNDER_FILE], "cannot write"),
        ([*_SMALL_POOL, "--csv", READ_ONLY + "/top.csv"], "cannot write"),
        ([*_SMALL_POOL, "--csv", DIR], "it is a folder"),
    ]:
        add("enumerate", args, message)

    # ------------------------------------------------------------------ add-outcomes
    for args, message in [
        ([MISSING], None),
        (["--no-retrain", MISSING], None),
        ([BINARY, "--data-dir", "{tmp}/userdata"], None),
        ([EMPTY, "--data-dir", "{tmp}/userdata"], None),
        ([FILE, "--data-dir", "{tmp}/userdata"], None),
        ([DIR, "--data-dir", "{tmp}/userdata"], None),
        (["{tmp}/new.csv", "--no-retrain", "--data-dir", FILE], "cannot write"),
        (["{tmp}/new.csv", "--no-retrain", "--data-dir", UNDER_FILE], "cannot write"),
        (["{tmp}/new.csv", "--no-retrain", "--data-dir", READ_ONLY], "cannot write"),
        (["{tmp}/new.csv", "--no-retrain", "--data-dir", FULL], "cannot write"),
    ]:
        add("add-outcomes", args, message)

    # ------------------------------------------------------------------ validate
    for args, message in [
        (["--refined", "BOGUS"], None),
        (["--cif", MISSING], None),
        (["--cif", BINARY], None),
        (["--cif", DIR], None),
        (["--cif", FILE], None),
        (["--cif", EMPTY], None),
        ([], "required"),
        (["--refined", "ME1-NZSP", "--cif", CIF], "not allowed with"),
    ]:
        add("validate", args, message)

    # ------------------------------------------------------------------ build
    out = ["--out", "{tmp}/built"]
    for args, message in [
        ([GOOD, "-k", "0", *out], "-k must be >= 1"),
        ([GOOD, "-k", "-1", *out], "-k must be >= 1"),
        (["NZSP", "-k", "1", "--seed", "-1", *out], "--seed -1 is outside"),
        (["NZSP", "-k", "1", "--seed", str(2**32), *out], "is outside"),
        ([GOOD, "--max-atoms", "0", *out], "--max-atoms must be >= 1"),
        (["Na3Zr2.1Si2PO12", *out], "sum to 2.1"),
        (["hello", *out], None),
        (["--refined", "BOGUS", *out], None),
        (["--cif", MISSING, *out], None),
        (["--cif", BINARY, *out], None),
        (["--cif", DIR, *out], None),
        ([GOOD, "--order", "bogus", *out], "invalid choice"),
        ([GOOD], "required"),
        ([GOOD, "-k", "1", "--out", FILE], "cannot write"),
        ([GOOD, "-k", "1", "--out", UNDER_FILE], "cannot write"),
        ([GOOD, "-k", "1", "--out", READ_ONLY], "cannot write"),
        ([GOOD, "-k", "1", "--out", READ_ONLY_NEW], "cannot write"),
        ([GOOD, "-k", "1", "--out", FULL], "cannot write"),
    ]:
        add("build", args, message)

    # ------------------------------------------------------------------ relax
    for args, message in [
        ([MISSING], "does not exist"),
        ([BINARY], None),
        ([DIR], None),
        ([FILE], None),
        ([CIF, "--fmax", "0"], "--fmax must be > 0"),
        ([CIF, "--fmax", "-1"], "--fmax must be > 0"),
        ([CIF, "--fmax", "nan"], "finite"),
        ([CIF, "--steps", "0"], "--steps must be >= 1"),
        ([CIF, "--threads", "0"], "--threads must be >= 1"),
        ([CIF, "--force-field", "vasp"], "runs locally"),
        ([CIF, "--force-field", "bogus"], None),
        ([CIF, "--out", FILE], "cannot write"),
        ([CIF, "--out", UNDER_FILE], "cannot write"),
        ([CIF, "--out", READ_ONLY], "cannot write"),
        ([CIF, "--out", READ_ONLY_NEW], "cannot write"),
        ([CIF, "--out", FULL], "cannot write"),
    ]:
        add("relax", args, message)

    # ------------------------------------------------------------------ vasp-inputs
    vout = ["--out", "{tmp}/vasp"]
    for args, message in [
        ([CIF, *vout, "--incar", "ENCUT=abc"], "is not a float"),
        ([CIF, *vout, "--incar", "BOGUSTAG=1"], "unknown INCAR tag"),
        ([CIF, *vout, "--incar", "ENCUT"], "KEY=VALUE"),
        ([CIF, *vout, "--incar", "=5"], "not an INCAR tag"),
        ([CIF, *vout, "--incar", "EN CUT=5"], "not an INCAR tag"),
        ([CIF, *vout, "--incar", "ENCUT="], "has no value"),
        ([CIF, *vout, "--incar", "ISIF=3.5"], "takes an integer"),
        ([CIF, *vout, "--incar", "NSW=many"], "takes an integer"),
        ([CIF, *vout, "--incar", "LWAVE=maybe"], "is not a bool"),
        ([CIF, *vout, "--incar", "NCORE=4", "--incar", "EDIFF=small"], "is not a float"),
        ([MISSING, *vout], "does not exist"),
        ([BINARY, *vout], None),
        ([DIR, *vout], None),
        ([CIF], "required"),
        ([CIF, "--out", FILE], "cannot write"),
        ([CIF, "--out", UNDER_FILE], "cannot write"),
        ([CIF, "--out", READ_ONLY], "cannot write"),
        ([CIF, "--out", READ_ONLY_NEW], "cannot write"),
        ([CIF, "--out", FULL], "cannot write"),
    ]:
        add("vasp-inputs", args, message)

    # ------------------------------------------------------------------ bvse
    for args, message in [
        ([MISSING], "does not exist"),
        ([BINARY], None),
        ([DIR], None),
        ([FILE], None),
        ([CIF, "--resolution", "0"], "--resolution must be > 0"),
        ([CIF, "--resolution", "-0.1"], "--resolution must be > 0"),
        ([CIF, "--resolution", "nan"], "finite"),
        ([CIF, "--cutoff", "0"], "--cutoff must be > 0"),
        ([CIF, "--cutoff", "inf"], "finite"),
        ([CIF, "--screening", "0"], "--screening must be > 0"),
        ([CIF, "--ensemble", "0"], "K >= 1 configurations"),
        ([CIF, "--max-memory-mb", "0"], "--max-memory-mb must be > 0"),
        ([CIF, "--covalent-radii", "bogus"], "invalid choice"),
        ([CIF, "--out", FILE], "cannot write"),
        ([CIF, "--out", UNDER_FILE], "cannot write"),
        ([CIF, "--out", READ_ONLY], "cannot write"),
        ([CIF, "--out", READ_ONLY_NEW], "cannot write"),
        ([CIF, "--out", FULL], "cannot write"),
    ]:
        add("bvse", args, message)

    # ------------------------------------------------------------------ screen
    sout = ["--out", "{tmp}/screen"]
    comp = ["--compositions", GOOD, "--relax", "none"]
    for args, message in [
        (["--compositions", MISSING, *sout], "does not exist"),
        (["--compositions", "{tmp}/missing_list", *sout], "does not exist"),
        (["--compositions", BINARY, *sout], "is not a text file"),
        (["--compositions", DIR, *sout], "is a folder"),
        (["--compositions", "/dev/zero", *sout], "not a regular file"),
        (["--compositions", EMPTY, *sout], "No composition in"),
        (["--compositions", FILE, *sout], None),
        (["--compositions", "Na3Zr2.1Si2PO12", *sout], "sum to 2.1"),
        (["--compositions", GOOD, "hello", *sout], None),
        ([*comp, "--seed", "-1", *sout], "--seed -1 is outside"),
        ([*comp, "--seed", str(2**32), *sout], "is outside"),
        ([*comp, "--fmax", "nan", *sout], "finite"),
        ([*comp, "--fmax", "0", *sout], "--fmax must be > 0"),
        ([*comp, "--bvse-resolution", "inf", *sout], "finite"),
        ([*comp, "--bvse-resolution", "-1", *sout], "must be > 0"),
        ([*comp, "--lock-timeout", "-1", *sout], "--lock-timeout must be >= 0"),
        ([*comp, "--threshold", "nan", *sout], "outside [0, 1]"),
        ([*comp, "--threshold", "2", *sout], "outside [0, 1]"),
        ([*comp, "--top", "0", *sout], "top must be >= 1"),
        ([*comp, "--orderings", "0", *sout], "orderings must be >= 1"),
        ([*comp, "--max-atoms", "0", *sout], "max_atoms must be >= 1"),
        ([*comp, "--relax-steps", "0", *sout], "relax_steps must be >= 1"),
        ([*comp, "--keep-scored", "0", *sout], "keep_scored must be >= 1"),
        ([*comp, "--weights", "speed=2", *sout], "Cannot read ranking weight"),
        ([*comp, "--relax", "bogus", *sout], "invalid choice"),
        ([*comp, "--out", FILE], "Cannot write to the output folder"),
        ([*comp, "--out", UNDER_FILE], "Cannot write to the output folder"),
        ([*comp, "--out", READ_ONLY], "Cannot write to the output folder"),
        ([*comp, "--out", READ_ONLY_NEW], "Cannot write to the output folder"),
        ([*comp, "--out", FULL], "Cannot write to the output folder"),
        ([*comp, "--out", SCREEN_DONE], "already holds a screen"),
        (["--step", "1e-5", *sout], "enumeration too large"),
        (["--step", "0.01", *sout], "enumeration too large"),
        (["--pool", "Zr", "Xx", *sout], "Unknown dopant(s) ['Xx']"),
        (["--dopants", "Hf,Xx", *sout], "Unknown dopant(s) ['Xx']"),
        (["--dopants", " , ", *sout], "The dopant pool is empty"),
        (["--max-cations", "0", *sout], "allows no cation"),
        (["--step", "0", *sout], "must be in (0, 2]"),
        (["--min-entropy", "-1", *sout], "is negative"),
        (["--max-cations", "2", "--min-entropy", "1.5", *sout], "with M-site entropy >= 1.5 R"),
        (["--dopants", "Hf,Sc", "--require", "Zr", *sout], "not in the dopant pool"),
        (["--na-range", "5,6", *sout], "na_range"),
    ]:
        add("screen", args, message)
    for args, message in [  # transport, stability gate and MD options of the screen
        ([*comp, "--transport", "bogus", *sout], "invalid choice"),
        ([*comp, "--md", "-1", *sout], "--md -1 must be >= 0"),
        ([*comp, "--max-ehull", "nan", *sout], "expected a finite number"),
        ([*comp, "--max-ehull", "abc", *sout], "expected a number"),
    ]:
        add("screen", args, message)
    add("enumerate", [*_SMALL_POOL, "--max-ehull", "inf"], "expected a finite number")

    # ------------------------------------------------------------------ eis
    geometry = ["--thickness-cm", "0.1", "--diameter-cm", "1.0"]
    for args, message in [
        ([MISSING, *geometry], None),
        ([DIR, *geometry], "folder"),
        ([EMPTY, *geometry], None),
        ([FILE, *geometry], None),
        ([BINARY, *geometry], None),
        (["{tmp}/spectrum.csv", "--thickness-cm", "0", "--diameter-cm", "1.0"], "thickness"),
        (["{tmp}/spectrum.csv", "--thickness-cm", "0.1", "--diameter-cm", "nan"], None),
        (["{tmp}/spectrum.csv", *geometry, "--circuit", "R0-p(R1"], None),
        (["{tmp}/spectrum.csv", *geometry, "--out", FULL], None),
    ]:
        add("eis", args, message)

    # ------------------------------------------------------------------ kmc
    for args, message in [
        ([MISSING], None),
        ([FILE], None),
        ([CIF, "--temperatures", "-5"], None),
        ([CIF, "--runs", "0"], None),
        ([CIF, "--interaction", "coulomb"], None),
        ([CIF, "--out", DIR], "it is a folder"),
    ]:
        add("kmc", args, message)

    # ------------------------------------------------------------------ validate-transport
    for args, message in [
        (["--out", FILE], None),
        (["--out", READ_ONLY_NEW], None),
        (["--out", FULL], None),
        (["--x", "7"], None),
        (["--no-series", "--no-references"], "nothing to compute"),
        (["--reference", "XX-NZSP"], "unknown reference label"),
        (["--md", "bogus"], "is not computed in this run"),
        (["--md-production-steps", "100"], "need --md"),
    ]:
        add("validate-transport", args, message)

    # ------------------------------------------------------------------ md
    for args, message in [
        ([MISSING], None),
        ([FILE], None),
        ([CIF, "--temperatures", "50"], "100"),
        ([CIF, "--temperatures", "1000", "1000"], None),
        ([CIF, "--force-field", "bogus"], None),
        ([CIF, "--out", FULL], None),
    ]:
        add("md", args, message)
    return c


CASES = _cases()


def test_at_least_150_cases_covering_every_command():
    from nasicon_workflows.cli import build_parser

    assert len(CASES) >= 150
    parser = build_parser()
    commands = set(parser._subparsers._group_actions[0].choices)  # noqa: SLF001
    covered = {case.values[0][0] for case in CASES if case.values[0]}
    assert commands <= covered, f"commands without bad-input cases: {commands - covered}"


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    """Input files of the cases; the working directory is the temporary folder."""
    from importlib import resources

    (tmp_path / "file.txt").write_text("not a structure, not a CSV of outcomes\n")
    (tmp_path / "binary.bin").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "folder").mkdir()
    poscar = Path(__file__).parent / "test_data" / "vasp" / "ME1-NZSP_ordered.POSCAR"
    from pymatgen.core import Structure

    Structure.from_file(poscar).to(filename=str(tmp_path / "ordered.cif"))
    (tmp_path / "new.csv").write_text(  # a valid new outcome (not in the shipped 58 rows)
        "composition,outcome,source\nNa3.2Zr1.6Hf0.2Sc0.2Si2PO12,1,test\n")
    (tmp_path / "spectrum.csv").write_text(  # a valid two-point spectrum (geometry is bad)
        "freq,Z_real,Z_imag\n1000,100,-50\n100,120,-80\n10,150,-100\n")
    done = tmp_path / "done"
    done.mkdir()
    (done / "settings.json").write_text("{}")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NASICON_WORKFLOWS_DATA", str(tmp_path / "userdata_env"))
    del resources
    return tmp_path


def _tree(folder: Path) -> dict[str, int]:
    return {str(p.relative_to(folder)): (p.stat().st_size if p.is_file() else -1)
            for p in folder.rglob("*")}


@pytest.mark.parametrize(("argv", "message"), CASES)
def test_bad_input(argv, message, workspace, capsys):
    argv = [a.replace("{tmp}", str(workspace)) for a in argv]
    before = _tree(workspace)
    code = main(argv)
    captured = capsys.readouterr()
    err_lines = [ln for ln in captured.err.splitlines() if "error:" in ln]
    assert code == 2, (code, captured.err[-2000:])
    assert len(err_lines) == 1, captured.err[-2000:]
    assert "Traceback" not in captured.err and "Traceback" not in captured.out
    if message is not None:
        assert message in err_lines[0], err_lines[0]
    assert _tree(workspace) == before, "a file was created or changed"
    assert not os.path.exists(READ_ONLY_NEW)


# ---------------------------------------------------------------------- real file descriptors
def _run(args: list[str], stdout, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, "-m", "nasicon_workflows.cli", *args], stdout=stdout,
                          stderr=subprocess.PIPE, text=True, cwd=cwd, env=env, timeout=300,
                          check=False)


@pytest.mark.parametrize(
    "args",
    [
        ["descriptors", GOOD, "--json"],
        ["classify", GOOD, "--model", "gnb"],
        ["enumerate", *_SMALL_POOL, "--json"],
    ],
    ids=lambda a: " ".join(a[:2]),
)
def test_stdout_on_a_full_device(args, tmp_path):
    with open(FULL, "w") as full:
        result = _run(args, full, tmp_path)
    lines = [ln for ln in result.stderr.splitlines() if "error:" in ln]
    assert result.returncode == 2, result.stderr[-2000:]
    assert lines == ["error: cannot write the output (stdout): no space left on the device"]
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    "args",
    [
        ["descriptors", *([GOOD] * 300)],
        ["classify", *([GOOD] * 300), "--model", "gnb", "--json"],
    ],
    ids=["descriptors-table", "classify-json"],
)
def test_closed_pipe_ends_quietly(args, tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "nasicon_workflows.cli", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp_path,
                            env=env)
    head = proc.stdout.read(10)  # like `| head -c 10`
    proc.stdout.close()
    err = proc.stderr.read().decode()
    proc.wait(timeout=300)
    assert len(head) == 10
    assert err == "", err
    assert proc.returncode in (0, 141)  # 141 = 128 + SIGPIPE, as Unix tools


def test_screen_module_entry_point_handles_a_closed_pipe_and_bad_input(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "nasicon_workflows.screen", "--compositions", str(tmp_path / "x.txt"),
         "--out", "out"], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300,
        check=False)
    assert result.returncode == 2
    assert [ln for ln in result.stderr.splitlines() if "error:" in ln] == [
        f"error: compositions file {str(tmp_path / 'x.txt')!r} does not exist"]
    assert not list(tmp_path.iterdir())
