"""Benchmark: wall time of ``nasicon-workflows evaluate`` with its defaults.

Defaults = every registered model, 20 x stratified 10-fold CV, leave-one-out, 200 random 45/13
splits, 5-repeat drop-column importance, leave-one-dopant-element-out and
leave-one-entropy-class-out, 2 worker processes. The script prints the wall time, the time at
which each model finished, and the load average before and after (the machine is shared: a
number without its load means little). Target: <= 3 minutes on 2 cores.

    .venv/bin/python benchmarks/bench_evaluate.py                 # the defaults
    .venv/bin/python benchmarks/bench_evaluate.py --jobs 1        # serial, for the speed-up
    .venv/bin/python benchmarks/bench_evaluate.py --models gnb gaussian_process_physics
"""

from __future__ import annotations

import argparse
import json
import os
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=None)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    from nasicon_workflows.classifier.evaluation import evaluate_models
    from nasicon_workflows.classifier.features import training_data

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
        "cpu_s_total_models": round(sum(e.cpu_seconds or 0 for e in report.models.values()), 1),
        "default_model": report.default_model,
        "target_s": 180,
    }
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(
            f"evaluate, {result['n_models']} models, {args.jobs} jobs: {wall:.1f} s wall "
            f"(features {t_features:.1f} s); load average before {load_before[0]:.1f}, after "
            f"{load_after[0]:.1f} on {os.cpu_count()} cores; default model {report.default_model}"
        )
        for name, t in finished.items():
            cpu = result["cpu_s_per_model"][name]
            print(f"  {name:32s} finished at {t:7.1f} s, {cpu:7.1f} CPU-s")
        print(
            f"CPU time of all models: {result['cpu_s_total_models']:.1f} s "
            f"(lower bound of the wall time on 2 idle cores: {result['cpu_s_total_models'] / 2:.0f} s)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
