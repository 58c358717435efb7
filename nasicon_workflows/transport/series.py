"""The validation cells: the Na(1+x)Zr2Si(x)P(3-x)O12 series and the shipped reference compositions,
ordered, relaxed once and cached.

Every member x = 0, 0.5, ..., 3 is realised exactly by the 84-site C2/c cell (4 formula units:
4(1+x) Na on the 16 Na sites, 4x Si on the 12 tetrahedral sites), ordered by the structures stage
(Ewald-lowest ordering of Si/P and Na, :func:`~nasicon_workflows.structures.order_structure`) and
relaxed with CHGNet to fmax <= 0.05 eV/Å (:func:`~nasicon_workflows.relax.relax_structure`).
Relaxed cells are cached as CIF + JSON in the output folder so a rerun is cheap.

The shipped reference compositions (NZSP, LE-, ME1-, ME2-, HE1-, HE2-NZSP) are ordered by the
structures stage as the screen orders them (:func:`relaxed_reference_cell`) and relaxed and cached
with the same settings.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from pymatgen.core import Structure

from nasicon_workflows.fileio import atomic_write_text

__all__ = [
    "REFERENCE_MAX_ATOMS",
    "SERIES_X",
    "VALIDATION_OPTIMIZER",
    "relaxed_reference_cell",
    "relaxed_series_cell",
    "series_formula",
]

#: x values of Na(1+x)Zr2Si(x)P(3-x)O12 realised by the 84-site cell.
SERIES_X = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0)

#: Atom budget of the reference cells: the screen's default ``--max-atoms`` (the 10-formula-unit
#: cells of the HE compositions, 206 atoms, fit; tests check the two agree).
REFERENCE_MAX_ATOMS = 220

#: ASE optimizer of every validation relaxation: FIRE, atomate2's default when the x-series was
#: measured (the package's force-field default became BFGS later). Pinned, and part of the cache
#: check, so that the series and the references share one relaxation protocol.
VALIDATION_OPTIMIZER = "FIRE"


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
    optimizer: str = VALIDATION_OPTIMIZER,
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
    optimizer
        ASE optimizer of the relaxation (cell and positions together).

    Returns
    -------
    tuple
        The structure and a dict of provenance (formula, converged, max force, steps, seconds).
    """
    formula = series_formula(x)

    def build() -> tuple[Structure, dict]:
        from nasicon_workflows.structures import disordered_structure, order_structure

        configs = order_structure(disordered_structure(formula), k=ordering + 1, method="ewald",
                                  max_atoms=84)
        _check_ordering(formula, configs, ordering)
        return configs[ordering].structure, {"x": x, "formula": formula}

    tag = f"x{x:g}" + (f"_o{ordering}" if ordering else "")
    return _cached_relaxed_cell(tag, cache_dir, build, fmax, steps, relax, ordering, optimizer)


def relaxed_reference_cell(
    label: str,
    cache_dir: Path,
    fmax: float = 0.05,
    steps: int = 1000,
    relax: bool = True,
    ordering: int = 0,
    max_atoms: int = REFERENCE_MAX_ATOMS,
    optimizer: str = VALIDATION_OPTIMIZER,
) -> tuple[Structure, dict]:
    """The ordered (and CHGNet-relaxed) cell of a shipped reference composition, cached.

    The cell is what the structures stage builds for the label (``nasicon-workflows build LABEL
    --exact-cell``, the screen's cell search): the shipped disordered reference, Ewald-ordered in
    the smallest cell within ``max_atoms`` that realises the composition exactly (84 sites for
    NZSP, LE, ME1 and ME2; a 210-site non-diagonal cell of 10 formula units for HE1 and HE2).
    Relaxation settings are those of :func:`relaxed_series_cell`.

    Parameters
    ----------
    label
        A label of :data:`~nasicon_workflows.structures.references.REFERENCE_LABELS`.
    cache_dir, fmax, steps, relax, ordering, optimizer
        As :func:`relaxed_series_cell`; cached as ``<label>_relaxed.cif`` / ``.json``.
    max_atoms
        Atom budget of the ordered cell (the screen's default).

    Returns
    -------
    tuple
        The structure and a dict of provenance (label, realised formula, composition error,
        supercell matrix, relaxation record).
    """
    from nasicon_workflows.structures.references import REFERENCE_COMPOSITIONS, _check_label

    _check_label(label)

    def build() -> tuple[Structure, dict]:
        from nasicon_workflows.structures.jobs import build_structures

        doc = build_structures(composition=label, method="ewald", k=ordering + 1,
                               max_atoms=max_atoms, cell_search="exact")
        _check_ordering(label, doc.structures, ordering)
        return doc.structures[ordering], {
            "label": label, "formula": doc.realised_formulas[ordering],
            "nominal_formula": REFERENCE_COMPOSITIONS[label],
            "composition_error": doc.composition_errors[ordering],
            "supercell_matrix": doc.supercell_matrix, "max_atoms": max_atoms,
            "ewald_energy_eV": doc.ewald_energies_eV[ordering],
        }

    tag = label + (f"_o{ordering}" if ordering else "")
    return _cached_relaxed_cell(tag, cache_dir, build, fmax, steps, relax, ordering, optimizer)


def _check_ordering(name: str, configs, ordering: int) -> None:
    if ordering >= len(configs):
        from nasicon_workflows.transport.errors import TransportError

        raise TransportError(f"{name} has only {len(configs)} distinct Ewald orderings")


def _cached_relaxed_cell(tag: str, cache_dir: Path, build, fmax: float, steps: int, relax: bool,
                         ordering: int, optimizer: str) -> tuple[Structure, dict]:
    """``build()`` -> (ordered cell, provenance), relaxed with CHGNet, cached as ``tag``.

    A cached relaxed cell is used only if it was relaxed to the same ``fmax`` with the same
    ``optimizer`` (a cache without the optimizer recorded is relaxed again)."""
    tag += "_relaxed" if relax else "_unrelaxed"
    cif, meta_file = cache_dir / f"{tag}.cif", cache_dir / f"{tag}.json"
    if cif.is_file() and meta_file.is_file():
        meta = json.loads(meta_file.read_text())
        if not relax or (meta.get("fmax_eV_per_A") == fmax
                         and meta.get("optimizer") == optimizer):
            meta["from_cache"] = True
            return Structure.from_file(str(cif)), meta
    cell, meta = build()
    meta.update({"n_sites": len(cell), "ordering": f"ewald, rank {ordering} (0 = lowest)",
                 "relaxed": relax})
    if relax:
        from nasicon_workflows.relax import relax_structure

        t0, c0 = time.perf_counter(), time.process_time()
        doc = relax_structure(cell, force_field="chgnet", fmax=fmax, steps=steps,
                              optimizer=optimizer)
        meta.update({
            "relaxer": "chgnet", "optimizer": optimizer, "fmax_eV_per_A": fmax,
            "max_steps": steps,
            "converged": bool(doc.converged), "max_force_eV_per_A": doc.max_force_eV_per_A,
            "n_steps": doc.n_steps, "energy_per_atom_eV": doc.energy_per_atom,
            "volume_change_percent": doc.volume_change_percent,
            "relax_seconds": round(time.perf_counter() - t0, 1),
            "relax_cpu_seconds": round(time.process_time() - c0, 1),
            "loadavg_end": [round(v, 2) for v in os.getloadavg()],
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
