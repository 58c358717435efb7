"""The default enumeration grid is the one the screen's cell realises exactly (brute force)."""

from __future__ import annotations

import itertools
from fractions import Fraction

import numpy as np
import pytest

from nasicon_workflows.classifier import EnumerationRulesError
from nasicon_workflows.composition import DEFAULT_OXIDATION_STATES
from nasicon_workflows.enumeration import EnumerationRules, enumerate_candidates

POOL = ("Zr", "Sc", "Ti", "Mg", "Ta", "Hf")


def _realised_exactly(amounts: dict[str, Fraction], n_fu: int) -> bool:
    """Integer counts of every species of a cell of n_fu formula units, Na on its 4 n_fu sites."""
    return all((x * n_fu).denominator == 1 for x in amounts.values()) and (
        0 <= amounts["Na"] * n_fu <= 4 * n_fu
    )


def _brute_force_cell(pool, n_fu: int, na_range, n_cations) -> set[tuple]:
    """Every composition on a grid 2x finer than the cell's that the cell realises exactly."""
    fine = 2 * n_fu  # amounts in multiples of 1 / (2 n_fu): finer than the grid of the cell
    out = set()
    for vec in itertools.product(range(2 * fine + 1), repeat=len(pool)):
        if sum(vec) != 2 * fine or not n_cations[0] <= sum(v > 0 for v in vec) <= n_cations[1]:
            continue
        amounts = {el: Fraction(v, fine) for el, v in zip(pool, vec)}
        na = 11 - sum(x * DEFAULT_OXIDATION_STATES[el] for el, x in amounts.items())
        amounts |= {"Na": na, "Si": Fraction(2), "P": Fraction(1)}
        if na_range[0] <= na <= na_range[1] and _realised_exactly(amounts, n_fu):
            out.add(tuple(Fraction(v, fine) for v in vec))
    return out


def _enumerated(rules) -> set[tuple]:
    rows = np.vstack([c.amounts for c in enumerate_candidates(rules)])
    return {tuple(Fraction(a).limit_denominator(1000) for a in row) for row in rows}


def test_default_grid_is_the_84_site_cell():
    rules = EnumerationRules()
    assert rules.step == 0.25 and rules.cell_formula_units == 4


@pytest.mark.parametrize("n_fu", [4, 2])
def test_enumeration_is_exactly_the_compositions_the_cell_realises(n_fu):
    pool = POOL[:4] if n_fu == 4 else POOL[:5]
    rules = EnumerationRules(dopant_pool=pool, n_cations=(1, 3), na_range=(3.0, 4.0),
                             cell_formula_units=n_fu)
    assert rules.step == pytest.approx(1 / n_fu)
    got = _enumerated(rules)
    assert got and got == _brute_force_cell(pool, n_fu, (3, 4), (1, 3))


def test_enumerated_compositions_are_realised_by_the_supercell_search():
    """Every enumerated composition gets an exact 84-site cell from the structures stage."""
    from nasicon_workflows.structures import disordered_structure
    from nasicon_workflows.structures.supercell import exact_supercell

    rules = EnumerationRules(dopant_pool=("Zr", "Sc", "Ti", "Mg", "Ta", "Ga", "Lu"),
                             n_cations=(2, 5), min_entropy_R=1.0)
    comps = [c for chunk in enumerate_candidates(rules) for c in chunk.compositions()]
    rng = np.random.default_rng(0)
    for i in rng.choice(len(comps), size=min(25, len(comps)), replace=False):
        choice = exact_supercell(disordered_structure(comps[i]), max_atoms=84)
        assert choice.composition_error < 1e-9, comps[i].formula
        assert choice.n_formula_units == 4 and choice.scaling == (1, 1, 1)


def test_finer_grid_derives_its_cell_and_inconsistent_pairs_are_refused():
    assert EnumerationRules(step=0.1).cell_formula_units == 10
    assert EnumerationRules(cell_formula_units=10).step == pytest.approx(0.1)
    assert EnumerationRules(step=0.25, si=1.9).cell_formula_units == 20
    with pytest.raises(EnumerationRulesError, match="not realised exactly by a cell of 4"):
        EnumerationRules(step=0.1, cell_formula_units=4).validate()
    with pytest.raises(EnumerationRulesError, match="4 Na sites per formula unit"):
        EnumerationRules(na_range=(3.0, 4.5)).validate()
