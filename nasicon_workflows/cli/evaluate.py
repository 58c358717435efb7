"""``nasicon-workflows evaluate``: repeated CV, LOO, random splits and importance of every model."""

from __future__ import annotations

import argparse

from nasicon_workflows.cli._output import print_json, print_table


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``evaluate`` subcommand."""
    from nasicon_workflows.classifier.models import MODEL_SPECS

    parser = subparsers.add_parser(
        "evaluate",
        help="honest evaluation of the synthesizability classifiers on the 58-row dataset",
        description=(
            "Repeated stratified k-fold CV, leave-one-out, the published 45/13 random-split "
            "protocol, leave-one-dopant-element-out, leave-one-entropy-class-out "
            "and drop-column importance for every model, in parallel processes; writes PNGs, metrics.json and report.md "
            "to the output folder. Models: " + ", ".join(MODEL_SPECS)
        ),
    )
    parser.add_argument("--models", nargs="+", metavar="NAME", help="default: every model")
    parser.add_argument("--output", default="classifier_evaluation", help="report folder")
    parser.add_argument("--repeats", type=int, default=20, help="CV repeats (default 20)")
    parser.add_argument("--folds", type=int, default=10, help="CV folds (default 10)")
    parser.add_argument("--splits", type=int, default=200, help="random 45/13 splits (default 200)")
    parser.add_argument(
        "--importance-repeats",
        type=int,
        default=5,
        help="CV repeats for drop-column importance (default 5)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--jobs", type=int, default=2, help="parallel worker processes (default 2, one per core)"
    )
    parser.add_argument("--convention", choices=["paper", "shannon"], default="paper")
    parser.add_argument(
        "--data",
        metavar="CSV",
        help="evaluate on a user dataset (columns composition, outcome) instead",
    )
    parser.add_argument(
        "--predicted-transport",
        metavar="FILE",
        help="a screen's results.json or ranking.csv: its BVSE barriers and KMC Ea/sigma are "
        "rank-correlated with the measured transport of the user data (add-outcomes)",
    )
    parser.add_argument("--json", action="store_true", help="print flat metrics as JSON")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Evaluate, write the report folder and print a summary table or JSON."""
    import numpy as np

    from nasicon_workflows.classifier.errors import ClassifierError
    from nasicon_workflows.classifier.evaluation import METRICS, evaluate_models, write_report
    from nasicon_workflows.classifier.features import training_data
    from nasicon_workflows.classifier.outcomes import read_dataset_csv
    from nasicon_workflows.cli._checks import check_seed
    from nasicon_workflows.fileio import resolve_output_dir, staged_output_dir

    for flag, value, low in (
        ("--repeats", args.repeats, 1),
        ("--folds", args.folds, 2),
        ("--splits", args.splits, 1),
        ("--importance-repeats", args.importance_repeats, 1),
        ("--jobs", args.jobs, 1),
    ):
        if value < low:
            raise ClassifierError(f"{flag} must be >= {low}, got {value}.")
    check_seed(args.seed)
    if args.models:
        from nasicon_workflows.classifier.models import get_model_spec

        for name in args.models:
            get_model_spec(name)
    out = resolve_output_dir(args.output, create=False)  # checked before computing
    from nasicon_workflows.screen.transport import measured_comparisons, predictions_from_file

    predictions = (predictions_from_file(args.predicted_transport)
                   if args.predicted_transport else [])
    dataset = read_dataset_csv(args.data) if args.data else None
    _, y_all = training_data(dataset, args.convention)
    counts = np.bincount(np.asarray(y_all, dtype=int), minlength=2)
    if args.folds > counts.min():
        raise ClassifierError(
            f"--folds {args.folds} exceeds the smaller class of the data ({counts.min()} of "
            f"{counts.sum()} rows; {counts[1]} synthesizable, {counts[0]} not): stratified "
            f"k-fold needs every class in every fold; give --folds <= {counts.min()}."
        )
    progress = None
    if not args.json:
        from rich.console import Console

        console = Console(stderr=True)
        progress = lambda name: console.print(f"evaluated {name}")  # noqa: E731
    report = evaluate_models(
        args.models,
        dataset,
        args.convention,
        progress=progress,
        n_splits=args.folds,
        n_repeats=args.repeats,
        n_random_splits=args.splits,
        n_importance_repeats=args.importance_repeats,
        seed=args.seed,
        n_jobs=args.jobs,
    )
    with staged_output_dir(out) as stage:  # every file appears together, or none
        write_report(report, stage, y_all, n_jobs=args.jobs)
    folder = out
    # measured (add-outcomes) vs predicted transport: rank correlation with n and CI, or "too few"
    measured = measured_comparisons(predictions)
    transport_note = (
        "measured transport in the user data but no predictions given: pass "
        "--predicted-transport SCREEN/results.json" if measured and not predictions
        else "" if measured else "no measured Ea or conductivity in the user data"
    )
    if args.json:
        print_json(
            {
                "output": str(folder),
                "default_model": report.default_model,
                "protocol": report.protocol,
                "selection_rule": report.selection_rule,
                "selection_optimism": report.selection_optimism,
                "metrics": report.flat_metrics(),
                "measured_transport": measured,
                "measured_transport_note": transport_note,
            }
        )
        return 0
    rows = []
    for name, ev in report.models.items():
        row = {"model": name}
        for m in METRICS:
            row[m] = f"{ev.repeated_cv[m].mean:.3f} ± {ev.repeated_cv[m].std:.3f}"
        row["loo_acc"] = f"{ev.loo['accuracy'].mean:.3f}"
        row["split_acc"] = (
            f"{ev.random_split_accuracy.mean:.3f} ± {ev.random_split_accuracy.std:.3f}"
        )
        row[">=12/13"] = f"{100 * ev.random_split_fraction_at_published:.1f} %"
        for proto, short in (("grouped_dopant", "dopant_out"), ("grouped_entropy", "entropy_out")):
            g = getattr(ev, proto)
            if g:
                row[f"{short}_acc"] = f"{g['accuracy'].mean:.3f} ± {g['accuracy'].std:.3f}"
                row[f"{short}_auc"] = f"{g['roc_auc'].mean:.3f} ± {g['roc_auc'].std:.3f}"
                row[f"{short}_brier"] = f"{g['brier'].mean:.3f} ± {g['brier'].std:.3f}"
        rows.append(row)
    print_table(
        rows,
        [
            "model",
            *METRICS,
            "loo_acc",
            "split_acc",
            ">=12/13",
            "dopant_out_acc",
            "dopant_out_auc",
            "dopant_out_brier",
            "entropy_out_acc",
            "entropy_out_auc",
        ],
        title=f"{args.repeats} x stratified {args.folds}-fold CV (mean ± std over folds)",
    )
    print(f"best of the evaluated models by the selection rule: {report.default_model}")
    if report.selection_optimism:
        o = report.selection_optimism
        print(
            f"selection optimism (bootstrap, dopant-out pooled): ROC-AUC {o['roc_auc']:+.3f}, "
            f"Brier {o['brier']:+.3f}"
        )
    if transport_note:
        print(f"measured vs predicted transport: {transport_note}")
    for comparison in measured:
        print(f"measured vs predicted transport: {comparison['summary']}")
    print(f"report, plots and metrics.json written to {folder}")
    return 0
