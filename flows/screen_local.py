"""Run a small NASICON screen on this machine with jobflow's local manager.

The same as ``python -m nasicon_workflows.screen`` with a few explicit compositions, written out
so that the Maker's settings are visible and easy to change. Outputs (ranking.csv, results.json,
report.md, plots, CIFs, cube files) go to ``--out``; rerun with the same ``--out`` to resume.

    python flows/screen_local.py --out screen_local_output
    python flows/screen_local.py --dry-run        # build the flow, print its jobs, run nothing
"""

from __future__ import annotations

import argparse

from nasicon_workflows.screen.flow import ScreeningFlowMaker

COMPOSITIONS = [
    "Na3.4Zr1.6Sc0.4Si2PO12",
    "Na3.5Zr1.5Lu0.5Si2PO12",
    "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12",
    "Na3Zr2Si2PO12",
]


def build_maker(args: argparse.Namespace) -> ScreeningFlowMaker:
    """The screen's settings; every field is documented in ScreeningFlowMaker."""
    return ScreeningFlowMaker(
        threshold=args.threshold,
        top=args.top,
        orderings=args.orderings,
        relax=args.relax,
        bvse_resolution=args.resolution,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="screen_local_output")
    parser.add_argument("--compositions", nargs="+", default=COMPOSITIONS)
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--top", type=int, default=2)
    parser.add_argument("--orderings", type=int, default=2)
    parser.add_argument("--relax", default="chgnet", choices=["chgnet", "sevennet", "none"])
    parser.add_argument("--resolution", type=float, default=0.1, help="BVSE grid spacing, Å")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()

    maker = build_maker(args)
    if args.dry_run:
        flow = maker.make(args.compositions)
        print(f"flow {flow.name!r}: {len(flow.jobs)} jobs before the gate expands candidates")
        for job in flow.jobs:
            print(f"  {job.name}")
        return

    from nasicon_workflows.screen.runner import run_screen

    run = run_screen(maker, args.out, args.compositions, resume=True)
    for row in run.result.ranking:
        print(row)
    print(f"outputs in {run.out_dir}")


if __name__ == "__main__":
    main()
