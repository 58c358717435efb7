"""Benchmark: wall time of ``nasicon-workflows evaluate`` with its defaults.

Defaults = every registered model, 20 x stratified 10-fold CV, leave-one-out, 200 random 45/13
splits, 5-repeat drop-column importance, leave-one-dopant-element-out and
leave-one-entropy-class-out, 2 worker processes. The script prints the wall time, the time at
which each model finished, each model's CPU seconds and the load average before and after (the
machine is shared: a number without its load means little). Target: <= 3 minutes on 2 cores.

In the same run it compares each model's fits against the alternative, plain scikit-learn
(``pipeline.fit`` + ``predict_proba`` with scikit-learn's checks, the previous implementation):
a sample of the protocol's fits (every ``--compare-every``-th) is fitted both ways, and the script
prints CPU milliseconds per fit, their ratio and whether the probabilities are identical.

    .venv/bin/python benchmarks/bench_evaluate.py                 # the defaults
    .venv/bin/python benchmarks/bench_evaluate.py --jobs 1        # serial, for the speed-up
    .venv/bin/python benchmarks/bench_evaluate.py --models gnb gaussian_process_physics
    .venv/bin/python benchmarks/bench_evaluate.py --cli           # also the command, end to end

``--cli`` first runs the command itself, ``nasicon-workflows evaluate --output <tmp>`` with no
other option (start-up, features, every fit, plots, report.md and metrics.json), in a child
process, and prints its wall and CPU time (user + system of the process tree): that is the
number the 3-minute target is about.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import warnings


def compare_fits(names, every: int) -> dict:
    """CPU ms per fit, new path vs plain scikit-learn, on every ``every``-th fit of the plan."""
    import numpy as np
    from sklearn.exceptions import ConvergenceWarning

    from nasicon_workflows.classifier.evaluation import (
        _fit_calibration_folds,
        _fit_proba,
        _model_matrix,
        _plan_fits,
        _Protocol,
    )
    from nasicon_workflows.classifier.features import training_data
    from nasicon_workflows.classifier.models import build_model

    frame, y = training_data()
    out = {}
    for name in names:
        X = _model_matrix(name, frame)
        sample = _plan_fits(frame, y, X.shape[1], _Protocol())[::every]
        cpu = {"new": 0.0, "sklearn": 0.0}
        warm = sample[0]  # first calls import and cache: not timed
        _fit_proba(name, X[warm.train], y[warm.train], X[warm.test], 0)
        build_model(name, 0).fit(X[warm.train], y[warm.train])
        identical = True
        for f in sample:
            Xf = X if f.drop is None else np.delete(X, f.drop, axis=1)
            args = (Xf[f.train], y[f.train], Xf[f.test])
            c0 = time.process_time()
            new = _fit_proba(name, *args, 0)
            c1 = time.process_time()
            model = build_model(name, 0)
            _fit_calibration_folds(model, args[1])  # as the evaluation does
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                old = model.fit(args[0], args[1]).predict_proba(args[2])[:, 1]
            c2 = time.process_time()
            cpu["new"] += c1 - c0
            cpu["sklearn"] += c2 - c1
            identical &= bool(np.array_equal(new, old))
        out[name] = {
            "fits": len(sample),
            "new_ms_per_fit": round(1000 * cpu["new"] / len(sample), 2),
            "sklearn_ms_per_fit": round(1000 * cpu["sklearn"] / len(sample), 2),
            "ratio": round(cpu["sklearn"] / cpu["new"], 2),
            "identical": identical,
        }
    return out


def time_cli() -> dict:
    """Wall and CPU time of ``nasicon-workflows evaluate --output <tmp>`` in a child process."""
    import resource
    import shutil
    import subprocess
    import sys
    import tempfile

    exe = shutil.which("nasicon-workflows") or str(
        os.path.join(os.path.dirname(sys.executable), "nasicon-workflows"))
    with tempfile.TemporaryDirectory() as tmp:
        command = [exe, "evaluate", "--output", os.path.join(tmp, "evaluation")]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        load_before = os.getloadavg()
        t0 = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        files = sorted(os.listdir(command[-1])) if os.path.isdir(command[-1]) else []
    return {
        "command": "nasicon-workflows evaluate --output <tmp>",
        "exit_code": done.returncode,
        "wall_s": round(wall, 1),
        "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1),
        "files_written": len(files),
        "load_before_1_5_15min": [round(x, 2) for x in load_before],
        "load_after_1_5_15min": [round(x, 2) for x in os.getloadavg()],
        "stderr_tail": done.stderr[-500:] if done.returncode else "",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=None)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--compare-every", type=int, default=25, metavar="K",
                        help="compare every K-th fit of each model with plain scikit-learn "
                        "(default 25; 0 = no comparison)")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--metrics-json", metavar="PATH",
                        help="also write the report's flat metrics (to compare runs number "
                        "by number)")
    parser.add_argument("--cli", action="store_true",
                        help="first time the command end to end in a child process")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    cli = time_cli() if args.cli else None

    from nasicon_workflows.classifier.evaluation import evaluate_models
    from nasicon_workflows.classifier.features import training_data
    from nasicon_workflows.classifier.models import MODEL_SPECS

    load_before = os.getloadavg()
    t0 = time.perf_counter()
    training_data()  # features (incl. the stability model) once, as the CLI does
    t_features = time.perf_counter() - t0
    finished = {}
    report = evaluate_models(
        args.models,
        n_jobs=args.jobs,
        progress=lambda name: finished.__setitem__(name, round(time.perf_counter() - t0, 1)),
    )
    wall = time.perf_counter() - t0
    load_after = os.getloadavg()
    if args.metrics_json:
        with open(args.metrics_json, "w") as fh:
            metrics = {"default_model": report.default_model, **report.flat_metrics()}
            json.dump(metrics, fh, indent=1)
    cpu_total = sum(e.cpu_seconds or 0 for e in report.models.values())
    result = {
        "wall_s": round(wall, 1),
        "features_s": round(t_features, 1),
        "n_models": len(report.models),
        "jobs": args.jobs,
        "cpu_count": os.cpu_count(),
        "load_before_1_5_15min": [round(x, 2) for x in load_before],
        "load_after_1_5_15min": [round(x, 2) for x in load_after],
        "finished_at_s": finished,
        "cpu_s_per_model": {n: round(e.cpu_seconds or 0, 1) for n, e in report.models.items()},
        "cpu_s_total_models": round(cpu_total, 1),
        "idle_core_lower_bound_s": round(cpu_total / args.jobs, 1),
        "default_model": report.default_model,
        "target_s": 180,
    }
    if cli:
        result["cli"] = cli
    if args.compare_every > 0:
        c0 = time.perf_counter()
        result["fit_comparison"] = compare_fits(
            args.models or list(MODEL_SPECS), args.compare_every
        )
        result["comparison_wall_s"] = round(time.perf_counter() - c0, 1)
        result["load_after_comparison_1_5_15min"] = [round(x, 2) for x in os.getloadavg()]
    if args.json:
        print(json.dumps(result, indent=1))
        return 0
    if cli:
        print(
            f"command `{cli['command']}`: {cli['wall_s']:.1f} s wall, {cli['cpu_s']:.1f} CPU-s "
            f"(process tree), exit {cli['exit_code']}; load average before "
            f"{'/'.join(f'{x:.1f}' for x in cli['load_before_1_5_15min'])}, after "
            f"{'/'.join(f'{x:.1f}' for x in cli['load_after_1_5_15min'])}; target "
            f"{result['target_s']} s: {'met' if cli['wall_s'] <= result['target_s'] else 'NOT met'}"
        )
    print(
        f"evaluate, {result['n_models']} models, {args.jobs} jobs: {wall:.1f} s wall "
        f"(features {t_features:.1f} s); load average (1/5/15 min) before "
        f"{'/'.join(f'{x:.1f}' for x in load_before)}, after "
        f"{'/'.join(f'{x:.1f}' for x in load_after)} on {os.cpu_count()} cores; "
        f"default model {report.default_model}"
    )
    for name, t in finished.items():
        cpu = result["cpu_s_per_model"][name]
        print(f"  {name:32s} finished at {t:7.1f} s, {cpu:7.1f} CPU-s")
    print(
        f"CPU time of all models: {cpu_total:.1f} s (lower bound of the wall time on "
        f"{args.jobs} idle cores: {cpu_total / args.jobs:.0f} s; target {result['target_s']} s)"
    )
    if "fit_comparison" in result:
        print(
            f"fits against plain scikit-learn (every {args.compare_every}th fit of the plan, "
            f"CPU ms per fit, same process, {result['comparison_wall_s']} s wall):"
        )
        for name, c in result["fit_comparison"].items():
            print(
                f"  {name:32s} {c['fits']:4d} fits  new {c['new_ms_per_fit']:7.2f}  sklearn "
                f"{c['sklearn_ms_per_fit']:7.2f}  ratio {c['ratio']:5.2f}  identical "
                f"{'yes' if c['identical'] else 'NO'}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
