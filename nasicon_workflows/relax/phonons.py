"""Harmonic phonons of NASICON cells: F_vib(T), the imaginary-mode check and -T S_config.

The force constants come from atomate2's phonon flow (force field locally, VASP on HPC); the
thermodynamics are recomputed here with phonopy at exactly the requested temperatures (the
synthesis window 1100-1200 °C is 1373.15-1473.15 K), independently of the DOS-based numbers
atomate2 stores, and combined with the ideal configurational entropy of the composition:

    G_vib+config(T) = F_vib(T) - T S_config        (per NASICON formula unit, eV)

Both terms are relative quantities: comparing candidates (or a candidate with its competing
phases, computed the same way) is meaningful, a single absolute value is not.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from jobflow import Flow, Maker, job
from pydantic import BaseModel, Field
from pymatgen.core import Structure

from nasicon_workflows.constants import BOLTZMANN_eV_PER_K, FARADAY_C_PER_MOL
from nasicon_workflows.relax.errors import PhononSettingsError, RelaxInputError

__all__ = [
    "SYNTHESIS_TEMPERATURES_K",
    "NasiconPhononMaker",
    "PhononFreeEnergyDocument",
    "configurational_entropy_R_per_fu",
    "free_energy_from_force_constants",
    "get_phonon_maker",
    "phonon_free_energy",
]

logger = logging.getLogger(__name__)

#: J/mol per eV per particle (e N_A, CODATA 2018).
J_PER_MOL_PER_EV = FARADAY_C_PER_MOL
#: Room temperature and the synthesis window of the source paper (1100 and 1200 °C), K.
SYNTHESIS_TEMPERATURES_K = (298.15, 1373.15, 1473.15)
#: Oxygen per NASICON formula unit (Na_x M2 (Si,P)3 O12).
_O_PER_FU = 12


class PhononFreeEnergyDocument(BaseModel):
    """Harmonic free energy and stability of one cell, with the configurational term.

    Energies in eV, frequencies in THz, temperatures in K, entropies in units of R (= k_B per
    particle) per NASICON formula unit (12 O).
    """

    formula: str = Field(description="Reduced formula of the cell.")
    n_sites: int = Field(description="Sites in the cell the force constants belong to.")
    n_formula_units: float = Field(description="NASICON formula units in the cell (O / 12).")
    supercell_matrix: list[list[int]] = Field(description="Supercell of the displacements.")
    n_displacements: int | None = Field(None, description="Displaced supercells computed.")
    temperatures_K: list[float] = Field(description="Temperatures of the free energies.")
    f_vib_eV_per_fu: list[float] = Field(description="Harmonic F_vib(T) per formula unit (eV).")
    f_vib_eV_per_atom: list[float] = Field(description="Harmonic F_vib(T) per atom (eV).")
    s_vib_R_per_fu: list[float] = Field(description="Vibrational entropy per formula unit (R).")
    s_config_R_per_fu: float | None = Field(
        None, description="Ideal configurational entropy per formula unit (R)."
    )
    s_config_sublattices: str | None = Field(
        None, description="Which sublattices S_config counts ('m_site' or 'total')."
    )
    minus_t_s_config_eV_per_fu: list[float] | None = Field(
        None, description="-T S_config per formula unit (eV)."
    )
    g_vib_config_eV_per_fu: list[float] | None = Field(
        None, description="F_vib(T) - T S_config per formula unit (eV)."
    )
    min_frequency_THz: float = Field(description="Lowest frequency on the q mesh (THz).")
    n_imaginary_modes: int = Field(
        description="Modes on the q mesh below -imaginary_tol_THz (acoustic noise excluded)."
    )
    imaginary_tol_THz: float = Field(description="Tolerance of the imaginary-mode check (THz).")
    is_dynamically_stable: bool = Field(description="No imaginary modes beyond the tolerance.")
    q_mesh: list[int] = Field(description="q-point mesh of the thermodynamic sums.")
    energy_eV_per_fu: float | None = Field(None, description="Static energy E0 per fu (eV).")
    atomate2_temperatures_K: list[float] | None = Field(
        None, description="Temperatures of atomate2's own DOS-based free energies (K)."
    )
    atomate2_f_vib_eV_per_fu: list[float] | None = Field(
        None, description="atomate2's DOS-based F_vib per formula unit (eV), for cross-checks."
    )
    settings: dict[str, Any] = Field(default_factory=dict, description="Flow settings.")


def configurational_entropy_R_per_fu(
    composition: str | Any, sublattices: Literal["m_site", "total"] = "m_site"
) -> float:
    """Ideal configurational entropy of a NASICON composition per formula unit, in R.

    Parameters
    ----------
    composition
        Formula or :class:`~nasicon_workflows.composition.NasiconComposition`.
    sublattices
        "m_site": the M (Zr) sublattice, the entropy the source paper engineers (2 x its
        per-site descriptor); "total": M + Si/P + Na/vacancy sublattices.

    Returns
    -------
    float
    """
    from nasicon_workflows.composition import NasiconComposition
    from nasicon_workflows.descriptors import sublattice_entropies

    if sublattices not in ("m_site", "total"):
        raise PhononSettingsError(f"sublattices must be 'm_site' or 'total', got {sublattices!r}")
    comp = composition
    if not isinstance(comp, NasiconComposition):
        comp = NasiconComposition.from_formula(str(composition))
    return float(sublattice_entropies(comp)[sublattices])


def _formula_per_fu(structure: Structure) -> tuple[str, float]:
    """NASICON formula of a cell (amounts per 12 O) and its number of formula units."""
    amounts = structure.composition.element_composition.get_el_amt_dict()
    n_o = amounts.get("O", 0.0)
    if n_o <= 0 or n_o % _O_PER_FU:
        raise RelaxInputError(
            f"cell has {n_o:g} O; a NASICON cell needs a multiple of 12 O per cell"
        )
    n_fu = n_o / _O_PER_FU
    order = ["Na", *sorted(e for e in amounts if e not in ("Na", "Si", "P", "O")), "Si", "P", "O"]
    text = "".join(
        f"{el}{amounts[el] / n_fu:.6g}" for el in order if amounts.get(el)
    )
    return text, n_fu


def _check_temperatures(temperatures_K: Sequence[float]) -> list[float]:
    temps = [float(t) for t in temperatures_K]
    if not temps or any(not math.isfinite(t) or t < 0 for t in temps):
        raise PhononSettingsError(
            f"temperatures must be a non-empty list of finite values >= 0 K, got {temperatures_K!r}"
        )
    return temps


def free_energy_from_force_constants(
    structure: Structure,
    force_constants: np.ndarray,
    supercell_matrix: Sequence[Sequence[int]] | None = None,
    temperatures_K: Sequence[float] = SYNTHESIS_TEMPERATURES_K,
    q_mesh: Sequence[int] | None = None,
    imaginary_tol_THz: float = 0.1,
    composition: str | None = None,
    s_config_sublattices: Literal["m_site", "total"] | None = "m_site",
) -> PhononFreeEnergyDocument:
    """F_vib(T), S_vib(T) and the imaginary-mode check from force constants with phonopy.

    Parameters
    ----------
    structure
        Unit cell the force constants refer to (relaxed).
    force_constants
        Supercell force constants, shape (N, N, 3, 3) in eV/Å^2 (phonopy's layout).
    supercell_matrix
        Supercell of the force constants relative to ``structure`` (identity if None).
    temperatures_K
        Temperatures of the free energies (K).
    q_mesh
        q-point mesh; None picks ~20 Å^-1 of reciprocal length per direction (at least 2).
    imaginary_tol_THz
        Modes below ``-imaginary_tol_THz`` count as imaginary; smaller magnitudes are numerical
        noise of the acoustic branches near Gamma.
    composition
        NASICON formula for S_config; None derives it from the cell (per 12 O).
    s_config_sublattices
        "m_site", "total", or None to skip the configurational term.

    Returns
    -------
    PhononFreeEnergyDocument
    """
    from phonopy import Phonopy
    from phonopy.structure.atoms import PhonopyAtoms

    temps = _check_temperatures(temperatures_K)
    if not imaginary_tol_THz >= 0:
        raise PhononSettingsError(f"imaginary_tol_THz must be >= 0, got {imaginary_tol_THz!r}")
    smat = np.eye(3, dtype=int) if supercell_matrix is None else np.asarray(supercell_matrix)
    unitcell = PhonopyAtoms(
        symbols=[site.specie.symbol for site in structure],
        cell=structure.lattice.matrix,
        scaled_positions=structure.frac_coords,
    )
    # An explicit identity: phonopy >= 4 would otherwise search a smaller primitive cell and
    # the free energies would no longer be per cell of `structure`.
    phonon = Phonopy(unitcell, supercell_matrix=smat, primitive_matrix=np.eye(3))
    fc = np.asarray(force_constants, dtype=float)
    n_super = len(phonon.supercell)
    if fc.shape != (n_super, n_super, 3, 3):
        raise PhononSettingsError(
            f"force constants have shape {fc.shape}, expected {(n_super, n_super, 3, 3)} for "
            f"{len(structure)} atoms and supercell {smat.tolist()}"
        )
    phonon.force_constants = fc
    if q_mesh is None:
        # ~20 Å of real-space length per direction, the usual converged DOS-sum density here.
        q_mesh = [max(2, math.ceil(20.0 / length)) for length in structure.lattice.abc]
    phonon.run_mesh(list(q_mesh), with_eigenvectors=False, is_gamma_center=True)
    freqs = np.asarray(phonon.mesh.frequencies)
    n_imag = int((freqs < -abs(imaginary_tol_THz)).sum())
    # phonopy leaves modes below its cutoff (imaginary ones included) out of the sums.
    phonon.run_thermal_properties(temperatures=temps)
    tp = phonon.get_thermal_properties_dict()
    formula_fu, n_fu = _formula_per_fu(structure)
    kj_per_mol_to_ev = 1000.0 / J_PER_MOL_PER_EV
    f_cell = np.asarray(tp["free_energy"]) * kj_per_mol_to_ev  # kJ/mol of cells -> eV/cell
    s_cell_R = np.asarray(tp["entropy"]) / (J_PER_MOL_PER_EV * BOLTZMANN_eV_PER_K)  # J/K/mol -> R
    doc: dict[str, Any] = {
        "formula": structure.composition.reduced_formula,
        "n_sites": len(structure),
        "n_formula_units": n_fu,
        "supercell_matrix": smat.astype(int).tolist(),
        "temperatures_K": temps,
        "f_vib_eV_per_fu": (f_cell / n_fu).tolist(),
        "f_vib_eV_per_atom": (f_cell / len(structure)).tolist(),
        "s_vib_R_per_fu": (s_cell_R / n_fu).tolist(),
        "min_frequency_THz": float(freqs.min()),
        "n_imaginary_modes": n_imag,
        "imaginary_tol_THz": float(imaginary_tol_THz),
        "is_dynamically_stable": n_imag == 0,
        "q_mesh": [int(q) for q in q_mesh],
    }
    if s_config_sublattices is not None:
        s_conf = configurational_entropy_R_per_fu(composition or formula_fu, s_config_sublattices)
        minus_ts = [-t * s_conf * BOLTZMANN_eV_PER_K for t in temps]
        doc.update(
            s_config_R_per_fu=s_conf,
            s_config_sublattices=s_config_sublattices,
            minus_t_s_config_eV_per_fu=minus_ts,
            g_vib_config_eV_per_fu=[f + m for f, m in zip(doc["f_vib_eV_per_fu"], minus_ts)],
        )
    return PhononFreeEnergyDocument(**doc)


def get_phonon_maker(
    engine: str = "chgnet",
    bulk_relax_fmax: float | None = 0.005,
    displacement_A: float = 0.01,
    check: bool = True,
) -> Maker:
    """atomate2's phonon flow for a force field or VASP, set up for ~80-200-atom NASICON cells.

    Parameters
    ----------
    engine
        Force-field name ("chgnet", "sevennet", ...) or "vasp".
    bulk_relax_fmax
        Force criterion (eV/Å) of the tight relaxation before the displacements; None skips it
        (then pass an already tightly relaxed structure).
    displacement_A
        Displacement amplitude (Å).
    check
        Check the engine is available before building anything.

    Returns
    -------
    Maker
        atomate2 ``PhononMaker`` (force-field or VASP flavour).
    """
    from nasicon_workflows.relax.availability import check_relax_available, normalise_relaxer_name

    key = normalise_relaxer_name(engine)
    if key == "none":
        raise RelaxInputError("phonons need an engine: a force field name or 'vasp'")
    if check:
        check_relax_available(key)
    if not displacement_A > 0:
        raise PhononSettingsError(f"displacement_A must be positive, got {displacement_A!r}")
    common = {
        "displacement": float(displacement_A),
        # Used only when NasiconPhononMaker.supercell_matrix is None (~8x the atoms here).
        "min_length": 20.0,
        "store_force_constants": True,
        # Band-structure plots and yaml files are written to the job folder; keep them out of
        # the caller's working directory (run_job_locally gives each job a temp folder).
        "generate_frequencies_eigenvectors_kwargs": {"tmin": 0, "tmax": 1500, "tstep": 100},
    }
    if key == "vasp":
        from atomate2.vasp.flows.phonons import PhononMaker as VaspPhononMaker
        from atomate2.vasp.jobs.phonons import PhononDisplacementMaker

        from nasicon_workflows.relax.vasp import NasiconRelaxMaker, NasiconRelaxSetGenerator

        fmax = abs(bulk_relax_fmax or 0.005)
        # Same PBE/550 eV/POTCAR settings as the relaxations; statics with tighter electronic
        # convergence and exact projectors, as finite-difference forces need.
        static = {"NSW": 0, "IBRION": -1, "EDIFF": 1e-7, "LREAL": False}
        tight = NasiconRelaxSetGenerator(user_incar_settings={"EDIFFG": -fmax, "EDIFF": 1e-7})
        return VaspPhononMaker(
            bulk_relax_maker=(
                NasiconRelaxMaker(name="nasicon tight relax", input_set_generator=tight)
                if bulk_relax_fmax
                else None
            ),
            static_energy_maker=NasiconRelaxMaker(
                name="nasicon static",
                input_set_generator=NasiconRelaxSetGenerator(nsw=0, user_incar_settings=static),
            ),
            phonon_displacement_maker=PhononDisplacementMaker(
                input_set_generator=NasiconRelaxSetGenerator(nsw=0, user_incar_settings=static)
            ),
            born_maker=None,
            **common,
        )
    from atomate2.forcefields.flows.phonons import PhononMaker
    from atomate2.forcefields.jobs import ForceFieldRelaxMaker, ForceFieldStaticMaker

    from nasicon_workflows.relax.availability import FORCE_FIELDS

    spec = FORCE_FIELDS[key]
    ff = {"force_field_name": spec.mlff, "calculator_kwargs": dict(spec.calculator_kwargs)}
    return PhononMaker(
        # BFGS: from an fmax-0.05 structure FIRE needs hundreds of steps to reach 0.01 eV/Å.
        bulk_relax_maker=ForceFieldRelaxMaker(
            relax_kwargs={"fmax": bulk_relax_fmax},
            optimizer_kwargs={"optimizer": "BFGS"},
            **ff,
        )
        if bulk_relax_fmax
        else None,
        static_energy_maker=ForceFieldStaticMaker(**ff),
        phonon_displacement_maker=ForceFieldStaticMaker(**ff),
        # One job for all displaced cells: one stored document instead of ~500 (no measurable
        # speed-up, see benchmarks/bench_phonon_displacements.py).
        socket=True,
        **common,
    )


@dataclass
class NasiconPhononMaker(Maker):
    """Phonon flow + free-energy summary: atomate2 phonons, then F_vib(T) - T S_config.

    Parameters
    ----------
    name
        Flow name.
    phonon_maker
        atomate2 phonon maker (see :func:`get_phonon_maker`).
    supercell_matrix
        Supercell of the displacements. The identity uses the ~82-atom C2/c cell itself
        (15.6 x 9.0 x 9.2 Å; force constants cut at half the cell, see docs/relax.md); None
        lets atomate2 build a supercell of at least 20 Å (~8x the atoms).
    temperatures_K
        Temperatures of the summary (K).
    imaginary_tol_THz
        Tolerance of the imaginary-mode check (THz).
    s_config_sublattices
        Sublattices counted in S_config ("m_site" or "total").
    """

    name: str = "nasicon phonons"
    phonon_maker: Maker = field(default_factory=get_phonon_maker)
    supercell_matrix: list[list[int]] | None = field(
        default_factory=lambda: np.eye(3, dtype=int).tolist()
    )
    temperatures_K: tuple[float, ...] = SYNTHESIS_TEMPERATURES_K
    imaginary_tol_THz: float = 0.1
    s_config_sublattices: Literal["m_site", "total"] = "m_site"

    def make(self, structure: Structure, composition: str | None = None) -> Flow:
        """Phonon flow of one ordered cell and its free-energy summary.

        Parameters
        ----------
        structure
            Ordered NASICON cell (relaxed or not: the phonon flow relaxes it tightly first).
        composition
            Nominal formula for S_config; None derives it from the cell.

        Returns
        -------
        Flow
            Output: :class:`PhononFreeEnergyDocument`.
        """
        from nasicon_workflows.relax.forcefield import validate_structure

        validate_structure(structure)
        kwargs = {}
        if self.supercell_matrix is not None:
            kwargs["supercell_matrix"] = [list(map(int, row)) for row in self.supercell_matrix]
        phonons = self.phonon_maker.make(structure, **kwargs)
        summary = summarise_phonons(
            phonons.output,
            temperatures_K=list(self.temperatures_K),
            imaginary_tol_THz=self.imaginary_tol_THz,
            composition=composition,
            s_config_sublattices=self.s_config_sublattices,
        )
        return Flow([phonons, summary], output=summary.output, name=self.name)


def _field(doc: Any, key: str, default: Any = None) -> Any:
    """Attribute or key of an atomate2 document (an object, or a dict after serialisation)."""
    if isinstance(doc, dict):
        return doc.get(key, default)
    return getattr(doc, key, default)


@job(output_schema=PhononFreeEnergyDocument)
def summarise_phonons(
    phonon_doc: Any,
    temperatures_K: list[float],
    imaginary_tol_THz: float,
    composition: str | None,
    s_config_sublattices: str | None,
) -> PhononFreeEnergyDocument:
    """Job: recompute the thermodynamics from atomate2's force constants (see module doc).

    Parameters
    ----------
    phonon_doc
        atomate2 ``PhononBSDOSDoc`` (structure, force constants, supercell matrix, its own
        DOS-based free energies in J/mol per pymatgen formula unit).
    temperatures_K, imaginary_tol_THz, composition, s_config_sublattices
        See :func:`free_energy_from_force_constants`.

    Returns
    -------
    PhononFreeEnergyDocument
    """
    structure = _field(phonon_doc, "structure")
    if isinstance(structure, dict):
        structure = Structure.from_dict(structure)
    fc = _field(phonon_doc, "force_constants")
    if fc is None:
        raise PhononSettingsError(
            "the phonon document has no force constants; build the phonon maker with "
            "store_force_constants=True (get_phonon_maker does)"
        )
    fc = np.asarray(_field(fc, "force_constants", fc))
    doc = free_energy_from_force_constants(
        structure,
        fc,
        supercell_matrix=_field(phonon_doc, "supercell_matrix"),
        temperatures_K=temperatures_K,
        imaginary_tol_THz=imaginary_tol_THz,
        composition=composition,
        s_config_sublattices=s_config_sublattices,
    )
    n_fu = doc.n_formula_units
    pmg_fu = _field(phonon_doc, "formula_units") or 1
    # atomate2 stores J/mol per *pymatgen* formula unit (reduced formula); convert to ours.
    a2_temps = [float(t) for t in _field(phonon_doc, "temperatures") or []]
    a2_f = [
        float(f) * pmg_fu / n_fu / J_PER_MOL_PER_EV
        for f in _field(phonon_doc, "free_energies") or []
    ]
    e0 = _field(phonon_doc, "total_dft_energy")
    uuids = _field(phonon_doc, "uuids")
    displacement_uuids = _field(uuids, "displacements_uuids") if uuids is not None else None
    extra = {
        "atomate2_temperatures_K": a2_temps or None,
        "atomate2_f_vib_eV_per_fu": a2_f or None,
        "energy_eV_per_fu": float(e0) * pmg_fu / n_fu if e0 is not None else None,
        "n_displacements": len(displacement_uuids) if displacement_uuids else None,
        "settings": {
            "code": _field(phonon_doc, "code"),
            "imaginary_tol_THz": imaginary_tol_THz,
            "atomate2_has_imaginary_modes": _field(phonon_doc, "has_imaginary_modes"),
        },
    }
    return doc.model_copy(update=extra)


def phonon_free_energy(
    structure: Structure,
    force_field: str = "chgnet",
    temperatures_K: Sequence[float] = SYNTHESIS_TEMPERATURES_K,
    supercell_matrix: Sequence[Sequence[int]] | None = ((1, 0, 0), (0, 1, 0), (0, 0, 1)),
    bulk_relax_fmax: float | None = 0.005,
    imaginary_tol_THz: float = 0.1,
    composition: str | None = None,
    s_config_sublattices: Literal["m_site", "total"] = "m_site",
    root_dir: str | None = None,
) -> PhononFreeEnergyDocument:
    """Run the phonon flow of one cell locally and return its free-energy summary.

    Parameters
    ----------
    structure
        Ordered NASICON cell.
    force_field
        Force field ("chgnet" default) or "vasp" where VASP is configured.
    temperatures_K
        Temperatures (K); default room temperature and the 1100/1200 °C synthesis window.
    supercell_matrix
        Displacement supercell (identity: the cell itself).
    bulk_relax_fmax
        Tight pre-relaxation criterion (eV/Å), None to skip.
    imaginary_tol_THz
        Tolerance of the imaginary-mode check.
    composition
        Nominal formula for S_config (None: from the cell).
    s_config_sublattices
        "m_site" or "total".
    root_dir
        Folder for the job directories (plots, yaml); a temporary one if None.

    Returns
    -------
    PhononFreeEnergyDocument
    """
    from nasicon_workflows.relax.forcefield import run_job_locally, validate_structure

    validate_structure(structure)
    _check_temperatures(temperatures_K)
    maker = NasiconPhononMaker(
        phonon_maker=get_phonon_maker(force_field, bulk_relax_fmax=bulk_relax_fmax),
        supercell_matrix=None if supercell_matrix is None else [list(r) for r in supercell_matrix],
        temperatures_K=tuple(float(t) for t in temperatures_K),
        imaginary_tol_THz=imaginary_tol_THz,
        s_config_sublattices=s_config_sublattices,
    )
    flow = maker.make(structure, composition=composition)
    return run_job_locally(flow, root_dir=root_dir)
