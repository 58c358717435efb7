"""Periodic percolation of a grid landscape: exact 1D/2D/3D percolation energies and site merges.

A region {E < E_t} percolates in d dimensions when one of its connected components, taken with
periodic boundary conditions, contains d independent lattice translations (it connects a point to
its images along d independent directions). The energies at which that first happens for d = 1, 2, 3
are the percolation barriers E_1D, E_2D, E_3D (relative to the global minimum).

Instead of bisecting on the threshold and labelling the grid each time (bvlain, softBV), the sweep
adds grid points in order of increasing energy to a union-find that also stores, for every point,
its lattice offset relative to the root of its component (a "periodic union-find"). Joining two
points of one component whose offsets disagree closes a loop around the torus; its translation is
added to the component's lattice basis, whose rank is the percolation dimension. One sweep yields
the exact thresholds at grid resolution (the energy of the grid point whose addition completes the
network), i.e. the limit of bisection with zero tolerance, with 26-neighbour connectivity as in
bvlain. Merge events between components holding mobile-ion sites give the saddle (minimax) energy
between every pair of sites.

:func:`percolation_dimension` is an independent check: it labels a boolean mask with
``scipy.ndimage.label`` and computes the rank of the cycle translations of the quotient graph.
"""

from __future__ import annotations

import numba
import numpy as np
from scipy import ndimage

__all__ = ["PercolationResult", "percolation_dimension", "percolation_sweep"]

_OFFSETS = np.array(
    [(i, j, k) for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1) if (i, j, k) != (0, 0, 0)],
    dtype=np.int64,
)


@numba.njit(cache=True)
def _find(parent, off, x):
    r = x
    ox = 0
    oy = 0
    oz = 0
    while parent[r] != r:
        ox += off[r, 0]
        oy += off[r, 1]
        oz += off[r, 2]
        r = parent[r]
    # Path compression keeps each node's offset to the (new) parent, which is now the root.
    y = x
    cx, cy, cz = ox, oy, oz
    while parent[y] != y:
        nxt = parent[y]
        nx_, ny_, nz_ = cx - off[y, 0], cy - off[y, 1], cz - off[y, 2]
        parent[y] = r
        off[y, 0] = cx
        off[y, 1] = cy
        off[y, 2] = cz
        y = nxt
        cx, cy, cz = nx_, ny_, nz_
    return r, ox, oy, oz


@numba.njit(cache=True, inline="always")
def _wrap(i, n):
    """Grid index ``i`` (one step outside ``0..n-1`` at most) folded into the cell, and the cell
    translation crossed (-1, 0 or 1)."""
    if i < 0:
        return i + n, -1
    if i >= n:
        return i - n, 1
    return i, 0


@numba.njit(cache=True)
def _add_vector(basis, rank, root, vx, vy, vz):
    """Add a lattice translation to a component's basis if it is independent; returns new rank."""
    k = rank[root]
    if vx == 0 and vy == 0 and vz == 0 or k == 3:
        return k
    if k == 1:
        ax, ay, az = basis[root, 0], basis[root, 1], basis[root, 2]
        cx = ay * vz - az * vy
        cy = az * vx - ax * vz
        cz = ax * vy - ay * vx
        if cx == 0 and cy == 0 and cz == 0:
            return k
    elif k == 2:
        ax, ay, az = basis[root, 0], basis[root, 1], basis[root, 2]
        bx, by, bz = basis[root, 3], basis[root, 4], basis[root, 5]
        det = ax * (by * vz - bz * vy) - ay * (bx * vz - bz * vx) + az * (bx * vy - by * vx)
        if det == 0:
            return k
    basis[root, 3 * k] = vx
    basis[root, 3 * k + 1] = vy
    basis[root, 3 * k + 2] = vz
    rank[root] = k + 1
    return k + 1


@numba.njit(cache=True)
def _sweep(energies, order, shape, offsets, site_of_point, n_sites, e_stop):
    n0, n1, n2 = shape[0], shape[1], shape[2]
    # Union-find nodes are positions in ``order`` (only points below the cap are ever visited),
    # so the per-node arrays scale with the visited region, not with the grid.
    m = order.shape[0]
    node_of_point = np.full(energies.shape[0], -1, dtype=np.int32)
    parent = np.full(m, -1, dtype=np.int32)
    size = np.zeros(m, dtype=np.int32)
    off = np.zeros((m, 3), dtype=np.int32)
    basis = np.zeros((m, 9), dtype=np.int32)
    rank = np.zeros(m, dtype=np.int8)
    rep = np.full(m, -1, dtype=np.int32)  # a mobile-ion site held by the component, or -1
    reported = np.zeros(m, dtype=np.int8)  # highest rank already reported for that site's cluster
    thresholds = np.full(3, np.inf)
    max_rank = 0
    merges = np.zeros((max(n_sites, 1), 3))  # energy, site a, site b
    n_merges = 0
    rank_events = np.zeros((max(3 * n_sites, 1), 3))  # energy, site, rank
    n_rank_events = 0
    site_roots = 0
    n_processed = 0
    done = False
    for t in range(order.shape[0]):
        p = order[t]
        e = energies[p]
        if e > e_stop:
            break
        n_processed += 1
        node_of_point[p] = t
        parent[t] = t
        size[t] = 1
        s = site_of_point[p]
        if s >= 0:
            rep[t] = s
            site_roots += 1
        pi = p // (n1 * n2)
        pj = (p // n2) % n1
        pk = p % n2
        for q in range(offsets.shape[0]):
            # Wrapping across a face: the neighbour is the image in the adjacent cell (tx, ty, tz).
            qi, tx = _wrap(pi + offsets[q, 0], n0)
            qj, ty = _wrap(pj + offsets[q, 1], n1)
            qk, tz = _wrap(pk + offsets[q, 2], n2)
            b = node_of_point[(qi * n1 + qj) * n2 + qk]
            if b < 0:
                continue
            ra, oax, oay, oaz = _find(parent, off, t)
            rb, obx, oby, obz = _find(parent, off, b)
            vx = obx + tx - oax
            vy = oby + ty - oay
            vz = obz + tz - oaz
            if ra == rb:
                root = ra
                _add_vector(basis, rank, root, vx, vy, vz)
            else:
                if size[ra] < size[rb]:
                    ra, rb = rb, ra
                    vx, vy, vz = -vx, -vy, -vz
                # rb goes under ra; its offset to ra is minus the cycle vector seen from ra's side.
                parent[rb] = ra
                off[rb, 0] = -vx
                off[rb, 1] = -vy
                off[rb, 2] = -vz
                size[ra] += size[rb]
                root = ra
                for m in range(rank[rb]):
                    _add_vector(basis, rank, root, basis[rb, 3 * m], basis[rb, 3 * m + 1],
                                basis[rb, 3 * m + 2])
                if rep[rb] >= 0:
                    if rep[ra] >= 0:
                        merges[n_merges, 0] = e
                        merges[n_merges, 1] = rep[ra]
                        merges[n_merges, 2] = rep[rb]
                        n_merges += 1
                        site_roots -= 1
                        if reported[rb] > reported[ra]:
                            reported[ra] = reported[rb]
                    else:
                        rep[ra] = rep[rb]
                        reported[ra] = reported[rb]
            r = rank[root]
            if rep[root] >= 0 and r > reported[root]:
                rank_events[n_rank_events, 0] = e
                rank_events[n_rank_events, 1] = rep[root]
                rank_events[n_rank_events, 2] = r
                n_rank_events += 1
                reported[root] = r
            while max_rank < r:
                thresholds[max_rank] = e
                max_rank += 1
        if max_rank == 3 and site_roots <= 1:
            done = True
            break
    return thresholds, merges[:n_merges], rank_events[:n_rank_events], n_processed, done


class PercolationResult:
    """Outcome of :func:`percolation_sweep`.

    Attributes
    ----------
    barriers_eV
        (E_1D, E_2D, E_3D) relative to the global minimum, inf when not reached below the cap.
    merges
        Rows (energy_eV, site_a, site_b): the components of the two sites join at that energy
        (relative to the global minimum); single-linkage merge tree of the sites.
    rank_events
        Rows (energy_eV, site, rank): the component holding ``site`` percolates in ``rank``
        dimensions from that energy on.
    points_processed
        Grid points visited before the sweep could stop.
    """

    def __init__(self, barriers_eV, merges, rank_events, points_processed):
        self.barriers_eV = tuple(float(b) for b in barriers_eV)
        self.merges = merges
        self.rank_events = rank_events
        self.points_processed = int(points_processed)


def percolation_sweep(energies: np.ndarray, site_points=(),
                      encut_eV: float = 10.0) -> PercolationResult:
    """Exact periodic percolation energies of a 3D grid landscape.

    Parameters
    ----------
    energies
        Energies on a periodic grid (shape (n0, n1, n2), points at k / n_i), eV.
    site_points
        Flat (C-order) grid indices of the mobile-ion sites, one per site (-1 to skip a site).
    encut_eV
        Energies more than this above the minimum are never visited; a dimension not reached
        below it gets an infinite barrier (bvlain's ``encut``).

    Returns
    -------
    PercolationResult
    """
    grid = np.ascontiguousarray(energies, dtype=float)
    flat = grid.ravel()
    e_min = float(flat.min())
    rel = flat - e_min
    site_points = np.asarray(site_points, dtype=np.int64).reshape(-1)
    site_of_point = np.full(flat.size, -1, dtype=np.int32)
    # Two sites on one grid point (spacing larger than their distance) are merged at that energy.
    pre_merges = []
    for s, p in enumerate(site_points):
        if p < 0:
            continue
        if site_of_point[p] >= 0:
            pre_merges.append((rel[p], site_of_point[p], s))
        else:
            site_of_point[p] = s
    # Percolation happens low in the landscape: sort only the points below a cap and double the
    # cap until the sweep completes (3D reached and every site merged) or the cap hits encut_eV.
    cap = min(1.0, encut_eV)
    while True:
        below = np.flatnonzero(rel <= cap)
        order = below[np.argsort(rel[below], kind="stable")]
        thresholds, merges, rank_events, n_done, done = _sweep(
            rel, order, np.array(grid.shape, dtype=np.int64), _OFFSETS, site_of_point,
            len(site_points), cap
        )
        if done or cap >= encut_eV:
            break
        cap = min(2.0 * cap, encut_eV)
    if pre_merges:
        merges = np.vstack([np.array(pre_merges, dtype=float).reshape(-1, 3), merges])
        merges = merges[np.argsort(merges[:, 0], kind="stable")]
    return PercolationResult(thresholds, merges, rank_events, n_done)


def percolation_dimension(mask: np.ndarray) -> np.ndarray:
    """Periodic percolation dimension of each connected component of a boolean grid mask.

    Independent of :func:`percolation_sweep`: components are labelled with ``scipy.ndimage.label``
    (26-connectivity) inside the cell, the labels are joined across the periodic faces with the
    translation of each crossing, and the rank of the cycle translations of that quotient graph
    is the dimension.

    Parameters
    ----------
    mask
        Boolean array (n0, n1, n2) of the points below the threshold.

    Returns
    -------
    numpy.ndarray
        ``dims[label]``: periodic dimension (0-3) of each labelled component; index 0 (outside the
        mask) is unused. ``dims.max()`` is the dimension of the mask.
    """
    labels, n_labels = ndimage.label(mask, structure=np.ones((3, 3, 3), dtype=bool))
    shape = np.array(mask.shape)
    edges = set()
    padded = np.pad(labels, 1, mode="wrap")
    # Translation of each padded layer: -1 for the first layer, +1 for the last, 0 inside.
    trans = [np.zeros(n + 2, dtype=int) for n in shape]
    for t in trans:
        t[0], t[-1] = -1, 1
    core = labels
    # Only pairs that cross a face carry a translation; pairs inside the cell share a label.
    for di, dj, dk in _OFFSETS:
        nb = padded[1 + di : 1 + di + shape[0], 1 + dj : 1 + dj + shape[1], 1 + dk : 1 + dk + shape[2]]
        ti = trans[0][1 + di : 1 + di + shape[0]]
        tj = trans[1][1 + dj : 1 + dj + shape[1]]
        tk = trans[2][1 + dk : 1 + dk + shape[2]]
        crossing = (ti[:, None, None] != 0) | (tj[None, :, None] != 0) | (tk[None, None, :] != 0)
        sel = crossing & (core > 0) & (nb > 0)
        if not sel.any():
            continue
        ii, jj, kk = np.nonzero(sel)
        for a, b, t in zip(core[sel], nb[sel], zip(ti[ii], tj[jj], tk[kk])):
            edges.add((int(a), int(b), t))
    # Spanning forest with offsets, then the rank of the cycle translations per component.
    adjacency: dict[int, list] = {}
    for a, b, t in edges:
        adjacency.setdefault(a, []).append((b, np.array(t)))
        adjacency.setdefault(b, []).append((a, -np.array(t)))
    dims = np.zeros(n_labels + 1, dtype=int)
    position: dict[int, np.ndarray] = {}
    for start in adjacency:
        if start in position:
            continue
        position[start] = np.zeros(3, dtype=int)
        stack, members, cycles = [start], [start], []
        while stack:
            a = stack.pop()
            for b, t in adjacency[a]:
                target = position[a] + t
                if b not in position:
                    position[b] = target
                    stack.append(b)
                    members.append(b)
                elif np.any(position[b] != target):
                    cycles.append(target - position[b])
        rank = np.linalg.matrix_rank(np.array(cycles)) if cycles else 0
        dims[members] = rank
    return dims
