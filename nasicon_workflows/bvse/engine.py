"""Bond-valence site-energy (BVSE) landscape of a mobile ion on a periodic grid.

The energy of a test ion at point r is the softBV expression (Chen, Wong & Adams, Acta Cryst. B
2019, 75, 18): a Morse-type bond-valence attraction to every counter-ion j within the cutoff,

    E_M = D0_j / 2 * [(exp(alpha_j (r_min,j - r)) - 1)^2 - 1],

plus a screened Coulomb repulsion from every like-charged framework ion,

    E_C = 14.4 q_m q_j / sqrt(n_m n_j) / r * erfc(r / (f (r_c,m + r_c,j))),

with every site of the mobile species removed from the framework (the usual softBV convention, also
bvlain's). The sum runs over periodic images within ``cutoff``; contributions are evaluated block
by block (8x8x8 grid points against the image atoms within cutoff + block radius, listed by a
compiled pass) in a parallel compiled kernel, so memory is bounded by the grid itself plus one
neighbour list per block and a grid x neighbours array is never built.

Grid convention: ``n_i = ceil(L_i / resolution)`` points per lattice vector at fractional
coordinates ``k / n_i`` (periodic, no duplicated boundary plane), so the spacing is at most
``resolution``. bvlain instead uses ``int(L_i // resolution)`` points on the closed interval
[0, 1]; :func:`grid_shape` can reproduce that for comparisons (``convention="bvlain"``).
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field

import numba
import numpy as np
from pymatgen.core import Structure

from nasicon_workflows.bvse.errors import (
    GridTooLargeError,
    InvalidBVSESettingError,
    MissingAnionError,
    MissingMobileIonError,
    MissingOxidationStatesError,
    PartialOccupancyError,
)
from nasicon_workflows.bvse.params import (
    FrameworkParameters,
    MobileIon,
    framework_parameters,
    mobile_ion,
)

__all__ = [
    "BYTES_PER_GRID_POINT",
    "GRID_CONVENTIONS",
    "BVSELandscape",
    "compute_landscape",
    "decorate_oxidation_states",
    "estimate_memory_mb",
    "grid_shape",
    "point_energies",
]

logger = logging.getLogger(__name__)

GRID_CONVENTIONS = ("periodic", "bvlain")

#: Upper bound of the bytes held per grid point by the landscape and the percolation sweep
#: (energies and their shifted copy, point -> node map, site map, and in the worst case where
#: the sweep visits every point, sort order, union-find parent/size/offsets, lattice basis, flags).
BYTES_PER_GRID_POINT = 112

_BLOCK = 8  # grid points per block edge: ~0.8 Å at 0.1 Å, a cheap margin on the neighbour sphere
# Pair energies are tabulated in r^2 (linear interpolation, float32 values, float64 sums) above
# 0.5 Å, where they are smooth: 32768 points keep the table in cache and the error below 2e-5 eV
# per grid point in the low-energy region (measured against the exact kernel,
# tests/test_bvse_engine.py).
_TABLE_S0 = 0.25  # Å^2
_TABLE_POINTS = 32768


@dataclass
class BVSELandscape:
    """The BVSE of a mobile ion on a grid over one ordered cell.

    Attributes
    ----------
    structure
        The oxidation-state-decorated input structure (mobile ions included).
    energies_eV
        Site energies on the grid, shape ``grid_shape`` (absolute, eV; subtract ``energies_eV.min()``
        for the landscape relative to the global minimum).
    frac_axes
        The fractional coordinates of the grid points along a, b and c.
    ion
        The mobile ion and its parameters.
    resolution
        Requested grid spacing in Å.
    cutoff
        Interaction cutoff in Å.
    screening
        Coulomb screening factor f.
    covalent_radii
        Covalent radius table ("softbv" or "ase").
    grid_convention
        "periodic" or "bvlain".
    exact
        Whether pair terms were evaluated exactly (True) or from the r^2 table (False).
    timings_s
        Wall times of the stages in seconds.
    """

    structure: Structure
    energies_eV: np.ndarray
    frac_axes: tuple[np.ndarray, np.ndarray, np.ndarray]
    ion: MobileIon
    resolution: float
    cutoff: float
    screening: float
    covalent_radii: str
    grid_convention: str
    exact: bool = False
    timings_s: dict[str, float] = field(default_factory=dict)

    @property
    def grid_shape(self) -> tuple[int, int, int]:
        """Number of grid points along a, b and c."""
        return tuple(int(n) for n in self.energies_eV.shape)

    @property
    def mobile_indices(self) -> list[int]:
        """Indices of the mobile-ion sites in :attr:`structure`."""
        return [i for i, s in enumerate(self.structure) if s.specie.symbol == self.ion.symbol]


def grid_shape(lattice_abc, resolution: float, convention: str = "periodic") -> tuple[int, int, int]:
    """Grid points along each lattice vector.

    Parameters
    ----------
    lattice_abc
        Lattice lengths a, b, c in Å.
    resolution
        Target spacing in Å.
    convention
        "periodic": ``ceil(L / resolution)`` points at ``k / n`` (spacing <= resolution);
        "bvlain": ``int(L // resolution)`` points on the closed interval [0, 1], as bvlain does.

    Returns
    -------
    tuple of int
    """
    if convention not in GRID_CONVENTIONS:
        raise InvalidBVSESettingError(
            f"grid convention {convention!r} is not one of {GRID_CONVENTIONS}"
        )
    if convention == "bvlain":
        return tuple(max(2, int(length // resolution)) for length in lattice_abc)
    return tuple(max(1, math.ceil(length / resolution - 1e-9)) for length in lattice_abc)


def _frac_axes(shape, convention: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if convention == "bvlain":
        return tuple(np.linspace(0.0, 1.0, n) for n in shape)
    return tuple(np.arange(n) / n for n in shape)


def estimate_memory_mb(n_points: int) -> float:
    """Upper bound of the working memory in MB for a grid of ``n_points`` points."""
    return n_points * BYTES_PER_GRID_POINT / 1e6


def _validate_settings(resolution: float, cutoff: float, screening: float) -> None:
    if not (0.01 <= resolution <= 2.0):
        raise InvalidBVSESettingError(
            f"resolution={resolution} Å is outside 0.01-2.0 Å; the paper uses 0.1 Å"
        )
    if not (3.0 <= cutoff <= 30.0):
        raise InvalidBVSESettingError(
            f"cutoff={cutoff} Å is outside 3-30 Å; softBV and bvlain use 10 Å"
        )
    if not (0.1 <= screening <= 2.0):
        raise InvalidBVSESettingError(
            f"screening factor f={screening} is outside 0.1-2.0; softBV uses 0.75, bvlain 0.74"
        )


def decorate_oxidation_states(structure: Structure) -> Structure:
    """The structure with integer oxidation states on every site.

    Existing oxidation states are kept; otherwise pymatgen's bond valence analyser assigns them
    (with O- and P3- forbidden, as bvlain does).

    Parameters
    ----------
    structure
        An ordered structure.

    Returns
    -------
    Structure
        A decorated copy.

    Raises
    ------
    PartialOccupancyError
        If the structure is disordered.
    MissingOxidationStatesError
        If oxidation states are absent and cannot be guessed, or are not integers.
    """
    if not structure.is_ordered:
        raise PartialOccupancyError(
            f"{structure.composition.reduced_formula}: the structure has partially occupied sites; "
            "the BVSE grid needs an ordered cell. Order it first (structures stage, "
            "order_structure) or use the ensemble mode (--ensemble K / BVSEEnsembleMaker)"
        )
    species = [site.specie for site in structure]
    if all(getattr(sp, "oxi_state", None) is not None for sp in species):
        decorated = structure.copy()
    else:
        from pymatgen.analysis.bond_valence import BVAnalyzer

        try:
            decorated = BVAnalyzer(forbidden_species=["O-", "P3-"]).get_oxi_state_decorated_structure(
                structure.copy()
            )
        except ValueError as exc:
            raise MissingOxidationStatesError(
                f"{structure.composition.reduced_formula}: no oxidation states on the sites and the "
                f"bond valence analyser could not assign them ({exc}); decorate the structure "
                "with Structure.add_oxidation_state_by_element({...}) first"
            ) from None
    bad = sorted({str(s.specie) for s in decorated
                  if abs(s.specie.oxi_state - round(s.specie.oxi_state)) > 1e-6})
    if bad:
        raise MissingOxidationStatesError(
            f"non-integer oxidation states {bad}: softBV parameters exist for integer formal "
            "charges only; give integer oxidation states"
        )
    return decorated


@numba.njit(cache=True, inline="always")
def _pair_energy(r2, r_min, alpha, d0, pref, length):
    r = math.sqrt(r2)
    if r < 1e-3:  # a grid point on a nucleus: keep the value large but finite
        r = 1e-3
    if pref != 0.0:
        return pref / r * math.erfc(r / length)
    x = math.exp(alpha * (r_min - r)) - 1.0
    return 0.5 * d0 * (x * x - 1.0)


@numba.njit(parallel=True, cache=True, fastmath=True, error_model="numpy")
def _grid_kernel(out, frac0, frac1, frac2, lattice, block_origin, centers, half_diag, ptr, idx, xyz,
                 kind, table, s0, inv_h, exact, r_min, alpha, d0, pref, length, cutoff2):
    n0, n1, n2 = out.shape
    n_blocks = block_origin.shape[0]
    last = table.shape[1] - 2
    nb = _BLOCK * _BLOCK * _BLOCK
    for b in numba.prange(n_blocks):
        i0, j0, k0 = block_origin[b, 0], block_origin[b, 1], block_origin[b, 2]
        i1, j1, k1 = min(i0 + _BLOCK, n0), min(j0 + _BLOCK, n1), min(k0 + _BLOCK, n2)
        px = np.empty(nb)
        py = np.empty(nb)
        pz = np.empty(nb)
        acc = np.zeros(nb)
        npts = 0
        for i in range(i0, i1):
            for j in range(j0, j1):
                for k in range(k0, k1):
                    fa, fb, fc = frac0[i], frac1[j], frac2[k]
                    px[npts] = fa * lattice[0, 0] + fb * lattice[1, 0] + fc * lattice[2, 0]
                    py[npts] = fa * lattice[0, 1] + fb * lattice[1, 1] + fc * lattice[2, 1]
                    pz[npts] = fa * lattice[0, 2] + fb * lattice[1, 2] + fc * lattice[2, 2]
                    npts += 1
        cutoff = math.sqrt(cutoff2)
        r0 = math.sqrt(s0)
        for m in range(ptr[b], ptr[b + 1]):
            a = idx[m]
            ax, ay, az = xyz[a, 0], xyz[a, 1], xyz[a, 2]
            t = kind[a]
            d = math.sqrt((ax - centers[b, 0]) ** 2 + (ay - centers[b, 1]) ** 2
                          + (az - centers[b, 2]) ** 2)
            if not exact and d + half_diag < cutoff and d - half_diag > r0:
                # Every point of the block is inside the cutoff and in the tabulated range:
                # a branch-free loop the compiler can vectorise.
                row = table[t]
                for p in range(npts):
                    dx = ax - px[p]
                    dy = ay - py[p]
                    dz = az - pz[p]
                    u = (dx * dx + dy * dy + dz * dz - s0) * inv_h
                    q = int(u)
                    w = u - q
                    acc[p] += row[q] + w * (row[q + 1] - row[q])
                continue
            for p in range(npts):
                dx = ax - px[p]
                dy = ay - py[p]
                dz = az - pz[p]
                r2 = dx * dx + dy * dy + dz * dz
                if r2 < cutoff2:
                    if r2 < s0 or exact:
                        acc[p] += _pair_energy(r2, r_min[a], alpha[a], d0[a], pref[a], length[a])
                    else:
                        u = (r2 - s0) * inv_h
                        q = min(int(u), last)
                        w = u - q
                        acc[p] += table[t, q] + w * (table[t, q + 1] - table[t, q])
        npts = 0
        for i in range(i0, i1):
            for j in range(j0, j1):
                for k in range(k0, k1):
                    out[i, j, k] = acc[npts]
                    npts += 1


@numba.njit(cache=True)
def _points_kernel(points, ptr, idx, xyz, r_min, alpha, d0, pref, length, cutoff2):
    out = np.zeros(points.shape[0])
    for p in range(points.shape[0]):
        e = 0.0
        for m in range(ptr[p], ptr[p + 1]):
            a = idx[m]
            dx = xyz[a, 0] - points[p, 0]
            dy = xyz[a, 1] - points[p, 1]
            dz = xyz[a, 2] - points[p, 2]
            r2 = dx * dx + dy * dy + dz * dz
            if r2 < cutoff2:
                e += _pair_energy(r2, r_min[a], alpha[a], d0[a], pref[a], length[a])
        out[p] = e
    return out


@dataclass
class _Framework:
    """Framework atoms and their periodic images within reach of the cell."""

    xyz: np.ndarray
    params: FrameworkParameters
    kind: np.ndarray  # pair-potential type of each image atom (row of ``table``)
    table: np.ndarray  # pair energy (eV) on a uniform r^2 grid from _TABLE_S0 to cutoff^2
    inv_h: float


def _pair_table(params: FrameworkParameters, cutoff: float):
    """Unique pair potentials of the framework, tabulated on a uniform grid in r^2."""
    from scipy.special import erfc

    keys = np.column_stack([
        np.nan_to_num(params.r_min), np.nan_to_num(params.alpha), np.nan_to_num(params.d0),
        params.coulomb_prefactor, params.screening_length,
    ])
    unique, kind = np.unique(keys, axis=0, return_inverse=True)
    h = (cutoff**2 - _TABLE_S0) / (_TABLE_POINTS - 2)
    r = np.sqrt(_TABLE_S0 + h * np.arange(_TABLE_POINTS))
    table = np.empty((len(unique), _TABLE_POINTS))
    for t, (r_min, alpha, d0, pref, length) in enumerate(unique):
        if pref != 0.0:
            table[t] = pref / r * erfc(r / length)
        else:
            table[t] = 0.5 * d0 * ((np.exp(alpha * (r_min - r)) - 1.0) ** 2 - 1.0)
    return np.ascontiguousarray(kind.ravel(), dtype=np.int64), table.astype(np.float32), 1.0 / h


def _framework(structure: Structure, ion: MobileIon, cutoff: float, screening: float,
               covalent_radii: str, reach: float | None = None) -> _Framework:
    mask = np.array([s.specie.symbol != ion.symbol for s in structure])
    numbers = np.array([s.specie.Z for s in structure])[mask]
    charges = np.array([int(round(s.specie.oxi_state)) for s in structure])[mask]
    frac = structure.frac_coords[mask] % 1.0
    params = framework_parameters(numbers, charges, ion, screening, covalent_radii)
    lattice = structure.lattice
    # Perpendicular widths of the cell: images needed so every point of the cell sees all atoms
    # within the cutoff (plus the largest block radius, added by the caller's cutoff margin).
    heights = lattice.volume / np.linalg.norm(
        np.cross(lattice.matrix[[1, 2, 0]], lattice.matrix[[2, 0, 1]]), axis=1
    )
    margin = (cutoff if reach is None else reach) / heights
    reps = [np.arange(-math.ceil(m), math.ceil(m) + 1) for m in margin]
    shifts = np.array(np.meshgrid(*reps, indexing="ij")).reshape(3, -1).T
    images = (frac[None, :, :] + shifts[:, None, :]).reshape(-1, 3)
    keep = np.all((images >= -margin) & (images <= 1.0 + margin), axis=1)
    atom_of_image = np.tile(np.arange(len(frac)), len(shifts))[keep]
    xyz = lattice.get_cartesian_coords(images[keep])

    def take(values):
        return np.ascontiguousarray(values[atom_of_image])

    image_params = FrameworkParameters(*(take(getattr(params, f)) for f in
                                         ("r_min", "alpha", "d0", "coulomb_prefactor",
                                          "screening_length")))
    kind, table, inv_h = _pair_table(image_params, cutoff)
    return _Framework(np.ascontiguousarray(xyz), image_params, kind, table, inv_h)


@numba.njit(cache=True)
def _block_neighbours(centers, xyz, radius2):
    """CSR lists of the image atoms within sqrt(radius2) of each block centre (two passes)."""
    n_c, n_a = centers.shape[0], xyz.shape[0]
    ptr = np.zeros(n_c + 1, dtype=np.int64)
    for c in range(n_c):
        count = 0
        for a in range(n_a):
            dx = xyz[a, 0] - centers[c, 0]
            dy = xyz[a, 1] - centers[c, 1]
            dz = xyz[a, 2] - centers[c, 2]
            if dx * dx + dy * dy + dz * dz <= radius2:
                count += 1
        ptr[c + 1] = ptr[c] + count
    idx = np.empty(ptr[-1], dtype=np.int64)
    for c in range(n_c):
        m = ptr[c]
        for a in range(n_a):
            dx = xyz[a, 0] - centers[c, 0]
            dy = xyz[a, 1] - centers[c, 1]
            dz = xyz[a, 2] - centers[c, 2]
            if dx * dx + dy * dy + dz * dz <= radius2:
                idx[m] = a
                m += 1
    return ptr, idx


def _kernel_args(fw: _Framework, cutoff: float):
    p = fw.params
    return (fw.xyz, p.r_min, p.alpha, p.d0, p.coulomb_prefactor, p.screening_length, cutoff**2)


def point_energies(landscape_or_structure, cart_coords: np.ndarray, ion: str = "Na",
                   cutoff: float = 10.0, screening: float = 0.75,
                   covalent_radii: str = "softbv") -> np.ndarray:
    """BVSE (eV, absolute) of the mobile ion at arbitrary Cartesian points.

    Parameters
    ----------
    landscape_or_structure
        A :class:`BVSELandscape` (its settings are used) or a decorated ordered structure.
    cart_coords
        Points, shape (n, 3), in Å.
    ion, cutoff, screening, covalent_radii
        Settings when a structure is given; see :func:`compute_landscape`.

    Returns
    -------
    numpy.ndarray
        Energies in eV, same zero as :attr:`BVSELandscape.energies_eV`.
    """
    if isinstance(landscape_or_structure, BVSELandscape):
        ls = landscape_or_structure
        structure, ion_obj = ls.structure, ls.ion
        cutoff, screening, covalent_radii = ls.cutoff, ls.screening, ls.covalent_radii
    else:
        structure = landscape_or_structure
        ion_obj = mobile_ion(ion, covalent_radii=covalent_radii)
    points = np.atleast_2d(np.asarray(cart_coords, dtype=float))
    # Wrap into the cell so the image set built for the cell covers every point.
    frac = structure.lattice.get_fractional_coords(points) % 1.0
    points = structure.lattice.get_cartesian_coords(frac)
    fw = _framework(structure, ion_obj, cutoff, screening, covalent_radii)
    ptr, idx = _block_neighbours(np.ascontiguousarray(points), fw.xyz, cutoff**2)
    return _points_kernel(np.ascontiguousarray(points), ptr, idx, *_kernel_args(fw, cutoff))


def compute_landscape(
    structure: Structure,
    ion: str = "Na",
    resolution: float = 0.1,
    cutoff: float = 10.0,
    screening: float = 0.75,
    covalent_radii: str = "softbv",
    grid_convention: str = "periodic",
    max_memory_mb: float = 1024.0,
    exact: bool = False,
) -> BVSELandscape:
    """The BVSE landscape of the mobile ion over an ordered cell.

    Parameters
    ----------
    structure
        Ordered structure containing the mobile ion and at least one anion; oxidation states are
        used if present, otherwise assigned by bond valence analysis.
    ion
        Mobile ion symbol ("Na", "Li", "K", ...), charge +1.
    resolution
        Grid spacing in Å (paper: 0.1 Å).
    cutoff
        Interaction cutoff in Å (softBV: 10 Å).
    screening
        Coulomb screening factor f (softBV and the paper: 0.75; bvlain's default: 0.74).
    covalent_radii
        "softbv" (softBV's radii) or "ase" (bvlain's default).
    grid_convention
        "periodic" (default) or "bvlain", see :func:`grid_shape`.
    max_memory_mb
        Memory bound; a grid whose estimated working memory exceeds it is refused.
    exact
        Evaluate every pair term with exp/erfc instead of the r^2 table (about 2-4x slower;
        differences below 2e-5 eV in the low-energy region).

    Returns
    -------
    BVSELandscape

    Raises
    ------
    PartialOccupancyError, MissingOxidationStatesError, MissingMobileIonError, MissingAnionError,
    MissingParametersError, InvalidBVSESettingError, GridTooLargeError
    """
    _validate_settings(resolution, cutoff, screening)
    t0 = time.perf_counter()
    ion_obj = mobile_ion(ion, covalent_radii=covalent_radii)
    symbols = {s.symbol for s in structure.composition.elements}
    if ion not in symbols:
        raise MissingMobileIonError(
            f"{structure.composition.reduced_formula} contains no {ion}; choose --ion among "
            f"{sorted(symbols)} or give a structure with {ion} sites"
        )
    shape = grid_shape(structure.lattice.abc, resolution, grid_convention)
    n_points = int(np.prod(shape))
    need = estimate_memory_mb(n_points)
    if need > max_memory_mb:
        raise GridTooLargeError(
            f"a {shape[0]}x{shape[1]}x{shape[2]} grid ({n_points:,} points) at {resolution} Å needs "
            f"~{need:.0f} MB, above the bound of {max_memory_mb:.0f} MB; use a coarser resolution "
            "or raise max_memory_mb"
        )
    decorated = decorate_oxidation_states(structure)
    anions = [s for s in decorated if s.specie.oxi_state < 0]
    if not anions:
        raise MissingAnionError(
            f"{structure.composition.reduced_formula} has no anion (negative oxidation state); the "
            f"bond-valence attraction of {ion}+ needs counter-ions such as O2-"
        )
    t_prep = time.perf_counter()
    frac_axes = _frac_axes(shape, grid_convention)
    steps = [1.0 / max(n - 1, 1) if grid_convention == "bvlain" else 1.0 / n for n in shape]
    block_span = (_BLOCK - 1) * np.array(steps)
    half_diag = 0.5 * np.linalg.norm(
        (np.array(np.meshgrid([-1, 1], [-1, 1], [-1, 1])).reshape(3, -1).T * block_span)
        @ decorated.lattice.matrix,
        axis=1,
    ).max()
    fw = _framework(decorated, ion_obj, cutoff, screening, covalent_radii, cutoff + half_diag)
    origins = np.array(
        np.meshgrid(*(np.arange(0, n, _BLOCK) for n in shape), indexing="ij")
    ).reshape(3, -1).T
    centers_frac = np.column_stack([
        frac_axes[d][origins[:, d]] + 0.5 * block_span[d] for d in range(3)
    ])
    centers = centers_frac @ decorated.lattice.matrix
    ptr, idx = _block_neighbours(np.ascontiguousarray(centers), fw.xyz, (cutoff + half_diag) ** 2)
    t_neigh = time.perf_counter()
    energies = np.empty(shape)
    _grid_kernel(energies, *frac_axes, np.ascontiguousarray(decorated.lattice.matrix),
                 np.ascontiguousarray(origins), np.ascontiguousarray(centers), half_diag, ptr, idx,
                 fw.xyz, fw.kind, fw.table, _TABLE_S0,
                 fw.inv_h, exact, *_kernel_args(fw, cutoff)[1:])
    t_grid = time.perf_counter()
    logger.info("BVSE grid %s (%d points) in %.2f s", shape, n_points, t_grid - t0)
    return BVSELandscape(
        structure=decorated,
        energies_eV=energies,
        frac_axes=frac_axes,
        ion=ion_obj,
        resolution=resolution,
        cutoff=cutoff,
        screening=screening,
        covalent_radii=covalent_radii,
        grid_convention=grid_convention,
        exact=exact,
        timings_s={
            "prepare": t_prep - t0,
            "neighbours": t_neigh - t_prep,
            "grid": t_grid - t_neigh,
        },
    )
