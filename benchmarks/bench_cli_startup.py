"""Start-up of the command line with lazy imports against the eager import chain, same run.

Each measurement is a fresh Python process (``python -c``) that runs
``nasicon_workflows.cli.main`` with the given arguments:

* lazy (the package as it is): the parser of every command imports only what it needs;
* eager: the same, after importing what the parser used to import through
  ``screen.cli -> screen.flow -> relax.settings -> relax/__init__``: the screening flow and every
  public name of the relax stage (``relax.vasp`` pulls atomate2's VASP package and emmet).

Prints the median wall time of each over ``--repeats`` alternating runs, the ratio, the load
average, and the heavy modules each process ends up with.

    python benchmarks/bench_cli_startup.py --repeats 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HEAVY = ("atomate2.vasp", "emmet.core", "torch", "chgnet", "pandas", "numba", "jobflow")

EAGER = (
    "import nasicon_workflows.screen.flow, nasicon_workflows.relax as r\n"
    "[getattr(r, n) for n in r.__all__]\n"
)

PROGRAM = """{prelude}
import contextlib, io, json, sys
from nasicon_workflows.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    code = main({argv!r})
print(json.dumps([m for m in {heavy!r} if m in sys.modules]), file=sys.stderr)
"""

COMMANDS = {
    "--help": ["--help"],
    "descriptors": ["descriptors", "Na3Zr2Si2PO12"],
}


def run(prelude: str, argv: list[str]) -> tuple[float, list[str]]:
    """Wall time of one fresh process and the heavy modules it imported."""
    code = PROGRAM.format(prelude=prelude, argv=argv, heavy=HEAVY)
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    elapsed = time.perf_counter() - start
    return elapsed, json.loads(result.stderr.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    for label, argv in COMMANDS.items():
        times: dict[str, list[float]] = {"lazy": [], "eager": []}
        modules = {}
        for _ in range(args.repeats):
            for kind, prelude in (("lazy", ""), ("eager", EAGER)):
                elapsed, modules[kind] = run(prelude, argv)
                times[kind].append(elapsed)
        lazy, eager = statistics.median(times["lazy"]), statistics.median(times["eager"])
        print(f"nasicon-workflows {' '.join(argv)}: lazy {lazy:.2f} s "
              f"(min {min(times['lazy']):.2f}), eager {eager:.2f} s "
              f"(min {min(times['eager']):.2f}); eager/lazy {eager / lazy:.1f}x")
        print(f"  heavy modules imported: lazy {modules['lazy']}; eager {modules['eager']}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
