"""VASP relaxation of ordered NASICON configurations with the paper's settings (atomate2).

Builds the ordered configurations of one composition, wraps each in the NASICON double
relaxation (PBE, 550 eV, EDIFF 1e-5, forces < 0.03 eV/Å, full cell) and either writes the exact
VASP inputs for inspection or submits the flow to a jobflow-remote worker that has VASP.

    python flows/relax_vasp.py Na3.5Zr1.5Sc0.5Si2PO12 --write-inputs vasp_inputs   # no VASP needed
    python flows/relax_vasp.py Na3.5Zr1.5Sc0.5Si2PO12 --project nasicon --worker hpc
"""

from __future__ import annotations

import argparse
from pathlib import Path

from jobflow import Flow

from nasicon_workflows.relax import get_relax_maker
from nasicon_workflows.structures import disordered_structure, order_structure


def configurations(formula: str, k: int, max_atoms: int, seed: int):
    """Ewald-ranked ordered cells of ``formula``, sorted by species.

    Sorting groups each element into one POSCAR block, so POTCAR holds each potential once.
    """
    ordered = order_structure(disordered_structure(formula), k=k, max_atoms=max_atoms, seed=seed)
    return [c.structure.get_sorted_structure() for c in ordered]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("formula")
    parser.add_argument("--orderings", type=int, default=2)
    parser.add_argument("--max-atoms", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write-inputs", metavar="DIR",
                        help="write INCAR/KPOINTS/POSCAR/POTCAR.spec per configuration and stop")
    parser.add_argument("--project")
    parser.add_argument("--worker", default="hpc")
    parser.add_argument("--exec-config", default="vasp")
    args = parser.parse_args()

    structures = configurations(args.formula, args.orderings, args.max_atoms, args.seed)
    if args.write_inputs:
        from nasicon_workflows.relax.vasp import write_vasp_inputs

        for i, structure in enumerate(structures):
            files = write_vasp_inputs(structure, Path(args.write_inputs) / f"config_{i}")
            print(f"config {i}: {len(structure)} atoms -> {sorted(files)}")
        return

    # check=False: VASP is configured on the cluster, not necessarily where the flow is built.
    maker = get_relax_maker("vasp", check=False)
    flow = Flow([maker.make(s) for s in structures], name=f"relax {args.formula}")

    from nasicon_workflows.remote import submit_screen

    db_ids = submit_screen(flow, project=args.project, worker=args.worker,
                           exec_config=args.exec_config)
    print(f"submitted {len(db_ids)} jobs of flow {flow.uuid}")


if __name__ == "__main__":
    main()
