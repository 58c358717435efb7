"""Reading the structure file a subcommand is given, with the stage's own error type."""

from __future__ import annotations

from pathlib import Path

__all__ = ["read_structure_file"]


def read_structure_file(path: str, error: type[Exception]):
    """Read a structure file (CIF, POSCAR, ...) with pymatgen.

    Parameters
    ----------
    path
        The file named on the command line.
    error
        The stage's typed error (e.g. the BVSE or transport ``StructureReadError``), raised with a
        one-line message so that the CLI prints ``error: ...`` and exits 2.

    Returns
    -------
    pymatgen.core.Structure

    Raises
    ------
    error
        The file does not exist or pymatgen cannot read a structure from it.
    """
    from pymatgen.core import Structure

    if not Path(path).is_file():
        raise error(f"structure file {path!r} does not exist")
    try:
        return Structure.from_file(path)
    except Exception as exc:  # pymatgen raises many types for unreadable files
        raise error(f"cannot read a structure from {path!r}: {exc}") from None
