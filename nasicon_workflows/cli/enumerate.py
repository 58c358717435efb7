"""``nasicon-workflows enumerate``: enumerate candidates and rank them with the gate."""

from __future__ import annotations

import argparse

from nasicon_workflows.cli._output import print_json, print_table
from nasicon_workflows.cli.enumeration_options import (
    DEFAULT_CHUNK_SIZE,
    EnumerationOptions,
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``enumerate`` subcommand."""
    from nasicon_workflows.classifier.gate import DEFAULT_GATE_MODEL

    parser = subparsers.add_parser(
        "enumerate",
        help="enumerate M-site compositions and rank them by synthesizability probability",
        description=(
            "Stream every composition of the dopant pool allowed by the rules, score all of them "
            "with the gate (vectorised) and print the top N with entropy class and domain flag."
        ),
    )
    # the rules and --max-ehull: the same flags and defaults as the screen's (one options model)
    EnumerationOptions.add_arguments(parser)
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument(
        "--in-domain-only",
        action="store_true",
        help="rank only compositions inside the applicability domain",
    )
    parser.add_argument("--model", default=DEFAULT_GATE_MODEL)
    parser.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK_SIZE,
                        help=f"rows scored at once (default {DEFAULT_CHUNK_SIZE:,})")
    parser.add_argument("--csv", help="also write the top-N table to this CSV")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Enumerate, score and print the top-N."""
    from nasicon_workflows.classifier.errors import EnumerationRulesError
    from nasicon_workflows.classifier.gate import SynthesizabilityGate
    from nasicon_workflows.classifier.models import get_model_spec
    from nasicon_workflows.enumeration import screen_candidates
    from nasicon_workflows.fileio import resolve_output_file, write_output_text

    get_model_spec(args.model)
    if args.top < 1:
        raise EnumerationRulesError(f"--top must be >= 1, got {args.top}.")
    options = EnumerationOptions.from_args(args)
    options.check(args.chunk_size)  # rules, chunk size and the size guard, before computing
    rules = options.enumeration_rules()
    csv_path = resolve_output_file(args.csv) if args.csv else None
    gate = SynthesizabilityGate.load_default(args.model)
    progress = None
    if not args.json and not args.quiet:
        from tqdm import tqdm

        bar = tqdm(unit=" compositions", unit_scale=True, desc="scoring", leave=False)
        progress = bar.update
    try:
        frame = screen_candidates(
            rules,
            gate,
            args.top,
            args.chunk_size,
            args.in_domain_only,
            progress,
            max_ehull=options.max_ehull,
            tie_break=options.tie_break,
        )
    finally:
        if progress:
            bar.close()
    out = frame.drop(columns=["model_features"])
    if csv_path is not None:
        write_output_text(csv_path, out.to_csv(index=False))
    n_enum, n_in = frame.attrs["n_enumerated"], frame.attrs["n_in_domain"]
    if args.json:
        print_json(
            {
                "model": gate.model_name,
                "n_enumerated": n_enum,
                "n_in_domain": n_in,
                "max_ehull_meV_per_atom": options.max_ehull,
                "n_ehull_pass": frame.attrs.get("n_ehull_pass"),
                "tie_break": frame.attrs["tie_break"],
                "n_tied": frame.attrs.get("n_tied"),
                "best": frame.attrs.get("best"),
                "rules": {k: v for k, v in rules.__dict__.items()},
                "top": out.to_dict(orient="records"),
            }
        )
        return 0
    print_table(
        out.to_dict(orient="records"),
        [
            "composition",
            "probability",
            "probability_std",
            "ehull_1000K_meV_per_atom",
            "in_domain",
            "entropy_R",
            "entropy_class",
            "ionic_radius_pm",
            "electronegativity",
            "valence",
            "na",
        ],
        title=_title(frame, gate.model_name),
        formats={
            "probability": ".4f",
            "probability_std": ".3f",
            "ehull_1000K_meV_per_atom": ".1f",
            "entropy_R": ".3f",
            "ionic_radius_pm": ".2f",
            "electronegativity": ".3f",
            "valence": ".2f",
            "na": ".2f",
        },
    )
    return 0


def _title(frame, model_name: str) -> str:
    """What the table holds and how its rows were chosen."""
    n_enum, n_in = frame.attrs["n_enumerated"], frame.attrs["n_in_domain"]
    head = (f"{len(frame)} of {n_enum:,} compositions ({n_in:,} inside the applicability "
            f"domain), {model_name}")
    if frame.attrs.get("tie_break") != "ehull":
        return f"Top {head}, by probability"
    best, n_tied = frame.attrs["best"], frame.attrs["n_tied"]
    return (f"{head}: {n_tied:,} tied in probability with the best (p = "
            f"{best['probability']:.3f} ± {best['probability_std']:.3f}), kept by lowest "
            "predicted E_hull(1000 K), DFT-covered elements first"
            + ("" if n_tied >= len(frame) else ", then by probability"))
