"""Benchmark: hops per second of the lattice KMC, numba-compiled against the same loop in pure python.

The cell: the Ewald-lowest ordering of Na3Zr2Si2PO12 on the 84-site C2/c framework (unrelaxed),
its Na lattice from BVSE (0.2 Å grid here; the grid only sets the energies, not the cost of a hop),
repeated to the default KMC box (every width >= 20 Å: 2x3x3 cells, 288 sites, 216 Na). Both
paths run the identical function (``kmc_blocks`` and ``kmc_blocks.py_func``) with the same seed;
the compiled one is timed after a warm-up call (compilation excluded, reported separately).

    .venv/bin/python benchmarks/bench_kmc.py
    .venv/bin/python benchmarks/bench_kmc.py --hops-per-ion 400 --python-hops-per-ion 5
"""

from __future__ import annotations

import argparse
import os
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hops-per-ion", type=float, default=400)
    parser.add_argument("--python-hops-per-ion", type=float, default=5)
    parser.add_argument("--temperature", type=float, default=600.0)
    args = parser.parse_args()

    from nasicon_workflows.structures import disordered_structure, order_structure
    from nasicon_workflows.transport.kmc import expand_lattice, run_kmc
    from nasicon_workflows.transport.lattice import build_na_lattice

    print(f"load at start: {os.getloadavg()}  cpus: {os.cpu_count()}")
    cell = order_structure(disordered_structure("Na3Zr2Si2PO12"), k=1, max_atoms=84)[0].structure
    for interaction in ("softbv", "none"):
        lattice = build_na_lattice(cell, resolution=0.2, interaction=interaction)
        box = expand_lattice(lattice)
        t0 = time.perf_counter()
        run_kmc(box, args.temperature, n_runs=1, hops_per_ion=2, equil_hops_per_ion=1, n_blocks=2)
        warm = time.perf_counter() - t0
        fast = run_kmc(box, args.temperature, n_runs=1, hops_per_ion=args.hops_per_ion,
                       equil_hops_per_ion=0, n_blocks=4)
        slow = run_kmc(box, args.temperature, n_runs=1, hops_per_ion=args.python_hops_per_ion,
                       equil_hops_per_ion=0, n_blocks=4, compiled=False)
        hf, hs = fast.hops_per_second, slow.hops_per_second
        print(f"{interaction:7s} box {box.n_sites} sites / {box.n_mobile} Na, "
              f"{len(box.hop_dst)} directed hops, {len(box.int_nbr)} interaction pairs")
        print(f"  numba : {fast.runs[0].n_hops:8d} hops in {fast.runs[0].wall_s:7.2f} s = "
              f"{hf:10.0f} hops/s (first call incl. compile/cache load {warm:.1f} s)")
        print(f"  python: {slow.runs[0].n_hops:8d} hops in {slow.runs[0].wall_s:7.2f} s = "
              f"{hs:10.0f} hops/s")
        print(f"  ratio numba/python: {hf / hs:.0f}x")
    print(f"load at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
