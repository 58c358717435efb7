"""The end-to-end screening flow: compositions -> classifier -> gate -> per candidate (ordered
configurations -> relaxation -> BVSE) -> aggregate and rank.

The gate is a dynamic job: it expands the selected candidates into per-candidate subflows with
``Response(replace=...)`` and appends the aggregate job, whose ``on_missing_references`` is
``NONE`` so that a candidate whose relaxation or BVSE failed arrives as ``None`` and is reported as
failed while the others are ranked.

Resumability: when ``cache_dir`` is set (the local runner sets it inside the output folder), every
expensive step first looks up its result in a :class:`~nasicon_workflows.screen.cache.ResultCache`
keyed by composition and the settings that change the result, and stores it atomically when done.
On HPC (jobflow-remote) leave ``cache_dir`` None: the queue database does the bookkeeping.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from jobflow import CURRENT_JOB, Flow, Maker, Response, job
from jobflow.core.reference import OnMissing

from nasicon_workflows.composition import NasiconComposition
from nasicon_workflows.screen import stages
from nasicon_workflows.screen.cache import ResultCache, as_mapping, safe_name, settings_key
from nasicon_workflows.screen.documents import (
    CandidateResult,
    ConfigurationResult,
    GateRecord,
    ScreeningResult,
)
from nasicon_workflows.screen.errors import (
    EmptyCandidateSetError,
    ScreenInputError,
    ThresholdRangeError,
)
from nasicon_workflows.screen.ranking import RankingWeights, rank_candidates

__all__ = [
    "DIMENSIONS",
    "ScreeningFlowMaker",
    "aggregate_screen",
    "candidate_key",
    "classify_candidates",
    "gate_candidates",
    "select_candidates",
]

logger = logging.getLogger(__name__)

#: Percolation dimensions reported by the BVSE stage.
DIMENSIONS = ("1D", "2D", "3D")


def _current_uuid() -> str | None:
    current = getattr(CURRENT_JOB, "job", None)
    return None if current is None else current.uuid


@dataclass
class ScreeningFlowMaker(Maker):
    """Maker of the end-to-end NASICON screen.

    Parameters
    ----------
    name
        Flow name.
    enumeration
        Keyword arguments of the enumeration stage's ``EnumerationRules`` used when no explicit
        compositions are given (empty: the stage's defaults, i.e. the paper's dopant pool).
    keep_scored
        How many of the best-scored enumerated compositions are kept in the results (the
        enumeration itself may cover many more; their count is reported).
    threshold
        Minimum synthesizability probability (0-1) for a candidate to pass the gate.
    top
        Number of passing candidates (highest probability first) expanded into calculations.
    orderings
        Ordered configurations per candidate (the BVSE spread is taken over them).
    ordering_method
        ``"ewald"`` or ``"sqs"`` (structure stage).
    max_atoms
        Largest ordered cell, atoms.
    relax
        Relaxation engine: ``"chgnet"``, ``"sevennet"``, ``"vasp"`` or ``"none"``.
    fmax
        Force convergence of force-field relaxations, eV/Å. The screen's default 0.1 (looser
        than the relax stage's 0.05) keeps the default run within ~10 minutes on 2 cores; the
        relaxed structures feed BVSE, whose barriers change by far less than their spread over
        orderings at this tolerance.
    relax_steps
        Maximum optimizer steps of force-field relaxations.
    bvse_resolution
        Grid spacing of the BVSE landscape, Å.
    phonons
        Also compute force-field phonons of the lowest-energy configuration (slow).
    seed
        Seed of every random choice (orderings).
    ranking_weights
        Keyword arguments of :class:`~nasicon_workflows.screen.ranking.RankingWeights`.
    cache_dir
        Folder of the resumable result cache (None: no caching).
    maps_dir
        Folder for the BVSE landscape files (cube, grd, section PNG) of each candidate's first
        configuration (None: not written).
    """

    name: str = "nasicon screen"
    enumeration: dict = field(default_factory=dict)
    keep_scored: int = 100
    threshold: float = 0.5
    top: int = 4
    orderings: int = 2
    ordering_method: str = "ewald"
    max_atoms: int = 200
    relax: str = "chgnet"
    fmax: float = 0.1
    relax_steps: int = 25
    bvse_resolution: float = 0.1
    phonons: bool = False
    seed: int = 0
    ranking_weights: dict = field(default_factory=dict)
    cache_dir: str | None = None
    maps_dir: str | None = None

    def __post_init__(self) -> None:
        if not (0.0 <= float(self.threshold) <= 1.0):
            raise ThresholdRangeError(
                f"Probability threshold {self.threshold} is outside [0, 1]: give e.g. 0.5."
            )
        for name in ("top", "orderings", "keep_scored", "max_atoms", "relax_steps"):
            if int(getattr(self, name)) < 1:
                raise ScreenInputError(f"{name} must be >= 1; got {getattr(self, name)}.")
        if not (self.bvse_resolution > 0 and self.fmax > 0):
            raise ScreenInputError(
                f"bvse_resolution ({self.bvse_resolution} Å) and fmax ({self.fmax} eV/Å) must be "
                "> 0."
            )
        RankingWeights(**self.ranking_weights)  # validates names and values now, not at the end

    # ------------------------------------------------------------------ settings
    def candidate_settings(self) -> dict[str, Any]:
        """The settings that change a candidate's computed results (the cache key)."""
        return {
            "orderings": self.orderings,
            "ordering_method": self.ordering_method,
            "max_atoms": self.max_atoms,
            "relax": self.relax,
            "fmax": self.fmax,
            "relax_steps": self.relax_steps,
            "bvse_resolution": self.bvse_resolution,
            "phonons": self.phonons,
            "seed": self.seed,
        }

    def settings(self) -> dict[str, Any]:
        """Every setting, for the report."""
        return {k: v for k, v in asdict(self).items() if k not in ("cache_dir", "maps_dir")}

    # ------------------------------------------------------------------ flows
    def make(self, compositions: Sequence[str] | None = None) -> Flow:
        """The screening flow.

        Parameters
        ----------
        compositions
            Formulas to screen; None enumerates compositions with :attr:`enumeration`.

        Returns
        -------
        Flow
            ``classify`` then the dynamic ``gate``; the flow's output is the
            :class:`ScreeningResult` of the aggregate job.

        Raises
        ------
        InvalidCompositionError
            A formula that is not a valid NASICON composition.
        EmptyCandidateSetError
            An empty composition list.
        """
        formulas = None
        if compositions is not None:
            formulas = list(dict.fromkeys(
                NasiconComposition.from_formula(f).formula for f in compositions
            ))
            if not formulas:
                raise EmptyCandidateSetError(
                    "The composition list is empty: give at least one formula or omit it to "
                    "enumerate compositions."
                )
        classify = classify_candidates(formulas, self.enumeration, self.keep_scored,
                                       self.cache_dir)
        gate = gate_candidates(classify.output, self)
        return Flow([classify, gate], output=gate.output, name=self.name)

    def make_candidate(self, record: GateRecord, index: int, total: int) -> Flow:
        """The subflow of one gated candidate: configurations -> relaxations -> BVSE -> summary."""
        formula = record.composition
        cache_dir = self.cache_dir
        build = build_configurations_job(
            formula, self.orderings, self.ordering_method, self.max_atoms, self.seed, cache_dir
        )
        build.append_name(f" [{formula}]")
        relax = relax_configurations(build.output, formula, self, index, total)
        relax.append_name(f" [{formula}]")
        bvse = bvse_configurations(
            relax.output, formula, self.bvse_resolution, cache_dir, self.maps_dir
        )
        bvse.append_name(f" [{formula}]")
        jobs = [build, relax, bvse]
        phonons = None
        if self.phonons:
            phonon_job = phonons_of_lowest(relax.output, formula, self)
            phonon_job.append_name(f" [{formula}]")
            jobs.append(phonon_job)
            phonons = phonon_job.output
        summary = summarize_candidate(
            record, relax.output, bvse.output, candidate_key(formula, self), cache_dir,
            {"build": build.uuid}, phonons,
        )
        summary.append_name(f" [{formula}]")
        jobs.append(summary)
        return Flow(jobs, output=summary.output, name=f"candidate {formula}")


def candidate_key(formula: str, maker: ScreeningFlowMaker) -> str:
    """Cache key of a finished candidate: composition + the settings that change its results."""
    return settings_key("candidate", formula, maker.candidate_settings())


# ---------------------------------------------------------------------- classify and gate
@job(name="screen classify")
def classify_candidates(
    formulas: list[str] | None,
    enumeration: dict,
    keep_scored: int,
    cache_dir: str | None = None,
) -> dict[str, Any]:
    """Score explicit formulas, or enumerate and score compositions, with the classifier.

    The result is cached under the inputs and the classifier's identity (model, training-data
    hash, seed), so a resumed screen does not enumerate again.

    Returns
    -------
    dict
        ``records`` (scored compositions), ``enumeration`` (what was enumerated), ``classifier``
        (the model's identity and evaluation numbers) and ``job_uuid``.
    """
    classifier = stages.classifier_summary()
    cache = ResultCache.from_dir(cache_dir)
    identity = {k: classifier.get(k) for k in ("model_name", "training_data_sha256", "seed")}
    key = settings_key("classify", formulas, enumeration, keep_scored, identity)
    if cache and (hit := cache.get("classify", key)) is not None:
        logger.info("Scored compositions reused from a previous run")
        return hit
    if formulas is not None:
        logger.info("Scoring %d given compositions with the synthesizability gate", len(formulas))
        records = stages.score_compositions(formulas)
        summary = {"mode": "explicit", "n_compositions": len(formulas)}
    else:
        logger.info("Enumerating compositions and scoring them with the synthesizability gate")
        records, summary = stages.enumerate_and_score(enumeration, keep_scored)
        summary = {"mode": "enumerated", "rules": enumeration, **summary}
        if not records:
            raise EmptyCandidateSetError(
                f"The enumeration {enumeration} produced no composition: widen the dopant pool, "
                "the number of M cations or the step."
            )
    result = {
        "records": records,
        "enumeration": summary,
        "classifier": classifier,
        "job_uuid": _current_uuid(),
    }
    if cache:
        cache.put("classify", key, result)
    return result


def _gate_record(row: dict[str, Any], job_uuid: str | None) -> GateRecord:
    known = set(GateRecord.model_fields)
    descriptors = {
        k: v for k, v in row.items()
        if (k not in known or k == "entropy_R") and isinstance(v, (int, float))
        and not isinstance(v, bool)
    }
    values = {k: v for k, v in row.items() if k in known and k != "descriptors"}
    for key in ("probability", "entropy_R"):
        if values.get(key) is not None:
            values[key] = float(values[key])
    if values.get("in_domain") is not None:
        values["in_domain"] = bool(values["in_domain"])
    if values.get("domain_reason") is not None and not isinstance(values["domain_reason"], str):
        values["domain_reason"] = str(values["domain_reason"])
    if values.get("label") is not None:
        values["label"] = bool(values["label"])
    return GateRecord(**values, descriptors=descriptors, classifier_job_uuid=job_uuid)


def select_candidates(
    records: Sequence[GateRecord], threshold: float, top: int
) -> list[GateRecord]:
    """Apply the gate: in domain, probability >= threshold, then the ``top`` most probable.

    Every record gets ``selected`` and a ``reason``; the input order is kept.

    Returns
    -------
    list of GateRecord
        Updated copies of all records (selected and rejected).
    """
    out = [r.model_copy() for r in records]
    passing = []
    for rec in out:
        p = rec.probability
        if p is None or not math.isfinite(p):
            rec.reason = "no probability from the classifier"
        elif rec.in_domain is False:
            rec.reason = f"outside the classifier's applicability domain: {rec.domain_reason}"
        elif p < threshold:
            rec.reason = f"probability {p:.3f} below threshold {threshold:g}"
        else:
            passing.append(rec)
    passing.sort(key=lambda r: -float(r.probability))
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
    return out


@job(name="screen gate")
def gate_candidates(classified: dict[str, Any], maker: ScreeningFlowMaker) -> Response:
    """Select candidates and replace this job by their subflows plus the aggregate job.

    Candidates finished in a previous run of the same cache are not recomputed: their stored
    :class:`CandidateResult` goes straight to the aggregate job.
    """
    records = [_gate_record(r, classified.get("job_uuid")) for r in classified["records"]]
    records = select_candidates(records, maker.threshold, maker.top)
    selected = [r for r in records if r.selected]
    logger.info(
        "Gate: %d of %d scored compositions selected (threshold %.2f, top %d)",
        len(selected), len(records), maker.threshold, maker.top,
    )
    cache = ResultCache.from_dir(maker.cache_dir)
    jobs: list[Any] = []
    outputs: list[Any] = []
    for index, rec in enumerate(selected, start=1):
        cached = cache.get("candidates", candidate_key(rec.composition, maker)) if cache else None
        if cached is not None:
            logger.info("Candidate %d/%d %s: finished in a previous run, reused",
                        index, len(selected), rec.composition)
            # computed results come from the cache; the classifier's numbers from this run
            provenance = {**cached.get("provenance", {}), "classifier": rec.classifier_job_uuid}
            outputs.append({**cached, "probability": rec.probability, "entropy_R": rec.entropy_R,
                            "entropy_class": rec.entropy_class, "provenance": provenance,
                            "from_cache": True})
            continue
        sub = maker.make_candidate(rec, index, len(selected))
        jobs.append(sub)
        outputs.append(sub.output)
    aggregate = aggregate_screen(
        outputs,
        [r.model_dump() for r in records],
        [r.composition for r in selected],
        classified.get("enumeration", {}),
        classified.get("classifier", {}),
        maker.settings(),
    )
    aggregate.config.on_missing_references = OnMissing.NONE
    jobs.append(aggregate)
    return Response(replace=Flow(jobs, output=aggregate.output, name="screen candidates"))


# ---------------------------------------------------------------------- per candidate
@job(name="screen configurations")
def build_configurations_job(
    formula: str, orderings: int, method: str, max_atoms: int, seed: int, cache_dir: str | None
) -> list[dict[str, Any]]:
    """Ordered configurations of one composition (cached)."""
    cache = ResultCache.from_dir(cache_dir)
    key = settings_key("configurations", formula, orderings, method, max_atoms, seed)
    if cache and (hit := cache.get("configurations", key)) is not None:
        return hit
    logger.info("%s: building %d ordered configuration(s) (%s)", formula, orderings, method)
    configs = stages.build_configurations(formula, orderings, method, max_atoms, seed)
    if cache:
        cache.put("configurations", key, configs)
    return configs


def _relax_key(structure, maker: ScreeningFlowMaker) -> str:
    return settings_key("relax", structure.as_dict(), maker.relax, maker.fmax, maker.relax_steps)


@job(name="screen optimise configurations")
def relax_configurations(
    configurations: list[dict[str, Any]],
    formula: str,
    maker: ScreeningFlowMaker,
    index: int,
    total: int,
    done: list[dict[str, Any]] | None = None,
) -> Response | list[dict[str, Any]]:
    """Relax the configurations one after the other; reuse relaxations finished earlier.

    Configurations already in the cache are taken from it; at the first one that is not, this job
    replaces itself by (relaxation, record, this job again for the rest), the next job taking the
    record as input. The chain makes the order strict (relaxation i, its record, relaxation i+1),
    so a run killed during a relaxation has stored every relaxation before it.

    Parameters
    ----------
    configurations
        Output of the configurations job.
    formula, index, total
        Candidate formula and its position, for progress messages.
    maker
        Screen settings.
    done
        Records of the configurations handled so far (references resolved by jobflow).

    Returns
    -------
    list of dict or Response
        One record per configuration (relaxed structure, energies, convergence, job uuid).
    """
    cache = ResultCache.from_dir(maker.cache_dir)
    outputs = list(done or [])
    for i in range(len(outputs), len(configurations)):
        config = configurations[i]
        structure = as_structure(config["structure"])
        base = {
            "index": i,
            **{k: config.get(k) for k in ("ordering_score", "realised_formula", "composition_error")},
        }
        if maker.relax == "none":
            outputs.append(_configuration_record(structure, None, base, relaxed=False))
            continue
        key = _relax_key(structure, maker)
        if cache and (hit := cache.get("relaxations", key)) is not None:
            logger.info("Candidate %d/%d %s: configuration %d relaxed in a previous run",
                        index, total, formula, i + 1)
            outputs.append(hit)
            continue
        logger.info("Candidate %d/%d %s: relaxing configuration %d/%d (%s)",
                    index, total, formula, i + 1, len(configurations), maker.relax)
        relax_job = stages.relax_maker(maker.relax, maker.fmax, maker.relax_steps).make(structure)
        relax_job.append_name(f" [{formula} #{i}]")
        record = record_relaxation(relax_job.output, base, relax_job.uuid, key, maker.cache_dir)
        record.append_name(f" [{formula} #{i}]")
        rest = relax_configurations(
            configurations, formula, maker, index, total, [*outputs, record.output]
        )
        rest.append_name(f" [{formula}]")
        return Response(replace=Flow([relax_job, record, rest], output=rest.output))
    return outputs


def _get(obj: Any, *path: str) -> Any:
    for name in path:
        if obj is None:
            return None
        obj = obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)
    return obj


def as_structure(obj: Any):
    """A pymatgen Structure from a Structure or its ``as_dict`` (references may give either)."""
    from pymatgen.core import Structure

    return Structure.from_dict(obj) if isinstance(obj, dict) else obj


def _configuration_record(
    structure, energy: float | None, base: dict, relaxed: bool, relax_uuid: str | None = None
) -> dict[str, Any]:
    structure = as_structure(structure)
    framework = {"Na", "Si", "P", "O"}
    n_m = sum(1 for site in structure if not ({e.symbol for e in site.species} <= framework))
    return {
        **base,
        "n_atoms": len(structure),
        "relaxed": relaxed,
        "energy_eV": None if energy is None else float(energy),
        "energy_per_atom_eV": None if energy is None else float(energy) / len(structure),
        "n_m_cations": n_m,
        "volume_A3": float(structure.volume),
        "structure": structure.as_dict(),
        "relax_job_uuid": relax_uuid,
    }


@job(name="screen record optimised cell")
def record_relaxation(
    relax_output: Any, base: dict, relax_uuid: str, key: str, cache_dir: str | None
) -> dict[str, Any]:
    """Relaxed structure and energy of one configuration, stored in the cache at once so that a
    run killed later keeps it."""
    structure = _get(relax_output, "structure") or _get(relax_output, "output", "structure")
    energy = _get(relax_output, "output", "energy")
    if energy is None:
        energy = _get(relax_output, "energy")
    record = _configuration_record(structure, energy, base, relaxed=True, relax_uuid=relax_uuid)
    record["relax_converged"] = _get(relax_output, "is_force_converged")
    record["relax_steps"] = _get(relax_output, "output", "n_steps")
    logger.info("%s configuration %d relaxed: %s eV/atom, volume %.1f Å^3",
                record["realised_formula"] or "", base["index"] + 1,
                "?" if energy is None else f"{record['energy_per_atom_eV']:.4f}",
                record["volume_A3"])
    cache = ResultCache.from_dir(cache_dir)
    if cache:
        cache.put("relaxations", key, record)
    return record


def barriers_of(result: Any) -> dict[str, float | None]:
    """Percolation barriers (eV) keyed 1D/2D/3D from the BVSE stage's result (None = no path)."""
    out = {}
    for dim in DIMENSIONS:
        value = None
        for name in (f"E_{dim}", f"barrier_{dim}_eV", f"e_{dim.lower()}", f"E{dim}"):
            value = _get(result, name)
            if value is not None:
                break
        if value is None:
            value = _get(result, "barriers_eV", dim) or _get(result, "barriers", dim)
        value = None if value is None else float(value)
        out[dim] = value if value is not None and math.isfinite(value) else None
    return out


@job(name="screen bvse")
def bvse_configurations(
    configurations: list[dict[str, Any]],
    formula: str,
    resolution: float,
    cache_dir: str | None,
    maps_dir: str | None = None,
) -> list[dict[str, Any]]:
    """BVSE analysis of every relaxed configuration (cached per structure); the landscape files
    (cube, grd, section PNG) of configuration 0 go to ``maps_dir`` when it is set."""
    cache = ResultCache.from_dir(cache_dir)
    out = []
    for config in configurations:
        structure = as_structure(config["structure"])
        key = settings_key("bvse", structure.as_dict(), resolution)
        hit = cache.get("bvse", key) if cache else None
        if hit is None:
            logger.info("%s: BVSE of configuration %d at %.2f Å", formula,
                        config["index"] + 1, resolution)
            document = stages.bvse_landscape(
                structure, resolution,
                maps_dir=maps_dir if config["index"] == 0 else None,
                stem=f"{safe_name(formula)}_0",
            )
            hit = {"document": as_mapping(document), "bvse_job_uuid": _current_uuid()}
            if cache:
                cache.put("bvse", key, hit)
        out.append({"index": config["index"], **hit})
    return out


@job(name="screen phonons")
def phonons_of_lowest(
    configurations: list[dict[str, Any]], formula: str, maker: ScreeningFlowMaker
) -> Response | dict[str, Any]:
    """Phonons (relax stage's ``NasiconPhononMaker``) of the lowest-energy configuration.

    Without energies (``relax="none"``) configuration 0, the best ordering score, is used.
    """
    with_energy = [c for c in configurations if c.get("energy_per_atom_eV") is not None]
    chosen = min(with_energy, key=lambda c: c["energy_per_atom_eV"]) if with_energy \
        else configurations[0]
    structure = as_structure(chosen["structure"])
    engine = stages.phonon_engine(maker.relax)
    key = settings_key("phonons", structure.as_dict(), engine)
    cache = ResultCache.from_dir(maker.cache_dir)
    if cache and (hit := cache.get("phonons", key)) is not None:
        return hit
    logger.info("%s: phonons of configuration %d (%s)", formula, chosen["index"] + 1, engine)
    flow = stages.phonon_maker(engine).make(structure, composition=formula)
    record = record_phonons(flow.output, chosen["index"], key, maker.cache_dir)
    return Response(replace=Flow([flow, record], output=record.output))


@job(name="screen record phonons")
def record_phonons(
    document: Any, index: int, key: str, cache_dir: str | None
) -> dict[str, Any]:
    """The phonon summary of one configuration, cached at once."""
    record = {"index": index, **as_mapping(document), "phonon_job_uuid": _current_uuid()}
    cache = ResultCache.from_dir(cache_dir)
    if cache:
        cache.put("phonons", key, record)
    return record


@job(name="screen candidate summary", output_schema=CandidateResult)
def summarize_candidate(
    record: GateRecord,
    configurations: list[dict[str, Any]],
    bvse: list[dict[str, Any]],
    key: str,
    cache_dir: str | None,
    provenance: dict[str, Any],
    phonons: dict[str, Any] | None = None,
) -> CandidateResult:
    """Combine the configurations of one candidate: barrier mean/std over orderings, ordering
    energy range; store the finished candidate in the cache."""
    record = GateRecord.model_validate(as_mapping(record))
    by_index = {b["index"]: b for b in bvse}
    ensemble = stages.bvse_ensemble([b["document"] for b in bvse], record.composition)
    configs = []
    for c in configurations:
        b = by_index.get(c["index"], {})
        values = {k: v for k, v in c.items() if k in ConfigurationResult.model_fields}
        values["structure"] = as_structure(c["structure"])
        configs.append(ConfigurationResult(
            **values,
            barriers_eV=barriers_of(b.get("document")),
            bvse_job_uuid=b.get("bvse_job_uuid"),
        ))
    stats = {dim: getattr(ensemble, f"E_{dim}") for dim in DIMENSIONS}
    energies = [c.energy_eV / c.n_m_cations for c in configs
                if c.energy_eV is not None and c.n_m_cations]
    per_atom = [c.energy_per_atom_eV for c in configs if c.energy_per_atom_eV is not None]
    result = CandidateResult(
        composition=record.composition,
        status="finished",
        probability=record.probability,
        entropy_R=record.entropy_R,
        entropy_class=record.entropy_class,
        configurations=configs,
        barrier_mean_eV={dim: st.mean_eV for dim, st in stats.items()},
        barrier_std_eV={dim: st.std_eV for dim, st in stats.items()},
        n_percolating={dim: st.n_percolating for dim, st in stats.items()},
        ordering_energy_range_eV_per_m=(
            float(max(energies) - min(energies)) if len(energies) >= 2 else None
        ),
        lowest_energy_per_atom_eV=min(per_atom) if per_atom else None,
        phonons=None if phonons is None else {
            k: v for k, v in as_mapping(phonons).items() if not k.startswith("@")
        },
        provenance={
            **provenance,
            "classifier": record.classifier_job_uuid,
            "relax": [c.relax_job_uuid for c in configs],
            "bvse": [c.bvse_job_uuid for c in configs],
            "summary": _current_uuid(),
            "phonons": None if phonons is None else as_mapping(phonons).get("phonon_job_uuid"),
        },
    )
    cache = ResultCache.from_dir(cache_dir)
    if cache:
        cache.put("candidates", key, result.model_dump())
    return result


# ---------------------------------------------------------------------- aggregate
def ranking_row(candidate: CandidateResult) -> dict[str, Any]:
    """The numbers of one finished candidate that enter the ranking, with their job uuids."""
    row: dict[str, Any] = {
        "composition": candidate.composition,
        "probability": candidate.probability,
        "entropy_R": candidate.entropy_R,
        "entropy_class": candidate.entropy_class,
        "n_configurations": len(candidate.configurations),
        "ordering_energy_range_eV_per_m": candidate.ordering_energy_range_eV_per_m,
        "lowest_energy_per_atom_eV": candidate.lowest_energy_per_atom_eV,
    }
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
    row["from_cache"] = candidate.from_cache
    return row


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
                entropy_R=rec.get("entropy_R"), entropy_class=rec.get("entropy_class"),
                error="a job of this candidate failed (relaxation, BVSE or structure building); "
                      "its output is missing",
            ))
        else:
            results.append(CandidateResult.model_validate(as_mapping(cand)))
    finished = [c for c in results if c.status == "finished"]
    weights = RankingWeights(**settings.get("ranking_weights", {}))
    ranking, notes = rank_candidates([ranking_row(c) for c in finished], weights)
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
