"""The jobflow-remote project: the shipped templates (package data), filling them in, validating
them, writing the project file and initialising its queue."""

from __future__ import annotations

import io
import logging
import os
import string
import sys
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML, YAMLError

from nasicon_workflows.fileio import atomic_write_text
from nasicon_workflows.remote.errors import ProjectTemplateError, RemoteSetupError, jobflow_remote

logger = logging.getLogger(__name__)

__all__ = [
    "TEMPLATES",
    "default_template_values",
    "get_project",
    "initialise_queue",
    "render_project",
    "template_path",
    "template_text",
    "write_project",
]

#: Named project templates shipped with the package (``nasicon_workflows/remote/templates/``).
TEMPLATES = {
    "mongodb": "jfremote_project.yaml",
    "embedded": "jfremote_project_embedded.yaml",
}


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


def template_path(template: str | os.PathLike = "embedded") -> Path:
    """Path of a project template: a name from :data:`TEMPLATES` or a file path.

    The named templates are package data (``nasicon_workflows/remote/templates/``), so they are
    found in an editable checkout and in a normal (wheel) installation alike.

    Parameters
    ----------
    template
        ``"mongodb"`` (SLURM and local workers, MongoDB stores), ``"embedded"`` (local worker,
        :class:`~nasicon_workflows.remote.store.LiteMongoStore` stores, no server) or the path
        of a YAML file.

    Returns
    -------
    Path
        An existing file.
    """
    if str(template) in TEMPLATES:
        resource = resources.files("nasicon_workflows.remote").joinpath(
            "templates", TEMPLATES[str(template)]
        )
        path = Path(str(resource))
        hint = "the installation is incomplete: reinstall nasicon-workflows"
    else:
        path = Path(template).expanduser()
        hint = f"use one of {sorted(TEMPLATES)} or the path of an existing YAML file"
    if not path.is_file():
        raise ProjectTemplateError(
            f"project template {str(template)!r} not found at {path}: {hint}."
        )
    return path


def template_text(template: str | os.PathLike = "embedded") -> str:
    """The unfilled text of a project template (to copy and edit by hand)."""
    return template_path(template).read_text()


def default_template_values(
    name: str, base_dir: str | os.PathLike | None = None, executor: bool = False
) -> dict[str, str]:
    """Values for every placeholder of the shipped templates that has a sensible local default.

    Parameters
    ----------
    name
        Project name.
    base_dir
        Project folder (runner logs, local work dir, embedded database); default
        ``$JFREMOTE_PROJECTS_FOLDER/<name>`` or ``~/.jfremote/<name>``.
    executor
        The local worker starts jobs through the preloaded executor
        (:mod:`~nasicon_workflows.remote.executor`) instead of a new ``jf`` process per job.

    Returns
    -------
    dict
        ``name``, ``base_dir``, ``work_dir``, ``db_path``, ``jf_executable`` (the ``jf`` of
        this Python environment, so that jobs run with the same packages as the submitter),
        ``execution_cmd`` (that ``jf``, or the executor's client), ``max_jobs`` (1) and
        ``runner_delay_s`` (1).
    """
    from nasicon_workflows.remote.executor import executor_command, executor_socket

    if base_dir is None:
        projects = os.environ.get("JFREMOTE_PROJECTS_FOLDER", "~/.jfremote")
        base_dir = Path(projects).expanduser() / name
    base = Path(base_dir).expanduser().absolute()
    jf_path = Path(sys.executable).parent / "jf"
    jf = str(jf_path) if jf_path.exists() else "jf"
    return {
        "name": name,
        "base_dir": str(base),
        "work_dir": str(base / "work"),
        "db_path": str(base / "db"),
        "jf_executable": jf,
        "execution_cmd": (executor_command(executor_socket(base), jf) if executor
                          else f"{jf} -fe execution run {{}}"),
        "max_jobs": "1",
        "runner_delay_s": "1",
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
    Project = jobflow_remote().config.base.Project
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
    executor: bool = False,
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
    executor
        The local worker starts jobs through the preloaded executor (a template with an
        ``${execution_cmd}`` placeholder, such as ``"embedded"``); :func:`run_jobs` starts it.
    **values
        Placeholder values; :func:`default_template_values` supplies ``base_dir``, ``work_dir``,
        ``db_path``, ``jf_executable``, ``execution_cmd``, ``max_jobs`` and ``runner_delay_s``
        unless given.

    Returns
    -------
    Path
        The project file written.
    """
    folder = Path(
        projects_folder or os.environ.get("JFREMOTE_PROJECTS_FOLDER", "~/.jfremote")
    ).expanduser()
    target = folder / f"{name}.yaml"
    if target.exists() and not overwrite:
        raise ProjectTemplateError(
            f"project file {target} exists; pass overwrite=True to replace it "
            "or choose another name."
        )
    merged = {**default_template_values(name, values.get("base_dir"), executor), **values}
    config = render_project(template, **merged)
    if executor and not any(
        w.get("execution_cmd") == merged["execution_cmd"] for w in config["workers"].values()
    ):
        raise ProjectTemplateError(
            f"template {str(template)!r} has no worker with an ${{execution_cmd}} placeholder, so "
            "it cannot use the preloaded executor; use the 'embedded' template or set the "
            "worker's execution_cmd by hand (nasicon_workflows.remote.executor_command)."
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for key in ("base_dir",):
            Path(config.get(key) or merged[key]).mkdir(parents=True, exist_ok=True)
        buffer = io.StringIO()
        YAML(typ="safe", pure=True).dump(config, buffer)
        # atomic: a half-written project file would break every `jf` command
        atomic_write_text(target, buffer.getvalue())
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

    Notes
    -----
    The indexes of the queue and of the job store are built again on a fresh connection after
    the reset: jobflow-remote's reset drops them with ``drop_indexes()``, which in litemongo
    0.2 replaces the collection's on-disk index table by an in-memory dict, so the indexes built
    next would exist only for that connection and every other one (the runner) would scan and
    decode every document on every query (measured: the runner's time per job grew with the
    number of jobs, see docs/hpc.md).
    """
    from nasicon_workflows.remote.store import private_connections

    jfr = jobflow_remote()
    if isinstance(project, Mapping):
        proj = jfr.config.base.Project.model_validate(dict(project))
    else:
        proj = get_project(project)
    with private_connections():  # the reset's connections, closed at once
        controller = proj.get_job_controller()
        try:
            if controller.auxiliary.find_one({"next_id": {"$exists": True}}) is not None:
                return False
            # Nothing to lose: no counter means no job was ever added to this queue.
            controller.reset(reset_output=False, max_limit=0)
        finally:
            controller.close()
    controller = proj.get_job_controller()
    try:
        # job.hosts: reading a flow back and appending the jobs a dynamic response adds
        controller.build_indexes(drop=False, job_custom_indexes=["job.hosts"])
    finally:
        controller.close()
    logger.info("initialised the queue database of project %s", proj.name)
    return True


def get_project(project: str | None = None):
    """The jobflow-remote Project object, with a clear error when it is not configured."""
    jfr = jobflow_remote()
    from jobflow_remote.config.base import ConfigError

    try:
        return jfr.ConfigManager().get_project(project)
    except ConfigError as exc:
        raise RemoteSetupError(
            f"jobflow-remote project {project or '(default)'} is not available: {exc}. Create one "
            "with nasicon_workflows.remote.write_project(...) or `jf project generate`, and select "
            "it with --project / JFREMOTE_PROJECT."
        ) from exc
