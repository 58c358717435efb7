"""Starting lattices: radius scaling (Shannon 1976 CN VI radii) and a relaxed sibling's lattice."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from nasicon_workflows.relax import RelaxInputError
from nasicon_workflows.relax.start import (
    lattice_scale_factor,
    on_relaxed_lattice,
    radius_scaled_structure,
)


def test_scale_factor_from_shannon_radii():
    assert lattice_scale_factor("Na3Zr2Si2PO12") == pytest.approx(1.0)
    # ME1: Zr 72, Ti 60.5, Lu 86.1 pm (Shannon 1976, CN VI); mean over 2 M sites
    r = (72.0 * 1 + 60.5 * 0.5 + 86.1 * 0.5) / 2
    assert lattice_scale_factor("Na3.5Zr1Ti0.5Lu0.5Si2PO12") == pytest.approx((r + 140) / 212)
    # Sc (74.5 pm) expands, Ti (60.5 pm) shrinks
    assert lattice_scale_factor("Zr1.5Sc0.5Si2PO12") > 1 > lattice_scale_factor("Zr1Ti1Si2PO12")


def _cell(a=10.0):
    return Structure(Lattice.cubic(a), ["Na", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]],
                     labels=["Na1", "O1"])


def test_radius_scaled_structure_keeps_fractions_and_labels():
    s = radius_scaled_structure(_cell(), "Zr1.5Sc0.5Si2PO12")
    f = lattice_scale_factor("Zr1.5Sc0.5Si2PO12")
    assert s.lattice.a == pytest.approx(10.0 * f)
    assert np.allclose(s.frac_coords, _cell().frac_coords)
    assert [x.label for x in s] == ["Na1", "O1"]


def test_on_relaxed_lattice_and_its_refusals():
    relaxed = _cell(10.3)
    s = on_relaxed_lattice(_cell(), relaxed)
    assert s.lattice.a == pytest.approx(10.3) and np.allclose(s.frac_coords, _cell().frac_coords)
    with pytest.raises(RelaxInputError, match="not orderings of the same supercell"):
        on_relaxed_lattice(_cell(), Structure(Lattice.cubic(10), ["Na"], [[0, 0, 0]]))
    with pytest.raises(RelaxInputError, match="not the same supercell"):
        on_relaxed_lattice(_cell(), _cell(20.0))
