"""``nasicon-workflows kmc``: lattice kinetic Monte Carlo of Na+ on the BVSE landscape of a cell."""

from __future__ import annotations

import argparse

from nasicon_workflows.cli._output import print_json, print_table


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``kmc`` subcommand."""
    parser = subparsers.add_parser(
        "kmc",
        help="lattice kinetic Monte Carlo of Na+: D*, D_sigma, sigma, Haven ratio, Arrhenius Ea",
        description=(
            "Rejection-free KMC on the Na1/Na2/Na3 sites of an ordered C2/c cell: site and saddle "
            "energies from the BVSE landscape, softBV Na-Na repulsion between occupied sites, the "
            "cell's Na content. Prints per-temperature tracer and collective diffusivities, the "
            "Nernst-Einstein conductivity, the Haven ratio, and the Arrhenius Ea (95 %% interval over "
            "independent runs) with sigma(300 K) extrapolated."
        ),
    )
    parser.add_argument("structure", metavar="CIF", help="ordered cell (CIF, POSCAR, ...)")
    parser.add_argument("--temperatures", type=float, nargs="+", default=[500.0, 600.0, 700.0],
                        metavar="K", help="temperatures in K (default 500 600 700)")
    parser.add_argument("--runs", type=int, default=5, help="independent runs per temperature (5)")
    parser.add_argument("--hops-per-ion", type=float, default=400,
                        help="production hops per Na and run (400)")
    parser.add_argument("--resolution", type=float, default=0.1, help="BVSE grid spacing in Å (0.1)")
    parser.add_argument("--interaction", choices=("softbv", "coulomb", "none"), default="softbv",
                        help="Na-Na interaction (default softbv: softBV's Na+-Na+ term, not fitted)")
    parser.add_argument("--epsilon-r", type=float, default=None, help="for --interaction coulomb")
    parser.add_argument("--screening-length", type=float, default=None,
                        help="for --interaction coulomb, Å")
    parser.add_argument("--attempt-frequency", type=float, default=1e13, help="Hz (1e13)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print the document as JSON")
    parser.add_argument("--out", metavar="FILE", default=None, help="also write the JSON to FILE")
    parser.set_defaults(func=run)


def read_structure(path: str):
    """Read a structure file or raise :class:`~nasicon_workflows.transport.errors.StructureReadError`."""
    from nasicon_workflows.cli._structure_file import read_structure_file
    from nasicon_workflows.transport.errors import StructureReadError

    return read_structure_file(path, StructureReadError)


def run(args: argparse.Namespace) -> int:
    """Build the lattice, run KMC at every temperature, print or write the document."""
    import json

    from nasicon_workflows.cli._output import _clean
    from nasicon_workflows.fileio import resolve_output_file, write_output_text
    from nasicon_workflows.transport.kmc import _check, run_kmc_temperatures
    from nasicon_workflows.transport.lattice import build_na_lattice, interaction_parameters

    out = resolve_output_file(args.out) if args.out else None
    # Settings are checked before the (expensive) landscape.
    _check(args.temperatures, args.runs, args.hops_per_ion, 50, 40, args.attempt_frequency)
    interaction_parameters(args.interaction, args.epsilon_r, args.screening_length)
    structure = read_structure(args.structure)
    lattice = build_na_lattice(structure, resolution=args.resolution, interaction=args.interaction,
                               epsilon_r=args.epsilon_r, screening_length_A=args.screening_length)
    doc = run_kmc_temperatures(lattice, args.temperatures, n_runs=args.runs,
                               hops_per_ion=args.hops_per_ion, nu_Hz=args.attempt_frequency,
                               seed=args.seed)
    if out is not None:
        write_output_text(out, json.dumps(_clean(doc), indent=2))
    if args.json:
        print_json(doc)
        return 0
    print_table(
        [r.model_dump() for r in doc.temperatures],
        ["temperature_K", "D_tracer_cm2_s", "D_sigma_cm2_s", "sigma_S_cm", "sigma_std_S_cm",
         "haven_ratio", "n_runs"],
        title=f"{doc.formula}: KMC on {doc.n_sites_box} sites, {doc.n_na_box} Na "
              f"(interaction {doc.interaction}, nu = {doc.attempt_frequency_Hz:g} Hz)",
        formats={"D_tracer_cm2_s": ".3e", "D_sigma_cm2_s": ".3e", "sigma_S_cm": ".3e",
                 "sigma_std_S_cm": ".2e", "haven_ratio": ".2f"},
    )
    if doc.Ea_eV is None:
        print(f"Arrhenius fit: none ({doc.note})")
    else:
        ci = (f" [{doc.Ea_ci95_eV[0]:.3f}, {doc.Ea_ci95_eV[1]:.3f}] (95 %, {doc.temperatures[0].n_runs}"
              " runs)" if doc.Ea_ci95_eV else "")
        s_ci = (f" [{doc.sigma_300K_ci95_S_cm[0]:.2e}, {doc.sigma_300K_ci95_S_cm[1]:.2e}]"
                if doc.sigma_300K_ci95_S_cm else "")
        print(f"Ea = {doc.Ea_eV:.3f} eV{ci}; sigma(300 K) = {doc.sigma_300K_S_cm:.2e} S/cm{s_ci} "
              "(Arrhenius extrapolation)")
    return 0
