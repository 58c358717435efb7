"""``nasicon-workflows md``: Na⁺ transport from machine-learned NVT molecular dynamics."""

from __future__ import annotations

import argparse
import json

from nasicon_workflows.cli._output import print_json, print_table


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``md`` subcommand."""
    parser = subparsers.add_parser(
        "md",
        help="Na+ diffusion, conductivity and Arrhenius Ea from CHGNet NVT MD (GPU/HPC tier)",
        description=(
            "Run atomate2 force-field NVT MD (CHGNet by default) of an ordered, relaxed cell at "
            "several temperatures (equilibration + production), and fit tracer D*(T) with "
            "kinisi, Nernst-Einstein conductivity (Haven ratio assumed 1), Arrhenius Ea and "
            "sigma(300 K) with 95 %% intervals. Production-length runs need a GPU or HPC worker; "
            "see docs/md.md for the cost on CPU."
        ),
    )
    parser.add_argument("cif", metavar="CELL.cif", help="ordered (relaxed) cell with Na")
    parser.add_argument(
        "--temperatures", type=float, nargs="+", default=None, metavar="K",
        help="NVT temperatures in K (default 700 850 1000 1150)",
    )
    parser.add_argument("--force-field", default="chgnet", help="chgnet (default) or sevennet")
    parser.add_argument("--time-step", type=float, default=2.0, help="MD time step in fs")
    parser.add_argument("--equilibration-steps", type=int, default=2500,
                        help="NVT steps discarded per temperature (default 2500 = 5 ps)")
    parser.add_argument("--production-steps", type=int, default=25000,
                        help="NVT steps analysed per temperature (default 25000 = 50 ps)")
    parser.add_argument("--traj-interval", type=int, default=10,
                        help="steps between stored frames (default 10)")
    parser.add_argument("--seed", type=int, default=0, help="seed of velocities and MCMC")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--device", default=None,
                        help="torch device, e.g. cuda (default: a GPU if torch sees one, else cpu)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument(
        "--out", metavar="DIR",
        help="write md_transport.json (full document), msd.png and arrhenius.png into DIR",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the MD tier; exit 2 (via a typed error) when no temperature reaches diffusion."""
    from nasicon_workflows.cli.relax import read_structure
    from nasicon_workflows.fileio import atomic_write_text, resolve_output_dir
    from nasicon_workflows.relax.errors import RelaxInputError
    from nasicon_workflows.transport.diffusion import (
        DiffusionRegimeError,
        TransportInputError,
        plot_arrhenius,
        plot_msd,
    )
    from nasicon_workflows.transport.md import (
        DEFAULT_TEMPERATURES_K,
        MDTransportMaker,
        run_md_transport,
    )

    out = resolve_output_dir(args.out) if args.out else None
    maker = MDTransportMaker(
        force_field=args.force_field,
        temperatures_K=tuple(args.temperatures or DEFAULT_TEMPERATURES_K),
        time_step_fs=args.time_step,
        n_equilibration_steps=args.equilibration_steps,
        n_production_steps=args.production_steps,
        traj_interval=args.traj_interval,
        seed=args.seed,
        device=args.device,
    )
    maker.check()  # temperatures, run length and force field, before reading weights
    try:
        structure = read_structure(args.cif)
    except RelaxInputError as exc:
        raise TransportInputError(str(exc)) from exc
    if args.threads is not None:
        if args.threads < 1:
            raise TransportInputError(f"--threads must be >= 1, got {args.threads}")
        import torch

        torch.set_num_threads(args.threads)
    doc = run_md_transport(structure, maker=maker)
    if out is not None:
        atomic_write_text(out / "md_transport.json",
                          json.dumps(doc.model_dump(), indent=2, default=str))
        plot_msd(doc.per_temperature, out / "msd.png")
        plot_arrhenius(doc.per_temperature, doc.arrhenius, out / "arrhenius.png")
    if doc.n_diffusive == 0:
        raise DiffusionRegimeError(
            "no temperature reached the diffusive regime: " + doc.per_temperature[0].note
            + (f" (MSD curves written to {out})" if out else "")
        )
    summary = doc.summary()
    if args.json:
        print_json(summary)
    else:
        rows = [
            {
                "T (K)": r.temperature_K,
                "D* (cm2/s)": r.D_cm2_per_s,
                "D* 95% CI": None if r.D_ci95_cm2_per_s is None
                else f"{r.D_ci95_cm2_per_s[0]:.2e}-{r.D_ci95_cm2_per_s[1]:.2e}",
                "sigma (S/cm)": r.sigma_S_per_cm,
                "MSD end (A2)": r.msd_final_A2,
                "diffusive": r.diffusive,
            }
            for r in doc.per_temperature
        ]
        print_table(rows, list(rows[0]), title=f"{doc.force_field} NVT MD of {args.cif}",
                    formats={"D* (cm2/s)": ".3e", "sigma (S/cm)": ".3e", "MSD end (A2)": ".2f"})
        if doc.Ea_eV is not None:
            lo, hi = doc.Ea_ci95_eV
            slo, shi = doc.sigma_300K_ci95_S_cm
            print(f"Ea = {doc.Ea_eV:.3f} eV (95 % CI {lo:.3f}-{hi:.3f}); sigma(300 K) = "
                  f"{doc.sigma_300K_S_cm:.2e} S/cm (95 % CI {slo:.1e}-{shi:.1e}), Haven ratio "
                  f"assumed {doc.haven_ratio_assumed:g}")
        for w in doc.warnings:
            print(f"warning: {w}")
    return 0
