"""``nasicon-workflows relax``: relax one ordered cell locally with a universal force field."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from nasicon_workflows.cli._output import print_json, print_table

#: Keys of ``--json`` (the relaxation summary without the structure).
JSON_KEYS = (
    "formula", "n_sites", "relaxer", "energy_eV", "energy_per_atom", "a", "b", "c", "alpha",
    "beta", "gamma", "volume", "volume_change_percent", "n_steps", "converged",
    "max_force_eV_per_A", "settings",
)


def read_structure(path: str | Path):
    """Read a CIF/POSCAR into an ordered pymatgen ``Structure`` or raise a typed error."""
    from pymatgen.core import Structure

    from nasicon_workflows.relax.errors import RelaxInputError
    from nasicon_workflows.relax.forcefield import validate_structure

    path = Path(path)
    if not path.is_file():
        raise RelaxInputError(f"structure file {str(path)!r} does not exist")
    try:
        structure = Structure.from_file(path)
    except Exception as exc:  # pymatgen raises many types for unreadable files
        raise RelaxInputError(
            f"could not read a structure from {str(path)!r} ({type(exc).__name__}: {exc}); "
            "give a CIF or POSCAR file"
        ) from exc
    return validate_structure(structure)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``relax`` subcommand."""
    parser = subparsers.add_parser(
        "relax",
        help="relax an ordered CIF locally with a universal force field (CHGNet by default)",
        description=(
            "Relax positions and cell of an ordered structure with atomate2's "
            "ForceFieldRelaxMaker (CHGNet weights ship with the package, no network needed) and "
            "print energy per atom, lattice, volume, steps and convergence."
        ),
    )
    parser.add_argument("cif", metavar="CIF", help="ordered structure (CIF or POSCAR)")
    parser.add_argument("--force-field", default="chgnet", help="chgnet (default) or sevennet")
    parser.add_argument("--fmax", type=float, default=0.05, help="force criterion in eV/Å")
    parser.add_argument("--steps", type=int, default=500, help="maximum optimiser steps")
    parser.add_argument("--fixed-cell", action="store_true", help="relax positions only")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.add_argument(
        "--out", metavar="DIR", help="write relaxed.cif and relaxation.json into DIR"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Relax, print the summary, optionally write the relaxed structure; 1 if not converged."""
    from nasicon_workflows.cli._checks import check_finite, check_int_range
    from nasicon_workflows.fileio import resolve_output_dir, staged_output_dir
    from nasicon_workflows.relax.availability import check_relax_available
    from nasicon_workflows.relax.errors import RelaxInputError
    from nasicon_workflows.relax.forcefield import relax_structure

    if args.force_field.lower() == "vasp":
        raise RelaxInputError(
            "the relax command runs locally; for VASP write the inputs with "
            "`nasicon-workflows vasp-inputs CIF --out DIR` or submit a flow with "
            "get_relax_maker('vasp')"
        )
    check_finite("--fmax", args.fmax, positive=True)
    check_int_range("--steps", args.steps, 1)
    if args.threads is not None:
        check_int_range("--threads", args.threads, 1)
    out = resolve_output_dir(args.out, create=False) if args.out else None  # before computing
    check_relax_available(args.force_field)  # fail before reading weights or the structure
    structure = read_structure(args.cif)
    if args.threads is not None:
        if args.threads < 1:
            raise RelaxInputError(f"--threads must be >= 1, got {args.threads}")
        import torch

        torch.set_num_threads(args.threads)
    doc = relax_structure(
        structure, force_field=args.force_field, fmax=args.fmax,
        relax_cell=not args.fixed_cell, steps=args.steps,
    )
    summary = {key: getattr(doc, key) for key in JSON_KEYS}
    if out is not None:
        with staged_output_dir(out) as stage:  # both files appear together, or none
            doc.structure.to(filename=str(stage / "relaxed.cif"))
            (stage / "relaxation.json").write_text(
                json.dumps(doc.model_dump(), indent=2, default=str)
            )
    if args.json:
        print_json(summary)
    else:
        rows = [{"quantity": k, "value": v} for k, v in summary.items() if k != "settings"]
        print_table(rows, ["quantity", "value"], title=f"{doc.relaxer} relaxation of {args.cif}")
    return 0 if doc.converged else 1
