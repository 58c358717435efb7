"""``python -m nasicon_workflows.cli``: same as the ``nasicon-workflows`` console script."""

import sys

from nasicon_workflows.cli import main

sys.exit(main())
