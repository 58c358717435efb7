"""Reading a submitted flow back: every job's state, error and output."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from nasicon_workflows.remote.errors import RemoteError, jobflow_remote
from nasicon_workflows.remote.project import get_project

__all__ = ["RemoteJobResult", "flow_results"]


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
    jobflow_remote()
    proj = get_project(project)
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
