"""Errors of the jobflow-remote path and the import of its optional dependencies."""

from __future__ import annotations

import importlib

from nasicon_workflows.errors import NasiconWorkflowsError

__all__ = [
    "ProjectTemplateError",
    "RemoteError",
    "RemoteSetupError",
    "RemoteTimeoutError",
    "jobflow_remote",
    "require",
]


class RemoteError(NasiconWorkflowsError):
    """Base class of the errors of the jobflow-remote path."""


class RemoteSetupError(RemoteError, RuntimeError):
    """jobflow-remote or the project is missing or misconfigured."""


class ProjectTemplateError(RemoteError, ValueError):
    """A project template that cannot be found, filled in or validated."""


class RemoteTimeoutError(RemoteError, TimeoutError):
    """The runner did not bring every job to an end state in the time allowed."""


def require(module: str, purpose: str):
    """Import an optional dependency of the ``remote`` extra, or say how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RemoteSetupError(
            f"{purpose} needs the '{module.split('.')[0]}' package; install it with "
            "`pip install 'nasicon-workflows[remote]'`."
        ) from exc


def jobflow_remote():
    """Import jobflow_remote, or say how to install it."""
    require("jobflow_remote.config.base", "the HPC path")
    return require("jobflow_remote", "the HPC path")
