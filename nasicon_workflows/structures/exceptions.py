"""Typed errors of the structure stage (framework, refinements, ordering)."""

from __future__ import annotations

from nasicon_workflows.errors import NasiconWorkflowsError

__all__ = [
    "AtomBudgetError",
    "MalformedStructureError",
    "OrderingError",
    "RefinementDefectError",
    "StructureStageError",
    "UnknownReferenceError",
]


class StructureStageError(NasiconWorkflowsError, ValueError):
    """Base class of the errors of :mod:`nasicon_workflows.structures`."""


class UnknownReferenceError(StructureStageError, KeyError):
    """A reference-structure or refinement label that is not shipped."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class MalformedStructureError(StructureStageError):
    """A CIF or table that cannot be read as a NASICON structure (syntax, missing data)."""


class RefinementDefectError(StructureStageError):
    """A refinement with defects, raised in ``strict`` mode.

    Attributes
    ----------
    defects
        Every :class:`~nasicon_workflows.structures.schemas.Defect` found.
    """

    def __init__(self, message: str, defects: list | None = None) -> None:
        super().__init__(message)
        self.defects = list(defects or [])


class AtomBudgetError(StructureStageError):
    """No supercell fits the requested atom budget."""


class OrderingError(StructureStageError):
    """An ordering request that cannot be satisfied (method, k, missing oxidation states)."""
