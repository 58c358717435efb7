"""Submit a NASICON screen to a cluster through jobflow-remote.

Relaxations (VASP by default) go to the SLURM worker ``hpc`` with the ``vasp`` exec_config of the
project; the cheap jobs (classifier, gate, structures, BVSE, ranking) run on the ``local`` worker
next to the runner. Set up the project once (see docs/hpc.md):

    python -c "from nasicon_workflows.remote import write_project; write_project('nasicon', \\
        template='mongodb', mongo_host=..., ...)"
    jf admin reset && jf runner start

then

    python flows/screen_hpc.py --project nasicon --top 8 --orderings 3
    python flows/screen_hpc.py --dry-run          # build and tag the flow, submit nothing

and follow it with ``jf job list`` / ``jf flow list``; read results back with
``nasicon_workflows.remote.flow_results(<flow uuid printed here>)``.
"""

from __future__ import annotations

import argparse

from nasicon_workflows.screen.flow import ScreeningFlowMaker

COMPOSITIONS = ["Na3.4Zr1.6Sc0.4Si2PO12", "Na3.5Zr1.5Lu0.5Si2PO12", "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12"]

#: Default SLURM resources of a relaxation (qtoolkit keys); VASP on one 64-core node.
RELAX_RESOURCES = {"nodes": 1, "ntasks_per_node": 64, "time": "12:00:00"}


def build_flow(args: argparse.Namespace):
    """The screening flow with its relaxation jobs tagged for the cluster worker."""
    from jobflow_remote import set_run_config

    maker = ScreeningFlowMaker(top=args.top, orderings=args.orderings, relax=args.relax,
                               threshold=args.threshold)
    flow = maker.make(args.compositions)
    # dynamic=True also tags the relaxation jobs that the gate creates at run time.
    set_run_config(flow, name_filter="relax", worker=args.hpc_worker, exec_config=args.exec_config,
                   resources=RELAX_RESOURCES, dynamic=True)
    return flow


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", help="jobflow-remote project (default: JFREMOTE_PROJECT)")
    parser.add_argument("--compositions", nargs="+", default=COMPOSITIONS)
    parser.add_argument("--top", type=int, default=4)
    parser.add_argument("--orderings", type=int, default=3)
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--relax", default="vasp", choices=["vasp", "chgnet", "sevennet", "none"])
    parser.add_argument("--hpc-worker", default="hpc")
    parser.add_argument("--local-worker", default="local")
    parser.add_argument("--exec-config", default="vasp")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()

    flow = build_flow(args)
    if args.dry_run:
        print(f"flow {flow.uuid}: {len(flow.jobs)} jobs before the gate expands candidates")
        return

    from nasicon_workflows.remote import submit_screen

    db_ids = submit_screen(flow, project=args.project, worker=args.local_worker)
    print(f"submitted flow {flow.uuid}: jobs {db_ids}; start the runner with `jf runner start`")


if __name__ == "__main__":
    main()
