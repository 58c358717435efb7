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
    "bvse_landscape",
    "check_enumeration",
    "check_relax",
    "classifier_summary",
    "enumerate_and_score",
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


def enumerate_and_score(rules: Mapping[str, Any], keep: int) -> tuple[list[dict], dict]:
    """Enumerate compositions with the enumeration stage and score them with the default gate.

    Parameters
    ----------
    rules
        Keyword arguments of ``EnumerationRules``.
    keep
        Number of best-scored compositions to return.

    Returns
    -------
    records
        Up to ``keep`` scored compositions, best first.
    summary
        What the enumeration covered (counts), as reported by the stage.
    """
    classifier = _stage("classifier", "issue 3, synthesizability classifier")
    enumeration = _stage("enumeration", "issue 3, composition enumeration")
    gate = classifier.SynthesizabilityGate.load_default()
    frame = enumeration.screen_candidates(enumeration.EnumerationRules(**rules), gate=gate, top=keep)
    summary = dict(getattr(frame, "attrs", {}) or {})
    return _records(frame), summary


def classifier_summary() -> dict[str, Any]:
    """The default classifier's identity and evaluation numbers, as the classifier reports them."""
    classifier = _stage("classifier", "issue 3, synthesizability classifier")
    gate = classifier.SynthesizabilityGate.load_default()
    for name in ("summary", "evaluation", "metadata"):
        value = getattr(gate, name, None)
        value = value() if callable(value) else value
        if value:
            return dict(value) if isinstance(value, Mapping) else {"description": str(value)}
    return {"description": repr(gate)}


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
    """The relaxation Maker of the relax stage (None for ``engine == 'none'``)."""
    relax = _stage("relax", "issue 5, relaxation")
    kwargs: dict[str, Any] = {"fmax": fmax}
    if steps is not None:
        kwargs["steps"] = steps
    return relax.get_relax_maker(engine, **kwargs)


def check_relax(engine: str) -> None:
    """Raise the relax stage's error when ``engine`` cannot run here (e.g. VASP not configured)."""
    if engine == "none":
        return
    relax = _stage("relax", "issue 5, relaxation")
    check = getattr(relax, "check_relax_available", None)
    if check is None:  # not re-exported by the package in every version of the stage
        check = _stage("relax.availability", "issue 5, relaxation").check_relax_available
    check(engine)


def bvse_landscape(structure, resolution: float) -> Any:
    """The BVSE landscape and percolation barriers of one structure (the BVSE stage's result)."""
    bvse = _stage("bvse", "issue 6, BVSE")
    return bvse.compute_bvse(structure, resolution=resolution)


def check_enumeration(rules: Mapping[str, Any]) -> None:
    """Raise the enumeration stage's error when ``rules`` are invalid or enumerate nothing."""
    enumeration = _stage("enumeration", "issue 3, composition enumeration")
    enumeration.EnumerationRules(**rules)
