"""Typed errors of the end-to-end screen. Each says what was found and what to do."""

from __future__ import annotations

from nasicon_workflows.errors import NasiconWorkflowsError

__all__ = [
    "ScreenInputError",
    "UnknownDopantError",
    "EmptyCandidateSetError",
    "OutputFolderError",
    "ThresholdRangeError",
    "RelaxConfigurationError",
    "RankingWeightsError",
    "StageUnavailableError",
    "ResumeMismatchError",
    "ScreenRunError",
]


class ScreenInputError(NasiconWorkflowsError, ValueError):
    """Invalid screening settings, found before any computation starts."""


class UnknownDopantError(ScreenInputError):
    """A dopant that is not an element or has no known M-site oxidation state."""


class EmptyCandidateSetError(ScreenInputError):
    """The enumeration or the composition list yields no composition to screen."""


class OutputFolderError(ScreenInputError):
    """The output folder cannot be created or written."""


class ThresholdRangeError(ScreenInputError):
    """A probability threshold outside [0, 1]."""


class RelaxConfigurationError(ScreenInputError):
    """The requested relaxation engine is not usable here (e.g. VASP not configured)."""


class RankingWeightsError(ScreenInputError):
    """Ranking weights that are unknown, negative or all zero."""


class StageUnavailableError(NasiconWorkflowsError, RuntimeError):
    """A pipeline stage the screen needs is not installed or not built."""


class ResumeMismatchError(ScreenInputError):
    """``--resume`` on a folder that holds a screen with different settings."""


class ScreenRunError(NasiconWorkflowsError, RuntimeError):
    """The flow stopped before the aggregate job (e.g. the classifier failed)."""
