"""Rank screened candidates by a documented, user-weighted combination of four criteria.

Each criterion becomes a score in [0, 1] (1 = best); the ranking score is their weighted mean.

``probability``
    The classifier's synthesizability probability, used as is.
``entropy``
    M-site configurational entropy ``entropy_R`` (units of R) divided by 1.5 R, the threshold of
    the high-entropy class, capped at 1: every high-entropy candidate scores 1.
``barrier``
    The Na percolation barrier from BVSE over the ordered configurations, taken pessimistically
    as ``mean + spread_penalty * std`` (eV), and scored as the Arrhenius factor relative to the
    best candidate, ``exp(-(E - E_min) / kT)`` at ``temperature_K``: a candidate whose barrier is
    kT above the best one scores 1/e, i.e. an e-fold slower hop rate.
``energetics``
    The spread of the relaxed energies over the ordered configurations (max - min, eV per M
    cation): a small spread means the dopants mix without a strong ordering preference, which is
    what an entropy-stabilised solid solution needs. Scored ``exp(-(dE - dE_min) / kT)``. With a
    single ordering per candidate the spread is undefined and the criterion is dropped.

A criterion that is missing for any ranked candidate is dropped for all (and the drop is listed
in the ranking notes), so candidates are always compared on the same criteria.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass

import pandas as pd

from nasicon_workflows.constants import BOLTZMANN_eV_PER_K, ENTROPY_CLASS_BOUNDS
from nasicon_workflows.screen.errors import RankingWeightsError

__all__ = [
    "BOLTZMANN_eV_PER_K",
    "CRITERIA",
    "RankingWeights",
    "criterion_scores",
    "rank_candidates",
]

#: Ranking criteria, in the order of the report.
CRITERIA = ("probability", "entropy", "barrier", "energetics")
#: M-site entropy (units of R) from which a composition is "high entropy" (descriptors module).
HIGH_ENTROPY_R = ENTROPY_CLASS_BOUNDS[1]


@dataclass(frozen=True)
class RankingWeights:
    """Weights and settings of the ranking score.

    Parameters
    ----------
    probability, entropy, barrier, energetics
        Non-negative weights of the four criteria (normalised to sum 1 over the criteria used).
    spread_penalty
        How many standard deviations of the BVSE barrier over orderings are added to its mean.
    temperature_K
        Temperature of the Arrhenius scores of barrier and energetics, K.
    barrier_dimension
        Which BVSE percolation barrier ranks the candidates: ``"1D"``, ``"2D"`` or ``"3D"``.
    """

    probability: float = 0.35
    entropy: float = 0.15
    barrier: float = 0.40
    energetics: float = 0.10
    spread_penalty: float = 1.0
    temperature_K: float = 300.0
    barrier_dimension: str = "3D"

    def __post_init__(self) -> None:
        weights = self.weights()
        bad = {k: v for k, v in weights.items() if not (math.isfinite(v) and v >= 0)}
        if bad:
            raise RankingWeightsError(
                f"Ranking weights must be finite and >= 0; got {bad}. Give e.g. "
                "'probability=0.35,entropy=0.15,barrier=0.4,energetics=0.1'."
            )
        if sum(weights.values()) <= 0:
            raise RankingWeightsError("All ranking weights are zero: give at least one weight > 0.")
        if self.barrier_dimension not in ("1D", "2D", "3D"):
            raise RankingWeightsError(
                f"barrier_dimension {self.barrier_dimension!r} is not one of '1D', '2D', '3D'."
            )
        if not (self.temperature_K > 0 and self.spread_penalty >= 0):
            raise RankingWeightsError(
                f"temperature_K must be > 0 and spread_penalty >= 0; got {self.temperature_K} K "
                f"and {self.spread_penalty}."
            )

    def weights(self) -> dict[str, float]:
        """Criterion -> weight."""
        return {c: float(getattr(self, c)) for c in CRITERIA}

    @classmethod
    def parse(cls, text: str | None) -> RankingWeights:
        """Weights from ``"probability=0.4,barrier=0.6"`` (unnamed ones keep their defaults).

        Raises
        ------
        RankingWeightsError
            Unknown names, unreadable numbers or invalid values.
        """
        if not text:
            return cls()
        values: dict[str, float | str] = {}
        allowed = set(asdict(cls()))
        for item in text.split(","):
            name, sep, value = item.partition("=")
            name = name.strip()
            if not sep or name not in allowed:
                raise RankingWeightsError(
                    f"Cannot read ranking weight {item.strip()!r}: use NAME=VALUE with NAME in "
                    f"{sorted(allowed)}."
                )
            if name == "barrier_dimension":
                values[name] = value.strip()
                continue
            try:
                values[name] = float(value)
            except ValueError:
                raise RankingWeightsError(
                    f"Ranking weight {name}={value.strip()!r} is not a number."
                ) from None
        return cls(**values)


def _arrhenius(values: pd.Series, kT: float) -> pd.Series:
    return (-(values - values.min()) / kT).map(math.exp)


def criterion_scores(frame: pd.DataFrame, weights: RankingWeights) -> pd.DataFrame:
    """Per-criterion scores in [0, 1] of candidates (NaN where an input is missing).

    Parameters
    ----------
    frame
        One row per candidate with columns ``probability``, ``entropy_R``,
        ``barrier_<dim>_mean_eV``, ``barrier_<dim>_std_eV`` and ``ordering_energy_range_eV_per_m``.
    weights
        Ranking settings.

    Returns
    -------
    DataFrame
        Columns ``score_<criterion>`` and ``barrier_used_eV``, same index as ``frame``.
    """
    kT = BOLTZMANN_eV_PER_K * weights.temperature_K
    dim = weights.barrier_dimension
    out = pd.DataFrame(index=frame.index)
    out["score_probability"] = frame["probability"].astype(float).clip(0.0, 1.0)
    out["score_entropy"] = (frame["entropy_R"].astype(float) / HIGH_ENTROPY_R).clip(upper=1.0)
    mean = frame.get(f"barrier_{dim}_mean_eV", pd.Series(float("nan"), index=frame.index))
    std = frame.get(f"barrier_{dim}_std_eV", pd.Series(0.0, index=frame.index)).fillna(0.0)
    used = mean.astype(float) + weights.spread_penalty * std.astype(float)
    out["barrier_used_eV"] = used
    out["score_barrier"] = _arrhenius(used, kT)
    spread = frame.get(
        "ordering_energy_range_eV_per_m", pd.Series(float("nan"), index=frame.index)
    ).astype(float)
    out["score_energetics"] = _arrhenius(spread, kT)
    return out


def rank_candidates(
    records: Iterable[Mapping] | pd.DataFrame,
    weights: RankingWeights | None = None,
) -> tuple[pd.DataFrame, list[str]]:
    """Rank finished candidates.

    Parameters
    ----------
    records
        Candidates (dicts or a DataFrame) with the columns named in :func:`criterion_scores`.
    weights
        Ranking settings; defaults of :class:`RankingWeights` when None.

    Returns
    -------
    ranking
        Input columns plus ``score_<criterion>``, ``barrier_used_eV``, ``score`` and ``rank``
        (1 = best), sorted by rank.
    notes
        Human-readable notes: criteria dropped and why, weights actually used.
    """
    weights = weights or RankingWeights()
    frame = records.copy() if isinstance(records, pd.DataFrame) else pd.DataFrame(list(records))
    notes: list[str] = []
    if frame.empty:
        return frame.assign(score=[], rank=[]), ["No candidate finished; nothing was ranked."]
    scores = criterion_scores(frame, weights)
    used: dict[str, float] = {}
    for criterion, weight in weights.weights().items():
        column = scores[f"score_{criterion}"]
        if weight == 0:
            continue
        if column.isna().any():
            missing = frame.loc[column.isna(), "composition"].tolist()
            notes.append(
                f"criterion '{criterion}' dropped: no value for {', '.join(map(str, missing))}"
                + (" (the spread needs at least two relaxed orderings)"
                   if criterion == "energetics" else "")
            )
            continue
        used[criterion] = weight
    if not used:
        notes.append("no criterion has values for every candidate; ranked by probability alone")
        used = {"probability": 1.0}
    total = sum(used.values())
    used = {k: v / total for k, v in used.items()}
    notes.append(
        "weights used: " + ", ".join(f"{k} {v:.3f}" for k, v in used.items())
        + f"; barrier = {weights.barrier_dimension} mean + {weights.spread_penalty:g} std; "
        f"Arrhenius scores at {weights.temperature_K:g} K"
    )
    frame = pd.concat([frame, scores], axis=1)
    frame["score"] = sum(frame[f"score_{k}"] * v for k, v in used.items())
    frame = frame.sort_values(["score", "probability"], ascending=False, kind="stable")
    frame["rank"] = range(1, len(frame) + 1)
    return frame.reset_index(drop=True), notes
