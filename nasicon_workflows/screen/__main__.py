"""``python -m nasicon_workflows.screen``: the end-to-end screen (not built yet)."""

from __future__ import annotations

import sys

_MESSAGE = """nasicon-workflows screen: the end-to-end screening flow is not built yet.
Built so far: composition parsing and validation, the published descriptors
(`nasicon-workflows descriptors FORMULA --json`) and the shipped 58-composition dataset.
Not built yet: the synthesizability gate, structures, relaxations, BVSE and the ranking.
No screening was run and no results were written."""


def main() -> int:
    """Say what is missing and exit non-zero: nothing is screened yet."""
    print(_MESSAGE, file=sys.stderr)
    return 3


if __name__ == "__main__":
    sys.exit(main())
