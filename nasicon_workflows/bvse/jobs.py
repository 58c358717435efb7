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

__all__ = ["BVSEEnsembleMaker", "BVSEMaker", "write_maps"]

logger = logging.getLogger(__name__)


def write_maps(landscape, document: BVSEDocument, out_dir: str | Path, stem: str = "bvse") -> list[Path]:
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

    The per-configuration analysis is that of :class:`BVSEMaker` (same fields).
    """

    name: str = "bvse ensemble"

    @job(output_schema=BVSEEnsembleDocument)
    def make(self, structures: list[Structure], formula: str | None = None) -> BVSEEnsembleDocument:
        """BVSE analysis of every ordered configuration and barrier statistics.

        Parameters
        ----------
        structures
            Ordered configurations (e.g. ``order_structure(...)[i].structure``).
        formula
            Name of the composition they order (default: the first structure's formula).

        Returns
        -------
        BVSEEnsembleDocument
        """
        if not structures:
            raise EnsembleUnavailableError(
                "no ordered configurations were given; pass order_structure(...) structures"
            )
        documents = [self._document(s) for s in structures]
        return ensemble_document(documents, formula)
