"""BVSE barriers of NASICON structures: mean and spread over ordered configurations.

Takes CIF files or compositions; a disordered input is ordered first (Ewald-ranked), then every
configuration's Na landscape is analysed by BVSEEnsembleMaker. Runs locally with jobflow, or
submits to a jobflow-remote worker with --project.

    python flows/bvse_only.py Na3.5Zr1.5Sc0.5Si2PO12 --resolution 0.2 --out bvse_output
    python flows/bvse_only.py my_structure.cif --orderings 3 --project nasicon --worker local
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pymatgen.core import Structure

from nasicon_workflows.bvse import BVSEEnsembleMaker
from nasicon_workflows.structures import disordered_structure, order_structure


def ordered_cells(item: str, k: int, max_atoms: int) -> list[Structure]:
    """Ordered structures of a CIF path or a formula."""
    path = Path(item)
    structure = Structure.from_file(path) if path.is_file() else disordered_structure(item)
    if structure.is_ordered:
        return [structure]
    return [c.structure for c in order_structure(structure, k=k, max_atoms=max_atoms)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("inputs", nargs="+", metavar="CIF_OR_FORMULA")
    parser.add_argument("--orderings", type=int, default=2)
    parser.add_argument("--max-atoms", type=int, default=100)
    parser.add_argument("--resolution", type=float, default=0.1, help="grid spacing, Å")
    parser.add_argument("--out", default="bvse_output")
    parser.add_argument("--project", help="submit to this jobflow-remote project instead")
    parser.add_argument("--worker")
    args = parser.parse_args()

    jobs = [BVSEEnsembleMaker(resolution=args.resolution).make(
                ordered_cells(item, args.orderings, args.max_atoms), formula=item)
            for item in args.inputs]
    if args.project:
        from jobflow import Flow

        from nasicon_workflows.remote import submit_screen

        flow = Flow(jobs, name="bvse only")
        db_ids = submit_screen(flow, project=args.project, worker=args.worker)
        print(f"submitted flow {flow.uuid}: jobs {db_ids}")
        return

    from jobflow import run_locally

    responses = run_locally(jobs, log=False, ensure_success=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    summary = {}
    for item, job in zip(args.inputs, jobs):
        doc = responses[job.uuid][1].output
        summary[item] = {k: getattr(doc, k).model_dump() for k in ("E_1D", "E_2D", "E_3D")}
        e3 = doc.E_3D
        print(f"{item}: E_3D = {e3.mean_eV:.3f} ± {e3.std_eV:.3f} eV over {doc.n_configurations} "
              "configurations")
    (out / "bvse_summary.json").write_text(json.dumps(summary, indent=2))
    print(f"summary in {out / 'bvse_summary.json'}")


if __name__ == "__main__":
    main()
