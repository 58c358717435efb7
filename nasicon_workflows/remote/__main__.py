"""Command line of the jobflow-remote path.

    python -m nasicon_workflows.remote template mongodb > my_project.yaml   # edit by hand
    python -m nasicon_workflows.remote write-project nasicon --template embedded
    python -m nasicon_workflows.remote write-project nasicon --template mongodb \\
        --set mongo_host=db.example.org --set mongo_port=27017 ...
    python -m nasicon_workflows.remote check nasicon NaZr2Si2PO12 ...   # submit check_flow
    python -m nasicon_workflows.remote write-project nasicon --executor  # preloaded executor
    python -m nasicon_workflows.remote executor nasicon   # serve it beside `jf runner start`

Bad input prints one ``error: ...`` line and exits with code 2.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from nasicon_workflows.errors import NasiconWorkflowsError
from nasicon_workflows.remote.demo import check_flow
from nasicon_workflows.remote.errors import ProjectTemplateError, RemoteSetupError
from nasicon_workflows.remote.project import TEMPLATES, template_text, write_project
from nasicon_workflows.remote.submission import submit_screen


def _values(pairs: Sequence[str]) -> dict[str, str]:
    values = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ProjectTemplateError(f"--set expects KEY=VALUE, got {pair!r}")
        values[key] = value
    return values


def _serve_executor(project: str, max_parallel: int | None) -> int:
    """Serve the executor named by the project's local worker until SIGTERM or Ctrl-C."""
    from nasicon_workflows.remote.executor import project_executor_sockets, serve
    from nasicon_workflows.remote.project import get_project

    if max_parallel is not None and max_parallel < 1:
        raise RemoteSetupError(f"--max-parallel must be >= 1, got {max_parallel}")
    sockets = project_executor_sockets(get_project(project))
    if len(sockets) != 1:
        raise RemoteSetupError(
            f"project {project} has {len(sockets)} local workers using the preloaded executor; "
            "expected one (write the project with `write-project NAME --executor`)."
        )
    try:
        serve(sockets[0], max_parallel=max_parallel)
    except KeyboardInterrupt:
        pass
    except (OSError, ImportError) as exc:
        raise RemoteSetupError(f"the executor cannot serve {sockets[0]}: {exc}") from exc
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (subcommands ``template``, ``write-project``, ``check``,
    ``executor``)."""
    parser = argparse.ArgumentParser(prog="python -m nasicon_workflows.remote",
                                     description="jobflow-remote projects for nasicon-workflows")
    sub = parser.add_subparsers(dest="command", required=True)
    tpl = sub.add_parser("template", help="print a shipped project template")
    tpl.add_argument("template", choices=sorted(TEMPLATES))
    wp = sub.add_parser("write-project", help="fill in a template, validate and write it")
    wp.add_argument("name", help="project name")
    wp.add_argument("--template", default="embedded",
                    help=f"one of {sorted(TEMPLATES)} or a YAML path (default embedded)")
    wp.add_argument("--projects-folder", help="default $JFREMOTE_PROJECTS_FOLDER or ~/.jfremote")
    wp.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="placeholder value (repeatable)")
    wp.add_argument("--overwrite", action="store_true")
    wp.add_argument("--executor", action="store_true",
                    help="the local worker starts jobs through the preloaded executor")
    ex = sub.add_parser("executor", help="serve the preloaded executor of a project's local "
                                         "worker until stopped (with `jf runner start`)")
    ex.add_argument("project")
    ex.add_argument("--max-parallel", type=int, help="jobs at once (default: CPUs)")
    ck = sub.add_parser("check", help="submit the two-job check flow (descriptors, summary)")
    ck.add_argument("project")
    ck.add_argument("formulas", nargs="+")
    ck.add_argument("--worker")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; 0 on success, 2 on bad input."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "template":
            sys.stdout.write(template_text(args.template))
        elif args.command == "write-project":
            path = write_project(args.name, template=args.template,
                                 projects_folder=args.projects_folder,
                                 overwrite=args.overwrite, executor=args.executor,
                                 **_values(args.set))
            print(path)
        elif args.command == "executor":
            return _serve_executor(args.project, args.max_parallel)
        else:
            flow = check_flow(args.formulas)
            db_ids = submit_screen(flow, project=args.project, worker=args.worker)
            print(f"submitted flow {flow.uuid}: {len(db_ids)} jobs")
    except NasiconWorkflowsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
