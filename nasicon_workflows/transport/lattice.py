"""The Na-site lattice of a NASICON cell for kinetic Monte Carlo.

Sites
    The 16 Na sites of every 84-site C2/c cell (Na1 4d, Na2 4e, Na3 8f; see
    :mod:`nasicon_workflows.structures.parent`), occupied or vacant. An ordered cell lists only its
    occupied Na, so the vacant sites are taken from the parent framework (scaled to the cell if it is
    a supercell) after every Na of the cell has been matched to a framework site (within
    ``match_tolerance_A``). Each site is then moved to the lowest BVSE grid point within
    ``site_refine_radius_A`` of its start (the bottom of its basin), so occupied and vacant sites
    are treated alike.
Site energies
    The BVSE of Na+ at the site (the landscape of :mod:`nasicon_workflows.bvse`, every Na removed),
    relative to the global minimum of the grid.
Hops
    Pairs of sites closer than ``hop_cutoff_A`` (default 4 Å: the Na1-Na2 and Na1-Na3 hops, 3.5 Å
    in the framework; the next Na-Na distance, Na2/Na3-Na3 at 4.8 Å, runs through an Na1 site and
    is not a direct hop). The saddle of a hop is the minimax energy of the best grid path between
    the two sites inside a cylinder of radius ``tube_radius_A`` around the straight segment (exact at
    grid resolution: bisection over the sorted energies with 26-neighbour connectivity, as the
    percolation sweep of the BVSE stage). A hop whose cylinder holds a third site is dropped (it is
    two hops), and so is one whose saddle lies more than ``max_barrier_eV`` above both ends.
Na-Na interaction
    The BVSE landscape sees the framework only. The interaction restores the term it left out: the
    screened Coulomb repulsion between Na+ ions, V(r) = 14.4 q^2 / n_Na / r * erfc(r / (f 2 r_c,Na))
    eV (r in Å) - exactly softBV's like-charge term (Chen, Wong & Adams, *Acta Cryst. B* 2019, 75,
    18) with its parameters for Na+ (q = 1, principal quantum number n_Na = 3, covalent radius
    r_c,Na = 1.66 Å, f = 0.75), applied between occupied Na sites. No parameter is fitted.
    ``interaction="coulomb"`` replaces it with a dielectric-screened Coulomb repulsion
    14.4 / (eps_r r) exp(-r / lambda) whose eps_r and lambda the user states; ``"none"`` is the pure
    site-blocking lattice gas.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from pymatgen.core import Structure
from scipy import ndimage
from scipy.special import erfc

from nasicon_workflows.transport.errors import KMCSettingsError, LatticeConstructionError

__all__ = [
    "INTERACTIONS",
    "NaLattice",
    "build_na_lattice",
    "framework_na_sites",
    "interaction_parameters",
    "minimax_saddle_eV",
    "pair_interaction_eV",
    "simple_cubic_lattice",
]

COULOMB_EV_A = 14.4
INTERACTIONS = ("softbv", "coulomb", "none")
_NEIGHBOURS_26 = np.ones((3, 3, 3), dtype=bool)


@dataclass
class NaLattice:
    """Sites, hops and energies of the mobile-ion sublattice of one periodic cell.

    Attributes
    ----------
    lattice_matrix
        Cell vectors (rows) in Å.
    frac_coords
        Site positions, fractional, shape (n, 3).
    labels
        Site labels (Na1/Na2/Na3, or any string).
    site_energy_eV
        Site energies relative to a common zero (BVSE: the global minimum of the grid).
    occupied
        Initial occupation of each site (the Na of the cell).
    hop_i, hop_j
        End sites of each hop (each unordered pair once).
    hop_image
        Lattice translation (integers) added to site j: the hop runs from r_i to r_j + image @ L.
    hop_saddle_eV
        Saddle energy of each hop, same zero as ``site_energy_eV``.
    interaction
        "softbv", "coulomb" or "none".
    interaction_params
        Parameters of the interaction (documented with units).
    formula
        Reduced formula of the source cell.
    provenance
        How the lattice was built (settings, counts, timings).
    """

    lattice_matrix: np.ndarray
    frac_coords: np.ndarray
    labels: list[str]
    site_energy_eV: np.ndarray
    occupied: np.ndarray
    hop_i: np.ndarray
    hop_j: np.ndarray
    hop_image: np.ndarray
    hop_saddle_eV: np.ndarray
    interaction: str = "softbv"
    interaction_params: dict = field(default_factory=dict)
    formula: str = ""
    provenance: dict = field(default_factory=dict)

    @property
    def n_sites(self) -> int:
        """Number of sites in the cell."""
        return len(self.site_energy_eV)

    @property
    def n_mobile(self) -> int:
        """Number of mobile ions in the cell."""
        return int(np.count_nonzero(self.occupied))

    @property
    def volume_A3(self) -> float:
        """Cell volume in Å^3."""
        return float(abs(np.linalg.det(self.lattice_matrix)))

    def hop_vectors_A(self) -> np.ndarray:
        """Cartesian vector of each hop (from i to the image of j), Å."""
        d = self.frac_coords[self.hop_j] + self.hop_image - self.frac_coords[self.hop_i]
        return d @ self.lattice_matrix

    def hop_table(self) -> list[dict]:
        """One row per hop: labels, length (Å), saddle and forward/backward barriers (eV)."""
        vec = self.hop_vectors_A()
        rows = []
        for h in range(len(self.hop_i)):
            i, j = int(self.hop_i[h]), int(self.hop_j[h])
            rows.append({
                "site_i": i, "site_j": j, "label_i": self.labels[i], "label_j": self.labels[j],
                "length_A": float(np.linalg.norm(vec[h])),
                "saddle_eV": float(self.hop_saddle_eV[h]),
                "barrier_i_to_j_eV": float(self.hop_saddle_eV[h] - self.site_energy_eV[i]),
                "barrier_j_to_i_eV": float(self.hop_saddle_eV[h] - self.site_energy_eV[j]),
            })
        return rows


def pair_interaction_eV(r_A: np.ndarray, interaction: str, params: dict) -> np.ndarray:
    """Na-Na pair energy at distance ``r_A`` (Å) in eV.

    Parameters
    ----------
    r_A
        Distances in Å.
    interaction
        "softbv": 14.4 q^2 / n / r erfc(r / L) with ``params["n"]`` and ``params["length_A"]``;
        "coulomb": 14.4 / (eps_r r) exp(-r / lambda) with ``params["epsilon_r"]`` and
        ``params["screening_length_A"]``; "none": zero.
    params
        Parameters of the chosen form.

    Returns
    -------
    numpy.ndarray
    """
    r = np.asarray(r_A, dtype=float)
    if interaction == "none":
        return np.zeros_like(r)
    if interaction == "softbv":
        return COULOMB_EV_A / params["n"] / r * erfc(r / params["length_A"])
    if interaction == "coulomb":
        return COULOMB_EV_A / (params["epsilon_r"] * r) * np.exp(-r / params["screening_length_A"])
    raise KMCSettingsError(f"interaction {interaction!r} is not one of {INTERACTIONS}")


def interaction_parameters(
    interaction: str = "softbv",
    epsilon_r: float | None = None,
    screening_length_A: float | None = None,
    cutoff_A: float = 7.0,
) -> dict:
    """Parameters (with their source) of a Na-Na interaction form; see :func:`pair_interaction_eV`."""
    if interaction not in INTERACTIONS:
        raise KMCSettingsError(f"interaction {interaction!r} is not one of {INTERACTIONS}")
    if not (cutoff_A > 0 and math.isfinite(cutoff_A)):
        raise KMCSettingsError(f"interaction cutoff must be a positive length in Å, got {cutoff_A}")
    if interaction == "none":
        return {"cutoff_A": 0.0, "source": "pure site blocking, no Na-Na energy"}
    if interaction == "softbv":
        from nasicon_workflows.bvse.params import mobile_ion

        ion = mobile_ion("Na")
        screening = 0.75
        return {
            "n": float(ion.n), "q": 1.0, "covalent_radius_A": ion.covalent_radius,
            "screening_f": screening, "length_A": screening * 2 * ion.covalent_radius,
            "cutoff_A": float(cutoff_A),
            "source": ("softBV like-charge term 14.4 q^2/n/r erfc(r/(f(rc+rc))) for Na+-Na+ "
                       "(Chen, Wong & Adams, Acta Cryst. B 2019, 75, 18); not fitted"),
        }
    if epsilon_r is None or screening_length_A is None or epsilon_r <= 0 or screening_length_A <= 0:
        raise KMCSettingsError(
            "interaction='coulomb' needs a positive epsilon_r and screening_length_A (Å); "
            f"got {epsilon_r} and {screening_length_A}"
        )
    return {"epsilon_r": float(epsilon_r), "screening_length_A": float(screening_length_A),
            "cutoff_A": float(cutoff_A),
            "source": "user-chosen dielectric-screened Coulomb 14.4/(eps_r r) exp(-r/lambda)"}


#: Primitive basis of the C-centred C2/c framework cell (rows, in units of its conventional
#: vectors): the exact cells of the structures stage are integer supercells of this basis.
_C_CENTRED_PRIMITIVE = np.array([[0.5, 0.5, 0.0], [-0.5, 0.5, 0.0], [0.0, 0.0, 1.0]])


def _not_on_framework(structure: Structure) -> LatticeConstructionError:
    return LatticeConstructionError(
        f"the cell of {structure.composition.reduced_formula} (a, b, c = "
        f"{', '.join(f'{x:.2f}' for x in structure.lattice.abc)} Å) is not the C2/c NASICON cell "
        "of the structures stage or a supercell of it; build it with "
        "`nasicon-workflows build` (vacant Na sites are taken from that framework)"
    )


def _sites_in_supercell(frac: np.ndarray, labels: list[str], matrix: np.ndarray
                        ) -> tuple[np.ndarray, list[str]]:
    """Sites ``frac`` of the conventional cell inside the supercell whose vectors are the rows of
    ``matrix`` (in units of the conventional vectors; half-integers allowed for C-centred cells).
    Returns fractional coordinates of the supercell and unique labels (``Na1_1``, ``Na1_2`` ...)."""
    import itertools

    corners = np.array(list(itertools.product((0, 1), repeat=3))) @ matrix
    lo, hi = np.floor(corners.min(axis=0)) - 1, np.ceil(corners.max(axis=0)) + 1
    shifts = np.array(np.meshgrid(*(np.arange(a, b + 1) for a, b in zip(lo, hi)),
                                  indexing="ij")).reshape(3, -1).T
    pts = ((frac[None, :, :] + shifts[:, None, :]).reshape(-1, 3) @ np.linalg.inv(matrix))
    labs = np.tile(np.asarray(labels, dtype=object), len(shifts))
    keep = np.all((pts > -1e-6) & (pts < 1 - 1e-6), axis=1)
    pts, labs = pts[keep] % 1.0, labs[keep]
    _, first = np.unique(np.round(pts, 4) % 1.0, axis=0, return_index=True)
    first = np.sort(first)
    # Unique labels, numbered per framework label as pymatgen's make_supercell does (Na1_1 ...).
    count: dict[str, int] = {}
    names = []
    for lab in labs[first]:
        count[lab] = count.get(lab, 0) + 1
        names.append(f"{lab}_{count[lab]}")
    return pts[first], names


def _mapped_framework_sites(structure: Structure, parent: Structure, frac: np.ndarray,
                            labels: list[str]) -> tuple[np.ndarray, list[str]]:
    """Framework Na sites of a (possibly non-diagonal) supercell, found by lattice mapping.

    Every mapping of the cell's lattice onto a supercell of the framework's primitive lattice
    (lengths within 10 %, angles within 5°, in any orientation) gives a candidate set of sites; the
    one closest to the cell's own Na wins (symmetry-equivalent mappings give the same set).
    """
    from pymatgen.core import Lattice

    prim = Lattice(_C_CENTRED_PRIMITIVE @ parent.lattice.matrix)
    n_cells = structure.lattice.volume / parent.lattice.volume
    na = structure.frac_coords[[i for i, s in enumerate(structure)
                                if s.specie.symbol == "Na"]] % 1.0
    best, seen = None, set()
    for _, _, scale in prim.find_all_mappings(structure.lattice, ltol=0.1, atol=5.0,
                                              skip_rotation_matrix=True):
        matrix = scale @ _C_CENTRED_PRIMITIVE
        key = tuple(np.rint(2 * matrix).astype(int).ravel())
        if key in seen or abs(abs(np.linalg.det(matrix)) - n_cells) > 0.1 * n_cells:
            continue
        seen.add(key)
        sites, labs = _sites_in_supercell(frac, labels, matrix)
        if len(sites) != round(len(frac) * abs(np.linalg.det(matrix))):
            continue
        worst = (_min_image_dist(structure.lattice.matrix, na, sites).min(axis=1).max()
                 if len(na) else 0.0)
        if best is None or worst < best[0]:
            best = (worst, sites, labs)
    if best is None:
        raise _not_on_framework(structure)
    return best[1], best[2]


def framework_na_sites(structure: Structure) -> tuple[np.ndarray, list[str]]:
    """Fractional coordinates and labels of every Na site of the C2/c framework in ``structure``'s cell.

    The cell must be the 84-site C2/c cell of :mod:`nasicon_workflows.structures` or a supercell of
    it (lattice within 10 % of the framework's): a diagonal one (``1 x 1 x 2``) or a non-diagonal
    one of the C-centred primitive cell, as the exact-cell search of the structures stage builds
    for compositions on a 0.1 grid (10 formula units, 210 sites).

    Raises
    ------
    LatticeConstructionError
        When the cell is not a supercell of the framework cell.
    """
    from nasicon_workflows.structures.disordered import parent_structure
    from nasicon_workflows.structures.parent import NA_LABELS

    from pymatgen.core import Lattice

    parent = parent_structure()
    na = [i for i, s in enumerate(parent) if (s.label or "").rstrip("0123456789") == "Na"
          or s.label in NA_LABELS]
    # Compare in one standard orientation: a CIF round trip rotates the Cartesian frame.
    cell_std = Lattice.from_parameters(*structure.lattice.parameters).matrix
    parent_std = Lattice.from_parameters(*parent.lattice.parameters).matrix
    scaling = cell_std @ np.linalg.inv(parent_std)
    rounded = np.rint(scaling)
    if np.abs(scaling - rounded).max() > 0.1 or abs(np.linalg.det(rounded)) < 0.5:
        # Not a diagonal-type supercell in the standard orientation: map the lattice instead.
        return _mapped_framework_sites(structure, parent, parent.frac_coords[na],
                                       [parent[i].label for i in na])
    sub = Structure(parent.lattice, ["Na"] * len(na), parent.frac_coords[na],
                    labels=[parent[i].label for i in na])
    sub.make_supercell(rounded.astype(int))
    return np.asarray(sub.frac_coords) % 1.0, [s.label for s in sub]


def _min_image_dist(lattice: np.ndarray, f1: np.ndarray, f2: np.ndarray) -> np.ndarray:
    d = f1[:, None, :] - f2[None, :, :]
    d -= np.rint(d)
    return np.linalg.norm(d @ lattice, axis=-1)


def _refine_to_basin(energies: np.ndarray, lattice: np.ndarray, frac: np.ndarray,
                     radius_A: float) -> tuple[np.ndarray, np.ndarray]:
    """Move each point to the lowest grid point within ``radius_A``; returns frac coords, energies."""
    shape = np.array(energies.shape)
    inv = np.linalg.inv(lattice)
    half = np.ceil(radius_A * np.linalg.norm(inv, axis=0) * shape).astype(int)
    ranges = [np.arange(-h, h + 1) for h in half]
    off = np.array(np.meshgrid(*ranges, indexing="ij")).reshape(3, -1).T
    out_f, out_e = [], []
    for f in frac:
        base = np.rint(f * shape).astype(int)
        idx = base + off
        cart = (idx / shape - f) @ lattice
        keep = np.linalg.norm(cart, axis=1) <= radius_A
        idx = idx[keep]
        e = energies[idx[:, 0] % shape[0], idx[:, 1] % shape[1], idx[:, 2] % shape[2]]
        k = int(np.argmin(e))
        out_f.append((idx[k] / shape) % 1.0)
        out_e.append(float(e[k]))
    return np.array(out_f), np.array(out_e)


def _segment_distance(points: np.ndarray, p0: np.ndarray, p1: np.ndarray) -> np.ndarray:
    d = p1 - p0
    t = np.clip(((points - p0) @ d) / (d @ d), 0.0, 1.0)
    return np.linalg.norm(points - (p0 + t[:, None] * d), axis=1)


def minimax_saddle_eV(energies: np.ndarray, lattice: np.ndarray, f0: np.ndarray, f1: np.ndarray,
                      tube_radius_A: float) -> float:
    """Minimax (saddle) energy of the best grid path from f0 to f1 inside a cylinder.

    Parameters
    ----------
    energies
        Periodic grid of energies (points at k/n along each axis).
    lattice
        Cell vectors (rows), Å.
    f0, f1
        Fractional end points; ``f1`` unwrapped (it may lie outside the cell).
    tube_radius_A
        Radius of the cylinder (capped by half-spheres) around the segment, Å.

    Returns
    -------
    float
        The lowest threshold at which the grid points nearest f0 and f1 are connected through
        points of the cylinder at or below it (26-neighbour connectivity); inf if never.
    """
    shape = np.array(energies.shape)
    inv = np.linalg.inv(lattice)
    margin = tube_radius_A * np.linalg.norm(inv, axis=0) * shape
    lo = np.floor(np.minimum(f0, f1) * shape - margin).astype(int) - 1
    hi = np.ceil(np.maximum(f0, f1) * shape + margin).astype(int) + 1
    axes = [np.arange(lo[d], hi[d] + 1) for d in range(3)]
    ii, jj, kk = np.meshgrid(*axes, indexing="ij")
    idx = np.stack([ii, jj, kk], axis=-1).reshape(-1, 3)
    cart = (idx / shape) @ lattice
    p0, p1 = f0 @ lattice, f1 @ lattice
    inside = _segment_distance(cart, p0, p1) <= tube_radius_A
    box = energies[idx[:, 0] % shape[0], idx[:, 1] % shape[1], idx[:, 2] % shape[2]]
    box = np.where(inside, box, np.inf).reshape(ii.shape)
    start = tuple(np.rint(f0 * shape).astype(int) - lo)
    end = tuple(np.rint(f1 * shape).astype(int) - lo)
    values = np.unique(box[np.isfinite(box)])
    lo_k, hi_k = 0, len(values) - 1

    def connected(threshold: float) -> bool:
        labels, _ = ndimage.label(box <= threshold, structure=_NEIGHBOURS_26)
        return labels[start] != 0 and labels[start] == labels[end]

    if not connected(values[hi_k]):
        return math.inf
    while lo_k < hi_k:
        mid = (lo_k + hi_k) // 2
        if connected(values[mid]):
            hi_k = mid
        else:
            lo_k = mid + 1
    return float(values[lo_k])


def build_na_lattice(
    structure: Structure,
    resolution: float = 0.1,
    hop_cutoff_A: float = 4.0,
    tube_radius_A: float = 1.0,
    site_refine_radius_A: float = 0.5,
    match_tolerance_A: float = 1.0,
    max_barrier_eV: float = 3.0,
    interaction: str = "softbv",
    epsilon_r: float | None = None,
    screening_length_A: float | None = None,
    interaction_cutoff_A: float = 7.0,
    landscape=None,
) -> NaLattice:
    """The Na-site lattice of an ordered (relaxed) NASICON cell with BVSE site and saddle energies.

    Parameters
    ----------
    structure
        Ordered cell on the C2/c framework of the structures stage (84 sites or a supercell),
        relaxed or not; its Na give the initial occupation.
    resolution
        BVSE grid spacing in Å (0.1 as the BVSE stage).
    hop_cutoff_A
        Longest direct hop in Å (4.0: Na1-Na2 and Na1-Na3).
    tube_radius_A
        Radius of the cylinder in which the saddle of a hop is searched, Å.
    site_refine_radius_A
        Radius within which each site moves to the bottom of its BVSE basin, Å.
    match_tolerance_A
        Largest distance between an Na of the cell and its framework site, Å.
    max_barrier_eV
        Hops whose saddle is this far above both ends are dropped.
    interaction, epsilon_r, screening_length_A, interaction_cutoff_A
        Na-Na interaction, see :func:`interaction_parameters`.
    landscape
        A precomputed :class:`~nasicon_workflows.bvse.engine.BVSELandscape` of ``structure``.

    Returns
    -------
    NaLattice

    Raises
    ------
    LatticeConstructionError
        No Na, a cell not on the framework, unmatched Na, or no percolating hop.
    """
    import time

    from nasicon_workflows.bvse.engine import compute_landscape

    t0 = time.perf_counter()
    params = interaction_parameters(interaction, epsilon_r, screening_length_A, interaction_cutoff_A)
    for name, value in (("resolution", resolution), ("hop_cutoff_A", hop_cutoff_A),
                        ("tube_radius_A", tube_radius_A)):
        if not (value > 0 and math.isfinite(value)):
            raise KMCSettingsError(f"{name} must be positive, got {value}")
    if not structure.is_ordered:
        raise LatticeConstructionError(
            f"{structure.composition.reduced_formula} is disordered; KMC needs an ordered cell "
            "(order it with `nasicon-workflows build ... --order ewald`)"
        )
    na_idx = [i for i, s in enumerate(structure) if s.specie.symbol == "Na"]
    if not na_idx:
        raise LatticeConstructionError(
            f"{structure.composition.reduced_formula} contains no Na: there is no mobile ion to move"
        )
    frac_sites, labels = framework_na_sites(structure)
    lattice = structure.lattice.matrix
    na_frac = structure.frac_coords[na_idx] % 1.0
    dist = _min_image_dist(lattice, na_frac, frac_sites)
    nearest = dist.argmin(axis=1)
    if dist.min(axis=1).max() > match_tolerance_A or len(set(nearest.tolist())) != len(na_idx):
        worst = int(dist.min(axis=1).argmax())
        raise LatticeConstructionError(
            f"Na {na_idx[worst]} of {structure.composition.reduced_formula} lies "
            f"{dist.min(axis=1)[worst]:.2f} Å from the nearest framework Na site (tolerance "
            f"{match_tolerance_A} Å) or two Na share a site; the cell is not an ordered C2/c "
            "NASICON cell"
        )
    occupied = np.zeros(len(frac_sites), dtype=bool)
    occupied[nearest] = True
    start = frac_sites.copy()
    start[nearest] = na_frac  # occupied sites start from the (relaxed) Na position
    if landscape is None:
        landscape = compute_landscape(structure, ion="Na", resolution=resolution)
    energies = landscape.energies_eV - landscape.energies_eV.min()
    t_land = time.perf_counter()
    frac, site_e = _refine_to_basin(energies, lattice, start, site_refine_radius_A)
    # Candidate hops: every site pair (with lattice image) closer than the cutoff.
    hi, hj, himg, hs = [], [], [], []
    images = np.array(np.meshgrid(*(np.arange(-2, 3),) * 3, indexing="ij")).reshape(3, -1).T
    n = len(frac)
    cart = frac @ lattice
    others = (frac[None, :, :] + images[:, None, :]).reshape(-1, 3) @ lattice
    for i in range(n):
        for j in range(i, n):
            for img in images:
                if j == i and tuple(img) <= (0, 0, 0):
                    continue  # a site with itself, or the same image pair counted twice
                f1 = frac[j] + img
                length = float(np.linalg.norm((f1 - frac[i]) @ lattice))
                if length > hop_cutoff_A:
                    continue
                p0, p1 = cart[i], f1 @ lattice
                # A third site inside the cylinder makes this two hops, not one.
                dseg = _segment_distance(others, p0, p1)
                far_ends = (np.linalg.norm(others - p0, axis=1) > 0.3) & (
                    np.linalg.norm(others - p1, axis=1) > 0.3)
                if np.any(far_ends & (dseg < tube_radius_A)):
                    continue
                saddle = minimax_saddle_eV(energies, lattice, frac[i], f1, tube_radius_A)
                if saddle - max(site_e[i], site_e[j]) > max_barrier_eV:
                    continue
                hi.append(i)
                hj.append(j)
                himg.append(img)
                hs.append(saddle)
    if not hi:
        raise LatticeConstructionError(
            f"no Na hop shorter than {hop_cutoff_A} Å with a saddle within {max_barrier_eV} eV in "
            f"{structure.composition.reduced_formula}"
        )
    return NaLattice(
        lattice_matrix=np.array(lattice), frac_coords=frac, labels=list(labels),
        site_energy_eV=site_e, occupied=occupied,
        hop_i=np.array(hi, dtype=np.int64), hop_j=np.array(hj, dtype=np.int64),
        hop_image=np.array(himg, dtype=np.int64).reshape(-1, 3),
        hop_saddle_eV=np.array(hs), interaction=interaction, interaction_params=params,
        formula=structure.composition.reduced_formula,
        provenance={
            "bvse_resolution_A": resolution, "hop_cutoff_A": hop_cutoff_A,
            "tube_radius_A": tube_radius_A, "site_refine_radius_A": site_refine_radius_A,
            "max_barrier_eV": max_barrier_eV, "n_hops": len(hi),
            "energy_zero": "global minimum of the BVSE grid (all Na removed)",
            "landscape_s": round(t_land - t0, 2),
            "hops_s": round(time.perf_counter() - t_land, 2),
        },
    )


def simple_cubic_lattice(a_A: float = 1.0, barrier_eV: float = 0.3, occupied: bool = True,
                         interaction: str = "none") -> NaLattice:
    """One-site simple cubic lattice with equal hop barriers (analytic test case).

    Each site has six neighbours at distance ``a_A``; a lone particle hops with total rate
    Gamma = 6 nu exp(-barrier / k_B T), and D = a^2 Gamma / (2 d) with d = 3.

    Parameters
    ----------
    a_A
        Lattice constant in Å.
    barrier_eV
        Saddle energy above the (zero) site energy.
    occupied
        Whether the site of the cell starts occupied.
    interaction
        Normally "none" (the site-blocking lattice gas).
    """
    return NaLattice(
        lattice_matrix=np.eye(3) * a_A, frac_coords=np.zeros((1, 3)), labels=["X"],
        site_energy_eV=np.zeros(1), occupied=np.array([occupied]),
        hop_i=np.zeros(3, dtype=np.int64), hop_j=np.zeros(3, dtype=np.int64),
        hop_image=np.eye(3, dtype=np.int64), hop_saddle_eV=np.full(3, barrier_eV),
        interaction=interaction, interaction_params=interaction_parameters(interaction),
        formula="cubic test lattice",
    )
