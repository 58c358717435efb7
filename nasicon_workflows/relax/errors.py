"""Typed errors of the relaxation and phonon stage.

Each one is raised before any computation starts and says what was asked, what is missing and
what to do about it.
"""

from __future__ import annotations

from nasicon_workflows.errors import NasiconWorkflowsError

__all__ = [
    "RelaxationError",
    "UnknownRelaxerError",
    "ForceFieldUnavailableError",
    "VaspNotConfiguredError",
    "RelaxInputError",
    "PhononSettingsError",
]


class RelaxationError(NasiconWorkflowsError):
    """Base class of the errors of the relaxation stage."""


class UnknownRelaxerError(RelaxationError, ValueError):
    """A relaxer name that is not one of the supported force fields or VASP."""


class ForceFieldUnavailableError(RelaxationError, RuntimeError):
    """The force-field package or its weights are not installed on this machine."""


class VaspNotConfiguredError(RelaxationError, RuntimeError):
    """VASP cannot run here: no executable on PATH or no POTCAR directory configured."""


class RelaxInputError(RelaxationError, ValueError):
    """A structure or setting that cannot be relaxed (disordered sites, bad fmax, ...)."""


class PhononSettingsError(RelaxationError, ValueError):
    """Phonon settings that cannot give a meaningful free energy (bad temperatures, ...)."""
