"""Site energies, pathway table and percolating networks from a BVSE landscape.

Everything here is read from one percolation sweep (:mod:`nasicon_workflows.bvse.percolation`):
the sweep records when the regions holding two mobile-ion sites join (their saddle, i.e. the
minimax energy of the best path between them) and when a region holding a site starts to
percolate in 1, 2 or 3 dimensions.
"""

from __future__ import annotations

import math
import time

import numpy as np
from pymatgen.core import Structure

from nasicon_workflows.bvse.engine import (
    BVSELandscape,
    compute_landscape,
    point_energies,
)
from nasicon_workflows.bvse.percolation import percolation_sweep
from nasicon_workflows.bvse.schemas import (
    BarrierStatistics,
    BVSEDocument,
    BVSEEnsembleDocument,
    IsosurfaceLevel,
    MergeEvent,
    Network,
    PathwayRow,
    SiteEnergy,
)

__all__ = ["PARAMETER_SOURCES", "analyse_landscape", "compute_bvse", "ensemble_document"]

PARAMETER_SOURCES = (
    "softBV Morse parameters: Adams & Rao, Phys. Status Solidi A 2011, 208, 1746; "
    "Chen & Adams, IUCrJ 2017, 4, 614. Energy expression and covalent radii: Chen, Wong & Adams, "
    "Acta Cryst. B 2019, 75, 18. Tables as shipped with bvlain (MIT)."
)


def _site_grid_points(landscape: BVSELandscape, indices: list[int]) -> np.ndarray:
    shape = np.array(landscape.grid_shape)
    frac = landscape.structure.frac_coords[indices] % 1.0
    if landscape.grid_convention == "bvlain":
        ijk = np.rint(frac * (shape - 1)).astype(int)
    else:
        ijk = np.rint(frac * shape).astype(int) % shape
    return np.ravel_multi_index(ijk.T, tuple(shape))


def _labels(structure: Structure, indices: list[int]) -> list[str]:
    return [structure[i].label or structure[i].specie.symbol for i in indices]


def _replay(n_sites: int, merges: np.ndarray, rank_events: np.ndarray):
    """Site clusters through the sweep: pairwise saddles and per-site percolation energies."""
    parent = list(range(n_sites))

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    saddle = np.full((n_sites, n_sites), np.inf)
    np.fill_diagonal(saddle, 0.0)
    members = {i: [i] for i in range(n_sites)}
    rank = [0] * n_sites
    site_percolation = np.full((n_sites, 3), np.inf)
    events = [(e, 0, int(a), int(b)) for e, a, b in merges] + [
        (e, 1, int(s), int(r)) for e, s, r in rank_events
    ]
    events.sort(key=lambda ev: (ev[0], ev[1]))
    snapshots = []
    for energy, kind, a, b in events:
        if kind == 0:
            ra, rb = find(a), find(b)
            if ra == rb:
                continue
            for i in members[ra]:
                for j in members[rb]:
                    saddle[i, j] = saddle[j, i] = energy
            parent[rb] = ra
            members[ra] += members.pop(rb)
            new_rank = max(rank[ra], rank[rb])
            for k in range(new_rank):
                for i in members[ra]:
                    site_percolation[i, k] = min(site_percolation[i, k], energy)
            rank[ra] = new_rank
        else:
            ra = find(a)
            for k in range(rank[ra], b):
                for i in members[ra]:
                    site_percolation[i, k] = min(site_percolation[i, k], energy)
            rank[ra] = max(rank[ra], b)
        snapshots.append((energy, {r: (list(m), rank[r]) for r, m in members.items()}))
    return saddle, site_percolation, snapshots


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


def analyse_landscape(landscape: BVSELandscape, encut_eV: float = 10.0) -> BVSEDocument:
    """Percolation barriers, site energies, pathways and networks of a landscape.

    Parameters
    ----------
    landscape
        Output of :func:`~nasicon_workflows.bvse.engine.compute_landscape`.
    encut_eV
        Energies above the minimum beyond which no percolation is searched (bvlain's ``encut``).

    Returns
    -------
    BVSEDocument
    """
    t0 = time.perf_counter()
    energies = landscape.energies_eV
    e_min = float(energies.min())
    indices = landscape.mobile_indices
    labels = _labels(landscape.structure, indices)
    sweep = percolation_sweep(energies, _site_grid_points(landscape, indices), encut_eV)
    t_sweep = time.perf_counter()
    saddle, site_perc, snapshots = _replay(len(indices), sweep.merges, sweep.rank_events)
    site_e = point_energies(landscape, landscape.structure.cart_coords[indices]) - e_min
    sites = [
        SiteEnergy(
            index=i, label=lab, frac_coords=[float(x) for x in landscape.structure[i].frac_coords],
            energy_eV=float(e), percolation_1D_eV=_finite(p[0]), percolation_2D_eV=_finite(p[1]),
            percolation_3D_eV=_finite(p[2]),
        )
        for i, lab, e, p in zip(indices, labels, site_e, site_perc)
    ]
    pathways = []
    for la in sorted(set(labels)):
        for lb in sorted(set(labels)):
            if lb < la:
                continue
            ia = [k for k, lab in enumerate(labels) if lab == la]
            ib = [k for k, lab in enumerate(labels) if lab == lb]
            block = saddle[np.ix_(ia, ib)].copy()
            if la == lb:
                np.fill_diagonal(block, np.inf)  # a site with itself is not a pathway
            if not np.isfinite(block).any():
                continue
            a, b = np.unravel_index(np.argmin(block), block.shape)
            pathways.append(PathwayRow(label_a=la, label_b=lb, saddle_energy_eV=float(block[a, b]),
                                       site_a=indices[ia[a]], site_b=indices[ib[b]]))
    merge_tree = [
        MergeEvent(energy_eV=float(e), site_a=indices[int(a)], site_b=indices[int(b)],
                   label_a=labels[int(a)], label_b=labels[int(b)])
        for e, a, b in sweep.merges
    ]
    networks = []
    for k, barrier in enumerate(sweep.barriers_eV, start=1):
        if not math.isfinite(barrier):
            continue
        state = None
        for energy, snap in snapshots:
            if energy <= barrier + 1e-12:
                state = snap
        for members, rank in (state or {}).values():
            if rank >= k:
                networks.append(Network(
                    dimension=k, energy_eV=float(barrier),
                    labels=sorted({labels[m] for m in members}),
                    site_indices=sorted(indices[m] for m in members),
                ))
    levels = [(f"E_{k}D", b) for k, b in zip((1, 2, 3), sweep.barriers_eV) if math.isfinite(b)]
    levels += [(f"{x:g} eV", x) for x in (0.25, 0.5, 1.0)]
    rel = energies - e_min
    volume = landscape.structure.volume
    isosurfaces = [
        IsosurfaceLevel(name=name, threshold_eV=float(t),
                        volume_fraction=float((rel <= t).mean()),
                        volume_A3=float((rel <= t).mean() * volume))
        for name, t in levels
    ]
    e1, e2, e3 = (_finite(b) for b in sweep.barriers_eV)
    shape = landscape.grid_shape
    abc = landscape.structure.lattice.abc
    spacing = tuple(
        float(length / (n - 1 if landscape.grid_convention == "bvlain" else n))
        for length, n in zip(abc, shape)
    )
    timings = dict(landscape.timings_s)
    timings["percolation"] = t_sweep - t0
    timings["analysis"] = time.perf_counter() - t_sweep
    return BVSEDocument(
        formula=landscape.structure.composition.reduced_formula,
        ion=landscape.ion.symbol,
        E_1D=e1, E_2D=e2, E_3D=e3,
        site_energies=sites,
        pathways=sorted(pathways, key=lambda p: p.saddle_energy_eV),
        merge_tree=merge_tree,
        networks=networks,
        isosurfaces=isosurfaces,
        grid_shape=shape,
        resolution=landscape.resolution,
        grid_spacing_A=spacing,
        energy_min_eV=e_min,
        parameters={
            "ion": f"{landscape.ion.symbol}{landscape.ion.charge:+d}",
            "cutoff_A": landscape.cutoff,
            "screening": landscape.screening,
            "covalent_radii": landscape.covalent_radii,
            "grid_convention": landscape.grid_convention,
            "exact_pair_terms": landscape.exact,
            "encut_eV": encut_eV,
            "connectivity": 26,
            "points_visited_by_sweep": sweep.points_processed,
            "sources": PARAMETER_SOURCES,
        },
        timings=timings,
    )


def compute_bvse(
    structure: Structure,
    ion: str = "Na",
    resolution: float = 0.1,
    cutoff: float = 10.0,
    screening: float = 0.75,
    covalent_radii: str = "softbv",
    grid_convention: str = "periodic",
    encut_eV: float = 10.0,
    max_memory_mb: float = 1024.0,
    exact: bool = False,
) -> BVSEDocument:
    """BVSE landscape, percolation barriers and pathway network of an ordered structure.

    Parameters
    ----------
    structure
        Ordered structure with the mobile ion and anions (oxidation states used if present,
        otherwise guessed by bond valence analysis).
    ion
        Mobile ion ("Na" default; "Li", "K" and any cation of the softBV table).
    resolution
        Grid spacing in Å (the paper: 0.1 Å).
    cutoff
        Interaction cutoff in Å (10 Å).
    screening
        Coulomb screening factor f: 0.75 as softBV and the paper; 0.74 is bvlain's default.
    covalent_radii
        "softbv" (softBV's table) or "ase" (bvlain's default).
    grid_convention
        "periodic" or "bvlain" (see :func:`~nasicon_workflows.bvse.engine.grid_shape`).
    encut_eV
        Search ceiling of the percolation energies above the global minimum.
    max_memory_mb
        Grids whose estimated working memory exceeds this are refused (GridTooLargeError).
    exact
        Exact pair terms instead of the interpolated table.

    Returns
    -------
    BVSEDocument
    """
    landscape = compute_landscape(structure, ion=ion, resolution=resolution, cutoff=cutoff,
                                  screening=screening, covalent_radii=covalent_radii,
                                  grid_convention=grid_convention, max_memory_mb=max_memory_mb,
                                  exact=exact)
    return analyse_landscape(landscape, encut_eV)


def _statistics(values: list[float | None]) -> BarrierStatistics:
    finite = np.array([v for v in values if v is not None], dtype=float)
    if finite.size == 0:
        return BarrierStatistics(values_eV=list(values))
    return BarrierStatistics(
        mean_eV=float(finite.mean()),
        std_eV=float(finite.std(ddof=1)) if finite.size > 1 else 0.0,
        min_eV=float(finite.min()), max_eV=float(finite.max()),
        n_percolating=int(finite.size), values_eV=list(values),
    )


def ensemble_document(documents: list[BVSEDocument], formula: str | None = None,
                      labels: list[str] | None = None) -> BVSEEnsembleDocument:
    """Mean and spread of each barrier over per-configuration documents.

    Parameters
    ----------
    documents
        One :class:`BVSEDocument` per ordered configuration.
    formula
        Formula of the disordered composition (default: the first document's).
    labels
        Names of the configurations.

    Returns
    -------
    BVSEEnsembleDocument
        Statistics over configurations that percolate; ``n_percolating`` says how many did.
    """
    return BVSEEnsembleDocument(
        formula=formula or documents[0].formula,
        n_configurations=len(documents),
        E_1D=_statistics([d.E_1D for d in documents]),
        E_2D=_statistics([d.E_2D for d in documents]),
        E_3D=_statistics([d.E_3D for d in documents]),
        documents=documents,
        configuration_labels=labels or [f"config_{i}" for i in range(len(documents))],
    )
