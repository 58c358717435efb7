"""Pydantic documents of the structure stage: defects, repair log, ordered cells, Maker output."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field
from pymatgen.core import Structure

__all__ = [
    "Defect",
    "OrderedConfiguration",
    "RepairEntry",
    "StructuresDocument",
]


class Defect(BaseModel):
    """One defect of a refinement table or CIF."""

    kind: str = Field(
        description=(
            "occupancy_above_one | site_underfilled | composition_mismatch | charge_imbalance | "
            "missing_site | impossible_distance | missing_lattice_parameter | unknown_site"
        )
    )
    site: str = Field(description="site (framework label and Wyckoff) or element/quantity concerned")
    expected: str = Field(description="what a sound refinement has")
    found: str = Field(description="what the input has")

    def __str__(self) -> str:
        return f"{self.kind} at {self.site}: expected {self.expected}, found {self.found}"


class RepairEntry(BaseModel):
    """One change made by ``repair`` mode (machine-readable repair log line)."""

    site: str = Field(description="framework label or 'lattice'")
    quantity: str = Field(description="what changed, e.g. 'occupancy Na', 'beta', 'coordinates'")
    before: str
    after: str
    reason: str


class OrderedConfiguration(BaseModel):
    """An ordered, charge-neutral supercell of a disordered NASICON structure."""

    model_config = {"arbitrary_types_allowed": True}

    structure: Structure = Field(description="ordered cell with labels and oxidation states")
    score: float = Field(
        description="Ewald energy of the cell (eV) for method 'ewald'; SQS objective for 'sqs'"
    )
    method: Literal["ewald", "sqs"]
    rank: int = Field(description="0 = best score among the returned configurations")
    supercell: tuple[int, int, int] | None = Field(
        description="multiples of the conventional C2/c cell; None for a non-diagonal cell"
    )
    supercell_matrix: list[list[float]] | None = Field(
        None, description="supercell rows in units of the conventional a, b, c (half-integers: "
        "the cell is C-centred)"
    )
    n_formula_units: float | None = Field(None, description="formula units in the ordered cell")
    ewald_energy_eV: float = Field(description="Ewald energy of the cell (eV), for every method")
    ewald_energy_eV_per_atom: float
    net_charge: float = Field(description="sum of oxidation states in the cell (e)")
    target_formula: str = Field(description="composition of the disordered input per formula unit")
    realised_formula: str = Field(description="composition of the ordered cell per formula unit")
    target_amounts: dict[str, float]
    realised_amounts: dict[str, float]
    composition_error: float = Field(
        description="largest |realised - target| element amount per formula unit"
    )
    composition_exact: bool | None = Field(
        None, description="realised composition equals the target (error < 1e-6)"
    )
    correlation_mismatch: float | None = Field(
        None, description="SQS only: objective (weighted pair-correlation mismatch)"
    )
    seed: int


class StructuresDocument(BaseModel):
    """Output of :class:`~nasicon_workflows.structures.jobs.BuildStructuresMaker`."""

    model_config = {"arbitrary_types_allowed": True}

    source: str = Field(description="formula, reference label or 'structure'")
    disordered_structure: Structure
    structures: list[Structure] = Field(description="ordered cells, best score first")
    scores: list[float] = Field(description="Ewald energy (eV) or SQS objective per structure")
    method: str
    supercell: tuple[int, int, int] | None = Field(
        description="multiples of the conventional cell; None for a non-diagonal cell"
    )
    supercell_matrix: list[list[float]] | None = Field(
        None, description="supercell rows in units of the conventional a, b, c"
    )
    n_formula_units: float | None = None
    target_formula: str
    realised_composition: str = Field(description="realised formula per formula unit")
    composition_error: float
    realised_formulas: list[str] = Field(
        default_factory=list, description="realised formula of every ordered structure"
    )
    composition_errors: list[float] = Field(
        default_factory=list, description="composition error of every ordered structure"
    )
    ewald_energies_eV: list[float]
    repair_log: list[RepairEntry] = Field(default_factory=list)
    defects: list[Defect] = Field(default_factory=list, description="defects found (and repaired)")
