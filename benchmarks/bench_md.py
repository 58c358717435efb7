"""Benchmark: CHGNet NVT molecular-dynamics steps per second on the NZSP cells, CPU.

What runs is exactly what :class:`~nasicon_workflows.transport.md.MDTransportMaker` runs per
temperature: atomate2's ``ForceFieldMDMaker`` (CHGNet, Langevin NVT, 2 fs) through jobflow. The
rate is ``n_steps / elapsed_time`` of atomate2's own timer, which covers the MD loop only (model
loading and graph set-up of the first call are excluded by a short warm-up run in the same
process). Each (cell, threads) pair runs in its own fresh process.

Cells: the Ewald-lowest ordering of the shipped NZSP reference in its 84-site C2/c cell (80 atoms:
12 Na on the 16 Na sites) and of the 1 x 1 x 2 supercell of that cell (168 sites, 160 atoms).

The machine is shared: the script prints ``os.getloadavg()`` before and after every run, and the
numbers are only as good as that load. The per-candidate cost is extrapolated from the measured
rate for the default protocol of ``MDTransportMaker`` (4 temperatures x (equilibration +
production) steps).

    .venv/bin/python benchmarks/bench_md.py                 # 84 and 168 sites, 1 and 2 threads
    .venv/bin/python benchmarks/bench_md.py --steps 10 --sites 84 --threads 1
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import time


def benchmark_cell(n_sites: int):
    """Ordered NZSP cell with ``n_sites`` C2/c sites (84 or 168)."""
    from nasicon_workflows.structures import load_reference_structure, order_structure

    parent = load_reference_structure("NZSP")
    if n_sites == 168:
        parent = parent.copy()
        parent.make_supercell([1, 1, 2])
    elif n_sites != 84:
        raise SystemExit(f"--sites must be 84 or 168, got {n_sites}")
    configs = order_structure(parent, k=1, method="ewald", max_atoms=n_sites, n_restarts=8)
    return configs[0].structure


def _run(n_sites: int, threads: int, steps: int, queue) -> None:
    import torch

    torch.set_num_threads(threads)
    from atomate2.forcefields.md import ForceFieldMDMaker

    from nasicon_workflows.relax.forcefield import run_job_locally

    structure = benchmark_cell(n_sites)
    warm = ForceFieldMDMaker(force_field_name="CHGNet", n_steps=2, temperature=1000.0,
                             time_step=2.0, mb_velocity_seed=0)
    run_job_locally(warm.make(structure))
    load_before = os.getloadavg()
    maker = ForceFieldMDMaker(force_field_name="CHGNet", n_steps=steps, temperature=1000.0,
                              time_step=2.0, traj_interval=10, mb_velocity_seed=1)
    wall, cpu = time.perf_counter(), time.process_time()
    doc = run_job_locally(maker.make(structure))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    queue.put({
        "sites": n_sites, "atoms": len(structure), "threads": threads, "steps": steps,
        "md_loop_s": round(doc.output.elapsed_time, 2), "job_wall_s": round(wall, 2),
        "steps_per_s": round(steps / doc.output.elapsed_time, 3),
        # CPU seconds of this process per step: what an otherwise idle core would need (the
        # wall-clock rate above includes waiting for cores shared with other processes).
        "cpu_s_per_step": round(cpu / steps, 3),
        "load_before": [round(x, 2) for x in load_before],
        "load_after": [round(x, 2) for x in os.getloadavg()],
    })


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, nargs="+", default=[84, 168])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--steps", type=int, default=20, help="timed MD steps per run")
    parser.add_argument("--temperatures", type=int, default=4,
                        help="temperatures per candidate for the cost estimate")
    parser.add_argument("--steps-per-temperature", type=int, default=2500 + 25000,
                        help="equilibration + production steps per temperature (default 5 + 50 ps)")
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    rows = []
    for n_sites in args.sites:
        for threads in args.threads:
            queue = ctx.Queue()
            proc = ctx.Process(target=_run, args=(n_sites, threads, args.steps, queue))
            proc.start()
            row = queue.get()
            proc.join()
            steps_total = args.temperatures * args.steps_per_temperature
            row["cpu_hours_per_candidate"] = round(steps_total / row["steps_per_s"] / 3600, 1)
            rows.append(row)
            print(json.dumps(row), flush=True)
    print(f"\ncost per candidate = {args.temperatures} temperatures x "
          f"{args.steps_per_temperature} steps / rate")
    for row in rows:
        print(f"{row['atoms']:4d} atoms, {row['threads']} thread(s): {row['steps_per_s']:.3f} "
              f"steps/s -> {row['cpu_hours_per_candidate']} h per candidate "
              f"(load {row['load_before'][0]:.2f} -> {row['load_after'][0]:.2f})")


if __name__ == "__main__":
    main()
