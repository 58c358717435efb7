"""Shared output helpers of the CLI: JSON to stdout, tables through rich."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any


def _clean(obj: Any) -> Any:
    """Make numpy scalars, NaN and pydantic models JSON-friendly (NaN -> null)."""
    if hasattr(obj, "model_dump"):
        return _clean(obj.model_dump())
    if isinstance(obj, Mapping):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if hasattr(obj, "tolist"):
        return _clean(obj.tolist())
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def print_json(obj: Any) -> None:
    """Print ``obj`` as indented JSON on stdout."""
    json.dump(_clean(obj), sys.stdout, indent=2)
    sys.stdout.write("\n")


def print_table(
    rows: Iterable[Mapping[str, Any]],
    columns: Sequence[str],
    title: str | None = None,
    formats: Mapping[str, str] | None = None,
) -> None:
    """Print rows as a rich table with the given columns and number formats."""
    from rich.console import Console
    from rich.table import Table

    formats = formats or {}
    table = Table(title=title)
    for column in columns:
        table.add_column(column, justify="left" if column == columns[0] else "right")
    for row in rows:
        cells = []
        for column in columns:
            value = row.get(column)
            fmt = formats.get(column)
            cells.append(format(value, fmt) if fmt and value is not None else str(value))
        table.add_row(*cells)
    Console(width=200).print(table)
