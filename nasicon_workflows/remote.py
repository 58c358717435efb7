"""Submit screening flows to HPC through jobflow-remote, and read their results back.

Three pieces:

* :class:`LiteMongoStore`, a maggma ``MongoStore`` over a local ``litemongo`` directory (an
  SQLite-backed mongomock). jobflow-remote 1.0 insists that its queue store be a ``MongoStore``
  subclass; this one gives it the Mongo API without a server, for tests and single-machine use.
  Real deployments point the project at a MongoDB server instead (see ``docs/hpc.md``).
* Project templates in ``flows/`` (``jfremote_project.yaml``: SLURM + local workers on MongoDB;
  ``jfremote_project_embedded.yaml``: local worker on a ``LiteMongoStore``), filled in and
  validated by :func:`render_project` and written where jobflow-remote looks by
  :func:`write_project`.
* :func:`submit_screen` (a thin wrapper over ``jobflow_remote.submit_flow``), :func:`run_jobs`
  (jobflow-remote's own ``Runner``, in process, bounded in time) and :func:`flow_results` (states,
  errors and outputs read back from the queue and job stores).
"""

from __future__ import annotations

import importlib
import logging
import os
import string
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from maggma.stores import MongoStore
from pydantic import BaseModel, Field

from nasicon_workflows.errors import NasiconWorkflowsError

__all__ = [
    "LiteMongoStore",
    "ProjectTemplateError",
    "RemoteError",
    "RemoteJobResult",
    "RemoteSetupError",
    "RemoteTimeoutError",
    "TEMPLATES",
    "check_flow",
    "default_template_values",
    "flow_results",
    "initialise_queue",
    "render_project",
    "run_jobs",
    "submit_screen",
    "template_path",
    "write_project",
]

logger = logging.getLogger(__name__)

#: Named project templates shipped in the repository's ``flows/`` folder.
TEMPLATES = {
    "mongodb": "jfremote_project.yaml",
    "embedded": "jfremote_project_embedded.yaml",
}

_FLOWS_DIR = Path(__file__).resolve().parent.parent / "flows"


class _Template(string.Template):
    """``${name}`` placeholders only: a bare ``$WORD`` (shell variables in comments) stays as is."""

    pattern = r"""
    \$(?:
      (?P<escaped>\$) |
      \{(?P<braced>[_a-z][_a-z0-9]*)\} |
      (?P<named>(?!)) |
      (?P<invalid>(?!))
    )
    """


class RemoteError(NasiconWorkflowsError):
    """Base class of the errors of the jobflow-remote path."""


class RemoteSetupError(RemoteError, RuntimeError):
    """jobflow-remote or the project is missing or misconfigured."""


class ProjectTemplateError(RemoteError, ValueError):
    """A project template that cannot be found, filled in or validated."""


class RemoteTimeoutError(RemoteError, TimeoutError):
    """The runner did not bring every job to an end state in the time allowed."""


def _require(module: str, purpose: str):
    """Import an optional dependency of the ``remote`` extra, or say how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RemoteSetupError(
            f"{purpose} needs the '{module.split('.')[0]}' package; install it with "
            "`pip install 'nasicon-workflows[remote]'`."
        ) from exc


class LiteMongoStore(MongoStore):
    """A maggma ``MongoStore`` backed by a ``litemongo`` directory instead of a MongoDB server.

    Every collection is one SQLite file under ``path/database/``; several processes (the runner,
    ``jf`` commands, a notebook) can open the same directory. Use it where no MongoDB server can
    run; for production use a real MongoDB (``MongoStore`` with ``host``/``uri``).

    Parameters
    ----------
    path
        Directory holding the databases (created on first connection).
    database
        Database name (a sub-directory of ``path``).
    collection_name
        Collection name (one SQLite file).
    **kwargs
        Passed to ``maggma.stores.MongoStore`` (``key``, ``last_updated_field``, ...).
    """

    def __init__(
        self,
        path: str | os.PathLike,
        database: str = "jobflow",
        collection_name: str = "jobs",
        **kwargs,
    ):
        # host/port are MongoStore arguments that mean nothing here; drop them so that a
        # serialised store round-trips through __init__.
        kwargs.pop("host", None)
        kwargs.pop("port", None)
        self.path = str(Path(path).expanduser().absolute())
        super().__init__(database=database, collection_name=collection_name, **kwargs)

    @property
    def name(self) -> str:
        """A string naming this data source."""
        return f"litemongo://{self.path}/{self.database}/{self.collection_name}"

    def connect(self, force_reset: bool = False) -> None:
        """Open the collection (a no-op when already open, unless ``force_reset``).

        Parameters
        ----------
        force_reset
            Reopen even if a connection exists.
        """
        if self._coll is None or force_reset:
            litemongo = _require("litemongo", "LiteMongoStore")
            sqlite_store = _require("litemongo.sqlite_store", "LiteMongoStore")
            client = litemongo.MongoClient(sqlite_store.ServerStore(self.path))
            self._coll = client[self.database][self.collection_name]

    def close(self) -> None:
        """Close the connection; closing a store that was never opened is a no-op."""
        if self._coll is not None:
            self._coll.database.client.close()
            self._coll = None

    def __hash__(self) -> int:
        """Hash on location, database, collection and update field."""
        return hash((self.path, self.database, self.collection_name, self.last_updated_field))

    def __eq__(self, other: object) -> bool:
        """Two stores are equal when they open the same collection of the same directory."""
        if not isinstance(other, LiteMongoStore):
            return False
        fields = ["path", "database", "collection_name", "last_updated_field"]
        return all(getattr(self, f) == getattr(other, f) for f in fields)


# --------------------------------------------------------------------------------------------
# Project templates
# --------------------------------------------------------------------------------------------


def template_path(template: str | os.PathLike = "embedded") -> Path:
    """Path of a project template: a name from :data:`TEMPLATES` or a file path.

    Parameters
    ----------
    template
        ``"mongodb"`` (SLURM and local workers, MongoDB stores), ``"embedded"`` (local worker,
        :class:`LiteMongoStore` stores, no server) or the path of a YAML file.

    Returns
    -------
    Path
        An existing file.
    """
    if str(template) in TEMPLATES:
        path = _FLOWS_DIR / TEMPLATES[str(template)]
        hint = (
            "the named templates live in the repository's flows/ folder; from an installed "
            "package pass the path of a copy of that file instead"
        )
    else:
        path = Path(template).expanduser()
        hint = f"use one of {sorted(TEMPLATES)} or the path of an existing YAML file"
    if not path.is_file():
        raise ProjectTemplateError(
            f"project template {str(template)!r} not found at {path}: {hint}."
        )
    return path


def default_template_values(
    name: str, base_dir: str | os.PathLike | None = None
) -> dict[str, str]:
    """Values for every placeholder of the shipped templates that has a sensible local default.

    Parameters
    ----------
    name
        Project name.
    base_dir
        Project folder (runner logs, local work dir, embedded database); default
        ``$JFREMOTE_PROJECTS_FOLDER/<name>`` or ``~/.jfremote/<name>``.

    Returns
    -------
    dict
        ``name``, ``base_dir``, ``work_dir``, ``db_path`` and ``jf_executable`` (the ``jf`` of
        this Python environment, so that jobs run with the same packages as the submitter).
    """
    if base_dir is None:
        projects = os.environ.get("JFREMOTE_PROJECTS_FOLDER", "~/.jfremote")
        base_dir = Path(projects).expanduser() / name
    base = Path(base_dir).expanduser().absolute()
    jf = Path(sys.executable).parent / "jf"
    return {
        "name": name,
        "base_dir": str(base),
        "work_dir": str(base / "work"),
        "db_path": str(base / "db"),
        "jf_executable": str(jf) if jf.exists() else "jf",
    }


def render_project(template: str | os.PathLike = "embedded", **values: Any) -> dict:
    """Fill in a project template and validate it as a jobflow-remote ``Project``.

    Placeholders are ``${name}`` (lower-case identifiers in braces); ``$$`` is a literal ``$``.

    Parameters
    ----------
    template
        Template name (see :data:`TEMPLATES`) or path.
    **values
        Value of every placeholder of the template.

    Returns
    -------
    dict
        The project configuration, as jobflow-remote reads it from YAML.

    Raises
    ------
    ProjectTemplateError
        A placeholder without a value, a YAML error, or a configuration jobflow-remote rejects.
    """
    from ruamel.yaml import YAML, YAMLError

    path = template_path(template)
    text = _Template(path.read_text())
    missing = sorted(set(text.get_identifiers()) - set(values))
    if missing:
        raise ProjectTemplateError(
            f"template {path.name} needs values for {missing}; pass them as keyword arguments "
            f"(got {sorted(values)})."
        )
    try:
        config = YAML(typ="safe").load(text.substitute({k: str(v) for k, v in values.items()}))
    except (YAMLError, ValueError) as exc:
        raise ProjectTemplateError(
            f"template {path.name} is not valid YAML once filled in: {exc}"
        ) from exc
    _validate_project(config, path.name)
    return config


def _validate_project(config: Mapping, label: str) -> None:
    """Raise ProjectTemplateError unless jobflow-remote accepts ``config`` as a Project."""
    from pydantic import ValidationError

    Project = _jobflow_remote().config.base.Project
    try:
        Project.model_validate(dict(config))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise ProjectTemplateError(
            f"{label} is not a valid jobflow-remote project: {where}: {first.get('msg')}"
        ) from exc


def write_project(
    name: str,
    template: str | os.PathLike = "embedded",
    projects_folder: str | os.PathLike | None = None,
    overwrite: bool = False,
    initialise: bool | None = None,
    **values: Any,
) -> Path:
    """Write a filled-in project file where jobflow-remote looks for projects.

    Parameters
    ----------
    name
        Project name (also the file name ``<name>.yaml``).
    template
        Template name (see :data:`TEMPLATES`) or path.
    projects_folder
        Folder of project files; default ``$JFREMOTE_PROJECTS_FOLDER`` or ``~/.jfremote``.
    overwrite
        Replace an existing project file of that name.
    initialise
        Create the queue database's indexes and counters (:func:`initialise_queue`); default
        True for the ``"embedded"`` template and False otherwise (a MongoDB server may not be
        reachable from where the file is written; run ``jf admin reset`` there once instead).
    **values
        Placeholder values; :func:`default_template_values` supplies ``base_dir``, ``work_dir``,
        ``db_path`` and ``jf_executable`` unless given.

    Returns
    -------
    Path
        The project file written.
    """
    from ruamel.yaml import YAML

    folder = Path(
        projects_folder or os.environ.get("JFREMOTE_PROJECTS_FOLDER", "~/.jfremote")
    ).expanduser()
    target = folder / f"{name}.yaml"
    if target.exists() and not overwrite:
        raise ProjectTemplateError(
            f"project file {target} exists; pass overwrite=True to replace it "
            "or choose another name."
        )
    merged = {**default_template_values(name, values.get("base_dir")), **values}
    config = render_project(template, **merged)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for key in ("base_dir",):
            Path(config.get(key) or merged[key]).mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".yaml.tmp")
        with tmp.open("w") as handle:
            YAML(typ="safe", pure=True).dump(config, handle)
        tmp.replace(target)  # atomic: a half-written project file would break every `jf` command
    except OSError as exc:
        raise RemoteSetupError(f"cannot write project file {target}: {exc}") from exc
    logger.info("wrote jobflow-remote project %s to %s", name, target)
    if initialise if initialise is not None else str(template) == "embedded":
        initialise_queue(config)
    return target


def initialise_queue(project: str | Mapping | None = None) -> bool:
    """Initialise an empty queue database (what ``jf admin reset`` does), never wiping one.

    Parameters
    ----------
    project
        Project name, or a project configuration dict as returned by :func:`render_project`.

    Returns
    -------
    bool
        True if the database was initialised, False if it already was (and was left untouched).
    """
    jfr = _jobflow_remote()
    if isinstance(project, Mapping):
        proj = jfr.config.base.Project.model_validate(dict(project))
    else:
        proj = _project(project)
    controller = proj.get_job_controller()
    try:
        if controller.auxiliary.find_one({"next_id": {"$exists": True}}) is not None:
            return False
        # Nothing to lose: no counter means no job was ever added to this queue.
        controller.reset(reset_output=False, max_limit=0)
        logger.info("initialised the queue database of project %s", proj.name)
        return True
    finally:
        controller.close()


# --------------------------------------------------------------------------------------------
# Submission, running and read-back
# --------------------------------------------------------------------------------------------


def _jobflow_remote():
    """Import jobflow_remote, or say how to install it."""
    _require("jobflow_remote.config.base", "the HPC path")
    return _require("jobflow_remote", "the HPC path")


def _project(project: str | None):
    """The jobflow-remote Project object, with a clear error when it is not configured."""
    jfr = _jobflow_remote()
    from jobflow_remote.config.base import ConfigError

    try:
        return jfr.ConfigManager().get_project(project)
    except ConfigError as exc:
        raise RemoteSetupError(
            f"jobflow-remote project {project or '(default)'} is not available: {exc}. Create one "
            "with nasicon_workflows.remote.write_project(...) or `jf project generate`, and select "
            "it with --project / JFREMOTE_PROJECT."
        ) from exc


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
    from jobflow import Flow, Job

    jfr = _jobflow_remote()
    from jobflow_remote.config.base import ConfigError, ExecutionConfig

    proj = _project(project)
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


def run_jobs(project: str | None = None, max_seconds: float = 600.0) -> None:
    """Run every queued job of a project with jobflow-remote's ``Runner``, in this process.

    The runner checks out, uploads, submits to the worker's scheduler, downloads and completes
    jobs until none is left in a running state; no daemon is started, so nothing outlives the
    call. For production use ``jf runner start`` instead.

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
    _jobflow_remote()
    from jobflow_remote.jobs.runner import Runner

    proj = _project(project)
    runner = Runner(project_name=proj.name)
    try:
        runner.run_all_jobs(max_seconds=max_seconds)
    except RuntimeError as exc:
        if "within the selected amount of time" in str(exc):
            raise RemoteTimeoutError(
                f"jobs of project {proj.name!r} were still running after {max_seconds:.0f} s; "
                "raise max_seconds or inspect them with `jf job list`."
            ) from exc
        raise
    finally:
        runner.cleanup()


class RemoteJobResult(BaseModel):
    """State and output of one job of a submitted flow, as read back from the stores."""

    db_id: str = Field(description="jobflow-remote's id of the job")
    uuid: str = Field(description="jobflow uuid of the job")
    index: int = Field(description="jobflow index (> 1 after a replace)")
    name: str = Field(description="job name")
    state: str = Field(description="jobflow-remote state (COMPLETED, FAILED, REMOTE_ERROR, ...)")
    error: str | None = Field(None, description="error message of a failed job")
    run_dir: str | None = Field(None, description="folder the job ran in on the worker")
    output: Any = Field(None, description="job output from the job store (None unless COMPLETED)")


def flow_results(
    flow_uuid: str, project: str | None = None, load_outputs: bool = True
) -> list[RemoteJobResult]:
    """Read back every job of a submitted flow (including jobs a dynamic response added).

    Parameters
    ----------
    flow_uuid
        ``flow.uuid`` of the submitted flow, or ``job.uuid`` of a job submitted on its own.
    project
        Project name (default: ``JFREMOTE_PROJECT`` or the only project).
    load_outputs
        Load the outputs of completed jobs from the project's job store.

    Returns
    -------
    list of RemoteJobResult
        Sorted by ``db_id``.
    """
    _jobflow_remote()
    proj = _project(project)
    controller = proj.get_job_controller()
    store = proj.get_jobstore() if load_outputs else None
    try:
        # job.hosts lists every enclosing flow, so jobs a dynamic response added are found too.
        query = {"$or": [{"job.hosts": flow_uuid}, {"uuid": flow_uuid}]}
        infos = controller.get_jobs_info(custom_query=query)
        if not infos:
            raise RemoteError(
                f"no job of flow {flow_uuid} in project {proj.name!r}; check the uuid "
                "(`jf flow list`) and the project."
            )
        if store is not None:
            store.connect()
        results = []
        for info in infos:
            output = None
            if store is not None and info.state.value == "COMPLETED":
                output = store.get_output(info.uuid, which=info.index, load=True)
            error = info.error or (info.remote.error if info.remote else None)
            results.append(
                RemoteJobResult(
                    db_id=str(info.db_id), uuid=info.uuid, index=info.index, name=info.name,
                    state=info.state.value, error=error, run_dir=info.run_dir, output=output,
                )
            )
    finally:
        controller.close()
        if store is not None:
            store.close()
    return sorted(results, key=lambda r: (len(r.db_id), r.db_id))


# --------------------------------------------------------------------------------------------
# A small real flow to check a project end to end before submitting a screen
# --------------------------------------------------------------------------------------------


def _descriptors_job(formulas: Sequence[str], convention: str = "paper") -> list[dict]:
    """The published M-site descriptors of each formula (runs on the worker)."""
    from nasicon_workflows.descriptors import compute_descriptors

    return [compute_descriptors(f, convention).model_dump() for f in formulas]


def _summary_job(rows: Sequence[Mapping]) -> dict:
    """Count and mean of the descriptors computed by the previous job."""
    import numpy as np

    from nasicon_workflows.descriptors import PUBLISHED_FEATURES

    return {
        "n_compositions": len(rows),
        "compositions": [r["composition"] for r in rows],
        **{f"mean_{k}": float(np.mean([r[k] for r in rows])) for k in PUBLISHED_FEATURES},
    }


def check_flow(formulas: Sequence[str], convention: str = "paper"):
    """A two-job flow (descriptors, then their mean) to test a project before a real screen.

    The second job reads the first one's output through a reference, so a completed run shows that
    the worker imports nasicon_workflows, that outputs reach the job store and that references
    resolve. An invalid formula makes the first job FAIL on the worker with the library's error.

    Parameters
    ----------
    formulas
        NASICON formulas.
    convention
        Descriptor convention (``"paper"`` or ``"shannon"``).

    Returns
    -------
    jobflow.Flow
        Jobs ``descriptors`` and ``summary``; ``flow.output`` is the summary dict.
    """
    from jobflow import Flow, job

    descriptors = job(_descriptors_job, name="descriptors")(list(formulas), convention)
    summary = job(_summary_job, name="summary")(descriptors.output)
    return Flow([descriptors, summary], output=summary.output, name="nasicon remote check")
