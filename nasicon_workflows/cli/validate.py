"""``nasicon-workflows validate``: every defect of a refinement table or a CIF."""

from __future__ import annotations

import argparse

from nasicon_workflows.cli._output import print_json, print_table
from nasicon_workflows.structures.refined import REFINED_LABELS, validate_refinement


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``validate`` subcommand."""
    parser = subparsers.add_parser(
        "validate",
        help="list every defect of a refined NASICON structure (exit 1 if any)",
        description=(
            "Check site occupancies, composition against the nominal formula, charge neutrality, "
            "missing sites, interatomic distances and lattice parameters. Exit code 1 when "
            "defects are found, 0 when clean."
        ),
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--refined", metavar="LABEL",
                        help="a shipped refinement (Tables S4-S7): " + ", ".join(REFINED_LABELS))
    source.add_argument("--cif", metavar="FILE", help="a CIF with (partial) occupancies")
    parser.add_argument("--nominal", metavar="FORMULA",
                        help="nominal composition to check a CIF against")
    parser.add_argument("--json", action="store_true",
                        help="print a JSON list of {kind, site, expected, found}")
    parser.set_defaults(func=run)


def load_input(args: argparse.Namespace):
    """The :class:`Refinement` named by ``--refined`` or ``--cif`` (shared with ``build``)."""
    from nasicon_workflows.structures.refined import Refinement, load_refinement

    if args.refined:
        return load_refinement(args.refined)
    return Refinement.from_cif(args.cif, nominal_composition=getattr(args, "nominal", None))


def run(args: argparse.Namespace) -> int:
    """Print the defects; 1 if there are any, 0 if the input is clean."""
    ref = load_input(args)
    defects = validate_refinement(ref)
    if args.json:
        print_json(defects)
    elif defects:
        print_table([d.model_dump() for d in defects], ["kind", "site", "expected", "found"],
                    title=f"{ref.label}: {len(defects)} defect(s)")
    else:
        print(f"{ref.label}: no defects")
    return 1 if defects else 0
