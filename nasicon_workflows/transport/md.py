"""Machine-learned molecular dynamics transport tier (accurate, built for a GPU or HPC worker).

:class:`MDTransportMaker` builds a jobflow ``Flow`` on atomate2's ``ForceFieldMDMaker``: for every
temperature an NVT equilibration job and an NVT production job (CHGNet by default, SevenNet
optional), then one analysis job that turns the production trajectories into tracer D*(T) with
posterior intervals (kinisi), Nernst–Einstein conductivities (Haven ratio assumed 1, see
:mod:`nasicon_workflows.transport.diffusion`), the Arrhenius E_a and σ(300 K) with 95 % intervals.

Trajectories follow the atomate2 convention: ``ForceFieldMDMaker.make`` is a job with
``data=["trajectory", "ionic_steps"]``, so the production trajectories are written to the jobflow
``data`` store (GridFS / S3 / a file store on HPC) and the analysis job receives them through
output references; the task documents in the main store stay small.

Use in a flow (e.g. after a relaxation, the screen's ``--md TOP_N``)::

    relax = get_relax_maker("chgnet").make(structure)
    md = MDTransportMaker(temperatures_K=(800, 1000, 1200)).make(relax.output.structure)
    flow = Flow([relax, md], output=md.output)

or locally, synchronously: :func:`run_md_transport`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from jobflow import Flow, Maker, job
from pydantic import BaseModel, Field
from pymatgen.core import Structure

from nasicon_workflows.transport.diffusion import (
    ArrheniusFit,
    DiffusionDocument,
    DiffusionRegimeError,
    TransportInputError,
    analyse_diffusion,
    arrhenius_fit,
    check_temperatures,
    mobile_indices,
)

__all__ = [
    "DEFAULT_TEMPERATURES_K",
    "MD_FORCE_FIELDS",
    "MDTransportDocument",
    "MDTransportMaker",
    "analyse_md_transport",
    "load_md_cpu_measurements",
    "md_cpu_cost",
    "run_md_transport",
]

logger = logging.getLogger(__name__)

#: Default NVT temperatures (K): hot enough for Na hops within ~50 ps in NZSP-type cells,
#: below the ~1500 K where the framework starts to lose its integrity in force-field MD.
DEFAULT_TEMPERATURES_K = (700.0, 850.0, 1000.0, 1150.0)
#: Force fields the MD tier accepts (names of :mod:`nasicon_workflows.relax.availability`).
MD_FORCE_FIELDS = ("chgnet", "sevennet")


class MDTransportDocument(BaseModel):
    """Na⁺ transport from machine-learned NVT molecular dynamics at several temperatures."""

    formula: str
    n_atoms: int
    mobile_ion: str
    force_field: str
    temperatures_K: list[float]
    per_temperature: list[DiffusionDocument]
    arrhenius: ArrheniusFit | None = None
    Ea_eV: float | None = Field(None, description="Arrhenius activation energy of D*")
    Ea_ci95_eV: tuple[float, float] | None = None
    sigma_300K_S_cm: float | None = Field(
        None, description="Nernst–Einstein σ(300 K) extrapolated from the Arrhenius fit"
    )
    sigma_300K_ci95_S_cm: tuple[float, float] | None = None
    haven_ratio_assumed: float = 1.0
    settings: dict[str, Any] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)

    @property
    def n_diffusive(self) -> int:
        """Temperatures that reached the diffusive regime."""
        return sum(r.diffusive for r in self.per_temperature)

    def summary(self) -> dict[str, Any]:
        """Per-temperature table and Arrhenius results without samples and MSD curves."""
        drop = {"D_samples_cm2_per_s", "msd_time_ps", "msd_A2", "msd_std_A2"}
        return {
            "formula": self.formula, "n_atoms": self.n_atoms, "mobile_ion": self.mobile_ion,
            "force_field": self.force_field, "temperatures_K": self.temperatures_K,
            "per_temperature": [r.model_dump(exclude=drop) for r in self.per_temperature],
            "Ea_eV": self.Ea_eV, "Ea_ci95_eV": self.Ea_ci95_eV,
            "sigma_300K_S_cm": self.sigma_300K_S_cm,
            "sigma_300K_ci95_S_cm": self.sigma_300K_ci95_S_cm,
            "haven_ratio_assumed": self.haven_ratio_assumed,
            "settings": self.settings, "warnings": self.warnings,
        }


def _check_structure(structure: Any, mobile_ion: str) -> Structure:
    from nasicon_workflows.relax.forcefield import validate_structure
    from nasicon_workflows.relax.errors import RelaxInputError

    try:
        validate_structure(structure)
    except RelaxInputError as exc:
        raise TransportInputError(str(exc)) from exc
    mobile_indices(structure, mobile_ion)
    return structure


@job(name="md transport analysis", output_schema=MDTransportDocument)
def analyse_md_transport(
    trajectories: list[Any],
    temperatures_K: list[float],
    time_step_fs: float,
    step_skip: int,
    mobile_ion: str = "Na",
    force_field: str = "chgnet",
    start_fraction: float = 0.2,
    min_msd_A2: float | None = None,
    haven_ratio: float = 1.0,
    settings: dict | None = None,
    seed: int = 0,
) -> MDTransportDocument:
    """D*(T), σ(T), Arrhenius E_a and σ(300 K) from one production trajectory per temperature.

    Temperatures whose run did not reach the diffusive regime are kept in the document
    (``diffusive=False``, MSD only) and left out of the Arrhenius fit, with a warning.

    Parameters
    ----------
    trajectories
        pymatgen Trajectories (atomate2 MD output, resolved from the data store), one per
        temperature, in the order of ``temperatures_K``.
    temperatures_K, time_step_fs, step_skip, mobile_ion, start_fraction, min_msd_A2, haven_ratio
        See :func:`~nasicon_workflows.transport.diffusion.analyse_diffusion`.
    force_field
        Name recorded in the document.
    settings
        MD settings recorded in the document.
    seed
        Seed of the MCMC and of the Arrhenius draws.
    """
    if len(trajectories) != len(temperatures_K):
        raise TransportInputError(
            f"{len(trajectories)} trajectories for {len(temperatures_K)} temperatures"
        )
    results: list[DiffusionDocument] = []
    warnings: list[str] = []
    for i, (traj, temp) in enumerate(zip(trajectories, temperatures_K)):
        res = analyse_diffusion(
            traj, temp, time_step_fs, step_skip, mobile_ion=mobile_ion,
            start_fraction=start_fraction, min_msd_A2=min_msd_A2, require_diffusive=False,
            haven_ratio=haven_ratio, seed=seed + i,
        )
        if not res.diffusive:
            warnings.append(res.note)
        results.append(res)
    first = results[0]
    fit = None
    n_ok = sum(r.diffusive for r in results)
    if n_ok >= 2:
        fit = arrhenius_fit(results, seed=seed)
        if n_ok < 3:
            warnings.append(
                "Arrhenius fit on 2 temperatures: the interval holds the MD statistics only, "
                "no check of linearity is possible"
            )
    else:
        warnings.append(
            f"{n_ok} temperature(s) reached the diffusive regime; E_a and σ(300 K) need two or more"
        )
    formula = (settings or {}).get("formula") or f"{first.n_atoms}-atom cell"
    return MDTransportDocument(
        formula=formula,
        n_atoms=first.n_atoms,
        mobile_ion=mobile_ion,
        force_field=force_field,
        temperatures_K=[float(t) for t in temperatures_K],
        per_temperature=results,
        arrhenius=fit,
        Ea_eV=fit.Ea_eV if fit else None,
        Ea_ci95_eV=fit.Ea_ci95_eV if fit else None,
        sigma_300K_S_cm=fit.sigma_300K_S_cm if fit else None,
        sigma_300K_ci95_S_cm=fit.sigma_300K_ci95_S_cm if fit else None,
        haven_ratio_assumed=haven_ratio,
        settings=settings or {},
        warnings=warnings,
    )


@dataclass
class MDTransportMaker(Maker):
    """NVT machine-learned MD at several temperatures and the Na⁺ transport analysis.

    Parameters
    ----------
    name
        Flow name.
    force_field
        "chgnet" (default; weights ship in the wheel) or "sevennet" (optional extra; fails
        with a clear error before any job is built when sevenn is not installed).
    temperatures_K
        NVT temperatures in K (100-2500, distinct).
    time_step_fs
        MD time step (2 fs: no hydrogen in NASICONs).
    n_equilibration_steps
        Langevin NVT steps discarded before production (default 2500 = 5 ps).
    n_production_steps
        Production steps analysed (default 25000 = 50 ps).
    traj_interval
        MD steps between stored frames of the production trajectory (10 = 20 fs).
    friction_per_fs
        Langevin friction (atomate2's default 10 ps⁻¹ = 0.01 fs⁻¹, VASP's LANGEVIN_GAMMA).
        Friction damps the dynamics; lower it (e.g. 0.001) for production if D should be
        closer to the unthermostatted value.
    mobile_ion
        Element whose transport is measured.
    start_fraction
        Start of the linear MSD fit as a fraction of the production length.
    min_msd_A2
        MSD needed for the diffusive regime (default: squared median nearest Na–Na distance).
    haven_ratio
        Assumed Haven ratio of the Nernst–Einstein conductivity (1: uncorrelated ions).
    seed
        Seed of the initial velocities, the Langevin noise is ASE's own, the MCMC.
    device
        Torch device of the force field ("cpu", "cuda", "cuda:1"). None: the calculator's own
        choice - CHGNet and SevenNet both take a CUDA GPU when torch sees one.
    calculator_kwargs
        Extra keyword arguments of the ASE calculator.
    """

    name: str = "md transport"
    force_field: str = "chgnet"
    temperatures_K: tuple[float, ...] = DEFAULT_TEMPERATURES_K
    time_step_fs: float = 2.0
    n_equilibration_steps: int = 2500
    n_production_steps: int = 25000
    traj_interval: int = 10
    friction_per_fs: float = 0.01
    mobile_ion: str = "Na"
    start_fraction: float = 0.2
    min_msd_A2: float | None = None
    haven_ratio: float = 1.0
    seed: int = 0
    device: str | None = None
    calculator_kwargs: dict = field(default_factory=dict)

    def check(self) -> list[float]:
        """Validate the settings and the force field's availability; return the temperatures.

        Raises
        ------
        TransportInputError
            Unknown force field or bad settings.
        ForceFieldUnavailableError
            The force field's package or weights are missing (e.g. SevenNet not installed).
        """
        from nasicon_workflows.relax.availability import check_relax_available

        key = str(self.force_field).lower()
        if key not in MD_FORCE_FIELDS:
            raise TransportInputError(
                f"force field {self.force_field!r} is not supported by the MD tier; choose "
                f"{' or '.join(MD_FORCE_FIELDS)}"
            )
        check_relax_available(key)
        temps = check_temperatures(self.temperatures_K)
        if not self.time_step_fs > 0 or self.time_step_fs > 5:
            raise TransportInputError(f"time_step_fs must be in (0, 5] fs, got {self.time_step_fs}")
        if int(self.n_equilibration_steps) < 0 or int(self.traj_interval) < 1:
            raise TransportInputError("n_equilibration_steps >= 0 and traj_interval >= 1 needed")
        frames = int(self.n_production_steps) // int(self.traj_interval)
        if frames < 10:
            raise DiffusionRegimeError(
                f"{self.n_production_steps} production steps stored every {self.traj_interval} "
                f"give {frames} frames; an MSD fit needs at least 10 - run longer production MD"
            )
        if not self.friction_per_fs > 0:
            raise TransportInputError(f"friction_per_fs must be > 0, got {self.friction_per_fs}")
        return temps

    def _md_maker(self, name: str, temperature: float, n_steps: int, seed: int, store: bool):
        from ase import units
        from atomate2.forcefields.md import ForceFieldMDMaker
        from emmet.core.types.enums import StoreTrajectoryOption

        from nasicon_workflows.relax.availability import FORCE_FIELDS

        key = self.force_field.lower()
        spec = FORCE_FIELDS[key]
        calc_kwargs = {**spec.calculator_kwargs, **self.calculator_kwargs}
        if self.device:
            # CHGNetCalculator(use_device=...), SevenNetCalculator(device=...)
            calc_kwargs["use_device" if key == "chgnet" else "device"] = self.device
        return ForceFieldMDMaker(
            name=name,
            force_field_name=spec.mlff,
            calculator_kwargs=calc_kwargs,
            ensemble="nvt",
            dynamics="langevin",
            temperature=float(temperature),
            time_step=float(self.time_step_fs),
            n_steps=int(n_steps),
            ase_md_kwargs={"friction": float(self.friction_per_fs) / units.fs},
            traj_interval=int(self.traj_interval) if store else max(int(n_steps), 1),
            store_trajectory=StoreTrajectoryOption.PARTIAL if store else StoreTrajectoryOption.NO,
            mb_velocity_seed=seed,
            zero_linear_momentum=True,
        )

    def make(self, structure: Structure) -> Flow:
        """Equilibration and production at every temperature, then the analysis.

        Parameters
        ----------
        structure
            Ordered, relaxed cell containing the mobile ion (a Structure or an output
            reference, e.g. ``relax_job.output.structure``).

        Returns
        -------
        Flow
            Output: :class:`MDTransportDocument`.
        """
        temps = self.check()
        if isinstance(structure, Structure):
            _check_structure(structure, self.mobile_ion)
            formula = structure.composition.reduced_formula
        else:
            formula = None
        jobs, trajectories = [], []
        for i, temp in enumerate(temps):
            start = structure
            if self.n_equilibration_steps > 0:
                equil = self._md_maker(f"md equilibration {temp:g} K", temp,
                                       self.n_equilibration_steps, self.seed + i, store=False)
                equil_job = equil.make(structure)
                jobs.append(equil_job)
                start = equil_job.output.structure
            # The production run redraws Maxwell-Boltzmann velocities at the same T (atomate2
            # reads "velocities", the relaxed/equilibrated structure carries "momenta").
            prod = self._md_maker(f"md production {temp:g} K", temp, self.n_production_steps,
                                  self.seed + 100 + i, store=True)
            prod_job = prod.make(start)
            jobs.append(prod_job)
            trajectories.append(prod_job.output.objects["trajectory"])
        settings = {
            "formula": formula,
            "force_field": self.force_field,
            "ensemble": "NVT",
            "thermostat": "Langevin (ASE), atomate2 ForceFieldMDMaker",
            "friction_per_fs": self.friction_per_fs,
            "time_step_fs": self.time_step_fs,
            "n_equilibration_steps": self.n_equilibration_steps,
            "n_production_steps": self.n_production_steps,
            "production_ps": self.n_production_steps * self.time_step_fs / 1000.0,
            "traj_interval": self.traj_interval,
            "start_fraction": self.start_fraction,
            "seed": self.seed,
            "device": self.device or "auto",
            "diffusion_analysis": "kinisi Bayesian MSD regression",
        }
        analysis = analyse_md_transport(
            trajectories, temps, self.time_step_fs, self.traj_interval,
            mobile_ion=self.mobile_ion, force_field=self.force_field,
            start_fraction=self.start_fraction, min_msd_A2=self.min_msd_A2,
            haven_ratio=self.haven_ratio, settings=settings, seed=self.seed,
        )
        jobs.append(analysis)
        return Flow(jobs, output=analysis.output, name=self.name)


def run_md_transport(
    structure: Structure, maker: MDTransportMaker | None = None, **kwargs: Any
) -> MDTransportDocument:
    """Run :class:`MDTransportMaker` locally (in memory) on one relaxed structure.

    This is the entry point for the screen's ``--md TOP_N``: call it on each of the top-N
    relaxed cells (or add ``MDTransportMaker().make(relax.output.structure)`` to the HPC flow).

    Parameters
    ----------
    structure
        Ordered relaxed cell with Na.
    maker
        The maker; default ``MDTransportMaker(**kwargs)``.
    **kwargs
        Fields of :class:`MDTransportMaker` when no maker is given.

    Returns
    -------
    MDTransportDocument
    """
    from nasicon_workflows.relax.forcefield import run_job_locally

    maker = maker or MDTransportMaker(**kwargs)
    _check_structure(structure, maker.mobile_ion)
    flow = maker.make(structure)
    start = time.perf_counter()
    doc = run_job_locally(flow)
    logger.info("MD transport of %d atoms took %.1f s", len(structure), time.perf_counter() - start)
    if isinstance(doc, dict):
        doc = MDTransportDocument(**doc)
    return doc


def load_md_cpu_measurements() -> dict[str, Any]:
    """The MD tier's measured CPU cost and CPU outcome (``data/md_cpu_measurements.json``).

    Returns
    -------
    dict
        ``benchmark`` (CPU seconds per CHGNet step at 80 and 160 atoms, one thread, with the load
        during the measurement) and ``nzsp_cpu_run`` (the 3-ps NZSP run at 1200 K: final MSD,
        one-hop threshold, verdict), each with its source in docs/md.md.
    """
    import json
    from importlib import resources

    return json.loads(resources.files("nasicon_workflows.data")
                      .joinpath("md_cpu_measurements.json").read_text())


def md_cpu_cost(n_atoms: int, maker: MDTransportMaker | None = None) -> dict[str, Any]:
    """CPU time the MD protocol of ``maker`` would take for one cell of ``n_atoms`` atoms.

    The CPU seconds per step are the straight line through the two measured cell sizes of
    :func:`load_md_cpu_measurements` (80 and 160 atoms, one thread), evaluated at ``n_atoms``
    (an extrapolation outside 80-160 atoms, said so in ``basis``); the step count is the maker's
    temperatures x (equilibration + production steps).

    Parameters
    ----------
    n_atoms
        Atoms in the MD cell.
    maker
        The MD protocol (default: :class:`MDTransportMaker` defaults, 4 T x 27 500 steps).

    Returns
    -------
    dict
        ``n_steps``, ``cpu_s_per_step``, ``cpu_hours``, ``basis`` and ``source``.
    """
    import numpy as np

    maker = maker or MDTransportMaker()
    bench = load_md_cpu_measurements()["benchmark"]
    atoms = np.array([p["n_atoms"] for p in bench["points"]], dtype=float)
    rate = np.array([p["cpu_s_per_step"] for p in bench["points"]], dtype=float)
    slope, intercept = np.polyfit(atoms, rate, 1)
    per_step = float(slope * n_atoms + intercept)
    n_steps = len(maker.temperatures_K) * (int(maker.n_equilibration_steps)
                                           + int(maker.n_production_steps))
    inside = atoms.min() <= n_atoms <= atoms.max()
    return {
        "n_atoms": int(n_atoms), "n_steps": n_steps, "cpu_s_per_step": round(per_step, 3),
        "cpu_hours": round(n_steps * per_step / 3600.0, 1),
        "basis": (f"{'interpolated' if inside else 'extrapolated'} linearly in atoms from the "
                  f"measured {', '.join(f'{a:g}' for a in atoms)}-atom CPU time per step "
                  f"({', '.join(f'{r:g}' for r in rate)} CPU-s, one thread); "
                  f"{len(maker.temperatures_K)} temperatures x ({maker.n_equilibration_steps} + "
                  f"{maker.n_production_steps}) steps"),
        "source": bench["source"],
    }
