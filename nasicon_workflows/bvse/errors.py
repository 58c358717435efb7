"""Typed errors of the BVSE stage; each says what was found and what to do."""

from __future__ import annotations

from nasicon_workflows.errors import NasiconWorkflowsError

__all__ = [
    "BVSEError",
    "GridTooLargeError",
    "MissingMobileIonError",
    "MissingAnionError",
    "MissingOxidationStatesError",
    "MissingParametersError",
    "PartialOccupancyError",
    "InvalidBVSESettingError",
    "EnsembleUnavailableError",
    "StructureReadError",
]


class BVSEError(NasiconWorkflowsError, ValueError):
    """Base class of the BVSE stage errors."""


class MissingMobileIonError(BVSEError):
    """The structure holds no site of the mobile ion."""


class MissingAnionError(BVSEError):
    """The structure holds no anion for the mobile ion to bond to."""


class MissingOxidationStatesError(BVSEError):
    """Oxidation states are absent and could not be assigned by bond valence analysis."""


class MissingParametersError(BVSEError):
    """The softBV table has no parameters for a mobile-ion / counter-ion pair."""


class PartialOccupancyError(BVSEError):
    """A disordered (partially occupied) structure was given where an ordered one is needed."""


class GridTooLargeError(BVSEError):
    """The requested grid would exceed the memory bound."""


class InvalidBVSESettingError(BVSEError):
    """A setting (resolution, cutoff, screening factor, ion) outside its valid range."""


class EnsembleUnavailableError(BVSEError):
    """An ensemble over orderings was requested but no ordered configurations could be made."""


class StructureReadError(BVSEError):
    """A structure file that cannot be read."""
