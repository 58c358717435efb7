"""Overhead of the jobflow-remote path: ``jobflow.run_locally``, a ``jf`` process per job and the
preloaded executor, same flows, same run.

Runs :func:`nasicon_workflows.remote.check_flow` (two small jobs) ``--repeats`` times through

(a) ``jobflow.run_locally`` with an in-memory store,
(b) an embedded jobflow-remote project (``LiteMongoStore`` queue and job store, local shell
    worker, jobflow-remote's ``Runner`` in process) whose worker starts ``jf -fe execution run``
    for every job (the template's default),
(c) the same project kind with the preloaded executor (``write_project(..., executor=True)``),

and, with ``--screen N``, a ``ScreeningFlowMaker`` screen of N enumerated candidates (no
relaxation, one ordering, BVSE at 0.5 Å: 4 + 7 N jobs) through (b) and (c). Prints wall times,
their ratios, the runner's own CPU time and the load average. Everything happens in a temporary
folder (JFREMOTE_* variables point inside it).

    python benchmarks/bench_remote.py --repeats 3 [--screen 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

FORMULAS = ["Na3Zr2Si2PO12", "Na3.4Zr1.6Sc0.4Si2PO12", "Na3.5Zr1.5Lu0.5Si2PO12"]
ENUMERATION = {"dopant_pool": ["Zr", "Hf", "Sn", "Ti", "Sc", "Mg", "Y"], "n_cations": [2, 3]}
PATHS = {"jf": "a jf process per job", "executor": "preloaded executor"}


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _fmt(values: list[float]) -> str:
    return f"{statistics.mean(values):7.2f} ± {statistics.pstdev(values):5.2f} s"


def _through(project: str, flow) -> tuple[float, float, list]:
    """Submit, run and read back one flow; wall time, runner CPU time and the results."""
    from nasicon_workflows.remote import flow_results, run_jobs, submit_screen

    t0, c0 = time.perf_counter(), _cpu_s()
    submit_screen(flow, project=project)
    run_jobs(project, max_seconds=7200)
    results = flow_results(flow.uuid, project=project)
    return time.perf_counter() - t0, _cpu_s() - c0, results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--screen", type=int, default=0, metavar="N",
                        help="also a screen of N candidates through both remote paths")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench_remote_"))
    os.environ["JFREMOTE_PROJECTS_FOLDER"] = str(tmp / "projects")
    os.environ["JFREMOTE_CONFIG_FILE"] = str(tmp / "none.yaml")

    import jobflow_remote
    from jobflow import JobStore, run_locally
    from jobflow_remote.config.settings import JobflowRemoteSettings
    from maggma.stores import MemoryStore

    from nasicon_workflows.remote import check_flow, write_project
    from nasicon_workflows.screen.flow import ScreeningFlowMaker

    jobflow_remote.SETTINGS = JobflowRemoteSettings()
    for name in PATHS:
        write_project(name, base_dir=tmp / name, executor=name == "executor",
                      max_jobs="null" if name == "executor" else "1")

    print(f"load average before: {os.getloadavg()[0]:.2f}")
    local: list[float] = []
    remote: dict[str, list[float]] = {name: [] for name in PATHS}
    for _ in range(args.repeats):
        flow = check_flow(FORMULAS)
        t0 = time.perf_counter()
        responses = run_locally(flow, store=JobStore(MemoryStore()), log=False)
        local.append(time.perf_counter() - t0)
        expected = responses[flow.jobs[-1].uuid][1].output
        for name in PATHS:
            wall, _, results = _through(name, check_flow(FORMULAS))
            remote[name].append(wall)
            assert results[-1].output == expected, f"{name}: remote and local outputs differ"

    print(f"flow: check_flow({len(FORMULAS)} formulas), 2 jobs, {args.repeats} repeats "
          "(every run_jobs call starts its executor: its imports are in each figure)")
    print(f"jobflow.run_locally (memory store): {_fmt(local)}")
    for name, label in PATHS.items():
        print(f"jobflow-remote, embedded project, {label}: {_fmt(remote[name])}; "
              f"/local {statistics.mean(remote[name]) / statistics.mean(local):.0f}x")
    ratio = statistics.mean(remote["jf"]) / statistics.mean(remote["executor"])
    print(f"ratio jf/executor: {ratio:.1f}x;"
          " outputs identical to run_locally: yes")

    if args.screen:
        screen = {}
        for name, label in PATHS.items():
            maker = ScreeningFlowMaker(enumeration=ENUMERATION, top=args.screen, orderings=1,
                                       relax="none", max_atoms=100, bvse_resolution=0.5,
                                       threshold=0.0)
            load = os.getloadavg()[0]
            wall, cpu, results = _through(name, maker.make())
            states = {r.state for r in results}
            aggregate = next(r for r in results if r.name == "screen aggregate").output
            screen[name] = (wall, [r["composition"] for r in aggregate["ranking"]])
            print(f"screen of {args.screen} candidates, {label}: {len(results)} jobs {states}, "
                  f"{wall:.1f} s wall, runner CPU {cpu:.1f} s (load average at start {load:.2f})")
        assert screen["jf"][1] == screen["executor"][1], "the two paths ranked differently"
        print(f"ratio jf/executor: {screen['jf'][0] / screen['executor'][0]:.1f}x; "
              "same ranking: yes")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
