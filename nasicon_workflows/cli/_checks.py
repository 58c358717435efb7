"""Range checks of command-line numbers, run before any computation (one clear line each)."""

from __future__ import annotations

import math

from nasicon_workflows.errors import NasiconWorkflowsError

__all__ = ["SEED_RANGE", "CommandInputError", "check_finite", "check_int_range", "check_seed"]

#: numpy's seeds (``RandomState``, ``SeedSequence`` entropy of the orderings): 0 .. 2**32 - 1.
SEED_RANGE = (0, 2**32 - 1)


class CommandInputError(NasiconWorkflowsError, ValueError):
    """A command-line value outside its valid range."""


def check_seed(seed: int, flag: str = "--seed") -> int:
    """Raise a one-line error for a seed numpy would refuse deep inside a stage."""
    if not SEED_RANGE[0] <= seed <= SEED_RANGE[1]:
        raise CommandInputError(
            f"{flag} {seed} is outside {SEED_RANGE[0]}..{SEED_RANGE[1]} (numpy seeds are "
            "unsigned 32-bit integers): give e.g. --seed 0."
        )
    return seed


def check_int_range(flag: str, value: int, low: int, high: int | None = None) -> int:
    """``low <= value (<= high)`` or a one-line error naming the flag."""
    if value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"within {low}..{high}"
        raise CommandInputError(f"{flag} must be {bound}, got {value}.")
    return value


def check_finite(flag: str, value: float, positive: bool = False,
                 non_negative: bool = False) -> float:
    """A finite number (and > 0 / >= 0 when asked) or a one-line error naming the flag."""
    if not math.isfinite(value):
        raise CommandInputError(f"{flag} must be a finite number, got {value}.")
    if positive and value <= 0:
        raise CommandInputError(f"{flag} must be > 0, got {value}.")
    if non_negative and value < 0:
        raise CommandInputError(f"{flag} must be >= 0, got {value}.")
    return value
