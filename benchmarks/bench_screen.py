"""Benchmarks of the screen's local runner, each against its alternative in the same run.

1. Job store: maggma's ``JSONStore`` (in-place rewrite) vs ``AtomicJSONStore`` (temporary file +
   fsync + os.replace) for the same sequence of job-output updates.
2. Resume: a fresh screen of two compositions vs the same screen resumed from its cache
   (no relaxation, BVSE at a coarse grid so that the benchmark takes about a minute).

    python benchmarks/bench_screen.py [--updates 200] [--resolution 0.3]
"""

from __future__ import annotations

import argparse
import os
import shutil
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--updates", type=int, default=200)
    parser.add_argument("--resolution", type=float, default=0.3)
    args = parser.parse_args()
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
