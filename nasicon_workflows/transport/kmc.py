"""Lattice kinetic Monte Carlo of Na+ in a NASICON cell: diffusivities, conductivity, Arrhenius fit.

Pipeline: :func:`~nasicon_workflows.transport.lattice.build_na_lattice` (sites, BVSE site and saddle
energies, Na-Na interaction) -> :func:`expand_lattice` (periodic KMC box, every perpendicular width
at least ``min_width_A``) -> :func:`run_kmc` (rejection-free KMC at one temperature, ``n_runs``
independent seeds) -> :func:`run_kmc_temperatures` (several temperatures and the Arrhenius fit).

Observables per run, from unwrapped displacements dr_p over blocks of simulated time tau
(averaged over blocks):

* tracer diffusivity D* = <sum_p |dr_p|^2> / (6 N tau);
* collective (charge, "jump") diffusivity D_sigma = <|sum_p dr_p|^2> / (6 N tau);
* Nernst-Einstein conductivity sigma = (N / V) e^2 D_sigma / (k_B T);
* Haven ratio H = D* / D_sigma.

Arrhenius: ln(sigma T) = ln A - E_a / (k_B T), least squares over the temperatures. The point
estimate fits the run-averaged sigma; the 95 % interval is the Student-t interval of the n_runs
fits that each use one independent run per temperature (run k at every temperature). sigma(300 K)
is the fit extrapolated to 300 K, with the interval obtained the same way.

Attempt frequency nu = 1e13 Hz by default, the usual order of a lattice-vibration frequency
(Vineyard, *J. Phys. Chem. Solids* 1957, 3, 121); E_a and the Haven ratio do not depend on it,
sigma scales with it linearly.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from jobflow import Maker, job
from pydantic import BaseModel, Field
from scipy import stats

from nasicon_workflows.constants import BOLTZMANN_eV_PER_K, ELEMENTARY_CHARGE_C
from nasicon_workflows.transport.errors import KMCSettingsError
from nasicon_workflows.transport.lattice import NaLattice, build_na_lattice, pair_interaction_eV

__all__ = [
    "ArrheniusFit",
    "KMCDocument",
    "KMCMaker",
    "KMCTemperatureResult",
    "arrhenius_fit",
    "expand_lattice",
    "run_kmc",
    "run_kmc_temperatures",
]

DEFAULT_NU_HZ = 1.0e13


@dataclass
class KMCBox:
    """Compiled-ready arrays of the periodic KMC box (CSR hop and interaction lists)."""

    occ0: np.ndarray
    site_e: np.ndarray
    hop_ptr: np.ndarray
    hop_dst: np.ndarray
    hop_vec: np.ndarray
    hop_kra: np.ndarray
    hop_v: np.ndarray
    int_ptr: np.ndarray
    int_nbr: np.ndarray
    int_v: np.ndarray
    volume_A3: float
    repetitions: tuple[int, int, int]

    @property
    def n_sites(self) -> int:
        return len(self.site_e)

    @property
    def n_mobile(self) -> int:
        return int(self.occ0.sum())


def _widths(matrix: np.ndarray) -> np.ndarray:
    volume = abs(np.linalg.det(matrix))
    return np.array([volume / np.linalg.norm(np.cross(matrix[(k + 1) % 3], matrix[(k + 2) % 3]))
                     for k in range(3)])


def expand_lattice(lattice: NaLattice, min_width_A: float = 20.0,
                   repetitions: Sequence[int] | None = None) -> KMCBox:
    """The periodic KMC box: ``lattice`` repeated until every perpendicular width >= min_width_A.

    Parameters
    ----------
    lattice
        The Na-site lattice of one cell.
    min_width_A
        Smallest perpendicular width of the box in Å (at least twice the interaction cutoff, so
        every pair within the cutoff is unique).
    repetitions
        Explicit repetitions along a, b, c (overrides ``min_width_A``).

    Returns
    -------
    KMCBox
    """
    matrix = lattice.lattice_matrix
    cutoff = float(lattice.interaction_params.get("cutoff_A", 0.0))
    widths = _widths(matrix)
    if repetitions is None:
        need = max(min_width_A, 2 * cutoff + 0.1)
        repetitions = tuple(int(max(1, math.ceil(need / w))) for w in widths)
    reps = np.array(repetitions, dtype=int)
    if np.any(reps < 1):
        raise KMCSettingsError(f"repetitions must be >= 1, got {tuple(reps)}")
    if cutoff > 0 and np.any(reps * widths <= 2 * cutoff):
        raise KMCSettingsError(
            f"the KMC box (widths {np.round(reps * widths, 1).tolist()} Å) must be wider than twice "
            f"the interaction cutoff ({cutoff} Å)"
        )
    n = lattice.n_sites
    n_cells = int(reps.prod())
    trans = np.array(np.meshgrid(*(np.arange(r) for r in reps), indexing="ij")).reshape(3, -1).T

    def index(site: np.ndarray, t: np.ndarray) -> np.ndarray:
        t = t % reps
        return ((t[:, 0] * reps[1] + t[:, 1]) * reps[2] + t[:, 2]) * n + site

    site_e = np.tile(lattice.site_energy_eV, n_cells)
    occ0 = np.tile(lattice.occupied.astype(np.int8), n_cells)
    vec = lattice.hop_vectors_A()
    length = np.linalg.norm(vec, axis=1)
    kra = lattice.hop_saddle_eV - 0.5 * (lattice.site_energy_eV[lattice.hop_i]
                                         + lattice.site_energy_eV[lattice.hop_j])
    v_hop = (pair_interaction_eV(length, lattice.interaction, lattice.interaction_params)
             if cutoff > 0 else np.zeros_like(length))
    v_hop = np.where(length <= cutoff, v_hop, 0.0)
    src, dst, hvec, hkra, hv = [], [], [], [], []
    ones = np.ones(n_cells, dtype=int)
    for h in range(len(lattice.hop_i)):
        i, j, img = lattice.hop_i[h], lattice.hop_j[h], lattice.hop_image[h]
        a = index(i * ones, trans)
        b = index(j * ones, trans + img)
        for s_, d_, sign in ((a, b, 1.0), (b, a, -1.0)):
            src.append(s_)
            dst.append(d_)
            hvec.append(np.repeat(sign * vec[h][None, :], n_cells, axis=0))
            hkra.append(np.full(n_cells, kra[h]))
            hv.append(np.full(n_cells, v_hop[h]))
    src = np.concatenate(src)
    order = np.argsort(src, kind="stable")
    hop_ptr = np.searchsorted(src[order], np.arange(n * n_cells + 1)).astype(np.int64)
    hop_dst = np.concatenate(dst)[order].astype(np.int64)
    hop_vec = np.concatenate(hvec)[order]
    hop_kra = np.concatenate(hkra)[order]
    hop_v = np.concatenate(hv)[order]
    # Interaction pairs within the cutoff (cell level, then repeated).
    isrc, inbr, ival = [], [], []
    if cutoff > 0:
        span = int(math.ceil(cutoff / widths.min())) + 1
        images = np.array(np.meshgrid(*(np.arange(-span, span + 1),) * 3,
                                      indexing="ij")).reshape(3, -1).T
        f = lattice.frac_coords
        for i in range(n):
            d = (f[None, :, :] + images[:, None, :] - f[i]) @ matrix  # (images, n, 3)
            r = np.linalg.norm(d, axis=-1)
            ki, kj = np.nonzero((r > 1e-6) & (r <= cutoff))
            if ki.size == 0:
                continue
            v = pair_interaction_eV(r[ki, kj], lattice.interaction, lattice.interaction_params)
            for img, j, val in zip(images[ki], kj, v):
                isrc.append(index(i * ones, trans))
                inbr.append(index(j * ones, trans + img))
                ival.append(np.full(n_cells, val))
    if isrc:
        isrc = np.concatenate(isrc)
        order = np.argsort(isrc, kind="stable")
        int_ptr = np.searchsorted(isrc[order], np.arange(n * n_cells + 1)).astype(np.int64)
        int_nbr = np.concatenate(inbr)[order].astype(np.int64)
        int_v = np.concatenate(ival)[order]
    else:
        int_ptr = np.zeros(n * n_cells + 1, dtype=np.int64)
        int_nbr = np.zeros(0, dtype=np.int64)
        int_v = np.zeros(0)
    return KMCBox(occ0=occ0, site_e=site_e, hop_ptr=hop_ptr, hop_dst=hop_dst,
                  hop_vec=np.ascontiguousarray(hop_vec), hop_kra=hop_kra, hop_v=hop_v,
                  int_ptr=int_ptr, int_nbr=int_nbr, int_v=int_v,
                  volume_A3=lattice.volume_A3 * n_cells, repetitions=tuple(int(r) for r in reps))


class KMCRunResult(BaseModel):
    """One independent KMC run at one temperature."""

    seed: int
    D_tracer_cm2_s: float = Field(description="Tracer diffusivity D* (cm^2/s).")
    D_sigma_cm2_s: float = Field(description="Collective (charge) diffusivity D_sigma (cm^2/s).")
    sigma_S_cm: float = Field(description="Nernst-Einstein conductivity from D_sigma (S/cm).")
    n_hops: int = Field(description="Production hops.")
    time_s: float = Field(description="Simulated production time (s).")
    block_time_s: float = Field(description="Length of one sampling block (s).")
    n_blocks: int
    wall_s: float = Field(description="Wall time of the run (s).")


class KMCTemperatureResult(BaseModel):
    """All runs at one temperature: means and sample standard deviations (ddof = 1) over runs."""

    temperature_K: float
    n_runs: int
    D_tracer_cm2_s: float
    D_tracer_std_cm2_s: float
    D_sigma_cm2_s: float
    D_sigma_std_cm2_s: float
    sigma_S_cm: float = Field(description="Mean Nernst-Einstein conductivity over runs (S/cm).")
    sigma_std_S_cm: float
    sigma_tracer_S_cm: float = Field(description="Conductivity from D* (Haven ratio taken as 1).")
    haven_ratio: float | None = Field(None, description="D*/D_sigma of the run means.")
    haven_ratio_std: float | None = Field(None, description="Std of the per-run ratios.")
    hops_per_second: float = Field(description="Production hops per wall second (all runs).")
    runs: list[KMCRunResult]


class ArrheniusFit(BaseModel):
    """ln(sigma T) = ln A - Ea / (k_B T) over the temperatures."""

    Ea_eV: float | None
    Ea_ci95_eV: tuple[float, float] | None = Field(
        None, description="Student-t 95 % interval over per-run fits (run k at every T).")
    Ea_std_eV: float | None = None
    sigma_300K_S_cm: float | None
    sigma_300K_ci95_S_cm: tuple[float, float] | None = None
    n_fits: int = 0
    note: str = ""


class KMCDocument(BaseModel):
    """Lattice KMC of Na+ in one cell at several temperatures."""

    formula: str
    n_sites_cell: int
    n_na_cell: int
    n_sites_box: int
    n_na_box: int
    repetitions: tuple[int, int, int]
    box_volume_A3: float
    interaction: str
    interaction_params: dict
    attempt_frequency_Hz: float
    temperatures: list[KMCTemperatureResult]
    Ea_eV: float | None = Field(description="Arrhenius activation energy of sigma T (eV).")
    Ea_ci95_eV: tuple[float, float] | None
    sigma_300K_S_cm: float | None = Field(description="Arrhenius extrapolation to 300 K (S/cm).")
    sigma_300K_ci95_S_cm: tuple[float, float] | None
    Ea_tracer_eV: float | None = Field(None, description="Ea of D* T (eV).")
    note: str = ""
    sites: list[dict] = Field(default_factory=list, description="Label, energy, occupied.")
    hops: list[dict] = Field(default_factory=list, description="Hop table of the cell.")
    lattice_provenance: dict = Field(default_factory=dict)
    settings: dict = Field(default_factory=dict)
    timings_s: dict = Field(default_factory=dict)


def _check(temperatures_K, n_runs, hops_per_ion, equil_hops_per_ion, n_blocks, nu_Hz):
    temps = [float(t) for t in temperatures_K]
    if not temps or any(not (t > 0 and math.isfinite(t)) for t in temps):
        raise KMCSettingsError(f"temperatures must be positive kelvin values, got {temperatures_K}")
    if len(set(temps)) != len(temps):
        raise KMCSettingsError(f"temperatures must be distinct, got {temperatures_K}")
    if not isinstance(n_runs, int) or n_runs < 1:
        raise KMCSettingsError(f"n_runs must be a positive integer, got {n_runs!r}")
    if not hops_per_ion > 0 or equil_hops_per_ion < 0:
        raise KMCSettingsError("hops_per_ion must be > 0 and equil_hops_per_ion >= 0")
    if not isinstance(n_blocks, int) or n_blocks < 2:
        raise KMCSettingsError(f"n_blocks must be an integer >= 2, got {n_blocks!r}")
    if not (nu_Hz > 0 and math.isfinite(nu_Hz)):
        raise KMCSettingsError(f"attempt frequency must be positive, got {nu_Hz}")
    return temps


def run_kmc(
    box: KMCBox,
    temperature_K: float,
    n_runs: int = 5,
    hops_per_ion: float = 400,
    equil_hops_per_ion: float = 50,
    n_blocks: int = 40,
    nu_Hz: float = DEFAULT_NU_HZ,
    seed: int = 0,
    compiled: bool = True,
) -> KMCTemperatureResult:
    """Independent rejection-free KMC runs at one temperature.

    Parameters
    ----------
    box
        The periodic KMC box (:func:`expand_lattice`).
    temperature_K
        Temperature in K.
    n_runs
        Independent runs (seeds ``seed + k``), each starting from the cell's Na arrangement.
    hops_per_ion
        Production hops per mobile ion and run (approximately: sampling is by simulated time).
    equil_hops_per_ion
        Equilibration hops per mobile ion before sampling.
    n_blocks
        Sampling blocks per run.
    nu_Hz
        Attempt frequency.
    seed
        Base seed.
    compiled
        False runs the same code uncompiled (pure python; the benchmark's reference).

    Returns
    -------
    KMCTemperatureResult
    """
    from nasicon_workflows.transport._engine import kmc_blocks

    _check([temperature_K], n_runs, hops_per_ion, equil_hops_per_ion, n_blocks, nu_Hz)
    fn = kmc_blocks if compiled else kmc_blocks.py_func
    n_mobile = box.n_mobile
    runs = []
    total_hops, total_wall = 0, 0.0
    for k in range(n_runs):
        t0 = time.perf_counter()
        tracer, collective, tau, hops, t_prod, n_part, _ = fn(
            box.occ0, box.site_e, box.hop_ptr, box.hop_dst, box.hop_vec, box.hop_kra, box.hop_v,
            box.int_ptr, box.int_nbr, box.int_v, float(temperature_K), float(nu_Hz),
            int(equil_hops_per_ion * n_mobile), int(n_blocks), 0.0,
            int(max(1, hops_per_ion * n_mobile)), int(seed + k))
        wall = time.perf_counter() - t0
        if n_part == 0 or hops == 0 or tau <= 0:
            d_t = d_c = 0.0  # no mobile ion or no possible hop: nothing diffuses
        else:
            d_t = float(tracer.mean()) / (6 * n_part * tau) * 1e-16
            d_c = float(collective.mean()) / (6 * n_part * tau) * 1e-16
        runs.append(KMCRunResult(
            seed=seed + k, D_tracer_cm2_s=d_t, D_sigma_cm2_s=d_c,
            sigma_S_cm=_nernst_einstein(d_c, n_mobile, box.volume_A3, temperature_K),
            n_hops=int(hops), time_s=float(t_prod), block_time_s=float(tau), n_blocks=n_blocks,
            wall_s=wall))
        total_hops += hops
        total_wall += wall
    return _summarise(runs, temperature_K, n_mobile, box.volume_A3, total_hops, total_wall)


def _nernst_einstein(d_cm2_s: float, n_mobile: int, volume_A3: float, temperature_K: float) -> float:
    """sigma (S/cm) = (N/V) e^2 D / (k_B T)."""
    n_per_cm3 = n_mobile / (volume_A3 * 1e-24)
    return n_per_cm3 * ELEMENTARY_CHARGE_C * d_cm2_s / (BOLTZMANN_eV_PER_K * temperature_K)


def _std(values) -> float:
    values = np.asarray(values, dtype=float)
    return float(values.std(ddof=1)) if values.size > 1 else 0.0


def _summarise(runs, temperature_K, n_mobile, volume_A3, hops, wall) -> KMCTemperatureResult:
    dt = [r.D_tracer_cm2_s for r in runs]
    dc = [r.D_sigma_cm2_s for r in runs]
    sig = [r.sigma_S_cm for r in runs]
    ratios = [a / b for a, b in zip(dt, dc) if b > 0]
    return KMCTemperatureResult(
        temperature_K=float(temperature_K), n_runs=len(runs),
        D_tracer_cm2_s=float(np.mean(dt)), D_tracer_std_cm2_s=_std(dt),
        D_sigma_cm2_s=float(np.mean(dc)), D_sigma_std_cm2_s=_std(dc),
        sigma_S_cm=float(np.mean(sig)), sigma_std_S_cm=_std(sig),
        sigma_tracer_S_cm=_nernst_einstein(float(np.mean(dt)), n_mobile, volume_A3, temperature_K),
        haven_ratio=float(np.mean(dt) / np.mean(dc)) if np.mean(dc) > 0 else None,
        haven_ratio_std=_std(ratios) if len(ratios) > 1 else None,
        hops_per_second=float(hops / wall) if wall > 0 else 0.0,
        runs=runs,
    )


def _fit(temps: np.ndarray, sigma: np.ndarray) -> tuple[float, float]:
    """Ea (eV) and ln A of ln(sigma T) = ln A - Ea/(k T)."""
    slope, intercept = np.polyfit(1.0 / (BOLTZMANN_eV_PER_K * temps), np.log(sigma * temps), 1)
    return float(-slope), float(intercept)


def arrhenius_fit(results: Sequence[KMCTemperatureResult], key: str = "sigma_S_cm") -> ArrheniusFit:
    """Arrhenius fit of ``key`` * T over the temperatures, with the run-to-run interval.

    Parameters
    ----------
    results
        One result per temperature (at least two temperatures).
    key
        "sigma_S_cm" (conductivity) or "D_tracer_cm2_s" (tracer diffusivity).

    Returns
    -------
    ArrheniusFit
        ``Ea_eV`` None when fewer than two temperatures or a zero value (nothing moved).
    """
    temps = np.array([r.temperature_K for r in results])
    values = np.array([getattr(r, key) for r in results])
    if len(temps) < 2:
        return ArrheniusFit(Ea_eV=None, sigma_300K_S_cm=None, note="one temperature: no fit")
    if np.any(values <= 0):
        return ArrheniusFit(Ea_eV=None, sigma_300K_S_cm=None,
                            note="zero diffusion at some temperature (no mobile ion or no vacancy)")
    ea, ln_a = _fit(temps, values)
    s300 = float(math.exp(ln_a - ea / (BOLTZMANN_eV_PER_K * 300.0)) / 300.0)
    field_name = {"sigma_S_cm": "sigma_S_cm", "D_tracer_cm2_s": "D_tracer_cm2_s"}[key]
    n_runs = min(r.n_runs for r in results)
    eas, s300s = [], []
    for k in range(n_runs):
        per = np.array([getattr(r.runs[k], field_name) for r in results])
        if np.any(per <= 0):
            continue
        e_k, a_k = _fit(temps, per)
        eas.append(e_k)
        s300s.append(a_k - e_k / (BOLTZMANN_eV_PER_K * 300.0) - math.log(300.0))
    if len(eas) < 2:
        return ArrheniusFit(Ea_eV=ea, sigma_300K_S_cm=s300, n_fits=len(eas),
                            note="fewer than two per-run fits: no interval")
    t = stats.t.ppf(0.975, len(eas) - 1)
    half = t * np.std(eas, ddof=1) / math.sqrt(len(eas))
    half_s = t * np.std(s300s, ddof=1) / math.sqrt(len(s300s))
    return ArrheniusFit(
        Ea_eV=ea, Ea_ci95_eV=(ea - half, ea + half), Ea_std_eV=float(np.std(eas, ddof=1)),
        sigma_300K_S_cm=s300,
        sigma_300K_ci95_S_cm=(s300 * math.exp(-half_s), s300 * math.exp(half_s)),
        n_fits=len(eas),
    )


def run_kmc_temperatures(
    lattice: NaLattice,
    temperatures_K: Sequence[float] = (500.0, 600.0, 700.0),
    n_runs: int = 5,
    hops_per_ion: float = 400,
    equil_hops_per_ion: float = 50,
    n_blocks: int = 40,
    nu_Hz: float = DEFAULT_NU_HZ,
    min_width_A: float = 20.0,
    seed: int = 0,
) -> KMCDocument:
    """KMC of one Na lattice at several temperatures, with the Arrhenius fit.

    Parameters
    ----------
    lattice
        From :func:`~nasicon_workflows.transport.lattice.build_na_lattice`.
    temperatures_K
        Distinct temperatures in K.
    n_runs, hops_per_ion, equil_hops_per_ion, n_blocks, nu_Hz, seed
        See :func:`run_kmc`.
    min_width_A
        Smallest perpendicular width of the KMC box (Å).

    Returns
    -------
    KMCDocument
    """
    temps = _check(temperatures_K, n_runs, hops_per_ion, equil_hops_per_ion, n_blocks, nu_Hz)
    t0 = time.perf_counter()
    box = expand_lattice(lattice, min_width_A)
    t_box = time.perf_counter()
    results = [run_kmc(box, T, n_runs, hops_per_ion, equil_hops_per_ion, n_blocks, nu_Hz,
                       seed=seed + 1000 * i) for i, T in enumerate(temps)]
    fit = arrhenius_fit(results) if len(temps) > 1 else ArrheniusFit(
        Ea_eV=None, sigma_300K_S_cm=None, note="one temperature: no Arrhenius fit")
    fit_t = arrhenius_fit(results, "D_tracer_cm2_s") if len(temps) > 1 else None
    return KMCDocument(
        formula=lattice.formula, n_sites_cell=lattice.n_sites, n_na_cell=lattice.n_mobile,
        n_sites_box=box.n_sites, n_na_box=box.n_mobile, repetitions=box.repetitions,
        box_volume_A3=box.volume_A3, interaction=lattice.interaction,
        interaction_params=lattice.interaction_params, attempt_frequency_Hz=nu_Hz,
        temperatures=results, Ea_eV=fit.Ea_eV, Ea_ci95_eV=fit.Ea_ci95_eV,
        sigma_300K_S_cm=fit.sigma_300K_S_cm, sigma_300K_ci95_S_cm=fit.sigma_300K_ci95_S_cm,
        Ea_tracer_eV=fit_t.Ea_eV if fit_t else None, note=fit.note,
        sites=[{"label": lab, "energy_eV": float(e), "occupied": bool(o)}
               for lab, e, o in zip(lattice.labels, lattice.site_energy_eV, lattice.occupied)],
        hops=lattice.hop_table(), lattice_provenance=lattice.provenance,
        settings={"n_runs": n_runs, "hops_per_ion": hops_per_ion,
                  "equil_hops_per_ion": equil_hops_per_ion, "n_blocks": n_blocks,
                  "min_width_A": min_width_A, "seed": seed,
                  "barrier_form": "E_a = max(E_KRA + dE/2, dE, 0) (Van der Ven et al. 2001)"},
        timings_s={"box": round(t_box - t0, 3), "kmc": round(time.perf_counter() - t_box, 3)},
    )


@dataclass
class KMCMaker(Maker):
    """Lattice kinetic Monte Carlo of Na+ on the BVSE landscape of an ordered NASICON cell.

    Parameters
    ----------
    name
        Job name.
    temperatures_K
        Temperatures in K.
    n_runs
        Independent runs per temperature (the Ea interval comes from their spread).
    hops_per_ion
        Production hops per Na and run.
    equil_hops_per_ion
        Equilibration hops per Na.
    resolution
        BVSE grid spacing in Å.
    interaction
        Na-Na interaction: "softbv" (default, not fitted), "coulomb" or "none".
    epsilon_r, screening_length_A
        Parameters of ``interaction="coulomb"``.
    nu_Hz
        Attempt frequency in Hz.
    min_width_A
        Smallest perpendicular width of the KMC box in Å.
    seed
        Base random seed.
    extra
        Further keywords of :func:`~nasicon_workflows.transport.lattice.build_na_lattice`
        (``hop_cutoff_A``, ``tube_radius_A``, ``interaction_cutoff_A``, ...).
    """

    name: str = "kmc"
    temperatures_K: tuple[float, ...] = (500.0, 600.0, 700.0)
    n_runs: int = 5
    hops_per_ion: float = 400
    equil_hops_per_ion: float = 50
    resolution: float = 0.1
    interaction: str = "softbv"
    epsilon_r: float | None = None
    screening_length_A: float | None = None
    nu_Hz: float = DEFAULT_NU_HZ
    min_width_A: float = 20.0
    seed: int = 0
    extra: dict = field(default_factory=dict)

    @job(output_schema=KMCDocument)
    def make(self, structure) -> KMCDocument:
        """Build the Na lattice of ``structure`` and run KMC at every temperature."""
        lattice = build_na_lattice(structure, resolution=self.resolution,
                                   interaction=self.interaction, epsilon_r=self.epsilon_r,
                                   screening_length_A=self.screening_length_A, **self.extra)
        return run_kmc_temperatures(lattice, self.temperatures_K, self.n_runs, self.hops_per_ion,
                                    self.equil_hops_per_ion, nu_Hz=self.nu_Hz,
                                    min_width_A=self.min_width_A, seed=self.seed)
