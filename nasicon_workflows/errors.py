"""Typed exceptions of nasicon-workflows.

Every error says what was found, what was expected and what to do. The CLI turns
any :class:`NasiconWorkflowsError` into one clear line and a non-zero exit code.
"""

from __future__ import annotations

__all__ = [
    "NasiconWorkflowsError",
    "InvalidCompositionError",
    "FormulaParseError",
    "UnknownElementError",
    "InvalidMSiteElementError",
    "MSiteSumError",
    "TetrahedralSumError",
    "OxygenCountError",
    "NonPositiveAmountError",
    "ChargeBalanceError",
    "SodiumRangeError",
    "UnknownConventionError",
]


class NasiconWorkflowsError(Exception):
    """Base class of every error the package raises on purpose."""


class InvalidCompositionError(NasiconWorkflowsError, ValueError):
    """A formula that is not a valid NASICON composition."""


class FormulaParseError(InvalidCompositionError):
    """The formula text could not be read."""


class UnknownElementError(InvalidCompositionError):
    """A symbol in the formula is not a chemical element."""


class InvalidMSiteElementError(InvalidCompositionError):
    """An element that cannot occupy the octahedral M (Zr) site."""


class MSiteSumError(InvalidCompositionError):
    """The M-site cations do not add up to 2 per formula unit."""


class TetrahedralSumError(InvalidCompositionError):
    """Si + P do not add up to 3 per formula unit."""


class OxygenCountError(InvalidCompositionError):
    """The formula does not carry 12 oxygen per formula unit."""


class NonPositiveAmountError(InvalidCompositionError):
    """An element is given with a zero or negative amount."""


class ChargeBalanceError(InvalidCompositionError):
    """The formula is not charge neutral."""


class SodiumRangeError(InvalidCompositionError):
    """Na content outside the NASICON range 1 <= Na <= 4 (constants.NA_SITES_PER_FU)."""


class UnknownConventionError(NasiconWorkflowsError, ValueError):
    """A descriptor convention name that does not exist."""
