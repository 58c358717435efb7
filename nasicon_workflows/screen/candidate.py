"""The per-candidate subflow of the screen, built from the stage Makers.

One gated composition becomes::

    structures (BuildStructuresMaker)            -> StructuresDocument
    relaxations (relax stage Maker, one by one)  -> list[RelaxedConfiguration]
    BVSE (BVSEMaker, one per configuration)      -> list[ConfigurationBVSE]
    [phonons (NasiconPhononMaker), lowest energy]
    [transport (any Maker with make(structure)), lowest energy]
    summary                                       -> CandidateResult

The jobs pass ``job.output`` references; each reads the typed fields of the document it receives.
With a ``cache_dir`` (local runs) every stage result is also stored in a
:class:`~nasicon_workflows.screen.cache.ResultCache` so that a resumed run skips it; without one
(HPC: the queue database does the bookkeeping) the stage Makers' jobs go into the flow as they are.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from jobflow import CURRENT_JOB, Flow, Job, Maker, Response, job
from monty.json import MontyDecoder

from nasicon_workflows.relax.schemas import RelaxationDocument
from nasicon_workflows.relax.settings import ForceFieldRelaxSettings, VaspRelaxSettings
from nasicon_workflows.screen import stages
from nasicon_workflows.screen.cache import (
    ResultCache,
    as_mapping,
    code_identity,
    safe_name,
    settings_key,
)
from nasicon_workflows.screen.documents import (
    DIMENSIONS,
    CandidateResult,
    ConfigurationBVSE,
    ConfigurationResult,
    GateRecord,
    RelaxedConfiguration,
)
from nasicon_workflows.structures.schemas import StructuresDocument

__all__ = [
    "CandidateFlowMaker",
    "bvse_configurations",
    "cached_stage",
    "certified_criterion",
    "needs_continuation",
    "record_relaxation",
    "relax_configurations",
    "relax_key",
    "summarize_candidate",
]

logger = logging.getLogger(__name__)

RelaxSettings = ForceFieldRelaxSettings | VaspRelaxSettings


def _current_uuid() -> str | None:
    current = getattr(CURRENT_JOB, "job", None)
    return None if current is None else current.uuid


def _decoded(obj: Any) -> Any:
    """A document serialised by jobflow/monty (``@module``/``@class``) as its object."""
    if isinstance(obj, Mapping) and "@module" in obj:
        return MontyDecoder().process_decoded(dict(obj))
    return obj


# ---------------------------------------------------------------------- cache around a stage
@job(name="screen store result")
def store_result(output: Any, kind: str, key: str, cache_dir: str) -> Any:
    """Store a stage's output in the cache and pass it on unchanged."""
    ResultCache(cache_dir).put(kind, key, as_mapping(output))
    return output


@job(name="screen cached stage")
def cached_stage_job(
    maker: Maker, kind: str, key: str, cache_dir: str, kwargs: dict[str, Any]
) -> Any:
    """The cached result of ``maker.make(**kwargs)``, or that job (and a store job) in its place."""
    hit = ResultCache(cache_dir).get(kind, key)
    if hit is not None:
        logger.info("%s reused from a previous run", kind)
        return hit
    stage = maker.make(**kwargs)
    store = store_result(stage.output, kind, key, cache_dir)
    return Response(replace=Flow([stage, store], output=store.output))


def cached_stage(
    maker: Maker, kind: str, key: str, cache_dir: str | None, **kwargs: Any
) -> Job | Flow:
    """``maker.make(**kwargs)`` itself without a cache; a cache lookup in front of it with one."""
    if cache_dir is None:
        return maker.make(**kwargs)
    return cached_stage_job(maker, kind, key, cache_dir, kwargs)


# ---------------------------------------------------------------------- relaxations
def relax_key(structure, settings: RelaxSettings, continuation: int = 0) -> str:
    """Cache key of one relaxation: structure, relaxation settings, package and model version,
    and which continuation it is (0: the first relaxation), so that a continuation that did not
    move the cell is never answered by the record it continues."""
    parts = ["relax", structure.as_dict(), settings.settings_dict(), code_identity(settings.engine)]
    return settings_key(*parts, *([f"continuation {continuation}"] if continuation else []))


def _n_m_cations(structure) -> int:
    framework = {"Na", "Si", "P", "O"}
    return sum(1 for site in structure if not ({e.symbol for e in site.species} <= framework))


def _unrelaxed(structure, base: dict[str, Any]) -> RelaxedConfiguration:
    return RelaxedConfiguration(
        **base, n_atoms=len(structure), relaxed=False, n_m_cations=_n_m_cations(structure),
        volume_A3=float(structure.volume), structure=structure,
    )


#: Margin (eV/Å) between a force field's optimizer criterion and the force the final cell is
#: checked against: the round trip of the final cell through a pymatgen structure moves the
#: largest force by ~1e-4 eV/Å (docs/relax_convergence.md), so fmax 0.049 certifies 0.05.
CERTIFY_MARGIN_eV_PER_A = 0.001


def certified_criterion(settings: RelaxSettings) -> float | None:
    """The largest final atomic force a relaxation may have and count as converged, eV/Å.

    Force fields: the optimizer's ``fmax`` + :data:`CERTIFY_MARGIN_eV_PER_A` (the screen's
    default 0.049 is checked against 0.05), and the optimizer must also report convergence
    (cell and positions). VASP: |EDIFFG|.
    """
    criterion = settings.force_criterion_eV_per_A
    if criterion is None or isinstance(settings, VaspRelaxSettings):
        return criterion
    return round(float(criterion) + CERTIFY_MARGIN_eV_PER_A, 6)


def _on_sibling_lattice(structure, relaxed, formula: str, i: int):
    """Ordering ``i`` started on the relaxed lattice of ordering 0 (fractional coordinates kept):
    -41 % / -38 % optimizer steps on ME1 / HE1g (docs/relax_convergence.md). Falls back to the
    ordering's own lattice when the two are not the same supercell."""
    from nasicon_workflows.relax.errors import RelaxInputError
    from nasicon_workflows.relax.start import on_relaxed_lattice

    try:
        return on_relaxed_lattice(structure, relaxed)
    except RelaxInputError as exc:
        logger.warning("%s configuration %d starts on its own lattice: %s", formula, i + 1, exc)
        return structure


#: How many times a force-field relaxation whose final forces fail the convergence check is
#: continued from its last cell. ASE's FrechetCellFilter hands the optimizer the atomic forces
#: times the cell's deformation gradient, so the optimizer can stop at fmax 0.049 while the true
#: largest force is above it (measured: 0.0492 eV/Å after 65 BFGS steps, which atomate2 reports as
#: not converged); a continuation starts with the deformation gradient at identity and converged
#: in 3 more steps (0.039 eV/Å; docs/screen.md).
MAX_CONTINUATIONS = 2


def needs_continuation(record: RelaxedConfiguration, settings: RelaxSettings | None) -> bool:
    """Whether a relaxed configuration is continued from its last cell: a force-field relaxation
    whose optimizer stopped before its step limit but whose final forces fail the convergence
    check, with continuations left. A relaxation that used up its steps is not continued (the
    step limit is the user's) and stays flagged; VASP relaxations are not (custodian and the
    double relaxation do that job)."""
    return (
        isinstance(settings, ForceFieldRelaxSettings)
        and record.relaxed
        and not record.relax_converged
        and record.relax_hit_step_limit is False
        and record.relax_continuations < MAX_CONTINUATIONS
    )


@job(name="screen record optimised cell", output_schema=RelaxedConfiguration)
def record_relaxation(
    relax_output: Any,
    base: dict[str, Any],
    relaxer: str,
    fmax_eV_per_A: float | None,
    relax_uuid: str,
    key: str,
    cache_dir: str | None,
    previous: Any = None,
    max_steps: int | None = None,
) -> RelaxedConfiguration:
    """Summarise one relaxation (force-field ``ForceFieldTaskDocument`` or VASP ``TaskDoc``,
    through :meth:`RelaxationDocument.from_task_document`) and store it in the cache at once, so
    that a run killed later keeps it.

    ``previous`` is the record of the relaxation this one continued (None for a first
    relaxation): its steps are added and the continuation is counted. ``max_steps`` is the
    optimizer's step limit (None: unknown, as for VASP).
    """
    summary = RelaxationDocument.from_task_document(
        _decoded(relax_output), relaxer, fmax=fmax_eV_per_A
    )
    before = (
        RelaxedConfiguration.model_validate(_decoded(previous)) if previous is not None else None
    )
    steps = summary.n_steps
    hit_limit = None if max_steps is None or steps is None else steps >= max_steps
    if before is not None and before.relax_steps is not None and steps is not None:
        steps += before.relax_steps
    structure = summary.structure
    record = RelaxedConfiguration(
        **base,
        n_atoms=len(structure),
        relaxed=True,
        relaxer=relaxer,
        relax_converged=summary.converged,
        relax_steps=steps,
        relax_continuations=0 if before is None else before.relax_continuations + 1,
        max_force_eV_per_A=summary.max_force_eV_per_A,
        relax_hit_step_limit=hit_limit,
        energy_eV=summary.energy_eV,
        energy_per_atom_eV=summary.energy_per_atom,
        n_m_cations=_n_m_cations(structure),
        volume_A3=float(structure.volume),
        structure=structure,
        relax_job_uuid=relax_uuid,
    )
    logger.info("%s configuration %d relaxed (%s%s): %.4f eV/atom, volume %.1f Å^3, "
                "largest force %s eV/Å, %s",
                record.realised_formula or "", record.index + 1, relaxer,
                f", continuation {record.relax_continuations}" if before is not None else "",
                record.energy_per_atom_eV, record.volume_A3,
                "?" if record.max_force_eV_per_A is None else f"{record.max_force_eV_per_A:.4f}",
                "converged" if record.relax_converged else "NOT converged")
    if cache_dir is not None:
        ResultCache(cache_dir).put("relaxations", key, record.model_dump())
    return record


@job(name="screen optimise configurations")
def relax_configurations(
    structures: StructuresDocument | Mapping,
    formula: str,
    settings: RelaxSettings | None,
    index: int,
    total: int,
    cache_dir: str | None = None,
    done: list[Any] | None = None,
) -> Response | list[RelaxedConfiguration]:
    """Relax the ordered configurations one after the other with the relax stage's Maker.

    Configurations after the first start on the relaxed lattice of configuration 0
    (:func:`~nasicon_workflows.relax.start.on_relaxed_lattice`), which the chain relaxes first.

    Relaxations already in the cache are taken from it; at the first one that is not, this job
    replaces itself by (relaxation, record, this job again for the rest). The chain makes the
    order strict, so a run killed during a relaxation has stored every relaxation before it.
    A force-field relaxation that stopped before its step limit but whose final forces fail the
    convergence check is continued from its last cell (at most :data:`MAX_CONTINUATIONS` times, :func:`needs_continuation`) before the
    next configuration starts; one that still fails is flagged, never ranked silently.

    Parameters
    ----------
    structures
        Output of the structure stage (``BuildStructuresMaker``).
    formula, index, total
        Candidate formula and its position, for progress messages.
    settings
        Force-field or VASP settings (None: no relaxation).
    cache_dir
        Result cache folder (None: no caching).
    done
        Records of the configurations handled so far (references resolved by jobflow).

    Returns
    -------
    list of RelaxedConfiguration or Response
    """
    doc = StructuresDocument.model_validate(_decoded(structures))
    outputs = [RelaxedConfiguration.model_validate(_decoded(d)) for d in (done or [])]
    cache = ResultCache.from_dir(cache_dir)
    i = 0
    while i < len(doc.structures):
        previous = None
        if i < len(outputs):
            # Relaxed already (this run or the cache): continue it from its last cell if its
            # final forces failed the check, else go on to the next configuration.
            if not needs_continuation(outputs[i], settings):
                i += 1
                continue
            previous = outputs[i]
            structure = previous.structure
            base = previous.model_dump(
                include={"index", "ordering_score", "realised_formula", "composition_error"}
            )
            logger.warning(
                "Candidate %d/%d %s: configuration %d failed the convergence check (largest "
                "force %s eV/Å); continuing from its last cell (continuation %d of at most %d)",
                index, total, formula, i + 1,
                "unknown" if previous.max_force_eV_per_A is None
                else f"{previous.max_force_eV_per_A:.4f}",
                previous.relax_continuations + 1, MAX_CONTINUATIONS,
            )
        else:
            structure = doc.structures[i]
            base = {
                "index": i,
                "ordering_score": float(doc.scores[i]),
                "realised_formula": doc.realised_composition,
                "composition_error": float(doc.composition_error),
            }
            if settings is None:
                outputs.append(_unrelaxed(structure, base))
                i += 1
                continue
            if i > 0 and outputs and outputs[0].relaxed:
                structure = _on_sibling_lattice(structure, outputs[0].structure, formula, i)
        key = relax_key(
            structure, settings, 0 if previous is None else previous.relax_continuations + 1
        )
        if cache and (hit := cache.get("relaxations", key)) is not None:
            logger.info("Candidate %d/%d %s: configuration %d relaxed in a previous run",
                        index, total, formula, i + 1)
            outputs[i:i + 1] = [RelaxedConfiguration.model_validate(hit)]
            continue  # the same configuration again: it may still need a continuation
        logger.info("Candidate %d/%d %s: relaxing configuration %d/%d (%s)",
                    index, total, formula, i + 1, len(doc.structures), settings.engine)
        relax_job = stages.relax_maker(settings).make(structure)
        relax_job.append_name(f" [{formula} #{i}]")
        record = record_relaxation(
            relax_job.output, base, settings.engine, certified_criterion(settings),
            relax_job.output.uuid, key, cache_dir, previous,
            settings.max_steps if isinstance(settings, ForceFieldRelaxSettings) else None,
        )
        record.append_name(f" [{formula} #{i}]")
        rest = relax_configurations(
            doc, formula, settings, index, total, cache_dir, [*outputs[:i], record.output]
        )
        rest.append_name(f" [{formula}]", dynamic=False)
        return Response(replace=Flow([relax_job, record, rest], output=rest.output))
    return outputs


# ---------------------------------------------------------------------- BVSE
@job(name="screen record bvse", output_schema=ConfigurationBVSE, data=["document"])
def record_bvse(
    document: Any, index: int, bvse_uuid: str, key: str, cache_dir: str | None
) -> ConfigurationBVSE:
    """The BVSE stage's document of one configuration (landscape analysis in the data store)."""
    result = ConfigurationBVSE(index=index, document=_decoded(document), bvse_job_uuid=bvse_uuid)
    if cache_dir is not None:
        ResultCache(cache_dir).put("bvse", key, result.model_dump())
    return result


@job(name="screen bvse")
def bvse_configurations(
    configurations: list[Any],
    formula: str,
    resolution: float,
    cache_dir: str | None = None,
    maps_dir: str | None = None,
) -> Response | list[ConfigurationBVSE]:
    """One ``BVSEMaker`` job per relaxed configuration (cached per structure); the landscape files
    (cube, grd, section PNG) of configuration 0 go to ``maps_dir`` when it is set."""
    configs = [RelaxedConfiguration.model_validate(_decoded(c)) for c in configurations]
    cache = ResultCache.from_dir(cache_dir)
    jobs: list[Job] = []
    outputs: list[Any] = []
    for config in configs:
        key = settings_key("bvse", config.structure.as_dict(), resolution, code_identity())
        hit = cache.get("bvse", key) if cache else None
        if hit is not None:
            outputs.append(ConfigurationBVSE.model_validate(hit))
            continue
        logger.info("%s: BVSE of configuration %d at %.2f Å", formula, config.index + 1,
                    resolution)
        maker = stages.bvse_maker(
            resolution, maps_dir=maps_dir if config.index == 0 else None,
            stem=f"{safe_name(formula)}_0",
        )
        bvse = maker.make(config.structure)
        bvse.append_name(f" [{formula} #{config.index}]")
        record = record_bvse(bvse.output, config.index, bvse.uuid, key, cache_dir)
        record.append_name(f" [{formula} #{config.index}]")
        jobs += [bvse, record]
        outputs.append(record.output)
    if not jobs:
        return outputs
    return Response(replace=Flow(jobs, output=outputs))


# ---------------------------------------------------------------------- phonons and transport
def _lowest_energy(configs: list[RelaxedConfiguration]) -> RelaxedConfiguration:
    """Lowest relaxed energy per atom; without energies configuration 0 (best ordering score)."""
    with_energy = [c for c in configs if c.energy_per_atom_eV is not None]
    return min(with_energy, key=lambda c: c.energy_per_atom_eV) if with_energy else configs[0]


@job(name="screen record phonons")
def record_phonons(document: Any, index: int, key: str, cache_dir: str | None) -> dict[str, Any]:
    """The phonon summary of one configuration, cached at once."""
    record = {"index": index, **as_mapping(_decoded(document)),
              "phonon_job_uuid": _current_uuid()}
    if cache_dir is not None:
        ResultCache(cache_dir).put("phonons", key, record)
    return record


@job(name="screen phonons")
def phonons_of_lowest(
    configurations: list[Any], formula: str, engine: str, cache_dir: str | None = None
) -> Response | dict[str, Any]:
    """Phonons (relax stage's ``NasiconPhononMaker``) of the lowest-energy configuration."""
    chosen = _lowest_energy([RelaxedConfiguration.model_validate(_decoded(c))
                             for c in configurations])
    key = settings_key("phonons", chosen.structure.as_dict(), engine, code_identity(engine))
    cache = ResultCache.from_dir(cache_dir)
    if cache and (hit := cache.get("phonons", key)) is not None:
        return hit
    logger.info("%s: phonons of configuration %d (%s)", formula, chosen.index + 1, engine)
    flow = stages.phonon_maker(engine).make(chosen.structure, composition=formula)
    record = record_phonons(flow.output, chosen.index, key, cache_dir)
    return Response(replace=Flow([flow, record], output=record.output))


@job(name="screen transport")
def transport_of_lowest(configurations: list[Any], maker: Maker) -> Response:
    """The optional transport stage (``maker.make(structure)``, e.g. a KMC or MD Maker) on the
    lowest-energy relaxed configuration."""
    chosen = _lowest_energy([RelaxedConfiguration.model_validate(_decoded(c))
                             for c in configurations])
    stage = maker.make(chosen.structure)
    return Response(replace=stage)


# ---------------------------------------------------------------------- summary
@job(name="screen candidate summary", output_schema=CandidateResult)
def summarize_candidate(
    record: GateRecord,
    configurations: list[Any],
    bvse: list[Any],
    key: str,
    cache_dir: str | None,
    provenance: dict[str, Any],
    phonons: Any = None,
    transport: Any = None,
) -> CandidateResult:
    """Combine the configurations of one candidate: barrier mean/std over orderings (the BVSE
    stage's ensemble statistics), ordering energy range; store the finished candidate."""
    record = GateRecord.model_validate(_decoded(record))
    relaxed = [RelaxedConfiguration.model_validate(_decoded(c)) for c in configurations]
    by_index = {b.index: b for b in (ConfigurationBVSE.model_validate(_decoded(x)) for x in bvse)}
    ensemble = stages.bvse_ensemble(
        [by_index[c.index].document for c in relaxed if c.index in by_index], record.composition
    )
    configs = []
    for c in relaxed:
        b = by_index.get(c.index)
        configs.append(ConfigurationResult(
            **c.model_dump(exclude={"structure"}),
            structure=c.structure,
            barriers_eV=b.barriers_eV if b is not None else dict.fromkeys(DIMENSIONS),
            bvse_job_uuid=None if b is None else b.bvse_job_uuid,
        ))
    stats = {dim: getattr(ensemble, f"E_{dim}") for dim in DIMENSIONS}
    energies = [c.energy_eV / c.n_m_cations for c in configs
                if c.energy_eV is not None and c.n_m_cations]
    per_atom = [c.energy_per_atom_eV for c in configs if c.energy_per_atom_eV is not None]
    phonon_summary = None if phonons is None else {
        k: v for k, v in as_mapping(_decoded(phonons)).items() if not k.startswith("@")
    }
    transport_summary = None if transport is None else {
        k: v for k, v in as_mapping(_decoded(transport)).items() if not k.startswith("@")
    }
    result = CandidateResult(
        composition=record.composition,
        status="finished",
        probability=record.probability,
        probability_std=record.probability_std,
        ehull_1000K_meV_per_atom=record.ehull_1000K_meV_per_atom,
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
        phonons=phonon_summary,
        transport=transport_summary,
        provenance={
            **provenance,
            "classifier": record.classifier_job_uuid,
            "relax": [c.relax_job_uuid for c in configs],
            "bvse": [c.bvse_job_uuid for c in configs],
            "summary": _current_uuid(),
            "phonons": None if phonon_summary is None else phonon_summary.get("phonon_job_uuid"),
        },
    )
    if cache_dir is not None:
        ResultCache(cache_dir).put("candidates", key, result.model_dump())
    return result


# ---------------------------------------------------------------------- the subflow
@dataclass
class CandidateFlowMaker(Maker):
    """Maker of the subflow of one gated candidate, composed of the stage Makers.

    Parameters
    ----------
    name
        Flow name prefix.
    orderings
        Ordered configurations per candidate.
    ordering_method
        ``"ewald"`` or ``"sqs"``.
    max_atoms
        Largest ordered cell, atoms.
    seed
        Seed of the orderings.
    allow_composition_error
        Build the nearest realisable composition (error recorded) when no cell within
        ``max_atoms`` realises the composition exactly; False refuses it (the structure stage's
        exact, possibly non-diagonal, supercell search).
    relax_settings
        :class:`~nasicon_workflows.relax.settings.ForceFieldRelaxSettings` or
        :class:`~nasicon_workflows.relax.settings.VaspRelaxSettings`; None: no relaxation.
    bvse_resolution
        BVSE grid spacing, Å.
    phonon_engine
        Engine of the phonons of the lowest-energy configuration (None: no phonons).
    transport_maker
        Optional transport stage: any Maker whose ``make(structure)`` takes the lowest-energy
        relaxed structure (e.g. a KMC or MD Maker); its output lands in
        ``CandidateResult.transport``. None: no transport stage.
    cache_dir
        Result cache folder (None: no caching, e.g. on HPC).
    maps_dir
        Folder of the BVSE landscape files of configuration 0 (None: not written).
    """

    name: str = "candidate"
    orderings: int = 2
    ordering_method: str = "ewald"
    max_atoms: int = 200
    seed: int = 0
    allow_composition_error: bool = False
    relax_settings: RelaxSettings | None = None
    bvse_resolution: float = 0.1
    phonon_engine: str | None = None
    transport_maker: Maker | None = None
    cache_dir: str | None = None
    maps_dir: str | None = None

    def settings(self) -> dict[str, Any]:
        """The settings that change a candidate's computed results."""
        return {
            "orderings": self.orderings,
            "ordering_method": self.ordering_method,
            "max_atoms": self.max_atoms,
            "seed": self.seed,
            "cell_search": "exact",
            "allow_composition_error": self.allow_composition_error,
            "relax": None if self.relax_settings is None else self.relax_settings.settings_dict(),
            "bvse_resolution": self.bvse_resolution,
            "phonons": self.phonon_engine,
            "transport": None if self.transport_maker is None else self.transport_maker.as_dict(),
        }

    def candidate_key(self, formula: str) -> str:
        """Cache key of a finished candidate: composition, settings, package and model version."""
        relaxer = None if self.relax_settings is None else self.relax_settings.engine
        return settings_key("candidate", formula, self.settings(), code_identity(relaxer))

    def make(self, record: GateRecord, index: int = 1, total: int = 1) -> Flow:
        """The subflow: structures -> relaxations -> BVSE [-> phonons, transport] -> summary.

        Parameters
        ----------
        record
            The gate's record of the candidate.
        index, total
            Position of the candidate, for progress messages.

        Returns
        -------
        Flow
            Output: the :class:`CandidateResult` of the summary job.
        """
        formula = record.composition
        tag = f" [{formula}]"
        # dynamic=False: jobs created by a job's Response carry their own names
        structures_key = settings_key(
            "configurations", formula, self.orderings, self.ordering_method, self.max_atoms,
            self.seed, "exact", self.allow_composition_error, code_identity(),
        )
        build = cached_stage(
            stages.structures_maker(self.ordering_method, self.orderings, self.max_atoms,
                                    self.seed, cell_search="exact",
                                    allow_composition_error=self.allow_composition_error),
            "configurations", structures_key, self.cache_dir, composition=formula,
        )
        build.append_name(tag, dynamic=False)
        relax = relax_configurations(
            build.output, formula, self.relax_settings, index, total, self.cache_dir
        )
        relax.append_name(tag, dynamic=False)
        bvse = bvse_configurations(
            relax.output, formula, self.bvse_resolution, self.cache_dir, self.maps_dir
        )
        bvse.append_name(tag, dynamic=False)
        jobs: list[Job | Flow] = [build, relax, bvse]
        phonons = transport = None
        if self.phonon_engine is not None:
            phonon_job = phonons_of_lowest(relax.output, formula, self.phonon_engine,
                                           self.cache_dir)
            phonon_job.append_name(tag, dynamic=False)
            jobs.append(phonon_job)
            phonons = phonon_job.output
        if self.transport_maker is not None:
            transport_job = transport_of_lowest(relax.output, self.transport_maker)
            transport_job.append_name(tag, dynamic=False)
            jobs.append(transport_job)
            transport = transport_job.output
        summary = summarize_candidate(
            record, relax.output, bvse.output, self.candidate_key(formula), self.cache_dir,
            {"build": build.uuid}, phonons, transport,
        )
        summary.append_name(tag)
        jobs.append(summary)
        return Flow(jobs, output=summary.output, name=f"{self.name} {formula}")
