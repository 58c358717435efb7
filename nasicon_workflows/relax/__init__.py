"""Relaxation and phonon stage: VASP with the published settings on HPC, CHGNet locally.

One call picks the engine (:func:`get_relax_maker`); every maker's ``make(structure)`` output has
``.structure`` and ``.output.energy``, so a flow swaps a force field for VASP and nothing else.
"""

from nasicon_workflows.relax.availability import (
    FORCE_FIELDS,
    RELAXERS,
    check_relax_available,
    check_vasp_configured,
)
from nasicon_workflows.relax.errors import (
    ForceFieldUnavailableError,
    PhononSettingsError,
    RelaxationError,
    RelaxInputError,
    UnknownRelaxerError,
    VaspNotConfiguredError,
)
from nasicon_workflows.relax.forcefield import (
    DEFAULT_FMAX_EV_PER_A,
    get_relax_maker,
    maker_from_settings,
    relax_structure,
    run_job_locally,
    validate_structure,
)
from nasicon_workflows.relax.phonons import (
    SYNTHESIS_TEMPERATURES_K,
    NasiconPhononMaker,
    PhononFreeEnergyDocument,
    configurational_entropy_R_per_fu,
    free_energy_from_force_constants,
    get_phonon_maker,
    phonon_free_energy,
)
from nasicon_workflows.relax.schemas import RelaxationDocument
from nasicon_workflows.relax.settings import (
    DEFAULT_VASP_NSW,
    ForceFieldRelaxSettings,
    VaspRelaxSettings,
)
from nasicon_workflows.relax.vasp import (
    NASICON_POTCARS,
    PUBLISHED_INCAR,
    NasiconDoubleRelaxMaker,
    NasiconRelaxMaker,
    NasiconRelaxSetGenerator,
    write_vasp_inputs,
)

__all__ = [
    "DEFAULT_FMAX_EV_PER_A",
    "DEFAULT_VASP_NSW",
    "ForceFieldRelaxSettings",
    "VaspRelaxSettings",
    "maker_from_settings",
    "FORCE_FIELDS",
    "NASICON_POTCARS",
    "PUBLISHED_INCAR",
    "RELAXERS",
    "SYNTHESIS_TEMPERATURES_K",
    "ForceFieldUnavailableError",
    "NasiconDoubleRelaxMaker",
    "NasiconPhononMaker",
    "NasiconRelaxMaker",
    "NasiconRelaxSetGenerator",
    "PhononFreeEnergyDocument",
    "PhononSettingsError",
    "RelaxInputError",
    "RelaxationDocument",
    "RelaxationError",
    "UnknownRelaxerError",
    "VaspNotConfiguredError",
    "check_relax_available",
    "check_vasp_configured",
    "configurational_entropy_R_per_fu",
    "free_energy_from_force_constants",
    "get_phonon_maker",
    "get_relax_maker",
    "phonon_free_energy",
    "relax_structure",
    "run_job_locally",
    "validate_structure",
    "write_vasp_inputs",
]
