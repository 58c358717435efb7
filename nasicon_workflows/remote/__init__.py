"""Submit screening flows to HPC through jobflow-remote, and read their results back.

One module per piece:

* :mod:`~nasicon_workflows.remote.store`: :class:`LiteMongoStore`, a maggma ``MongoStore`` over a
  local litemongo directory (the Mongo API without a server, for tests and one machine);
* :mod:`~nasicon_workflows.remote.project`: the project templates shipped as package data
  (``templates/jfremote_project.yaml``: SLURM + local workers on MongoDB;
  ``templates/jfremote_project_embedded.yaml``: local worker on a ``LiteMongoStore``), filled in
  and validated by :func:`render_project`, written by :func:`write_project`;
* :mod:`~nasicon_workflows.remote.submission`: :func:`submit_screen`;
* :mod:`~nasicon_workflows.remote.runner`: :func:`run_jobs` (jobflow-remote's ``Runner`` in
  process, bounded in time);
* :mod:`~nasicon_workflows.remote.readback`: :func:`flow_results`;
* :mod:`~nasicon_workflows.remote.demo`: :func:`check_flow`, a two-job flow to test a project;
* :mod:`~nasicon_workflows.remote.executor`: :class:`PreloadedExecutor`, which starts the local
  worker's jobs as forks of one process that imported the packages once.

``python -m nasicon_workflows.remote --help`` writes a project from a template on the command line.
"""

from nasicon_workflows.remote.demo import check_flow
from nasicon_workflows.remote.errors import (
    ProjectTemplateError,
    RemoteError,
    RemoteSetupError,
    RemoteTimeoutError,
)
from nasicon_workflows.remote.executor import (
    PreloadedExecutor,
    executor_command,
    executor_socket,
)
from nasicon_workflows.remote.project import (
    TEMPLATES,
    default_template_values,
    get_project,
    initialise_queue,
    render_project,
    template_path,
    template_text,
    write_project,
)
from nasicon_workflows.remote.readback import RemoteJobResult, flow_results
from nasicon_workflows.remote.runner import run_jobs
from nasicon_workflows.remote.store import LiteMongoStore
from nasicon_workflows.remote.submission import submit_screen

__all__ = [
    "TEMPLATES",
    "LiteMongoStore",
    "PreloadedExecutor",
    "ProjectTemplateError",
    "RemoteError",
    "RemoteJobResult",
    "RemoteSetupError",
    "RemoteTimeoutError",
    "check_flow",
    "default_template_values",
    "executor_command",
    "executor_socket",
    "flow_results",
    "get_project",
    "initialise_queue",
    "render_project",
    "run_jobs",
    "submit_screen",
    "template_path",
    "template_text",
    "write_project",
]
