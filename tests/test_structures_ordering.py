"""Ordered supercells: charge neutrality, labels, Ewald energies, supercell choice, SQS, errors.

Independent checks: energies are recomputed with pymatgen's EwaldSummation on the ordered cells;
the Ewald minimum of a reduced problem is compared with pymatgen's
OrderDisorderedStructureTransformation on the same disordered cell; composition errors are
worked out by hand from the HE1-NZSP formula.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Structure
from pymatgen.core.ewald import EwaldSummation

from nasicon_workflows.structures import (
    AtomBudgetError,
    OrderingError,
    choose_supercell,
    disordered_structure,
    load_reference_structure,
    order_structure,
)
from nasicon_workflows.structures.ordering import copy_pool_ordering, pooled_disordered_supercell
from nasicon_workflows.structures.parent import SITE_LABELS, sublattice_of

FAST = dict(n_restarts=16, n_sweeps=300)


@pytest.fixture(scope="module")
def me1():
    return load_reference_structure("ME1-NZSP")


@pytest.fixture(scope="module")
def me1_configs(me1):
    return order_structure(me1, k=3, method="ewald", seed=0, **FAST)


def test_ordered_cells_are_neutral_decorated_and_labelled(me1_configs):
    assert len(me1_configs) == 3
    for c in me1_configs:
        s = c.structure
        assert s.is_ordered
        assert all(sp.oxi_state is not None for sp in s.species)
        assert sum(sp.oxi_state for sp in s.species) == pytest.approx(0.0)
        assert c.net_charge == pytest.approx(0.0)
        labels = Counter(site.label for site in s)
        # Every framework site except the Na vacancies survives with its label.
        assert set(labels) == set(SITE_LABELS)
        assert sum(labels[lab] for lab in ("Na1", "Na2", "Na3")) == 14
        assert labels["M1"] == 8 and labels["T1"] + labels["T2"] == 12
        assert {sp.symbol for sp, site in zip(s.species, s) if site.label == "M1"} == {"Zr", "Ti", "Lu"}
        comp = s.composition.element_composition
        assert (comp["Na"], comp["Zr"], comp["Ti"], comp["Lu"], comp["Si"], comp["P"]) == (14, 4, 2, 2, 8, 4)
        assert c.composition_error == pytest.approx(0.0, abs=1e-12)
        assert c.realised_amounts["Na"] == pytest.approx(3.5)


def test_scores_are_pymatgen_ewald_energies_sorted_and_distinct(me1_configs):
    energies = [EwaldSummation(c.structure).total_energy for c in me1_configs]
    np.testing.assert_allclose([c.score for c in me1_configs], energies, atol=1e-6)
    assert [c.score for c in me1_configs] == sorted(c.score for c in me1_configs)
    matcher = StructureMatcher()
    for i in range(3):
        for j in range(i + 1, 3):
            assert not matcher.fit(me1_configs[i].structure, me1_configs[j].structure)


def test_same_seed_same_output(me1, me1_configs):
    again = order_structure(me1, k=3, method="ewald", seed=0, **FAST)
    assert [c.score for c in again] == [c.score for c in me1_configs]
    assert [str(s.species) for s in (c.structure for c in again)] == [
        str(s.species) for s in (c.structure for c in me1_configs)
    ]


def test_copy_pool_ordering_fixes_only_the_named_pools(me1, me1_configs):
    cell = pooled_disordered_supercell(me1, 100)
    best = me1_configs[0].structure
    fixed = copy_pool_ordering(cell, best, ("T",))
    assert len(fixed) == len(cell)  # no vacancy on the T sites
    for site in fixed:
        pool = sublattice_of(site.label)
        assert site.is_ordered == (pool in ("T", "O")), site
    # T species of the fixed cell = T species of the ordering, site by site (independent match)
    t_fixed = sorted((tuple(np.round(s.frac_coords % 1.0, 4)), s.specie.symbol) for s in fixed
                     if sublattice_of(s.label) == "T")
    t_best = sorted((tuple(np.round(s.frac_coords % 1.0, 4)), s.specie.symbol) for s in best
                    if sublattice_of(s.label) == "T")
    assert t_fixed == t_best
    # fixing every pool reproduces the ordering, Na vacancies removed
    full = copy_pool_ordering(cell, best, ("Na", "M", "T"))
    assert full.is_ordered and full.composition == best.composition


def test_minimum_matches_pymatgen_order_disordered_on_the_same_problem(me1, me1_configs):
    from pymatgen.transformations.standard_transformations import (
        OrderDisorderedStructureTransformation,
    )

    # M-site and Na/vacancy ordering with Si/P fixed: small enough for pymatgen (~1 s).
    cell = copy_pool_ordering(pooled_disordered_supercell(me1, 100), me1_configs[0].structure,
                              ("T",))
    ours = order_structure(cell, k=1, max_atoms=1000, seed=3, **FAST)[0]
    theirs = OrderDisorderedStructureTransformation().apply_transformation(cell, return_ranked_list=1)
    e_theirs = EwaldSummation(theirs[0]["structure"]).total_energy
    assert ours.score <= e_theirs + 1e-6


def test_supercell_choice_minimises_composition_error():
    he1 = load_reference_structure("HE1-NZSP")
    # 4 formula units: Hf 1.6 -> 2 and Ga 0.4 -> 0, i.e. Hf 0.5, Ga 0 per f.u.: error 0.1.
    small = choose_supercell(he1, max_atoms=100)
    assert small.scaling == (1, 1, 1)
    assert small.composition_error == pytest.approx(0.1)
    # 8 formula units: Hf 3.2 -> 3, Ga 0.8 -> 1: error 0.025; Na 29 from neutrality = 3.625.
    big = choose_supercell(he1, max_atoms=200)
    assert np.prod(big.scaling) == 2 and big.n_atoms == 165
    assert big.composition_error == pytest.approx(0.025)
    assert big.realised_amounts["Na"] == pytest.approx(3.625)
    assert big.counts["M"] == {"Zr": 4, "Ti": 4, "Hf": 3, "Lu": 4, "Ga": 1}
    # Among two-cell supercells the most compact one wins (b and c are ~9 Å, a is 15.6 Å).
    assert big.scaling in ((1, 2, 1), (1, 1, 2))


def test_he1_168_site_cell_orders_neutral_with_target_error():
    he1 = load_reference_structure("HE1-NZSP")
    configs = order_structure(he1, k=2, seed=1, n_restarts=8, n_sweeps=300)
    for c in configs:
        assert len(c.structure) == 165 and c.net_charge == pytest.approx(0.0)
        assert c.composition_error == pytest.approx(0.025)
        assert c.score == pytest.approx(EwaldSummation(c.structure).total_energy, abs=1e-6)


def test_sqs_m_site_orderings(me1):
    configs = order_structure(me1, k=2, method="sqs", seed=5, sqs_iterations=20000, n_sweeps=200)
    again = order_structure(me1, k=2, method="sqs", seed=5, sqs_iterations=20000, n_sweeps=200)
    assert [c.score for c in configs] == [c.score for c in again]
    for c in configs:
        assert c.method == "sqs" and c.correlation_mismatch == c.score
        assert c.net_charge == pytest.approx(0.0)
        m = Counter(sp.symbol for sp, site in zip(c.structure.species, c.structure) if site.label == "M1")
        assert m == {"Zr": 4, "Ti": 2, "Lu": 2}
        assert c.ewald_energy_eV == pytest.approx(EwaldSummation(c.structure).total_energy, abs=1e-6)
    assert configs[0].score <= configs[1].score


def test_sqs_on_m_and_na_vacancy(me1):
    configs = order_structure(me1, k=2, method="sqs", seed=2, sqs_iterations=20000, sqs_na=True,
                              n_sweeps=200)
    for c in configs:
        assert c.net_charge == pytest.approx(0.0)
        labels = Counter(site.label for site in c.structure)
        assert labels["Na1"] + labels["Na2"] + labels["Na3"] == 14
    assert configs[0].score <= configs[1].score


def test_sqs_needs_a_mixed_m_site():
    with pytest.raises(OrderingError, match="at least two species on the M sublattice"):
        order_structure(disordered_structure("Na3Zr2Si2PO12"), k=1, method="sqs")


def test_atom_budget_error_names_the_smallest_cell(me1):
    with pytest.raises(AtomBudgetError, match="82 atoms"):
        order_structure(me1, max_atoms=50)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"method": "enum"}, "Unknown ordering method 'enum'"),
    ({"k": 0}, "k must be a positive integer"),
])
def test_bad_ordering_requests(me1, kwargs, message):
    with pytest.raises(OrderingError, match=message):
        order_structure(me1, **kwargs)


def test_structure_without_oxidation_states_is_refused(me1):
    bare = me1.copy()
    bare.remove_oxidation_states()
    with pytest.raises(OrderingError, match="without an oxidation state"):
        order_structure(bare)


def test_foreign_labels_are_pooled_by_element(me1, me1_configs):
    foreign = me1.copy()
    for site in foreign:
        site.label = site.species.elements[0].symbol  # as a CIF from elsewhere might label them
    best = order_structure(foreign, k=1, seed=0, **FAST)[0]
    assert best.net_charge == pytest.approx(0.0)
    assert best.score == pytest.approx(me1_configs[0].score, abs=1e-6)
