"""Candidate enumeration and the vectorised million-composition synthesizability screen.

Candidates are NASICON compositions Na_{na} M_2 Si_{si} P_{3-si} O_12 whose M site mixes 2-5 (by
default) cations of a dopant pool, with Na fixed by charge neutrality.

The composition grid is that of the cell the screen computes, so that every enumerated
composition is realised exactly by its ordered cell: a cell of n formula units has 2n M sites,
so M-site amounts are multiples of 2 / (2n) = 1/n per formula unit, and Na (an integer number of
ions on its 4n Na sites) is a multiple of 1/n as well. By default the cell is the 84-site
conventional C2/c cell (n = 4, 8 M sites): steps of 0.25. A finer grid needs a larger cell (0.1:
10 formula units, ~206 atoms, a non-diagonal supercell; see
:func:`nasicon_workflows.structures.supercell.exact_supercell`); ``step`` or
``cell_formula_units`` set it. The default pool is the set of cations of the oxide precursors used by Zuo et al.,
Energy Environ. Sci. 2026, 19, 860 (DOI 10.1039/d5ee06594a).

The enumeration is streamed: element combinations are taken in blocks, every integer partition of
the M site is tried against each block with one matrix product (the Na content is linear in the
amounts), and rows that pass the rules are emitted as dense amount matrices of bounded size. Each
(element set, amounts) pair is produced once, so the stream has no duplicates by construction.
"""

from __future__ import annotations

import heapq
import itertools
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np

from nasicon_workflows.classifier.errors import EmptyEnumerationError, EnumerationRulesError
from nasicon_workflows.composition import DEFAULT_OXIDATION_STATES, NA_RANGE, NasiconComposition
from nasicon_workflows.constants import NA_SITES_PER_FU

logger = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_DOPANT_POOL",
    "CandidateChunk",
    "EnumerationRules",
    "TIE_BREAKS",
    "count_candidates",
    "enumerate_candidates",
    "screen_candidates",
]

#: Cations of the oxide precursors of Zuo et al. 2026 (Methods): the default M-site pool.
DEFAULT_DOPANT_POOL = (
    "Ca",
    "Zn",
    "Mg",
    "Ga",
    "Y",
    "Bi",
    "Al",
    "Sc",
    "In",
    "Nd",
    "Er",
    "Tm",
    "Lu",
    "Zr",
    "Sn",
    "Hf",
    "Ge",
    "Ce",
    "Ir",
    "Ti",
    "Ta",
    "Mo",
    "W",
)
#: Formula units of the default cell: the 84-site conventional C2/c cell (Z = 4, 8 M sites).
DEFAULT_CELL_FORMULA_UNITS = 4
#: Shannon radius of Zr4+ in octahedral coordination (CN VI), pm: centre of the radius window.
ZR_RADIUS_VI_PM = 72.0


@dataclass(frozen=True)
class EnumerationRules:
    """Which compositions to enumerate.

    Attributes
    ----------
    dopant_pool
        M-site elements to combine (duplicates are ignored).
    n_cations
        Inclusive (min, max) number of distinct M-site cations.
    step
        Composition step per formula unit; 2 / step must be an integer. Default: the grid the
        cell of ``cell_formula_units`` realises exactly, 1 / cell_formula_units (0.25 for the
        default 84-site cell).
    radius_window_pm
        Keep pool elements whose octahedral (CN VI) Shannon radius lies within this many pm of
        Zr4+ (72 pm); ``None`` keeps all. The default 35 pm admits the whole default pool (Ca2+
        100 pm and Bi3+ 103 pm are the largest), all of which gave NASICON phases in Table S1.
    valence_range
        Inclusive (min, max) oxidation state of pool elements.
    na_range
        Inclusive (min, max) Na per formula unit after charge balance.
    si
        Si per formula unit.
    required_elements
        Elements every candidate must contain (e.g. ``("Zr",)``).
    min_entropy_R
        Smallest M-site mixing entropy per M site, -sum x ln x in units of R (e.g. 1.5 for the
        ``high`` entropy class only).
    oxidation_states
        Overrides of the default oxidation states.
    cell_formula_units
        Formula units of the cell the compositions will be computed in. Default: 4 (the 84-site
        cell) when ``step`` is not given, else the smallest cell that realises the grid of
        ``step`` (:meth:`exact_cell_formula_units`, e.g. 10 for 0.1). Giving both, the rules
        are refused if the cell cannot realise the grid exactly (M amounts and Si/P; Na then
        follows as an integer number of ions on the cell's Na sites).
    """

    dopant_pool: tuple[str, ...] = DEFAULT_DOPANT_POOL
    n_cations: tuple[int, int] = (2, 5)
    step: float | None = None
    radius_window_pm: float | None = 35.0
    valence_range: tuple[int, int] = (2, 6)
    na_range: tuple[float, float] = (3.0, 4.0)
    si: float = 2.0
    required_elements: tuple[str, ...] = ()
    min_entropy_R: float = 0.0
    oxidation_states: dict[str, int] = field(default_factory=dict)
    cell_formula_units: int | None = None

    def __post_init__(self) -> None:
        if self.step is None:
            # the grid of the cell: M amounts in multiples of 2 / n_M = 1 / n_fu
            n_fu = self.cell_formula_units or DEFAULT_CELL_FORMULA_UNITS
            object.__setattr__(self, "step", 1.0 / n_fu)
            object.__setattr__(self, "cell_formula_units", n_fu)
        elif self.cell_formula_units is None and self.step > 0:
            object.__setattr__(self, "cell_formula_units", self.exact_cell_formula_units())

    def exact_cell_formula_units(self) -> int:
        """Smallest even number of formula units whose cell realises every grid composition.

        Even: the C-centred C2/c lattice's smallest cell (the primitive one) holds 2 formula
        units. 0.25 -> 4 (the 84-site cell), 0.1 -> 10, 0.5 -> 2 (4 by the default minimum of
        :func:`~nasicon_workflows.structures.supercell.exact_supercell`).
        """
        from fractions import Fraction
        from math import lcm

        den = lcm(Fraction(self.step).limit_denominator(10**6).denominator,
                  Fraction(self.si).limit_denominator(10**6).denominator, 2)
        return den

    @property
    def units(self) -> int:
        """Number of composition steps on the M site (2 / step)."""
        return int(round(2.0 / self.step))

    def validate(self) -> None:
        """Raise :class:`EnumerationRulesError` naming every inconsistent rule."""
        problems = []
        if not self.step > 0 or abs(2.0 / self.step - round(2.0 / self.step)) > 1e-9:
            problems.append(f"step {self.step} must be > 0 and divide 2 (e.g. 0.1, 0.25, 0.5)")
        elif self.cell_formula_units is not None:
            n = self.cell_formula_units
            if not isinstance(n, int) or n < 1:
                problems.append(f"cell_formula_units {n!r} must be a positive integer")
            elif (abs(self.step * n - round(self.step * n)) > 1e-9
                  or abs(self.si * n - round(self.si * n)) > 1e-9):
                need = self.exact_cell_formula_units()
                problems.append(
                    f"step {self.step} (Si {self.si}) is not realised exactly by a cell of {n} "
                    f"formula units ({2 * n} M sites: M amounts in multiples of "
                    f"{1 / n:.4g}); use step {1 / n:.4g}, or cell_formula_units {need} "
                    f"(~{need * 21} sites)"
                )
            if self.na_range[1] > NA_SITES_PER_FU + 1e-9:
                problems.append(
                    f"na_range max {self.na_range[1]} exceeds the {NA_SITES_PER_FU:g} Na sites per "
                    "formula unit of the cell"
                )
        lo, hi = self.n_cations
        if not 1 <= lo <= hi:
            problems.append(f"n_cations {self.n_cations} must satisfy 1 <= min <= max")
        elif self.step > 0 and hi > round(2.0 / self.step):
            problems.append(
                f"n_cations max {hi} exceeds the {round(2.0 / self.step)} steps of "
                f"{self.step} on the M site"
            )
        vlo, vhi = self.valence_range
        if vlo > vhi:
            problems.append(f"valence_range {self.valence_range} has min > max")
        nlo, nhi = self.na_range
        if nlo > nhi or nlo < NA_RANGE[0] or nhi > NA_RANGE[1]:
            problems.append(f"na_range {self.na_range} must lie within {NA_RANGE} with min <= max")
        if not 0.0 <= self.si <= 3.0:
            problems.append(f"si {self.si} must lie within 0-3")
        if self.min_entropy_R < 0:
            problems.append(f"min_entropy_R {self.min_entropy_R} must be >= 0")
        if self.radius_window_pm is not None and self.radius_window_pm < 0:
            problems.append(f"radius_window_pm {self.radius_window_pm} must be >= 0")
        table = {**DEFAULT_OXIDATION_STATES, **self.oxidation_states}
        unknown = [el for el in self.dopant_pool if el not in table]
        if unknown:
            problems.append(
                f"no oxidation state for pool element(s) {unknown}: pass "
                "oxidation_states or choose from " + ", ".join(sorted(table))
            )
        missing = [el for el in self.required_elements if el not in self.dopant_pool]
        if missing:
            problems.append(f"required element(s) {missing} are not in the dopant pool")
        if problems:
            raise EnumerationRulesError("Invalid enumeration rules: " + "; ".join(problems) + ".")

    def eligible_elements(self) -> tuple[str, ...]:
        """Pool elements (deduplicated, in pool order) that pass the radius and valence rules."""
        from pymatgen.core import Species

        self.validate()
        table = {**DEFAULT_OXIDATION_STATES, **self.oxidation_states}
        out = []
        for el in dict.fromkeys(self.dopant_pool):
            z = table[el]
            if not self.valence_range[0] <= z <= self.valence_range[1]:
                continue
            if self.radius_window_pm is not None:
                try:
                    r = Species(el, z).get_shannon_radius(cn="VI", radius_type="ionic") * 100
                except KeyError:
                    raise EnumerationRulesError(
                        f"No CN VI Shannon radius for {el}{z:+d}: drop it from the pool or set "
                        "radius_window_pm=None."
                    ) from None
                if abs(r - ZR_RADIUS_VI_PM) > self.radius_window_pm + 1e-9:
                    continue
            out.append(el)
        return tuple(out)


@dataclass
class CandidateChunk:
    """A block of enumerated compositions.

    Attributes
    ----------
    amounts
        ``(n, len(elements))`` M-site amounts per formula unit.
    elements
        Element of each column (the eligible pool).
    si
        Si per formula unit.
    """

    amounts: np.ndarray
    elements: tuple[str, ...]
    si: float

    def __len__(self) -> int:
        return len(self.amounts)

    def compositions(self, rows: Sequence[int] | None = None) -> list[NasiconComposition]:
        """Validated compositions of some rows (elements in pool order)."""
        rows = range(len(self)) if rows is None else rows
        out = []
        for i in rows:
            m = {el: round(float(a), 10) for el, a in zip(self.elements, self.amounts[i]) if a > 0}
            out.append(NasiconComposition.from_m_site(m, si=self.si))
        return out


def _partitions(units: int, k: int) -> np.ndarray:
    """Every ordered way to write ``units`` as ``k`` positive integers (C(units-1, k-1) rows)."""
    combos = list(itertools.combinations(range(1, units), k - 1))
    cuts = np.array(combos, dtype=np.int64).reshape(len(combos), k - 1)
    edges = np.hstack([np.zeros((len(cuts), 1), np.int64), cuts, np.full((len(cuts), 1), units)])
    return np.diff(edges, axis=1)


def enumerate_candidates(
    rules: EnumerationRules | None = None, chunk_size: int = 200_000
) -> Iterator[CandidateChunk]:
    """Stream every composition the rules admit, in chunks of at most ``chunk_size`` rows.

    Parameters
    ----------
    rules
        Enumeration rules (default :class:`EnumerationRules`).
    chunk_size
        Maximum rows per chunk; memory is about ``chunk_size * n_elements * 8`` bytes per chunk.

    Yields
    ------
    CandidateChunk

    Raises
    ------
    EnumerationRulesError
        Inconsistent rules.
    EmptyEnumerationError
        Rules that admit no composition (raised when the stream ends without one).
    """
    rules = rules or EnumerationRules()
    elements = rules.eligible_elements()
    table = {**DEFAULT_OXIDATION_STATES, **rules.oxidation_states}
    z = np.array([table[el] for el in elements], dtype=np.int64)
    m = len(elements)
    lo_k, hi_k = rules.n_cations
    if m < lo_k:
        raise EmptyEnumerationError(
            f"Only {m} pool element(s) pass the radius/valence rules "
            f"({', '.join(elements) or 'none'})"
            f" but at least {lo_k} cations are required: widen radius_window_pm or valence_range, "
            "or lower n_cations."
        )
    units = rules.units
    # Na = 24 - 4 si - 5 (3 - si) - sum n_i z_i with n_i = u_i * step; in integer step units:
    fixed = 24.0 - 4.0 * rules.si - 5.0 * (3.0 - rules.si)
    charge_lo = (fixed - rules.na_range[1]) / rules.step - 1e-6  # bounds on sum u_i z_i
    charge_hi = (fixed - rules.na_range[0]) / rules.step + 1e-6
    required = np.array([el in rules.required_elements for el in elements])
    buffer: list[np.ndarray] = []
    n_buffered = 0
    n_total = 0
    for k in range(lo_k, min(hi_k, m) + 1):
        parts = _partitions(units, k)
        if rules.min_entropy_R > 0:
            # the entropy depends on the partition only, not on which elements fill it
            x = parts / units
            parts = parts[-(x * np.log(x)).sum(axis=1) >= rules.min_entropy_R - 1e-12]
        if not len(parts):
            continue
        combos = itertools.combinations(range(m), k)
        block = max(1, 2_000_000 // len(parts))  # (partitions x combos) work matrix ~16 MB
        while True:
            idx = np.array(list(itertools.islice(combos, block)), dtype=np.int64).reshape(-1, k)
            if not len(idx):
                break
            if required.any():
                idx = idx[required[idx].sum(axis=1) == required.sum()]
                if not len(idx):
                    continue
            charge = parts @ z[idx].T  # (n_parts, n_combos)
            ok_p, ok_c = np.nonzero((charge >= charge_lo) & (charge <= charge_hi))
            if not len(ok_p):
                continue
            rows = np.zeros((len(ok_p), m))
            rows[np.arange(len(ok_p))[:, None], idx[ok_c]] = parts[ok_p] * rules.step
            buffer.append(rows)
            n_buffered += len(rows)
            while n_buffered >= chunk_size:
                stacked = np.vstack(buffer)
                yield CandidateChunk(stacked[:chunk_size], elements, rules.si)
                n_total += chunk_size
                rest = stacked[chunk_size:]
                buffer, n_buffered = ([rest] if len(rest) else []), len(rest)
    if n_buffered:
        yield CandidateChunk(np.vstack(buffer), elements, rules.si)
        n_total += n_buffered
    if n_total == 0:
        raise EmptyEnumerationError(
            f"No composition of {', '.join(elements)} with {lo_k}-{hi_k} cations in steps of "
            f"{rules.step} gives Na within {rules.na_range}"
            + (
                f" while containing {list(rules.required_elements)}"
                if rules.required_elements
                else ""
            )
            + (f" with M-site entropy >= {rules.min_entropy_R} R" if rules.min_entropy_R else "")
            + ": widen na_range or the pool."
        )


def count_candidates(rules: EnumerationRules | None = None, chunk_size: int = 500_000) -> int:
    """Number of compositions the rules admit (streams the enumeration)."""
    return sum(len(c) for c in enumerate_candidates(rules, chunk_size))


#: How :func:`screen_candidates` keeps its ``top`` rows.
TIE_BREAKS = ("ehull", "probability")


def screen_candidates(
    rules: EnumerationRules | None = None,
    gate=None,
    top: int = 20,
    chunk_size: int = 200_000,
    in_domain_only: bool = False,
    progress: Callable[[int], None] | None = None,
    max_ehull: float | None = None,
    tie_break: str = "probability",
    tie_sigma: float = 1.0,
):
    """Score every enumerated composition with the gate and keep ``top`` of them.

    Parameters
    ----------
    rules
        Enumeration rules (default :class:`EnumerationRules`).
    gate
        A :class:`~nasicon_workflows.classifier.SynthesizabilityGate`; default
        ``SynthesizabilityGate.load_default()``.
    top
        Number of rows returned.
    chunk_size
        Rows scored at once (bounds memory).
    in_domain_only
        Rank only compositions inside the gate's applicability domain.
    progress
        Called with the number of rows of each scored chunk (of both passes with
        ``tie_break="ehull"``).
    max_ehull
        Second gate: rank only compositions whose predicted E_hull(1000 K) is at most this many
        meV/atom (None = off).
    tie_break
        ``"probability"``: the ``top`` most probable (one pass; ties in enumeration order).
        ``"ehull"``: the probabilities tied with the best within its uncertainty order nothing,
        so two passes over the (deterministic) stream keep the tie instead: pass 1 finds the
        most probable eligible row inside the applicability domain and its
        ``probability_std``; pass 2 keeps, among the eligible rows tied with it
        (:func:`~nasicon_workflows.screen.selection.tied_with_best`), one row per M-element set
        (the set's lowest (outside the domain?, extrapolated E_hull?, predicted E_hull)), the
        ``top`` sets with the lowest such row; when fewer sets are tied, the other tied rows by
        the same key, and then the next by probability. A gate without ``probability_std`` falls
        back to ``"probability"`` (``attrs["tie_break"]`` says which was used).
    tie_sigma
        Tie width in standard deviations of the best probability (``tie_break="ehull"``).

    Returns
    -------
    pandas.DataFrame
        The columns of :meth:`SynthesizabilityGate.score`. ``"probability"``: sorted by
        decreasing probability (ties in enumeration order); ``"ehull"``: one tied row per M-element
        set by (extrapolated?, E_hull), then the other tied rows, then the fill by decreasing
        probability.
        ``attrs["n_enumerated"]``, ``attrs["n_in_domain"]`` and ``attrs["n_ehull_pass"]``
        count the whole stream; ``attrs["tie_break"]`` is the rule used; with ``"ehull"``,
        ``attrs["n_tied"]`` counts the eligible rows tied with the best (``attrs["best"]``:
        its probability and std, ``attrs["tie_sigma"]``), ``attrs["n_tied_sets"]`` their
        M-element sets.
    """
    from nasicon_workflows.classifier.gate import SynthesizabilityGate

    if top < 1:
        raise EnumerationRulesError(f"top must be >= 1, got {top}.")
    if tie_break not in TIE_BREAKS:
        raise EnumerationRulesError(
            f"tie_break must be one of {', '.join(TIE_BREAKS)}; got {tie_break!r}."
        )
    if not tie_sigma >= 0:
        raise EnumerationRulesError(f"tie_sigma must be >= 0, got {tie_sigma}.")
    rules = rules or EnumerationRules()
    rules.validate()
    gate = gate or SynthesizabilityGate.load_default()
    counts = {"n_enumerated": 0, "n_in_domain": 0, "n_ehull_pass": 0}
    extra: dict = {}
    if tie_break == "ehull":
        best, elements = _best_eligible(rules, gate, chunk_size, in_domain_only, progress,
                                        max_ehull, counts)
        if best is None or not np.isfinite(best[1]):
            tie_break = "probability"  # no uncertainty: nothing but equal probabilities ties
        else:
            kept, n_tied, n_sets = _keep_tie(rules, gate, top, chunk_size, in_domain_only,
                                             progress, max_ehull, best, tie_sigma)
            extra = {"n_tied": n_tied, "n_tied_sets": n_sets, "tie_sigma": tie_sigma,
                     "best": {"probability": best[0], "probability_std": best[1]}}
    if tie_break == "probability":
        counts = {k: 0 for k in counts}
        kept, elements = _keep_most_probable(rules, gate, top, chunk_size, in_domain_only,
                                             progress, max_ehull, counts)
    rows = CandidateChunk(
        np.array(kept).reshape(len(kept), len(elements)), elements, rules.si
    )
    frame = gate.score(rows.compositions(), max_ehull=max_ehull)
    frame.attrs.update(counts)
    frame.attrs["rules"] = rules
    frame.attrs["tie_break"] = tie_break
    frame.attrs.update(extra)
    logger.info("screened %d compositions, %d in domain", counts["n_enumerated"],
                counts["n_in_domain"])
    return frame


def _scored_chunks(rules, gate, chunk_size, in_domain_only, progress, max_ehull, extra=False):
    """(chunk, scored arrays, eligibility mask, serial of the chunk's first row) of the stream.

    ``extra``: also the predicted E_hull and whether it is an extrapolation (the tie keep needs
    them; the per-row probability_std it does not: the tie is set by the best's own std).
    """
    n_seen = 0
    for chunk in enumerate_candidates(rules, chunk_size):
        scored = gate.score_arrays(chunk.amounts, chunk.elements, chunk.si, max_ehull=max_ehull,
                                   with_ehull=extra)
        ok = scored["in_domain"] if in_domain_only else np.ones(len(chunk), bool)
        yield chunk, scored, ok & scored["ehull_pass"], n_seen
        n_seen += len(chunk)
        if progress:
            progress(len(chunk))


def _count(counts: dict, chunk, scored) -> None:
    counts["n_enumerated"] += len(chunk)
    counts["n_in_domain"] += int(scored["in_domain"].sum())
    counts["n_ehull_pass"] += int(scored["ehull_pass"].sum())


def _keep_most_probable(rules, gate, top, chunk_size, in_domain_only, progress, max_ehull,
                        counts):
    """Amount rows of the ``top`` most probable eligible compositions (one pass, a min-heap)."""
    heap: list[tuple[float, int, tuple]] = []  # min-heap of (probability, -serial, row)
    elements: tuple[str, ...] = ()
    for chunk, scored, ok, start in _scored_chunks(rules, gate, chunk_size, in_domain_only,
                                                   progress, max_ehull):
        elements = chunk.elements
        _count(counts, chunk, scored)
        p = scored["probability"]
        cand = np.nonzero(ok)[0]
        if len(cand) > top:  # only the chunk's own top-N can enter the global top-N
            cand = cand[np.argsort(-p[cand], kind="stable")[:top]]
        for i in cand:
            _push(heap, (float(p[i]), -(start + int(i)), tuple(chunk.amounts[i])), top)
    return [b[2] for b in sorted(heap, reverse=True)], elements


def _push(heap: list, item: tuple, size: int) -> None:
    """Keep the ``size`` largest items in a min-heap."""
    if len(heap) < size:
        heapq.heappush(heap, item)
    elif item > heap[0]:
        heapq.heapreplace(heap, item)


def _best_eligible(rules, gate, chunk_size, in_domain_only, progress, max_ehull, counts):
    """Pass 1: (probability, probability_std) of the most probable eligible row inside the
    domain (first in enumeration order among equals; any eligible row when none is inside;
    None when no row is eligible) and the pool's elements."""
    best: dict[bool, tuple[float, np.ndarray]] = {}  # by in_domain
    elements: tuple[str, ...] = ()
    for chunk, scored, ok, _ in _scored_chunks(rules, gate, chunk_size, in_domain_only,
                                               progress, max_ehull):
        elements = chunk.elements
        _count(counts, chunk, scored)
        p = scored["probability"]
        for inside in (True, False):
            cand = np.nonzero(ok & (scored["in_domain"] == inside))[0]
            if len(cand):
                i = int(cand[np.argmax(p[cand])])
                if inside not in best or p[i] > best[inside][0]:
                    best[inside] = (float(p[i]), chunk.amounts[i].copy())
    if not best:
        return None, elements
    p_best, amounts = best.get(True) or best[False]
    std = gate.score_arrays(amounts[None, :], elements, rules.si, with_std=True)
    return (p_best, float(std["probability_std"][0])), elements


def _keep_tie(rules, gate, top, chunk_size, in_domain_only, progress, max_ehull, best,
              tie_sigma):
    """Pass 2: amount rows of the ``top`` kept rows, the number of tied rows and of their
    M-element sets.

    Kept: the tied row with the lowest (outside?, extrapolated?, E_hull) of each M-element set,
    sets ordered by that row (so the list holds different chemistries, not the variants of the
    most stable one); then, when fewer sets are tied than ``top``, the other tied rows by the same
    key; then the most probable untied rows."""
    from nasicon_workflows.screen.selection import tied_with_best

    tied_heap: list[tuple] = []  # min-heap of (-outside, -extrapolated, -E_hull, -serial, row)
    set_best: dict[tuple, tuple] = {}  # M-element set -> (key, row) of its best tied row
    fill_heap: list[tuple] = []  # min-heap of (probability, -serial, row)
    n_tied = 0
    for chunk, scored, ok, start in _scored_chunks(rules, gate, chunk_size, in_domain_only,
                                                   progress, max_ehull, extra=True):
        p = scored["probability"]
        tied = ok & tied_with_best(best[0], best[1], p, tie_sigma)
        n_tied += int(tied.sum())
        ehull = np.nan_to_num(scored["ehull_1000K_meV_per_atom"], nan=np.inf)
        extrap, outside = scored["ehull_extrapolated"], ~scored["in_domain"]
        cand = np.nonzero(tied)[0]
        cand = cand[np.lexsort((ehull[cand], extrap[cand], outside[cand]))]  # best first
        # the best row of each M-element set (first occurrence in the sorted order)
        present = chunk.amounts[cand] > 0
        _, first = np.unique(present, axis=0, return_index=True)
        for i in cand[np.sort(first)]:
            key = (int(outside[i]), int(extrap[i]), float(ehull[i]), start + int(i))
            m_set = tuple(np.nonzero(chunk.amounts[i] > 0)[0])
            if m_set not in set_best or key < set_best[m_set][0]:
                set_best[m_set] = (key, tuple(chunk.amounts[i]))
        for i in cand[:top]:  # only the chunk's own lowest can enter the global lowest
            _push(tied_heap, (-int(outside[i]), -int(extrap[i]), -float(ehull[i]),
                              -(start + int(i)), tuple(chunk.amounts[i])), top)
        if n_tied < top:  # the fill can only be needed while fewer than top are tied
            rest = np.nonzero(ok & ~tied)[0]
            rest = rest[np.argsort(-p[rest], kind="stable")[:top]]
            for i in rest:
                _push(fill_heap, (float(p[i]), -(start + int(i)), tuple(chunk.amounts[i])), top)
    # one composition per M-element set first (the set's lowest key), sets by that key; then,
    # if fewer sets than ``top`` are tied, the other tied rows by key; then the fill
    kept = [row for _, row in sorted(set_best.values())[:top]]
    taken = set(kept)
    kept += [t[4] for t in sorted(tied_heap, reverse=True) if t[4] not in taken][
        : top - len(kept)]
    kept += [f[2] for f in sorted(fill_heap, reverse=True)][: top - len(kept)]
    return kept, n_tied, len(set_best)
