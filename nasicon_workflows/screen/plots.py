"""Plots of a screen: the descriptor map of the scored compositions and BVSE maps."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from nasicon_workflows.fileio import atomic_savefig
from nasicon_workflows.screen.documents import ScreeningResult

__all__ = ["descriptor_map", "write_plots"]

logger = logging.getLogger(__name__)


def _save(fig, path: Path) -> Path:
    """Save a figure atomically (the package's one helper, :func:`fileio.atomic_savefig`)."""
    return atomic_savefig(fig, path, dpi=150, bbox_inches="tight")


def _training_data(ax) -> None:
    """The 58 published compositions (Table S2 descriptors) as context for the candidates."""
    from nasicon_workflows.datasets import load_synthesis_dataset

    data = load_synthesis_dataset()
    for ok, style, label in (
        (True, {"marker": "o", "facecolors": "none", "edgecolors": "grey"},
         "published: synthesizable"),
        (False, {"marker": "x", "color": "grey"}, "published: not synthesizable"),
    ):
        part = data[data["synthesizable"] == ok]
        ax.scatter(part["ionic_radius_pm"], part["electronegativity"], s=22, linewidths=0.8,
                   label=f"{label} ({len(part)})", **style)
    ax.legend(fontsize=7, loc="best")


def descriptor_map(result: ScreeningResult):
    """Ionic radius vs electronegativity of the scored compositions, coloured by probability.

    Selected candidates are circled in red and labelled; the 58 published compositions of Zuo et
    al. 2026 (Table S2) are drawn in grey as the classifier's training data. Returns a matplotlib
    Figure.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [
        (r.descriptors.get("ionic_radius_pm"), r.descriptors.get("electronegativity"),
         r.probability, r.selected, r.composition)
        for r in result.scored
    ]
    rows = [r for r in rows if r[0] is not None and r[1] is not None and r[2] is not None]
    fig, ax = plt.subplots(figsize=(6.5, 4.8))
    _training_data(ax)
    if rows:
        x, y, p = (np.array([r[i] for r in rows], dtype=float) for i in range(3))
        points = ax.scatter(x, y, c=p, cmap="viridis", vmin=0, vmax=1, s=28, edgecolors="none")
        fig.colorbar(points, ax=ax, label="synthesizability probability")
        for xi, yi, _, sel, name in rows:
            if sel:
                ax.scatter([xi], [yi], s=90, facecolors="none", edgecolors="red", linewidths=1.2)
                ax.annotate(name, (xi, yi), fontsize=6, xytext=(4, 4), textcoords="offset points")
    ax.set_xlabel("M-site ionic radius (pm)")
    ax.set_ylabel("M-site electronegativity (Pauling)")
    ax.set_title(f"{len(rows)} scored compositions (coloured; red circle: selected)", fontsize=10)
    return fig


def write_plots(result: ScreeningResult, folder: str | Path) -> dict[str, Path]:
    """Write the plots of a screen into ``folder``; returns name -> path."""
    import matplotlib.pyplot as plt

    folder = Path(folder)
    paths = {}
    fig = descriptor_map(result)
    paths["descriptor_map"] = _save(fig, folder / "descriptor_map.png")
    plt.close(fig)
    return paths
