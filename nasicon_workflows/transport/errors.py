"""Typed errors of the transport stage (KMC and its validation)."""

from __future__ import annotations

from nasicon_workflows.errors import NasiconWorkflowsError

__all__ = [
    "KMCSettingsError",
    "LatticeConstructionError",
    "StructureReadError",
    "TransportError",
]


class TransportError(NasiconWorkflowsError, ValueError):
    """Base class of the transport stage's errors."""


class StructureReadError(TransportError):
    """A structure file that does not exist or cannot be read."""


class LatticeConstructionError(TransportError):
    """The Na-site lattice cannot be built (no Na, cell not on the C2/c framework, no hops)."""


class KMCSettingsError(TransportError):
    """A KMC setting out of range (temperatures, steps, runs, interaction parameters)."""
