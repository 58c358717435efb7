"""``nasicon-workflows vasp-inputs``: write the exact VASP inputs of the NASICON relaxation."""

from __future__ import annotations

import argparse

from nasicon_workflows.cli._output import print_json


def _incar_override(text: str) -> tuple[str, object]:
    from pymatgen.io.vasp import Incar

    from nasicon_workflows.relax.errors import RelaxInputError

    if "=" not in text:
        raise RelaxInputError(f"--incar expects KEY=VALUE, got {text!r}")
    key, value = (part.strip() for part in text.split("=", 1))
    if not key.isalnum():
        raise RelaxInputError(f"--incar key {key!r} is not an INCAR tag")
    return key.upper(), Incar.proc_val(key.upper(), value)


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
    parser.add_argument("--json", action="store_true", help="print the written files as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Write the inputs and list them with the INCAR."""
    from pymatgen.io.vasp import Incar

    from nasicon_workflows.cli.relax import read_structure
    from nasicon_workflows.relax.vasp import NasiconRelaxSetGenerator, write_vasp_inputs

    overrides = dict(_incar_override(text) for text in args.incar)
    structure = read_structure(args.cif)
    generator = NasiconRelaxSetGenerator(user_incar_settings=overrides)
    files = write_vasp_inputs(structure, args.out, generator=generator, potcar_spec=True)
    incar = Incar.from_file(files["INCAR"])
    result = {
        "directory": str(args.out),
        "files": sorted(files),
        "incar": dict(incar),
        "kpoints": files["KPOINTS"].read_text().splitlines()[-1].strip(),
        "potcar_symbols": files["POTCAR.spec"].read_text().split(),
    }
    if args.json:
        print_json(result)
    else:
        print(f"wrote {', '.join(result['files'])} to {args.out}")
        print(files["INCAR"].read_text(), end="")
        print(f"KPOINTS: Gamma-centred {result['kpoints']}")
        print(f"POTCARs: {' '.join(result['potcar_symbols'])}")
    return 0
