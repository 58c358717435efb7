"""``nasicon-workflows add-outcomes``: merge new synthesis results, retrain, version the model."""

from __future__ import annotations

import argparse

from nasicon_workflows.cli._output import print_json


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``add-outcomes`` subcommand."""
    parser = subparsers.add_parser(
        "add-outcomes",
        help="merge synthesis results (composition,outcome,source CSV) and retrain the gate",
        description=(
            "Validate every row (formula, charge balance, duplicates, contradictory labels), merge "
            "into the user dataset outside the package, retrain and save a new model version. The "
            "shipped data are never modified. Folder: --data-dir or $NASICON_WORKFLOWS_DATA."
        ),
    )
    parser.add_argument("csv", metavar="FILE.csv",
                        help="outcome CSV (composition,outcome,source[,sigma_total_S_cm,"
                             "temperature_K,Ea_eV,...]) or the JSON of 'eis --json'")
    parser.add_argument("--model", help="registered model to retrain (default: the gate's)")
    parser.add_argument("--data-dir", help="user data folder")
    parser.add_argument("--no-retrain", action="store_true", help="merge the data only")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Merge, retrain and report the new version."""
    from nasicon_workflows.classifier.outcomes import add_outcomes

    result = add_outcomes(args.csv, args.data_dir, args.model, retrain=not args.no_retrain)
    if args.json:
        print_json(result)
        return 0
    if result.n_measurements_only:
        print(
            f"kept {result.n_measurements_only} measurement(s) of compositions already labelled "
            "(training data unchanged)"
        )
    if result.n_added or not result.n_measurements_only:
        print(
            f"added {result.n_added} row(s); user dataset v{result.version} has "
            f"{result.n_user_rows} row(s): {result.dataset_path}"
        )
    if result.n_measured_rows:
        print(f"{result.n_measured_rows} row(s) of measured transport (σ, Eₐ) in the user data")
    if result.model_path:
        acc = {k: v for k, v in result.metrics.items() if ".accuracy." in k or ".roc_auc." in k}
        print(
            f"retrained {result.model_name} on {result.n_training_rows} rows: {result.model_path}"
        )
        for key, value in acc.items():
            print(f"  {key} = {value:.3f}")
    return 0
