"""Benchmark: force-field phonon displacements of the ordered ME1-NZSP cell, one job per
displaced cell (atomate2's default) versus all displacements in one job (``socket=True``, what
``get_phonon_maker`` uses), and 1 versus 2 torch threads. Same cell, same run, same CHGNet.

Only the first ``--n`` displaced cells are evaluated per variant (the full P1 set is 492), and
the script reports seconds per displaced cell and the ratios; both variants must give the same
forces (checked, max |ΔF| printed).

    .venv/bin/python benchmarks/bench_phonon_displacements.py [--n 24]
"""

from __future__ import annotations

import argparse
import time

import numpy as np


def displaced_cells(n: int):
    from phonopy import Phonopy
    from phonopy.structure.atoms import PhonopyAtoms
    from pymatgen.core import Structure

    from nasicon_workflows.structures import load_reference_structure, order_structure

    cell = order_structure(load_reference_structure("ME1-NZSP"), k=1, method="ewald")[0].structure
    cell.remove_oxidation_states()
    unit = PhonopyAtoms(symbols=[s.specie.symbol for s in cell], cell=cell.lattice.matrix,
                        scaled_positions=cell.frac_coords)
    phonon = Phonopy(unit, supercell_matrix=np.eye(3, dtype=int), primitive_matrix=np.eye(3))
    phonon.generate_displacements(distance=0.01)
    cells = phonon.supercells_with_displacements
    out = [Structure(c.cell, c.symbols, c.scaled_positions) for c in cells[:n]]
    return out, len(cells)


def run(variant: str, cells, threads: int) -> tuple[float, np.ndarray]:
    import torch
    from atomate2.forcefields.jobs import ForceFieldStaticMaker
    from jobflow import Flow

    from nasicon_workflows.relax import run_job_locally

    torch.set_num_threads(threads)
    maker = ForceFieldStaticMaker(force_field_name="CHGNet")
    start = time.perf_counter()
    if variant == "one job":
        docs = run_job_locally(maker.make(cells))
    else:
        jobs = [maker.make(c) for c in cells]
        flow = Flow(jobs, output=[j.output for j in jobs])
        docs = run_job_locally(flow)
    elapsed = time.perf_counter() - start
    forces = np.array([np.asarray(d.output.forces) for d in docs])
    return elapsed, forces


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=24, help="displaced cells per variant")
    args = parser.parse_args()
    cells, n_total = displaced_cells(args.n)
    print(f"ME1-NZSP ordered cell, {len(cells[0])} atoms, {n_total} displacements (P1); "
          f"timing {len(cells)} per variant")
    results = {}
    for variant, threads in (("one job", 1), ("one job per cell", 1), ("one job", 2)):
        elapsed, forces = run(variant, cells, threads)
        results[(variant, threads)] = (elapsed, forces)
        print(f"{variant:18s} torch threads {threads}: {elapsed:8.1f} s "
              f"({elapsed / len(cells):.3f} s per displaced cell)")
    base_t, base_f = results[("one job", 1)]
    for key, (elapsed, forces) in results.items():
        print(f"{key[0]:18s} x{key[1]}: ratio to one job x1 = {elapsed / base_t:5.2f}, "
              f"max |dF| = {np.abs(forces - base_f).max():.2e} eV/Å")
    print(f"extrapolated full set, one job x1: {base_t / len(cells) * n_total / 60:.1f} min")


if __name__ == "__main__":
    main()
