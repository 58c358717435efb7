"""The screen's only contact points with the other stages: the classifier and enumeration
functions, and the stage Makers (structures, relaxation, BVSE, phonons) the flow is built from.

Each function imports its stage lazily, so the flow module imports without the heavy engines, and
turns a missing stage into a :class:`StageUnavailableError` that says what to install. Tests
monkeypatch these functions to inject failures.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Mapping, Sequence
from typing import Any

from nasicon_workflows.screen.errors import StageUnavailableError

__all__ = [
    "bvse_ensemble",
    "bvse_maker",
    "check_enumeration",
    "check_relax",
    "classifier_summary",
    "enumerate_and_score",
    "phonon_engine",
    "phonon_maker",
    "relax_maker",
    "score_compositions",
    "structures_maker",
]

logger = logging.getLogger(__name__)


def _stage(module: str, purpose: str):
    try:
        return importlib.import_module(f"nasicon_workflows.{module}")
    except ModuleNotFoundError as exc:
        if exc.name and not exc.name.startswith("nasicon_workflows"):
            raise StageUnavailableError(
                f"Stage '{module}' needs the package {exc.name!r}, which is not installed: run "
                "`pip install -e '.[all]'` (see README)."
            ) from exc
        raise StageUnavailableError(
            f"Stage '{module}' ({purpose}) is not part of this installation; the screen cannot run "
            "without it."
        ) from exc


def _records(frame) -> list[dict[str, Any]]:
    return [dict(row) for row in frame.to_dict(orient="records")]


def score_compositions(
    formulas: Sequence[str], max_ehull: float | None = None
) -> list[dict[str, Any]]:
    """Synthesizability probability and applicability domain of each formula.

    Returns
    -------
    list of dict
        One per formula: ``composition``, ``probability``, ``label``, ``in_domain``,
        ``domain_reason``, ``entropy_R``, ``entropy_class``, ``probability_std``,
        ``ehull_1000K_meV_per_atom``, ``ehull_pass`` (with ``max_ehull``, meV/atom) and the
        descriptors.
    """
    classifier = _stage("classifier", "synthesizability classifier")
    gate = classifier.SynthesizabilityGate.load_default()
    return _records(gate.score(list(formulas), max_ehull=max_ehull))


def enumeration_rules(rules: Mapping[str, Any]):
    """The enumeration stage's ``EnumerationRules`` from a JSON-friendly dict (lists -> tuples)."""
    enumeration = _stage("enumeration", "composition enumeration")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in rules.items()}
    return enumeration.EnumerationRules(**values)


def check_enumeration(rules: Mapping[str, Any]) -> None:
    """Raise the enumeration stage's error when ``rules`` are invalid or admit no composition.

    Stops at the first admitted composition, so it is cheap for any non-empty enumeration.
    """
    enumeration = _stage("enumeration", "composition enumeration")
    next(iter(enumeration.enumerate_candidates(enumeration_rules(rules), chunk_size=1)), None)


def enumerate_and_score(
    rules: Mapping[str, Any], keep: int, max_ehull: float | None = None,
    tie_break: str = "ehull",
) -> tuple[list[dict], dict]:
    """Enumerate compositions and score them all with the default gate (vectorised).

    Parameters
    ----------
    rules
        Keyword arguments of ``EnumerationRules``.
    keep
        Number of in-domain compositions to return.
    max_ehull
        Second gate on the predicted E_hull(1000 K), meV/atom (None: off).
    tie_break
        How the ``keep`` are chosen (``enumeration.screen_candidates``): ``"ehull"`` keeps,
        among the compositions tied in probability with the best, those with the lowest
        predicted E_hull (DFT-covered elements first); ``"probability"`` the most probable.

    Returns
    -------
    records
        Up to ``keep`` scored compositions inside the applicability domain, in the kept order.
    summary
        ``n_enumerated`` and ``n_in_domain`` over the whole enumeration, ``tie_break`` (the
        rule used) and, for ``"ehull"``, ``n_tied`` (compositions tied with the best).
    """
    classifier = _stage("classifier", "synthesizability classifier")
    enumeration = _stage("enumeration", "composition enumeration")
    gate = classifier.SynthesizabilityGate.load_default()
    seen = [0, 0]  # compositions scored, last count reported

    def progress(n_rows: int) -> None:
        seen[0] += n_rows
        if seen[0] - seen[1] >= 2_000_000:
            logger.info("Enumeration: %d compositions scored so far", seen[0])
            seen[1] = seen[0]

    frame = enumeration.screen_candidates(
        enumeration_rules(rules), gate=gate, top=keep, in_domain_only=True, progress=progress,
        max_ehull=max_ehull, tie_break=tie_break,
    )
    counts = ("n_enumerated", "n_in_domain", "n_tied", "n_tied_sets") + (
        ("n_ehull_pass",) if max_ehull is not None else ())
    summary = {k: int(frame.attrs[k]) for k in counts if frame.attrs.get(k) is not None}
    summary["tie_break"] = frame.attrs["tie_break"]
    return _records(frame), summary


def classifier_summary() -> dict[str, Any]:
    """The default gate's model, training data and cross-validated metrics (its metadata)."""
    classifier = _stage("classifier", "synthesizability classifier")
    meta = classifier.SynthesizabilityGate.load_default().metadata
    keys = ("model_name", "description", "features", "convention", "n_training_rows",
            "n_synthesizable", "training_data_label", "training_data_sha256", "threshold",
            "seed", "metrics")
    return {k: getattr(meta, k) for k in keys if hasattr(meta, k)}


def structures_maker(method: str, orderings: int, max_atoms: int, seed: int,
                     cell_search: str = "diagonal", allow_composition_error: bool = False):
    """The structure stage's ``BuildStructuresMaker`` (output: ``StructuresDocument``).

    Parameters
    ----------
    method
        ``"ewald"`` or ``"sqs"``.
    orderings
        Ordered configurations per composition.
    max_atoms
        Largest ordered cell, atoms.
    seed
        Seed of the orderings.
    cell_search
        ``"diagonal"`` or ``"exact"`` (smallest, possibly non-diagonal, exact cell).
    allow_composition_error
        With ``"exact"``: the nearest realisable composition instead of a refusal.
    """
    structures = _stage("structures", "structure building")
    return structures.BuildStructuresMaker(
        name="screen structures", method=method, k=orderings, max_atoms=max_atoms, seed=seed,
        cell_search=cell_search, allow_composition_error=allow_composition_error,
    )


def relax_maker(settings):
    """The relax stage's Maker for a settings object (None when relaxations are off).

    Parameters
    ----------
    settings
        :class:`~nasicon_workflows.relax.settings.ForceFieldRelaxSettings`,
        :class:`~nasicon_workflows.relax.settings.VaspRelaxSettings`, or None for no relaxation.

    Availability is not checked here: the CLI checks it before a local run, and on HPC the job
    that builds the relaxations may run on a worker without VASP while the relaxations run on one
    with it.
    """
    if settings is None:
        return None
    relax = _stage("relax", "relaxation")
    return relax.maker_from_settings(settings, check=False)


def bvse_maker(resolution: float, maps_dir: str | None = None, stem: str = "bvse"):
    """The BVSE stage's ``BVSEMaker`` (output: ``BVSEDocument``).

    Parameters
    ----------
    resolution
        Grid spacing, Å.
    maps_dir
        When given, the landscape's cube, .grd and section PNG files are also written there.
    stem
        File name stem of those files.
    """
    maps = _stage("screen.bvse_maps", "BVSE")
    return maps.MapWritingBVSEMaker(
        name="screen bvse", resolution=resolution, maps_dir=maps_dir, stem=stem
    )


def phonon_engine(relax_engine: str) -> str:
    """Engine of the phonon calculation: the relaxation engine, CHGNet when relaxations are off."""
    return "chgnet" if relax_engine == "none" else relax_engine


def phonon_maker(engine: str):
    """The relax stage's ``NasiconPhononMaker`` (atomate2 phonons + F_vib(T) - T S_config)."""
    relax = _stage("relax", "relaxation and phonons")
    return relax.NasiconPhononMaker(phonon_maker=relax.get_phonon_maker(engine, check=False))


def check_relax(engine: str) -> None:
    """Raise the relax stage's error when ``engine`` cannot run here (e.g. VASP not configured)."""
    if engine == "none":
        return
    relax = _stage("relax", "relaxation")
    check = getattr(relax, "check_relax_available", None)
    if check is None:  # not re-exported by the package in every version of the stage
        check = _stage("relax.availability", "relaxation").check_relax_available
    check(engine)


def bvse_ensemble(documents: Sequence[Any], formula: str):
    """Barrier statistics over configurations (the BVSE stage's ``BVSEEnsembleDocument``)."""
    bvse = _stage("bvse", "BVSE")
    docs = [bvse.BVSEDocument.model_validate(d) if isinstance(d, Mapping) else d
            for d in documents]
    return bvse.ensemble_document(docs, formula=formula)


def kmc_maker(resolution: float = 0.1, seed: int = 0):
    """The screen's lattice-KMC transport Maker (``--transport kmc``; settings in
    :mod:`nasicon_workflows.screen.transport`)."""
    from nasicon_workflows.screen.transport import screen_kmc_maker

    return screen_kmc_maker(resolution, seed)
