"""Pydantic output documents of the impedance stage."""

from __future__ import annotations

from pydantic import BaseModel, Field

from nasicon_workflows.eis.arrhenius import ArrheniusFit

__all__ = [
    "EISAnalysisDocument",
    "ElementValue",
    "FitQuality",
    "GeometryDoc",
    "ResistorDoc",
    "SpectrumResult",
]


class ElementValue(BaseModel):
    """One fitted circuit parameter with its one-standard-error uncertainty."""

    name: str = Field(description="impedance.py parameter name, e.g. R0, CPE1_0, CPE1_1")
    value: float
    uncertainty: float
    unit: str


class ResistorDoc(BaseModel):
    """A resistor, its characteristic capacitance and the role assigned to it."""

    name: str
    role: str = Field(description="bulk, grain_boundary or other")
    resistance_ohm: float
    resistance_uncertainty_ohm: float
    capacitance_F: float | None = Field(
        description="C_eff of the parallel C/CPE (Hsu-Mansfeld); None for a series resistor"
    )
    capacitance_class: str = Field(description="Irvine, Sinclair & West (1990) range")


class FitQuality(BaseModel):
    """How well the circuit and a Kramers–Kronig-compliant model describe the spectrum."""

    weighting: str = "modulus: residuals divided by |Z| (impedance.py's weight_by_modulus)"
    chi2_reduced: float = Field(description="Σ(residual/|Z|)² / (2N - P)")
    residual_rms_relative: float = Field(description="RMS of residual/|Z| over Z' and Z''")
    n_points: int
    n_parameters: int
    n_starts: int
    kk_M: int | None = Field(None, description="lin-KK: number of Voigt elements")
    kk_mu: float | None = Field(None, description="lin-KK: Schönleber's μ (< 0.85 accepted)")
    kk_max_abs_residual: float | None = Field(
        None, description="lin-KK: largest |residual|/|Z| (Z' or Z'')"
    )
    kk_rms_residual: float | None = None


class GeometryDoc(BaseModel):
    """The pellet."""

    thickness_cm: float
    diameter_cm: float
    area_cm2: float
    thickness_uncertainty_cm: float
    diameter_uncertainty_cm: float


class SpectrumResult(BaseModel):
    """The analysis of one spectrum: element values, resistances and conductivities."""

    source: str
    temperature_K: float | None = None
    reader_notes: list[str] = Field(description="columns, units and sign convention found")
    circuit: str
    elements: list[ElementValue]
    resistors: list[ResistorDoc]
    fit_quality: FitQuality
    R_bulk_ohm: float
    R_bulk_uncertainty_ohm: float
    R_gb_ohm: float | None = None
    R_gb_uncertainty_ohm: float | None = None
    R_total_ohm: float
    R_total_uncertainty_ohm: float = Field(description="with the bulk-gb covariance")
    sigma_bulk_S_cm: float
    sigma_bulk_uncertainty_S_cm: float
    sigma_gb_S_cm: float | None = Field(
        None, description="apparent (geometric) grain-boundary conductivity t / (R_gb A)"
    )
    sigma_gb_uncertainty_S_cm: float | None = None
    sigma_total_S_cm: float = Field(description="t / ((R_bulk + R_gb) A)")
    sigma_total_uncertainty_S_cm: float
    warnings: list[str] = Field(default_factory=list)
    plots: list[str] = Field(default_factory=list)


class EISAnalysisDocument(BaseModel):
    """Spectra of one pellet, their conductivities, the Arrhenius fits and an outcome row."""

    library: str = Field(description="fitting library and version")
    geometry: GeometryDoc | None = None
    spectra: list[SpectrumResult] = Field(default_factory=list)
    arrhenius: dict[str, ArrheniusFit] = Field(
        default_factory=dict, description="keys sigma_total, sigma_bulk, sigma_gb"
    )
    outcome_row: dict | None = Field(
        None,
        description="a row for add-outcomes: composition, outcome, source and the measured "
        "columns (sigma_*_S_cm at temperature_K, Ea_eV)",
    )
    notes: list[str] = Field(default_factory=list)
    plots: list[str] = Field(default_factory=list)
