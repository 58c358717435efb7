"""Pydantic output documents of the screening jobs.

The data follow the flow: :class:`ClassificationDocument` (classify job) -> :class:`GateRecord`
(gate) -> per candidate the structure stage's ``StructuresDocument`` -> one
:class:`RelaxedConfiguration` per ordering (relaxation chain) -> one :class:`ConfigurationBVSE` per
ordering (BVSE stage's ``BVSEDocument``) -> :class:`CandidateResult` (candidate summary) ->
:class:`ScreeningResult` (aggregate). Every job reads the typed fields of its input document;
nothing guesses key names.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_serializer, field_validator
from pymatgen.core import Structure

from nasicon_workflows.bvse.schemas import BVSEDocument

__all__ = [
    "DIMENSIONS",
    "CandidateResult",
    "ClassificationDocument",
    "ConfigurationBVSE",
    "ConfigurationResult",
    "GateRecord",
    "RelaxedConfiguration",
    "ScreeningResult",
]

#: Percolation dimensions reported by the BVSE stage.
DIMENSIONS = ("1D", "2D", "3D")


class GateRecord(BaseModel):
    """One scored composition and the gate's decision about it."""

    composition: str = Field(description="Canonical formula")
    probability: float | None = Field(None, description="Synthesizability probability (0-1)")
    probability_std: float | None = Field(
        None, description="Uncertainty of the probability (GP latent variance or bootstrap)"
    )
    ehull_1000K_meV_per_atom: float | None = Field(
        None, description="Stability model's predicted E_hull(1000 K), meV/atom"
    )
    ehull_note: str | None = Field(
        None, description="Why the predicted E_hull is an extrapolation of the DFT data "
        "(elements absent from it, Si outside its range); '' when it is not"
    )
    ehull_pass: bool | None = Field(
        None, description="Passes the --max-ehull stability gate (None: gate off or not scored)"
    )
    label: Any = Field(None, description="Classifier label")
    in_domain: bool | None = Field(None, description="Inside the classifier's applicability domain")
    domain_reason: str | None = Field(None, description="Why it is outside the domain, if it is")
    entropy_R: float | None = Field(None, description="M-site configurational entropy, units of R")
    entropy_class: str | None = Field(None, description="low / medium / high")
    descriptors: dict[str, Any] = Field(default_factory=dict, description="Published descriptors")
    selected: bool = Field(False, description="Expanded into a per-candidate subflow")
    reason: str = Field("", description="Why the gate selected or rejected it")
    classifier_job_uuid: str | None = Field(None, description="Job that scored it")


class ClassificationDocument(BaseModel):
    """Output of the classify job: every scored composition and where the scores come from."""

    records: list[GateRecord] = Field(description="Scored compositions (not yet gated)")
    enumeration: dict[str, Any] = Field(
        default_factory=dict, description="What was enumerated (mode, rules, counts)"
    )
    classifier: dict[str, Any] = Field(
        default_factory=dict, description="Identity and cross-validated metrics of the classifier"
    )
    job_uuid: str | None = Field(None, description="Job that scored them")


class _OrderedCellFields(BaseModel):
    """Fields shared by an ordered configuration after relaxation and after BVSE."""

    index: int = Field(description="Ordering index (0 = best ordering score)")
    n_atoms: int = Field(description="Atoms in the ordered cell")
    ordering_score: float | None = Field(None, description="Structure stage's ordering score")
    realised_formula: str | None = Field(None, description="Composition of the finite cell")
    composition_error: float | None = Field(
        None, description="Largest |realised - target| amount per formula unit"
    )
    relaxed: bool = Field(False, description="Whether a relaxation was run")
    relaxer: str | None = Field(None, description="Relaxation engine ('chgnet', 'vasp', ...)")
    relax_converged: bool | None = Field(
        None,
        description="Whether the relaxation met its force criterion (None: not relaxed or not "
        "reported)",
    )
    relax_steps: int | None = Field(
        None, description="Optimiser steps the relaxation took (all continuations included)"
    )
    relax_continuations: int = Field(
        0,
        description="Times the relaxation was continued from its last cell because the final "
        "forces failed the convergence check",
    )
    max_force_eV_per_A: float | None = Field(
        None, description="Largest atomic force of the final cell, eV/Å"
    )
    relax_hit_step_limit: bool | None = Field(
        None, description="Whether the (last) relaxation stopped at its step limit"
    )
    energy_eV: float | None = Field(None, description="Relaxed total energy, eV per cell")
    energy_per_atom_eV: float | None = Field(None, description="Relaxed energy, eV per atom")
    n_m_cations: int | None = Field(None, description="M-site cations in the cell")
    volume_A3: float | None = Field(None, description="Relaxed cell volume, Å^3")
    structure: Structure | None = Field(None, description="Relaxed structure")
    relax_job_uuid: str | None = Field(None, description="Job that relaxed it")

    @field_validator("structure", mode="before")
    @classmethod
    def _structure_from_dict(cls, value: Any) -> Any:
        return Structure.from_dict(value) if isinstance(value, dict) else value

    @field_serializer("structure")
    def _structure_as_dict(self, structure: Structure | None) -> dict[str, Any] | None:
        return None if structure is None else structure.as_dict()


class RelaxedConfiguration(_OrderedCellFields):
    """One ordered configuration after the relaxation stage (or unrelaxed with ``relax="none"``)."""

    structure: Structure = Field(description="Relaxed (or, unrelaxed, the ordered) structure")


class ConfigurationBVSE(BaseModel):
    """The BVSE stage's result for one relaxed configuration."""

    index: int = Field(description="Ordering index")
    document: BVSEDocument = Field(description="The BVSE stage's document")
    bvse_job_uuid: str | None = Field(None, description="Job that computed the landscape")

    @property
    def barriers_eV(self) -> dict[str, float | None]:
        """Percolation barriers keyed 1D/2D/3D, eV (None: no percolating path; 0.0 is kept)."""
        return {dim: getattr(self.document, f"E_{dim}") for dim in DIMENSIONS}


class ConfigurationResult(_OrderedCellFields):
    """One ordered configuration of a candidate after relaxation and BVSE."""

    barriers_eV: dict[str, float | None] = Field(
        default_factory=dict, description="BVSE percolation barriers, eV, keyed 1D/2D/3D"
    )
    bvse_job_uuid: str | None = Field(None, description="Job that computed its BVSE landscape")


class CandidateResult(BaseModel):
    """Everything computed for one gated candidate."""

    composition: str
    status: str = Field(description="finished or failed")
    error: str | None = Field(None, description="Why it failed")
    probability: float | None = None
    probability_std: float | None = Field(None, description="Uncertainty of the probability")
    ehull_1000K_meV_per_atom: float | None = Field(
        None, description="Predicted E_hull(1000 K), meV/atom (stability model)"
    )
    entropy_R: float | None = None
    entropy_class: str | None = None
    configurations: list[ConfigurationResult] = Field(default_factory=list)
    barrier_mean_eV: dict[str, float | None] = Field(
        default_factory=dict,
        description="Mean BVSE barrier over the percolating configurations, eV (1D/2D/3D)",
    )
    barrier_std_eV: dict[str, float | None] = Field(
        default_factory=dict,
        description="Sample std (ddof=1; 0 for one) of the barrier over configurations, eV",
    )
    n_percolating: dict[str, int] = Field(
        default_factory=dict, description="Configurations whose landscape percolates (1D/2D/3D)"
    )
    ordering_energy_range_eV_per_m: float | None = Field(
        None, description="Max - min relaxed energy over orderings, eV per M cation"
    )
    lowest_energy_per_atom_eV: float | None = None
    phonons: dict[str, Any] | None = Field(
        None,
        description="Phonon summary of the lowest-energy configuration (relax stage's "
        "PhononFreeEnergyDocument: imaginary modes, F_vib(T), -T S_config), if computed",
    )
    transport: dict[str, Any] | None = Field(
        None,
        description="Output of the optional transport stage (e.g. a KMC or MD Maker) on the "
        "lowest-energy configuration, if one was configured",
    )
    provenance: dict[str, Any] = Field(
        default_factory=dict, description="uuid of the job behind each number"
    )
    from_cache: bool = Field(False, description="Reused from a previous run of the same folder")


class ScreeningResult(BaseModel):
    """Output of the aggregate job: the whole screen."""

    settings: dict[str, Any] = Field(default_factory=dict)
    scored: list[GateRecord] = Field(default_factory=list)
    enumeration: dict[str, Any] = Field(default_factory=dict)
    classifier: dict[str, Any] = Field(default_factory=dict)
    candidates: list[CandidateResult] = Field(default_factory=list)
    ranking: list[dict[str, Any]] = Field(default_factory=list)
    ranking_notes: list[str] = Field(default_factory=list)
    aggregate_job_uuid: str | None = None
    transport_validation: dict[str, Any] = Field(
        default_factory=dict,
        description="Validation status of the transport models (transport_validation_status)",
    )
    measured_transport: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Measured (add-outcomes) vs predicted transport: rank correlations",
    )
    md: list[dict[str, Any]] = Field(
        default_factory=list, description="MD transport of the top-N ranked candidates (--md)"
    )
