"""Parent C2/c framework, labels, shipped reference structures.

Reference numbers: Zr-O 2.065/2.133 Å and P-O 1.581/1.597 Å for the R-3c framework of
Hagman & Kierkegaard, Acta Chem. Scand. 1968, 22, 1822 (a = 9.07, c = 22.72 Å); the monoclinic
cell follows from a_m = 2a_h + b_h, b_m = -b_h, c_m = -(2a_h + b_h + c_h)/3, computed independently here with numpy.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from nasicon_workflows.structures import (
    REFERENCE_LABELS,
    SITE_LABELS,
    UnknownReferenceError,
    check_framework,
    disordered_structure,
    load_reference_provenance,
    load_reference_structure,
    parent_structure,
    validate_structure,
)
from nasicon_workflows.structures.occupancy import default_na_preference, na_site_occupancies
from nasicon_workflows.structures.references import REFERENCE_COMPOSITIONS


@pytest.fixture(scope="module")
def parent():
    return parent_structure()


def test_parent_site_count_wyckoff_and_composition(parent):
    assert len(parent) == 84
    check = check_framework(parent)
    assert check.space_group == "C2/c"
    assert check.wyckoff == {
        "Na1": "4d", "Na2": "4e", "Na3": "8f", "M1": "8f", "T1": "4e", "T2": "8f",
        "O1": "8f", "O2": "8f", "O3": "8f", "O4": "8f", "O5": "8f", "O6": "8f",
    }
    assert check.passed, check.problems
    comp = parent.composition.element_composition
    assert comp["Na"] == pytest.approx(12) and comp["Zr"] == pytest.approx(8)
    assert comp["Si"] == pytest.approx(8) and comp["P"] == pytest.approx(4)
    assert comp["O"] == pytest.approx(48)
    assert sum(sp.oxi_state * x for s in parent for sp, x in s.species.items()) == pytest.approx(0)


def test_parent_bond_lengths_match_the_framework_facts(parent):
    check = check_framework(parent)
    assert check.m_o_range_A == pytest.approx((2.065, 2.133), abs=2e-3)
    assert check.t_o_range_A == pytest.approx((1.581, 1.597), abs=2e-3)
    # Brown & Altermatt R0: Zr-O 1.937 Å -> BVS of six bonds; recomputed here.
    d = np.array([2.065] * 3 + [2.133] * 3)
    assert check.bvs["M1"] == pytest.approx(np.exp((1.937 - d) / 0.37).sum(), abs=0.05)


def test_parent_lattice_follows_the_hexagonal_to_monoclinic_transformation(parent):
    a, c = 9.07, 22.72
    hexm = np.array([[a, 0, 0], [-a / 2, a * math.sqrt(3) / 2, 0], [0, 0, c]])
    mono = np.array([[2, 1, 0], [0, -1, 0], [-2 / 3, -1 / 3, -1 / 3]]) @ hexm
    lengths = np.linalg.norm(mono, axis=1)
    beta = math.degrees(math.acos(mono[0] @ mono[2] / lengths[0] / lengths[2]))
    assert parent.lattice.abc == pytest.approx(tuple(lengths), abs=1e-6)
    assert parent.lattice.beta == pytest.approx(beta, abs=1e-6)
    assert parent.volume == pytest.approx(abs(np.linalg.det(mono)), rel=1e-9)


def test_labels_are_framework_labels_in_order(parent):
    labels = [s.label for s in parent]
    assert set(labels) == set(SITE_LABELS)
    assert labels == sorted(labels, key=SITE_LABELS.index)


def test_default_na_preference_is_mean_of_tables_s4_s7():
    pref = default_na_preference()
    # Table S4-S7 Na occupancies at 4d (Na1), 4e (Na2), 8f (Na3), averaged by hand.
    assert pref["Na1"] == pytest.approx((0.43493 + 0.41307 + 0.22167 + 0.26094) / 4)
    assert pref["Na2"] == pytest.approx((0.54371 + 0.45639 + 0.86129 + 0.50388) / 4)
    assert pref["Na3"] == pytest.approx((0.60878 + 0.63054 + 0.41704 + 0.73518) / 4)


def test_na_water_filling_caps_sites_and_conserves_na():
    occ = na_site_occupancies(15.0, {"Na1": 0.1, "Na2": 1.0, "Na3": 1.0})
    assert occ["Na2"] == occ["Na3"] == 1.0
    assert 4 * occ["Na1"] + 4 + 8 == pytest.approx(15.0)
    assert occ["Na1"] == pytest.approx(0.75)


@pytest.mark.parametrize("label", REFERENCE_LABELS)
def test_shipped_references_load_validate_and_match_their_source(label):
    s = load_reference_structure(label)
    assert len(s) == 84
    assert check_framework(s).passed
    assert validate_structure(s, REFERENCE_COMPOSITIONS[label]) == []
    rebuilt = disordered_structure(REFERENCE_COMPOSITIONS[label])
    assert [x.label for x in s] == [x.label for x in rebuilt]
    np.testing.assert_allclose(s.frac_coords, rebuilt.frac_coords, atol=1e-6)
    prov = load_reference_provenance(label)
    assert prov["composition"] == REFERENCE_COMPOSITIONS[label]
    assert list(s.lattice.abc) == pytest.approx(prov["lattice_abc_A"])


def test_refined_references_carry_refined_lattice_and_repair_log():
    prov = load_reference_provenance("ME1-NZSP")
    assert prov["lattice_abc_A"] == pytest.approx([15.61382, 9.04419, 9.19836])
    changed = {(e["site"], e["quantity"]) for e in prov["repair_log"]}
    assert ("lattice", "beta") in changed and ("T1", "occupancy") in changed
    assert len(prov["defects"]) > 0


def test_unknown_reference_label_lists_the_labels():
    with pytest.raises(UnknownReferenceError) as err:
        load_reference_structure("XX-NZSP")
    for label in REFERENCE_LABELS:
        assert label in str(err.value)


@pytest.mark.parametrize("label", REFERENCE_LABELS)
def test_shipped_files_match_a_fresh_build(label):
    from pathlib import Path

    from nasicon_workflows.structures.references import build_reference

    from nasicon_workflows.testing import assert_records_close

    structure, record = build_reference(label)
    # floats with a tolerance: last bits differ between CPUs and BLAS builds
    assert_records_close(json.loads(json.dumps(record)), load_reference_provenance(label))
    shipped = load_reference_structure(label)
    assert shipped.lattice.abc == pytest.approx(structure.lattice.abc, abs=1e-6)
    for a, b in zip(shipped, structure):
        assert a.label == b.label
        assert {str(sp): x for sp, x in a.species.items()} == pytest.approx(
            {str(sp): x for sp, x in b.species.items()}, abs=1e-9)
    repo_copy = Path(__file__).resolve().parents[1] / "structures" / f"{label}.json"
    if repo_copy.exists():  # the user-facing copy in the repository equals the package data
        assert_records_close(json.loads(repo_copy.read_text()), json.loads(json.dumps(record)))


def test_check_framework_flags_a_compressed_cell(parent):
    squeezed = parent.copy()
    squeezed.scale_lattice(parent.volume * 0.7)  # ~11 % shorter bonds
    problems = check_framework(squeezed).problems
    assert any(p.startswith("M-O distances") for p in problems)
    assert any(p.startswith("T-O distances") for p in problems)
    assert any("bond-valence sum" in p for p in problems)


def test_more_na_than_na_sites_is_refused():
    from nasicon_workflows.errors import SodiumRangeError

    # the Na limit (4 sites per formula unit) is enforced once, by the composition model
    with pytest.raises(SodiumRangeError, match="only 4 Na sites per formula unit"):
        disordered_structure("Na5ZrScSi3O12")


def test_composition_errors_pass_through():
    from nasicon_workflows.errors import MSiteSumError

    with pytest.raises(MSiteSumError, match="sum to 2.5"):
        disordered_structure("Na3Zr2.5Si2PO12")
