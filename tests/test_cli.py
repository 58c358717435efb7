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


#: Imported only when a command needs them: atomate2's VASP package and emmet (seconds), the
#: force fields (torch, CHGNet: more seconds and gigabytes).
HEAVY_MODULES = ("atomate2.vasp", "emmet.core", "torch", "chgnet")


def _imported_after(code: str) -> list[str]:
    """The heavy modules present in ``sys.modules`` after running ``code`` in a fresh Python."""
    probe = f"{code}\nimport sys\nprint([m for m in {HEAVY_MODULES!r} if m in sys.modules])"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)
    return json.loads(result.stdout.strip().splitlines()[-1].replace("'", '"'))


def test_cli_start_up_imports_no_vasp_nor_force_field():
    """``--help``, the parser of every command and a cheap command stay light; the relax stage's
    VASP maker, asked for by name, still pulls atomate2's VASP package in (the probe can fail)."""
    assert _imported_after("import nasicon_workflows.cli") == []
    assert _imported_after(
        "from nasicon_workflows.cli import build_parser, main\nbuild_parser()\n"
        "import contextlib, io\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['descriptors', 'Na3Zr2Si2PO12'])"
    ) == []
    assert _imported_after(
        "from nasicon_workflows.relax import NasiconDoubleRelaxMaker"
    ) == ["atomate2.vasp", "emmet.core"]


@pytest.mark.parametrize("package", ["nasicon_workflows.relax", "nasicon_workflows.screen"])
def test_lazy_public_names_are_those_of_their_modules(package):
    """Every public name of a lazily importing package is the object its submodule defines."""
    import importlib

    module = importlib.import_module(package)
    for name in module.__all__:
        defined_in = importlib.import_module(f"{package}.{module._EXPORTS[name]}")  # noqa: SLF001
        assert getattr(module, name) is getattr(defined_in, name), name
        assert name in dir(module)
    with pytest.raises(AttributeError, match=f"module '{package}' has no attribute 'nothing'"):
        module.nothing  # noqa: B018
