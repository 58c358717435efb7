"""Benchmark: the percolation sweep of this tree against the one of another git revision.

For refactors of ``nasicon_workflows/bvse/percolation.py`` that must not change results or speed.
Both modules run in one process on the same grid, interleaved, after one compiling call each; the
script checks that barriers, merges, rank events and visited points are identical and prints the
median and best times and their ratio (this tree / the revision).

Cases: the 0.1 Å landscape of the 84-site NZSP cell of ``bench_bvse.py`` (the sweep stops at 3D
percolation, as in production) and, with ``--full``, the same grid with a wall on the plane
i = 0 above every other energy, so that 3D percolation comes only after every point is visited
(worst case of the neighbour loop; tens of seconds per sweep).

    .venv/bin/python benchmarks/bench_percolation_revisions.py --rev HEAD~1
    .venv/bin/python benchmarks/bench_percolation_revisions.py --rev HEAD~1 --full --repeats 3
"""

from __future__ import annotations

import argparse
import atexit
import importlib.util
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def module_at(rev: str):
    """``nasicon_workflows.bvse.percolation`` as it is at git revision ``rev``."""
    source = subprocess.run(["git", "show", f"{rev}:nasicon_workflows/bvse/percolation.py"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout
    folder = tempfile.mkdtemp()
    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # numba compiles from the file
    path = Path(folder) / "percolation_at_rev.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("percolation_at_rev", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def compare(label: str, grid: np.ndarray, sites: np.ndarray, encut_eV: float, repeats: int,
            modules: dict) -> None:
    """Time both sweeps on ``grid``, print the times and ratios; exit 1 if the results differ."""
    for module in modules.values():
        module.percolation_sweep(grid, sites, encut_eV=encut_eV)  # compile
    times: dict[str, list[float]] = {name: [] for name in modules}
    results = {}
    for _ in range(repeats):
        for name, module in modules.items():
            t0 = time.perf_counter()
            results[name] = module.percolation_sweep(grid, sites, encut_eV=encut_eV)
            times[name].append(time.perf_counter() - t0)
    a, b = results.values()
    same = (a.barriers_eV == b.barriers_eV and np.array_equal(a.merges, b.merges)
            and np.array_equal(a.rank_events, b.rank_events)
            and a.points_processed == b.points_processed)
    (rev, t_rev), (tree, t_tree) = times.items()
    med = statistics.median(t_tree) / statistics.median(t_rev)
    best = min(t_tree) / min(t_rev)
    print(f"{label}: grid {grid.shape}, {b.points_processed} points visited, identical: {same}\n"
          f"  {rev}: median {statistics.median(t_rev):.3f} s, best {min(t_rev):.3f} s\n"
          f"  {tree}: median {statistics.median(t_tree):.3f} s, best {min(t_tree):.3f} s\n"
          f"  ratio tree/{rev}: median {med:.3f}, best {best:.3f} ({repeats} interleaved repeats)",
          flush=True)
    if not same:
        sys.exit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", default="HEAD", help="git revision to compare with (HEAD)")
    parser.add_argument("--resolution", type=float, default=0.1, help="grid spacing, Å (0.1)")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--full", action="store_true", help="also the walled full-sweep case")
    args = parser.parse_args()

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_bvse import benchmark_cell

    import nasicon_workflows.bvse.percolation as tree
    from nasicon_workflows.bvse import compute_landscape

    modules = {args.rev: module_at(args.rev), "tree": tree}
    energies = compute_landscape(benchmark_cell(), resolution=args.resolution).energies_eV
    sites = np.random.default_rng(0).choice(energies.size, 20, replace=False)
    compare("NZSP landscape", energies, sites, 10.0, args.repeats, modules)
    if args.full:
        walled = energies.copy()
        walled[0] = energies.max() + 1.0
        compare("walled grid, full sweep", walled, sites, 1e9, args.repeats, modules)


if __name__ == "__main__":
    main()
