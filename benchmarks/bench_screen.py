"""Benchmarks of the screen's local runner, each against its alternative in the same run.

1. Job store: maggma's ``JSONStore`` (in-place rewrite) vs ``AtomicJSONStore`` (temporary file +
   fsync + os.replace) for the same sequence of job-output updates.
2. Resume: a fresh screen of two compositions vs the same screen resumed from its cache
   (no relaxation, BVSE at a coarse grid so that the benchmark takes about a minute).
3. ``--default``: the default screen, ``python -m nasicon_workflows.screen --out OUT`` with no
   other option, run once in a subprocess: wall time, CPU time of the process tree, load average
   before and after, time per stage (from the completion times of the jobs in the job store; the
   local runner runs the jobs one after another, so the time between consecutive completions is
   the time of the later job), and per relaxation: converged, optimizer steps.

    python benchmarks/bench_screen.py [--updates 200] [--resolution 0.3]
    python benchmarks/bench_screen.py --default [--out /tmp/screen_default] [-- extra options]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def bench_store(n_updates: int, folder: Path) -> None:
    from maggma.stores import JSONStore

    from nasicon_workflows.screen.runner import AtomicJSONStore

    doc = {"output": {"values": list(range(200)), "text": "x" * 2000}}
    times = {}
    for name, cls in (("JSONStore", JSONStore), ("AtomicJSONStore", AtomicJSONStore)):
        path = folder / f"{name}.json"
        store = cls(str(path), read_only=False)
        store.connect()
        start = time.perf_counter()
        for i in range(n_updates):
            store.update({"task_id": i, **doc}, key="task_id")
        times[name] = time.perf_counter() - start
        print(f"{name:16s} {n_updates} updates: {times[name]:.2f} s "
              f"({1000 * times[name] / n_updates:.1f} ms each, file {path.stat().st_size / 1e6:.1f} MB)")
    print(f"atomic / in-place time ratio: {times['AtomicJSONStore'] / times['JSONStore']:.2f}")


def bench_resume(resolution: float, folder: Path) -> None:
    from nasicon_workflows.screen import ScreeningFlowMaker, run_screen

    compositions = ["Na3.4Zr1.6Sc0.4Si2PO12", "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12"]
    maker = ScreeningFlowMaker(threshold=0.0, orderings=2, relax="none", bvse_resolution=resolution)
    out = folder / "screen"
    start = time.perf_counter()
    run_screen(maker, out, compositions)
    fresh = time.perf_counter() - start
    start = time.perf_counter()
    run = run_screen(maker, out, compositions, resume=True)
    resumed = time.perf_counter() - start
    assert all(c.from_cache for c in run.result.candidates)
    print(f"fresh screen (2 candidates x 2 orderings, BVSE {resolution} Å): {fresh:.1f} s")
    print(f"resumed screen (everything from the cache):                 {resumed:.1f} s")
    print(f"fresh / resumed time ratio: {fresh / resumed:.1f}")


def _stage(name: str) -> str:
    """Stage of a job from its name (the screen's job names, tags in brackets dropped)."""
    base = name.split(" [")[0]
    if base.startswith("screen classify"):
        return "imports + enumerate + classify"
    if base.startswith(("screen structures", "screen cached stage", "screen store result")):
        return "orderings (structures)"
    if base.startswith(("relax", "screen optimise", "screen record optimised", "force field")):
        return "relaxation"
    if "bvse" in base:
        return "BVSE"
    if base.startswith(("screen aggregate", "screen candidate summary", "screen gate")):
        return "gate, summary, aggregate"
    return "other: " + base


def stage_times(out: Path, started=None) -> dict[str, float]:
    """Seconds per stage from the completion times of the jobs in the screen's job store
    (``started``: the datetime the command started, which times imports and the first job)."""
    from datetime import datetime

    docs = json.loads((out / "jobstore" / "docs.json").read_text())
    done = sorted((datetime.fromisoformat(d["completed_at"]), d["name"]) for d in docs
                  if d.get("completed_at"))
    if started is not None:
        done.insert(0, (started, "start"))
    times: dict[str, float] = {}
    for (t0, _), (t1, name) in zip(done, done[1:]):
        key = _stage(name)
        times[key] = times.get(key, 0.0) + (t1 - t0).total_seconds()
    return times


def bench_default(out: Path, extra: list[str]) -> None:
    """Run the default screen once and report wall, CPU, stages and convergence."""
    if out.exists():
        shutil.rmtree(out)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "nasicon_workflows.screen", "--out", str(out), *extra]
    print("command:", " ".join(cmd[1:]))
    from datetime import datetime

    started = datetime.now()
    load0 = os.getloadavg()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    load1 = os.getloadavg()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    print(f"exit code {proc.returncode}; wall {wall / 60:.2f} min; CPU {cpu / 60:.2f} min "
          f"(user + system of the process tree); CPU/wall {cpu / wall:.2f}")
    print(f"load average (1, 5, 15 min) before {tuple(round(x, 1) for x in load0)}, after "
          f"{tuple(round(x, 1) for x in load1)}, {os.cpu_count()} cores")
    if proc.returncode not in (0, 1):
        print(proc.stderr[-3000:])
        return
    for name, sec in sorted(stage_times(out, started).items(), key=lambda kv: -kv[1]):
        print(f"  stage {name:28s} {sec / 60:6.2f} min wall")
    result = json.loads((out / "results.json").read_text())
    relax = result["settings"].get("relax_settings") or {}
    print(f"relaxation settings: {json.dumps(relax)}")
    n = n_conv = 0
    for cand in result["candidates"]:
        for c in cand["configurations"]:
            n += 1
            n_conv += bool(c.get("relax_converged"))
            print(f"  {cand['composition']:42s} #{c['index']} {c['n_atoms']} atoms, "
                  f"converged {c.get('relax_converged')}, {c.get('relax_steps')} steps, "
                  f"cell {c.get('realised_formula')}, composition error "
                  f"{c.get('composition_error')}")
    print(f"relaxations converged: {n_conv} of {n}")
    print("ranking:")
    for row in result["ranking"]:
        print(f"  {row['rank']} {row['composition']} score {row['score']:.3f} E_3D "
              f"{row.get('barrier_3D_mean_eV')} ± {row.get('barrier_3D_std_eV')} eV, "
              f"relax_converged {row.get('relax_converged')}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--resolution", type=float, default=0.3)
    parser.add_argument("--default", action="store_true",
                        help="run the default screen once instead (about 10 min of CPU)")
    parser.add_argument("--out", default="/tmp/screen_default",
                        help="output folder of --default (deleted first)")
    args, extra = parser.parse_known_args()
    extra = [x for x in extra if x != "--"]
    if args.default:
        bench_default(Path(args.out), extra)
        return
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    folder = Path(tempfile.mkdtemp(prefix="bench_screen_"))
    try:
        bench_store(args.updates, folder)
        bench_resume(args.resolution, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
