"""``nasicon-workflows validate-transport``: BVSE and KMC on the Na(1+x)Zr2Si(x)P(3-x)O12 series."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``validate-transport`` subcommand."""
    parser = subparsers.add_parser(
        "validate-transport",
        help="validate BVSE and KMC on the Na(1+x)Zr2Si(x)P(3-x)O12 series against experiment",
        description=(
            "Builds Na(1+x)Zr2Si(x)P(3-x)O12 (x = 0, 0.5 ... 3) as Ewald-ordered 84-site cells, relaxes "
            "them with CHGNet (fmax 0.05 eV/Å; cached in OUT/cells), computes BVSE E_3D and lattice "
            "KMC, and compares with Goodenough, Hong & Kafalas 1976, Hong 1976 and Deng et al. 2022. "
            "Writes OUT/validation.json and prints the table."
        ),
    )
    parser.add_argument("--out", metavar="DIR", default="transport_validation",
                        help="output folder (cells cached here; default ./transport_validation)")
    parser.add_argument("--x", type=float, nargs="+", default=None, metavar="X",
                        help="x values (default 0 0.5 1 1.5 2 2.5 3)")
    parser.add_argument("--temperatures", type=float, nargs="+", default=[473.15, 573.15, 673.15],
                        help="K (default 200, 300, 400 °C; 573.15 K is the comparison point)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--hops-per-ion", type=float, default=400)
    parser.add_argument("--resolution", type=float, default=0.1, help="BVSE grid, Å (0.1)")
    parser.add_argument("--ordering", type=int, default=0,
                        help="Ewald rank of the ordering (0 = lowest; 1 = second lowest ...)")
    parser.add_argument("--no-relax", action="store_true",
                        help="skip CHGNet (unrelaxed cells; quick check, not a validation)")
    parser.add_argument("--sensitivity", nargs="*", default=[], metavar="VARIANT",
                        help="extra KMC interaction variants, e.g. coulomb_eps4_l3 (eps_r 4, "
                             "screening 3 Å); scored, never weighted")
    parser.add_argument("--json", action="store_true", help="print the document as JSON")
    parser.set_defaults(func=run)


def _fmt(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def run(args: argparse.Namespace) -> int:
    """Run the validation and print the comparison with the literature."""
    import json

    from nasicon_workflows.cli._output import _clean, print_json, print_table
    from nasicon_workflows.fileio import atomic_write_text, resolve_output_dir
    from nasicon_workflows.transport.errors import KMCSettingsError
    from nasicon_workflows.transport.kmc import _check
    from nasicon_workflows.transport.validation import LITERATURE, validate_transport

    from nasicon_workflows.transport.validation import _variant

    out = resolve_output_dir(args.out, create=False)  # checked now, created after the checks
    for name in args.sensitivity:
        _variant(name)
    _check(args.temperatures, args.runs, args.hops_per_ion, 50, 40, 1e13)
    if args.ordering < 0:
        raise KMCSettingsError(f"--ordering must be >= 0, got {args.ordering}")
    if len(args.temperatures) < 2:
        raise KMCSettingsError("give at least two --temperatures for the Arrhenius fit")
    if args.x is not None and any(not (0 <= x <= 3) or abs(2 * x - round(2 * x)) > 1e-9
                                  for x in args.x):
        raise KMCSettingsError(f"--x values must be multiples of 0.5 in [0, 3], got {args.x}")
    if not args.no_relax:
        from nasicon_workflows.relax.availability import check_relax_available

        check_relax_available("chgnet")
    out = resolve_output_dir(out)
    doc = validate_transport(out, xs=args.x, temperatures_K=args.temperatures, n_runs=args.runs,
                             hops_per_ion=args.hops_per_ion, resolution=args.resolution,
                             relax=not args.no_relax, sensitivity=args.sensitivity,
                             ordering=args.ordering,
                             progress=None if args.json else (lambda s: print(s, file=sys.stderr)))
    atomic_write_text(out / "validation.json", json.dumps(_clean(doc), indent=2))
    if args.json:
        print_json(doc)
        return 0
    rows = []
    for p in doc.points:
        k, n = p.kmc.get("softbv", {}), p.kmc.get("none", {})
        ci = k.get("Ea_ci95_eV")
        rows.append({
            "x": f"{p.x:g}", "formula": p.formula, "E_3D_eV": p.E_3D,
            "kmc_Ea_eV": k.get("Ea_eV"),
            "Ea_95": "-" if not ci else f"[{ci[0]:.2f}, {ci[1]:.2f}]",
            "kmc_sigma_573K": k.get("sigma_573K_S_cm"), "kmc_sigma_300K": k.get("sigma_300K_S_cm"),
            "blocking_Ea_eV": n.get("Ea_eV"), "blocking_sigma_573K": n.get("sigma_573K_S_cm"),
            "relaxed": "yes" if p.cell.get("converged") else ("no" if p.cell.get("relaxed") else "unrelaxed"),
        })
    print_table(rows, ["x", "formula", "E_3D_eV", "kmc_Ea_eV", "Ea_95", "kmc_sigma_573K",
                       "kmc_sigma_300K", "blocking_Ea_eV", "blocking_sigma_573K", "relaxed"],
                title="Na(1+x)Zr2Si(x)P(3-x)O12: BVSE E_3D and lattice KMC (softBV Na-Na; "
                      "'blocking' = no Na-Na energy); sigma in S/cm",
                formats={"E_3D_eV": ".3f", "kmc_Ea_eV": ".3f", "kmc_sigma_573K": ".2e",
                         "kmc_sigma_300K": ".2e", "blocking_Ea_eV": ".3f",
                         "blocking_sigma_573K": ".2e"})
    crit_rows = []
    for name, c in doc.criteria.items():
        crit_rows.append({
            "model": name, "x_of_max": f"{c['x_of_maximum']:g}",
            "max_in_[1.5,2.5]": c["maximum_in_window"],
            "NZSP_eV": c["nzsp_value_eV"], "NZSP_in_[0.15,0.45]": c["nzsp_in_window"],
            "x0_10x_worse": c["x0_tenfold_worse"],
            "weight": doc.recommended_weights[name]["weight"],
            "ratio_x2_x0": c.get("sigma_x2_over_x0"),
        })
    print_table(crit_rows, ["model", "x_of_max", "max_in_[1.5,2.5]", "NZSP_eV",
                            "NZSP_in_[0.15,0.45]", "ratio_x2_x0", "x0_10x_worse", "weight"],
                title="against the literature (NZSP: E_3D for BVSE, Arrhenius Ea for KMC)",
                formats={"NZSP_eV": ".3f", "ratio_x2_x0": ".3g"})
    for fact in LITERATURE.values():
        print(f"- {fact['text']}: {fact['source']}")
    print(f"weights rule: {doc.recommended_weights['rule']}")
    print(f"wrote {out / 'validation.json'}")
    return 0
