"""Pydantic output documents of the screening jobs."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, field_serializer
from pymatgen.core import Structure

__all__ = [
    "CandidateResult",
    "ConfigurationResult",
    "GateRecord",
    "ScreeningResult",
]


class GateRecord(BaseModel):
    """One scored composition and the gate's decision about it."""

    composition: str = Field(description="Canonical formula")
    probability: float | None = Field(None, description="Synthesizability probability (0-1)")
    label: Any = Field(None, description="Classifier label")
    in_domain: bool | None = Field(None, description="Inside the classifier's applicability domain")
    domain_reason: str | None = Field(None, description="Why it is outside the domain, if it is")
    entropy_R: float | None = Field(None, description="M-site configurational entropy, units of R")
    entropy_class: str | None = Field(None, description="low / medium / high")
    descriptors: dict[str, Any] = Field(default_factory=dict, description="Published descriptors")
    selected: bool = Field(False, description="Expanded into a per-candidate subflow")
    reason: str = Field("", description="Why the gate selected or rejected it")
    classifier_job_uuid: str | None = Field(None, description="Job that scored it")


class ConfigurationResult(BaseModel):
    """One ordered configuration of a candidate after relaxation and BVSE."""

    index: int = Field(description="Ordering index (0 = best ordering score)")
    n_atoms: int = Field(description="Atoms in the ordered cell")
    ordering_score: float | None = Field(None, description="Structure stage's ordering score")
    realised_formula: str | None = Field(None, description="Composition of the finite cell")
    composition_error: float | None = Field(
        None, description="Largest |realised - target| amount per formula unit"
    )
    relaxed: bool = Field(False, description="Whether a relaxation was run")
    relax_converged: bool | None = Field(
        None, description="Whether the relaxation met its force criterion (None: not reported)"
    )
    relax_steps: int | None = Field(None, description="Optimizer steps the relaxation took")
    energy_eV: float | None = Field(None, description="Relaxed total energy, eV per cell")
    energy_per_atom_eV: float | None = Field(None, description="Relaxed energy, eV per atom")
    n_m_cations: int | None = Field(None, description="M-site cations in the cell")
    volume_A3: float | None = Field(None, description="Relaxed cell volume, Å^3")
    structure: Structure | None = Field(None, description="Relaxed structure")
    barriers_eV: dict[str, float | None] = Field(
        default_factory=dict, description="BVSE percolation barriers, eV, keyed 1D/2D/3D"
    )
    relax_job_uuid: str | None = Field(None, description="Job that relaxed it")
    bvse_job_uuid: str | None = Field(None, description="Job that computed its BVSE landscape")

    @field_serializer("structure")
    def _structure_as_dict(self, structure: Structure | None) -> dict[str, Any] | None:
        return None if structure is None else structure.as_dict()


class CandidateResult(BaseModel):
    """Everything computed for one gated candidate."""

    composition: str
    status: str = Field(description="finished or failed")
    error: str | None = Field(None, description="Why it failed")
    probability: float | None = None
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
