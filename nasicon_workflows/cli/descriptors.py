"""``nasicon-workflows descriptors``: the published M-site descriptors of compositions."""

from __future__ import annotations

import argparse

from nasicon_workflows.cli._output import print_json, print_table
from nasicon_workflows.descriptors import CONVENTIONS, compute_descriptors


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``descriptors`` subcommand."""
    parser = subparsers.add_parser(
        "descriptors",
        help="ionic radius, electronegativity, valence and entropy of NASICON formulas",
        description=(
            "Compute the four published M-site descriptors and the sublattice entropies. "
            "Convention 'paper' reproduces Table S2 of Zuo et al. 2026; 'shannon' uses CN VI radii "
            "and unmodified Pauling electronegativities."
        ),
    )
    parser.add_argument("formulas", nargs="+", metavar="FORMULA")
    parser.add_argument("--convention", choices=sorted(CONVENTIONS), default="paper")
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print descriptors of every formula; any invalid formula stops with a clear error."""
    docs = [compute_descriptors(f, args.convention) for f in args.formulas]
    if args.json:
        print_json(docs)
        return 0
    print_table(
        [d.model_dump() for d in docs],
        [
            "composition", "ionic_radius_pm", "electronegativity", "valence", "entropy_R",
            "entropy_class", "entropy_m_site_R_per_fu", "entropy_tetrahedral_R_per_fu",
            "entropy_na_vacancy_R_per_fu", "entropy_total_R_per_fu",
        ],
        title=f"M-site descriptors ({args.convention} convention; entropies in R)",
        formats={
            "ionic_radius_pm": ".2f", "electronegativity": ".3f", "valence": ".2f",
            "entropy_R": ".3f", "entropy_m_site_R_per_fu": ".3f",
            "entropy_tetrahedral_R_per_fu": ".3f", "entropy_na_vacancy_R_per_fu": ".3f",
            "entropy_total_R_per_fu": ".3f",
        },
    )
    return 0
