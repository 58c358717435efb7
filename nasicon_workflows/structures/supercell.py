"""Smallest supercell that realises a NASICON composition exactly (non-diagonal, HNF search).

Why non-diagonal
----------------
The conventional C2/c cell holds Z = 4 formula units, so its diagonal multiples hold 4, 8, 12, ...
formula units and realise M-site amounts in steps of 1/4, 1/8, ... only. The lattice of the
structure is C-centred: its primitive cell (a_p = (a - b)/2, b_p = (a + b)/2, c_p = c) holds
2 formula units (42 sites: 8 Na, 4 M, 6 T, 24 O), and every supercell of the primitive cell is a
Hermite normal form (HNF) ``H`` of determinant ``n`` (Santoro & Mighell, Acta Cryst. A 1972, 28,
284; Hart & Forcade, Phys. Rev. B 2008, 77, 224115) holding 2n formula units. A composition whose
amounts are multiples of 1/(2n) per formula unit is realised exactly by such a cell, e.g. 0.1 steps
by a 10-formula-unit cell (n = 5, 210 sites), which no diagonal multiple of the conventional cell
provides.

What is chosen
--------------
:func:`exact_supercell` takes the smallest n whose cell realises every sublattice count (M
cations, Si/P, Na from charge neutrality) as integers within ``max_atoms``; among the HNFs of that
n it takes the most compact cell (largest shortest perpendicular width of its LLL-reduced basis,
i.e. the largest distance between periodic images of an ordering). When no cell within the budget
is exact it refuses with :class:`CompositionNotRealisableError`, which names the smallest exact
cell and the nearest composition the budget realises with its error; ``allow_error=True``
computes that nearest composition instead, and the error is recorded.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from fractions import Fraction

import numpy as np
from pymatgen.core import Lattice, Structure

from nasicon_workflows.structures.exceptions import AtomBudgetError, StructureStageError
from nasicon_workflows.structures.parent import Z_CONVENTIONAL, base_label

__all__ = [
    "CONVENTIONAL_TO_PRIMITIVE",
    "CompositionNotRealisableError",
    "exact_supercell",
    "hnf_matrices",
    "realisable_counts",
    "supercell_of",
]

#: Rows: the primitive vectors of the C-centred cell in units of the conventional a, b, c.
CONVENTIONAL_TO_PRIMITIVE = np.array([[0.5, -0.5, 0.0], [0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])
#: Formula units per primitive cell (Z = 4 per conventional cell, det = 1/2).
Z_PRIMITIVE = 2
#: Largest determinant searched when looking for the smallest exact cell beyond the budget.
MAX_DETERMINANT = 500
_TOL = 1e-6


class CompositionNotRealisableError(StructureStageError):
    """No supercell within the atom budget realises the composition exactly.

    Attributes
    ----------
    nearest
        The :class:`~nasicon_workflows.structures.ordering.SupercellChoice` of the nearest
        composition the budget realises (None if no cell fits at all).
    exact_atoms
        Atoms of the smallest exactly realising cell (None if none up to the search limit).
    """

    def __init__(self, message: str, nearest=None, exact_atoms: int | None = None) -> None:
        super().__init__(message)
        self.nearest = nearest
        self.exact_atoms = exact_atoms


def hnf_matrices(n: int) -> list[np.ndarray]:
    """Every lower-triangular Hermite normal form of determinant ``n`` (integer 3x3).

    Rows are the supercell vectors in units of the parent vectors. Their number is
    sum over a*c*f = n of c * f**2 (7 for n = 2, 31 for n = 5).
    """
    if n < 1:
        raise ValueError(f"determinant must be >= 1, got {n}")
    out = []
    for a in range(1, n + 1):
        if n % a:
            continue
        for c in range(1, n // a + 1):
            if (n // a) % c:
                continue
            f = n // (a * c)
            for b, d, e in itertools.product(range(c), range(f), range(f)):
                out.append(np.array([[a, 0, 0], [b, c, 0], [d, e, f]], dtype=int))
    return out


def supercell_of(structure: Structure, matrix: np.ndarray) -> Structure:
    """Supercell with lattice ``matrix @ structure.lattice.matrix``; ``matrix`` may be fractional.

    Unlike ``Structure.make_supercell`` the rows may be fractional combinations of the input
    vectors as long as they are lattice translations of the structure (e.g. the C-centring
    (a + b)/2 of the conventional C2/c cell). Site labels lose pymatgen's ``_k`` suffixes.

    Parameters
    ----------
    structure
        Input cell (ordered or disordered), labels kept.
    matrix
        3x3 rows of new vectors in units of the input's vectors.

    Returns
    -------
    Structure
        ``len(structure) * |det matrix|`` sites (checked).

    Raises
    ------
    StructureStageError
        When the rows are not translations of the structure (site count mismatch or two
        different species mapped onto one position).
    """
    m = np.asarray(matrix, dtype=float)
    det = abs(np.linalg.det(m))
    expected = len(structure) * det
    if det < _TOL or abs(expected - round(expected)) > 1e-4:
        raise StructureStageError(
            f"Supercell matrix {m.tolist()} (det {det:.4f}) does not give a whole number of "
            f"sites for a {len(structure)}-site cell."
        )
    frac = structure.frac_coords
    for row in m:
        # each new vector must map every site onto a site of the same species
        d = np.abs((frac[:, None, :] + row - frac[None, :, :] + 0.5) % 1.0 - 0.5).max(axis=2)
        match = np.argmin(d, axis=1)
        if (d[np.arange(len(frac)), match] > 1e-3).any() or any(
            structure[int(i)].species != structure[int(j)].species for i, j in enumerate(match)
        ):
            raise StructureStageError(
                f"Supercell row {row.tolist()} is not a translation of this structure: its "
                "rows are not translations of the structure (use integer multiples of the "
                "conventional vectors or the C-centring (a + b)/2)."
            )
    inv = np.linalg.inv(m)
    corners = np.array(list(itertools.product((0, 1), repeat=3)), dtype=float) @ m
    lo = np.floor(corners.min(axis=0)).astype(int) - 1
    hi = np.ceil(corners.max(axis=0)).astype(int) + 1
    shifts = np.array(list(itertools.product(*(range(lo[i], hi[i] + 1) for i in range(3)))))
    seen: dict[tuple[int, int, int], int] = {}
    species, coords, labels = [], [], []
    for site in structure:
        new = (site.frac_coords[None, :] + shifts) @ inv
        new = new[np.all((new > -_TOL) & (new < 1 - _TOL), axis=1)]
        for f in np.mod(new, 1.0):
            key = tuple(int(round(x * 1e4)) % 10_000 for x in f)
            if key in seen:
                if species[seen[key]] != site.species:
                    raise StructureStageError(
                        f"Supercell matrix {m.tolist()} maps sites with different species onto "
                        f"one position: its rows are not translations of this structure."
                    )
                continue
            seen[key] = len(species)
            species.append(site.species)
            coords.append(f)
            labels.append(base_label(site.label or site.species_string))
    if len(species) != int(round(expected)):
        raise StructureStageError(
            f"Supercell matrix {m.tolist()} gave {len(species)} sites, expected "
            f"{int(round(expected))}: its rows are not translations of this structure."
        )
    return Structure(Lattice(m @ structure.lattice.matrix), species, np.array(coords),
                     labels=labels, site_properties=None)


def _min_width_A(matrix: np.ndarray) -> float:
    """Shortest perpendicular width (Å) of a lattice given by its row vectors."""
    vol = abs(np.linalg.det(matrix))
    return min(vol / np.linalg.norm(np.cross(matrix[(i + 1) % 3], matrix[(i + 2) % 3]))
               for i in range(3))


def _per_formula_unit(structure: Structure):
    """Pool amounts per formula unit, pool site counts per formula unit, oxidation states."""
    from nasicon_workflows.structures.ordering import _pool_targets

    amounts, n_sites, oxi = _pool_targets(structure)
    z = Z_CONVENTIONAL * len(structure) / 84
    per_fu = {pool: {el: x / z for el, x in amt.items()} for pool, amt in amounts.items()}
    sites_fu = {pool: n / z for pool, n in n_sites.items()}
    return per_fu, sites_fu, oxi


def realisable_counts(structure: Structure, n_formula_units: int):
    """Integer species counts of a cell of ``n_formula_units`` and their composition error.

    Non-Na pools are rounded by largest remainder (exact when the amounts allow it); Na follows
    from charge neutrality.

    Returns
    -------
    tuple
        ``(counts, realised_amounts, target_amounts, error, n_atoms)`` or None when no charge
        neutral Na count fits the Na sites. ``counts`` maps pool -> {element: count} with the Na
        vacancies under ``None``; amounts are per formula unit; error is the largest
        |realised - target| amount.
    """
    from nasicon_workflows.structures.ordering import _largest_remainder

    per_fu, sites_fu, oxi = _per_formula_unit(structure)
    n = n_formula_units
    counts: dict[str, dict[str | None, int]] = {}
    charge = 0
    target: dict[str, float] = defaultdict(float)
    for pool, amt in per_fu.items():
        for el, x in amt.items():
            target[el] += x
        if pool == "Na":
            continue
        full = {el: x * n for el, x in amt.items()}
        counts[pool] = _largest_remainder(full, int(round(sum(full.values()))))
        charge += sum(oxi[el] * c for el, c in counts[pool].items())
    if "Na" in sites_fu:
        na_oxi = oxi.get("Na", 1)
        n_na_sites = int(round(sites_fu["Na"] * n))
        if -charge % na_oxi or not 0 <= -charge // na_oxi <= n_na_sites:
            return None
        na = -charge // na_oxi
        counts["Na"] = {"Na": int(na), None: int(n_na_sites - na)}
    realised: dict[str, float] = defaultdict(float)
    for pool in counts.values():
        for el, c in pool.items():
            if el is not None:
                realised[el] += c / n
    error = max(abs(realised.get(el, 0.0) - target.get(el, 0.0)) for el in set(target) | set(realised))
    n_atoms = sum(c for pool in counts.values() for el, c in pool.items() if el is not None)
    return counts, dict(realised), dict(target), float(error), int(n_atoms)


def _smallest_exact_determinant(structure: Structure, n_min: int = 1) -> int | None:
    """Smallest n (primitive cells) whose 2n formula units make every non-Na count integral."""
    per_fu, _, _ = _per_formula_unit(structure)
    denominator = 1
    for pool, amt in per_fu.items():
        if pool == "Na":
            continue
        for x in amt.values():
            frac = Fraction(x).limit_denominator(10_000)
            if abs(float(frac) - x) > _TOL:
                return None
            denominator = math.lcm(denominator, frac.denominator)
    # 2n formula units must be a multiple of the denominator
    step = denominator // math.gcd(denominator, Z_PRIMITIVE)
    n = step * max(1, -(-n_min // step))
    while n <= MAX_DETERMINANT:
        got = realisable_counts(structure, Z_PRIMITIVE * n)
        if got is not None and got[3] < _TOL:
            return n
        n += step
    return None


def _shortest_vector_A(matrix: np.ndarray) -> float:
    """Shortest non-zero translation (Å) of an LLL-reduced lattice basis (rows)."""
    combos = np.array([c for c in itertools.product((-1, 0, 1), repeat=3) if any(c)])
    return float(np.linalg.norm(combos @ matrix, axis=1).min())


def _most_compact(structure: Structure, n: int) -> np.ndarray:
    """Among the HNFs of det n on the primitive cell, the most compact supercell.

    Most compact: the longest shortest translation (distance between periodic images of an
    ordering), then the largest shortest perpendicular width of the LLL-reduced basis; a diagonal
    multiple of the conventional cell wins remaining ties (the cell the rest of the package
    reports on). Returns the rows in units of the conventional (input) cell vectors.
    """
    conv = structure.lattice.matrix
    prim = CONVENTIONAL_TO_PRIMITIVE @ conv
    candidates = []  # (rows in conventional units, is a diagonal conventional multiple)
    for h in hnf_matrices(n):
        lll = Lattice(h @ prim).get_lll_reduced_lattice().matrix
        # right-handed basis, so that det > 0 and the structure's chirality is kept
        if np.linalg.det(lll) < 0:
            lll = -lll
        candidates.append((np.round(lll @ np.linalg.inv(conv) * 2) / 2, False))
    if n % 2 == 0:  # the diagonal multiples of the conventional cell (det 2 on the primitive)
        for na, nb in itertools.product(range(1, n // 2 + 1), repeat=2):
            if (n // 2) % (na * nb) == 0:
                candidates.append((np.diag([na, nb, n // 2 // (na * nb)]).astype(float), True))
    best = None
    for rows, is_diagonal in candidates:
        lll = Lattice(rows @ conv).get_lll_reduced_lattice().matrix
        key = (-round(_shortest_vector_A(lll), 3), -round(_min_width_A(lll), 3), not is_diagonal)
        if best is None or key < best[0]:
            best = (key, rows)
    return best[1]


def exact_supercell(
    structure: Structure, max_atoms: int = 200, allow_error: bool = False,
    min_formula_units: int = Z_CONVENTIONAL,
):
    """The smallest cell within ``max_atoms`` that realises the composition exactly.

    Parameters
    ----------
    structure
        Disordered conventional C2/c cell (84 labelled sites with oxidation states), e.g. from
        :func:`~nasicon_workflows.structures.disordered_structure`.
    max_atoms
        Largest number of atoms (occupied sites) of the ordered cell.
    allow_error
        When no cell within the budget is exact, use the cell of the nearest realisable
        composition (smallest error, then fewest atoms) instead of raising; its
        ``composition_error`` records the error.
    min_formula_units
        Smallest cell considered (default 4, the conventional cell: a 2-formula-unit primitive
        cell would impose a 9 Å period on every ordering and on the Na/vacancy pattern).

    Returns
    -------
    SupercellChoice
        With ``matrix`` (rows in units of the conventional vectors, half-integers allowed) and
        ``scaling`` (the diagonal multiples when the cell is a diagonal multiple of the
        conventional cell, else None).

    Raises
    ------
    CompositionNotRealisableError
        No exact cell within ``max_atoms`` and ``allow_error`` is False; the message names the
        smallest exact cell and the nearest realisable composition and its error.
    AtomBudgetError
        Not even the 2-formula-unit primitive cell fits ``max_atoms`` (with ``allow_error``).
    """
    from nasicon_workflows.structures.ordering import SupercellChoice, _formula

    def choice(n: int, got) -> SupercellChoice:
        counts, realised, target, error, n_atoms = got
        matrix = _most_compact(structure, n)
        diagonal = np.allclose(matrix, np.diag(np.diag(matrix))) and np.allclose(
            np.diag(matrix), np.round(np.diag(matrix)))
        return SupercellChoice(
            scaling=tuple(int(round(x)) for x in np.diag(matrix)) if diagonal else None,
            counts=counts, n_atoms=n_atoms, target_amounts=target, realised_amounts=realised,
            composition_error=error, matrix=tuple(tuple(float(x) for x in r) for r in matrix),
            n_formula_units=Z_PRIMITIVE * n,
        )

    n_min = max(1, -(-int(min_formula_units) // Z_PRIMITIVE))
    exact_n = _smallest_exact_determinant(structure, n_min)
    exact_got = realisable_counts(structure, Z_PRIMITIVE * exact_n) if exact_n else None
    if exact_got is not None and exact_got[4] <= max_atoms:
        return choice(exact_n, exact_got)
    # nearest realisable composition within the budget
    nearest = None
    smallest_atoms = None
    # a formula unit holds at least 17 atoms (2 M + 3 T + 12 O), so larger n cannot fit
    for n in range(n_min, max(n_min, max_atoms // (Z_PRIMITIVE * 17)) + 1):
        got = realisable_counts(structure, Z_PRIMITIVE * n)
        if got is None:
            continue
        smallest_atoms = got[4] if smallest_atoms is None else min(smallest_atoms, got[4])
        if got[4] > max_atoms:
            continue
        if nearest is None or (round(got[3], 9), got[4]) < (round(nearest[1][3], 9), nearest[1][4]):
            nearest = (n, got)
    if nearest is None:
        raise AtomBudgetError(
            f"No supercell fits max_atoms={max_atoms}: the smallest ordered cell of this "
            f"structure has {smallest_atoms} atoms. Raise max_atoms to at least {smallest_atoms}."
        )
    near = choice(*nearest)
    if allow_error:
        return near
    target = _formula(near.target_amounts)
    if exact_got is not None:
        exact_txt = (f"the smallest exact cell has {Z_PRIMITIVE * exact_n} formula units "
                     f"({exact_got[4]} atoms): raise max_atoms to {exact_got[4]}")
    else:
        exact_txt = f"no cell of up to {Z_PRIMITIVE * MAX_DETERMINANT} formula units is exact"
    raise CompositionNotRealisableError(
        f"{target} cannot be realised exactly in a cell of <= {max_atoms} atoms; {exact_txt}, "
        f"or accept the nearest realisable composition "
        f"{_formula(near.realised_amounts, near.target_amounts)} "
        f"({near.n_formula_units} formula units, {near.n_atoms} atoms, error "
        f"{near.composition_error:.4g} per formula unit) by allowing the composition error.",
        nearest=near, exact_atoms=None if exact_got is None else exact_got[4],
    )
