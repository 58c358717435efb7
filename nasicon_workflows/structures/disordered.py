"""Composition-only path: any valid NASICON composition -> disordered C2/c structure."""

from __future__ import annotations

from collections.abc import Mapping

from pymatgen.core import Lattice, Structure

from nasicon_workflows.composition import NasiconComposition
from nasicon_workflows.structures.occupancy import site_occupancies
from nasicon_workflows.structures.parent import build_on_framework

__all__ = ["as_composition", "disordered_structure", "parent_structure"]


def as_composition(composition: NasiconComposition | str) -> NasiconComposition:
    """A :class:`NasiconComposition` from itself or a formula (errors are the composition's)."""
    if isinstance(composition, NasiconComposition):
        return composition
    return NasiconComposition.from_formula(str(composition))


def disordered_structure(
    composition: NasiconComposition | str,
    lattice: Lattice | None = None,
    na_preference: Mapping[str, float] | None = None,
) -> Structure:
    """Disordered C2/c structure of a NASICON composition on the framework geometry.

    Parameters
    ----------
    composition
        A :class:`NasiconComposition` or a formula such as ``"Na3.5Zr1.5Lu0.5Si2PO12"``.
    lattice
        Lattice to use (default: the framework lattice, a = 15.71, b = 9.07, c = 9.21 Å,
        beta = 124.66 degrees).
    na_preference
        Relative Na1/Na2/Na3 weights; default the mean refined occupancies of Tables S4-S7.

    Returns
    -------
    Structure
        84 labelled sites with oxidation states; M1 mixes the M cations by composition, T1/T2
        hold Si x/3 + P (3-x)/3, Na sites are partially occupied.

    Raises
    ------
    InvalidCompositionError
        For an invalid formula (from :mod:`nasicon_workflows.composition`).
    StructureStageError
        For more Na than the 4 Na sites per formula unit.
    """
    comp = as_composition(composition)
    occ = site_occupancies(comp, na_preference)
    return build_on_framework(occ, comp.all_oxidation_states, lattice)


def parent_structure() -> Structure:
    """The C2/c Na3Zr2Si2PO12 parent: 84 sites, labels, oxidation states, partial occupancies.

    Na (3 per formula unit over 4 sites) is spread by the default site preference of
    :func:`nasicon_workflows.structures.occupancy.na_site_occupancies`; every T site holds
    Si 2/3 + P 1/3. Geometry and lattice are those of
    :func:`nasicon_workflows.structures.parent.framework_geometry`.
    """
    return disordered_structure("Na3Zr2Si2PO12")
