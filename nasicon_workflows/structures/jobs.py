"""atomate2-style Maker of the structure stage and the function it wraps."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from jobflow import Maker, job
from pymatgen.core import Structure

from nasicon_workflows.composition import NasiconComposition
from nasicon_workflows.structures.disordered import disordered_structure
from nasicon_workflows.structures.exceptions import MalformedStructureError
from nasicon_workflows.structures.ordering import order_structure
from nasicon_workflows.structures.references import (
    REFERENCE_LABELS,
    load_reference_provenance,
    load_reference_structure,
)
from nasicon_workflows.structures.refined import (
    Refinement,
    ingest_refinement,
    refinement_from_structure,
)
from nasicon_workflows.structures.schemas import Defect, RepairEntry, StructuresDocument

__all__ = ["BuildStructuresMaker", "build_structures", "disordered_input"]

logger = logging.getLogger(__name__)


def disordered_input(
    composition: str | NasiconComposition | None = None,
    structure: Structure | None = None,
    refinement: Refinement | None = None,
    repair: bool = False,
) -> tuple[Structure, str, list[Defect], list[RepairEntry]]:
    """The disordered C2/c cell of exactly one input, with defects and repair log.

    Parameters
    ----------
    composition
        A formula, a :class:`NasiconComposition`, or a reference label (``"ME1-NZSP"``...).
    structure
        A disordered C2/c structure (e.g. read from a CIF); validated first.
    refinement
        A refinement table (validated first).
    repair
        Rebuild defective inputs on the framework (logged) instead of raising.

    Raises
    ------
    RefinementDefectError
        Defective structure/refinement without ``repair``.
    MalformedStructureError
        Not exactly one input given.
    """
    given = [x is not None for x in (composition, structure, refinement)]
    if sum(given) != 1:
        raise MalformedStructureError(
            "Give exactly one of composition, structure or refinement "
            f"(got {sum(given)})."
        )
    if isinstance(composition, str) and composition in REFERENCE_LABELS:
        prov = load_reference_provenance(composition)
        return (
            load_reference_structure(composition), composition,
            [Defect(**d) for d in prov["defects"]], [RepairEntry(**e) for e in prov["repair_log"]],
        )
    if composition is not None:
        comp = composition if isinstance(composition, NasiconComposition) else (
            NasiconComposition.from_formula(str(composition)))
        return disordered_structure(comp), comp.formula, [], []
    if structure is not None:
        refinement = refinement_from_structure(structure)
    mode = "repair" if repair else "strict"
    disordered, defects, log = ingest_refinement(refinement, mode=mode)
    return disordered, refinement.label, defects, log


def build_structures(
    composition: str | NasiconComposition | None = None,
    structure: Structure | None = None,
    refinement: Refinement | None = None,
    repair: bool = False,
    method: str = "ewald",
    k: int = 3,
    max_atoms: int = 200,
    seed: int = 0,
    sqs_na: bool = False,
    cell_search: str = "diagonal",
    allow_composition_error: bool = False,
) -> StructuresDocument:
    """Disordered cell of one input, then k ordered charge-neutral supercells.

    Parameters are those of :func:`disordered_input` and
    :func:`~nasicon_workflows.structures.order_structure`.

    Returns
    -------
    StructuresDocument
        Ordered structures best first, scores, realised composition and error, repair log.
    """
    disordered, source, defects, log = disordered_input(composition, structure, refinement, repair)
    configs = order_structure(disordered, k=k, method=method, max_atoms=max_atoms, seed=seed,
                              sqs_na=sqs_na, cell_search=cell_search,
                              allow_composition_error=allow_composition_error)
    best = configs[0]
    return StructuresDocument(
        source=source, disordered_structure=disordered,
        structures=[c.structure for c in configs], scores=[c.score for c in configs],
        method=method, supercell=best.supercell, supercell_matrix=best.supercell_matrix,
        n_formula_units=best.n_formula_units, target_formula=best.target_formula,
        realised_composition=best.realised_formula, composition_error=best.composition_error,
        realised_formulas=[c.realised_formula for c in configs],
        composition_errors=[c.composition_error for c in configs],
        ewald_energies_eV=[c.ewald_energy_eV for c in configs], repair_log=log, defects=defects,
    )


@dataclass
class BuildStructuresMaker(Maker):
    """Build ordered C2/c NASICON supercells from a composition or a disordered structure.

    Parameters
    ----------
    name
        Job name.
    method
        ``"ewald"`` (k lowest electrostatic energies) or ``"sqs"`` (M-site SQS).
    k
        Number of ordered configurations.
    max_atoms
        Atom budget of the ordered cell.
    seed
        Random seed (the output is deterministic for a seed).
    repair
        Rebuild defective input structures on the framework (logged) instead of failing.
    sqs_na
        With ``method="sqs"``: SQS also on the Na/vacancy sublattice.
    cell_search
        ``"diagonal"`` (multiples of the conventional cell, smallest composition error) or
        ``"exact"`` (smallest, possibly non-diagonal, cell realising the composition exactly;
        refuses compositions no cell within ``max_atoms`` realises).
    allow_composition_error
        With ``"exact"``: compute the nearest realisable composition (error recorded) instead
        of refusing.
    """

    name: str = "build structures"
    method: str = "ewald"
    k: int = 3
    max_atoms: int = 200
    seed: int = 0
    repair: bool = False
    sqs_na: bool = False
    cell_search: str = "diagonal"
    allow_composition_error: bool = False

    @job(output_schema=StructuresDocument)
    def make(
        self,
        composition: str | NasiconComposition | None = None,
        structure: Structure | None = None,
    ) -> StructuresDocument:
        """Job whose output is a :class:`StructuresDocument`.

        Parameters
        ----------
        composition
            Formula, :class:`NasiconComposition` or reference label (``"HE1-NZSP"``).
        structure
            Disordered C2/c structure instead of a composition.
        """
        return build_structures(
            composition=composition, structure=structure, repair=self.repair,
            method=self.method, k=self.k, max_atoms=self.max_atoms, seed=self.seed,
            sqs_na=self.sqs_na, cell_search=self.cell_search,
            allow_composition_error=self.allow_composition_error,
        )
