"""Tracer diffusion, Nernst–Einstein conductivity and Arrhenius fits from MD trajectories.

The science of the MD transport tier, as pure functions on pymatgen structures and numpy arrays:

* :func:`analyse_diffusion` – mean-squared displacement (MSD) of the mobile ion and its
  self-diffusion coefficient D* with a posterior distribution, from kinisi's Bayesian regression
  with the MSD covariance (McCluskey et al., *J. Chem. Theory Comput.* 2024, **20**, 5180,
  DOI 10.1021/acs.jctc.3c00308; kinisi, DOI 10.21105/joss.05984 for the package).
* :func:`nernst_einstein_S_per_cm` – conductivity σ = n q² D* / (k_B T H_R).
* :func:`arrhenius_fit` – D*(T) = D₀ exp(−E_a / k_B T) fitted to the posterior samples of every
  temperature (one straight-line fit of ln D* against 1/T per draw), so E_a and the extrapolated
  σ(300 K) carry the statistical uncertainty of the MD, as 95 % intervals.

Haven ratio. MD of one cell gives the tracer D* well and the charge diffusivity D_σ poorly (one
collective displacement per cell). The conductivity here uses D* with an *assumed* Haven ratio
H_R = D*/D_σ = 1 (uncorrelated ions). Measured and simulated Haven ratios of NASICON-type
conductors are below 1 (concerted Na migration), so σ from D* with H_R = 1 is expected to
*underestimate* the ionic conductivity; the assumed value is stored in every document.

Units: D in cm²/s, σ in S/cm, temperatures in K, energies in eV, times in ps unless named
otherwise, distances in Å.
"""

from __future__ import annotations

import math
import types
from collections.abc import Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, Field
from pymatgen.core import Structure

from nasicon_workflows.constants import BOLTZMANN_eV_PER_K, ELEMENTARY_CHARGE_C
from nasicon_workflows.errors import NasiconWorkflowsError

__all__ = [
    "ArrheniusFit",
    "DiffusionDocument",
    "DiffusionRegimeError",
    "TransportInputError",
    "analyse_diffusion",
    "arrhenius_fit",
    "check_temperatures",
    "mobile_indices",
    "nernst_einstein_S_per_cm",
    "plot_arrhenius",
    "plot_msd",
    "hop_distance_A",
]

#: Highest MD temperature accepted (K). NASICON frameworks decompose/melt well below this and
#: the universal force fields were trained on near-equilibrium DFT data (MPtrj).
MAX_TEMPERATURE_K = 2500.0
#: Lowest MD temperature accepted (K): below it no hop happens within any affordable MD run.
MIN_TEMPERATURE_K = 100.0
#: Confidence level of every interval.
CI_LEVEL = 0.95


class TransportInputError(NasiconWorkflowsError, ValueError):
    """Input that the MD transport tier cannot use (no mobile ion, bad temperatures, ...)."""


class DiffusionRegimeError(TransportInputError):
    """A trajectory too short (or too cold) to reach the diffusive regime of the mobile ion."""


class DiffusionDocument(BaseModel):
    """Tracer diffusion of the mobile ion at one temperature."""

    temperature_K: float
    mobile_ion: str
    n_mobile: int = Field(description="mobile ions in the cell")
    n_atoms: int
    volume_A3: float = Field(description="cell volume (NVT: constant)")
    n_frames: int = Field(description="frames of the production trajectory analysed")
    time_step_fs: float
    step_skip: int = Field(description="MD steps between stored frames")
    duration_ps: float = Field(description="length of the analysed production trajectory")
    start_dt_ps: float = Field(description="first time interval of the linear (diffusive) fit")
    msd_final_A2: float = Field(
        description="MSD of the mobile ion at the longest time interval (kinisi estimate)"
    )
    min_msd_A2: float = Field(
        description="MSD required for the diffusive regime (default: squared median nearest "
        "mobile-mobile distance, i.e. about one hop per ion)"
    )
    diffusive: bool = Field(description="msd_final_A2 >= min_msd_A2")
    D_cm2_per_s: float | None = Field(None, description="posterior median of D*")
    D_std_cm2_per_s: float | None = None
    D_ci95_cm2_per_s: tuple[float, float] | None = None
    sigma_S_per_cm: float | None = Field(
        None, description="Nernst–Einstein conductivity from D* (median), H_R assumed"
    )
    sigma_ci95_S_per_cm: tuple[float, float] | None = None
    haven_ratio_assumed: float = 1.0
    D_samples_cm2_per_s: list[float] = Field(
        default_factory=list, description="posterior samples of D* (for the Arrhenius fit)"
    )
    msd_time_ps: list[float] = Field(default_factory=list)
    msd_A2: list[float] = Field(default_factory=list)
    msd_std_A2: list[float] = Field(default_factory=list)
    note: str = ""


class ArrheniusFit(BaseModel):
    """Arrhenius fit of D*(T) with intervals propagated from the posterior of every D*."""

    temperatures_K: list[float]
    Ea_eV: float = Field(description="median over the posterior draws")
    Ea_ci95_eV: tuple[float, float]
    log10_D0_cm2_per_s: float
    D_300K_cm2_per_s: float
    D_300K_ci95_cm2_per_s: tuple[float, float]
    sigma_300K_S_cm: float = Field(description="Nernst–Einstein σ(300 K) from extrapolated D*")
    sigma_300K_ci95_S_cm: tuple[float, float]
    haven_ratio_assumed: float = 1.0
    n_draws: int
    method: str = (
        "per draw: one posterior sample of D* at every temperature, least-squares line "
        "ln D* = ln D0 - Ea/(k_B T); median and 2.5/97.5 percentiles over the draws"
    )


def check_temperatures(temperatures_K: Sequence[float]) -> list[float]:
    """Validated MD temperatures in K, ascending.

    Parameters
    ----------
    temperatures_K
        One or more distinct finite temperatures between 100 and 2500 K.

    Returns
    -------
    list of float
        The temperatures, sorted.

    Raises
    ------
    TransportInputError
        Empty, non-numeric, non-finite, out of range or repeated temperatures.
    """
    try:
        temps = [float(t) for t in temperatures_K]
    except (TypeError, ValueError) as exc:
        raise TransportInputError(
            f"temperatures must be numbers in K, got {temperatures_K!r}"
        ) from exc
    if not temps:
        raise TransportInputError("give at least one MD temperature in K (e.g. 800 1000 1200)")
    for t in temps:
        if not math.isfinite(t) or not MIN_TEMPERATURE_K <= t <= MAX_TEMPERATURE_K:
            raise TransportInputError(
                f"MD temperature {t} K is outside {MIN_TEMPERATURE_K:g}-{MAX_TEMPERATURE_K:g} K; "
                "NASICON Na diffusion is sampled between ~600 and ~1500 K"
            )
    if len(set(temps)) != len(temps):
        raise TransportInputError(f"MD temperatures are repeated: {temps}; give distinct values")
    return sorted(temps)


def mobile_indices(structure: Structure, mobile_ion: str = "Na") -> list[int]:
    """Indices of the sites occupied by the mobile element.

    Raises
    ------
    TransportInputError
        If the structure has no site of that element.
    """
    idx = [i for i, site in enumerate(structure) if site.specie.symbol == mobile_ion]
    if not idx:
        raise TransportInputError(
            f"the structure {structure.composition.reduced_formula} has no {mobile_ion} ion; "
            f"the MD transport tier needs the mobile ion ({mobile_ion}) in the cell"
        )
    return idx


def hop_distance_A(structure: Structure, mobile_ion: str = "Na") -> float:
    """Typical hop length (Å): the median over mobile ions of the distance to the nearest other
    mobile ion (periodic). The median, not the minimum, so that one close pair in a thermal
    snapshot does not set the scale."""
    idx = mobile_indices(structure, mobile_ion)
    if len(idx) == 1:
        # One ion: the distance to its own periodic image.
        return float(min(structure.lattice.abc))
    coords = structure.frac_coords[idx]
    d = structure.lattice.get_all_distances(coords, coords)
    np.fill_diagonal(d, np.inf)
    return float(np.median(d.min(axis=1)))


def nernst_einstein_S_per_cm(
    D_cm2_per_s: float | np.ndarray,
    n_mobile: int,
    volume_A3: float,
    temperature_K: float,
    charge: float = 1.0,
    haven_ratio: float = 1.0,
) -> float | np.ndarray:
    """Nernst–Einstein conductivity σ = n (z e)² D* / (k_B T H_R) in S/cm.

    Parameters
    ----------
    D_cm2_per_s
        Tracer diffusion coefficient(s) in cm²/s.
    n_mobile
        Mobile ions in the cell.
    volume_A3
        Cell volume in Å³.
    temperature_K
        Temperature in K.
    charge
        Charge number z of the mobile ion (1 for Na⁺).
    haven_ratio
        H_R = D*/D_σ; 1 assumes uncorrelated ions.
    """
    n_per_cm3 = n_mobile / (volume_A3 * 1e-24)
    q = charge * ELEMENTARY_CHARGE_C
    kT_J = BOLTZMANN_eV_PER_K * temperature_K * ELEMENTARY_CHARGE_C
    return n_per_cm3 * q**2 * np.asarray(D_cm2_per_s) / (kT_J * haven_ratio)


def _as_structures(trajectory: Any) -> list[Structure]:
    """Structures of a pymatgen Trajectory (or its dict), or a list of structures."""
    if isinstance(trajectory, dict):
        from pymatgen.core.trajectory import Trajectory

        trajectory = Trajectory.from_dict(trajectory)
    if hasattr(trajectory, "get_structure"):
        return [trajectory.get_structure(i) for i in range(len(trajectory))]
    structures = list(trajectory)
    if not structures or not all(isinstance(s, Structure) for s in structures):
        raise TransportInputError(
            "expected a pymatgen Trajectory or a list of Structures for the diffusion analysis"
        )
    return structures


def _interval(samples: np.ndarray) -> tuple[float, float]:
    lo, hi = np.percentile(samples, [50 * (1 - CI_LEVEL), 100 - 50 * (1 - CI_LEVEL)])
    return float(lo), float(hi)


def analyse_diffusion(
    trajectory: Any,
    temperature_K: float,
    time_step_fs: float,
    step_skip: int,
    mobile_ion: str = "Na",
    start_fraction: float = 0.2,
    min_msd_A2: float | None = None,
    n_intervals: int = 50,
    n_samples: int = 500,
    require_diffusive: bool = True,
    haven_ratio: float = 1.0,
    seed: int = 0,
) -> DiffusionDocument:
    """MSD and tracer diffusion coefficient of the mobile ion from one NVT trajectory.

    Parameters
    ----------
    trajectory
        pymatgen ``Trajectory`` (atomate2's MD output), its dict, or a list of Structures with
        the same lattice, one per stored frame. Coordinates may be wrapped or unwrapped; kinisi
        unwraps frame-to-frame displacements (the frames must be close enough in time that no
        ion moves by half a cell between two frames).
    temperature_K
        Thermostat temperature.
    time_step_fs
        MD time step.
    step_skip
        MD steps between stored frames.
    mobile_ion
        Element whose diffusion is measured; the other atoms define the drift correction.
    start_fraction
        The linear fit starts at this fraction of the trajectory length (skips the ballistic
        and caged regime at short times).
    min_msd_A2
        MSD the mobile ion must reach at the longest interval for the run to count as
        diffusive. Default: the square of :func:`hop_distance_A` of the first frame (median
        nearest mobile-mobile distance), i.e. about one hop per ion.
    n_intervals
        Number of time intervals (evenly spaced) at which the MSD is evaluated.
    n_samples
        MCMC samples per walker of kinisi's Bayesian regression (32 walkers, thinned by 10).
    require_diffusive
        Raise :class:`DiffusionRegimeError` for a non-diffusive run; otherwise return the MSD
        with ``diffusive=False`` and no D.
    haven_ratio
        Assumed Haven ratio for the Nernst–Einstein conductivity.
    seed
        Seed of the MCMC.

    Returns
    -------
    DiffusionDocument
    """
    import scipp as sc
    from kinisi.analyze import DiffusionAnalyzer

    check_temperatures([temperature_K])
    if not time_step_fs > 0 or int(step_skip) < 1:
        raise TransportInputError(
            f"time step ({time_step_fs} fs) must be > 0 and step_skip ({step_skip}) >= 1"
        )
    if not 0 < start_fraction < 1:
        raise TransportInputError(f"start_fraction must lie in (0, 1), got {start_fraction}")
    structures = _as_structures(trajectory)
    first = structures[0]
    n_mobile = len(mobile_indices(first, mobile_ion))
    if n_mobile == len(first):
        raise TransportInputError(
            f"every atom is {mobile_ion}; the drift correction needs a framework"
        )
    n_frames = len(structures)
    min_frames = max(10, 2 * int(1 / start_fraction))
    frame_dt_fs = time_step_fs * int(step_skip)
    duration_ps = (n_frames - 1) * frame_dt_fs / 1000.0
    hop_A = hop_distance_A(first, mobile_ion)
    min_msd = float(hop_A**2 if min_msd_A2 is None else min_msd_A2)
    if n_frames < min_frames:
        raise DiffusionRegimeError(
            f"the trajectory at {temperature_K:g} K has {n_frames} frames ({duration_ps:.3g} ps); "
            f"at least {min_frames} are needed for an MSD fit - run longer production MD"
        )
    # kinisi's MSD at evenly spaced intervals (a subset keeps the covariance matrix small).
    n_int = int(min(n_intervals, n_frames - 1))
    steps = np.unique(np.linspace(1, n_frames - 1, n_int).round().astype(int))
    dt = sc.array(dims=["time interval"], values=steps * frame_dt_fs, unit="fs")
    analyzer = DiffusionAnalyzer.from_xdatcar(
        types.SimpleNamespace(structures=structures),
        # Indices, not a species string: kinisi matches str(site.specie), "Na+" with oxidation
        # states. Every other atom is the framework whose drift is removed.
        specie=None,
        specie_indices=sc.array(dims=["particle"], values=mobile_indices(first, mobile_ion)),
        time_step=sc.scalar(float(time_step_fs), unit="fs"),
        step_skip=sc.scalar(int(step_skip)),
        dt=dt,
        progress=False,
    )
    time_ps = analyzer.da.coords["time interval"].values / 1000.0
    msd = analyzer.da.data.values
    msd_std = np.sqrt(analyzer.da.data.variances) if analyzer.da.data.variances is not None \
        else np.zeros_like(msd)
    start_ps = start_fraction * duration_ps
    doc = dict(
        temperature_K=float(temperature_K), mobile_ion=mobile_ion, n_mobile=n_mobile,
        n_atoms=len(first), volume_A3=float(first.volume), n_frames=n_frames,
        time_step_fs=float(time_step_fs), step_skip=int(step_skip), duration_ps=duration_ps,
        start_dt_ps=float(start_ps), msd_final_A2=float(msd[-1]), min_msd_A2=min_msd,
        haven_ratio_assumed=float(haven_ratio), msd_time_ps=time_ps.tolist(),
        msd_A2=msd.tolist(), msd_std_A2=msd_std.tolist(),
    )
    if msd[-1] < min_msd:
        msg = (
            f"{mobile_ion} MSD reaches only {msd[-1]:.2f} Å² in {duration_ps:.3g} ps at "
            f"{temperature_K:g} K, below the {min_msd:.2f} Å² of about one hop per ion "
            f"(median nearest {mobile_ion}-{mobile_ion} distance {hop_A:.2f} Å): the run is too short "
            "or too cold for the diffusive regime - run longer or hotter"
        )
        if require_diffusive:
            raise DiffusionRegimeError(msg)
        return DiffusionDocument(diffusive=False, note=msg, **doc)
    if int((time_ps >= start_ps).sum()) < 3:
        raise DiffusionRegimeError(
            f"fewer than 3 MSD intervals after the fit start {start_ps:.3g} ps; lower "
            "start_fraction or store more frames"
        )
    analyzer.diffusion(
        sc.scalar(start_ps * 1000.0, unit="fs"), n_samples=int(n_samples), n_walkers=32,
        n_burn=200, n_thin=10, progress=False, random_state=np.random.RandomState(seed),
    )
    samples = np.asarray(analyzer.D.values, dtype=float)  # kinisi converts to cm^2/s
    sigma = nernst_einstein_S_per_cm(samples, n_mobile, first.volume, temperature_K,
                                     haven_ratio=haven_ratio)
    rng = np.random.default_rng(seed)
    keep = samples if len(samples) <= 1000 else rng.choice(samples, 1000, replace=False)
    return DiffusionDocument(
        diffusive=True,
        D_cm2_per_s=float(np.median(samples)),
        D_std_cm2_per_s=float(np.std(samples)),
        D_ci95_cm2_per_s=_interval(samples),
        sigma_S_per_cm=float(np.median(sigma)),
        sigma_ci95_S_per_cm=_interval(sigma),
        D_samples_cm2_per_s=keep.tolist(),
        note=f"kinisi Bayesian MSD regression from {start_ps:.3g} ps; H_R = {haven_ratio:g} "
        "assumed for σ",
        **doc,
    )


def arrhenius_fit(
    results: Sequence[DiffusionDocument],
    n_draws: int = 4000,
    seed: int = 0,
    temperature_K: float = 300.0,
) -> ArrheniusFit:
    """Arrhenius E_a and extrapolated D*(300 K), σ(300 K) with 95 % intervals.

    Parameters
    ----------
    results
        Diffusive results at two or more distinct temperatures.
    n_draws
        Posterior draws propagated through the fit.
    seed
        Seed of the draws.
    temperature_K
        Extrapolation temperature (300 K).

    Raises
    ------
    TransportInputError
        Fewer than two diffusive temperatures, or missing posterior samples.
    """
    usable = [r for r in results if r.diffusive and r.D_samples_cm2_per_s]
    temps = sorted({r.temperature_K for r in usable})
    if len(temps) < 2 or len(temps) != len(usable):
        raise TransportInputError(
            f"an Arrhenius fit needs diffusive runs at two or more distinct temperatures; got "
            f"{[r.temperature_K for r in usable]} K"
        )
    usable = sorted(usable, key=lambda r: r.temperature_K)
    rng = np.random.default_rng(seed)
    inv_kT = 1.0 / (BOLTZMANN_eV_PER_K * np.array(temps))
    draws = np.stack([rng.choice(np.asarray(r.D_samples_cm2_per_s), n_draws) for r in usable])
    if (draws <= 0).any():
        draws = np.clip(draws, np.finfo(float).tiny, None)
    ln_d = np.log(draws)  # (n_T, n_draws)
    design = np.column_stack([np.ones_like(inv_kT), -inv_kT])
    coef, *_ = np.linalg.lstsq(design, ln_d, rcond=None)  # rows: ln D0, Ea
    ln_d0, ea = coef
    d300 = np.exp(ln_d0 - ea / (BOLTZMANN_eV_PER_K * temperature_K))
    # The cell's Na density at 300 K is taken as that of the MD cell (NVT, one volume).
    ref = usable[0]
    s300 = nernst_einstein_S_per_cm(d300, ref.n_mobile, ref.volume_A3, temperature_K,
                                    haven_ratio=ref.haven_ratio_assumed)
    return ArrheniusFit(
        temperatures_K=temps,
        Ea_eV=float(np.median(ea)),
        Ea_ci95_eV=_interval(ea),
        log10_D0_cm2_per_s=float(np.median(ln_d0) / np.log(10)),
        D_300K_cm2_per_s=float(np.median(d300)),
        D_300K_ci95_cm2_per_s=_interval(d300),
        sigma_300K_S_cm=float(np.median(s300)),
        sigma_300K_ci95_S_cm=_interval(s300),
        haven_ratio_assumed=ref.haven_ratio_assumed,
        n_draws=int(n_draws),
    )


def plot_msd(results: Sequence[DiffusionDocument], path) -> Any:
    """MSD of the mobile ion against time, one curve per temperature, with the fitted lines.

    Written atomically (:func:`~nasicon_workflows.fileio.atomic_savefig`); returns the path.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nasicon_workflows.fileio import atomic_savefig

    fig, ax = plt.subplots(figsize=(5.5, 4))
    for r in sorted(results, key=lambda r: r.temperature_K):
        t = np.asarray(r.msd_time_ps)
        y = np.asarray(r.msd_A2)
        line, = ax.plot(t, y, label=f"{r.temperature_K:g} K")
        if r.msd_std_A2:
            s = np.asarray(r.msd_std_A2)
            ax.fill_between(t, y - s, y + s, color=line.get_color(), alpha=0.2)
        if r.diffusive and r.D_cm2_per_s:
            # 6 D t in Å²: D [cm²/s] * 1e16 Å²/cm² * 1e-12 s/ps
            tt = t[t >= r.start_dt_ps]
            ax.plot(tt, 6 * r.D_cm2_per_s * 1e4 * tt + (y[t >= r.start_dt_ps][0]
                    - 6 * r.D_cm2_per_s * 1e4 * tt[0]), "--", color=line.get_color(), lw=1)
    if results:
        ax.axhline(results[0].min_msd_A2, color="grey", lw=0.8, ls=":",
                   label="≈ one hop per ion")
    ax.set_xlabel("time interval (ps)")
    ax.set_ylabel(f"{results[0].mobile_ion if results else ''} MSD (Å²)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    out = atomic_savefig(fig, path)
    plt.close(fig)
    return out


def plot_arrhenius(
    results: Sequence[DiffusionDocument], fit: ArrheniusFit | None, path
) -> Any:
    """log10 D* against 1000/T with 95 % intervals and the Arrhenius line, written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nasicon_workflows.fileio import atomic_savefig

    fig, ax = plt.subplots(figsize=(5, 4))
    ok = [r for r in results if r.diffusive and r.D_cm2_per_s]
    if ok:
        x = np.array([1000.0 / r.temperature_K for r in ok])
        y = np.array([r.D_cm2_per_s for r in ok])
        lo = np.array([r.D_ci95_cm2_per_s[0] for r in ok])
        hi = np.array([r.D_ci95_cm2_per_s[1] for r in ok])
        ax.errorbar(x, y, yerr=[y - lo, hi - y], fmt="o", capsize=3, label="MD D* (95 % CI)")
    if fit is not None:
        xs = np.linspace(1000.0 / max(fit.temperatures_K), 1000.0 / 300.0, 50)
        ys = 10**fit.log10_D0_cm2_per_s * np.exp(-fit.Ea_eV * xs / 1000.0 / BOLTZMANN_eV_PER_K)
        lo_e, hi_e = fit.Ea_ci95_eV
        ax.plot(xs, ys, "--", label=f"Ea = {fit.Ea_eV:.2f} eV [{lo_e:.2f}, {hi_e:.2f}]")
    ax.set_yscale("log")
    ax.set_xlabel("1000 / T (1/K)")
    ax.set_ylabel("D* (cm²/s)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    out = atomic_savefig(fig, path)
    plt.close(fig)
    return out
