"""The C2/c NASICON framework: geometry from the R-3c facts, site labels, soundness checks.

The framework is built from the R-3c NaZr2(PO4)3 Wyckoff parameters (rounded values close to
those of Hagman & Kierkegaard, Acta Chem. Scand. 1968, 22, 1822) and transformed to the
monoclinic cell of Na3Zr2Si2PO12
(a_m = 2a_h + b_h, b_m = -b_h, c_m = -(2a_h + b_h + c_h)/3; Z = 4). The C2/c subgroup of R-3c
splits the orbits into the sites listed in Table S4 of Zuo et al. 2026:

======  =======  ==================================================
label   Wyckoff  origin
======  =======  ==================================================
Na1     4d       R-3c Na1 6b (the inversion-centre site)
Na2     4e       R-3c Na2 18e (on the two-fold axis)
Na3     8f       R-3c Na2 18e (general position)
M1      8f       R-3c Zr 12c (the octahedral M site)
T1      4e       R-3c P 18e (on the two-fold axis)
T2      8f       R-3c P 18e (general position)
O1-O3   8f       R-3c O1 36f
O4-O6   8f       R-3c O2 36f
======  =======  ==================================================

84 sites per cell: 16 Na + 8 M + 12 T + 48 O. Every structure built here carries these labels
(``site.label``); supercells and ordered cells keep them, so later stages can report per site.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping

import numpy as np
from pydantic import BaseModel, Field
from pymatgen.core import Lattice, Species, Structure

from nasicon_workflows.structures.exceptions import MalformedStructureError

__all__ = [
    "FRAMEWORK_BETA_DEG",
    "BV_R0_OXIDE_A",
    "FrameworkCheck",
    "HEX_TO_MONOCLINIC",
    "NA_LABELS",
    "O_LABELS",
    "R3C_FRAMEWORK",
    "SITE_LABELS",
    "SITE_MULTIPLICITY",
    "SITE_WYCKOFF",
    "base_label",
    "bond_valence_sum",
    "build_on_framework",
    "check_framework",
    "framework_geometry",
    "framework_lattice",
    "pool_of_site",
    "site_sort_key",
    "sublattice_of",
]

#: R-3c (hexagonal setting) NASICON framework of NaZr2(PO4)3: lattice (Å) and Wyckoff parameters,
#: rounded values close to Hagman & Kierkegaard, Acta Chem. Scand. 1968, 22, 1822.
R3C_FRAMEWORK: Mapping[str, object] = {
    "a_A": 9.07,
    "c_A": 22.72,
    "sites": (
        ("Zr", "12c", (0.0, 0.0, 0.1459)),
        ("P", "18e", (0.2893, 0.0, 0.25)),
        ("O1", "36f", (0.1771, -0.0311, 0.1931)),
        ("O2", "36f", (0.1923, 0.1683, 0.0862)),
        ("Na1", "6b", (0.0, 0.0, 0.0)),
        ("Na2", "18e", (0.64, 0.0, 0.25)),
    ),
}

#: Rows: monoclinic a, b, c as combinations of the hexagonal a, b, c.
HEX_TO_MONOCLINIC = np.array([[2.0, 1.0, 0.0], [0.0, -1.0, 0.0], [-2 / 3, -1 / 3, -1 / 3]])

#: Site labels in the order every structure of this package lists them.
SITE_LABELS = ("Na1", "Na2", "Na3", "M1", "T1", "T2", "O1", "O2", "O3", "O4", "O5", "O6")
NA_LABELS = ("Na1", "Na2", "Na3")
O_LABELS = ("O1", "O2", "O3", "O4", "O5", "O6")
#: Wyckoff position of each label in the standard C2/c setting.
SITE_WYCKOFF: Mapping[str, str] = {
    "Na1": "4d", "Na2": "4e", "Na3": "8f", "M1": "8f", "T1": "4e", "T2": "8f",
    **{label: "8f" for label in O_LABELS},
}
#: Sites per conventional cell (Z = 4).
SITE_MULTIPLICITY: Mapping[str, int] = {k: int(v[:-1]) for k, v in SITE_WYCKOFF.items()}
#: Formula units per conventional C2/c cell.
Z_CONVENTIONAL = 4

# Sound-geometry limits of check_framework (Å and fraction of the formal valence). Octahedral
# M-O in NASICON phosphates/silicates spans about 1.9-2.3 Å (Ti-O ~1.95 to Lu-O ~2.2), tetrahedral
# Si/P-O 1.50-1.65 Å; the window is widened by 0.05 Å for an unrelaxed, transferred geometry.
M_O_RANGE_A = (1.85, 2.35)
T_O_RANGE_A = (1.45, 1.70)
BVS_TOLERANCE = 0.15


def sublattice_of(label: str) -> str:
    """Sublattice ("Na", "M", "T" or "O") of a site label such as ``"Na3"`` or ``"O5"``."""
    base = base_label(label)
    for prefix in ("Na", "M", "T", "O"):
        if base.startswith(prefix):
            return prefix
    raise MalformedStructureError(
        f"Site label {label!r} is not a NASICON framework label; expected one of "
        + ", ".join(SITE_LABELS) + "."
    )


def pool_of_site(site) -> str:
    """Sublattice of a site: from its framework label, else from its elements.

    Structures read from foreign CIFs carry labels such as ``"Zr"`` or ``"Si1"``; their sites are
    pooled by element (Na -> Na, Si/P -> T, O -> O, any other cation -> M).
    """
    label = getattr(site, "label", None) or ""
    if base_label(label) in SITE_LABELS:
        return sublattice_of(label)
    elements = {sp.symbol for sp in site.species}
    if elements == {"Na"}:
        return "Na"
    if elements <= {"Si", "P"}:
        return "T"
    if elements == {"O"}:
        return "O"
    if elements & {"Na", "Si", "P", "O"}:
        raise MalformedStructureError(
            f"Site {label!r} mixes {sorted(elements)}: Na, Si/P, O and M cations share no NASICON "
            "site. Label the sites with framework labels (Na1, M1, T1, O1, ...)."
        )
    return "M"


def base_label(label: str) -> str:
    """Framework label without pymatgen's supercell suffix (``"Na1_3"`` -> ``"Na1"``)."""
    return label.split("_", 1)[0]


@functools.lru_cache(maxsize=1)
def framework_geometry() -> tuple[Lattice, np.ndarray, tuple[str, ...]]:
    """Lattice, fractional coordinates and labels of the 84-site C2/c framework.

    Returns
    -------
    lattice
        Standard C2/c conventional lattice from the R-3c facts (a_h = 9.07 Å, c_h = 22.72 Å):
        a = 15.71, b = 9.07, c = 9.21 Å, beta = 124.66 degrees.
    frac_coords
        (84, 3) fractional coordinates, grouped by label in the order of :data:`SITE_LABELS`.
    labels
        The label of every site.
    """
    import spglib

    hex_lattice = Lattice.hexagonal(R3C_FRAMEWORK["a_A"], R3C_FRAMEWORK["c_A"])
    names = [name for name, _, _ in R3C_FRAMEWORK["sites"]]
    # Distinct dummy species keep the R-3c orbits apart while symmetry is expanded.
    dummies = ["Zr", "P", "O", "S", "Na", "K"]
    hexagonal = Structure.from_spacegroup(
        "R-3c", hex_lattice, dummies, [c for _, _, c in R3C_FRAMEWORK["sites"]]
    )
    mono_lattice = Lattice(HEX_TO_MONOCLINIC @ hex_lattice.matrix)
    # A 3x3x3 block of hexagonal cells covers the monoclinic cell (whose c_m has 1/3 components).
    block = hexagonal * (3, 3, 3)
    frac = np.round(mono_lattice.get_fractional_coords(block.cart_coords), 6) % 1.0
    origin_name = {d: n for d, n in zip(dummies, names)}
    coords: list[np.ndarray] = []
    kinds: list[str] = []
    for f, sp in zip(frac, block.species):
        if coords and np.any(np.all(np.abs((np.array(coords) - f + 0.5) % 1.0 - 0.5) < 1e-4, axis=1)):
            continue
        coords.append(f)
        kinds.append(origin_name[sp.symbol])
    coords_arr = np.array(coords)
    if len(coords_arr) != 84:  # pragma: no cover - guards the transformation facts
        raise MalformedStructureError(f"Framework transformation gave {len(coords_arr)} sites, not 84.")

    # The C2/c operations are the R-3c operations that are integer in the monoclinic basis;
    # their orbits are the monoclinic sites. spglib returns exactly those for this cell.
    ops = spglib.get_symmetry(
        (mono_lattice.matrix, coords_arr, [names.index(k) for k in kinds]), symprec=1e-3
    )
    orbit = -np.ones(len(coords_arr), dtype=int)
    n_orbits = 0
    for i in range(len(coords_arr)):
        if orbit[i] >= 0:
            continue
        for rot, trans in zip(ops["rotations"], ops["translations"]):
            image = rot @ coords_arr[i] + trans
            hit = np.all(np.abs((coords_arr - image + 0.5) % 1.0 - 0.5) < 1e-4, axis=1)
            orbit[hit] = n_orbits
        n_orbits += 1

    lattice, std_coords, std_orbit = spglib.standardize_cell(
        (mono_lattice.matrix, coords_arr, orbit), to_primitive=False, symprec=1e-3
    )
    dataset = spglib.get_symmetry_dataset((lattice, std_coords, std_orbit), symprec=1e-3)
    if dataset.number != 15:  # pragma: no cover
        raise MalformedStructureError(f"Framework symmetry is {dataset.international}, not C2/c.")
    wyckoffs = np.array(dataset.wyckoffs)
    kind_of_orbit = {orbit[i]: kinds[i] for i in range(len(kinds))}

    # Name the orbits: Na1 (6b) -> 4d; Na2 (18e) -> 4e + 8f; P -> 4e + 8f; O1/O2 (36f) -> 3 x 8f.
    label_of_orbit: dict[int, str] = {}
    o_counter = {"O1": 0, "O2": 3}
    for o in sorted(set(std_orbit.tolist()), key=lambda o: tuple(std_coords[std_orbit == o][0])):
        kind = kind_of_orbit[o]
        wyck = wyckoffs[std_orbit == o][0]
        if kind == "Na1":
            label_of_orbit[o] = "Na1"
        elif kind == "Na2":
            label_of_orbit[o] = "Na2" if wyck == "e" else "Na3"
        elif kind == "P":
            label_of_orbit[o] = "T1" if wyck == "e" else "T2"
        elif kind == "Zr":
            label_of_orbit[o] = "M1"
        else:
            o_counter[kind] += 1
            label_of_orbit[o] = f"O{o_counter[kind]}"
    labels = [str(label_of_orbit[o]) for o in std_orbit]
    std_coords = np.round(np.asarray(std_coords), 10) % 1.0
    order = sorted(range(len(labels)), key=lambda i: site_sort_key(labels[i], std_coords[i]))
    return Lattice(lattice), std_coords[order], tuple(labels[i] for i in order)


def site_sort_key(label: str, frac_coords) -> tuple:
    """Canonical site order: framework label, then fractional coordinates (rounded, in [0, 1))."""
    return (SITE_LABELS.index(base_label(label)), *np.round(np.asarray(frac_coords) % 1.0, 5) % 1.0)


#: Monoclinic angle of the framework (degrees); used when a refinement does not report beta.
FRAMEWORK_BETA_DEG = 124.66184643970476


def framework_lattice(
    a: float | None = None, b: float | None = None, c: float | None = None,
    beta: float | None = None,
) -> Lattice:
    """C2/c lattice with any of a, b, c (Å) and beta (degrees) replaced; the rest from the framework."""
    lat = framework_geometry()[0]
    return Lattice.monoclinic(a or lat.a, b or lat.b, c or lat.c, beta or lat.beta)


def build_on_framework(
    occupancies: Mapping[str, Mapping[str, float]],
    oxidation_states: Mapping[str, int],
    lattice: Lattice | None = None,
) -> Structure:
    """Disordered C2/c structure: framework coordinates with the given site occupancies.

    Parameters
    ----------
    occupancies
        label -> {element: occupancy} for every label of :data:`SITE_LABELS`; Na sites may sum
        to less than 1 (vacancies).
    oxidation_states
        element -> oxidation state for every element used.
    lattice
        Lattice to place the fractional coordinates in; default the framework lattice.

    Returns
    -------
    Structure
        84 sites with labels and oxidation-state-decorated species.
    """
    lat0, coords, labels = framework_geometry()
    species = []
    for label in labels:
        occ = occupancies[label]
        species.append({Species(el, oxidation_states[el]): float(x) for el, x in occ.items() if x > 0})
    return Structure(lattice or lat0, species, coords, labels=list(labels))


class FrameworkCheck(BaseModel):
    """Soundness of a C2/c NASICON framework (see :func:`check_framework`)."""

    space_group: str = Field(description="spglib symbol with sites typed by label")
    n_sites: int
    wyckoff: dict[str, str] = Field(description="label -> Wyckoff position found by spglib")
    m_o_range_A: tuple[float, float] = Field(description="shortest and longest M-O bond (6 nearest O)")
    t_o_range_A: tuple[float, float] = Field(description="shortest and longest T-O bond (4 nearest O)")
    bvs: dict[str, float] = Field(description="bond-valence sum per cation label (occupancy-weighted)")
    expected_valence: dict[str, float]
    problems: list[str]

    @property
    def passed(self) -> bool:
        """True when no problem was found."""
        return not self.problems


#: Bond-valence R0 (Å, b = 0.37 Å) of cation-O bonds tabulated by Brown & Altermatt, Acta Cryst.
#: B41, 244 (1985) and Brese & O'Keeffe, Acta Cryst. B47, 192 (1991).
BV_R0_OXIDE_A: Mapping[str, float] = {
    "Na": 1.803, "Zr": 1.937, "Hf": 1.923, "Ti": 1.815, "Si": 1.624, "P": 1.617, "Lu": 1.971,
    "Sc": 1.849, "Ga": 1.730, "Al": 1.651, "Y": 2.019, "In": 1.902, "Mg": 1.693, "Zn": 1.704,
    "Nb": 1.911, "Ta": 1.920, "Sn": 1.905, "Ge": 1.748, "Ca": 1.967, "La": 2.172, "Yb": 1.965,
}


def _r0(cation: str) -> float:
    """Cation-O R0 (Å): tabulated value, else Brese & O'Keeffe's universal-parameter estimate."""
    if cation in BV_R0_OXIDE_A:
        return BV_R0_OXIDE_A[cation]
    from pymatgen.analysis.bond_valence import BV_PARAMS
    from pymatgen.core import Element

    p1, p2 = BV_PARAMS[Element(cation)], BV_PARAMS[Element("O")]
    r1, r2, c1, c2 = p1["r"], p2["r"], p1["c"], p2["c"]
    return r1 + r2 - r1 * r2 * (math.sqrt(c1) - math.sqrt(c2)) ** 2 / (c1 * r1 + c2 * r2)


def bond_valence_sum(cation: str, distances_A: np.ndarray | list[float]) -> float:
    """Bond-valence sum (valence units) of a cation for its cation-O distances (b = 0.37 Å)."""
    d = np.asarray(distances_A, dtype=float)
    return float(np.sum(np.exp((_r0(cation) - d) / 0.37)))


def _nearest_o(structure: Structure, index: int, n: int) -> np.ndarray:
    neighbours = structure.get_neighbors(structure[index], 3.2)
    d = sorted(nb.nn_distance for nb in neighbours if sublattice_of(nb.label) == "O")
    return np.array(d[:n])


def check_framework(structure: Structure) -> FrameworkCheck:
    """Check symmetry, Wyckoff split, M-O and T-O distances and cation bond-valence sums.

    Parameters
    ----------
    structure
        A disordered 84-site C2/c structure with framework labels (e.g. :func:`parent_structure`).

    Returns
    -------
    FrameworkCheck
        Findings and the list of problems (empty when sound). Limits: M-O within
        1.85-2.35 Å, T-O within 1.45-1.70 Å, cation bond-valence sums within 15 % of the
        occupancy-weighted formal valence.
    """
    import spglib

    labels = [base_label(s.label) for s in structure]
    types = [SITE_LABELS.index(lab) for lab in labels]
    cell = (structure.lattice.matrix, structure.frac_coords, types)
    dataset = spglib.get_symmetry_dataset(cell, symprec=1e-3)
    wyckoff: dict[str, str] = {}
    for lab in SITE_LABELS:
        idx = [i for i, x in enumerate(labels) if x == lab]
        letters = {dataset.wyckoffs[i] for i in idx}
        wyckoff[lab] = f"{len(idx)}{''.join(sorted(letters))}"
    problems = []
    if dataset.number != 15:
        problems.append(f"space group {dataset.international} (#{dataset.number}), expected C2/c (#15)")
    if len(structure) != 84:
        problems.append(f"{len(structure)} sites, expected 84")
    for lab, expected in SITE_WYCKOFF.items():
        if wyckoff.get(lab) != expected:
            problems.append(f"site {lab} is {wyckoff.get(lab)}, expected {expected}")

    m_d, t_d, bvs, expected_v = [], [], {}, {}
    for lab in ("M1", "T1", "T2"):
        i = labels.index(lab)
        n = 6 if lab == "M1" else 4
        d = _nearest_o(structure, i, n)
        (m_d if lab == "M1" else t_d).extend(d.tolist())
        occ = structure[i].species
        total = sum(occ.values())
        bvs[lab] = sum(x * bond_valence_sum(sp.symbol, d) for sp, x in occ.items()) / total
        expected_v[lab] = sum(x * sp.oxi_state for sp, x in occ.items()) / total
        if abs(bvs[lab] - expected_v[lab]) > BVS_TOLERANCE * expected_v[lab]:
            problems.append(
                f"{lab} bond-valence sum {bvs[lab]:.2f}, expected {expected_v[lab]:.2f} "
                f"+/- {100 * BVS_TOLERANCE:.0f} %"
            )
    m_range = (min(m_d), max(m_d))
    t_range = (min(t_d), max(t_d))
    for name, rng, lim in (("M-O", m_range, M_O_RANGE_A), ("T-O", t_range, T_O_RANGE_A)):
        if rng[0] < lim[0] or rng[1] > lim[1]:
            problems.append(f"{name} distances {rng[0]:.3f}-{rng[1]:.3f} Å outside {lim[0]}-{lim[1]} Å")
    return FrameworkCheck(
        space_group=dataset.international, n_sites=len(structure), wyckoff=wyckoff,
        m_o_range_A=m_range, t_o_range_A=t_range, bvs=bvs, expected_valence=expected_v,
        problems=problems,
    )
