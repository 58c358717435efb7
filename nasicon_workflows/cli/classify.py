"""``nasicon-workflows classify``: synthesizability probability of NASICON formulas."""

from __future__ import annotations

import argparse

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
    frame = gate.score(args.formulas)
    if args.json:
        print_json(
            {
                "model": gate.model_name,
                "model_version": gate.metadata.version,
                "training_data": gate.metadata.training_data_label,
                "threshold": gate.threshold,
                "features": gate.features,
                "rows": frame.drop(columns=["model_features"]).to_dict(orient="records"),
            }
        )
        return 0
    columns = ["composition", "probability", "label", "in_domain", *gate.features]
    columns += [c for c in ("entropy_class", "na") if c not in columns]
    print_table(
        frame.to_dict(orient="records"),
        columns,
        title=f"Synthesizability ({gate.model_name}, {gate.metadata.training_data_label} "
        f"data, threshold {gate.threshold})",
        formats={
            "probability": ".3f",
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
    return 0
