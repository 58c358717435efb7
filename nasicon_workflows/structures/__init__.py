"""C2/c NASICON structures: parent framework, refined occupancies, disordered and ordered cells.

Data flow: composition or refinement -> disordered 84-site C2/c cell (labelled sites, oxidation
states) -> ordered charge-neutral supercells (Ewald-ranked or SQS). Site labels (Na1, Na2, Na3,
M1, T1, T2, O1-O6; see :mod:`nasicon_workflows.structures.parent`) survive every step.
"""

from nasicon_workflows.structures.disordered import disordered_structure, parent_structure
from nasicon_workflows.structures.exceptions import (
    AtomBudgetError,
    MalformedStructureError,
    OrderingError,
    RefinementDefectError,
    StructureStageError,
    UnknownReferenceError,
)
from nasicon_workflows.structures.jobs import BuildStructuresMaker, build_structures
from nasicon_workflows.structures.ordering import choose_supercell, order_structure
from nasicon_workflows.structures.parent import SITE_LABELS, check_framework
from nasicon_workflows.structures.references import (
    REFERENCE_LABELS,
    load_reference_provenance,
    load_reference_structure,
)
from nasicon_workflows.structures.refined import (
    REFINED_LABELS,
    Refinement,
    ingest_refinement,
    load_refinement,
    repair_refinement,
    validate_refinement,
    validate_structure,
)
from nasicon_workflows.structures.supercell import CompositionNotRealisableError, exact_supercell
from nasicon_workflows.structures.schemas import (
    Defect,
    OrderedConfiguration,
    RepairEntry,
    StructuresDocument,
)

__all__ = [
    "REFERENCE_LABELS",
    "REFINED_LABELS",
    "SITE_LABELS",
    "Refinement",
    "ingest_refinement",
    "load_refinement",
    "load_reference_provenance",
    "load_reference_structure",
    "repair_refinement",
    "validate_refinement",
    "validate_structure",
    "AtomBudgetError",
    "BuildStructuresMaker",
    "CompositionNotRealisableError",
    "Defect",
    "MalformedStructureError",
    "OrderedConfiguration",
    "OrderingError",
    "RefinementDefectError",
    "RepairEntry",
    "StructureStageError",
    "StructuresDocument",
    "UnknownReferenceError",
    "build_structures",
    "check_framework",
    "choose_supercell",
    "disordered_structure",
    "exact_supercell",
    "order_structure",
    "parent_structure",
]
