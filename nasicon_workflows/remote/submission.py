"""Submission of flows (a screen, or any Maker/Flow/Job) to a jobflow-remote project's queue."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from jobflow import Flow, Job

from nasicon_workflows.remote.errors import RemoteSetupError, jobflow_remote
from nasicon_workflows.remote.project import get_project

__all__ = ["submit_screen"]

logger = logging.getLogger(__name__)


def submit_screen(
    flow_maker: Any,
    compositions: Sequence | None = None,
    *,
    worker: str | None = None,
    project: str | None = None,
    resources: Mapping | None = None,
    exec_config: str | Mapping | None = None,
    priority: int = 0,
    **make_kwargs: Any,
) -> list[str]:
    """Build a flow and add it to a jobflow-remote project's queue.

    Nothing runs until a runner (``jf runner start`` or :func:`run_jobs`) picks the jobs up.

    Parameters
    ----------
    flow_maker
        A jobflow ``Maker`` (e.g. ``ScreeningFlowMaker``) whose ``make`` returns a Flow or Job,
        or an already built ``Flow``/``Job``.
    compositions
        First positional argument of ``flow_maker.make`` (omitted when None).
    worker
        Worker name in the project (default: the project's first worker).
    project
        Project name (default: ``JFREMOTE_PROJECT`` or the only project).
    resources
        Scheduler resources for every job (qtoolkit keys, e.g.
        ``{"nodes": 1, "time": "02:00:00"}``); default: the worker's.
    exec_config
        Name of an ``exec_config`` of the project, or a dict (``modules``, ``export``,
        ``pre_run``, ``post_run``).
    priority
        Queue priority of the jobs.
    **make_kwargs
        Further keyword arguments of ``flow_maker.make``.

    Returns
    -------
    list of str
        The ``db_id`` of every job added.
    """
    jfr = jobflow_remote()
    from jobflow_remote.config.base import ConfigError, ExecutionConfig

    proj = get_project(project)
    if worker is not None and worker not in proj.workers:
        raise RemoteSetupError(
            f"worker {worker!r} is not defined in project {proj.name!r}; "
            f"available workers: {sorted(proj.workers)}."
        )
    if isinstance(exec_config, str) and exec_config not in proj.exec_config:
        raise RemoteSetupError(
            f"exec_config {exec_config!r} is not defined in project {proj.name!r}; "
            f"available: {sorted(proj.exec_config)}."
        )
    if isinstance(exec_config, Mapping):
        exec_config = ExecutionConfig.model_validate(dict(exec_config))

    if isinstance(flow_maker, (Flow, Job)):
        if compositions is not None or make_kwargs:
            raise TypeError("compositions/make kwargs are only used with a Maker, not a built Flow")
        flow = flow_maker
    elif hasattr(flow_maker, "make"):
        args = () if compositions is None else (compositions,)
        flow = flow_maker.make(*args, **make_kwargs)
    else:
        raise TypeError(f"expected a jobflow Maker, Flow or Job, got {type(flow_maker).__name__}")

    try:
        db_ids = jfr.submit_flow(
            flow,
            worker=worker,
            project=proj.name,
            exec_config=exec_config,
            resources=dict(resources) if resources is not None else None,
            priority=priority,
        )
    except ConfigError as exc:
        raise RemoteSetupError(f"jobflow-remote refused the flow: {exc}") from exc
    logger.info("submitted %d jobs of %s to project %s", len(db_ids), flow.name, proj.name)
    return db_ids
