"""Relaxation settings: force-field and DFT (VASP) settings as separate objects that never mix.

A force-field relaxation is controlled by a force criterion and a step budget that a screen may
loosen to fit a laptop; a VASP relaxation has the settings of the source paper (Zuo et al.,
Energy Environ. Sci. 2026, 19, 860, SI computational methods: PBE, PAW, ENCUT 550 eV, EDIFF
1e-5 eV, EDIFFG -0.03 eV/Å, full relaxation). Keeping them in two classes means a force-field
budget can never leak into a VASP INCAR: :class:`VaspRelaxSettings` has no ``fmax`` and no
``steps``; a change of a published key is an explicit ``incar_overrides`` entry and is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from monty.json import MSONable

from nasicon_workflows.relax.errors import RelaxInputError

__all__ = [
    "DEFAULT_FMAX_EV_PER_A",
    "DEFAULT_FORCEFIELD_STEPS",
    "DEFAULT_VASP_NSW",
    "PUBLISHED_EDIFFG_EV_PER_A",
    "PUBLISHED_INCAR",
    "ForceFieldRelaxSettings",
    "VaspRelaxSettings",
]

logger = logging.getLogger(__name__)

#: Ionic convergence of the source paper: forces below 0.03 eV/Å (EDIFFG < 0 means forces).
PUBLISHED_EDIFFG_EV_PER_A = -0.03

#: INCAR keys fixed by the source paper's SI (full relaxation: ISIF 3).
PUBLISHED_INCAR: dict[str, Any] = {
    "GGA": "PE",  # PBE; atomate2's base set would otherwise give PBEsol ("PS")
    "ENCUT": 550,
    "EDIFF": 1e-5,
    "EDIFFG": PUBLISHED_EDIFFG_EV_PER_A,
    "ISIF": 3,
}

#: Maximum ionic steps of each of the two VASP relaxations (our choice; the paper gives none).
#: 200 conjugate-gradient steps at EDIFFG -0.03 eV/Å are ample for an 82-84-atom cell that
#: starts from an Ewald-ordered framework; a run that hits the limit is not converged and the
#: second relaxation restarts from its last cell (docs/relax.md).
DEFAULT_VASP_NSW = 200

#: Force criterion of local force-field relaxations (eV/Å).
DEFAULT_FMAX_EV_PER_A = 0.05

#: Step budget of local force-field relaxations.
DEFAULT_FORCEFIELD_STEPS = 500


@dataclass
class ForceFieldRelaxSettings(MSONable):
    """Settings of a universal force-field relaxation (atomate2 ``ForceFieldRelaxMaker``).

    Parameters
    ----------
    force_field
        ``"chgnet"``, ``"sevennet"``, ``"mace"`` or ``"m3gnet"``.
    fmax_eV_per_A
        Force criterion, eV/Å.
    max_steps
        Optimizer step budget.
    relax_cell
        Relax the lattice as well as the positions.
    optimizer
        ASE optimizer passed to ``get_relax_maker(optimizer=...)``; None: the relax stage's
        default.
    """

    force_field: str = "chgnet"
    fmax_eV_per_A: float = DEFAULT_FMAX_EV_PER_A
    max_steps: int = DEFAULT_FORCEFIELD_STEPS
    relax_cell: bool = True
    optimizer: str | None = None

    def __post_init__(self) -> None:
        if self.force_field.lower() in ("vasp", "none"):
            raise RelaxInputError(
                f"ForceFieldRelaxSettings is for force fields, got {self.force_field!r}: use "
                "VaspRelaxSettings for VASP"
            )
        if not float(self.fmax_eV_per_A) > 0:
            raise RelaxInputError(
                f"fmax must be a positive force in eV/Å, got {self.fmax_eV_per_A!r}"
            )
        if int(self.max_steps) < 1:
            raise RelaxInputError(f"steps must be at least 1, got {self.max_steps!r}")

    @property
    def engine(self) -> str:
        """Name of the relaxer (the force field)."""
        return self.force_field.lower()

    @property
    def force_criterion_eV_per_A(self) -> float:
        """Largest atomic force of a converged relaxation, eV/Å."""
        return float(self.fmax_eV_per_A)

    def settings_dict(self) -> dict[str, Any]:
        """JSON-friendly settings (for reports and cache keys)."""
        return {"engine": self.engine, **asdict(self)}


@dataclass
class VaspRelaxSettings(MSONable):
    """Settings of the VASP double relaxation: the published ones unless overridden explicitly.

    Parameters
    ----------
    nsw
        Maximum ionic steps of each relaxation (NSW); default :data:`DEFAULT_VASP_NSW`.
    relax_cell
        ISIF 3 (cell and ions, the published full relaxation) when True, ISIF 2 otherwise (an
        override of a published key, logged).
    incar_overrides
        INCAR keys to change, e.g. ``{"NCORE": 8}``. A published key (GGA, ENCUT, EDIFF,
        EDIFFG, ISIF) changed here is logged as a warning by :meth:`log_overrides`.
    kpoints_overrides
        Passed to the input set as ``user_kpoints_settings``.
    potcar_overrides
        Passed to the input set as ``user_potcar_settings``.
    run_vasp_kwargs
        Passed to atomate2's ``run_vasp`` (e.g. ``{"vasp_cmd": "srun vasp_std"}``).
    pre_relax
        Force field of an optional pre-relaxation (None: none, as in the paper).
    """

    nsw: int = DEFAULT_VASP_NSW
    relax_cell: bool = True
    incar_overrides: dict[str, Any] = field(default_factory=dict)
    kpoints_overrides: dict[str, Any] = field(default_factory=dict)
    potcar_overrides: dict[str, str] = field(default_factory=dict)
    run_vasp_kwargs: dict[str, Any] = field(default_factory=dict)
    pre_relax: str | None = None

    def __post_init__(self) -> None:
        if int(self.nsw) < 1:
            raise RelaxInputError(f"NSW must be at least 1, got {self.nsw!r}")
        for name in ("incar_overrides", "kpoints_overrides", "potcar_overrides",
                     "run_vasp_kwargs"):
            value = getattr(self, name)
            if not isinstance(value, Mapping):
                raise RelaxInputError(f"{name} must be a mapping, got {type(value).__name__}")
            setattr(self, name, dict(value))
        ediffg = self.incar_overrides.get("EDIFFG")
        if ediffg is not None and not float(ediffg) < 0:
            raise RelaxInputError(
                f"EDIFFG override {ediffg!r} is not a force criterion: give a negative value "
                "in eV/Å, e.g. -0.03"
            )

    @classmethod
    def from_legacy(
        cls,
        fmax: float | None = None,
        relax_cell: bool = True,
        nsw: int | None = None,
        pre_relax: str | None = None,
        user_incar_settings: Mapping | None = None,
        user_kpoints_settings: Mapping | None = None,
        user_potcar_settings: Mapping | None = None,
        run_vasp_kwargs: Mapping | None = None,
    ) -> VaspRelaxSettings:
        """Settings from the keyword names of ``get_relax_maker("vasp", ...)``.

        ``fmax`` (eV/Å) becomes an explicit EDIFFG override when it differs from the published
        0.03; None keeps the published value.
        """
        incar = dict(user_incar_settings or {})
        if fmax is not None:
            if not float(fmax) > 0:
                raise RelaxInputError(f"fmax must be a positive force in eV/Å, got {fmax!r}")
            if abs(float(fmax) - abs(PUBLISHED_EDIFFG_EV_PER_A)) > 1e-12:
                incar.setdefault("EDIFFG", -abs(float(fmax)))
        return cls(
            nsw=DEFAULT_VASP_NSW if nsw is None else int(nsw),
            relax_cell=relax_cell,
            incar_overrides=incar,
            kpoints_overrides=dict(user_kpoints_settings or {}),
            potcar_overrides=dict(user_potcar_settings or {}),
            run_vasp_kwargs=dict(run_vasp_kwargs or {}),
            pre_relax=pre_relax,
        )

    @property
    def engine(self) -> str:
        """Name of the relaxer."""
        return "vasp"

    @property
    def force_criterion_eV_per_A(self) -> float | None:
        """Largest atomic force of a converged relaxation, eV/Å (|EDIFFG|; None when an
        override makes EDIFFG an energy criterion)."""
        ediffg = float(self.incar()["EDIFFG"])
        return abs(ediffg) if ediffg < 0 else None

    def incar(self) -> dict[str, Any]:
        """The INCAR keys this object sets: published values, ISIF from ``relax_cell``, NSW and
        the overrides (last wins)."""
        return {
            **PUBLISHED_INCAR,
            "ISIF": 3 if self.relax_cell else 2,
            "NSW": int(self.nsw),
            **self.incar_overrides,
        }

    def overrides_of_published(self) -> dict[str, tuple[Any, Any]]:
        """Published INCAR keys whose value these settings change: key -> (published, used)."""
        incar = self.incar()
        return {k: (v, incar[k]) for k, v in PUBLISHED_INCAR.items() if incar.get(k) != v}

    def log_overrides(self) -> None:
        """Log every departure from the published settings (a warning each)."""
        for key, (published, used) in self.overrides_of_published().items():
            logger.warning(
                "VASP %s = %r overrides the published %r (Zuo et al. 2026 SI): explicit user "
                "setting", key, used, published,
            )

    def settings_dict(self) -> dict[str, Any]:
        """JSON-friendly settings (for reports and cache keys), with the INCAR they give."""
        return {"engine": "vasp", **asdict(self), "incar": self.incar()}
