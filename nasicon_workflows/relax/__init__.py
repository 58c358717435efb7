"""Relaxation and phonon stage: VASP with the published settings on HPC, CHGNet locally.

One call picks the engine (:func:`get_relax_maker`); every maker's ``make(structure)`` output has
``.structure`` and ``.output.energy``, so a flow swaps a force field for VASP and nothing else.

The public names are imported from their submodules on first use: the VASP makers need
atomate2's VASP package and emmet (seconds of imports), which the light submodules
(``settings``, ``errors``, ``availability``) and the command line's ``--help`` never need.
"""

from nasicon_workflows._lazy import lazy_exports

#: Public name -> submodule that defines it.
_EXPORTS = {
    "FORCE_FIELDS": "availability",
    "RELAXERS": "availability",
    "check_relax_available": "availability",
    "check_vasp_configured": "availability",
    "ForceFieldUnavailableError": "errors",
    "PhononSettingsError": "errors",
    "RelaxationError": "errors",
    "RelaxInputError": "errors",
    "UnknownRelaxerError": "errors",
    "VaspNotConfiguredError": "errors",
    "DEFAULT_FMAX_EV_PER_A": "forcefield",
    "get_relax_maker": "forcefield",
    "maker_from_settings": "forcefield",
    "relax_structure": "forcefield",
    "run_job_locally": "forcefield",
    "validate_structure": "validation",
    "SYNTHESIS_TEMPERATURES_K": "phonons",
    "NasiconPhononMaker": "phonons",
    "PhononFreeEnergyDocument": "phonons",
    "configurational_entropy_R_per_fu": "phonons",
    "free_energy_from_force_constants": "phonons",
    "get_phonon_maker": "phonons",
    "phonon_free_energy": "phonons",
    "RelaxationDocument": "schemas",
    "DEFAULT_VASP_NSW": "settings",
    "ForceFieldRelaxSettings": "settings",
    "VaspRelaxSettings": "settings",
    "NASICON_POTCARS": "vasp",
    "PUBLISHED_INCAR": "vasp",
    "NasiconDoubleRelaxMaker": "vasp",
    "NasiconRelaxMaker": "vasp",
    "NasiconRelaxSetGenerator": "vasp",
    "write_vasp_inputs": "vasp",
}

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
