"""Choose the candidates to compute among the gate's top, not by noise.

The gate's kept compositions often form a plateau (e.g. p = 0.89-0.90 for a whole top 100, each
with an uncertainty of several hundredths): ranking them by the third decimal of the probability
picks by noise, and the winners are near-duplicates of one chemistry. :func:`select_diverse`
instead

1. groups the candidates into *tiers*: the most probable remaining candidate and every candidate
   whose probability is within ``tie_sigma`` combined standard deviations of it,
   |p_best - p_i| <= tie_sigma * sqrt(std_best^2 + std_i^2), are tied;
2. fills the requested number of picks tier by tier; inside a tier it picks greedily for
   diversity: first the most probable candidate, then repeatedly the one whose M-site dopant set
   differs most from every set already picked (smallest Jaccard similarity to its nearest pick),
   then the one farthest from the picks in the standardised descriptor space (max-min distance,
   Gonzalez, Theor. Comput. Sci. 1985, 38, 293), then the more probable;
3. returns, with the picks, one row per considered candidate (tier, tie, pick order, reason) and
   a plain-language explanation of how the pick was made, for the report.

Without uncertainties (``probability_std`` missing or NaN) nothing is tied except equal
probabilities, and the explanation says so.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from nasicon_workflows.descriptors import PUBLISHED_FEATURES
from nasicon_workflows.screen.errors import ScreenInputError

__all__ = ["Selection", "SelectionError", "select_diverse", "tied_groups"]


class SelectionError(ScreenInputError):
    """Inputs the selection cannot use (no candidates, n < 1, missing columns)."""


class Selection(BaseModel):
    """The picked candidates, one row per considered candidate and the explanation."""

    selected: list[str] = Field(description="Picked compositions in pick order")
    rows: list[dict[str, Any]] = Field(
        description="Per candidate: composition, probability, probability_std, tier, "
        "tied_with (best of its tier), picked, pick_order, dopant_set, reason"
    )
    explanation: str = Field(description="Plain-language account of how the pick was made")
    settings: dict[str, Any] = Field(default_factory=dict)


def _m_site_elements(formula: str) -> frozenset[str]:
    from nasicon_workflows.composition import NasiconComposition

    return frozenset(NasiconComposition.from_formula(formula).m_site)


def _records(candidates: Any) -> list[dict[str, Any]]:
    """Rows as dicts from a DataFrame, a list of dicts or a list of pydantic GateRecords."""
    if hasattr(candidates, "to_dict") and hasattr(candidates, "columns"):
        return [dict(r) for r in candidates.to_dict(orient="records")]
    out = []
    for c in candidates:
        row = c.model_dump() if hasattr(c, "model_dump") else dict(c)
        # a record field left None (e.g. probability_std) does not hide the descriptor's value
        row = {**(row.pop("descriptors", None) or {}),
               **{k: v for k, v in row.items() if v is not None}}
        out.append(row)
    return out


def _float(x: Any) -> float:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return math.nan
    return v


def select_diverse(
    candidates: Any,
    n: int = 4,
    tie_sigma: float = 1.0,
    descriptor_columns: Sequence[str] | None = None,
    probability_column: str = "probability",
    std_column: str = "probability_std",
) -> Selection:
    """Pick ``n`` candidates: ties within uncertainty broken for chemical and descriptor diversity.

    Parameters
    ----------
    candidates
        The gate's scored rows: a DataFrame (``SynthesizabilityGate.score``), dicts, or
        ``GateRecord`` objects, with ``composition``, ``probability``, optionally
        ``probability_std`` and descriptor columns (or a ``descriptors`` dict).
    n
        Number of candidates to pick.
    tie_sigma
        Probabilities within ``tie_sigma`` combined standard deviations of a tier's best are
        tied (1.0: within one standard deviation).
    descriptor_columns
        Descriptor space of the spread criterion; default the four published descriptors
        (ionic radius, electronegativity, valence, M-site entropy) that are present.
    probability_column, std_column
        Column names.

    Returns
    -------
    Selection

    Raises
    ------
    SelectionError
        No candidate, ``n < 1``, ``tie_sigma < 0`` or a row without composition/probability.
    """
    if n < 1:
        raise SelectionError(f"n must be >= 1, got {n}.")
    if not tie_sigma >= 0:
        raise SelectionError(f"tie_sigma must be >= 0, got {tie_sigma}.")
    rows = _records(candidates)
    if not rows:
        raise SelectionError("No candidates to select from: the gate kept none.")
    for r in rows:
        if "composition" not in r or not np.isfinite(_float(r.get(probability_column))):
            raise SelectionError(
                f"Every candidate needs a composition and a finite {probability_column!r}; got "
                f"{ {k: r.get(k) for k in ('composition', probability_column)} }."
            )
    p = np.array([_float(r[probability_column]) for r in rows])
    std = np.array([_float(r.get(std_column)) for r in rows])
    has_std = bool(np.isfinite(std).any())
    std = np.where(np.isfinite(std), std, 0.0)
    sets = [_m_site_elements(str(r["composition"])) for r in rows]
    cols = [c for c in (descriptor_columns or PUBLISHED_FEATURES)
            if all(np.isfinite(_float(r.get(c))) for r in rows)]
    if cols:
        X = np.array([[_float(r[c]) for c in cols] for r in rows])
        scale = X.std(axis=0)
        X = (X - X.mean(axis=0)) / np.where(scale > 0, scale, 1.0)
    else:
        X = np.zeros((len(rows), 1))

    order = sorted(range(len(rows)), key=lambda i: (-p[i], i))
    tiers = tied_groups(p, std, tie_sigma)
    picked: list[int] = []
    info: dict[int, dict[str, Any]] = {}
    for tier in range(int(tiers.max()) + 1):
        tied = [i for i in order if tiers[i] == tier]
        best = tied[0]
        for i in tied:
            info[i] = {"tier": tier, "tied_with": rows[best]["composition"]}
        pool = list(tied)
        while pool and len(picked) < n:
            if not picked:
                choice, reason = pool[0], "most probable candidate"
            else:
                def key(i: int) -> tuple:
                    sim = max(len(sets[i] & sets[j]) / len(sets[i] | sets[j]) for j in picked)
                    dist = min(float(np.linalg.norm(X[i] - X[j])) for j in picked)
                    return (round(sim, 9), -round(dist, 9), -p[i], i)

                choice = min(pool, key=key)
                sim, dist = key(choice)[0], -key(choice)[1]
                reason = (f"tier {tier} (tied with {rows[best]['composition']}): dopant-set "
                          f"similarity {sim:.2f} to its nearest pick, descriptor distance "
                          f"{dist:.2f}")
            picked.append(choice)
            info[choice].update(picked=True, pick_order=len(picked), reason=reason)
            pool.remove(choice)
    n_tied_first = int((tiers == 0).sum())

    out_rows = []
    for i in order:
        d = info.get(i, {})
        out_rows.append({
            "composition": rows[i]["composition"],
            "probability": float(p[i]),
            "probability_std": float(std[i]) if has_std else None,
            "tier": d.get("tier"),
            "tied_with": d.get("tied_with"),
            "picked": bool(d.get("picked", False)),
            "pick_order": d.get("pick_order"),
            "dopant_set": "-".join(sorted(sets[i])),
            "reason": d.get("reason", "not picked: tied but less diverse than the picks"
                            if d.get("tier") == tiers[picked[0]] else
                            "not picked: the picks were filled from higher tiers"),
        })
    explanation = _explain(rows, picked, p, std, has_std, tie_sigma, n_tied_first, sets, cols, n)
    return Selection(
        selected=[rows[i]["composition"] for i in picked], rows=out_rows, explanation=explanation,
        settings={"n": n, "tie_sigma": tie_sigma, "descriptor_columns": list(cols),
                  "has_probability_std": has_std},
    )


def _explain(rows, picked, p, std, has_std, tie_sigma, n_tied_first, sets, cols, n) -> str:
    best = int(np.argmax(p))
    lines = []
    if has_std:
        lines.append(
            f"The gate's best candidate has p = {p[best]:.3f} ± {std[best]:.3f}; "
            f"{n_tied_first} of the {len(rows)} scored candidates lie within {tie_sigma:g} "
            "combined standard deviation(s) of it and are treated as tied, because ordering them "
            "by probability would pick by noise."
        )
    else:
        lines.append(
            "The gate gave no probability uncertainty, so only equal probabilities are tied "
            "and the candidates were taken in order of probability."
        )
    n_sets = len({sets[i] for i in picked})
    if n_tied_first > 1:
        lines.append(
            f"Among tied candidates the pick goes first to different dopant sets (the {len(picked)} "
            f"picks use {n_sets} distinct M-site element sets), then to the largest spread in "
            f"descriptor space ({', '.join(cols) or 'no descriptors available'}, standardised), "
            "then to the higher probability."
        )
    if len(picked) < n:
        lines.append(f"Only {len(picked)} candidate(s) were available for {n} picks.")
    lines.append("Picked: " + "; ".join(
        f"{rows[i]['composition']} (p = {p[i]:.3f}" + (f" ± {std[i]:.3f}" if has_std else "") + ")"
        for i in picked) + ".")
    return " ".join(lines)


def tied_groups(probabilities: Iterable[float], stds: Iterable[float], tie_sigma: float = 1.0):
    """Tier index of each probability (0 = tied with the best), as used by :func:`select_diverse`."""
    p = np.asarray(list(probabilities), float)
    s = np.nan_to_num(np.asarray(list(stds), float))
    tiers = np.full(len(p), -1)
    remaining = list(np.argsort(-p, kind="stable"))
    t = 0
    while remaining:
        b = remaining[0]
        tied = [i for i in remaining if p[b] - p[i] <= tie_sigma * math.hypot(s[b], s[i]) + 1e-12]
        tiers[tied] = t
        remaining = [i for i in remaining if i not in tied]
        t += 1
    return tiers
