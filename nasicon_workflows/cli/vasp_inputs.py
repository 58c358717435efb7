"""``nasicon-workflows vasp-inputs``: write the exact VASP inputs of the NASICON relaxation."""

from __future__ import annotations

import argparse

from nasicon_workflows.cli._output import print_json


def _incar_override(text: str, force_unknown: bool = False) -> tuple[str, object]:
    """``KEY=VALUE`` -> (tag, typed value), checked against pymatgen's table of INCAR tags.

    The value is converted with ``Incar.proc_val`` and must have the tag's type (and one of its
    allowed values where the table lists them), as in ``Incar.check_params``; a tag missing from
    the table is refused unless ``force_unknown`` (VASP would silently ignore a misspelt tag).
    """
    import warnings

    from pymatgen.io.vasp import Incar
    from pymatgen.io.vasp.inputs import BadIncarWarning

    from nasicon_workflows.relax.errors import RelaxInputError

    if "=" not in text:
        raise RelaxInputError(f"--incar expects KEY=VALUE, got {text!r}")
    key, value = (part.strip() for part in text.split("=", 1))
    if not key.isalnum():
        raise RelaxInputError(f"--incar key {key!r} is not an INCAR tag")
    key = key.upper()
    if not value:
        raise RelaxInputError(f"--incar {key} has no value: give {key}=VALUE")
    known = key in Incar.INCAR_PARAMS
    if not known and not force_unknown:
        raise RelaxInputError(
            f"--incar {key}: unknown INCAR tag (not in pymatgen's table of VASP tags; VASP would "
            "ignore it): check the spelling, or pass --force-unknown-incar to write it anyway"
        )
    if known and Incar.INCAR_PARAMS[key].get("type") == "int":
        import re

        if not re.fullmatch(r"[+-]?\d+", value):  # proc_val would turn 3.5 into 3
            raise RelaxInputError(f"--incar {key}={value!r}: {key} takes an integer")
    try:
        typed = Incar.proc_val(key, value)
    except Exception as exc:  # pymatgen raises several types for values it cannot read
        raise RelaxInputError(f"--incar {key}={value!r} cannot be read: {exc}") from None
    if known:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", BadIncarWarning)
            Incar({key: typed}).check_params()
        problems = [str(w.message) for w in caught if issubclass(w.category, BadIncarWarning)]
        if problems:
            spec = Incar.INCAR_PARAMS[key]
            expected = spec.get("type", "?")
            if spec.get("values"):
                expected += f" in {spec['values']}"
            raise RelaxInputError(
                f"--incar {key}={value!r}: {problems[0]} (pymatgen's INCAR table expects "
                f"{expected})"
            )
    return key, typed


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``vasp-inputs`` subcommand."""
    parser = subparsers.add_parser(
        "vasp-inputs",
        help="write INCAR, KPOINTS, POSCAR and POTCAR.spec of the published VASP relaxation",
        description=(
            "Write the exact inputs NasiconRelaxSetGenerator gives the VASP relaxation (PBE, "
            "ENCUT 550 eV, EDIFF 1e-5, EDIFFG -0.03, ISIF 3) without POTCARs, for inspection "
            "before submission. POTCAR.spec lists the POTCAR symbols."
        ),
    )
    parser.add_argument("cif", metavar="CIF", help="ordered structure (CIF or POSCAR)")
    parser.add_argument("--out", metavar="DIR", required=True, help="output folder")
    parser.add_argument(
        "--incar", action="append", default=[], metavar="KEY=VALUE",
        help="override one INCAR tag (repeatable), e.g. --incar NCORE=8",
    )
    parser.add_argument(
        "--force-unknown-incar", action="store_true",
        help="write --incar tags missing from pymatgen's table of VASP tags (refused by default)",
    )
    parser.add_argument("--json", action="store_true", help="print the written files as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the inputs and list them with the INCAR."""
    from pymatgen.io.vasp import Incar

    from nasicon_workflows.cli.relax import read_structure
    from nasicon_workflows.fileio import resolve_output_dir, staged_output_dir
    from nasicon_workflows.relax.vasp import NasiconRelaxSetGenerator, write_vasp_inputs

    overrides = dict(_incar_override(text, args.force_unknown_incar) for text in args.incar)
    out = resolve_output_dir(args.out, create=False)  # checked before anything is computed
    structure = read_structure(args.cif)
    generator = NasiconRelaxSetGenerator(user_incar_settings=overrides)
    with staged_output_dir(out) as stage:  # every file appears together, or none
        files = write_vasp_inputs(structure, stage, generator=generator, potcar_spec=True)
        incar = Incar.from_file(files["INCAR"])
        incar_text = files["INCAR"].read_text()
        result = {
            "directory": str(out),
            "files": sorted(files),
            "incar": dict(incar),
            "kpoints": files["KPOINTS"].read_text().splitlines()[-1].strip(),
            "potcar_symbols": files["POTCAR.spec"].read_text().split(),
        }
    if args.json:
        print_json(result)
    else:
        print(f"wrote {', '.join(result['files'])} to {out}")
        print(incar_text, end="")
        print(f"KPOINTS: Gamma-centred {result['kpoints']}")
        print(f"POTCARs: {' '.join(result['potcar_symbols'])}")
    return 0
