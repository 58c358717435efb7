"""The BVSE stage's Maker, writing its landscape files into a chosen folder for the screen."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from pymatgen.core import Structure

from nasicon_workflows.bvse.engine import compute_landscape
from nasicon_workflows.bvse.jobs import BVSEMaker, write_maps
from nasicon_workflows.bvse.pathways import analyse_landscape
from nasicon_workflows.bvse.schemas import BVSEDocument

__all__ = ["MapWritingBVSEMaker"]

logger = logging.getLogger(__name__)


@dataclass
class MapWritingBVSEMaker(BVSEMaker):
    """:class:`~nasicon_workflows.bvse.jobs.BVSEMaker` that also writes the cube, .grd and
    section PNG of the landscape into ``maps_dir`` (the screen's output folder) when it is set.

    Parameters
    ----------
    maps_dir
        Folder of the landscape files (None: none written).
    stem
        File name stem of those files.
    """

    maps_dir: str | None = None
    stem: str = "bvse"

    def _document(self, structure: Structure) -> BVSEDocument:
        if self.maps_dir is None:
            return super()._document(structure)
        landscape = compute_landscape(
            structure, ion=self.mobile_ion, resolution=self.resolution, cutoff=self.cutoff,
            screening=self.screening, covalent_radii=self.covalent_radii,
            max_memory_mb=self.max_memory_mb,
        )
        document = analyse_landscape(landscape, self.encut_eV)
        write_maps(landscape, document, Path(self.maps_dir), stem=self.stem)
        return document
