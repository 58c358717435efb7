"""VASP relaxations of NASICON cells with the settings of the source paper, through atomate2.

Published settings (Zuo et al., Energy Environ. Sci. 2026, 19, 860, SI computational methods):
PBE exchange-correlation (GGA), PAW potentials, plane-wave cutoff 550 eV, electronic convergence
1e-5 eV, ionic convergence 0.03 eV/Å on forces, full cell relaxation. Everything else below is our
choice and is documented in ``docs/relax.md``:

* POTCARs (PBE_54 set): semicore states for the early transition metals and the alkali
  (``Na_pv``, ``Zr_sv``, ``Ti_sv``, ``Nb_sv``), ``Hf_pv`` and ``Ta_pv`` (5p6 in valence, 4f14
  frozen in the core: full shell, 7-8 eV below the valence band in the oxides), and the trivalent
  lanthanides with the 4f shell in the core (``Lu_3``, ``Yb_3``, ``Tm_3``, ``Er_3``, ``Gd_3``,
  ``Nd_3``): Lu3+ is 4f14 and the others keep their 4f count in NASICON, so open-shell f
  electrons stay out of a GGA calculation where they would be wrongly delocalised.
* No +U (the paper used plain PBE), Gaussian smearing of 0.05 eV (insulators), non-spin-polarised
  unless a cation with an open d or f shell in the valence is present.
* Gamma-centred k-points at 64 k-points per Å^-3 of reciprocal volume (atomate2's insulator
  default): a 1x2x2 mesh for the 82-84-atom C2/c cell (a, b, c ~ 15.6, 9.0, 9.2 Å), Gamma only
  for 2x2x2 supercells; override with ``user_kpoints_settings``.
* ``LREAL = Auto``: real-space projection, the usual choice above ~20 atoms per cell.
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from atomate2.vasp.jobs.base import BaseVaspMaker
from atomate2.vasp.sets.base import _BASE_VASP_SET, VaspInputGenerator
from jobflow import Flow, Maker
from pymatgen.core import Structure

from nasicon_workflows.relax.errors import RelaxInputError
from nasicon_workflows.relax.settings import (
    DEFAULT_VASP_NSW,
    PUBLISHED_EDIFFG_EV_PER_A,
    PUBLISHED_INCAR,
    VaspRelaxSettings,
)
from nasicon_workflows.relax.validation import validate_structure


__all__ = [
    "NASICON_POTCARS",
    "PUBLISHED_EDIFFG_EV_PER_A",
    "PUBLISHED_INCAR",
    "NasiconDoubleRelaxMaker",
    "NasiconRelaxMaker",
    "NasiconRelaxSetGenerator",
    "VaspRelaxSettings",
    "write_vasp_inputs",
]

#: PAW potentials (PBE_54) of every cation the NASICON screen can place, plus the framework.
NASICON_POTCARS: dict[str, str] = {
    "Na": "Na_pv", "Zr": "Zr_sv", "Si": "Si", "P": "P", "O": "O",
    "Ti": "Ti_sv", "Hf": "Hf_pv", "Ta": "Ta_pv", "Nb": "Nb_sv", "Mo": "Mo_sv", "W": "W_sv",
    "Sc": "Sc_sv", "Y": "Y_sv", "La": "La", "Ce": "Ce", "Nd": "Nd_3", "Gd": "Gd_3",
    "Er": "Er_3", "Tm": "Tm_3", "Yb": "Yb_3", "Lu": "Lu_3",
    "Al": "Al", "Ga": "Ga_d", "In": "In_d", "Ge": "Ge_d", "Sn": "Sn_d", "Bi": "Bi_d",
    "Ca": "Ca_sv", "Mg": "Mg", "Zn": "Zn", "Ir": "Ir",
}

#: Cations whose usual NASICON oxidation state leaves an open d or f shell in the valence.
_OPEN_SHELL = frozenset({"Ir", "V", "Cr", "Mn", "Fe", "Co", "Ni", "Cu", "Ru"})


def _nasicon_config() -> dict:
    config = deepcopy(_BASE_VASP_SET)
    incar = config["INCAR"]
    # No +U in the paper, no meta-GGA, no charge-density files for a relaxation.
    for key in [k for k in incar if k.startswith("LDAU")] + ["LMIXTAU", "METAGGA"]:
        incar.pop(key, None)
    incar.update(
        PUBLISHED_INCAR,
        PREC="Accurate", ALGO="Fast", LREAL="Auto", ISMEAR=0, SIGMA=0.05, NELM=200,
        LASPH=True, LCHARG=False, LWAVE=False, LAECHG=False, LVTOT=False, LORBIT=None,
    )
    incar.pop("LORBIT")
    config["POTCAR_FUNCTIONAL"] = "PBE_54"
    config["POTCAR"] = {**config["POTCAR"], **NASICON_POTCARS}
    config["KPOINTS"] = {"reciprocal_density": 64}
    return config


@dataclass
class NasiconRelaxSetGenerator(VaspInputGenerator):
    """VASP relaxation inputs for NASICON cells with the published PBE settings.

    Parameters
    ----------
    config_dict
        Base settings (see the module docstring); ``user_incar_settings`` and
        ``user_potcar_settings`` override single keys.
    auto_ismear, auto_metal_kpoints
        False: keep Gaussian smearing and the same k-mesh for the second relaxation.
    nsw
        Maximum number of ionic steps (default :data:`DEFAULT_VASP_NSW`, our documented choice).
    """

    config_dict: dict = field(default_factory=_nasicon_config)
    auto_ismear: bool = False
    auto_ispin: bool = False
    auto_metal_kpoints: bool = False
    nsw: int = DEFAULT_VASP_NSW

    @property
    def incar_updates(self) -> dict:
        """INCAR keys that depend on the structure: relaxation flags and spin polarisation.

        Returns
        -------
        dict
            Updates applied on top of ``config_dict["INCAR"]``.
        """
        updates: dict[str, Any] = {"NSW": self.nsw, "IBRION": 2}
        elements = {el.symbol for el in self.structure.composition} if self.structure else set()
        if elements & _OPEN_SHELL:
            updates["ISPIN"] = 2
        else:
            # Closed-shell cations only: a spin-polarised run would cost twice as much for a
            # moment that relaxes to zero.
            updates["ISPIN"] = 1
            updates["MAGMOM"] = None
        return updates


@dataclass
class NasiconRelaxMaker(BaseVaspMaker):
    """One VASP relaxation of a NASICON cell (atomate2 ``RelaxMaker`` with our input set).

    Parameters
    ----------
    name
        Job name.
    input_set_generator
        Input set, by default :class:`NasiconRelaxSetGenerator`.
    """

    name: str = "nasicon relax"
    input_set_generator: VaspInputGenerator = field(default_factory=NasiconRelaxSetGenerator)


@dataclass
class NasiconDoubleRelaxMaker(Maker):
    """Two chained VASP relaxations (as atomate2's ``DoubleRelaxMaker``), optionally preceded by
    a force-field pre-relaxation.

    The second relaxation restarts from the first one's cell, so Pulay stress from the basis set
    of the starting volume is removed.

    Parameters
    ----------
    name
        Flow name.
    pre_relax_maker
        Force-field maker (e.g. ``get_relax_maker("chgnet")``) run first, or None.
    relax_maker1
        First VASP relaxation (None skips it).
    relax_maker2
        Second VASP relaxation; its output is the flow's output.
    """

    name: str = "nasicon double relax"
    pre_relax_maker: Maker | None = None
    relax_maker1: BaseVaspMaker | None = field(default_factory=NasiconRelaxMaker)
    relax_maker2: BaseVaspMaker = field(default_factory=NasiconRelaxMaker)

    def make(self, structure: Structure, prev_dir: str | Path | None = None) -> Flow:
        """Chain the (pre-)relaxations; the output is the last VASP ``TaskDoc``.

        Parameters
        ----------
        structure
            Ordered NASICON structure.
        prev_dir
            Previous VASP directory to copy outputs from.

        Returns
        -------
        Flow

        Notes
        -----
        An ordered NASICON cell lists its sites by framework label, so one element appears in
        several blocks; VASP would then get one POTCAR per block. The cell is therefore sorted by
        electronegativity first (one block, one POTCAR per element: Na Lu Zr Ti Si P O).
        """
        if isinstance(structure, Structure):
            structure = structure.get_sorted_structure()
        jobs = []
        if self.pre_relax_maker is not None:
            pre = self.pre_relax_maker.make(structure)
            pre.append_name(" (pre-relax)")
            jobs.append(pre)
            structure = pre.output.structure
        if self.relax_maker1 is not None:
            relax1 = self.relax_maker1.make(structure, prev_dir=prev_dir)
            relax1.append_name(" 1")
            jobs.append(relax1)
            structure, prev_dir = relax1.output.structure, relax1.output.dir_name
        relax2 = self.relax_maker2.make(structure, prev_dir=prev_dir)
        relax2.append_name(" 2")
        jobs.append(relax2)
        return Flow(jobs, output=relax2.output, name=self.name)

    @classmethod
    def from_settings(
        cls,
        settings: VaspRelaxSettings | None = None,
        pre_relax_maker: Maker | None = None,
        **legacy: Any,
    ) -> NasiconDoubleRelaxMaker:
        """A double relaxation with the published settings, adjusted only explicitly.

        Parameters
        ----------
        settings
            The VASP settings; None builds them from ``legacy``.
        pre_relax_maker
            Force-field maker run first (``get_relax_maker("vasp", pre_relax="chgnet")``
            builds it from ``settings.pre_relax``), or None.
        **legacy
            Keyword names of :meth:`VaspRelaxSettings.from_legacy` (``fmax``, ``nsw``,
            ``relax_cell``, ``user_incar_settings``, ...), used when ``settings`` is None.

        Returns
        -------
        NasiconDoubleRelaxMaker
            Both relaxations carry ``settings.incar()``; every change of a published key is
            logged as a warning.
        """
        if isinstance(legacy.get("pre_relax"), str):
            raise RelaxInputError(
                "a pre-relaxation named by its force field is built by "
                f"get_relax_maker('vasp', pre_relax={legacy['pre_relax']!r}); here pass "
                "pre_relax_maker=<a force-field Maker>"
            )
        if legacy.get("pre_relax") is not None:
            pre_relax_maker = legacy.pop("pre_relax")
        legacy.pop("pre_relax", None)
        if settings is None:
            settings = VaspRelaxSettings.from_legacy(**legacy)
        elif legacy:
            raise RelaxInputError(
                f"give either a VaspRelaxSettings or keyword settings, not both: {sorted(legacy)}"
            )
        settings.log_overrides()
        incar = {k: v for k, v in settings.incar().items() if k != "NSW"}
        generator = NasiconRelaxSetGenerator(
            user_incar_settings=incar,
            user_kpoints_settings=dict(settings.kpoints_overrides),
            user_potcar_settings=dict(settings.potcar_overrides),
            nsw=int(settings.nsw),
        )
        relax = NasiconRelaxMaker(
            input_set_generator=generator, run_vasp_kwargs=dict(settings.run_vasp_kwargs)
        )
        return cls(
            pre_relax_maker=pre_relax_maker,
            relax_maker1=deepcopy(relax),
            relax_maker2=deepcopy(relax),
        )


def write_vasp_inputs(
    structure: Structure,
    directory: str | Path,
    generator: VaspInputGenerator | None = None,
    potcar_spec: bool = True,
) -> dict[str, Path]:
    """Write the exact INCAR, KPOINTS, POSCAR and POTCAR(.spec) a relaxation would run.

    Parameters
    ----------
    structure
        Ordered structure.
    directory
        Output folder (created).
    generator
        Input set generator, by default :class:`NasiconRelaxSetGenerator`.
    potcar_spec
        Write ``POTCAR.spec`` (the POTCAR symbols, no licensed data) instead of ``POTCAR``.

    Returns
    -------
    dict
        File name -> path of every file written.
    """
    validate_structure(structure)
    generator = generator or NasiconRelaxSetGenerator()
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    vasp_input = generator.get_input_set(structure, potcar_spec=potcar_spec)
    vasp_input.write_input(directory)
    return {p.name: p for p in sorted(directory.iterdir()) if p.is_file()}
