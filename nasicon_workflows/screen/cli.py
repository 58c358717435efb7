"""Command line of the screen: ``python -m nasicon_workflows.screen`` and
``nasicon-workflows screen`` (same options).

Everything the user typed is validated before any computation: formulas, dopants, threshold,
weights, the output folder and the relaxation engine.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nasicon_workflows.cli.enumeration_options import EnumerationOptions
from nasicon_workflows.composition import NasiconComposition
from nasicon_workflows.screen import stages
from nasicon_workflows.screen.errors import (
    EmptyCandidateSetError,
    ScreenInputError,
    StageUnavailableError,
    ThresholdRangeError,
)

if TYPE_CHECKING:
    from nasicon_workflows.screen.flow import ScreeningFlowMaker

__all__ = [
    "CompositionsFileError",
    "add_arguments",
    "main",
    "maker_from_args",
    "read_compositions",
    "run",
]

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
    what.add_argument("--keep-scored", type=int, default=100,
                      help="best-scored enumerated compositions kept in results.json")
    # the enumeration rules: the same flags and defaults as ``enumerate`` (one options model)
    EnumerationOptions.add_arguments(parser)
    gate = parser.add_argument_group("gate")
    gate.add_argument("--threshold", type=float, default=0.5,
                      help="minimum synthesizability probability, 0-1 (default 0.5)")
    gate.add_argument("--top", type=int, default=3,
                      help="candidates computed after the gate (default 3: with 2 converged "
                      "orderings each this fits 10 minutes on 2 cores, docs/screen.md)")
    calc = parser.add_argument_group("calculations")
    calc.add_argument("--relax", default="chgnet",
                      choices=["chgnet", "sevennet", "vasp", "none"],
                      help="relaxation engine (default chgnet)")
    calc.add_argument("--fmax", type=float, default=0.049,
                      help="force criterion of force-field relaxations (cell and positions, "
                           "BFGS), eV/Å (default 0.049, which certifies 0.05)")
    calc.add_argument("--relax-steps", type=int, default=300,
                      help="maximum relaxation steps (default 300, a guard; a relaxation that "
                           "stops there is flagged as not converged in the ranking)")
    calc.add_argument("--orderings", type=int, default=2,
                      help="ordered configurations per candidate (default 2)")
    calc.add_argument("--ordering-method", default="ewald", choices=["ewald", "sqs"])
    calc.add_argument("--max-atoms", type=int, default=220,
                      help="largest ordered cell, atoms (default 220: a 10-formula-unit cell "
                           "realises compositions on a 0.1 grid exactly)")
    calc.add_argument("--allow-composition-error", action="store_true",
                      help="compute compositions no cell within --max-atoms realises exactly as "
                           "the nearest realisable one (error recorded) instead of refusing them")
    calc.add_argument("--bvse-resolution", type=float, default=0.1,
                      help="BVSE grid spacing, Å (default 0.1)")
    calc.add_argument("--transport", default="kmc", choices=["kmc", "none"],
                      help="transport stage on each candidate's lowest-energy configuration: "
                           "lattice KMC (default; ranked by its sigma(573 K) rank) or none")
    calc.add_argument("--md", type=int, default=0, metavar="TOP_N",
                      help="force-field MD transport of the TOP_N best-ranked candidates "
                           "(GPU/HPC tier, hours per candidate on CPU; default 0)")
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
    run.add_argument("--lock-timeout", type=float, default=0.0, metavar="SECONDS",
                     help="a second screen on the same --out waits this long for the first "
                          "(default 0: stop at once with an error)")
    run.add_argument("--quiet", action="store_true",
                     help="no progress, no table and no library messages; errors only")


DESCRIPTION = (
    "End-to-end screen of NASICON compositions: synthesizability gate -> ordered configurations "
    "-> relaxation -> BVSE Na barriers -> ranking. Writes ranking.csv, results.json, report.md, "
    "plots, CIFs and cube files to --out."
)


class CompositionsFileError(ScreenInputError):
    """A ``--compositions`` file that is missing, a folder, a device, too large or not text."""


#: Largest compositions file read (a formula per line; 1 MB is ~40 000 formulas).
MAX_COMPOSITIONS_FILE_BYTES = 1_000_000

_FILE_SUFFIX = re.compile(r"\.[a-z][a-z0-9_]*$")


def _looks_like_path(item: str) -> bool:
    """A path, not a formula: it has a folder separator or a lower-case file suffix (element
    symbols start with a capital letter, so ``.txt`` can never end a formula)."""
    return os.sep in item or "/" in item or bool(_FILE_SUFFIX.search(item))


def read_compositions_file(path: Path) -> list[str]:
    """The formulas of a text file (one per line, ``#`` comments), refusing anything else.

    Raises
    ------
    CompositionsFileError
        A missing file, a folder, a device, a file above 1 MB or one that is not UTF-8 text.
    """
    if not path.exists():
        raise CompositionsFileError(f"compositions file {str(path)!r} does not exist")
    if path.is_dir():
        raise CompositionsFileError(
            f"{str(path)!r} is a folder: give a text file with one formula per line"
        )
    if not path.is_file():
        raise CompositionsFileError(
            f"{str(path)!r} is not a regular file: give a text file with one formula per line"
        )
    try:
        size = path.stat().st_size
        if size > MAX_COMPOSITIONS_FILE_BYTES:
            raise CompositionsFileError(
                f"compositions file {str(path)!r} has {size:,} bytes, more than the "
                f"{MAX_COMPOSITIONS_FILE_BYTES:,} of a list of formulas: is it the right file?"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise CompositionsFileError(
            f"cannot read compositions file {str(path)!r}: {exc.strerror or exc}"
        ) from None
    try:
        if b"\x00" in data:
            raise UnicodeDecodeError("utf-8", data, 0, 1, "NUL byte")
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise CompositionsFileError(
            f"{str(path)!r} is not a text file (binary or not UTF-8): give a text file with one "
            "formula per line"
        ) from None
    formulas = []
    for line in text.splitlines():
        entry = line.split("#", 1)[0].strip().strip(",")
        if entry:
            formulas.append(entry)
    return formulas


def read_compositions(items: Sequence[str]) -> list[str]:
    """Formulas from the command line: explicit formulas, or text files of one formula per line.

    An item is a file when it exists or looks like a path (a ``/`` or a lower-case suffix such as
    ``.txt``); a missing file is reported as such, never parsed as a formula.

    Raises
    ------
    EmptyCandidateSetError
        No formula at all (e.g. an empty file).
    CompositionsFileError
        A missing, binary or non-regular file.
    InvalidCompositionError
        A formula that is not a valid NASICON composition (names it).
    """
    formulas: list[str] = []
    for item in items:
        path = Path(item)
        if path.exists() or _looks_like_path(item):
            formulas.extend(read_compositions_file(path))
        else:
            formulas.append(item)
    if not formulas:
        raise EmptyCandidateSetError(
            f"No composition in {list(items)}: give formulas or a file with one formula per line."
        )
    return [NasiconComposition.from_formula(f).formula for f in formulas]


def enumeration_rules(args: argparse.Namespace) -> dict[str, Any]:
    """Enumeration settings from the options, checked (rules, bounds and the size guard)."""
    options = EnumerationOptions.from_args(args)
    options.check()
    return options.rules()


#: Options passed unchanged to ScreeningFlowMaker fields of the same name.
_MAKER_OPTIONS = (
    "keep_scored", "threshold", "top", "orderings", "ordering_method", "max_atoms", "relax",
    "fmax", "relax_steps", "bvse_resolution", "phonons", "seed", "allow_composition_error",
)


def maker_from_args(args: argparse.Namespace) -> tuple[ScreeningFlowMaker, list[str] | None]:
    """The flow maker and compositions from parsed options; every check happens here."""
    # The flow (pandas, numba, jobflow) only once a screen is run: `--help` stays light.
    from nasicon_workflows.screen.flow import ScreeningFlowMaker, check_realisable
    from nasicon_workflows.screen.ranking import RankingWeights
    from nasicon_workflows.screen.transport import transport_maker

    compositions = read_compositions(args.compositions) if args.compositions else None
    rules = {} if compositions else enumeration_rules(args)
    weights = RankingWeights.parse(args.weights)

    if args.md < 0:
        raise ScreenInputError(f"--md {args.md} must be >= 0 (the number of top candidates).")
    maker = ScreeningFlowMaker(
        enumeration=rules,
        ranking_weights=dict(vars(weights)),
        transport_maker=transport_maker(args.transport, args.bvse_resolution, args.seed),
        max_ehull=EnumerationOptions.from_args(args).max_ehull,
        tie_break=EnumerationOptions.from_args(args).tie_break,
        md_top=args.md,
        **{name: getattr(args, name) for name in _MAKER_OPTIONS},
    )
    if compositions is None:
        stages.check_enumeration(rules)
    elif not args.allow_composition_error:
        check_realisable(maker.make_formulas(compositions), args.max_atoms)
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


def check_numbers(args: argparse.Namespace) -> None:
    """Ranges of the numeric options that the flow maker does not check itself."""
    if not (0.0 <= args.threshold <= 1.0):
        raise ThresholdRangeError(
            f"--threshold {args.threshold} is outside [0, 1]: give a probability such as 0.5."
        )
    from nasicon_workflows.cli._checks import check_finite, check_seed

    check_seed(args.seed)
    check_finite("--fmax", args.fmax, positive=True)
    check_finite("--bvse-resolution", args.bvse_resolution, positive=True)
    check_finite("--lock-timeout", args.lock_timeout, non_negative=True)


@contextlib.contextmanager
def _silenced(quiet: bool):
    """With --quiet: library prints (CHGNet's model banner, tqdm bars) and warnings are dropped;
    errors still reach the user as one line through the exception the command raises."""
    if not quiet:
        yield
        return
    import warnings

    sink = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            yield


def run(args: argparse.Namespace) -> int:
    """Validate, then run locally (or submit); print where the outputs are."""
    from rich.console import Console

    from nasicon_workflows.fileio import OutputPathError, resolve_output_dir
    from nasicon_workflows.screen.errors import OutputFolderError

    check_numbers(args)
    if not args.submit:
        # One absolute path, checked before anything is computed (nothing is created yet).
        try:
            args.out = str(resolve_output_dir(args.out, create=False))
        except OutputPathError as exc:
            raise OutputFolderError(
                f"Cannot write to the output folder {args.out!r} ({exc}): choose a writable --out."
            ) from None
    maker, compositions = maker_from_args(args)
    console = Console(stderr=True, quiet=args.quiet)
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
    from nasicon_workflows.screen.runner import run_screen

    _setup_progress(args.quiet)
    start = time.perf_counter()
    with _silenced(args.quiet):
        outcome = run_screen(maker, args.out, compositions, resume=args.resume,
                             lock_timeout_s=args.lock_timeout)
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
    console.print(f"outputs in {outcome.out_dir} (report.md, ranking.csv, results.json)")
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m nasicon_workflows.screen``: ``nasicon-workflows screen ARGS``.

    Errors, a closed pipe (``| head``) and a full device are handled once, in the CLI's main.
    """
    from nasicon_workflows.cli import main as cli_main

    return cli_main(["screen", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
