"""Site occupancies of the C2/c framework from a composition (M mixing, Si/P, Na/vacancy).

Na is spread over Na1 (4d), Na2 (4e) and Na3 (8f) in proportion to a site preference, with the
sites that would overfill capped at 1 (water filling). The default preference is the mean refined
Na occupancy of each site over Tables S4-S7 of Zuo et al. 2026 (the only refinements at hand; they
undercount Na, see docs/structures.md, but they are usable as *relative* preferences).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from importlib import resources

from nasicon_workflows.composition import NasiconComposition
from nasicon_workflows.structures.exceptions import MalformedStructureError, StructureStageError
from nasicon_workflows.constants import NA_SITES_PER_FU as _NA_SITES_PER_FU
from nasicon_workflows.structures.parent import NA_LABELS, O_LABELS, SITE_MULTIPLICITY

__all__ = [
    "REFINED_TABLES_FILE",
    "default_na_preference",
    "load_refined_tables_json",
    "na_site_occupancies",
    "site_occupancies",
]

#: Shipped copy of Tables S4-S7 (transcribed exactly, defects included).
REFINED_TABLES_FILE = "refined_structures_tables_s4_s7.json"
_NA_WYCKOFF_LABEL = {"4d": "Na1", "4e": "Na2", "8f": "Na3"}
# One home for the Na limit (nasicon_workflows.constants); the C2/c Na sites (4d + 4e + 8f = 16
# per cell of 4 formula units) must agree with it.
NA_SITES_PER_FU = _NA_SITES_PER_FU
if sum(SITE_MULTIPLICITY[lab] for lab in NA_LABELS) / 4 != NA_SITES_PER_FU:  # pragma: no cover
    raise ImportError("C2/c Na site multiplicities disagree with constants.NA_SITES_PER_FU")


@functools.lru_cache(maxsize=1)
def load_refined_tables_json() -> dict:
    """The shipped JSON of Tables S4-S7 (source, notes and the four refinements)."""
    path = resources.files("nasicon_workflows.data").joinpath("structures", REFINED_TABLES_FILE)
    return json.loads(path.read_text())


@functools.lru_cache(maxsize=1)
def _default_na_preference() -> tuple[tuple[str, float], ...]:
    sums = {lab: 0.0 for lab in NA_LABELS}
    tables = load_refined_tables_json()["refinements"]
    for table in tables:
        for site in table["sites"]:
            if site["element"] == "Na":
                sums[_NA_WYCKOFF_LABEL[site["wyckoff"]]] += site["occupancy"] / len(tables)
    return tuple(sums.items())


def default_na_preference() -> dict[str, float]:
    """Mean refined Na occupancy of Na1/Na2/Na3 over Tables S4-S7 (relative weights).

    Returns
    -------
    dict
        ``{"Na1": 0.333, "Na2": 0.591, "Na3": 0.598}`` (computed from the shipped tables).
    """
    return dict(_default_na_preference())


def na_site_occupancies(
    na_per_cell: float, preference: Mapping[str, float] | None = None
) -> dict[str, float]:
    """Occupancy of Na1, Na2, Na3 holding ``na_per_cell`` Na in the conventional cell.

    Parameters
    ----------
    na_per_cell
        Na atoms per conventional cell (4 formula units), 0 < n <= 16.
    preference
        Relative weight of each Na label (default :func:`default_na_preference`); occupancies
        are ``min(1, lam * w)`` with ``lam`` fixed by the Na count.

    Raises
    ------
    StructureStageError
        Na beyond the 16 Na sites of the cell, or non-positive weights.
    """
    pref = dict(preference or default_na_preference())
    mult = {lab: SITE_MULTIPLICITY[lab] for lab in NA_LABELS}
    capacity = round(NA_SITES_PER_FU * 4)  # Z = 4 formula units per conventional cell
    if not 0 < na_per_cell <= capacity + 1e-9:
        raise StructureStageError(
            f"{na_per_cell:.4g} Na per cell do not fit the {capacity} Na sites of the C2/c cell "
            f"({na_per_cell / 4:.4g} per formula unit, at most {capacity / 4:g}). Interstitial Na "
            "sites are not modelled; choose a composition with Na <= 4 per formula unit."
        )
    if any(pref.get(lab, 0.0) <= 0 for lab in NA_LABELS):
        raise StructureStageError(f"Na site preferences must be > 0 for {NA_LABELS}; got {pref}.")
    occ = dict.fromkeys(NA_LABELS, 0.0)
    free = set(NA_LABELS)
    remaining = na_per_cell
    # Water filling: scale the free sites; any that overflow are set to 1 and removed.
    while free:
        lam = remaining / sum(mult[lab] * pref[lab] for lab in free)
        full = {lab for lab in free if lam * pref[lab] >= 1.0 - 1e-12}
        if not full:
            for lab in free:
                occ[lab] = lam * pref[lab]
            break
        for lab in full:
            occ[lab] = 1.0
            remaining -= mult[lab]
        free -= full
    return occ


def site_occupancies(
    composition: NasiconComposition,
    na_preference: Mapping[str, float] | None = None,
    m_fractions: Mapping[str, float] | None = None,
) -> dict[str, dict[str, float]]:
    """Occupancies of every framework label for a composition.

    Parameters
    ----------
    composition
        The NASICON composition (per formula unit).
    na_preference
        Relative Na site weights (see :func:`na_site_occupancies`).
    m_fractions
        M-site fractions to use instead of the composition's (they must sum to 1).

    Returns
    -------
    dict
        label -> {element: occupancy}: M1 mixes the M cations by composition, T1 and T2 hold
        Si x/3 + P (3-x)/3, O sites are full, Na sites follow the preference.
    """
    if m_fractions is not None and abs(sum(m_fractions.values()) - 1) > 1e-6:
        raise MalformedStructureError(f"M-site fractions {dict(m_fractions)} do not sum to 1.")
    occ: dict[str, dict[str, float]] = {}
    na = na_site_occupancies(composition.na * 4, na_preference)
    for lab in NA_LABELS:
        occ[lab] = {"Na": na[lab]}
    occ["M1"] = dict(m_fractions or composition.m_site_fractions)
    t = {el: n / 3 for el, n in (("Si", composition.si), ("P", composition.p)) if n > 0}
    occ["T1"], occ["T2"] = dict(t), dict(t)
    for lab in O_LABELS:
        occ[lab] = {"O": 1.0}
    return occ
