"""Running a project's queued jobs with jobflow-remote's own ``Runner``, in process."""

from __future__ import annotations

import contextlib

from nasicon_workflows.remote.errors import RemoteTimeoutError, jobflow_remote
from nasicon_workflows.remote.project import get_project

__all__ = ["run_jobs"]


def run_jobs(project: str | None = None, max_seconds: float = 600.0) -> None:
    """Run every queued job of a project with jobflow-remote's ``Runner``, in this process.

    The runner checks out, uploads, submits to the worker's scheduler, downloads and completes
    jobs until none is left in a running state; no daemon is started, so nothing outlives the
    call. For production use ``jf runner start`` instead.

    A local worker whose ``execution_cmd`` is the preloaded executor's client (a project written
    with ``write_project(..., executor=True)``) gets its executor for the length of the call,
    unless one is already listening.

    Parameters
    ----------
    project
        Project name (default: ``JFREMOTE_PROJECT`` or the only project).
    max_seconds
        Wall-clock bound of the whole run, in seconds.

    Raises
    ------
    RemoteTimeoutError
        Jobs were still running after ``max_seconds``.
    """
    jobflow_remote()
    from nasicon_workflows.remote.executor import PreloadedExecutor, project_executor_sockets

    proj = get_project(project)
    with contextlib.ExitStack() as executors:
        for socket_path in project_executor_sockets(proj):
            executors.enter_context(PreloadedExecutor(socket_path))
        _run_all_jobs(proj.name, max_seconds)


def _run_all_jobs(name: str, max_seconds: float) -> None:
    from jobflow_remote.jobs.runner import Runner

    runner = Runner(project_name=name)
    try:
        runner.run_all_jobs(max_seconds=max_seconds)
    except RuntimeError as exc:
        if "within the selected amount of time" in str(exc):
            raise RemoteTimeoutError(
                f"jobs of project {name!r} were still running after {max_seconds:.0f} s; "
                "raise max_seconds or inspect them with `jf job list`."
            ) from exc
        raise
    finally:
        runner.cleanup()
