"""Overhead of the jobflow-remote path against ``jobflow.run_locally``, same flow, same run.

Runs :func:`nasicon_workflows.remote.check_flow` (two small jobs) ``--repeats`` times through
(a) ``jobflow.run_locally`` with an in-memory store and (b) an embedded jobflow-remote project
(``LiteMongoStore`` queue and job store, local shell worker, jobflow-remote's ``Runner`` in
process), in a temporary folder, and prints wall times per flow and their ratio. Nothing outside
the temporary folder is touched (JFREMOTE_* variables point inside it).

    python benchmarks/bench_remote.py --repeats 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

FORMULAS = ["Na3Zr2Si2PO12", "Na3.4Zr1.6Sc0.4Si2PO12", "Na3.5Zr1.5Lu0.5Si2PO12"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bench_remote_"))
    os.environ["JFREMOTE_PROJECTS_FOLDER"] = str(tmp / "projects")
    os.environ["JFREMOTE_CONFIG_FILE"] = str(tmp / "none.yaml")
    os.environ["JFREMOTE_PROJECT"] = "bench"

    import jobflow_remote
    from jobflow import JobStore, run_locally
    from jobflow_remote.config.settings import JobflowRemoteSettings
    from maggma.stores import MemoryStore

    from nasicon_workflows.remote import (
        check_flow, flow_results, run_jobs, submit_screen, write_project,
    )

    jobflow_remote.SETTINGS = JobflowRemoteSettings()
    write_project("bench", base_dir=tmp / "bench")

    local, remote = [], []
    for _ in range(args.repeats):
        flow = check_flow(FORMULAS)
        t0 = time.perf_counter()
        responses = run_locally(flow, store=JobStore(MemoryStore()), log=False)
        local.append(time.perf_counter() - t0)
        expected = responses[flow.jobs[-1].uuid][1].output

        flow = check_flow(FORMULAS)
        t0 = time.perf_counter()
        submit_screen(flow, project="bench")
        run_jobs("bench", max_seconds=600)
        results = flow_results(flow.uuid, project="bench")
        remote.append(time.perf_counter() - t0)
        assert results[-1].output == expected, "remote and local outputs differ"

    def fmt(values):
        return f"{statistics.mean(values):7.2f} ± {statistics.pstdev(values):5.2f} s"

    print(f"flow: check_flow({len(FORMULAS)} formulas), 2 jobs, {args.repeats} repeats")
    print(f"jobflow.run_locally (memory store):           {fmt(local)}")
    print(f"jobflow-remote, embedded project, shell worker: {fmt(remote)}")
    print(f"ratio remote/local: {statistics.mean(remote) / statistics.mean(local):.0f}x; "
          f"overhead per job: {(statistics.mean(remote) - statistics.mean(local)) / 2:.1f} s")
    print("outputs identical: yes")
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
