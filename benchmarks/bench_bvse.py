"""Benchmark: nasicon-workflows BVSE engine vs bvlain on the 84-atom C2/c NASICON cell.

Each engine runs in its own fresh process (so peak RSS is its own); the script prints wall time,
peak resident memory above the post-import baseline, the three percolation barriers of each, and
the ratios. Both engines use the same physics for the comparison (softBV parameters, f = 0.74,
ASE covalent radii, bvlain's grid); the engine is also timed with the paper's settings
(f = 0.75, softBV radii, periodic grid).

The cell: the Ewald-lowest ordering of the shipped NZSP reference (80 atoms, 68 framework ions)
with the 4 vacant Na sites filled, i.e. the 84-site C2/c cell with every Na site occupied. Na is
removed from the framework by both engines, so the landscape is that of the ordered NZSP framework.

    .venv/bin/python benchmarks/bench_bvse.py                  # 0.1 Å, bvlain needs ~10+ GB
    .venv/bin/python benchmarks/bench_bvse.py --resolution 0.2 # quick
    .venv/bin/python benchmarks/bench_bvse.py --skip-bvlain
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import resource
import time


def benchmark_cell():
    """The 84-site C2/c cell (every Na site occupied) on the ordered NZSP framework."""
    from pymatgen.core import Species

    from nasicon_workflows.structures import load_reference_structure, order_structure

    parent = load_reference_structure("NZSP")
    cell = order_structure(parent, k=1, method="ewald")[0].structure.copy()
    na = cell.frac_coords[[i for i, s in enumerate(cell) if s.specie.symbol == "Na"]]
    for site in parent:
        if "Na" not in {sp.symbol for sp in site.species}:
            continue
        d = cell.lattice.get_all_distances(site.frac_coords, na)
        if d.min() > 0.1:
            cell.append(Species("Na", 1), site.frac_coords)
            cell[-1].label = site.label
    return cell


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _run_engine(structure, resolution, settings, queue):
    from nasicon_workflows.bvse import compute_bvse

    compute_bvse(structure, resolution=1.0, **settings)  # load the compiled kernels
    base = _rss_mb()
    c0, t0 = _cpu_s(), time.perf_counter()
    doc = compute_bvse(structure, resolution=resolution, **settings)
    wall = time.perf_counter() - t0
    queue.put({"wall_s": wall, "cpu_s": _cpu_s() - c0, "peak_mb": _rss_mb() - base, "grid": doc.grid_shape,
               "barriers": (doc.E_1D, doc.E_2D, doc.E_3D), "timings": doc.timings})


def _run_bvlain(structure, resolution, queue):
    from bvlain import Lain

    lain = Lain(verbose=False)
    lain.read_structure(structure, oxi_check=False)
    base = _rss_mb()
    c0, t0 = _cpu_s(), time.perf_counter()
    grid = lain.bvse_distribution(mobile_ion="Na1+", resolution=resolution, f=0.74)
    t1 = time.perf_counter()
    barriers = lain.percolation_barriers(encut=10.0)
    wall = time.perf_counter() - t0
    queue.put({"wall_s": wall, "cpu_s": _cpu_s() - c0, "grid_s": t1 - t0,
               "peak_mb": _rss_mb() - base, "grid": grid.shape,
               "barriers": tuple(float(barriers[k]) for k in ("E_1D", "E_2D", "E_3D"))})


def _in_process(target, *args):
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=target, args=(*args, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resolution", type=float, default=0.1)
    parser.add_argument("--skip-bvlain", action="store_true")
    args = parser.parse_args()
    cell = benchmark_cell()
    print(f"cell: {cell.composition.formula} ({len(cell)} atoms), resolution {args.resolution} Å")
    same = {"screening": 0.74, "covalent_radii": "ase", "grid_convention": "bvlain"}
    paper = {"screening": 0.75, "covalent_radii": "softbv", "grid_convention": "periodic"}
    rows = {
        "engine (bvlain physics)": _in_process(_run_engine, cell, args.resolution, same),
        "engine (paper: f=0.75, softBV radii)": _in_process(_run_engine, cell, args.resolution, paper),
    }
    if not args.skip_bvlain:
        rows["bvlain 0.25.1 (f=0.74)"] = _in_process(_run_bvlain, cell, args.resolution)
    import os

    print(f"load average before the report: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'run':40s} {'grid':>16s} {'wall s':>8s} {'cpu s':>8s} {'peak MB':>8s}"
          "   E_1D    E_2D    E_3D (eV)")
    for name, r in rows.items():
        b = " ".join(f"{x:6.3f}" if x is not None else "   inf" for x in r["barriers"])
        print(f"{name:40s} {'x'.join(map(str, r['grid'])):>16s} {r['wall_s']:8.2f} "
              f"{r['cpu_s']:8.2f} {r['peak_mb']:8.0f}   {b}")
    eng = rows["engine (bvlain physics)"]
    print("engine stage timings (s):", {k: round(v, 3) for k, v in eng["timings"].items()})
    if "bvlain 0.25.1 (f=0.74)" in rows:
        ref = rows["bvlain 0.25.1 (f=0.74)"]
        print(f"speed-up (bvlain wall / engine wall): {ref['wall_s'] / eng['wall_s']:.1f}x; "
              f"CPU time ratio: {ref['cpu_s'] / eng['cpu_s']:.1f}x")
        print(f"memory ratio (bvlain peak / engine peak): {ref['peak_mb'] / max(eng['peak_mb'], 1):.1f}x")
        diffs = [abs(a - b) for a, b in zip(eng["barriers"], ref["barriers"])]
        print("barrier differences engine - bvlain (eV):",
              " ".join(f"{a - b:+.4f}" for a, b in zip(eng["barriers"], ref["barriers"])),
              f"(max |d| = {max(diffs):.4f})")


if __name__ == "__main__":
    main()
