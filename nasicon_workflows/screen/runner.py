"""Run the screen locally with a persistent on-disk job store, resumably.

Layout of the output folder::

    OUT/settings.json        settings of the screen (checked on --resume)
    OUT/jobstore/            jobflow JobStore: docs.json + data.json (atomically rewritten JSON)
    OUT/cache/               per-step results (configurations, relaxations, BVSE, candidates)
    OUT/bvse_maps/           cube, grd and section PNG of each candidate's first configuration
    OUT/ranking.csv, results.json, report.md, plots/, structures/   (see report.py)

The job store keeps every job output of every run, so the job uuids quoted in the ranking can be
looked up (``load_job_store(OUT).get_output(uuid)``) also for candidates finished in an earlier run.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from jobflow import JobStore, run_locally
from maggma.stores import JSONStore

from nasicon_workflows.fileio import (
    OutputPathError,
    atomic_write_text,
    output_lock,
    resolve_output_dir,
)
from nasicon_workflows.screen.documents import CandidateResult, ScreeningResult
from nasicon_workflows.screen.errors import OutputFolderError, ResumeMismatchError, ScreenRunError
from nasicon_workflows.screen.flow import ScreeningFlowMaker

__all__ = [
    "AtomicJSONStore",
    "ScreenRun",
    "check_output_folder",
    "load_job_store",
    "run_screen",
]

logger = logging.getLogger(__name__)


class AtomicJSONStore(JSONStore):
    """A file-writable maggma ``JSONStore`` whose file is replaced atomically on every write.

    maggma's ``JSONStore`` rewrites its file in place, so a process killed mid-write leaves a
    truncated file, which ``connect`` then skips (with a logged error) and the next write
    overwrites: every earlier job output would be lost. Writing a temporary file and
    :func:`os.replace`-ing it keeps the store whole whatever the moment of the kill.
    """

    def update_json_file(self) -> None:
        """Write every document to a temporary file, then move it over the store file."""
        data = list(self.query())
        for doc in data:
            doc.pop("_id", None)
        text = orjson.dumps(
            data, option=self.serialization_option, default=self.serialization_default
        ).decode("utf-8")
        atomic_write_text(self.paths[0], text)


def load_job_store(out_dir: str | Path) -> JobStore:
    """The persistent jobflow ``JobStore`` of an output folder (created if absent).

    It has the ``data`` additional store that atomate2 force-field jobs write trajectories to.
    The store files are addressed by absolute paths: jobs run with another working directory,
    and a relative path would make every write land in a copy under it.
    """
    root = Path(out_dir).expanduser().absolute() / "jobstore"
    root.mkdir(parents=True, exist_ok=True)
    docs = AtomicJSONStore(str(root / "docs.json"), read_only=False)
    data = AtomicJSONStore(str(root / "data.json"), read_only=False)
    return JobStore(docs, additional_stores={"data": data})


#: Settings a resumed screen may change: they select or rank candidates, and every computed
#: result is cached per candidate, so e.g. ``--resume --top 8`` computes only the 4 new ones.
RESUMABLE_CHANGES = ("ranking_weights", "top", "threshold", "md_top")


def _output_folder(out_dir: str | Path) -> Path:
    """``out_dir`` resolved and created, or :class:`OutputFolderError` in one line."""
    try:
        return resolve_output_dir(out_dir)
    except OutputPathError as exc:
        raise OutputFolderError(
            f"Cannot write to the output folder {str(out_dir)!r} ({exc}): choose a writable --out."
        ) from None


def check_output_folder(out_dir: str | Path, settings: dict[str, Any], resume: bool) -> Path:
    """Make sure ``out_dir`` can hold this screen; raise before any computation otherwise.

    Raises
    ------
    OutputFolderError
        The folder cannot be created or written, or holds a screen and ``resume`` is False.
    ResumeMismatchError
        ``resume`` on a folder screened with other settings (other than
        :data:`RESUMABLE_CHANGES`).
    """
    out = _output_folder(out_dir)
    _check_settings(out, settings, resume)
    atomic_write_text(out / "settings.json",
                      json.dumps(_comparable(settings), indent=2, sort_keys=True))
    return out


def _check_settings(out: Path, settings: dict[str, Any], resume: bool) -> None:
    """The checks of :func:`check_output_folder` that write nothing."""
    saved = out / "settings.json"
    if saved.exists():
        if not resume:
            raise OutputFolderError(
                f"{str(out)!r} already holds a screen: pass --resume to continue it, or choose "
                "another --out."
            )
        try:
            previous = json.loads(saved.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise OutputFolderError(
                f"Cannot read the settings of the screen in {str(out)!r} ({exc}): use a new --out."
            ) from None
        changed = {
            k: (previous.get(k), v) for k, v in _comparable(settings).items()
            if previous.get(k) != v and k not in RESUMABLE_CHANGES
        }
        if changed:
            listed = "; ".join(f"{k}: {a!r} -> {b!r}" for k, (a, b) in changed.items())
            raise ResumeMismatchError(
                f"--resume on {str(out)!r} with changed settings ({listed}): rerun with the "
                "original settings or use a new --out."
            )


def _comparable(settings: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(settings, sort_keys=True, default=str))


class _FailureCollector(logging.Handler):
    """Collects the jobs that ``run_locally`` reports as failed, with their last error line."""

    _pattern = re.compile(r"^(?P<name>.+?) failed with exception:\n(?P<trace>.*)$", re.S)

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.failures: dict[str, str] = {}

    def emit(self, record: logging.LogRecord) -> None:
        match = self._pattern.match(record.getMessage())
        if match:
            self.failures[match["name"]] = _error_line(match["trace"])


def _error_line(trace: str) -> str:
    """The exception line of a traceback plus its continuation, at most 400 characters."""
    lines = [ln.rstrip() for ln in trace.strip().splitlines() if ln.strip()]
    starts = [i for i, ln in enumerate(lines) if _EXCEPTION_LINE.match(ln)]
    if not starts:
        return lines[-1][:400] if lines else "unknown error"
    text = " ".join(ln.strip() for ln in lines[starts[-1]:] if "errors.pydantic.dev" not in ln)
    return text[:400]


_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt|Failure)\b")


@dataclass
class ScreenRun:
    """The outcome of a local screen.

    Attributes
    ----------
    result
        The aggregate job's output (with failed candidates' errors filled in).
    out_dir
        The output folder.
    failed_jobs
        Name -> last error line of every job that failed in this run.
    """

    result: ScreeningResult
    out_dir: Path
    failed_jobs: dict[str, str] = field(default_factory=dict)


def _attach_errors(result: ScreeningResult, failures: dict[str, str]) -> ScreeningResult:
    candidates: list[CandidateResult] = []
    for cand in result.candidates:
        if cand.status == "failed":
            errs = [f"{name}: {err}" for name, err in failures.items()
                    if f"[{cand.composition}" in name]
            if errs:
                cand = cand.model_copy(update={"error": "; ".join(errs)})
        candidates.append(cand)
    return result.model_copy(update={"candidates": candidates})


def run_screen(
    maker: ScreeningFlowMaker,
    out_dir: str | Path,
    compositions: Sequence[str] | None = None,
    resume: bool = False,
    write: bool = True,
    lock_timeout_s: float = 0.0,
) -> ScreenRun:
    """Run the screen locally in ``out_dir`` and write its outputs.

    Parameters
    ----------
    maker
        Screen settings; its ``cache_dir`` is set to ``out_dir/cache`` and its ``maps_dir`` to
        ``out_dir/bvse_maps``.
    out_dir
        Output folder (created). A relative path is made absolute once, here: jobs run in
        ``out_dir/jobs``, and every path they receive (cache, maps, job store) is absolute.
    compositions
        Formulas to screen; None enumerates.
    resume
        Continue a screen in ``out_dir``: finished steps are reused from its cache.
    write
        Write ranking.csv, results.json, report.md, plots, CIFs and cube files.
    lock_timeout_s
        The run holds a lock on ``out_dir``; a second run on the same folder waits this long
        for it (default 0: stop at once with :class:`~nasicon_workflows.fileio.OutputLockedError`).

    Returns
    -------
    ScreenRun
        The result and the failed jobs.

    Raises
    ------
    OutputFolderError, ResumeMismatchError, OutputLockedError
        Before any computation.
    ScreenRunError
        The flow stopped before the aggregate job (e.g. the classifier failed).
    """
    out = _output_folder(out_dir)
    settings = {**maker.settings(), "compositions": compositions}
    _check_settings(out, settings, resume)  # refuse before the lock file is made
    with output_lock(out, lock_timeout_s, what="screen"):
        return _run_locked(maker, out, compositions, resume, write)


def _run_locked(
    maker: ScreeningFlowMaker,
    out: Path,
    compositions: Sequence[str] | None,
    resume: bool,
    write: bool,
) -> ScreenRun:
    check_output_folder(out, {**maker.settings(), "compositions": compositions}, resume)
    maker.cache_dir = str(out / "cache")
    maker.maps_dir = str(out / "bvse_maps")
    flow = maker.make(compositions)
    store = load_job_store(out)
    collector = _FailureCollector()
    local_logger = logging.getLogger("jobflow.managers.local")
    previous_level = local_logger.level
    local_logger.setLevel(logging.INFO)
    local_logger.addHandler(collector)
    try:
        # VASP's double relaxation copies files between job folders, so it needs one folder per
        # job; every path the screen writes is absolute, so the changed working directory is safe.
        responses = run_locally(flow, store=store, log=False, root_dir=out / "jobs",
                                create_folders=maker.relax == "vasp")
    finally:
        local_logger.removeHandler(collector)
        local_logger.setLevel(previous_level)
    result = next(
        (r.output for by_index in responses.values() for r in by_index.values()
         if isinstance(r.output, ScreeningResult)),
        None,
    )
    if result is None:
        errors = "; ".join(f"{k}: {v}" for k, v in collector.failures.items()) or "unknown"
        raise ScreenRunError(
            f"The screen stopped before ranking ({errors}); finished steps are kept in "
            f"{str(out)!r}: fix the cause and rerun with --resume."
        )
    result = _attach_errors(result, collector.failures)
    from nasicon_workflows.screen.transport import annotate_transport, md_top_candidates

    result = annotate_transport(result)
    if maker.md_top:
        result = result.model_copy(update={"md": md_top_candidates(result, maker.md_top)})
    if write:
        from nasicon_workflows.screen.report import write_outputs

        write_outputs(result, out, failed_jobs=collector.failures)
    return ScreenRun(result=result, out_dir=out, failed_jobs=collector.failures)
