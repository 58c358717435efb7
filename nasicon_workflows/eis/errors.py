"""Typed errors of the impedance (EIS) stage; each says what was found and what to do."""

from __future__ import annotations

from nasicon_workflows.errors import NasiconWorkflowsError

__all__ = [
    "ArrheniusError",
    "CircuitError",
    "EISError",
    "FitConvergenceError",
    "GeometryError",
    "SpectrumReadError",
    "SpectrumValueError",
    "TooFewPointsError",
]


class EISError(NasiconWorkflowsError, ValueError):
    """Base class of the impedance-analysis errors."""


class SpectrumReadError(EISError):
    """A spectrum file that is missing, a folder, empty or not a table of numbers."""


class SpectrumValueError(EISError):
    """Spectrum values that cannot be analysed: NaN/inf, non-positive, duplicate or
    non-monotonic frequencies."""


class GeometryError(EISError):
    """A pellet thickness, diameter or uncertainty that is not a positive finite number."""


class CircuitError(EISError):
    """A circuit string that impedance.py cannot parse, or a role (bulk, gb) that names no
    resistor of the circuit."""


class TooFewPointsError(EISError):
    """Fewer frequencies than free parameters of the circuit."""


class FitConvergenceError(EISError):
    """The least-squares fit did not converge or left parameters undetermined."""


class ArrheniusError(EISError):
    """Conductivities and temperatures that do not allow an Arrhenius fit."""
