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

The shipped reference compositions (NZSP, LE-, ME1-, ME2-, HE1-, HE2-NZSP) are computed the same
way and compared with the facts that apply to them (:func:`_reference_comparison`): the
0.2-0.4 eV band of NZSP-type conductors (window 0.15-0.45 eV) and, for NZSP, ~0.2 S/cm at 573 K;
no measured value of LE-, ME- or HE-NZSP ships with the package. The MD tier runs only on request
(``md_cells``); otherwise the document states why not, with its CPU cost per cell.

Ranking-weight rule (:func:`recommended_weights`): a transport criterion that fails the trend test
(maximum position) gets weight 0; otherwise its weight is the current 0.40 times the fraction of
the three criteria it passes. This is a stated, simple rule, not a fitted one.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, Field

from nasicon_workflows.constants import BOLTZMANN_eV_PER_K

__all__ = [
    "LITERATURE",
    "ReferencePoint",
    "SeriesPoint",
    "TransportValidationDocument",
    "recommended_weights",
    "cell_name",
    "compact_validation",
    "transport_validation_status",
    "validate_transport",
    "validation_report_parts",
]

LITERATURE = {
    "max_x_experiment": {
        "value": 2.0, "sigma_573K_S_cm": 0.2,
        "text": "conductivity maximum near x = 2, ~0.2 S/cm at 300 °C",
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


class CellResult(BaseModel):
    """BVSE barriers and KMC results of one relaxed validation cell."""

    formula: str
    cell: dict = Field(description="Ordering and relaxation provenance of the cell.")
    E_1D: float | None = None
    E_2D: float | None = None
    E_3D: float | None = None
    kmc: dict = Field(default_factory=dict, description="Per interaction: Ea, interval, sigma(T).")
    seconds: dict = Field(default_factory=dict)


class SeriesPoint(CellResult):
    """One member of the x-series: cell, BVSE barriers and KMC results."""

    x: float


class ReferencePoint(CellResult):
    """One shipped reference composition (NZSP, LE-, ME1-, ME2-, HE1-, HE2-NZSP)."""

    label: str


class TransportValidationDocument(BaseModel):
    """The validation run: per-x results, the criteria, and the weight recommendation; the
    reference compositions against the facts that apply to them; the MD tier's status."""

    points: list[SeriesPoint]
    criteria: dict
    recommended_weights: dict
    references: list[ReferencePoint] = Field(default_factory=list)
    reference_comparison: dict = Field(
        default_factory=dict,
        description="Per model: each reference's Ea (BVSE: E_3D) against the 0.15-0.45 eV window "
                    "and the measured values shipped for it.")
    md: dict = Field(default_factory=dict,
                     description="MD tier: what ran and its regime verdicts, or why it did not run "
                                 "and its CPU cost per cell.")
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


def _analyse_cell(cell, resolution, interactions, sensitivity, temperatures_K, n_runs,
                  hops_per_ion) -> dict:
    """BVSE barriers and the KMC variants of one relaxed cell (fields of :class:`CellResult`)."""
    from nasicon_workflows.bvse.engine import compute_landscape
    from nasicon_workflows.bvse.pathways import analyse_landscape
    from nasicon_workflows.transport.kmc import run_kmc_temperatures
    from nasicon_workflows.transport.lattice import build_na_lattice, interaction_parameters

    t1 = time.perf_counter()
    landscape = compute_landscape(cell, ion="Na", resolution=resolution)
    bv = analyse_landscape(landscape)
    t2 = time.perf_counter()
    kmc = {}
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
        kmc[inter] = _kmc_summary(doc)
        kmc[inter]["hops"] = lattice.hop_table()
        kmc[inter]["site_energies_eV"] = {
            lab: float(e) for lab, e in zip(lattice.labels, lattice.site_energy_eV)}
    return {"E_1D": bv.E_1D, "E_2D": bv.E_2D, "E_3D": bv.E_3D, "kmc": kmc,
            "seconds": {"bvse": round(t2 - t1, 1), "kmc": round(time.perf_counter() - t2, 1)}}


def _reference_comparison(references: list[ReferencePoint]) -> dict:
    """Each reference against the facts that apply to it, per model.

    Facts: the 0.2-0.4 eV band of measured activation energies of NZSP-type conductors
    (acceptance window 0.15-0.45 eV, as for NZSP in the series), and NZSP's ~0.2 S/cm at 573 K
    (Goodenough, Hong & Kafalas 1976). No measured value of LE-, ME- or HE-NZSP is shipped with the
    package, so none is compared.
    """
    if not references:
        return {}
    nzsp_sigma = LITERATURE["max_x_experiment"]
    out: dict = {}
    models = ["bvse"] + sorted({k for r in references for k in r.kmc})
    for model in models:
        rows = {}
        for ref in references:
            entry = ref.kmc.get(model.removeprefix("kmc_"), {}) if model != "bvse" else {}
            value = ref.E_3D if model == "bvse" else entry.get("Ea_eV")
            row = {
                "formula": ref.formula,
                "Ea_eV" if model != "bvse" else "E_3D_eV": value,
                "in_window": value is not None and (
                    NZSP_EA_WINDOW_EV[0] <= value <= NZSP_EA_WINDOW_EV[1]),
                "measured": "no measured value shipped",
            }
            if model != "bvse":
                row.update({"Ea_ci95_eV": entry.get("Ea_ci95_eV"),
                            "sigma_300K_S_cm": entry.get("sigma_300K_S_cm"),
                            "sigma_573K_S_cm": entry.get("sigma_573K_S_cm")})
            if ref.label == "NZSP":
                row["measured"] = (f"~{nzsp_sigma['sigma_573K_S_cm']:g} S/cm at 573 K "
                                   f"({nzsp_sigma['source'].split(';')[0]})")
                sig = row.get("sigma_573K_S_cm")
                row["sigma_573K_over_measured"] = (
                    sig / nzsp_sigma["sigma_573K_S_cm"] if sig is not None else None)
            rows[ref.label] = row
        values = [r.get("Ea_eV", r.get("E_3D_eV")) for r in rows.values()]
        values = [v for v in values if v is not None]
        name = model if model == "bvse" else f"kmc_{model}"
        out[name] = {
            "per_reference": rows,
            "n_in_window": sum(r["in_window"] for r in rows.values()),
            "n": len(rows),
            "range_eV": [min(values), max(values)] if values else None,
            "measure": "E_3D" if model == "bvse" else "KMC Arrhenius Ea",
        }
    out["facts"] = {
        "window_eV": list(NZSP_EA_WINDOW_EV),
        "measured_band_eV": list(LITERATURE["nzsp_Ea"]["range_eV"]),
        "band_text": LITERATURE["nzsp_Ea"]["text"], "band_source": LITERATURE["nzsp_Ea"]["source"],
        "zuo_2026": "no measured conductivity or activation energy of LE-, ME- or HE-NZSP is "
                    "shipped with the package (Zuo et al., Energy Environ. Sci. 2026, 19, 860)",
    }
    return out


def _span(values, spec: str) -> str:
    """``a-b`` of the smallest and largest value, or the one value when they are equal."""
    low, high = format(min(values), spec), format(max(values), spec)
    return low if low == high else f"{low}-{high}"


def cell_name(point: CellResult) -> str:
    """Name of a validation cell on the command line: the reference label or ``x=<x>``."""
    return point.label if isinstance(point, ReferencePoint) else f"x={point.x:g}"


def _md_not_run(cells: list[tuple[CellResult, int]], maker) -> dict:
    """Why MD did not run, with its CPU cost per cell (measured rates) and the CPU-run outcome."""
    from nasicon_workflows.transport.md import load_md_cpu_measurements, md_cpu_cost

    run = load_md_cpu_measurements()["nzsp_cpu_run"]
    costs = {cell_name(p): md_cpu_cost(n, maker) for p, n in cells}
    hours = [c["cpu_hours"] for c in costs.values()]
    reason = (
        "MD not run (give --md to run it): the default MD protocol costs "
        + (_span(hours, "g") + " CPU-hours per cell here" if hours else "tens of CPU-hours "
           "per cell")
        + " (CHGNet, one thread, measured CPU time per step; docs/md.md), and the "
        f"{run['production_ps']:g}-ps NZSP run at {run['temperature_K']:g} K on this CPU was not "
        f"diffusive (Na MSD {run['msd_final_A2']:g} A^2 against the one-hop "
        f"{run['min_msd_A2']:g} A^2). MD is the GPU/HPC tier."
    )
    return {"run": False, "reason": reason, "cpu_cost_per_cell": costs, "cpu_run": run}


def _run_md(selected: list[tuple[CellResult, object]], maker) -> dict:
    """The MD tier on the selected cells; a non-diffusive or failed run is recorded, not raised."""
    from nasicon_workflows.errors import NasiconWorkflowsError
    from nasicon_workflows.transport import md as md_module

    out = []
    for point, cell in selected:
        t0, c0, load0 = time.perf_counter(), time.process_time(), os.getloadavg()
        record = {"cell": cell_name(point), "formula": point.formula, "n_atoms": len(cell)}
        try:
            doc = md_module.run_md_transport(cell, maker=maker)
        except NasiconWorkflowsError as exc:
            record.update({"status": "failed", "note": " ".join(str(exc).split())})
        else:
            per_t = [{"T_K": r.temperature_K, "msd_final_A2": r.msd_final_A2,
                      "min_msd_A2": r.min_msd_A2, "diffusive": r.diffusive,
                      "D_cm2_per_s": r.D_cm2_per_s, "note": r.note}
                     for r in doc.per_temperature]
            n_ok = sum(r["diffusive"] for r in per_t)
            record.update({
                "status": ("not diffusive" if n_ok == 0
                           else f"diffusive at {n_ok} of {len(per_t)} T"),
                "per_temperature": per_t, "Ea_eV": doc.Ea_eV, "Ea_ci95_eV": doc.Ea_ci95_eV,
                "sigma_300K_S_cm": doc.sigma_300K_S_cm,
                "sigma_300K_ci95_S_cm": doc.sigma_300K_ci95_S_cm,
                "haven_ratio_assumed": doc.haven_ratio_assumed, "warnings": doc.warnings,
            })
        record.update({"wall_s": round(time.perf_counter() - t0, 1),
                       "cpu_s": round(time.process_time() - c0, 1),
                       "loadavg_start_end": [round(load0[0], 2), round(os.getloadavg()[0], 2)]})
        out.append(record)
    settings = {}
    if maker is not None:
        settings = {"force_field": maker.force_field, "temperatures_K": list(maker.temperatures_K),
                    "n_equilibration_steps": maker.n_equilibration_steps,
                    "n_production_steps": maker.n_production_steps,
                    "traj_interval": maker.traj_interval, "time_step_fs": maker.time_step_fs}
    return {"run": True, "cells": out, "settings": settings}


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
    references=(),
    optimizer: str | None = None,
    md_cells=None,
    md_maker=None,
    progress=None,
) -> TransportValidationDocument:
    """Build, relax (cached), and analyse the x-series and the reference compositions with BVSE
    and KMC; score against :data:`LITERATURE`; optionally run the MD tier on chosen cells.

    Parameters
    ----------
    out_dir
        Output folder (resolved and checked by the caller); relaxed cells are cached in
        ``out_dir/cells``.
    xs
        x values (default :data:`~nasicon_workflows.transport.series.SERIES_X`; an empty
        sequence skips the series).
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
    fmax
        Force criterion of every relaxation, eV/Å.
    ordering
        Ewald rank of the Si/P + Na ordering (0 = lowest; 1 checks the sensitivity to it).
    references
        Labels of the shipped reference compositions to compute (cells of
        :func:`~nasicon_workflows.transport.series.relaxed_reference_cell`, same relaxation).
    optimizer
        ASE optimizer of the relaxations (default
        :data:`~nasicon_workflows.transport.series.VALIDATION_OPTIMIZER`, FIRE).
    md_cells
        Names (:func:`cell_name`: a reference label or ``x=<x>``) of the computed cells to run the
        MD tier on; None: MD is not run and the document says why, with its CPU cost per cell.
    md_maker
        The :class:`~nasicon_workflows.transport.md.MDTransportMaker` of the MD runs (default:
        its defaults).
    progress
        Optional callable receiving one line of text per finished step.

    Returns
    -------
    TransportValidationDocument
    """
    from nasicon_workflows.transport.series import (
        SERIES_X,
        VALIDATION_OPTIMIZER,
        relaxed_reference_cell,
        relaxed_series_cell,
    )

    optimizer = optimizer or VALIDATION_OPTIMIZER

    out_dir = Path(out_dir)
    cache = out_dir / "cells"
    cache.mkdir(parents=True, exist_ok=True)
    xs = SERIES_X if xs is None else tuple(float(x) for x in xs)
    kmc_settings = (resolution, interactions, sensitivity, temperatures_K, n_runs, hops_per_ion)
    points: list[SeriesPoint] = []
    refs: list[ReferencePoint] = []
    cells: list[tuple[CellResult, object]] = []
    t_start = time.perf_counter()
    load_start = os.getloadavg()
    jobs = [("x", x) for x in xs] + [("ref", label) for label in references]
    for kind, key in jobs:
        t0 = time.perf_counter()
        if kind == "x":
            cell, meta = relaxed_series_cell(key, cache, fmax=fmax, relax=relax, ordering=ordering,
                                             optimizer=optimizer)
        else:
            cell, meta = relaxed_reference_cell(key, cache, fmax=fmax, relax=relax,
                                                ordering=ordering, optimizer=optimizer)
        t_cell = round(time.perf_counter() - t0, 1)
        fields = _analyse_cell(cell, *kmc_settings)
        fields["seconds"] = {"cell": t_cell, **fields["seconds"]}
        if kind == "x":
            point = SeriesPoint(x=key, formula=meta["formula"], cell=meta, **fields)
            points.append(point)
        else:
            point = ReferencePoint(label=key, formula=meta["formula"], cell=meta, **fields)
            refs.append(point)
        cells.append((point, cell))
        if progress:
            k = point.kmc.get(interactions[0], {})
            progress(f"{cell_name(point)} {point.formula}: E_3D {point.E_3D} eV; "
                     f"KMC({interactions[0]}) Ea {k.get('Ea_eV')} eV, sigma(573 K) "
                     f"{k.get('sigma_573K_S_cm')} S/cm [{point.seconds}]")
    criteria = _criteria(points) if points else {}
    if md_cells is None:
        md = _md_not_run([(p, len(c)) for p, c in cells], md_maker)
    else:
        by_name = {cell_name(p): (p, c) for p, c in cells}
        missing = [n for n in md_cells if n not in by_name]
        if missing:
            from nasicon_workflows.transport.errors import TransportError

            raise TransportError(f"MD cells {missing} are not among the computed cells "
                                 f"{sorted(by_name)}")
        md = _run_md([by_name[n] for n in md_cells], md_maker)
        if progress:
            for r in md["cells"]:
                progress(f"MD {r['cell']}: {r['status']} [{r['wall_s']} s]")
    return TransportValidationDocument(
        points=points, criteria=criteria, recommended_weights=recommended_weights(criteria),
        references=refs, reference_comparison=_reference_comparison(refs), md=md,
        settings={"xs": list(xs), "references": list(references),
                  "temperatures_K": list(temperatures_K), "n_runs": n_runs,
                  "hops_per_ion": hops_per_ion, "bvse_resolution_A": resolution,
                  "interactions": list(interactions), "sensitivity": list(sensitivity),
                  "relax": relax, "fmax_eV_per_A": fmax, "optimizer": optimizer,
                  "ordering": ordering,
                  "reference_temperature_K": REFERENCE_T_K},
        environment={"wall_s": round(time.perf_counter() - t_start, 1),
                     "loadavg_start": load_start, "loadavg_end": os.getloadavg(),
                     "cpu_count": os.cpu_count()},
    )


#: Where the measured validation ships inside the package (docs/transport_validation/
#: validation.json made compact by :func:`compact_validation`).
SHIPPED_RESULT = "transport_validation.json"


def compact_validation(data: dict) -> dict:
    """A validation document (as JSON data) without its bulky tables, as the package ships it.

    Drops every KMC variant's hop table and the site energies of all variants but ``softbv``
    (the same sites and energies; only the Na-Na term differs between variants). Every number the
    status, the criteria and the reports read is kept.
    """
    out = json.loads(json.dumps(data))
    for point in out.get("points", []) + out.get("references", []):
        for name, entry in point.get("kmc", {}).items():
            entry.pop("hops", None)
            if name != "softbv":
                entry.pop("site_energies_eV", None)
    return out


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
    comparison = data.get("reference_comparison") or {}
    reference_lines = _reference_statement(comparison)
    if reference_lines:
        statement += " Reference compositions: " + "; ".join(reference_lines) + "."
    else:
        statement += (" Reference compositions (NZSP, LE-, ME-, HE-NZSP): not computed in this "
                      "validation run.")
    return {"validated": validated, "statement": statement, "criteria": criteria,
            "recommended_weights": weights, "reference_comparison": comparison,
            "nzsp_kmc": _nzsp_kmc(data), "source": source}


def _reference_statement(comparison: dict) -> list[str]:
    """One clause per model of the reference comparison (sensitivity variants left out)."""
    lines = []
    for name, c in comparison.items():
        if name == "facts" or name.startswith("kmc_coulomb") or not isinstance(c, dict):
            continue
        rng = c.get("range_eV")
        span = "n/a" if not rng else f"{_span(rng, '.2f')} eV"
        lines.append(f"{name} {c.get('measure', '')} {span}, {c['n_in_window']} of {c['n']} "
                     "inside 0.15-0.45 eV")
    if lines:
        lines.append(comparison.get("facts", {}).get(
            "zuo_2026", "no measured LE/ME/HE value shipped"))
    return lines


def _nzsp_kmc(data: dict) -> dict:
    """The softBV KMC's NZSP (x = 2) Ea and sigma(573 K) against the measured values, from the
    computed points of a validation document (empty when x = 2 was not computed)."""
    point = next((p for p in data.get("points", []) if p.get("x") == 2.0), None)
    entry = (point or {}).get("kmc", {}).get("softbv", {})
    if not entry:
        return {}
    measured = LITERATURE["max_x_experiment"]["sigma_573K_S_cm"]
    sig, ea = entry.get("sigma_573K_S_cm"), entry.get("Ea_eV")
    band = LITERATURE["nzsp_Ea"]["range_eV"]
    return {
        "Ea_eV": ea, "Ea_ci95_eV": entry.get("Ea_ci95_eV"), "sigma_573K_S_cm": sig,
        "measured_sigma_573K_S_cm": measured, "measured_Ea_band_eV": list(band),
        "orders_below_measured": (math.log10(measured / sig) if sig else None),
        "Ea_over_band_mid": (ea / (sum(band) / 2) if ea is not None else None),
    }


def validation_report_parts(status: dict) -> dict:
    """The screen report's transport-validation text, computed from a validation status.

    Parameters
    ----------
    status
        :func:`transport_validation_status` (the screen stores it in its result).

    Returns
    -------
    dict
        ``weights`` (one sentence: the recommended weights and the rule), ``skill`` (the softBV
        KMC's NZSP Ea and sigma(573 K) against the measured values; empty if x = 2 was not
        computed), ``reference_header`` and ``reference_rows`` (strings; no rows when the
        reference compositions were not computed).
    """
    weights = status.get("recommended_weights") or {}
    named = [f"{name} {w.get('weight')}" for name, w in weights.items()
             if isinstance(w, dict) and w.get("weight") is not None]
    weight_text = ("Recommended ranking weights from the validation: " + ", ".join(named)
                   + (f" (rule: {weights['rule']})" if weights.get("rule") else "") + "."
                   if named else "")
    nz = status.get("nzsp_kmc") or {}
    skill = ""
    if nz.get("Ea_eV") is not None:
        ci = nz.get("Ea_ci95_eV")
        band = nz["measured_Ea_band_eV"]
        skill = (f"Against experiment, the softBV KMC gives NZSP Ea = {nz['Ea_eV']:.2f} eV"
                 + (f" [{ci[0]:.2f}, {ci[1]:.2f}] (95 %)" if ci else "")
                 + f", {nz['Ea_over_band_mid']:.1f}x the middle of the measured "
                 f"{band[0]:g}-{band[1]:g} eV band")
        if nz.get("orders_below_measured") is not None:
            skill += (f", and sigma(573 K) = {nz['sigma_573K_S_cm']:.2g} S/cm, "
                      f"{nz['orders_below_measured']:.1f} orders of magnitude below the measured "
                      f"~{nz['measured_sigma_573K_S_cm']:g} S/cm")
        skill += ("; the screen therefore ranks on the order of the KMC sigma(573 K), never on "
                  "its absolute value.")
    comparison = status.get("reference_comparison") or {}
    kmc = comparison.get("kmc_softbv", {}).get("per_reference", {})
    bvse = comparison.get("bvse", {}).get("per_reference", {})
    header = ["reference", "formula", "KMC Ea (eV) [95 % CI]", "in 0.15-0.45 eV",
              "KMC sigma(300 K) (S/cm)", "KMC sigma(573 K) (S/cm)", "BVSE E_3D (eV)",
              "measured"]
    rows = []
    for label, row in kmc.items():
        ea, ci = row.get("Ea_eV"), row.get("Ea_ci95_eV")
        e3d = bvse.get(label, {}).get("E_3D_eV")
        rows.append([
            label, str(row.get("formula", "")),
            "–" if ea is None else f"{ea:.3f}" + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else ""),
            "yes" if row.get("in_window") else "MISSED",
            "–" if row.get("sigma_300K_S_cm") is None else f"{row['sigma_300K_S_cm']:.2e}",
            "–" if row.get("sigma_573K_S_cm") is None else f"{row['sigma_573K_S_cm']:.2e}",
            "–" if e3d is None else f"{e3d:.3f}",
            str(row.get("measured", "no measured value shipped")),
        ])
    return {"weights": weight_text, "skill": skill, "reference_header": header,
            "reference_rows": rows}
