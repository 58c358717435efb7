"""``nasicon-workflows build``: ordered C2/c supercells of a formula, refinement or CIF."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from nasicon_workflows.cli._output import print_json, print_table
from nasicon_workflows.structures.ordering import METHODS


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``build`` subcommand."""
    parser = subparsers.add_parser(
        "build",
        help="build disordered and ordered C2/c supercells (CIFs + summary)",
        description=(
            "Build the disordered C2/c cell of a NASICON formula (or a shipped reference label "
            "such as HE1-NZSP), a refinement table or a CIF, then k ordered charge-neutral "
            "supercells. Defective refinements stop with their defect list unless --repair."
        ),
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("formula", nargs="?", metavar="FORMULA",
                        help="NASICON formula or reference label (NZSP, LE-NZSP, ME1-NZSP, ...)")
    source.add_argument("--refined", metavar="LABEL", help="a shipped refinement (Tables S4-S7)")
    source.add_argument("--cif", metavar="FILE", help="a CIF with (partial) occupancies")
    parser.add_argument("--nominal", metavar="FORMULA", help="nominal composition of a CIF")
    parser.add_argument("--repair", action="store_true",
                        help="rebuild defective input on the validated framework (logged)")
    parser.add_argument("--order", choices=METHODS, default="ewald", help="ordering method")
    parser.add_argument("--sqs-na", action="store_true",
                        help="with --order sqs: SQS on the Na/vacancy sublattice too")
    parser.add_argument("-k", type=int, default=3, help="number of ordered configurations")
    parser.add_argument("--max-atoms", type=int, default=200, help="atom budget of the cell")
    parser.add_argument("--exact-cell", action="store_true",
                        help="smallest (possibly non-diagonal) cell that realises the composition "
                             "exactly; refuse it if none fits --max-atoms")
    parser.add_argument("--allow-composition-error", action="store_true",
                        help="with --exact-cell: compute the nearest realisable composition "
                             "instead of refusing (the error is recorded)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", required=True, metavar="DIR", help="output directory")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    parser.set_defaults(func=run)


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.+-]+", "_", text)


def write_outputs(doc, out: Path, stage: Path | None = None) -> list[dict]:
    """Write the disordered and ordered CIFs, summary.json and repair_log.json; return the summary.

    Files go to ``stage`` (default ``out``), a staging folder whose files are moved into ``out``
    afterwards; the summary names their final paths in ``out``.
    """
    final, out = out, (stage or out)
    from pymatgen.io.cif import CifWriter

    from nasicon_workflows.fileio import atomic_write_text
    from nasicon_workflows.structures.refined import _quiet_warnings

    stem = _slug(doc.source)
    with _quiet_warnings():
        atomic_write_text(out / f"{stem}_disordered.cif", str(CifWriter(doc.disordered_structure)))
    summary = []
    for rank, (structure, score) in enumerate(zip(doc.structures, doc.scores)):
        path = out / f"{stem}_{doc.method}_{rank}.cif"
        with _quiet_warnings():
            atomic_write_text(path, str(CifWriter(structure)))
        n_fu = structure.composition["O"] / 12 if structure.composition["O"] else 1
        summary.append({
            "path": str(final / path.name),
            "formula": doc.realised_composition,
            "n_atoms": len(structure),
            "n_formula_units": n_fu,
            "net_charge": float(sum(sp.oxi_state for sp in structure.species)),
            "composition_error": doc.composition_error,
            "score": score,
            "score_kind": "ewald_energy_eV" if doc.method == "ewald" else "sqs_objective",
            "ewald_energy_eV": doc.ewald_energies_eV[rank],
            "supercell": list(doc.supercell) if doc.supercell else None,
            "supercell_matrix": doc.supercell_matrix,
        })
    atomic_write_text(out / "summary.json", json.dumps(summary, indent=1) + "\n")
    if doc.repair_log or doc.defects:
        atomic_write_text(out / "repair_log.json", json.dumps({
            "source": doc.source,
            "defects": [d.model_dump() for d in doc.defects],
            "repair_log": [e.model_dump() for e in doc.repair_log],
        }, indent=1) + "\n")
    return summary


def run(args: argparse.Namespace) -> int:
    """Build, write the CIFs and the summary, print it."""
    from nasicon_workflows.cli._checks import check_int_range, check_seed
    from nasicon_workflows.cli.validate import load_input
    from nasicon_workflows.fileio import resolve_output_dir, staged_output_dir
    from nasicon_workflows.structures.jobs import build_structures

    check_int_range("-k", args.k, 1)
    check_int_range("--max-atoms", args.max_atoms, 1)
    check_seed(args.seed)
    out = resolve_output_dir(args.out, create=False)  # checked now, created when writing
    kwargs = dict(repair=args.repair, method=args.order, k=args.k, max_atoms=args.max_atoms,
                  seed=args.seed, sqs_na=args.sqs_na,
                  cell_search="exact" if args.exact_cell else "diagonal",
                  allow_composition_error=args.allow_composition_error)
    if args.formula:
        doc = build_structures(composition=args.formula, **kwargs)
    else:
        doc = build_structures(refinement=load_input(args), **kwargs)
    with staged_output_dir(out) as stage:  # all files appear together, or none
        summary = write_outputs(doc, out, stage)
    if args.json:
        print_json(summary)
    else:
        print_table(summary, ["path", "formula", "n_atoms", "net_charge", "composition_error", "score"],
                    title=f"{doc.source}: {doc.method} ordering, supercell {doc.supercell}",
                    formats={"composition_error": ".4f", "score": ".4f", "net_charge": ".1f"})
        if doc.repair_log:
            print(f"repaired: {len(doc.repair_log)} change(s) logged in {out / 'repair_log.json'}")
    return 0
