"""Pydantic output documents of the BVSE stage."""

from __future__ import annotations

from pydantic import BaseModel, Field

__all__ = [
    "BVSEDocument",
    "BVSEEnsembleDocument",
    "BarrierStatistics",
    "IsosurfaceLevel",
    "MergeEvent",
    "Network",
    "PathwayRow",
    "SiteEnergy",
]


class SiteEnergy(BaseModel):
    """BVSE of the mobile ion at one of its crystallographic sites."""

    index: int = Field(description="index of the site in the input structure")
    label: str = Field(description="crystallographic label (e.g. Na1, Na2, Na3)")
    frac_coords: list[float]
    energy_eV: float = Field(description="BVSE at the site position relative to the global minimum")
    percolation_1D_eV: float | None = Field(
        None, description="energy from which the site belongs to a 1D-percolating region"
    )
    percolation_2D_eV: float | None = None
    percolation_3D_eV: float | None = None


class PathwayRow(BaseModel):
    """Lowest saddle (minimax) energy connecting two groups of labelled sites."""

    label_a: str
    label_b: str
    saddle_energy_eV: float = Field(
        description="lowest energy (relative to the global minimum) at which some site labelled "
        "label_a and some site labelled label_b lie in one connected region"
    )
    site_a: int = Field(description="structure index of the site of label_a on that path")
    site_b: int = Field(description="structure index of the site of label_b on that path")


class MergeEvent(BaseModel):
    """Two clusters of mobile-ion sites join at ``energy_eV`` (single-linkage merge tree)."""

    energy_eV: float
    site_a: int
    site_b: int
    label_a: str
    label_b: str


class Network(BaseModel):
    """A connected region holding mobile-ion sites that percolates in ``dimension`` dimensions."""

    dimension: int
    energy_eV: float = Field(description="the percolation energy E_kD at which it is reported")
    labels: list[str] = Field(description="distinct site labels in the network, sorted")
    site_indices: list[int]


class IsosurfaceLevel(BaseModel):
    """Share of the cell below an isosurface threshold."""

    name: str
    threshold_eV: float
    volume_fraction: float = Field(description="fraction of grid points with E - E_min <= threshold")
    volume_A3: float


class BVSEDocument(BaseModel):
    """BVSE migration analysis of one ordered structure."""

    formula: str
    ion: str = "Na"
    E_1D: float | None = Field(None, description="1D percolation barrier in eV (None: not reached)")
    E_2D: float | None = Field(None, description="2D percolation barrier in eV (None: not reached)")
    E_3D: float | None = Field(None, description="3D percolation barrier in eV (None: not reached)")
    site_energies: list[SiteEnergy] = Field(default_factory=list)
    pathways: list[PathwayRow] = Field(default_factory=list)
    merge_tree: list[MergeEvent] = Field(default_factory=list)
    networks: list[Network] = Field(default_factory=list)
    isosurfaces: list[IsosurfaceLevel] = Field(default_factory=list)
    grid_shape: tuple[int, int, int]
    resolution: float = Field(description="requested grid spacing in Å")
    grid_spacing_A: tuple[float, float, float] = Field(description="actual spacing along a, b, c")
    energy_min_eV: float = Field(description="absolute BVSE of the global minimum (zero of barriers)")
    parameters: dict = Field(default_factory=dict)
    timings: dict[str, float] = Field(default_factory=dict, description="wall times in s")

    @property
    def barriers(self) -> dict[str, float | None]:
        """The three percolation barriers keyed E_1D, E_2D, E_3D."""
        return {"E_1D": self.E_1D, "E_2D": self.E_2D, "E_3D": self.E_3D}


class BarrierStatistics(BaseModel):
    """Mean and spread of one barrier over the ordered configurations."""

    mean_eV: float | None = Field(None, description="mean over configurations that percolate")
    std_eV: float | None = Field(None, description="sample standard deviation (ddof=1; 0 for one)")
    min_eV: float | None = None
    max_eV: float | None = None
    n_percolating: int = 0
    values_eV: list[float | None] = Field(default_factory=list)


class BVSEEnsembleDocument(BaseModel):
    """BVSE barriers over k ordered configurations of one disordered composition."""

    formula: str
    n_configurations: int
    E_1D: BarrierStatistics
    E_2D: BarrierStatistics
    E_3D: BarrierStatistics
    documents: list[BVSEDocument]
    configuration_labels: list[str] = Field(default_factory=list)
