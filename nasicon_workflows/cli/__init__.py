"""The ``nasicon-workflows`` command line.

Each subcommand lives in its own module of this package with two functions:
``register(subparsers)`` adds its parser (and ``set_defaults(func=run)``), and ``run(args) -> int``
does the work through the library. Add a module name to :data:`COMMAND_MODULES` to add a command.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from nasicon_workflows.errors import NasiconWorkflowsError

__all__ = ["COMMAND_MODULES", "build_parser", "main"]

#: Subcommand modules, in the order of the pipeline (module name = command with "-" as "_").
COMMAND_MODULES = (
    "descriptors",
    "evaluate",
    "classify",
    "enumerate",
    "add_outcomes",
    "validate",
    "build",
    "relax",
    "vasp_inputs",
    "bvse",
    "md",
    "screen",
    "eis",
    "kmc",
    "validate_transport",
)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every subcommand registered."""
    from nasicon_workflows import __version__

    parser = argparse.ArgumentParser(
        prog="nasicon-workflows",
        description="Screen entropy-stabilised NASICON solid electrolytes (Na3Zr2Si2PO12 family).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"nasicon_workflows.cli.{name}")
        except ModuleNotFoundError as exc:
            # A stage whose command is not built yet is left out of the parser; any other missing
            # module (a broken dependency) is a real error. tests/test_cli.py lists what exists.
            if exc.name != f"nasicon_workflows.cli.{name}":
                raise
            continue
        module.register(subparsers)
    return parser


#: Exit code after the reader of stdout went away (``| head``): 128 + SIGPIPE, as Unix tools.
EXIT_BROKEN_PIPE = 141


def _detach_stdout() -> None:
    """Point stdout at /dev/null so that the interpreter's final flush cannot fail again
    (a closed pipe or a full device would otherwise print 'Exception ignored ...')."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return  # a captured stdout (tests): nothing to flush at exit
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)


def _os_error_line(exc: OSError) -> str:
    from nasicon_workflows.fileio import describe_os_error

    where = exc.filename if exc.filename is not None else "the output (stdout)"
    return f"cannot write {where}: {describe_os_error(exc)}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 success, 1 findings, 2 bad input).

    Every expected failure ends as ONE ``error: ...`` line on stderr and exit code 2: the typed
    errors of the package, a file that cannot be written (full device, permission) and a failed
    write to stdout. A reader that closes the pipe early (``| head``) ends the command quietly
    with 141, as Unix tools do. This is the one place where this is handled (``python -m
    nasicon_workflows.screen`` comes through here too).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: usage + one "error:" line (2), or --help/--version (0)
        return exc.code if isinstance(exc.code, int) else 2
    if not getattr(args, "func", None):
        parser.print_usage(sys.stderr)
        print("error: give a command (nasicon-workflows --help lists them)", file=sys.stderr)
        return 2
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        _detach_stdout()
        return EXIT_BROKEN_PIPE
    except NasiconWorkflowsError as exc:
        message = " ".join(str(exc).split("\n"))
        print(f"error: {message}", file=sys.stderr)
        return 2
    except OSError as exc:
        _detach_stdout()
        print(f"error: {_os_error_line(exc)}", file=sys.stderr)
        return 2
    except MemoryError:
        print("error: out of memory: use smaller settings (see --help for the size bounds)",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
