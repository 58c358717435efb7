"""The Na(1+x)Zr2Si(x)P(3-x)O12 validation series: ordered 84-site cells, relaxed once and cached.

Every member x = 0, 0.5, ..., 3 is realised exactly by the 84-site C2/c cell (4 formula units:
4(1+x) Na on the 16 Na sites, 4x Si on the 12 tetrahedral sites), ordered by the structures stage
(Ewald-lowest ordering of Si/P and Na, :func:`~nasicon_workflows.structures.order_structure`) and
relaxed with CHGNet to fmax <= 0.05 eV/Å (:func:`~nasicon_workflows.relax.relax_structure`).
Relaxed cells are cached as CIF + JSON in the output folder so a rerun is cheap.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from pymatgen.core import Structure

from nasicon_workflows.fileio import atomic_write_text

__all__ = ["SERIES_X", "series_formula", "relaxed_series_cell"]

#: x values of Na(1+x)Zr2Si(x)P(3-x)O12 realised by the 84-site cell.
SERIES_X = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0)


def series_formula(x: float) -> str:
    """Formula of Na(1+x)Zr2Si(x)P(3-x)O12, e.g. ``Na3Zr2Si2P1O12`` for x = 2."""
    parts = [f"Na{1 + x:g}", "Zr2"]
    if x > 0:
        parts.append(f"Si{x:g}")
    if x < 3:
        parts.append(f"P{3 - x:g}")
    return "".join(parts) + "O12"


def relaxed_series_cell(
    x: float,
    cache_dir: Path,
    fmax: float = 0.05,
    steps: int = 1000,
    relax: bool = True,
    ordering: int = 0,
) -> tuple[Structure, dict]:
    """The ordered (and CHGNet-relaxed) 84-site cell of one series member, from cache if present.

    Parameters
    ----------
    x
        Si content per formula unit (0 <= x <= 3, multiples of 0.5).
    cache_dir
        Folder of the cached ``x{x}_relaxed.cif`` / ``.json`` files.
    fmax
        Force criterion of the relaxation in eV/Å.
    steps
        Maximum optimiser steps.
    relax
        False: skip the relaxation and return the unrelaxed ordered cell (for quick checks only).
    ordering
        Which Ewald-ranked ordering (0 = lowest Ewald energy, 1 = second lowest, ...).

    Returns
    -------
    tuple
        The structure and a dict of provenance (formula, converged, max force, steps, seconds).
    """
    from nasicon_workflows.structures import disordered_structure, order_structure

    formula = series_formula(x)
    tag = f"x{x:g}" + (f"_o{ordering}" if ordering else "") + ("_relaxed" if relax else "_unrelaxed")
    cif, meta_file = cache_dir / f"{tag}.cif", cache_dir / f"{tag}.json"
    if cif.is_file() and meta_file.is_file():
        meta = json.loads(meta_file.read_text())
        if meta.get("fmax_eV_per_A") == fmax or not relax:
            meta["from_cache"] = True
            return Structure.from_file(str(cif)), meta
    configs = order_structure(disordered_structure(formula), k=ordering + 1, method="ewald",
                              max_atoms=84)
    if ordering >= len(configs):
        from nasicon_workflows.transport.errors import TransportError

        raise TransportError(f"{formula} has only {len(configs)} distinct Ewald orderings")
    cell = configs[ordering].structure
    meta = {"x": x, "formula": formula, "n_sites": len(cell),
            "ordering": f"ewald, rank {ordering} (0 = lowest)", "relaxed": relax}
    if relax:
        from nasicon_workflows.relax import relax_structure

        t0 = time.perf_counter()
        doc = relax_structure(cell, force_field="chgnet", fmax=fmax, steps=steps)
        meta.update({
            "relaxer": "chgnet", "fmax_eV_per_A": fmax, "max_steps": steps,
            "converged": bool(doc.converged), "max_force_eV_per_A": doc.max_force_eV_per_A,
            "n_steps": doc.n_steps, "energy_per_atom_eV": doc.energy_per_atom,
            "volume_change_percent": doc.volume_change_percent,
            "relax_seconds": round(time.perf_counter() - t0, 1),
        })
        out = doc.structure
        # Keep the framework labels of the ordered cell (the relaxation preserves site order).
        for site, ref in zip(out, cell):
            site.label = ref.label
        cell = out
    atomic_write_text(cif, cell.to(fmt="cif"))
    atomic_write_text(meta_file, json.dumps(meta, indent=2))
    meta["from_cache"] = False
    return cell, meta
