"""Choose the candidates to compute among the gate's top, not by noise.

The gate's kept compositions often form a plateau (e.g. p = 0.89-0.90 for a whole top 100, each
with an uncertainty of several hundredths): ranking them by the third decimal of the probability
picks by noise, and the winners are near-duplicates of one chemistry. :func:`select_diverse`
instead

1. groups the candidates into *tiers*: the most probable remaining candidate and every candidate
   whose probability lies within ``tie_sigma`` of the best's own standard deviation,
   p_best - p_i <= tie_sigma * std_best, are tied (the best's uncertainty says which
   probabilities it cannot be told apart from; a combined sqrt(std_best^2 + std_i^2) would let
   a row tie with the best because it is itself uncertain, and then an E_hull order picked the
   gate's least certain rows);
2. fills the requested number of picks tier by tier; inside a tier it picks greedily for
   diversity: first the most probable candidate, then repeatedly the one whose M site differs
   most from every pick (smallest :func:`m_site_similarity` to its nearest pick: the larger of
   the element-set Jaccard similarity and the weighted Jaccard similarity of the amounts, so
   that Zr0.5HfMg0.25Sn0.25 and Zr0.5HfSc0.25In0.25, which share most of their M site, count
   as alike although their element sets differ),
   then the one farthest from the picks in the standardised descriptor space (max-min distance,
   Gonzalez, Theor. Comput. Sci. 1985, 38, 293), then the more probable;
   when the rows carry the stability model's predicted ``ehull_1000K_meV_per_atom``, the
   probability (tied) no longer orders a tier, the predicted E_hull does: the first pick is the
   lowest E_hull among tied rows whose E_hull is not an extrapolation (empty ``ehull_note``;
   extrapolated rows come after), each later pick the lowest (extrapolated?, E_hull) among the
   tied rows that are look-alikes of no pick (M-site similarity below ``look_alike``, 0.5), and
   only when all are look-alikes the least similar one;
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

__all__ = ["Selection", "SelectionError", "select_diverse", "tied_groups", "tied_with_best"]

EHULL_COLUMN = "ehull_1000K_meV_per_atom"


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


def _m_site_amounts(formula: str) -> dict[str, float]:
    from nasicon_workflows.composition import NasiconComposition

    return {el: float(x) for el, x in NasiconComposition.from_formula(formula).m_site.items()}


def m_site_similarity(a: dict[str, float], b: dict[str, float]) -> float:
    """Similarity of two M sites: the larger of the element-set Jaccard similarity and the
    weighted Jaccard (Ruzicka) similarity of the amounts, sum(min) / sum(max).

    1 for equal M sites, 0 for M sites without a common element. Two compositions are alike when
    they hold the same elements (Zr1.5Ga0.25Sc0.25 and Zr1Ga0.5Sc0.5: 1.0) or share most of
    their M-site amount although their minor dopants differ (Zr0.5HfSc0.25In0.25 and
    Zr0.5HfMg0.25Sn0.25 share 1.5 of 2.5: 0.6; Zr1.5In0.5 and Zr1.5Ga0.25Sc0.25, both 75 % Zr:
    0.6). Zr0.5HfSc0.25In0.25 and Zr1Sn0.5Ti0.25Sc0.25 score 0.33.
    """
    elements = set(a) | set(b)
    top = sum(max(a.get(e, 0.0), b.get(e, 0.0)) for e in elements)
    if not top:
        return 1.0
    weighted = sum(min(a.get(e, 0.0), b.get(e, 0.0)) for e in elements) / top
    return max(len(set(a) & set(b)) / len(elements), weighted)


def _records(candidates: Any) -> list[dict[str, Any]]:
    """Rows as dicts from a DataFrame, a list of dicts or a list of pydantic GateRecords."""
    if hasattr(candidates, "to_dict") and hasattr(candidates, "columns"):
        return [dict(r) for r in candidates.to_dict(orient="records")]
    out = []
    for c in candidates:
        row = c.model_dump() if hasattr(c, "model_dump") else dict(c)
        descriptors = row.pop("descriptors", None) or {}
        # a record field left None (e.g. GateRecord.probability_std) does not hide a value
        # carried in the descriptors dict
        row = {**descriptors, **{k: v for k, v in row.items()
                                 if v is not None or k not in descriptors}}
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
    ehull_column: str = EHULL_COLUMN,
    look_alike: float = 0.5,
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
        Probabilities within ``tie_sigma`` standard deviations of a tier's best (its own std) are
        tied (1.0: within one standard deviation).
    descriptor_columns
        Descriptor space of the spread criterion; default the four published descriptors
        (ionic radius, electronegativity, valence, M-site entropy) that are present.
    probability_column, std_column, ehull_column
        Column names. With finite values in ``ehull_column`` (the stability model's predicted
        E_hull(1000 K), meV/atom) a tier is ordered by E_hull, rows whose ``ehull_note`` says
        the E_hull is an extrapolation after the others; without them the order is the one
        above (probability, dopant sets, descriptors).
    look_alike
        Two compositions are look-alikes when their :func:`m_site_similarity` is at least this
        (0.5: they share half their M site). With predicted E_hull values, a later pick is the
        lowest predicted E_hull among tied candidates that are look-alikes of no pick; only when
        every candidate left is a look-alike does the least similar one win.

    Returns
    -------
    Selection

    Raises
    ------
    SelectionError
        No candidate, ``n < 1``, ``tie_sigma < 0``, ``look_alike`` outside (0, 1] or a row
        without composition/probability.
    """
    if n < 1:
        raise SelectionError(f"n must be >= 1, got {n}.")
    if not tie_sigma >= 0:
        raise SelectionError(f"tie_sigma must be >= 0, got {tie_sigma}.")
    if not 0 < look_alike <= 1:
        raise SelectionError(f"look_alike must be in (0, 1], got {look_alike}.")
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
    amounts = [_m_site_amounts(str(r["composition"])) for r in rows]
    sets = [frozenset(a) for a in amounts]
    cols = [c for c in (descriptor_columns or PUBLISHED_FEATURES)
            if all(np.isfinite(_float(r.get(c))) for r in rows)]
    if cols:
        X = np.array([[_float(r[c]) for c in cols] for r in rows])
        scale = X.std(axis=0)
        X = (X - X.mean(axis=0)) / np.where(scale > 0, scale, 1.0)
    else:
        X = np.zeros((len(rows), 1))

    ehull = np.array([_float(r.get(ehull_column)) for r in rows])
    use_ehull = bool(np.isfinite(ehull).any())
    notes = [_ehull_note(r, ehull_column) for r in rows] if use_ehull else [""] * len(rows)
    # rows without a finite E_hull rank with the extrapolations, after every finite one
    extrap = [bool(notes[i]) or not np.isfinite(ehull[i]) for i in range(len(rows))]
    ekey = np.where(np.isfinite(ehull), ehull, np.inf)

    order = sorted(range(len(rows)), key=lambda i: (-p[i], i))
    tiers = tied_groups(p, std, tie_sigma)
    picked: list[int] = []
    info: dict[int, dict[str, Any]] = {}
    for tier in range(int(tiers.max()) + 1):
        tied = [i for i in order if tiers[i] == tier]
        best = tied[0]
        head = f"tier {tier} (tied with {rows[best]['composition']})"
        for i in tied:
            info[i] = {"tier": tier, "tied_with": rows[best]["composition"]}
        pool = list(tied)
        while pool and len(picked) < n:
            if not picked and not use_ehull:
                choice, reason = pool[0], "most probable candidate"
            elif not picked:
                choice = min(pool, key=lambda i: (extrap[i], ekey[i], -p[i], i))
                reason = f"{head}: " + _ehull_reason(choice, pool, extrap, ehull, notes,
                                                     "tied candidates")
            else:
                def sim_dist(i: int) -> tuple[float, float]:
                    sim = max(m_site_similarity(amounts[i], amounts[j]) for j in picked)
                    dist = min(float(np.linalg.norm(X[i] - X[j])) for j in picked)
                    return round(sim, 9), round(dist, 9)

                sd = {i: sim_dist(i) for i in pool}
                distinct = [i for i in pool if sd[i][0] < look_alike]
                if use_ehull and distinct:
                    # not a look-alike of any pick: the predicted E_hull decides
                    choice = min(distinct, key=lambda i: (extrap[i], ekey[i], sd[i][0],
                                                          -sd[i][1], -p[i], i))
                elif use_ehull:
                    choice = min(pool, key=lambda i: (sd[i][0], extrap[i], ekey[i], -sd[i][1],
                                                      -p[i], i))
                else:
                    choice = min(pool, key=lambda i: (sd[i][0], -sd[i][1], -p[i], i))
                sim, dist = sd[choice]
                reason = (f"{head}: M-site similarity {sim:.2f} to its nearest pick, "
                          f"descriptor distance {dist:.2f}")
                if use_ehull and distinct:
                    reason = (f"{head}: not a look-alike of the picks (M-site similarity "
                              f"{sim:.2f} to its nearest pick, below {look_alike:g}); "
                              + _ehull_reason(choice, distinct, extrap, ehull, notes,
                                              "tied candidates that are not look-alikes")
                              + f"; descriptor distance {dist:.2f}")
                elif use_ehull:
                    peers = [i for i in pool if sd[i][0] == sim]
                    reason = (f"{head}: every tied candidate left is a look-alike of a pick "
                              f"(M-site similarity >= {look_alike:g}); this one has "
                              f"{sim:.2f} to its nearest pick "
                              + ("(the least similar of the tie); " if len(peers) == 1 else
                                 f"(as low for {len(peers) - 1} other tied candidate(s)); then ")
                              + _ehull_reason(choice, peers, extrap, ehull, notes,
                                              "equally dissimilar tied candidates")
                              + f"; descriptor distance {dist:.2f}")
            picked.append(choice)
            info[choice].update(picked=True, pick_order=len(picked), reason=reason)
            pool.remove(choice)
    n_tied_first = int((tiers == 0).sum())

    def nearest(i: int) -> tuple[str, float]:
        """The pick whose M site is most like row i's, and that similarity."""
        if not picked:
            return "", 0.0
        sims = [m_site_similarity(amounts[i], amounts[j]) for j in picked]
        k = int(np.argmax(sims))
        return rows[picked[k]]["composition"], sims[k]

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
            **({EHULL_COLUMN: None if not np.isfinite(ehull[i]) else float(ehull[i]),
                "ehull_note": notes[i]} if use_ehull else {}),
            "reason": d.get("reason", _not_picked(i, d, tiers[picked[0]], use_ehull, ehull,
                                                  extrap, nearest(i), look_alike)),
        })
    explanation = _explain(rows, picked, p, std, has_std, tie_sigma, n_tied_first, sets, cols, n,
                           use_ehull)
    if use_ehull:
        explanation = _explain_ehull(explanation, rows, picked, ehull, extrap, tiers, look_alike)
    return Selection(
        selected=[rows[i]["composition"] for i in picked], rows=out_rows, explanation=explanation,
        settings={"n": n, "tie_sigma": tie_sigma, "look_alike": look_alike,
                  "descriptor_columns": list(cols),
                  "has_probability_std": has_std, "ehull_order": use_ehull},
    )


def _ehull_note(row: dict[str, Any], ehull_column: str) -> str:
    """The row's ``ehull_note``; derived from its composition when the row does not carry one."""
    note = row.get("ehull_note")
    if isinstance(note, str):
        return note
    if not np.isfinite(_float(row.get(ehull_column))):
        return ""
    from nasicon_workflows.classifier.gate import ehull_extrapolated
    from nasicon_workflows.composition import NasiconComposition

    comp = NasiconComposition.from_formula(str(row["composition"]))
    els = sorted(comp.m_site)
    amounts = np.array([[comp.m_site[el] for el in els]])
    return ("elements or Si outside the DFT stability data"
            if ehull_extrapolated(amounts, els, comp.si)[0] else "")


def _ehull_reason(choice: int, peers: list[int], extrap, ehull, notes, what: str) -> str:
    """What decided a pick among ``peers`` (rows equal on every earlier criterion) by E_hull."""
    covered = [i for i in peers if not extrap[i]]
    value = (f"predicted E_hull {ehull[choice]:.1f} meV/atom" if np.isfinite(ehull[choice])
             else "no predicted E_hull")
    if len(peers) == 1:
        text = value
    elif not extrap[choice] and len(covered) == 1:
        text = f"{value}, the only one with DFT-covered elements of the {len(peers)} {what}"
    elif not extrap[choice]:
        text = f"{value}, lowest of the {len(covered)} {what} with DFT-covered elements"
    else:
        text = f"{value}, lowest of the {len(peers)} {what}, none with DFT-covered elements"
    if extrap[choice]:
        text += f" (an extrapolation: {notes[choice] or 'no E_hull'})"
    return text


def _not_picked(i: int, d: dict, first_tier: int, use_ehull: bool, ehull, extrap,
                nearest: tuple[str, float], look_alike: float) -> str:
    if d.get("tier") != first_tier:
        return "not picked: the picks were filled from higher tiers"
    if not use_ehull:
        return "not picked: tied but less diverse than the picks"
    value = (f"predicted E_hull {ehull[i]:.1f} meV/atom" if np.isfinite(ehull[i])
             else "no predicted E_hull")
    value += " (extrapolated)" if extrap[i] else ""
    pick, sim = nearest
    if sim >= look_alike:
        return (f"not picked: tied, but a look-alike of the pick {pick} (M-site similarity "
                f"{sim:.2f}); {value}")
    return (f"not picked: tied and not a look-alike of the picks (M-site similarity {sim:.2f} "
            f"to {pick}), but its {value} is higher")


def _explain_ehull(text: str, rows, picked, ehull, extrap, tiers, look_alike=0.5) -> str:
    """The explanation's account of the E_hull order and of its resolution."""
    from nasicon_workflows.stability.data import stability_model_skill

    skill = stability_model_skill("grouped_mset")
    mae, rho = skill["median_ae"], skill["spearman"]
    first = [i for i in range(len(rows)) if tiers[i] == tiers[picked[0]]]
    n_extrap = sum(extrap[i] for i in first)
    values = [float(ehull[i]) for i in picked if np.isfinite(ehull[i])]
    lines = [
        text,
        f"Inside a tie the probability orders nothing, so the stability model's predicted "
        f"E_hull(1000 K) does (on unseen M-cation combinations: Spearman {rho['mean']:.2f} ± "
        f"{rho['std']:.2f}, median absolute error {mae['mean']:.1f} ± {mae['std']:.1f} meV/atom, "
        f"{mae['n']} test folds of grouped cross-validation, docs/stability.md): the first pick "
        "is the tied candidate with the lowest predicted E_hull among those whose elements and Si "
        f"the DFT data cover ({len(first) - n_extrap} of the {len(first)} tied; "
        + (f"the other {n_extrap} have an extrapolated E_hull and come after them); "
           if n_extrap else "none is an extrapolation); ")
        + "each later pick is the lowest predicted E_hull (DFT-covered first) among the tied "
        "candidates that are look-alikes of no pick (M-site similarity, elements and amounts, "
        f"below {look_alike:g}), or, when every candidate left is a look-alike, the least "
        "similar one.",
    ]
    if len(values) >= 2:
        spread = max(values) - min(values)
        verdict = ("exceeds" if spread > mae["mean"] else "does not exceed")
        lines.append(
            f"The picks' predicted E_hull spans {min(values):.1f} to {max(values):.1f} meV/atom "
            f"(spread {spread:.1f}), which {verdict} the model's median error of "
            f"{mae['mean']:.1f} meV/atom"
            + (": the model tells the picks' stabilities apart." if spread > mae["mean"] else
               ": the model does not tell the picks' stabilities apart; their order among "
               "themselves rests on diversity.")
        )
    elif values:
        lines.append(f"The pick's predicted E_hull is {values[0]:.1f} meV/atom (the model's "
                     f"median error: {mae['mean']:.1f} meV/atom).")
    n_extrap_picked = sum(extrap[i] for i in picked)
    if n_extrap_picked:
        loeo = stability_model_skill("leave_one_element_out")["median_ae"]
        lines.append(
            f"{n_extrap_picked} of the picks' E_hull are extrapolations, whose error is larger "
            f"(median absolute error {loeo['mean']:.1f} ± {loeo['std']:.1f} meV/atom for an "
            "element left out of the DFT data)."
        )
    lines.append("Predicted E_hull of the picks: " + "; ".join(
        f"{rows[i]['composition']} "
        + (f"{ehull[i]:.1f} meV/atom" if np.isfinite(ehull[i]) else "none")
        + (" (extrapolated)" if extrap[i] else "") for i in picked) + ".")
    return " ".join(lines)


def _explain(rows, picked, p, std, has_std, tie_sigma, n_tied_first, sets, cols, n,
             by_ehull=False) -> str:
    best = int(np.argmax(p))
    lines = []
    if has_std:
        lines.append(
            f"The gate's best candidate has p = {p[best]:.3f} ± {std[best]:.3f}; "
            f"{n_tied_first} of the {len(rows)} scored candidates lie within {tie_sigma:g} "
            "of its standard deviation(s) below it and are treated as tied, because ordering "
            "them by probability would pick by noise."
        )
    else:
        lines.append(
            "The gate gave no probability uncertainty, so only equal probabilities are tied "
            "and the candidates were taken in order of probability."
        )
    n_sets = len({sets[i] for i in picked})
    if n_tied_first > 1 and by_ehull:
        lines.append(
            f"Among tied candidates the predicted E_hull and the M-site similarity decide (the "
            f"{len(picked)} picks use {n_sets} distinct M-site element sets), as follows."
        )
    elif n_tied_first > 1:
        lines.append(
            f"Among tied candidates the pick goes first to the least similar M sites (elements "
            f"and amounts; the {len(picked)} picks use {n_sets} distinct M-site element sets), "
            "then to the largest spread in "
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
        rest = np.array(remaining)
        tied = rest[tied_with_best(p[b], s[b], p[rest], tie_sigma)]
        tiers[tied] = t
        remaining = [i for i in remaining if tiers[i] < 0]
        t += 1
    return tiers


def tied_with_best(p_best: float, std_best: float, p, tie_sigma: float = 1.0) -> np.ndarray:
    """Which probabilities are tied with the best: p_best - p <= tie_sigma * std_best.

    The tie rule of :func:`tied_groups` and :func:`select_diverse`, vectorised (a NaN std_best
    counts as 0), so that the enumeration's keep (``screen_candidates(tie_break="ehull")``) uses
    the same one.

    Returns
    -------
    numpy.ndarray
        Boolean, one per entry of ``p``.
    """
    p = np.asarray(p, float)
    s_best = 0.0 if not math.isfinite(std_best) else float(std_best)
    return p_best - p <= tie_sigma * s_best + 1e-12
