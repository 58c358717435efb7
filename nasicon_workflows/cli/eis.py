"""``nasicon-workflows eis``: impedance spectra to conductivities, Arrhenius Ea, an outcome row."""

from __future__ import annotations

import argparse

from nasicon_workflows.cli._output import print_json, print_table


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``eis`` subcommand."""
    parser = subparsers.add_parser(
        "eis",
        help="fit impedance spectra: σ_bulk, σ_gb, σ_total, Arrhenius Ea, a row for add-outcomes",
        description=(
            "Fit an equivalent circuit (impedance.py syntax) to each spectrum (CSV/whitespace "
            "columns of frequency, Z', Z'' under common header names, either sign, or BioLogic "
            ".mpt), report every element with its uncertainty, σ = t/(R·A) for bulk, grain "
            "boundary and total with propagated uncertainty, χ² and a lin-KK test. With one "
            "temperature per spectrum (3 or more distinct), or with --sigma-table, fit Arrhenius "
            "lines and give Ea ± uncertainty and σ(25 °C)."
        ),
    )
    parser.add_argument("spectra", nargs="*", metavar="SPECTRUM", help="spectrum files")
    parser.add_argument("--thickness-cm", type=float, help="pellet thickness t in cm")
    parser.add_argument("--diameter-cm", type=float, help="electrode (pellet) diameter in cm")
    parser.add_argument("--thickness-uncertainty-cm", type=float, default=0.0,
                        help="one-sigma uncertainty of t in cm (default 0: exact)")
    parser.add_argument("--diameter-uncertainty-cm", type=float, default=0.0,
                        help="one-sigma uncertainty of the diameter in cm (default 0: exact)")
    parser.add_argument("--circuit", default=None,
                        help="preset (bulk-gb-electrode [default], bulk-electrode, randles) or an "
                             "impedance.py circuit string, e.g. 'R0-p(R1,CPE1)-W1'")
    parser.add_argument("--bulk-element", default=None, help="resistor that is the bulk (e.g. R0)")
    parser.add_argument("--gb-element", default=None,
                        help="resistor that is the grain boundary (e.g. R1)")
    parser.add_argument("--initial-guess", type=float, nargs="+", default=None,
                        help="starting values in impedance.py's parameter order")
    parser.add_argument("--max-function-evals", type=int, default=4000,
                        help="evaluations per fit start before it counts as not converged")
    parser.add_argument("--temperature-K", type=float, nargs="+", default=None,
                        metavar="K", help="one temperature in K per spectrum")
    parser.add_argument("--sigma-table", default=None, metavar="FILE",
                        help="Arrhenius fit of a table: temperature_K, sigma_total_S_cm, ...")
    parser.add_argument("--arrhenius-form", choices=("sigmaT", "sigma"), default="sigmaT",
                        help="fit σT = A exp(-Ea/kT) (default) or σ = A exp(-Ea/kT)")
    parser.add_argument("--composition", help="formula of the pellet, for the add-outcomes row")
    parser.add_argument("--outcome", choices=("synthesizable", "non-synthesizable"),
                        help="synthesis outcome (from XRD) for the add-outcomes row")
    parser.add_argument("--source", help="DOI or lab-book reference for the add-outcomes row")
    parser.add_argument("--json", action="store_true", help="print the document as JSON")
    parser.add_argument("--out", metavar="DIR", default=None,
                        help="write Nyquist/Bode/Arrhenius plots, eis.json and outcome_row.csv")
    parser.set_defaults(func=run)


def _fmt(value, err, unit="") -> str:
    if value is None:
        return "-"
    return f"{value:.4g} ± {err:.2g}{unit}"


def run(args: argparse.Namespace) -> int:
    """Analyse, print, and write the outputs."""
    from nasicon_workflows.eis import (
        PelletGeometry,
        analyse_spectra,
        arrhenius_from_table,
        write_outputs,
    )
    from nasicon_workflows.eis.errors import EISError, GeometryError
    from nasicon_workflows.fileio import resolve_output_dir

    out = resolve_output_dir(args.out) if args.out else None
    if args.composition:
        from nasicon_workflows.composition import NasiconComposition

        NasiconComposition.from_formula(args.composition)  # a bad formula fails before fitting
    row_args = dict(composition=args.composition, outcome=args.outcome, source=args.source)
    if args.sigma_table:
        if args.spectra:
            raise EISError("give spectra or --sigma-table, not both")
        document = arrhenius_from_table(args.sigma_table, args.arrhenius_form, **row_args)
        pairs = []
    else:
        if not args.spectra:
            raise EISError("no spectrum given: name one or more spectrum files, or --sigma-table")
        if args.thickness_cm is None or args.diameter_cm is None:
            raise GeometryError("--thickness-cm and --diameter-cm (pellet geometry) are required")
        geometry = PelletGeometry(
            args.thickness_cm, args.diameter_cm, args.thickness_uncertainty_cm,
            args.diameter_uncertainty_cm,
        )
        document, pairs = analyse_spectra(
            args.spectra, geometry, args.temperature_K, args.circuit, args.arrhenius_form,
            bulk_element=args.bulk_element, gb_element=args.gb_element,
            initial_guess=args.initial_guess, max_function_evals=args.max_function_evals,
            **row_args,
        )
    if out is not None:
        write_outputs(document, pairs, out)
    if args.json:
        print_json(document)
        return 0
    for spec in document.spectra:
        title = spec.source + (f" at {spec.temperature_K:g} K" if spec.temperature_K else "")
        print_table(
            [{"parameter": e.name, "value": f"{e.value:.4g}", "uncertainty": f"{e.uncertainty:.2g}",
              "unit": e.unit} for e in spec.elements],
            ["parameter", "value", "uncertainty", "unit"],
            title=f"{title}: {spec.circuit}",
        )
        for note in spec.reader_notes:
            print(f"  {note}")
        q = spec.fit_quality
        print(f"  fit: reduced χ² = {q.chi2_reduced:.3g} (relative RMS residual "
              f"{q.residual_rms_relative:.2%}); lin-KK: M = {q.kk_M}, max |residual| = "
              f"{q.kk_max_abs_residual:.2%}")
        for r in spec.resistors:
            cap = "series" if r.capacitance_F is None else f"C_eff = {r.capacitance_F:.2e} F"
            print(f"  {r.name}: {r.role} ({cap}, {r.capacitance_class})")
        print(f"  σ_bulk  = {_fmt(spec.sigma_bulk_S_cm, spec.sigma_bulk_uncertainty_S_cm)} S/cm")
        print(f"  σ_gb    = {_fmt(spec.sigma_gb_S_cm, spec.sigma_gb_uncertainty_S_cm)} S/cm")
        print(f"  σ_total = {_fmt(spec.sigma_total_S_cm, spec.sigma_total_uncertainty_S_cm)} S/cm")
        for w in spec.warnings:
            print(f"  warning: {w}")
    for key, fit in document.arrhenius.items():
        extra = " (extrapolated)" if fit.sigma_25C_extrapolated else ""
        print(f"Arrhenius {key} ({fit.form}, n = {fit.n_points}, {fit.temperature_min_K:g}-"
              f"{fit.temperature_max_K:g} K): Ea = {fit.Ea_eV:.3f} ± "
              f"{fit.Ea_uncertainty_eV:.2g} eV, σ(25 °C) = "
              f"{_fmt(fit.sigma_25C_S_cm, fit.sigma_25C_uncertainty_S_cm)} S/cm{extra}")
    for note in document.notes:
        print(note)
    if out is not None:
        row = document.outcome_row or {}
        complete = all(row.get(k) for k in ("composition", "outcome", "source"))
        print(f"wrote plots, eis.json{' and outcome_row.csv' if complete else ''} to {out}")
    return 0
