"""Fixtures shared by test files of several stages (the screen's stand-ins are in screen/)."""

from __future__ import annotations

import pytest
from pymatgen.core import Lattice, Structure


def _nzp_primitive() -> Structure:
    s = Structure.from_spacegroup(
        "R-3c", Lattice.hexagonal(9.07, 22.72), ["Na", "Zr", "P", "O", "O"],
        [[0, 0, 0], [0, 0, 0.1459], [0.2893, 0, 0.25], [0.1771, -0.0311, 0.1931],
         [0.1923, 0.1683, 0.0862]],
    ).get_primitive_structure()
    s.add_oxidation_state_by_element({"Na": 1, "Zr": 4, "P": 5, "O": -2})
    for site in s:
        if site.specie.symbol == "Na":
            site.label = "Na1"
    return s


@pytest.fixture(scope="session")
def nzp_primitive():
    """Builder of rhombohedral NaZr2(PO4)3 (36-atom primitive cell, Na sites labelled Na1) from
    the R-3c parameters of Hagman & Kierkegaard, Acta Chem. Scand. 1968, 22, 1822; each call
    returns a fresh structure that a test may change."""
    return _nzp_primitive
