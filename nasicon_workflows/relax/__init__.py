"""Relaxation and phonon stage: VASP with the published settings on HPC, CHGNet locally.

One call picks the engine (:func:`get_relax_maker`); every maker's ``make(structure)`` output has
``.structure`` and ``.output.energy``, so a flow swaps a force field for VASP and nothing else.

The public names are imported from their submodules on first use: the VASP makers need
atomate2's VASP package and emmet (seconds of imports), which the light submodules
(``settings``, ``errors``, ``availability``) and the command line's ``--help`` never need.
"""

from nasicon_workflows._lazy import lazy_exports

#: Public name -> submodule that defines it, in the order of ``__all__``.
_EXPORTS = {
    "DEFAULT_FMAX_EV_PER_A": "forcefield",
    "DEFAULT_VASP_NSW": "settings",
    "ForceFieldRelaxSettings": "settings",
    "VaspRelaxSettings": "settings",
    "maker_from_settings": "forcefield",
    "FORCE_FIELDS": "availability",
    "NASICON_POTCARS": "vasp",
    "PUBLISHED_INCAR": "vasp",
    "RELAXERS": "availability",
    "SYNTHESIS_TEMPERATURES_K": "phonons",
    "ForceFieldUnavailableError": "errors",
    "NasiconDoubleRelaxMaker": "vasp",
    "NasiconPhononMaker": "phonons",
    "NasiconRelaxMaker": "vasp",
    "NasiconRelaxSetGenerator": "vasp",
    "PhononFreeEnergyDocument": "phonons",
    "PhononSettingsError": "errors",
    "RelaxInputError": "errors",
    "RelaxationDocument": "schemas",
    "RelaxationError": "errors",
    "UnknownRelaxerError": "errors",
    "VaspNotConfiguredError": "errors",
    "check_relax_available": "availability",
    "check_vasp_configured": "availability",
    "configurational_entropy_R_per_fu": "phonons",
    "free_energy_from_force_constants": "phonons",
    "get_phonon_maker": "phonons",
    "get_relax_maker": "forcefield",
    "phonon_free_energy": "phonons",
    "relax_structure": "forcefield",
    "run_job_locally": "forcefield",
    "validate_structure": "validation",
    "write_vasp_inputs": "vasp",
}

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
