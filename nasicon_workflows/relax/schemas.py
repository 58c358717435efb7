"""Output documents of the relaxation stage."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator
from pymatgen.core import Structure

__all__ = ["RelaxationDocument"]


class RelaxationDocument(BaseModel):
    """Summary of one relaxation (force field or VASP): energy, final cell and convergence.

    Lengths in Å, angles in degrees, volumes in Å^3, energies in eV.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    formula: str = Field(description="Reduced formula of the relaxed structure.")
    n_sites: int = Field(description="Number of sites in the relaxed cell.")
    relaxer: str = Field(description="'chgnet', 'sevennet', 'vasp', ...")
    energy_eV: float = Field(description="Total energy of the final structure (eV).")
    energy_per_atom: float = Field(description="Energy per atom of the final structure (eV/atom).")
    structure: Structure = Field(description="Relaxed structure.")
    a: float = Field(description="Lattice length a (Å) of the relaxed cell as given (no reduction).")
    b: float = Field(description="Lattice length b (Å).")
    c: float = Field(description="Lattice length c (Å).")
    alpha: float = Field(description="Lattice angle alpha (degrees).")
    beta: float = Field(description="Lattice angle beta (degrees).")
    gamma: float = Field(description="Lattice angle gamma (degrees).")
    volume: float = Field(description="Cell volume (Å^3).")
    initial_volume: float | None = Field(None, description="Cell volume before relaxation (Å^3).")
    volume_change_percent: float | None = Field(
        None, description="100 (V_final - V_initial) / V_initial."
    )
    n_steps: int | None = Field(
        None, description="Ionic steps recorded (force fields: trajectory frames incl. the start)."
    )
    converged: bool = Field(description="True when the optimiser stopped below fmax.")
    max_force_eV_per_A: float | None = Field(
        None, description="Largest atomic force norm in the final structure (eV/Å)."
    )
    settings: dict[str, Any] = Field(
        default_factory=dict, description="Relaxer settings (fmax, relax_cell, steps, model, ...)."
    )

    @field_serializer("structure")
    def _structure_as_dict(self, structure: Structure) -> dict:
        return structure.as_dict()

    @field_validator("structure", mode="before")
    @classmethod
    def _structure_from_dict(cls, value: Any) -> Any:
        return Structure.from_dict(value) if isinstance(value, dict) else value

    @classmethod
    def from_task_document(
        cls,
        task_doc: Any,
        relaxer: str,
        settings: dict[str, Any] | None = None,
        initial_structure: Structure | None = None,
        fmax: float | None = None,
    ) -> RelaxationDocument:
        """Summarise an atomate2 ``ForceFieldTaskDocument`` or an emmet VASP ``TaskDoc``.

        Parameters
        ----------
        task_doc
            Output document of the relax job (``.output.structure``, ``.output.energy``).
        relaxer
            Name of the relaxer that produced it.
        settings
            Relaxer settings stored with the summary.
        initial_structure
            Structure before relaxation, for the volume change.
        fmax
            Force criterion (eV/Å); a run counts as converged only when its final forces are
            below it, whatever the optimiser reported.

        Returns
        -------
        RelaxationDocument
        """
        output = task_doc.output
        structure = output.structure
        lattice = structure.lattice
        energy = float(output.energy)
        forces = getattr(output, "forces", None)
        max_force = (
            float(np.linalg.norm(np.asarray(forces), axis=1).max()) if forces is not None else None
        )
        n_steps = _n_steps(task_doc)
        converged = _converged(task_doc, max_force, fmax)
        initial = initial_structure or getattr(getattr(task_doc, "input", None), "structure", None)
        v0 = float(initial.volume) if initial is not None else None
        return cls(
            formula=structure.composition.reduced_formula,
            n_sites=len(structure),
            relaxer=relaxer,
            energy_eV=energy,
            energy_per_atom=energy / len(structure),
            structure=structure,
            a=lattice.a, b=lattice.b, c=lattice.c,
            alpha=lattice.alpha, beta=lattice.beta, gamma=lattice.gamma,
            volume=lattice.volume,
            initial_volume=v0,
            volume_change_percent=100.0 * (lattice.volume - v0) / v0 if v0 else None,
            n_steps=n_steps,
            converged=converged,
            max_force_eV_per_A=max_force,
            settings=dict(settings or {}),
        )


def _n_steps(task_doc: Any) -> int | None:
    n_steps = getattr(task_doc.output, "n_steps", None)
    if n_steps is not None:
        return int(n_steps)
    # VASP TaskDoc: the ionic steps of every custodian run, newest first.
    calcs = getattr(task_doc, "calcs_reversed", None) or []
    steps = [len(calc.output.ionic_steps or []) for calc in calcs]
    return int(sum(steps)) if steps else None


def _converged(task_doc: Any, max_force: float | None, fmax: float | None) -> bool:
    flag = getattr(task_doc, "is_force_converged", None)
    if flag is None:
        state = getattr(task_doc, "state", None)
        flag = str(getattr(state, "value", state)).lower() == "successful"
    if fmax is not None and max_force is not None:
        flag = bool(flag) and max_force <= fmax * (1 + 1e-6)
    return bool(flag)
