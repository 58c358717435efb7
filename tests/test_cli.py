"""The console script: registered commands, the descriptors command, and error handling."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from nasicon_workflows.cli import COMMAND_MODULES, build_parser, main


def test_every_built_command_registers():
    parser = build_parser()
    commands = set(parser._subparsers._group_actions[0].choices)  # noqa: SLF001
    built = {
        name.replace("_", "-") if name != "add_outcomes" else "add-outcomes"
        for name in COMMAND_MODULES
        if importlib.util.find_spec(f"nasicon_workflows.cli.{name}") is not None
    }
    assert "descriptors" in commands
    assert built <= commands | {n.replace("-", "_") for n in commands}


def test_descriptors_json(capsys):
    assert main(["descriptors", "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data) == 1
    row = data[0]
    for key in ("composition", "ionic_radius_pm", "electronegativity", "valence", "entropy_R",
                "entropy_class", "entropy_total_R_per_fu"):
        assert key in row
    assert row["ionic_radius_pm"] == pytest.approx(78.65)
    assert row["entropy_R"] == pytest.approx(1.040, abs=5e-4)
    assert row["entropy_class"] == "medium"


def test_descriptors_table_and_shannon(capsys):
    assert main(["descriptors", "Na3Zr2Si2PO12", "--convention", "shannon"]) == 0
    out = capsys.readouterr().out
    assert "72.00" in out  # Zr4+ CN VI radius in pm
    assert "shannon" in out


def test_bad_formula_is_one_clear_line(capsys):
    assert main(["descriptors", "Na3Zr2.1Si2PO12"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert "sum to 2.1" in err
    assert "Traceback" not in err


def test_console_script_subprocess():
    result = subprocess.run(
        [sys.executable, "-m", "nasicon_workflows.cli", "descriptors", "Na3Xx2Si2PO12"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "Unknown element 'Xx'" in result.stderr
    assert "Traceback" not in result.stderr



@pytest.mark.parametrize("command", ["bvse", "kmc"])
def test_structure_file_errors_name_the_file(command, tmp_path, capsys):
    """bvse and kmc read their CIF through one helper: a missing file, a folder and an unreadable
    file each give exit code 2 and one ``error:`` line that names the file."""
    text = tmp_path / "notes.txt"
    text.write_text("not a structure\n")
    for path, message in [(tmp_path / "missing.cif", "does not exist"),
                          (tmp_path, "does not exist"),
                          (text, "cannot read a structure from")]:
        assert main([command, str(path)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1, err
        assert message in err and repr(str(path)) in err, err
