"""Starting lattices of relaxations: radius-scaled from the composition, or a relaxed sibling's.

Most optimizer steps of a NASICON cell relaxation go into the lattice (the cell part of the
generalised force is the last to fall below fmax; docs/relax_convergence.md). Two cheap ways to
start closer to the relaxed lattice:

* :func:`radius_scaled_structure`: the framework lattice scaled isotropically by
  (r_M + r_O) / (r_Zr + r_O), with r_M the amount-weighted mean CN VI Shannon radius of the
  M-site cations (Shannon, Acta Cryst. A 1976, 32, 751) and r_O = 140 pm: the M-O bond length
  scales the corner-sharing framework;
* :func:`on_relaxed_lattice`: a second ordering of the same composition and supercell started on
  the relaxed lattice of the first one (fractional coordinates kept).
"""

from __future__ import annotations

import numpy as np
from pymatgen.core import Lattice, Species, Structure

from nasicon_workflows.relax.errors import RelaxInputError

__all__ = ["O_RADIUS_VI_PM", "lattice_scale_factor", "on_relaxed_lattice",
           "radius_scaled_structure"]

#: Shannon (1976) radius of O2- in CN VI, pm.
O_RADIUS_VI_PM = 140.0


def lattice_scale_factor(composition) -> float:
    """(r_M + r_O) / (r_Zr + r_O) of a composition (formula or NasiconComposition)."""
    from nasicon_workflows.composition import NasiconComposition

    comp = composition if isinstance(composition, NasiconComposition) else (
        NasiconComposition.from_formula(str(composition)))
    ox = comp.all_oxidation_states
    r_m = sum(x * Species(el, ox[el]).get_shannon_radius("VI") * 100
              for el, x in comp.m_site.items()) / sum(comp.m_site.values())
    r_zr = Species("Zr", 4).get_shannon_radius("VI") * 100
    return float((r_m + O_RADIUS_VI_PM) / (r_zr + O_RADIUS_VI_PM))


def radius_scaled_structure(structure: Structure, composition) -> Structure:
    """``structure`` with its lattice scaled by :func:`lattice_scale_factor` (fractions kept)."""
    f = lattice_scale_factor(composition)
    return Structure(Lattice(structure.lattice.matrix * f), structure.species,
                     structure.frac_coords, labels=[s.label for s in structure])


def on_relaxed_lattice(structure: Structure, relaxed: Structure, max_strain: float = 0.1) -> Structure:
    """``structure`` (fractional coordinates kept) on the lattice of a relaxed sibling cell.

    Parameters
    ----------
    structure
        An unrelaxed ordering.
    relaxed
        The relaxed structure of another ordering of the same supercell.
    max_strain
        Largest relative change of any lattice vector length accepted (a larger one means the
        two cells are not the same supercell).

    Raises
    ------
    RelaxInputError
        Different number of sites or lattices that are not the same supercell.
    """
    if len(structure) != len(relaxed):
        raise RelaxInputError(
            f"the relaxed sibling has {len(relaxed)} sites, this ordering {len(structure)}: "
            "they are not orderings of the same supercell"
        )
    a0, a1 = np.array(structure.lattice.abc), np.array(relaxed.lattice.abc)
    if np.abs(a1 / a0 - 1).max() > max_strain:
        raise RelaxInputError(
            f"lattice lengths {np.round(a0, 3).tolist()} Å vs the relaxed sibling's "
            f"{np.round(a1, 3).tolist()} Å differ by more than {max_strain:.0%}: not the same "
            "supercell"
        )
    return Structure(relaxed.lattice, structure.species, structure.frac_coords,
                     labels=[s.label for s in structure])
