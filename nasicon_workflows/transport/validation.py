"""Transport validation: BVSE and lattice KMC on the Na(1+x)Zr2Si(x)P(3-x)O12 series vs experiment.

Literature facts the models are held against (:data:`LITERATURE`):

* the conductivity of Na(1+x)Zr2Si(x)P(3-x)O12 peaks near x = 2 (about 0.2 S/cm at 300 °C):
  Goodenough, Hong & Kafalas, *Mater. Res. Bull.* 1976, **11**, 203; structures in Hong,
  *Mater. Res. Bull.* 1976, **11**, 173;
* kinetic Monte Carlo and experiment place the maximum near x = 2.4: Deng et al.,
  *Nat. Commun.* 2022, **13**, 4470, DOI 10.1038/s41467-022-32190-7;
* NaZr2(PO4)3 (x = 0) conducts orders of magnitude worse than x = 2 (Goodenough, Hong & Kafalas
  1976);
* measured activation energies of NZSP-type conductors are 0.2-0.4 eV;
* force-field MD screened Na(1+x+y)Sc(y)Zr(2-y)Si(x)P(3-x)O12 over 0 <= x <= 3: Schuett et al.,
  *RSC Adv.* 2025, DOI 10.1039/d5ra01549a (context for the MD tier; not a number tested here).

Acceptance criteria: the x of the conductivity maximum within [1.5, 2.5]; NZSP's
(x = 2) Ea within 0.15-0.45 eV; and x = 0 at least ten times less conductive than x = 2 (our
reading of "orders of magnitude worse"). BVSE is scored on the same three with its E_3D: the x of
the lowest E_3D, E_3D of NZSP, and E_3D(x = 0) - E_3D(x = 2) >= k_B T ln 10 at 573 K.

Ranking-weight rule (:func:`recommended_weights`): a transport criterion that fails the trend test
(maximum position) gets weight 0; otherwise its weight is the current 0.40 times the fraction of
the three criteria it passes. This is a stated, simple rule, not a fitted one.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, Field

from nasicon_workflows.constants import BOLTZMANN_eV_PER_K

__all__ = [
    "LITERATURE",
    "SeriesPoint",
    "TransportValidationDocument",
    "recommended_weights",
    "transport_validation_status",
    "validate_transport",
]

LITERATURE = {
    "max_x_experiment": {
        "value": 2.0, "text": "conductivity maximum near x = 2, ~0.2 S/cm at 300 °C",
        "source": "Goodenough, Hong & Kafalas, Mater. Res. Bull. 1976, 11, 203; "
                  "structures: Hong, Mater. Res. Bull. 1976, 11, 173"},
    "max_x_kmc_deng": {
        "value": 2.4, "text": "maximum near x = 2.4 (KMC and experiment)",
        "source": "Deng et al., Nat. Commun. 2022, 13, 4470, DOI 10.1038/s41467-022-32190-7"},
    "nzp_much_worse": {
        "text": "NaZr2(PO4)3 (x = 0) conducts orders of magnitude worse than x = 2",
        "source": "Goodenough, Hong & Kafalas, Mater. Res. Bull. 1976, 11, 203"},
    "nzsp_Ea": {"range_eV": (0.2, 0.4),
                "text": "measured activation energies of NZSP-type conductors 0.2-0.4 eV",
                "source": "Goodenough, Hong & Kafalas 1976; Deng et al. 2022"},
    "md_screen": {
        "text": "force-field MD of Na(1+x+y)Sc(y)Zr(2-y)Si(x)P(3-x)O12, 0 <= x <= 3",
        "source": "Schuett et al., RSC Adv. 2025, DOI 10.1039/d5ra01549a"},
}

#: Acceptance window of the validation (literature facts above).
MAX_X_WINDOW = (1.5, 2.5)
NZSP_EA_WINDOW_EV = (0.15, 0.45)
REFERENCE_T_K = 573.15  # 300 °C, the temperature of the Goodenough-Hong-Kafalas comparison
CURRENT_BVSE_WEIGHT = 0.40


class SeriesPoint(BaseModel):
    """One member of the x-series: cell, BVSE barriers and KMC results."""

    x: float
    formula: str
    cell: dict = Field(description="Ordering and relaxation provenance of the cell.")
    E_1D: float | None = None
    E_2D: float | None = None
    E_3D: float | None = None
    kmc: dict = Field(default_factory=dict, description="Per interaction: Ea, interval, sigma(T).")
    seconds: dict = Field(default_factory=dict)


class TransportValidationDocument(BaseModel):
    """The validation run: per-x results, the criteria, and the weight recommendation."""

    points: list[SeriesPoint]
    criteria: dict
    recommended_weights: dict
    literature: dict = Field(default_factory=lambda: LITERATURE)
    settings: dict = Field(default_factory=dict)
    environment: dict = Field(default_factory=dict)


def _sigma_at(entry: dict, temperature_K: float) -> float | None:
    """sigma(T) (S/cm) from an entry's Arrhenius fit (Ea, sigma_300K)."""
    ea, s300 = entry.get("Ea_eV"), entry.get("sigma_300K_S_cm")
    if ea is None or s300 is None:
        return None
    k = BOLTZMANN_eV_PER_K
    return s300 * 300.0 / temperature_K * math.exp(-ea / k * (1 / temperature_K - 1 / 300.0))


def _kmc_summary(doc) -> dict:
    out = {
        "Ea_eV": doc.Ea_eV, "Ea_ci95_eV": doc.Ea_ci95_eV, "Ea_tracer_eV": doc.Ea_tracer_eV,
        "sigma_300K_S_cm": doc.sigma_300K_S_cm, "sigma_300K_ci95_S_cm": doc.sigma_300K_ci95_S_cm,
        "n_sites_box": doc.n_sites_box, "n_na_box": doc.n_na_box, "note": doc.note,
        "interaction_params": doc.interaction_params,
        "temperatures": [
            {"T_K": r.temperature_K, "sigma_S_cm": r.sigma_S_cm, "sigma_std_S_cm": r.sigma_std_S_cm,
             "D_tracer_cm2_s": r.D_tracer_cm2_s, "D_sigma_cm2_s": r.D_sigma_cm2_s,
             "haven_ratio": r.haven_ratio, "n_runs": r.n_runs, "hops_per_second": r.hops_per_second}
            for r in doc.temperatures
        ],
        "seconds": doc.timings_s,
    }
    at_ref = [r for r in doc.temperatures if abs(r.temperature_K - REFERENCE_T_K) < 1.0]
    if at_ref:  # measured directly (0.0: no net Na displacement in the sampled time)
        out["sigma_573K_S_cm"] = at_ref[0].sigma_S_cm
        out["sigma_573K_source"] = "KMC at 573.15 K (mean over runs)"
    elif doc.Ea_eV is not None:
        out["sigma_573K_S_cm"] = _sigma_at(out, REFERENCE_T_K)
        out["sigma_573K_source"] = "Arrhenius fit"
    else:  # nothing moves (e.g. a full Na lattice): zero conductivity at every temperature
        out["sigma_573K_S_cm"] = 0.0 if all(r.sigma_S_cm == 0 for r in doc.temperatures) else None
        out["sigma_573K_source"] = "no fit"
    return out


def _variant(name: str) -> dict:
    """build_na_lattice keywords of a KMC variant name: "softbv", "none", "coulomb_eps4_l3"."""
    if name in ("softbv", "none"):
        return {"interaction": name}
    try:
        _, eps, lam = name.split("_")
        return {"interaction": "coulomb", "epsilon_r": float(eps.removeprefix("eps")),
                "screening_length_A": float(lam.removeprefix("l"))}
    except ValueError:
        from nasicon_workflows.transport.errors import KMCSettingsError

        raise KMCSettingsError(
            f"unknown KMC variant {name!r}: use softbv, none or coulomb_eps<eps_r>_l<lambda in Å>"
        ) from None


def _criteria(points: list[SeriesPoint]) -> dict:
    """Score BVSE and each KMC variant on the three acceptance criteria."""
    by_x = {p.x: p for p in points}
    out: dict = {}
    # BVSE: lower E_3D = better conductor.
    bv = {p.x: p.E_3D for p in points if p.E_3D is not None}
    if bv:
        x_best = min(bv, key=bv.get)
        e2 = bv.get(2.0)
        gap = (bv[0.0] - bv[2.0]) if (0.0 in bv and 2.0 in bv) else None
        need = BOLTZMANN_eV_PER_K * REFERENCE_T_K * math.log(10)
        out["bvse"] = {
            "x_of_maximum": x_best,
            "maximum_in_window": MAX_X_WINDOW[0] <= x_best <= MAX_X_WINDOW[1],
            "nzsp_value_eV": e2,
            "nzsp_in_window": e2 is not None and NZSP_EA_WINDOW_EV[0] <= e2 <= NZSP_EA_WINDOW_EV[1],
            "x0_minus_x2_eV": gap, "x0_tenfold_worse": gap is not None and gap >= need,
            "tenfold_threshold_eV": need,
            "measure": "E_3D (lowest = predicted best conductor)",
        }
    variants = sorted({k for p in points for k in p.kmc})
    for v in variants:
        sig = {p.x: p.kmc[v].get("sigma_573K_S_cm") for p in points if v in p.kmc}
        sig = {x: s for x, s in sig.items() if s is not None}
        if not sig:
            continue
        x_best = max(sig, key=sig.get)
        ea2 = by_x[2.0].kmc.get(v, {}).get("Ea_eV") if 2.0 in by_x else None
        ratio = (sig[2.0] / sig[0.0]) if (0.0 in sig and 2.0 in sig and sig[0.0] > 0) else (
            math.inf if (0.0 in sig and sig[0.0] == 0 and sig.get(2.0, 0) > 0) else None)
        out[f"kmc_{v}"] = {
            "x_of_maximum": x_best,
            "maximum_in_window": MAX_X_WINDOW[0] <= x_best <= MAX_X_WINDOW[1],
            "sigma_573K_S_cm": {f"{x:g}": s for x, s in sorted(sig.items())},
            "nzsp_value_eV": ea2,
            "nzsp_in_window": ea2 is not None and NZSP_EA_WINDOW_EV[0] <= ea2 <= NZSP_EA_WINDOW_EV[1],
            "sigma_x2_over_x0": ratio,
            "x0_tenfold_worse": ratio is not None and ratio >= 10,
            "measure": "KMC sigma at 573 K (measured there, else from the Arrhenius fit); "
                       "NZSP: Arrhenius Ea",
        }
    return out


def recommended_weights(criteria: dict, current: float = CURRENT_BVSE_WEIGHT) -> dict:
    """Ranking weight each transport criterion deserves from its measured skill.

    Rule: 0 if it puts the x-series maximum outside [1.5, 2.5] (it gets the trend wrong);
    otherwise ``current`` times the fraction of the three criteria passed.
    """
    out = {}
    for name, c in criteria.items():
        if name.startswith("kmc_coulomb"):
            out[name] = {"weight": None, "why": "sensitivity variant chosen after seeing the "
                         "target: not eligible for a ranking weight"}
            continue
        passed = sum(bool(c[k]) for k in ("maximum_in_window", "nzsp_in_window", "x0_tenfold_worse"))
        weight = 0.0 if not c["maximum_in_window"] else current * passed / 3
        out[name] = {"criteria_passed": passed, "of": 3, "weight": round(weight, 3)}
    out["rule"] = ("0 if the x-series maximum falls outside [1.5, 2.5]; else "
                   f"{current} x (criteria passed / 3); criteria: maximum position, NZSP Ea "
                   "(0.15-0.45 eV), x = 0 at least 10x below x = 2 at 573 K")
    return out


def validate_transport(
    out_dir: str | Path,
    xs=None,
    temperatures_K=(473.15, 573.15, 673.15),
    n_runs: int = 5,
    hops_per_ion: float = 400,
    resolution: float = 0.1,
    interactions=("softbv", "none"),
    sensitivity=(),
    relax: bool = True,
    fmax: float = 0.05,
    ordering: int = 0,
    progress=None,
) -> TransportValidationDocument:
    """Build, relax (cached), and analyse the x-series with BVSE and KMC; score against LITERATURE.

    Parameters
    ----------
    out_dir
        Output folder (resolved and checked by the caller); relaxed cells are cached in
        ``out_dir/cells``.
    xs
        x values (default :data:`~nasicon_workflows.transport.series.SERIES_X`).
    temperatures_K, n_runs, hops_per_ion
        KMC settings.
    resolution
        BVSE grid spacing (Å).
    interactions
        KMC Na-Na interactions to run ("softbv" is the model; "none" the site-blocking ablation).
    sensitivity
        Extra variants such as "coulomb_eps4_l3" (dielectric-screened Coulomb, eps_r = 4,
        lambda = 3 Å): a sensitivity study of the interaction strength, scored but never given a
        ranking weight (chosen after seeing the target, so not a validation).
    relax
        CHGNet relaxation to ``fmax`` (False: unrelaxed ordered cells, for quick checks only).
    ordering
        Ewald rank of the Si/P + Na ordering (0 = lowest; 1 checks the sensitivity to it).
    progress
        Optional callable receiving one line of text per finished step.

    Returns
    -------
    TransportValidationDocument
    """
    import os

    from nasicon_workflows.bvse.engine import compute_landscape
    from nasicon_workflows.bvse.pathways import analyse_landscape
    from nasicon_workflows.transport.kmc import run_kmc_temperatures
    from nasicon_workflows.transport.lattice import build_na_lattice, interaction_parameters
    from nasicon_workflows.transport.series import SERIES_X, relaxed_series_cell

    out_dir = Path(out_dir)
    cache = out_dir / "cells"
    cache.mkdir(parents=True, exist_ok=True)
    xs = SERIES_X if xs is None else tuple(float(x) for x in xs)
    points = []
    t_start = time.perf_counter()
    load_start = os.getloadavg()
    for x in xs:
        t0 = time.perf_counter()
        cell, meta = relaxed_series_cell(x, cache, fmax=fmax, relax=relax, ordering=ordering)
        t1 = time.perf_counter()
        landscape = compute_landscape(cell, ion="Na", resolution=resolution)
        bv = analyse_landscape(landscape)
        t2 = time.perf_counter()
        point = SeriesPoint(x=x, formula=meta["formula"], cell=meta, E_1D=bv.E_1D, E_2D=bv.E_2D,
                            E_3D=bv.E_3D)
        base = build_na_lattice(cell, resolution=resolution, landscape=landscape)
        for inter in list(interactions) + list(sensitivity):
            spec = _variant(inter)
            # Same sites, hops and saddles; only the Na-Na term changes.
            lattice = dataclasses.replace(base, interaction=spec["interaction"],
                                          interaction_params=interaction_parameters(
                                              spec["interaction"], spec.get("epsilon_r"),
                                              spec.get("screening_length_A")))
            doc = run_kmc_temperatures(lattice, temperatures_K, n_runs=n_runs,
                                       hops_per_ion=hops_per_ion)
            point.kmc[inter] = _kmc_summary(doc)
            point.kmc[inter]["hops"] = lattice.hop_table()
            point.kmc[inter]["site_energies_eV"] = {
                lab: float(e) for lab, e in zip(lattice.labels, lattice.site_energy_eV)}
        point.seconds = {"cell": round(t1 - t0, 1), "bvse": round(t2 - t1, 1),
                         "kmc": round(time.perf_counter() - t2, 1)}
        points.append(point)
        if progress:
            k = point.kmc.get(interactions[0], {})
            progress(f"x = {x:g} {point.formula}: E_3D {point.E_3D} eV; KMC({interactions[0]}) "
                     f"Ea {k.get('Ea_eV')} eV, sigma(573 K) {k.get('sigma_573K_S_cm')} S/cm "
                     f"[{point.seconds}]")
    criteria = _criteria(points)
    return TransportValidationDocument(
        points=points, criteria=criteria, recommended_weights=recommended_weights(criteria),
        settings={"xs": list(xs), "temperatures_K": list(temperatures_K), "n_runs": n_runs,
                  "hops_per_ion": hops_per_ion, "bvse_resolution_A": resolution,
                  "interactions": list(interactions), "sensitivity": list(sensitivity),
                  "relax": relax, "fmax_eV_per_A": fmax, "ordering": ordering,
                  "reference_temperature_K": REFERENCE_T_K},
        environment={"wall_s": round(time.perf_counter() - t_start, 1),
                     "loadavg_start": load_start, "loadavg_end": os.getloadavg(),
                     "cpu_count": os.cpu_count()},
    )


#: Where the measured validation ships inside the package (a copy of
#: docs/transport_validation/validation.json).
SHIPPED_RESULT = "transport_validation.json"


def transport_validation_status(path: str | Path | None = None) -> dict:
    """The transport models' validation status, for the screen report.

    Parameters
    ----------
    path
        A validation JSON (from ``nasicon-workflows validate-transport``); default the measured
        run shipped with the package.

    Returns
    -------
    dict
        ``validated`` (bool: some model passes every criterion), per-model criteria and weights,
        one-paragraph ``statement`` citing the literature, and ``source``.
    """
    if path is None:
        resource = resources.files("nasicon_workflows.data").joinpath(SHIPPED_RESULT)
        if not resource.is_file():
            return {"validated": False, "statement": "transport models not validated: no "
                    "validation result shipped; run `nasicon-workflows validate-transport`",
                    "criteria": {}, "recommended_weights": {}, "source": None}
        data = json.loads(resource.read_text())
        source = f"nasicon_workflows/data/{SHIPPED_RESULT}"
    else:
        data = json.loads(Path(path).read_text())
        source = str(path)
    criteria, weights = data["criteria"], data["recommended_weights"]
    lines = []
    for name, c in criteria.items():
        if name.startswith("kmc_coulomb"):
            continue  # sensitivity variants are in the criteria, not in the statement
        value = c.get("nzsp_value_eV")
        lines.append(
            f"{name}: x-series maximum at x = {c['x_of_maximum']:g} "
            f"({'inside' if c['maximum_in_window'] else 'OUTSIDE'} [1.5, 2.5]); NZSP "
            f"{'E_3D' if name == 'bvse' else 'Ea'} = "
            f"{'n/a' if value is None else f'{value:.2f}'} eV "
            f"({'inside' if c['nzsp_in_window'] else 'OUTSIDE'} 0.15-0.45 eV); x = 0 ten times "
            f"worse than x = 2: {'yes' if c['x0_tenfold_worse'] else 'NO'}; recommended weight "
            f"{weights.get(name, {}).get('weight')}"
        )
    validated = any(c["maximum_in_window"] and c["nzsp_in_window"] and c["x0_tenfold_worse"]
                    for name, c in criteria.items() if not name.startswith("kmc_coulomb"))
    statement = (
        ("Transport model validated" if validated else "No transport model passes validation")
        + " against Na(1+x)Zr2Si(x)P(3-x)O12 (maximum near x = 2: Goodenough, Hong & Kafalas, "
        "Mater. Res. Bull. 1976, 11, 203; x = 2.4: Deng et al., Nat. Commun. 2022, DOI "
        "10.1038/s41467-022-32190-7; NZSP Ea 0.2-0.4 eV). " + "; ".join(lines) + "."
    )
    return {"validated": validated, "statement": statement, "criteria": criteria,
            "recommended_weights": weights, "source": source}
