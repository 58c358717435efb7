"""The screen's only contact points with the other stages (classifier, enumeration, structures,
relaxation, BVSE).

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
    "build_configurations",
    "bvse_ensemble",
    "bvse_landscape",
    "check_enumeration",
    "check_relax",
    "classifier_summary",
    "enumerate_and_score",
    "phonon_engine",
    "phonon_maker",
    "relax_maker",
    "score_compositions",
]

logger = logging.getLogger(__name__)


def _stage(module: str, issue: str):
    try:
        return importlib.import_module(f"nasicon_workflows.{module}")
    except ModuleNotFoundError as exc:
        if exc.name and not exc.name.startswith("nasicon_workflows"):
            raise StageUnavailableError(
                f"Stage '{module}' needs the package {exc.name!r}, which is not installed: run "
                "`pip install -e '.[all]'` (see README)."
            ) from exc
        raise StageUnavailableError(
            f"Stage '{module}' ({issue}) is not part of this installation; the screen cannot run "
            "without it."
        ) from exc


def _records(frame) -> list[dict[str, Any]]:
    return [dict(row) for row in frame.to_dict(orient="records")]


def score_compositions(formulas: Sequence[str]) -> list[dict[str, Any]]:
    """Synthesizability probability and applicability domain of each formula.

    Returns
    -------
    list of dict
        One per formula: ``composition``, ``probability``, ``label``, ``in_domain``,
        ``domain_reason``, ``entropy_R``, ``entropy_class`` and the descriptors.
    """
    classifier = _stage("classifier", "issue 3, synthesizability classifier")
    gate = classifier.SynthesizabilityGate.load_default()
    return _records(gate.score(list(formulas)))


def enumeration_rules(rules: Mapping[str, Any]):
    """The enumeration stage's ``EnumerationRules`` from a JSON-friendly dict (lists -> tuples)."""
    enumeration = _stage("enumeration", "issue 3, composition enumeration")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in rules.items()}
    return enumeration.EnumerationRules(**values)


def check_enumeration(rules: Mapping[str, Any]) -> None:
    """Raise the enumeration stage's error when ``rules`` are invalid or admit no composition.

    Stops at the first admitted composition, so it is cheap for any non-empty enumeration.
    """
    enumeration = _stage("enumeration", "issue 3, composition enumeration")
    next(iter(enumeration.enumerate_candidates(enumeration_rules(rules), chunk_size=1)), None)


def enumerate_and_score(rules: Mapping[str, Any], keep: int) -> tuple[list[dict], dict]:
    """Enumerate compositions and score them all with the default gate (vectorised).

    Parameters
    ----------
    rules
        Keyword arguments of ``EnumerationRules``.
    keep
        Number of best-scored in-domain compositions to return.

    Returns
    -------
    records
        Up to ``keep`` scored compositions inside the applicability domain, best first.
    summary
        ``n_enumerated`` and ``n_in_domain`` over the whole enumeration.
    """
    classifier = _stage("classifier", "issue 3, synthesizability classifier")
    enumeration = _stage("enumeration", "issue 3, composition enumeration")
    gate = classifier.SynthesizabilityGate.load_default()
    seen = [0, 0]  # compositions scored, last count reported

    def progress(n_rows: int) -> None:
        seen[0] += n_rows
        if seen[0] - seen[1] >= 2_000_000:
            logger.info("Enumeration: %d compositions scored so far", seen[0])
            seen[1] = seen[0]

    frame = enumeration.screen_candidates(
        enumeration_rules(rules), gate=gate, top=keep, in_domain_only=True, progress=progress
    )
    summary = {k: int(frame.attrs[k]) for k in ("n_enumerated", "n_in_domain") if k in frame.attrs}
    return _records(frame), summary


def classifier_summary() -> dict[str, Any]:
    """The default gate's model, training data and cross-validated metrics (its metadata)."""
    classifier = _stage("classifier", "issue 3, synthesizability classifier")
    meta = classifier.SynthesizabilityGate.load_default().metadata
    keys = ("model_name", "description", "features", "convention", "n_training_rows",
            "n_synthesizable", "training_data_label", "training_data_sha256", "threshold",
            "seed", "metrics")
    return {k: getattr(meta, k) for k in keys if hasattr(meta, k)}


def build_configurations(
    formula: str, orderings: int, method: str, max_atoms: int, seed: int
) -> list[dict[str, Any]]:
    """Ordered configurations of a composition, best ordering score first.

    Returns
    -------
    list of dict
        ``structure`` (pymatgen Structure), ``ordering_score`` (the structure stage's score,
        e.g. Ewald energy in eV), ``realised_formula`` and ``composition_error`` (largest
        |realised - target| amount per formula unit of the finite cell) of each configuration.
    """
    structures = _stage("structures", "issue 4, structure building")
    parent = structures.disordered_structure(formula)
    configs = structures.order_structure(
        parent, k=orderings, method=method, max_atoms=max_atoms, seed=seed
    )
    return [
        {
            "structure": c.structure,
            "ordering_score": float(c.score),
            "realised_formula": c.realised_formula,
            "composition_error": float(c.composition_error),
        }
        for c in configs
    ]


def relax_maker(engine: str, fmax: float, steps: int | None = None):
    """The relaxation Maker of the relax stage (None for ``engine == 'none'``).

    Availability is not checked here: the CLI checks it before a local run, and on HPC the job
    that builds the relaxations may run on a worker without VASP while the relaxations run on one
    with it.
    """
    relax = _stage("relax", "issue 5, relaxation")
    kwargs: dict[str, Any] = {"fmax": fmax, "check": False}
    if steps is not None:
        kwargs["steps"] = steps
    return relax.get_relax_maker(engine, **kwargs)


def phonon_engine(relax_engine: str) -> str:
    """Engine of the phonon calculation: the relaxation engine, CHGNet when relaxations are off."""
    return "chgnet" if relax_engine == "none" else relax_engine


def phonon_maker(engine: str):
    """The relax stage's ``NasiconPhononMaker`` (atomate2 phonons + F_vib(T) - T S_config)."""
    relax = _stage("relax", "issue 5, relaxation and phonons")
    return relax.NasiconPhononMaker(phonon_maker=relax.get_phonon_maker(engine, check=False))


def check_relax(engine: str) -> None:
    """Raise the relax stage's error when ``engine`` cannot run here (e.g. VASP not configured)."""
    if engine == "none":
        return
    relax = _stage("relax", "issue 5, relaxation")
    check = getattr(relax, "check_relax_available", None)
    if check is None:  # not re-exported by the package in every version of the stage
        check = _stage("relax.availability", "issue 5, relaxation").check_relax_available
    check(engine)


def bvse_landscape(structure, resolution: float, maps_dir: str | None = None, stem: str = "bvse"):
    """BVSE analysis of one ordered structure (a ``BVSEDocument`` of the BVSE stage).

    Parameters
    ----------
    structure
        Ordered, relaxed structure.
    resolution
        Grid spacing, Å.
    maps_dir
        When given, also write the landscape's cube, .grd and section PNG files there.
    stem
        File name stem of those files.
    """
    bvse = _stage("bvse", "issue 6, BVSE")
    if maps_dir is None:
        return bvse.compute_bvse(structure, resolution=resolution)
    landscape = bvse.compute_landscape(structure, resolution=resolution)
    document = bvse.analyse_landscape(landscape)
    bvse.write_maps(landscape, document, maps_dir, stem=stem)
    return document


def bvse_ensemble(documents: Sequence[Any], formula: str):
    """Barrier statistics over configurations (the BVSE stage's ``BVSEEnsembleDocument``)."""
    bvse = _stage("bvse", "issue 6, BVSE")
    docs = [bvse.BVSEDocument.model_validate(d) if isinstance(d, Mapping) else d
            for d in documents]
    return bvse.ensemble_document(docs, formula=formula)
