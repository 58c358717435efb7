"""Command line of the screen: ``python -m nasicon_workflows.screen`` and
``nasicon-workflows screen`` (same options).

Everything the user typed is validated before any computation: formulas, dopants, threshold,
weights, the output folder and the relaxation engine.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nasicon_workflows.composition import DEFAULT_OXIDATION_STATES, NasiconComposition
from nasicon_workflows.screen import stages
from nasicon_workflows.screen.errors import (
    EmptyCandidateSetError,
    StageUnavailableError,
    ThresholdRangeError,
    UnknownDopantError,
)
from nasicon_workflows.screen.flow import ScreeningFlowMaker
from nasicon_workflows.screen.ranking import RankingWeights

__all__ = ["add_arguments", "main", "maker_from_args", "read_compositions", "run"]

logger = logging.getLogger(__name__)

DEFAULT_OUT = "nasicon_screen"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the screen's options to ``parser``."""
    what = parser.add_argument_group("what to screen")
    what.add_argument(
        "--compositions", nargs="+", metavar="FORMULA_OR_FILE",
        help="explicit formulas, or one text file with a formula per line (# comments); "
             "default: enumerate compositions",
    )
    what.add_argument("--dopants", help="comma-separated dopant pool of the enumeration "
                                        "(default: the paper's pool)")
    what.add_argument("--max-cations", type=int, default=5,
                      help="most distinct M cations per enumerated composition (default 5)")
    what.add_argument("--step", type=float, default=0.1,
                      help="composition step of the enumeration, per formula unit (default 0.1)")
    what.add_argument("--require", default=None, metavar="ELEMENTS",
                      help="comma-separated elements every enumerated composition contains "
                           "(default: Zr when Zr is in the pool, i.e. dopants on the Zr site as "
                           "in the source paper; give '' for none)")
    what.add_argument("--min-entropy", type=float, default=1.0, metavar="S_R",
                      help="lowest M-site configurational entropy of enumerated compositions, in "
                           "R (default 1.0: medium and high entropy, the entropy-stabilised "
                           "candidates the product looks for; 0 keeps all)")
    what.add_argument("--keep-scored", type=int, default=100,
                      help="best-scored enumerated compositions kept in results.json")
    gate = parser.add_argument_group("gate")
    gate.add_argument("--threshold", type=float, default=0.5,
                      help="minimum synthesizability probability, 0-1 (default 0.5)")
    gate.add_argument("--top", type=int, default=4,
                      help="candidates computed after the gate (default 4)")
    calc = parser.add_argument_group("calculations")
    calc.add_argument("--relax", default="chgnet",
                      choices=["chgnet", "sevennet", "vasp", "none"],
                      help="relaxation engine (default chgnet)")
    calc.add_argument("--fmax", type=float, default=0.1,
                      help="force criterion of force-field relaxations, eV/Å (default 0.1)")
    calc.add_argument("--relax-steps", type=int, default=25,
                      help="maximum relaxation steps (default 25; results say if converged)")
    calc.add_argument("--orderings", type=int, default=2,
                      help="ordered configurations per candidate (default 2)")
    calc.add_argument("--ordering-method", default="ewald", choices=["ewald", "sqs"])
    calc.add_argument("--max-atoms", type=int, default=200, help="largest ordered cell, atoms")
    calc.add_argument("--bvse-resolution", type=float, default=0.1,
                      help="BVSE grid spacing, Å (default 0.1)")
    calc.add_argument("--phonons", action="store_true",
                      help="also compute force-field phonons of the lowest-energy configuration")
    calc.add_argument("--seed", type=int, default=0, help="random seed (orderings)")
    calc.add_argument("--weights",
                      help="ranking weights, e.g. 'probability=0.35,entropy=0.15,barrier=0.4,"
                           "energetics=0.1,spread_penalty=1,temperature_K=300'")
    run = parser.add_argument_group("running")
    run.add_argument("--out", default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    run.add_argument("--resume", action="store_true",
                     help="continue a screen in --out, skipping finished work")
    run.add_argument("--submit", action="store_true",
                     help="send the flow to jobflow-remote instead of running it here")
    run.add_argument("--worker", help="jobflow-remote worker (with --submit)")
    run.add_argument("--project", help="jobflow-remote project (with --submit)")
    run.add_argument("--quiet", action="store_true", help="no progress output")


DESCRIPTION = (
    "End-to-end screen of NASICON compositions: synthesizability gate -> ordered configurations "
    "-> relaxation -> BVSE Na barriers -> ranking. Writes ranking.csv, results.json, report.md, "
    "plots, CIFs and cube files to --out."
)


def read_compositions(items: Sequence[str]) -> list[str]:
    """Formulas from the command line: explicit formulas, or files of one formula per line.

    Raises
    ------
    EmptyCandidateSetError
        No formula at all (e.g. an empty file).
    InvalidCompositionError
        A formula that is not a valid NASICON composition (names it).
    """
    formulas: list[str] = []
    for item in items:
        path = Path(item)
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                text = line.split("#", 1)[0].strip().strip(",")
                if text:
                    formulas.append(text)
        else:
            formulas.append(item)
    if not formulas:
        raise EmptyCandidateSetError(
            f"No composition in {list(items)}: give formulas or a file with one formula per line."
        )
    return [NasiconComposition.from_formula(f).formula for f in formulas]


def check_dopants(dopants: Sequence[str]) -> list[str]:
    """Validate a dopant pool: element symbols with a known M-site oxidation state.

    Raises
    ------
    UnknownDopantError
        Names the offending symbols and the accepted ones.
    """
    from pymatgen.core.periodic_table import Element

    cleaned = [d.strip() for d in dopants if d.strip()]
    if not cleaned:
        raise EmptyCandidateSetError("The dopant pool is empty: give e.g. --dopants Hf,Sc,Lu,Ti.")
    not_elements = [d for d in cleaned if not Element.is_valid_symbol(d)]
    if not_elements:
        raise UnknownDopantError(
            f"Unknown dopant(s) {not_elements}: not element symbols (check spelling and case)."
        )
    unknown = [d for d in cleaned if d not in DEFAULT_OXIDATION_STATES]
    if unknown:
        raise UnknownDopantError(
            f"Dopant(s) {unknown} have no known M-site oxidation state; accepted dopants: "
            f"{', '.join(sorted(DEFAULT_OXIDATION_STATES))}."
        )
    return cleaned


def enumeration_rules(args: argparse.Namespace) -> dict[str, Any]:
    """Enumeration settings from the options (validated; the enumeration stage checks the rest)."""
    rules: dict[str, Any] = {"n_cations": [min(2, args.max_cations), args.max_cations],
                             "step": args.step}
    if args.dopants is not None:
        rules["dopant_pool"] = check_dopants(args.dopants.split(","))
    from nasicon_workflows.enumeration import DEFAULT_DOPANT_POOL

    pool = rules.get("dopant_pool", DEFAULT_DOPANT_POOL)
    if args.require is None:
        # The product screens dopants on the Zr site (all 58 published compositions contain Zr);
        # this also keeps the default enumeration to a few minutes on 2 cores.
        required = ["Zr"] if "Zr" in pool else []
    else:
        required = [el.strip() for el in args.require.split(",") if el.strip()]
        missing = [el for el in required if el not in pool]
        if missing:
            raise UnknownDopantError(
                f"--require {missing} not in the dopant pool {list(pool)}: add them to --dopants "
                "or drop them from --require."
            )
    if required:
        rules["required_elements"] = required
    if args.min_entropy < 0:
        raise EmptyCandidateSetError(
            f"--min-entropy {args.min_entropy} is negative: give an entropy in R, e.g. 1.0."
        )
    if args.min_entropy > 0:
        rules["min_entropy_R"] = args.min_entropy
    if args.max_cations < 1:
        raise EmptyCandidateSetError(f"--max-cations {args.max_cations} allows no cation: give >= 1.")
    if not (0 < args.step <= 2):
        raise EmptyCandidateSetError(f"--step {args.step} must be in (0, 2] formula units.")
    return rules


#: Options passed unchanged to ScreeningFlowMaker fields of the same name.
_MAKER_OPTIONS = (
    "keep_scored", "threshold", "top", "orderings", "ordering_method", "max_atoms", "relax",
    "fmax", "relax_steps", "bvse_resolution", "phonons", "seed",
)


def maker_from_args(args: argparse.Namespace) -> tuple[ScreeningFlowMaker, list[str] | None]:
    """The flow maker and compositions from parsed options; every check happens here."""
    compositions = read_compositions(args.compositions) if args.compositions else None
    rules = {} if compositions else enumeration_rules(args)
    weights = RankingWeights.parse(args.weights)
    maker = ScreeningFlowMaker(
        enumeration=rules,
        ranking_weights=dict(vars(weights)),
        **{name: getattr(args, name) for name in _MAKER_OPTIONS},
    )
    if compositions is None:
        stages.check_enumeration(rules)
    if not args.submit:
        # On --submit the engine runs on the worker, which may have VASP where this machine has not.
        stages.check_relax(args.relax)
        if args.phonons:
            stages.check_relax(stages.phonon_engine(args.relax))
    return maker, compositions


def _setup_progress(quiet: bool) -> None:
    """Progress lines (stage, candidate, configuration) through rich on stderr."""
    from rich.console import Console
    from rich.logging import RichHandler

    handler = RichHandler(console=Console(stderr=True), show_path=False, markup=False)
    handler.setFormatter(logging.Formatter("%(message)s"))
    package = logging.getLogger("nasicon_workflows")
    package.handlers = [h for h in package.handlers if not isinstance(h, RichHandler)]
    if not quiet:
        package.addHandler(handler)
        package.setLevel(logging.INFO)
    for noisy in ("jobflow", "atomate2", "chgnet", "maggma"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Library deprecation notices (jobflow's monty ``cd``, a torch scalar conversion inside CHGNet)
    # say nothing about the screen's results; keep the progress readable.
    import warnings

    warnings.filterwarnings("ignore", category=FutureWarning, module="jobflow")
    warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad=True")


def run(args: argparse.Namespace) -> int:
    """Validate, then run locally (or submit); print where the outputs are."""
    from rich.console import Console

    if not (0.0 <= args.threshold <= 1.0):
        raise ThresholdRangeError(
            f"--threshold {args.threshold} is outside [0, 1]: give a probability such as 0.5."
        )
    maker, compositions = maker_from_args(args)
    console = Console(stderr=True)
    if args.submit:
        try:
            from nasicon_workflows.remote import submit_screen
        except ModuleNotFoundError as exc:
            raise StageUnavailableError(
                "jobflow-remote submission (nasicon_workflows.remote) is not available: "
                f"{exc}. Install '.[remote]'."
            ) from None
        submitted = submit_screen(maker, compositions=compositions, worker=args.worker,
                                  project=args.project)
        console.print(f"submitted to jobflow-remote: {submitted}")
        return 0
    from nasicon_workflows.screen.runner import check_output_folder, run_screen

    check_output_folder(args.out, {**maker.settings(), "compositions": compositions}, args.resume)
    _setup_progress(args.quiet)
    start = time.perf_counter()
    outcome = run_screen(maker, args.out, compositions, resume=True)
    minutes = (time.perf_counter() - start) / 60
    result = outcome.result
    failed = [c for c in result.candidates if c.status != "finished"]
    if not args.quiet:
        from nasicon_workflows.cli._output import print_table

        print_table(
            result.ranking,
            ["rank", "composition", "score", "probability", "entropy_R", "barrier_3D_mean_eV",
             "barrier_3D_std_eV", "ordering_energy_range_eV_per_m"],
            title=f"Ranking ({len(result.ranking)} finished, {len(failed)} failed, "
                  f"{minutes:.1f} min)",
            formats={"score": ".3f", "probability": ".3f", "entropy_R": ".3f",
                     "barrier_3D_mean_eV": ".3f", "barrier_3D_std_eV": ".3f",
                     "ordering_energy_range_eV_per_m": ".3f"},
        )
    console.print(f"outputs in {Path(args.out).resolve()} (report.md, ranking.csv, results.json)")
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m nasicon_workflows.screen``: ``nasicon-workflows screen ARGS``."""
    from nasicon_workflows.cli import main as cli_main

    return cli_main(["screen", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
