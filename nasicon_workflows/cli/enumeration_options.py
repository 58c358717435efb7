"""One options model of the composition enumeration, shared by ``enumerate`` and ``screen``.

Both commands call :meth:`EnumerationOptions.add_arguments` on their parser and
:meth:`EnumerationOptions.from_args` on the parsed options, so the two have the same flag names,
the same defaults and the same checks. :meth:`EnumerationOptions.check` runs every check before
any computation, including the size guard: the number of compositions and the peak memory of the
enumeration are estimated (:func:`estimate_enumeration`) and a run above ``--max-candidates`` or
``--max-enumeration-memory-mb`` is refused with the estimate in the message; the user can raise both bounds.

Adding an option: add a field with its default, one ``add_argument`` line in
:meth:`add_arguments`, its reading in :meth:`from_args`, and (if it is an enumeration rule) its
entry in :meth:`rules`.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from nasicon_workflows.classifier.errors import EnumerationRulesError

__all__ = [
    "DEFAULT_MAX_CANDIDATES",
    "DEFAULT_MAX_MEMORY_MB",
    "EnumerationEstimate",
    "EnumerationOptions",
    "EnumerationSizeError",
    "estimate_enumeration",
]

#: Default bound on the estimated number of enumerated compositions. At the measured ~4 million
#: compositions per minute (README, benchmarks/bench_enumeration.py) 2e8 is under an hour; the
#: default screen (Zr required, entropy >= 1.0 R) estimates 2.9e7 before the Na filter.
DEFAULT_MAX_CANDIDATES = 200_000_000
#: Default bound on the estimated peak memory of the enumeration, MB.
DEFAULT_MAX_MEMORY_MB = 4096.0
#: Rows of one scored chunk (bounds the memory of scoring).
DEFAULT_CHUNK_SIZE = 200_000
#: Largest accepted chunk: 10 M rows of ~25 columns is already ~2 GB per copy.
MAX_CHUNK_SIZE = 10_000_000
#: Partition tables up to this size are generated to apply the entropy filter exactly.
_EXACT_PARTITIONS = 500_000


class EnumerationSizeError(EnumerationRulesError):
    """An enumeration estimated to be larger (count or memory) than the user's bound."""


def _pair(kind):
    def parse(text: str):
        parts = text.replace(":", ",").split(",")
        if len(parts) != 2:
            raise argparse.ArgumentTypeError(f"expected MIN,MAX, got {text!r}")
        try:
            values = tuple(kind(p) for p in parts)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected two numbers MIN,MAX, got {text!r}"
            ) from None
        if any(isinstance(v, float) and not math.isfinite(v) for v in values):
            raise argparse.ArgumentTypeError(f"expected two finite numbers, got {text!r}")
        return values

    return parse


def _finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _split(items: Sequence[str] | None) -> list[str] | None:
    """Elements given as separate words and/or comma-separated ("Hf,Sc Ti" -> [Hf, Sc, Ti])."""
    if items is None:
        return None
    if isinstance(items, str):
        items = [items]
    return [part.strip() for item in items for part in item.split(",") if part.strip()]


@dataclass(frozen=True)
class EnumerationEstimate:
    """Size of an enumeration, estimated before it runs.

    Attributes
    ----------
    n_compositions_max
        Upper bound of the number of compositions: element combinations (with the required
        elements) times M-site partitions (entropy-filtered when the table is small enough to
        list), before the Na charge-balance filter. The default screen's bound is 2.9e7 against
        1.16e7 actually enumerated.
    n_partitions_max
        Largest partition table of one cation count (held in memory at once).
    memory_mb
        Estimated peak memory of the enumeration and scoring, MB (see :func:`estimate_enumeration`).
    """

    n_compositions_max: int
    n_partitions_max: int
    memory_mb: float


def estimate_enumeration(rules, chunk_size: int = DEFAULT_CHUNK_SIZE) -> EnumerationEstimate:
    """Estimate count and peak memory of ``enumerate_candidates(rules, chunk_size)`` without
    running it.

    Memory model (bytes), from the implementation in :mod:`nasicon_workflows.enumeration`: the
    partition table of the largest cation count (Python tuples, ~64 + 8 (k-1) bytes each, plus
    three integer arrays of ~8 (k+1) bytes per row), the work matrices of one block (~2e6
    elements of int64 charge, masks and indices, ~40 bytes each) and the chunk buffer plus its
    stacked copy and the features of scoring (chunk_size x (pool + 64) x 8 bytes x 3).
    Checked once (2026-11-29, load ~9 on 2 cores): a 16-element pool, 2-4 cations, step 0.1
    (508,950 compositions in full 200,000-row chunks) peaked at 556 MB RSS against 224 MB for a
    2-row enumeration, i.e. ~332 MB for the enumeration, estimated here as 434 MB; a 138,247-row
    run (one partial chunk) used ~97 MB against 366 MB estimated. The estimate is an upper
    estimate of the enumeration alone; the program and model add ~0.2 GB.
    """
    import numpy as np

    from nasicon_workflows.enumeration import _partitions

    elements = rules.eligible_elements()
    m = len(elements)
    n_req = len(set(rules.required_elements))
    units = rules.units
    lo_k, hi_k = rules.n_cations
    total = 0
    peak_parts = 0
    peak_bytes = 0.0
    for k in range(lo_k, min(hi_k, m) + 1):
        n_parts = math.comb(units - 1, k - 1)
        if n_parts == 0:
            continue
        table_bytes = n_parts * (64 + 8 * (k - 1) + 3 * 8 * (k + 1))
        if rules.min_entropy_R > 0 and n_parts <= _EXACT_PARTITIONS:
            parts = _partitions(units, k)
            x = parts / units
            n_parts = int((-(x * np.log(x)).sum(axis=1) >= rules.min_entropy_R - 1e-12).sum())
        n_combos = math.comb(m - n_req, k - n_req) if k >= n_req else 0
        total += n_combos * n_parts
        peak_parts = max(peak_parts, n_parts)
        work = max(n_parts, min(2_000_000, n_parts * max(n_combos, 1))) * 40
        peak_bytes = max(peak_bytes, table_bytes + work)
    peak_bytes += chunk_size * (m + 64) * 8 * 3
    return EnumerationEstimate(total, peak_parts, peak_bytes / 2**20)


@dataclass
class EnumerationOptions:
    """Options of the composition enumeration (``enumerate`` and ``screen``).

    Parameters
    ----------
    pool
        M-site elements to combine; None: the paper's precursor cations
        (:data:`nasicon_workflows.enumeration.DEFAULT_DOPANT_POOL`).
    n_cations
        Inclusive (min, max) number of distinct M-site cations.
    step
        Amount step per formula unit; None: the grid the default cell realises exactly (the
        enumeration stage's default, 0.25 for the 84-site conventional cell).
    radius_window_pm
        Keep pool elements within this many pm of Zr4+ (CN VI); None keeps all.
    valence
        Inclusive (min, max) oxidation state of pool elements.
    na_range
        Inclusive (min, max) Na per formula unit.
    si
        Si per formula unit.
    require
        Elements every composition contains; None: Zr when Zr is in the pool (dopants on the Zr
        site, as in the source paper and all 58 of its compositions).
    min_entropy_R
        Lowest M-site configurational entropy per M site, in R (1.0: medium and high entropy).
    max_candidates
        Refuse an enumeration estimated above this many compositions.
    max_memory_mb
        Refuse an enumeration estimated above this peak memory, MB.
    max_ehull
        Second gate on the stability model's predicted E_hull(1000 K), meV/atom (None: off):
        only compositions at or below it are ranked (``enumerate``) or computed (``screen``).
    tie_break
        How the top / kept compositions are chosen: ``"ehull"`` keeps, among those tied in
        probability with the best (within the best's standard deviation), the lowest
        predicted E_hull, DFT-covered elements first; ``"probability"`` the most probable.
    """

    pool: list[str] | None = None
    n_cations: tuple[int, int] = (2, 5)
    step: float | None = None
    radius_window_pm: float | None = 35.0
    valence: tuple[int, int] = (2, 6)
    na_range: tuple[float, float] = (3.0, 4.0)
    si: float = 2.0
    require: list[str] | None = None
    min_entropy_R: float = 1.0
    max_candidates: int = DEFAULT_MAX_CANDIDATES
    max_memory_mb: float = DEFAULT_MAX_MEMORY_MB
    max_ehull: float | None = None
    tie_break: str = "ehull"
    extra: dict[str, Any] = field(default_factory=dict)

    # ------------------------------------------------------------------ parser
    @classmethod
    def add_arguments(cls, parser: argparse.ArgumentParser) -> None:
        """Add the enumeration options (one group) to ``parser``."""
        d = cls()
        group = parser.add_argument_group("enumeration")
        group.add_argument(
            "--pool", "--dopants", dest="pool", nargs="+", metavar="EL",
            help="M-site elements, as words or comma-separated (default: the paper's precursor "
                 "cations)",
        )
        group.add_argument("--n-cations", type=_pair(int), default=d.n_cations, metavar="MIN,MAX",
                           help="distinct M cations per composition (default 2,5)")
        group.add_argument("--max-cations", type=int, default=None, metavar="N",
                           help="shortcut for --n-cations MIN(2,N),N")
        group.add_argument("--step", type=_finite_float, default=d.step,
                           help="amount step per formula unit (default: the grid the 84-site "
                                "conventional cell realises exactly, 0.25)")
        group.add_argument("--radius-window", type=_finite_float, default=d.radius_window_pm,
                           help="pm around Zr4+ (CN VI, 72 pm); negative = no window "
                                "(default 35)")
        group.add_argument("--valence", type=_pair(int), default=d.valence, metavar="MIN,MAX")
        group.add_argument("--na-range", type=_pair(float), default=d.na_range, metavar="MIN,MAX")
        group.add_argument("--si", type=_finite_float, default=d.si)
        group.add_argument(
            "--require", nargs="*", default=None, metavar="EL",
            help="elements every composition contains (default: Zr when Zr is in the pool, i.e. "
                 "dopants on the Zr site as in the source paper; give --require '' for none)",
        )
        group.add_argument(
            "--min-entropy", type=_finite_float, default=d.min_entropy_R, metavar="S_R",
            help="lowest M-site configurational entropy in R (default 1.0: medium and high "
                 "entropy, the entropy-stabilised candidates; 0 keeps all)",
        )
        group.add_argument(
            "--max-candidates", type=_finite_float, default=d.max_candidates, metavar="N",
            help=f"refuse an enumeration estimated above N compositions (default "
                 f"{d.max_candidates:.0e}; raise it on purpose)",
        )
        group.add_argument(
            "--max-enumeration-memory-mb", dest="enumeration_max_memory_mb", type=_finite_float,
            default=d.max_memory_mb, metavar="MB",
            help=f"refuse an enumeration estimated above MB of memory (default "
                 f"{d.max_memory_mb:.0f})",
        )
        group.add_argument(
            "--max-ehull", type=_finite_float, default=d.max_ehull, metavar="MEV",
            help="second gate: keep only compositions with predicted E_hull(1000 K) <= MEV "
                 "meV/atom (stability model, docs/stability.md; default off)",
        )
        group.add_argument(
            "--tie-break", choices=("ehull", "probability"), default=d.tie_break,
            help="which compositions to keep: 'ehull' (default) the lowest predicted E_hull among "
                 "those tied in probability with the best within its uncertainty (DFT-covered "
                 "elements first); 'probability' the most probable",
        )

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> EnumerationOptions:
        """The options from parsed arguments (not yet checked: call :meth:`check`)."""
        n_cations = tuple(args.n_cations)
        if args.max_cations is not None:
            if args.max_cations < 1:
                raise EnumerationRulesError(
                    f"--max-cations {args.max_cations} allows no cation: give >= 1."
                )
            n_cations = (min(n_cations[0], args.max_cations), args.max_cations)
        pool = _split(args.pool)
        if args.pool is not None and not pool:
            raise EnumerationRulesError("The dopant pool is empty: give e.g. --pool Hf Sc Lu Ti.")
        return cls(
            pool=pool,
            n_cations=n_cations,
            step=args.step,
            radius_window_pm=None if args.radius_window < 0 else args.radius_window,
            valence=tuple(args.valence),
            na_range=tuple(args.na_range),
            si=args.si,
            require=_split(args.require),
            min_entropy_R=args.min_entropy,
            max_candidates=args.max_candidates,
            max_memory_mb=args.enumeration_max_memory_mb,
            max_ehull=getattr(args, "max_ehull", None),
            tie_break=getattr(args, "tie_break", "ehull"),
        )

    # ------------------------------------------------------------------ rules
    def dopant_pool(self) -> list[str]:
        from nasicon_workflows.enumeration import DEFAULT_DOPANT_POOL

        return list(DEFAULT_DOPANT_POOL) if self.pool is None else list(self.pool)

    def required(self) -> list[str]:
        """The required elements (the default rule applied)."""
        if self.require is None:
            return ["Zr"] if "Zr" in self.dopant_pool() else []
        return list(self.require)

    def rules(self) -> dict[str, Any]:
        """JSON-friendly keyword arguments of ``EnumerationRules`` (defaults left out)."""
        rules: dict[str, Any] = {"n_cations": list(self.n_cations)}
        if self.step is not None:
            rules["step"] = self.step
        if self.pool is not None:
            rules["dopant_pool"] = list(self.pool)
        defaults = EnumerationOptions()
        if self.radius_window_pm != defaults.radius_window_pm:
            rules["radius_window_pm"] = self.radius_window_pm
        if tuple(self.valence) != defaults.valence:
            rules["valence_range"] = list(self.valence)
        if tuple(self.na_range) != defaults.na_range:
            rules["na_range"] = list(self.na_range)
        if self.si != defaults.si:
            rules["si"] = self.si
        if self.required():
            rules["required_elements"] = self.required()
        if self.min_entropy_R > 0:
            rules["min_entropy_R"] = self.min_entropy_R
        rules.update(self.extra)
        return rules

    def enumeration_rules(self):
        """The enumeration stage's ``EnumerationRules``."""
        from nasicon_workflows.enumeration import EnumerationRules

        values = {k: tuple(v) if isinstance(v, list) else v for k, v in self.rules().items()}
        return EnumerationRules(**values)

    # ------------------------------------------------------------------ checks
    def check(self, chunk_size: int = DEFAULT_CHUNK_SIZE) -> EnumerationEstimate:
        """Every check before computing; returns the size estimate.

        Raises
        ------
        EnumerationRulesError
            Unknown elements, inconsistent rules, or a bound below 1.
        EnumerationSizeError
            An estimate above ``max_candidates`` or ``max_memory_mb`` (names both numbers and
            the flags that raise the bounds).
        """
        from pymatgen.core.periodic_table import Element

        from nasicon_workflows.composition import DEFAULT_OXIDATION_STATES

        pool = self.dopant_pool()
        not_elements = [d for d in pool if not Element.is_valid_symbol(d)]
        if not_elements:
            raise EnumerationRulesError(
                f"Unknown dopant(s) {not_elements}: not element symbols (check spelling and case)."
            )
        unknown = [d for d in pool if d not in DEFAULT_OXIDATION_STATES]
        if unknown:
            raise EnumerationRulesError(
                f"Dopant(s) {unknown} have no known M-site oxidation state; accepted dopants: "
                f"{', '.join(sorted(DEFAULT_OXIDATION_STATES))}."
            )
        missing = [el for el in self.required() if el not in pool]
        if missing:
            raise EnumerationRulesError(
                f"--require {missing} not in the dopant pool {pool}: add them to --pool or drop "
                "them from --require."
            )
        if self.min_entropy_R < 0:
            raise EnumerationRulesError(
                f"--min-entropy {self.min_entropy_R} is negative: give an entropy in R, e.g. 1.0."
            )
        if self.step is not None and not (0 < self.step <= 2):
            raise EnumerationRulesError(f"--step {self.step} must be in (0, 2] formula units.")
        if not 1 <= chunk_size <= MAX_CHUNK_SIZE:
            raise EnumerationRulesError(
                f"--chunk-size {chunk_size} must be within 1-{MAX_CHUNK_SIZE:,} rows."
            )
        if self.max_candidates < 1 or self.max_memory_mb <= 0:
            raise EnumerationRulesError(
                f"--max-candidates ({self.max_candidates:g}) must be >= 1 and "
                f"--max-enumeration-memory-mb "
                f"({self.max_memory_mb:g}) > 0."
            )
        rules = self.enumeration_rules()
        rules.validate()
        estimate = estimate_enumeration(rules, chunk_size)
        too_many = estimate.n_compositions_max > self.max_candidates
        too_big = estimate.memory_mb > self.max_memory_mb
        if too_many or too_big:
            raise EnumerationSizeError(
                f"enumeration too large: estimated up to {estimate.n_compositions_max:.3g} "
                f"compositions (bound --max-candidates {self.max_candidates:.3g}) and "
                f"~{_format_mb(estimate.memory_mb)} of memory (bound --max-enumeration-memory-mb "
                f"{self.max_memory_mb:g}); use a coarser --step, fewer --n-cations or a smaller "
                "pool, or raise the bound on purpose."
            )
        return estimate


def _format_mb(mb: float) -> str:
    if mb >= 1024 * 1024:
        return f"{mb / 1024 / 1024:.3g} TB"
    if mb >= 1024:
        return f"{mb / 1024:.3g} GB"
    return f"{mb:.0f} MB"
