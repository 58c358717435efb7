"""``nasicon-workflows validate-transport``: BVSE and KMC on the Na(1+x)Zr2Si(x)P(3-x)O12 series
and the shipped reference compositions, against experiment; the MD tier on request."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``validate-transport`` subcommand."""
    parser = subparsers.add_parser(
        "validate-transport",
        help="validate BVSE and KMC on the Na(1+x)Zr2Si(x)P(3-x)O12 series and the reference "
             "compositions against experiment",
        description=(
            "Builds Na(1+x)Zr2Si(x)P(3-x)O12 (x = 0, 0.5 ... 3) as Ewald-ordered 84-site cells and "
            "the shipped reference compositions (NZSP, LE-, ME1-, ME2-, HE1-, HE2-NZSP) as the "
            "structures stage orders them, relaxes every cell with CHGNet (fmax 0.05 eV/Å; cached "
            "in OUT/cells), computes BVSE E_1D/2D/3D and lattice KMC, and compares with "
            "Goodenough, Hong & Kafalas 1976, Hong 1976, Deng et al. 2022 and the measured "
            "0.2-0.4 eV of NZSP-type conductors. MD (--md) is off by default; the output says "
            "why and what it would cost. Writes OUT/validation.json and prints the tables."
        ),
    )
    parser.add_argument("--out", metavar="DIR", default="transport_validation",
                        help="output folder (cells cached here; default ./transport_validation)")
    parser.add_argument("--series", action=argparse.BooleanOptionalAction, default=True,
                        help="compute the x-series (default on)")
    parser.add_argument("--x", type=float, nargs="+", default=None, metavar="X",
                        help="x values of the series (default 0 0.5 1 1.5 2 2.5 3)")
    parser.add_argument("--references", action=argparse.BooleanOptionalAction, default=True,
                        help="compute the shipped reference compositions (default on)")
    parser.add_argument("--reference", nargs="+", default=None, metavar="LABEL",
                        help="only these reference labels (default all six)")
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
    parser.add_argument("--md", nargs="*", default=None, metavar="CELL",
                        help="run the MD tier (CHGNet NVT) on these computed cells: reference "
                             "labels or x=<x> (no name: NZSP, else x=2). Off by default: tens of "
                             "CPU-hours per cell")
    parser.add_argument("--md-temperatures", type=float, nargs="+", default=None, metavar="K",
                        help="MD temperatures (default those of the MD tier)")
    parser.add_argument("--md-equilibration-steps", type=int, default=None, metavar="N")
    parser.add_argument("--md-production-steps", type=int, default=None, metavar="N")
    parser.add_argument("--md-traj-interval", type=int, default=None, metavar="N")
    parser.add_argument("--json", action="store_true", help="print the document as JSON")
    parser.set_defaults(func=run)


def _x_name(x: float) -> str:
    return f"x={x:g}"


def _md_cell_names(names: list[str], xs: tuple[float, ...], labels: tuple[str, ...]) -> list[str]:
    """Canonical names of the --md cells, checked against the cells this run computes."""
    from nasicon_workflows.transport.errors import KMCSettingsError

    available = [_x_name(x) for x in xs] + list(labels)
    if not names:  # default: the composition with the measured Ea band
        for default in ("NZSP", _x_name(2.0)):
            if default in available:
                return [default]
        raise KMCSettingsError(
            "--md without cell names runs on NZSP or x=2, and neither is computed in this run; "
            f"name cells among {available}")
    out = []
    for name in names:
        key = name.strip()
        by_label = {label.lower(): label for label in labels}
        if key.lower() in by_label:
            out.append(by_label[key.lower()])
            continue
        try:
            canonical = _x_name(float(key.lower().removeprefix("x").lstrip("=")))
        except ValueError:
            canonical = None
        if canonical not in available:
            raise KMCSettingsError(
                f"--md cell {name!r} is not computed in this run; choose among {available}")
        out.append(canonical)
    return list(dict.fromkeys(out))


def _md_maker(args: argparse.Namespace):
    """The MDTransportMaker of the --md options (checked before anything is computed)."""
    from nasicon_workflows.transport.md import MDTransportMaker

    overrides = {
        "temperatures_K": tuple(args.md_temperatures) if args.md_temperatures else None,
        "n_equilibration_steps": args.md_equilibration_steps,
        "n_production_steps": args.md_production_steps,
        "traj_interval": args.md_traj_interval,
    }
    maker = MDTransportMaker(**{k: v for k, v in overrides.items() if v is not None})
    if args.md is not None:
        maker.check()
    return maker


def _check_args(args: argparse.Namespace) -> tuple[tuple[float, ...], tuple[str, ...]]:
    """The x values and reference labels to compute; raises on contradictory options."""
    from nasicon_workflows.structures.references import REFERENCE_LABELS
    from nasicon_workflows.transport.errors import KMCSettingsError
    from nasicon_workflows.transport.series import SERIES_X

    if args.x is not None and not args.series:
        raise KMCSettingsError("--x and --no-series contradict each other; give one")
    if args.reference is not None and not args.references:
        raise KMCSettingsError("--reference and --no-references contradict each other; give one")
    if args.x is not None and any(not (0 <= x <= 3) or abs(2 * x - round(2 * x)) > 1e-9
                                  for x in args.x):
        raise KMCSettingsError(f"--x values must be multiples of 0.5 in [0, 3], got {args.x}")
    xs = tuple(dict.fromkeys(float(x) for x in (args.x or SERIES_X))) if args.series else ()
    labels: tuple[str, ...] = ()
    if args.references:
        by_label = {label.lower(): label for label in REFERENCE_LABELS}
        wanted = args.reference or list(REFERENCE_LABELS)
        unknown = [w for w in wanted if w.lower() not in by_label]
        if unknown:
            raise KMCSettingsError(f"unknown reference label(s) {unknown}; available: "
                                   f"{', '.join(REFERENCE_LABELS)}")
        labels = tuple(dict.fromkeys(by_label[w.lower()] for w in wanted))
    if not xs and not labels:
        raise KMCSettingsError("nothing to compute: --no-series and --no-references together")
    md_options = (args.md_temperatures, args.md_equilibration_steps, args.md_production_steps,
                  args.md_traj_interval)
    if args.md is None and any(v is not None for v in md_options):
        raise KMCSettingsError("--md-* settings need --md")
    return xs, labels


def run(args: argparse.Namespace) -> int:
    """Run the validation and print the comparison with the literature."""
    import json

    from nasicon_workflows.cli._output import _clean, print_json
    from nasicon_workflows.fileio import atomic_write_text, resolve_output_dir
    from nasicon_workflows.transport.errors import KMCSettingsError
    from nasicon_workflows.transport.kmc import _check
    from nasicon_workflows.transport.validation import _variant, validate_transport

    out = resolve_output_dir(args.out, create=False)  # checked now, created after the checks
    for name in args.sensitivity:
        _variant(name)
    _check(args.temperatures, args.runs, args.hops_per_ion, 50, 40, 1e13)
    if args.ordering < 0:
        raise KMCSettingsError(f"--ordering must be >= 0, got {args.ordering}")
    if len(args.temperatures) < 2:
        raise KMCSettingsError("give at least two --temperatures for the Arrhenius fit")
    xs, labels = _check_args(args)
    md_cells = None if args.md is None else _md_cell_names(args.md, xs, labels)
    maker = _md_maker(args)
    if not args.no_relax:
        from nasicon_workflows.relax.availability import check_relax_available

        check_relax_available("chgnet")
    out = resolve_output_dir(out)
    doc = validate_transport(out, xs=xs, temperatures_K=args.temperatures, n_runs=args.runs,
                             hops_per_ion=args.hops_per_ion, resolution=args.resolution,
                             relax=not args.no_relax, sensitivity=args.sensitivity,
                             ordering=args.ordering, references=labels, md_cells=md_cells,
                             md_maker=maker,
                             progress=None if args.json else (lambda s: print(s, file=sys.stderr)))
    atomic_write_text(out / "validation.json", json.dumps(_clean(doc), indent=2))
    if args.json:
        print_json(doc)
        return 0
    if doc.points:
        _print_series(doc)
    if doc.references:
        _print_references(doc)
    _print_md(doc.md)
    print(f"wrote {out / 'validation.json'}")
    return 0


def _relaxed_flag(cell: dict) -> str:
    return "yes" if cell.get("converged") else ("NO" if cell.get("relaxed") else "unrelaxed")


def _print_series(doc) -> None:
    from nasicon_workflows.cli._output import print_table
    from nasicon_workflows.transport.validation import LITERATURE

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
            "relaxed": _relaxed_flag(p.cell),
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


def _print_references(doc) -> None:
    from nasicon_workflows.cli._output import print_table
    from nasicon_workflows.transport.validation import _span

    comp = doc.reference_comparison
    kmc = comp.get("kmc_softbv", {}).get("per_reference", {})
    rows = []
    for ref in doc.references:
        k = ref.kmc.get("softbv", {})
        ci = k.get("Ea_ci95_eV")
        row = kmc.get(ref.label, {})
        rows.append({
            "reference": ref.label, "formula": ref.formula, "atoms": ref.cell.get("n_sites"),
            "relaxed": _relaxed_flag(ref.cell),
            "E_1D": ref.E_1D, "E_2D": ref.E_2D, "E_3D": ref.E_3D,
            "kmc_Ea_eV": k.get("Ea_eV"),
            "Ea_95": "-" if not ci else f"[{ci[0]:.2f}, {ci[1]:.2f}]",
            "Ea_in_[0.15,0.45]": ("-" if k.get("Ea_eV") is None
                                  else "yes" if row.get("in_window") else "MISSED"),
            "kmc_sigma_300K": k.get("sigma_300K_S_cm"),
            "kmc_sigma_573K": k.get("sigma_573K_S_cm"),
            "measured": row.get("measured", "no measured value shipped"),
        })
    print_table(rows, ["reference", "formula", "atoms", "relaxed", "E_1D", "E_2D", "E_3D",
                       "kmc_Ea_eV", "Ea_95", "Ea_in_[0.15,0.45]", "kmc_sigma_300K",
                       "kmc_sigma_573K", "measured"],
                title="shipped reference compositions: BVSE E_1D/2D/3D (eV) and lattice KMC "
                      "(softBV Na-Na); sigma in S/cm",
                formats={"E_1D": ".3f", "E_2D": ".3f", "E_3D": ".3f", "kmc_Ea_eV": ".3f",
                         "kmc_sigma_300K": ".2e", "kmc_sigma_573K": ".2e"})
    facts = comp.get("facts", {})
    for name, c in comp.items():
        if name == "facts":
            continue
        rng = c.get("range_eV")
        span = "-" if not rng else f"{_span(rng, '.3f')} eV"
        print(f"{name} ({c['measure']}): {span}; {c['n_in_window']} of {c['n']} inside "
              f"{facts['window_eV'][0]:g}-{facts['window_eV'][1]:g} eV")
    print(f"- {facts.get('band_text')}: {facts.get('band_source')} (acceptance window "
          f"{facts['window_eV'][0]:g}-{facts['window_eV'][1]:g} eV)")
    print(f"- {facts.get('zuo_2026')}")


def _print_md(md: dict) -> None:
    from nasicon_workflows.cli._output import print_table

    if not md.get("run"):
        print(md.get("reason", "MD not run"))
        rows = [{"cell": name, **{k: c[k] for k in ("n_atoms", "n_steps", "cpu_s_per_step",
                                                     "cpu_hours")}}
                for name, c in md.get("cpu_cost_per_cell", {}).items()]
        if rows:
            print_table(rows, ["cell", "n_atoms", "n_steps", "cpu_s_per_step", "cpu_hours"],
                        title="MD cost on this CPU for the default protocol (estimate from "
                              "measured CPU time per step; docs/md.md)")
        return
    rows = []
    for r in md["cells"]:
        for t in r.get("per_temperature") or [{}]:
            rows.append({"cell": r["cell"], "atoms": r["n_atoms"], "status": r["status"],
                         "T_K": t.get("T_K"), "msd_final_A2": t.get("msd_final_A2"),
                         "one_hop_A2": t.get("min_msd_A2"),
                         "diffusive": t.get("diffusive"), "D_cm2_s": t.get("D_cm2_per_s"),
                         "wall_s": r["wall_s"]})
    print_table(rows, ["cell", "atoms", "status", "T_K", "msd_final_A2", "one_hop_A2",
                       "diffusive", "D_cm2_s", "wall_s"],
                title="MD tier (CHGNet NVT, kinisi; a temperature counts only when the Na MSD "
                      "reaches one hop)",
                formats={"msd_final_A2": ".3g", "one_hop_A2": ".3g", "D_cm2_s": ".2e"})
    for r in md["cells"]:
        if r["status"] == "failed" or r.get("Ea_eV") is None:
            why = r.get("note") or "; ".join(r.get("warnings", []))
            print(f"MD {r['cell']}: {r['status']}: {why}")
        else:
            ci = r.get("Ea_ci95_eV")
            print(f"MD {r['cell']}: Ea {r['Ea_eV']:.3f} eV [{ci[0]:.3f}, {ci[1]:.3f}], "
                  f"sigma(300 K) {r['sigma_300K_S_cm']:.2e} S/cm (Haven ratio assumed "
                  f"{r['haven_ratio_assumed']:g})")
