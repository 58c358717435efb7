"""Classification and the synthesizability gate of the screen.

``classify_candidates`` scores explicit formulas or an enumeration with the classifier;
:func:`select_candidates` is the gate's decision (a pure function: the composition point for other
selection rules, e.g. a diversity tie-break); ``gate_candidates`` is the dynamic job that expands
the selected candidates into their subflows (:class:`~nasicon_workflows.screen.candidate.
CandidateFlowMaker`) and appends the aggregate job.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from typing import Any

from jobflow import CURRENT_JOB, Flow, Response, job
from jobflow.core.reference import OnMissing

from nasicon_workflows.screen import stages
from nasicon_workflows.screen.aggregate import aggregate_screen
from nasicon_workflows.screen.cache import ResultCache, code_identity, settings_key
from nasicon_workflows.screen.candidate import CandidateFlowMaker
from nasicon_workflows.screen.documents import ClassificationDocument, GateRecord
from nasicon_workflows.screen.errors import EmptyCandidateSetError

__all__ = ["classify_candidates", "gate_candidates", "gate_record", "select_candidates",
           "select_candidates_explained"]

logger = logging.getLogger(__name__)


def _current_uuid() -> str | None:
    current = getattr(CURRENT_JOB, "job", None)
    return None if current is None else current.uuid


def gate_record(row: dict[str, Any], job_uuid: str | None) -> GateRecord:
    """A :class:`GateRecord` from one row of the classifier's table (descriptors = the numeric
    columns that are not record fields)."""
    known = set(GateRecord.model_fields)
    descriptors = {
        k: v for k, v in row.items()
        if (k not in known or k == "entropy_R") and isinstance(v, (int, float))
        and not isinstance(v, bool)
    }
    values = {k: v for k, v in row.items() if k in known and k != "descriptors"}
    for key in ("probability", "entropy_R", "probability_std"):
        if values.get(key) is not None:
            values[key] = float(values[key])
    if values.get("probability_std") is not None and not math.isfinite(values["probability_std"]):
        values["probability_std"] = None
    if values.get("in_domain") is not None:
        values["in_domain"] = bool(values["in_domain"])
    if values.get("domain_reason") is not None and not isinstance(values["domain_reason"], str):
        values["domain_reason"] = str(values["domain_reason"])
    for key in ("probability_std", "ehull_1000K_meV_per_atom"):
        if values.get(key) is not None:
            values[key] = None if not math.isfinite(float(values[key])) else float(values[key])
    if values.get("ehull_pass") is not None:
        values["ehull_pass"] = bool(values["ehull_pass"])
    if values.get("label") is not None:
        values["label"] = bool(values["label"])
    return GateRecord(**values, descriptors=descriptors, classifier_job_uuid=job_uuid)


@job(name="screen classify", output_schema=ClassificationDocument)
def classify_candidates(
    formulas: list[str] | None,
    enumeration: dict,
    keep_scored: int,
    cache_dir: str | None = None,
    max_ehull: float | None = None,
    tie_break: str = "probability",
) -> ClassificationDocument:
    """Score explicit formulas, or enumerate and score compositions, with the classifier.

    ``max_ehull`` (meV/atom, None: off) is the stability second gate: it marks each record's
    ``ehull_pass``; an enumeration ranks only compositions that pass it. ``tie_break`` is how an
    enumeration keeps its ``keep_scored`` (``enumeration.screen_candidates``: ``"ehull"`` keeps
    the probability tie's lowest predicted E_hull, ``"probability"`` the most probable).

    The result is cached under the inputs, the classifier's identity (model, training-data hash,
    seed) and the package version, so a resumed screen does not enumerate again.

    Returns
    -------
    ClassificationDocument
    """
    classifier = stages.classifier_summary()
    cache = ResultCache.from_dir(cache_dir)
    identity = {k: classifier.get(k) for k in ("model_name", "training_data_sha256", "seed")}
    parts = ("classify", formulas, enumeration, keep_scored, identity, code_identity())
    if max_ehull is not None:  # keys of screens without the second gate stay as they were
        parts = (*parts, {"max_ehull": max_ehull})
    if formulas is None and tie_break != "probability":  # likewise the old keep's keys
        parts = (*parts, {"tie_break": tie_break})
    key = settings_key(*parts)
    extra = {} if max_ehull is None else {"max_ehull": max_ehull}
    if cache and (hit := cache.get("classify", key)) is not None:
        logger.info("Scored compositions reused from a previous run")
        return ClassificationDocument.model_validate(hit)
    if formulas is not None:
        logger.info("Scoring %d given compositions with the synthesizability gate", len(formulas))
        rows = stages.score_compositions(formulas, **extra)
        summary = {"mode": "explicit", "n_compositions": len(formulas), **extra}
    else:
        logger.info("Enumerating compositions and scoring them with the synthesizability gate")
        rows, summary = stages.enumerate_and_score(enumeration, keep_scored, **extra,
                                                   tie_break=tie_break)
        summary = {"mode": "enumerated", "rules": enumeration, **summary, **extra}
        if not rows:
            raise EmptyCandidateSetError(
                f"The enumeration {enumeration} produced no composition: widen the dopant pool, "
                "the number of M cations or the step."
            )
    uuid = _current_uuid()
    result = ClassificationDocument(
        records=[gate_record(r, uuid) for r in rows], enumeration=summary,
        classifier=classifier, job_uuid=uuid,
    )
    if cache:
        cache.put("classify", key, result.model_dump())
    return result


def select_candidates(
    records: Sequence[GateRecord], threshold: float, top: int, tie_sigma: float = 1.0
) -> list[GateRecord]:
    """Apply the gate: in domain, probability >= threshold, then ``top`` picks.

    Every record gets ``selected`` and a ``reason``; the input order is kept. See
    :func:`select_candidates_explained` for the pick among the passing compositions.

    Returns
    -------
    list of GateRecord
        Updated copies of all records (selected and rejected).
    """
    return select_candidates_explained(records, threshold, top, tie_sigma)[0]


def select_candidates_explained(
    records: Sequence[GateRecord], threshold: float, top: int, tie_sigma: float = 1.0
) -> tuple[list[GateRecord], dict[str, Any]]:
    """The gate and an account of how the ``top`` picks were made.

    Compositions in the domain with probability >= ``threshold`` pass. When more pass than
    ``top`` and the gate gave a ``probability_std``, the picks are made by
    :func:`~nasicon_workflows.screen.selection.select_diverse`: probabilities within
    ``tie_sigma`` standard deviations of the best's probability are tied and ties are broken by
    predicted E_hull, for different M sites and for spread in descriptor space
    (docs/selection_report.md). Without a
    ``probability_std`` the ``top`` most probable are taken.

    Returns
    -------
    records
        Updated copies of all records (selected and rejected), input order kept.
    selection
        ``{"method", "explanation", "rows"}``: how the pick was made (for results.json and the
        report).
    """
    out = [r.model_copy() for r in records]
    passing = []
    for rec in out:
        p = rec.probability
        if p is None or not math.isfinite(p):
            rec.reason = "no probability from the classifier"
        elif rec.ehull_pass is False:
            rec.reason = (
                f"predicted E_hull(1000 K) {rec.ehull_1000K_meV_per_atom:.1f} meV/atom above "
                "the stability gate (--max-ehull)"
            )
        elif rec.in_domain is False:
            rec.reason = f"outside the classifier's applicability domain: {rec.domain_reason}"
        elif p < threshold:
            rec.reason = f"probability {p:.3f} below threshold {threshold:g}"
        else:
            passing.append(rec)
    passing.sort(key=lambda r: -float(r.probability))
    has_std = any(r.probability_std is not None and math.isfinite(r.probability_std)
                  for r in passing)
    if len(passing) > top and has_std:
        from nasicon_workflows.screen.selection import select_diverse

        sel = select_diverse(passing, n=top, tie_sigma=tie_sigma)
        order = {c: i for i, c in enumerate(sel.selected, start=1)}
        why = {row["composition"]: row for row in sel.rows}
        for rank, rec in enumerate(passing, start=1):
            row = why.get(rec.composition, {})
            if rec.composition in order:
                rec.selected = True
                rec.reason = (
                    f"selected (pick {order[rec.composition]} of {top}): probability "
                    f"{rec.probability:.3f} ± {rec.probability_std or 0:.3f} >= {threshold:g}, "
                    f"in domain, rank {rank} of {len(passing)} passing; {row.get('reason', '')}"
                )
            else:
                rec.reason = (
                    f"passed the gate (probability {rec.probability:.3f}, rank {rank} of "
                    f"{len(passing)}) but not picked among the top {top}: "
                    f"{row.get('reason', '')}"
                )
        selection = {"method": "select_diverse", "tie_sigma": tie_sigma,
                     "explanation": sel.explanation, "rows": sel.rows}
        return out, selection
    for rank, rec in enumerate(passing, start=1):
        if rank <= top:
            rec.selected = True
            rec.reason = (
                f"selected: probability {rec.probability:.3f} >= {threshold:g}, in domain, "
                f"rank {rank} of {len(passing)} passing"
            )
        else:
            rec.reason = (
                f"passed the gate (probability {rec.probability:.3f}) but ranked {rank} of "
                f"{len(passing)}, beyond top {top}"
            )
    if len(passing) <= top:
        text = (f"{len(passing)} composition(s) passed the gate, no more than the {top} picks: "
                "all were taken.")
    else:
        text = (f"{len(passing)} compositions passed the gate; the classifier gave no probability "
                f"uncertainty, so the {top} most probable were taken (no tie-break).")
    return out, {"method": "probability order", "explanation": text, "rows": []}


@job(name="screen gate")
def gate_candidates(
    classified: ClassificationDocument,
    threshold: float,
    top: int,
    candidate_maker: CandidateFlowMaker,
    settings: dict[str, Any],
) -> Response:
    """Select candidates and replace this job by their subflows plus the aggregate job.

    Candidates finished in a previous run of the same cache are not recomputed: their stored
    :class:`CandidateResult` goes straight to the aggregate job.

    Parameters
    ----------
    classified
        Output of :func:`classify_candidates`.
    threshold, top
        The gate (see :func:`select_candidates`).
    candidate_maker
        Maker of each selected candidate's subflow (its ``cache_dir`` is the screen's).
    settings
        Every setting of the screen, for the report.
    """
    classified = ClassificationDocument.model_validate(classified)
    records, selection = select_candidates_explained(classified.records, threshold, top)
    settings = {**settings, "selection": selection}
    logger.info("Gate selection: %s", selection["explanation"])
    selected = [r for r in records if r.selected]
    logger.info(
        "Gate: %d of %d scored compositions selected (threshold %.2f, top %d)",
        len(selected), len(records), threshold, top,
    )
    cache = ResultCache.from_dir(candidate_maker.cache_dir)
    jobs: list[Any] = []
    outputs: list[Any] = []
    for index, rec in enumerate(selected, start=1):
        key = candidate_maker.candidate_key(rec.composition)
        cached = cache.get("candidates", key) if cache else None
        if cached is not None:
            logger.info("Candidate %d/%d %s: finished in a previous run, reused",
                        index, len(selected), rec.composition)
            # computed results come from the cache; the classifier's numbers from this run
            provenance = {**cached.get("provenance", {}), "classifier": rec.classifier_job_uuid}
            outputs.append({**cached, "probability": rec.probability,
                            "probability_std": rec.probability_std,
                            "ehull_1000K_meV_per_atom": rec.ehull_1000K_meV_per_atom,
                            "entropy_R": rec.entropy_R,
                            "entropy_class": rec.entropy_class, "provenance": provenance,
                            "from_cache": True})
            continue
        sub = candidate_maker.make(rec, index, len(selected))
        jobs.append(sub)
        outputs.append(sub.output)
    aggregate = aggregate_screen(
        outputs,
        [r.model_dump() for r in records],
        [r.composition for r in selected],
        classified.enumeration,
        classified.classifier,
        settings,
    )
    aggregate.config.on_missing_references = OnMissing.NONE
    jobs.append(aggregate)
    return Response(replace=Flow(jobs, output=aggregate.output, name="screen candidates"))
