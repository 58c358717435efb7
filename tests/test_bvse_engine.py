"""BVSE engine: energies against an independent brute-force sum, grid rules and every error path."""

from __future__ import annotations

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from nasicon_workflows.bvse import (
    GridTooLargeError,
    InvalidBVSESettingError,
    MissingAnionError,
    MissingMobileIonError,
    MissingOxidationStatesError,
    MissingParametersError,
    PartialOccupancyError,
    compute_landscape,
    grid_shape,
    point_energies,
)
from nasicon_workflows.errors import NasiconWorkflowsError


@pytest.fixture(scope="module")
def nzp(nzp_primitive) -> Structure:
    return nzp_primitive()


def brute_force_energy(structure: Structure, point: np.ndarray, f: float, cutoff: float) -> float:
    """softBV energy at one Cartesian point from bvlain's own formulas and parameter tables,
    with neighbours found by pymatgen (independent of the engine's image and table code)."""
    import pickle
    from importlib.util import find_spec
    from pathlib import Path

    from bvlain.potentials import BVSEPotential

    data = Path(find_spec("bvlain").submodule_search_locations[0]) / "data"
    cation = pickle.load((data / "cation.pkl").open("rb"))[11][1]
    quantum = pickle.load((data / "quantum_n.pkl").open("rb"))
    from bvlain.data.covalent_radii import covalent_radii_softbv

    framework = [s for s in structure if s.specie.symbol != "Na"]
    lattice = structure.lattice
    frac = np.array([s.frac_coords for s in framework])
    hits = lattice.get_points_in_sphere(frac, point, cutoff)
    energy = 0.0
    for _, r, j, _ in hits:
        site = framework[j]
        z, q = site.specie.Z, int(site.specie.oxi_state)
        if q < 0:
            p = cation[z][q]
            energy += BVSEPotential.Morse(r, p["r_min"], p["d0"], p["alpha"])
        else:
            energy += BVSEPotential.Coulomb(r, 1, q, covalent_radii_softbv[11][1],
                                            covalent_radii_softbv[z][q], quantum[11], quantum[z], f=f)
    return float(energy)


def test_grid_energies_match_independent_sum(nzp):
    landscape = compute_landscape(nzp, resolution=0.4, exact=True)
    rng = np.random.default_rng(7)
    shape = landscape.grid_shape
    for _ in range(6):
        ijk = [int(rng.integers(n)) for n in shape]
        frac = np.array([landscape.frac_axes[d][ijk[d]] for d in range(3)])
        ref = brute_force_energy(nzp, nzp.lattice.get_cartesian_coords(frac), 0.75, 10.0)
        assert landscape.energies_eV[tuple(ijk)] == pytest.approx(ref, abs=1e-9, rel=1e-9)


def test_point_energies_match_independent_sum(nzp):
    points = nzp.lattice.get_cartesian_coords(np.array([[0.1, 0.2, 0.3], [0.5, 0.5, 0.5],
                                                        [0.93, 0.41, 0.07]]))
    got = point_energies(nzp, points, screening=0.74, cutoff=8.0)
    ref = [brute_force_energy(nzp, p, 0.74, 8.0) for p in points]
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-10)


def test_table_interpolation_error_is_small(nzp):
    exact = compute_landscape(nzp, resolution=0.3, exact=True).energies_eV
    table = compute_landscape(nzp, resolution=0.3).energies_eV
    low = exact < exact.min() + 3.0
    assert np.abs(table - exact)[low].max() < 2e-5
    # far from nuclei the relative error stays tiny as well
    assert (np.abs(table - exact) / np.maximum(1.0, np.abs(exact))).max() < 1e-4


def test_screening_factor_changes_energies(nzp):
    a = compute_landscape(nzp, resolution=0.5, screening=0.75).energies_eV
    b = compute_landscape(nzp, resolution=0.5, screening=0.74).energies_eV
    # stronger screening (smaller f) lowers the cation repulsion everywhere
    assert (b <= a + 1e-12).all() and (a - b).max() > 1e-3


def test_grid_conventions():
    assert grid_shape((10.0, 9.0, 8.05), 0.1) == (100, 90, 81)
    assert grid_shape((10.0, 9.0, 8.05), 0.1, "bvlain") == (99, 89, 80)  # int(L // res), float floor
    with pytest.raises(InvalidBVSESettingError, match="grid convention 'hex'"):
        grid_shape((1, 1, 1), 0.1, "hex")


def test_oxidation_states_guessed_when_absent(nzp):
    plain = nzp.copy()
    plain.remove_oxidation_states()
    a = compute_landscape(plain, resolution=0.6).energies_eV
    b = compute_landscape(nzp, resolution=0.6).energies_eV
    np.testing.assert_allclose(a, b)


@pytest.mark.parametrize("ion", ["Li", "K"])
def test_other_mobile_ions(nzp, ion):
    s = nzp.copy()
    s.replace_species({"Na+": f"{ion}+"})
    landscape = compute_landscape(s, ion=ion, resolution=0.6)
    assert landscape.ion.symbol == ion
    assert np.isfinite(landscape.energies_eV).all()


def test_error_no_mobile_ion(nzp):
    with pytest.raises(MissingMobileIonError, match="contains no Li"):
        compute_landscape(nzp, ion="Li", resolution=0.6)


def test_error_no_anion():
    s = Structure(Lattice.cubic(4.0), ["Na+", "Cs+"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    with pytest.raises(MissingAnionError, match="no anion"):
        compute_landscape(s, resolution=0.5)


def test_error_partial_occupancy(nzp):
    s = nzp.copy()
    s.replace(0, {"Na+": 0.5})
    with pytest.raises(PartialOccupancyError, match="ensemble"):
        compute_landscape(s, resolution=0.6)


def test_error_oxidation_states_unguessable():
    s = Structure(Lattice.cubic(3.0), ["Na", "Na"], [[0, 0, 0], [0.5, 0.5, 0.5]])
    with pytest.raises(MissingOxidationStatesError, match="add_oxidation_state_by_element"):
        compute_landscape(s, resolution=0.5)


def test_error_non_integer_oxidation_states(nzp):
    s = nzp.copy()
    s.replace_species({"Zr4+": {"Zr4+": 1.0}})
    s.add_oxidation_state_by_element({"Na": 1, "Zr": 3.5, "P": 5, "O": -2})
    with pytest.raises(MissingOxidationStatesError, match="non-integer"):
        compute_landscape(s, resolution=0.6)


def test_error_grid_too_large(nzp):
    with pytest.raises(GridTooLargeError, match="MB, above the bound of 10 MB"):
        compute_landscape(nzp, resolution=0.1, max_memory_mb=10)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"resolution": 0.0}, "resolution=0.0"), ({"cutoff": 1.0}, "cutoff=1.0"),
     ({"screening": 5.0}, "screening factor f=5.0"), ({"ion": "Xx"}, "not an element symbol"),
     ({"covalent_radii": "pauling"}, "covalent_radii='pauling'")],
)
def test_error_bad_settings(nzp, kwargs, message):
    with pytest.raises(InvalidBVSESettingError, match=message):
        compute_landscape(nzp, **{"resolution": 0.6, **kwargs})


def test_error_missing_parameters(nzp):
    # softBV tabulates Mg2+ as a mobile ion, not Mg+
    with pytest.raises(MissingParametersError, match="mobile ion Mg\\+1"):
        compute_landscape(nzp, ion="Mg", resolution=0.6)
    # no Na+ - N3- pair in the softBV table
    na3n = Structure(Lattice.cubic(3.8), ["N3-", "Na+", "Na+", "Na+"],
                     [[0, 0, 0], [0.5, 0, 0], [0, 0.5, 0], [0, 0, 0.5]])
    with pytest.raises(MissingParametersError, match="Na\\+1 - N-3"):
        compute_landscape(na3n, resolution=0.5)


def test_errors_are_package_errors():
    assert issubclass(GridTooLargeError, NasiconWorkflowsError)


def test_small_cell_sums_many_images():
    # Cubic NaNbO3 perovskite (a = 3.95 Å): the 10 Å sphere spans about five cells each way, so
    # this checks the periodic image construction of the engine against pymatgen's neighbours.
    s = Structure(Lattice.cubic(3.95), ["Na+", "Nb5+", "O2-", "O2-", "O2-"],
                  [[0, 0, 0], [0.5, 0.5, 0.5], [0.5, 0.5, 0], [0.5, 0, 0.5], [0, 0.5, 0.5]])
    landscape = compute_landscape(s, resolution=0.35, exact=True)
    for ijk in [(0, 0, 0), (3, 5, 7), (10, 2, 9), (11, 11, 11)]:
        frac = np.array([landscape.frac_axes[d][ijk[d]] for d in range(3)])
        ref = brute_force_energy(s, s.lattice.get_cartesian_coords(frac), 0.75, 10.0)
        assert landscape.energies_eV[ijk] == pytest.approx(ref, rel=1e-9, abs=1e-9)
