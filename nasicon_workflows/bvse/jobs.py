"""jobflow Makers of the BVSE stage (atomate2 style)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from jobflow import Maker, job
from pymatgen.core import Structure

from nasicon_workflows.bvse.engine import compute_landscape
from nasicon_workflows.bvse.errors import EnsembleUnavailableError
from nasicon_workflows.bvse.pathways import analyse_landscape, ensemble_document
from nasicon_workflows.bvse.schemas import BVSEDocument, BVSEEnsembleDocument

__all__ = ["BVSEEnsembleMaker", "BVSEMaker", "ordered_configurations", "write_maps"]

logger = logging.getLogger(__name__)


def write_maps(landscape, document: BVSEDocument, out_dir: str | Path,
               stem: str = "bvse") -> list[Path]:
    """Write the cube, .grd and PNG section files of a landscape into ``out_dir``.

    Parameters
    ----------
    landscape
        The BVSE landscape.
    document
        Its analysis (iso-lines of the sections).
    out_dir
        Directory (created if needed).
    stem
        File name stem.

    Returns
    -------
    list of pathlib.Path
    """
    from nasicon_workflows.bvse.io import write_cube, write_grd
    from nasicon_workflows.bvse.plots import plot_sections

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return [
        write_cube(landscape, out / f"{stem}.cube"),
        write_grd(landscape, out / f"{stem}.grd"),
        plot_sections(landscape, out / f"{stem}_sections.png", document),
    ]


def ordered_configurations(structure: Structure, k: int, method: str = "ewald") -> list[Structure]:
    """k ordered configurations of a disordered NASICON cell from the structures stage.

    Parameters
    ----------
    structure
        Disordered cell with site labels and oxidation states (structures stage conventions).
    k
        Number of configurations (at least 1).
    method
        Ordering method of :func:`nasicon_workflows.structures.order_structure` ("ewald", "sqs").

    Returns
    -------
    list of Structure

    Raises
    ------
    EnsembleUnavailableError
        If k < 1 or the structure is already ordered.
    """
    if not isinstance(k, int) or k < 1:
        raise EnsembleUnavailableError(f"the ensemble needs K >= 1 configurations, got {k!r}")
    if structure.is_ordered:
        raise EnsembleUnavailableError(
            "the ensemble orders a disordered structure, but this one is already ordered; "
            "analyse it directly (compute_bvse / BVSEMaker, or drop --ensemble)"
        )
    from nasicon_workflows.structures import order_structure

    return [c.structure for c in order_structure(structure, k=k, method=method)]


@dataclass
class BVSEMaker(Maker):
    """Bond-valence site-energy landscape, percolation barriers and Na-site pathway network.

    Parameters
    ----------
    name
        Job name.
    mobile_ion
        Migrating ion ("Na"; "Li", "K" also supported).
    resolution
        Grid spacing in Å (paper: 0.1).
    cutoff
        Interaction cutoff in Å.
    screening
        Coulomb screening factor (softBV and paper 0.75; bvlain 0.74).
    covalent_radii
        "softbv" or "ase".
    encut_eV
        Percolation search ceiling above the global minimum (eV).
    max_memory_mb
        Memory bound of the grid (larger grids are refused).
    write_files
        Also write bvse.cube, bvse.grd and bvse_sections.png in the job's working directory.
    """

    name: str = "bvse"
    mobile_ion: str = "Na"
    resolution: float = 0.1
    cutoff: float = 10.0
    screening: float = 0.75
    covalent_radii: str = "softbv"
    encut_eV: float = 10.0
    max_memory_mb: float = 1024.0
    write_files: bool = False

    def _document(self, structure: Structure) -> BVSEDocument:
        landscape = compute_landscape(
            structure, ion=self.mobile_ion, resolution=self.resolution, cutoff=self.cutoff,
            screening=self.screening, covalent_radii=self.covalent_radii,
            max_memory_mb=self.max_memory_mb,
        )
        document = analyse_landscape(landscape, self.encut_eV)
        if self.write_files:
            write_maps(landscape, document, Path.cwd())
        return document

    @job(output_schema=BVSEDocument)
    def make(self, structure: Structure) -> BVSEDocument:
        """BVSE analysis of one ordered structure.

        Parameters
        ----------
        structure
            Ordered structure containing the mobile ion.

        Returns
        -------
        BVSEDocument
        """
        return self._document(structure)


@dataclass
class BVSEEnsembleMaker(BVSEMaker):
    """BVSE barriers over ordered configurations of one composition: mean and spread.

    The per-configuration analysis is that of :class:`BVSEMaker` (same fields), plus:

    Parameters
    ----------
    n_configurations
        Orderings made when ``make`` receives one disordered structure.
    ordering_method
        "ewald" or "sqs" (structures stage).
    """

    name: str = "bvse ensemble"
    n_configurations: int = 3
    ordering_method: str = "ewald"

    @job(output_schema=BVSEEnsembleDocument)
    def make(self, structures: list[Structure] | Structure,
             formula: str | None = None) -> BVSEEnsembleDocument:
        """BVSE analysis of every ordered configuration and barrier statistics.

        Parameters
        ----------
        structures
            Ordered configurations (e.g. ``order_structure(...)[i].structure``), or one disordered
            cell, which is then ordered ``n_configurations`` ways with ``ordering_method``.
        formula
            Name of the composition they order (default: the first structure's formula).

        Returns
        -------
        BVSEEnsembleDocument
        """
        if isinstance(structures, Structure):
            formula = formula or structures.composition.reduced_formula
            structures = ordered_configurations(structures, self.n_configurations,
                                                self.ordering_method)
        if not structures:
            raise EnsembleUnavailableError(
                "no ordered configurations were given; pass order_structure(...) structures"
            )
        documents = [self._document(s) for s in structures]
        return ensemble_document(documents, formula)
