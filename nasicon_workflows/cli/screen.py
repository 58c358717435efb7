"""``nasicon-workflows screen``: the end-to-end screen (same options as
``python -m nasicon_workflows.screen``)."""

from __future__ import annotations

import argparse

from nasicon_workflows.screen.cli import DESCRIPTION, add_arguments
from nasicon_workflows.screen.cli import run as _run


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``screen`` subcommand."""
    parser = subparsers.add_parser(
        "screen",
        help="end-to-end screen: gate -> structures -> relax -> BVSE -> ranking",
        description=DESCRIPTION,
    )
    add_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the screen (errors are turned into one line by the top-level CLI)."""
    return _run(args)
