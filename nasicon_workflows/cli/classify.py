"""``nasicon-workflows classify``: synthesizability probability of NASICON formulas."""

from __future__ import annotations

import argparse
import math

from nasicon_workflows.cli._output import print_json, print_table


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``classify`` subcommand."""
    from nasicon_workflows.classifier.gate import DEFAULT_GATE_MODEL
    from nasicon_workflows.classifier.models import MODEL_SPECS

    parser = subparsers.add_parser(
        "classify",
        help="synthesizability probability, label, descriptors and applicability domain",
        description=(
            "Score formulas with a classifier trained on the 58 compositions of Zuo et al. 2026 "
            "(or on your merged outcomes with --user-model). Rows outside the training data's "
            "applicability domain are flagged: treat their probability as an extrapolation. "
            "Models: " + ", ".join(MODEL_SPECS)
        ),
    )
    parser.add_argument("formulas", nargs="+", metavar="FORMULA")
    parser.add_argument(
        "--model",
        default=DEFAULT_GATE_MODEL,
        help=f"registered model (default {DEFAULT_GATE_MODEL})",
    )
    parser.add_argument(
        "--user-model", action="store_true", help="use the latest model retrained by add-outcomes"
    )
    parser.add_argument("--data-dir", help="user data folder (with --user-model)")
    parser.add_argument(
        "--max-ehull",
        type=float,
        default=None,
        metavar="MEV",
        help=(
            "second gate: label True also requires the predicted E_hull(1000 K) <= MEV meV/atom "
            "(stability model trained on the DFT data of Ouyang et al. 2021)"
        ),
    )
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of a table")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Score the formulas; any invalid formula or model name stops with a clear error."""
    from nasicon_workflows.classifier.gate import SynthesizabilityGate
    from nasicon_workflows.classifier.models import get_model_spec

    get_model_spec(args.model)
    if args.user_model:
        from nasicon_workflows.classifier.outcomes import load_user_gate

        gate = load_user_gate(args.model, data_dir=args.data_dir)
    else:
        gate = SynthesizabilityGate.load_default(args.model)
    if args.max_ehull is not None and not math.isfinite(args.max_ehull):
        from nasicon_workflows.classifier.errors import ClassifierError

        raise ClassifierError(f"--max-ehull must be a finite number of meV/atom, got {args.max_ehull}.")
    frame = gate.score(args.formulas, max_ehull=args.max_ehull)
    if args.json:
        print_json(
            {
                "model": gate.model_name,
                "model_version": gate.metadata.version,
                "training_data": gate.metadata.training_data_label,
                "threshold": gate.threshold,
                "max_ehull_meV_per_atom": args.max_ehull,
                "features": gate.features,
                "rows": frame.drop(columns=["model_features"]).to_dict(orient="records"),
            }
        )
        return 0
    columns = ["composition", "probability", "probability_std", "label", "in_domain"]
    columns += ["ehull_1000K_meV_per_atom", *gate.features]
    columns += [c for c in ("entropy_class", "na", "si") if c not in columns]
    columns = list(dict.fromkeys(columns))  # a model feature may already be listed
    print_table(
        frame.to_dict(orient="records"),
        columns,
        title=f"Synthesizability ({gate.model_name}, {gate.metadata.training_data_label} "
        f"data, threshold {gate.threshold})",
        formats={
            "probability": ".3f",
            "probability_std": ".3f",
            "ehull_1000K_meV_per_atom": ".1f",
            "si": ".2f",
            "ionic_radius_pm": ".2f",
            "electronegativity": ".3f",
            "valence": ".2f",
            "entropy_R": ".3f",
            "na": ".2f",
            "size_mismatch_delta": ".3f",
            "electronegativity_spread": ".3f",
            "valence_spread": ".3f",
            "n_m_cations": ".0f",
        },
    )
    for row in frame.itertuples():
        if not row.in_domain:
            print(f"outside applicability domain: {row.composition}: {row.domain_reason}")
        if row.ehull_note:
            print(f"E_hull extrapolated: {row.composition}: {row.ehull_note}")
    return 0
