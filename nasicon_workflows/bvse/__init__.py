"""BVSE stage: Na+ (or Li+, K+) bond-valence site-energy landscapes and migration barriers.

Data flow: ordered structure -> :func:`compute_landscape` (softBV energy on a periodic grid,
compiled and chunked) -> :func:`analyse_landscape` (exact periodic percolation barriers E_1D,
E_2D, E_3D, site energies, pathway table, percolating networks) -> :class:`BVSEDocument`.
:func:`compute_bvse` does both; :class:`BVSEMaker` and :class:`BVSEEnsembleMaker` wrap them as
jobflow jobs. Parameters: softBV (Chen, Wong & Adams, Acta Cryst. B 2019, 75, 18), read from bvlain.
"""

from nasicon_workflows.bvse.engine import (
    BVSELandscape,
    compute_landscape,
    decorate_oxidation_states,
    grid_shape,
    point_energies,
)
from nasicon_workflows.bvse.errors import (
    BVSEError,
    EnsembleUnavailableError,
    GridTooLargeError,
    InvalidBVSESettingError,
    MissingAnionError,
    MissingMobileIonError,
    MissingOxidationStatesError,
    MissingParametersError,
    PartialOccupancyError,
)
from nasicon_workflows.bvse.io import write_cube, write_grd
from nasicon_workflows.bvse.jobs import (
    BVSEEnsembleMaker,
    BVSEMaker,
    ordered_configurations,
    write_maps,
)
from nasicon_workflows.bvse.pathways import analyse_landscape, compute_bvse, ensemble_document
from nasicon_workflows.bvse.percolation import percolation_dimension, percolation_sweep
from nasicon_workflows.bvse.plots import plot_sections
from nasicon_workflows.bvse.schemas import BVSEDocument, BVSEEnsembleDocument

__all__ = [
    "BVSEDocument",
    "BVSEEnsembleDocument",
    "BVSEEnsembleMaker",
    "BVSEError",
    "BVSELandscape",
    "BVSEMaker",
    "EnsembleUnavailableError",
    "GridTooLargeError",
    "InvalidBVSESettingError",
    "MissingAnionError",
    "MissingMobileIonError",
    "MissingOxidationStatesError",
    "MissingParametersError",
    "PartialOccupancyError",
    "analyse_landscape",
    "compute_bvse",
    "compute_landscape",
    "decorate_oxidation_states",
    "ensemble_document",
    "grid_shape",
    "ordered_configurations",
    "percolation_dimension",
    "percolation_sweep",
    "plot_sections",
    "point_energies",
    "write_cube",
    "write_grd",
    "write_maps",
]
