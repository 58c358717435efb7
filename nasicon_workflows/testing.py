"""Helpers for tests that compare computed records with stored ones.

Last-bit floating-point results differ between CPUs and BLAS builds
(``9.069999999999999`` on one machine, ``9.07`` on another), so a record holding floats is compared
with a tolerance, never for exact equality; every other value (strings, ints, booleans, None, the
structure of the record) must match exactly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["assert_records_close", "records_close_problems"]


def records_close_problems(
    actual: Any, expected: Any, rel: float = 1e-9, abs_: float = 1e-9, path: str = "$"
) -> list[str]:
    """Every place where two JSON-like records differ (floats within ``rel``/``abs_`` agree).

    Returns
    -------
    list of str
        ``"<path>: <actual> != <expected>"`` per difference; empty when they agree.
    """
    numbers = (int, float)
    if isinstance(actual, bool) or isinstance(expected, bool):
        return [] if actual is expected else [f"{path}: {actual!r} != {expected!r}"]
    if isinstance(actual, numbers) and isinstance(expected, numbers):
        if isinstance(actual, int) and isinstance(expected, int):
            return [] if actual == expected else [f"{path}: {actual!r} != {expected!r}"]
        a, e = float(actual), float(expected)
        if math.isnan(a) and math.isnan(e):
            return []
        if math.isclose(a, e, rel_tol=rel, abs_tol=abs_):
            return []
        return [f"{path}: {actual!r} != {expected!r} (rel {rel:g}, abs {abs_:g})"]
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        problems = []
        if set(actual) != set(expected):
            problems.append(
                f"{path}: keys differ: only in actual {sorted(set(actual) - set(expected))}, "
                f"only in expected {sorted(set(expected) - set(actual))}"
            )
        for key in sorted(set(actual) & set(expected), key=str):
            problems += records_close_problems(actual[key], expected[key], rel, abs_,
                                               f"{path}.{key}")
        return problems
    if (isinstance(actual, Sequence) and isinstance(expected, Sequence)
            and not isinstance(actual, str) and not isinstance(expected, str)):
        if len(actual) != len(expected):
            return [f"{path}: length {len(actual)} != {len(expected)}"]
        problems = []
        for i, (a, e) in enumerate(zip(actual, expected)):
            problems += records_close_problems(a, e, rel, abs_, f"{path}[{i}]")
        return problems
    return [] if actual == expected else [f"{path}: {actual!r} != {expected!r}"]


def assert_records_close(actual: Any, expected: Any, rel: float = 1e-9, abs_: float = 1e-9) -> None:
    """Assert that two JSON-like records agree, floats within a tolerance (see module doc)."""
    problems = records_close_problems(actual, expected, rel, abs_)
    assert not problems, "records differ:\n" + "\n".join(problems[:20])
