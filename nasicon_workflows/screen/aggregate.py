"""Aggregation of the screen: collect every candidate (failed ones included) and rank them."""

from __future__ import annotations

import logging
from typing import Any

from jobflow import CURRENT_JOB, job

from nasicon_workflows.screen.cache import as_mapping
from nasicon_workflows.screen.documents import (
    DIMENSIONS,
    CandidateResult,
    GateRecord,
    ScreeningResult,
)
from nasicon_workflows.screen.ranking import RankingWeights, rank_candidates

__all__ = ["aggregate_screen", "kmc_columns", "ranking_row"]

logger = logging.getLogger(__name__)


def _current_uuid() -> str | None:
    current = getattr(CURRENT_JOB, "job", None)
    return None if current is None else current.uuid


def ranking_row(candidate: CandidateResult) -> dict[str, Any]:
    """The numbers of one finished candidate that enter the ranking, with their job uuids."""
    row: dict[str, Any] = {
        "composition": candidate.composition,
        "probability": candidate.probability,
        "probability_std": candidate.probability_std,
        "ehull_1000K_meV_per_atom": candidate.ehull_1000K_meV_per_atom,
        "entropy_R": candidate.entropy_R,
        "entropy_class": candidate.entropy_class,
        "n_configurations": len(candidate.configurations),
        "ordering_energy_range_eV_per_m": candidate.ordering_energy_range_eV_per_m,
        "lowest_energy_per_atom_eV": candidate.lowest_energy_per_atom_eV,
    }
    relaxed = [c for c in candidate.configurations if c.relaxed]
    unconverged = [c.index for c in relaxed if c.relax_converged is not True]
    # True: every relaxation met its force criterion; False: at least one did not (flagged in
    # ranking.csv, results.json and the reports); None: no relaxation was run
    row["relax_converged"] = None if not relaxed else not unconverged
    row["n_relax_unconverged"] = len(unconverged)
    errors = [c.composition_error for c in candidate.configurations
              if c.composition_error is not None]
    row["realised_formula"] = next(
        (c.realised_formula for c in candidate.configurations if c.realised_formula), None)
    row["composition_error"] = max(errors) if errors else None
    for dim in DIMENSIONS:
        row[f"barrier_{dim}_mean_eV"] = candidate.barrier_mean_eV.get(dim)
        row[f"barrier_{dim}_std_eV"] = candidate.barrier_std_eV.get(dim)
    prov = candidate.provenance
    row["classifier_job"] = prov.get("classifier")
    row["relax_jobs"] = ";".join(str(u) for u in prov.get("relax", []) if u)
    row["bvse_jobs"] = ";".join(sorted({str(u) for u in prov.get("bvse", []) if u}))
    row["summary_job"] = prov.get("summary")
    if candidate.phonons:
        row["n_imaginary_modes"] = candidate.phonons.get("n_imaginary_modes")
        row["phonon_job"] = prov.get("phonons")
    row.update(kmc_columns(candidate.transport))
    row["from_cache"] = candidate.from_cache
    return row


def kmc_columns(transport: dict[str, Any] | None) -> dict[str, Any]:
    """Ranking columns of a KMC transport document (``KMCDocument`` as a dict); {} otherwise.

    ``kmc_sigma_573K_S_cm`` is the conductivity measured at the temperature closest to 573.15 K
    (within 1 K; NaN when the run has no such temperature), the value the ``kmc`` criterion ranks.
    """
    if not transport or "temperatures" not in transport or "interaction" not in transport:
        return {}
    from nasicon_workflows.screen.ranking import KMC_RANK_TEMPERATURE_K

    sigma = float("nan")
    for entry in transport.get("temperatures") or []:
        if abs(float(entry.get("temperature_K", 0.0)) - KMC_RANK_TEMPERATURE_K) <= 1.0:
            sigma = float(entry.get("sigma_S_cm"))
    ci = transport.get("Ea_ci95_eV") or (None, None)
    return {
        "kmc_sigma_573K_S_cm": sigma,
        "kmc_Ea_eV": transport.get("Ea_eV"),
        "kmc_Ea_ci95_low_eV": ci[0],
        "kmc_Ea_ci95_high_eV": ci[1],
        "kmc_sigma_300K_S_cm": transport.get("sigma_300K_S_cm"),
    }


@job(name="screen aggregate", output_schema=ScreeningResult)
def aggregate_screen(
    candidates: list[Any],
    records: list[dict[str, Any]],
    selected: list[str],
    enumeration: dict[str, Any],
    classifier: dict[str, Any],
    settings: dict[str, Any],
) -> ScreeningResult:
    """Collect every candidate (None = its subflow failed), rank the finished ones.

    Runs with ``on_missing_references = NONE`` so that a failed candidate does not stop it.
    """
    results = []
    for formula, cand in zip(selected, candidates):
        if cand is None:
            rec = next(r for r in records if r["composition"] == formula)
            results.append(CandidateResult(
                composition=formula, status="failed", probability=rec.get("probability"),
                probability_std=rec.get("probability_std"),
                ehull_1000K_meV_per_atom=rec.get("ehull_1000K_meV_per_atom"),
                entropy_R=rec.get("entropy_R"), entropy_class=rec.get("entropy_class"),
                error="a job of this candidate failed (relaxation, BVSE or structure building); "
                      "its output is missing",
            ))
        else:
            results.append(CandidateResult.model_validate(as_mapping(cand)))
    finished = [c for c in results if c.status == "finished"]
    weights = RankingWeights(**settings.get("ranking_weights", {}))
    ranking, notes = rank_candidates([ranking_row(c) for c in finished], weights)
    flagged = [c.composition for c in finished
               if any(x.relaxed and x.relax_converged is not True for x in c.configurations)]
    if flagged:
        notes.append(
            "FLAGGED, relaxation not converged (ranked, but its energies and barriers are of "
            f"partly relaxed cells; column relax_converged = False): {', '.join(flagged)}"
        )
    failed = [c.composition for c in results if c.status != "finished"]
    if failed:
        notes.append(f"not ranked (failed): {', '.join(failed)}")
    logger.info("Ranked %d candidate(s); %d failed", len(finished), len(failed))
    return ScreeningResult(
        settings=settings,
        scored=[GateRecord.model_validate(r) for r in records],
        enumeration=enumeration,
        classifier=classifier,
        candidates=results,
        ranking=ranking.to_dict(orient="records"),
        ranking_notes=notes,
        aggregate_job_uuid=_current_uuid(),
    )
