"""Input checks shared by every relaxer (force fields and VASP)."""

from __future__ import annotations

from typing import Any

from pymatgen.core import Structure

from nasicon_workflows.relax.errors import RelaxInputError

__all__ = ["validate_structure"]


def validate_structure(structure: Any) -> Structure:
    """Check that ``structure`` is an ordered, non-empty periodic pymatgen ``Structure``.

    Parameters
    ----------
    structure
        The object to relax.

    Returns
    -------
    Structure
        The same structure.
    """
    if not isinstance(structure, Structure):
        raise RelaxInputError(
            f"expected a pymatgen Structure, got {type(structure).__name__}; read a CIF with "
            "Structure.from_file(path)"
        )
    if len(structure) == 0:
        raise RelaxInputError("the structure has no sites")
    if not structure.is_ordered:
        n_mixed = sum(not site.is_ordered for site in structure)
        raise RelaxInputError(
            f"the structure has {n_mixed} partially occupied sites; relaxations need an ordered "
            "cell: order it first (nasicon_workflows.structures.order_structure)"
        )
    if structure.volume <= 0 or structure.volume / len(structure) < 1.0:
        raise RelaxInputError(
            f"cell volume {structure.volume:.2f} Å^3 for {len(structure)} sites is unphysical "
            "(< 1 Å^3 per atom); check the lattice"
        )
    return structure
