"""A small real flow to check a project end to end before submitting a screen."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
from jobflow import Flow, job

from nasicon_workflows.descriptors import PUBLISHED_FEATURES, compute_descriptors

__all__ = ["check_flow"]


def _descriptors_job(formulas: Sequence[str], convention: str = "paper") -> list[dict]:
    """The published M-site descriptors of each formula (runs on the worker)."""
    return [compute_descriptors(f, convention).model_dump() for f in formulas]


def _summary_job(rows: Sequence[Mapping]) -> dict:
    """Count and mean of the descriptors computed by the previous job."""
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
    descriptors = job(_descriptors_job, name="descriptors")(list(formulas), convention)
    summary = job(_summary_job, name="summary")(descriptors.output)
    return Flow([descriptors, summary], output=summary.output, name="nasicon remote check")
