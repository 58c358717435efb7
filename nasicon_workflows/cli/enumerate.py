"""``nasicon-workflows enumerate``: enumerate candidates and rank them with the gate."""

from __future__ import annotations

import argparse

from nasicon_workflows.cli._output import print_json, print_table


def _pair(kind):
    def parse(text: str):
        parts = text.replace(":", ",").split(",")
        if len(parts) != 2:
            raise argparse.ArgumentTypeError(f"expected MIN,MAX, got {text!r}")
        try:
            return tuple(kind(p) for p in parts)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected two numbers MIN,MAX, got {text!r}"
            ) from None

    return parse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``enumerate`` subcommand."""
    from nasicon_workflows.classifier.gate import DEFAULT_GATE_MODEL
    from nasicon_workflows.enumeration import DEFAULT_DOPANT_POOL

    parser = subparsers.add_parser(
        "enumerate",
        help="enumerate M-site compositions and rank them by synthesizability probability",
        description=(
            "Stream every composition of the dopant pool allowed by the rules, score all of them "
            "with the gate (vectorised) and print the top N with entropy class and domain flag."
        ),
    )
    parser.add_argument(
        "--pool",
        nargs="+",
        default=list(DEFAULT_DOPANT_POOL),
        metavar="EL",
        help="M-site elements (default: the paper's precursor cations)",
    )
    parser.add_argument("--n-cations", type=_pair(int), default=(2, 5), metavar="MIN,MAX")
    parser.add_argument("--step", type=float, default=0.1, help="amount step per formula unit")
    parser.add_argument(
        "--radius-window",
        type=float,
        default=35.0,
        help="pm around Zr4+ (CN VI, 72 pm); negative = no window",
    )
    parser.add_argument("--valence", type=_pair(int), default=(2, 6), metavar="MIN,MAX")
    parser.add_argument("--na-range", type=_pair(float), default=(3.0, 4.0), metavar="MIN,MAX")
    parser.add_argument("--si", type=float, default=2.0)
    parser.add_argument(
        "--require",
        nargs="+",
        default=[],
        metavar="EL",
        help="elements every candidate must contain",
    )
    parser.add_argument(
        "--min-entropy",
        type=float,
        default=0.0,
        help="smallest M-site entropy in R (1.0 = medium and high, 1.5 = high only)",
    )
    parser.add_argument("--top", type=int, default=20)
    parser.add_argument(
        "--in-domain-only",
        action="store_true",
        help="rank only compositions inside the applicability domain",
    )
    parser.add_argument(
        "--max-ehull",
        type=float,
        default=None,
        metavar="MEV",
        help="second gate: rank only compositions with predicted E_hull(1000 K) <= MEV meV/atom",
    )
    parser.add_argument("--model", default=DEFAULT_GATE_MODEL)
    parser.add_argument("--chunk-size", type=int, default=200_000)
    parser.add_argument("--csv", help="also write the top-N table to this CSV")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Enumerate, score and print the top-N."""
    from nasicon_workflows.classifier.gate import SynthesizabilityGate
    from nasicon_workflows.classifier.models import get_model_spec
    from nasicon_workflows.enumeration import EnumerationRules, screen_candidates

    get_model_spec(args.model)
    rules = EnumerationRules(
        dopant_pool=tuple(args.pool),
        n_cations=tuple(args.n_cations),
        step=args.step,
        radius_window_pm=None if args.radius_window < 0 else args.radius_window,
        valence_range=tuple(args.valence),
        na_range=tuple(args.na_range),
        si=args.si,
        required_elements=tuple(args.require),
        min_entropy_R=args.min_entropy,
    )
    rules.validate()
    gate = SynthesizabilityGate.load_default(args.model)
    progress = None
    if not args.json:
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
            max_ehull=args.max_ehull,
        )
    finally:
        if progress:
            bar.close()
    out = frame.drop(columns=["model_features"])
    if args.csv:
        out.to_csv(args.csv, index=False)
    n_enum, n_in = frame.attrs["n_enumerated"], frame.attrs["n_in_domain"]
    if args.json:
        print_json(
            {
                "model": gate.model_name,
                "n_enumerated": n_enum,
                "n_in_domain": n_in,
                "max_ehull_meV_per_atom": args.max_ehull,
                "n_ehull_pass": frame.attrs.get("n_ehull_pass"),
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
            "in_domain",
            "entropy_R",
            "entropy_class",
            "ionic_radius_pm",
            "electronegativity",
            "valence",
            "na",
        ],
        title=f"Top {len(out)} of {n_enum:,} compositions ({n_in:,} inside the "
        f"applicability domain) by {gate.model_name}",
        formats={
            "probability": ".4f",
            "entropy_R": ".3f",
            "ionic_radius_pm": ".2f",
            "electronegativity": ".3f",
            "valence": ".2f",
            "na": ".2f",
        },
    )
    return 0
