"""``python -m nasicon_workflows.screen``: the end-to-end screen (see ``--help``)."""

from __future__ import annotations

import sys

from nasicon_workflows.screen.cli import main

if __name__ == "__main__":
    sys.exit(main())
