"""PNG cross-sections of a BVSE landscape through the mobile-ion sites (cf. Zuo et al. Fig. 5e-h)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nasicon_workflows.bvse.engine import BVSELandscape
from nasicon_workflows.bvse.io import periodic_energies
from nasicon_workflows.bvse.schemas import BVSEDocument

__all__ = ["plot_sections", "section_heights"]


def section_heights(landscape: BVSELandscape, axis: int = 2, max_sections: int = 4) -> list[float]:
    """Fractional heights along ``axis`` of the distinct mobile-ion layers (at most ``max_sections``).

    Parameters
    ----------
    landscape
        The BVSE landscape.
    axis
        Lattice direction normal to the sections (0 = a, 1 = b, 2 = c).
    max_sections
        Number of sections kept (the most populated layers).

    Returns
    -------
    list of float
        Sorted fractional heights.
    """
    heights = np.round(landscape.structure.frac_coords[landscape.mobile_indices, axis] % 1.0, 2) % 1.0
    values, counts = np.unique(heights, return_counts=True)
    keep = values[np.argsort(-counts, kind="stable")[:max_sections]]
    return sorted(float(h) for h in keep)


def plot_sections(
    landscape: BVSELandscape,
    path: str | Path,
    document: BVSEDocument | None = None,
    axis: int = 2,
    heights: list[float] | None = None,
    vmax_eV: float | None = None,
) -> Path:
    """Write a PNG with BVSE sections normal to a lattice vector through the mobile-ion layers.

    Each panel shows E - E_min (eV) on the plane, drawn in Cartesian coordinates of the two other
    lattice vectors, with iso-lines at the percolation energies E_1D, E_2D and E_3D and the mobile
    ion sites lying within half a grid step of the plane.

    Parameters
    ----------
    landscape
        The BVSE landscape.
    path
        Output PNG file.
    document
        Its analysis (for the iso-lines); computed when omitted.
    axis
        Normal of the sections: 0 = a, 1 = b, 2 = c.
    heights
        Fractional heights of the sections; default :func:`section_heights`.
    vmax_eV
        Upper end of the colour scale (default E_3D + 0.5 eV, or 2 eV).

    Returns
    -------
    pathlib.Path
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if document is None:
        from nasicon_workflows.bvse.pathways import analyse_landscape

        document = analyse_landscape(landscape)
    data = periodic_energies(landscape)
    heights = heights if heights is not None else section_heights(landscape, axis)
    levels = [b for b in (document.E_1D, document.E_2D, document.E_3D) if b is not None]
    vmax = vmax_eV if vmax_eV is not None else (document.E_3D + 0.5 if document.E_3D else 2.0)
    in_plane = [d for d in range(3) if d != axis]
    matrix = landscape.structure.lattice.matrix
    # 2D frame of the plane: first in-plane vector along x.
    v1, v2 = matrix[in_plane[0]], matrix[in_plane[1]]
    ex = v1 / np.linalg.norm(v1)
    normal = np.cross(v1, v2)
    ey = np.cross(normal, ex)
    ey /= np.linalg.norm(ey)
    n1, n2 = data.shape[in_plane[0]], data.shape[in_plane[1]]
    u, w = np.meshgrid(np.arange(n1 + 1) / n1, np.arange(n2 + 1) / n2, indexing="ij")
    corners = u[..., None] * v1 + w[..., None] * v2
    x, y = corners @ ex, corners @ ey
    fig, axes = plt.subplots(1, len(heights), figsize=(4.2 * len(heights), 4.0), squeeze=False)
    frac = landscape.structure.frac_coords[landscape.mobile_indices] % 1.0
    labels = [landscape.structure[i].label for i in landscape.mobile_indices]
    image = None
    for ax, h in zip(axes[0], heights):
        k = int(round(h * data.shape[axis])) % data.shape[axis]
        plane = np.take(data, k, axis=axis)
        image = ax.pcolormesh(x, y, np.clip(plane, 0, vmax), cmap="viridis_r", vmin=0, vmax=vmax,
                              shading="flat")
        centres = (u[:-1, :-1, None] + 0.5 / n1) * v1 + (w[:-1, :-1, None] + 0.5 / n2) * v2
        if levels and plane.min() <= max(levels):
            ax.contour(centres @ ex, centres @ ey, plane, levels=sorted(set(levels)),
                       colors=["white", "orange", "red"][: len(set(levels))], linewidths=0.8)
        near = np.abs(((frac[:, axis] - h + 0.5) % 1.0) - 0.5) <= 0.5 / data.shape[axis] + 0.02
        for f, lab in zip(frac[near], np.array(labels)[near]):
            p = f[in_plane[0]] * v1 + f[in_plane[1]] * v2
            ax.plot(p @ ex, p @ ey, "o", ms=4, mfc="none", mec="black")
            ax.annotate(lab, (p @ ex, p @ ey), fontsize=6, xytext=(2, 2), textcoords="offset points")
        ax.set_aspect("equal")
        ax.set_title(f"{'abc'[axis]} = {h:.2f}", fontsize=9)
        ax.set_xlabel("x (Å)")
        ax.set_ylabel("y (Å)")
    fig.colorbar(image, ax=axes[0].tolist(), label=f"BVSE of {landscape.ion.symbol}+ - E_min (eV)")
    fig.suptitle(
        f"{document.formula}: E_1D {document.E_1D or float('nan'):.2f}, "
        f"E_2D {document.E_2D or float('nan'):.2f}, E_3D {document.E_3D or float('nan'):.2f} eV",
        fontsize=10,
    )
    path = Path(path)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
