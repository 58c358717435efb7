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
``kmc``
    The lattice-KMC Na+ conductivity at 573.15 K (``kmc_sigma_573K_S_cm``, the screen's transport
    stage) scored by its **rank** among the ranked candidates: 1 for the highest, 0 for the
    lowest, linear in between (ties share their mean rank; a single candidate scores 1). The
    validation (docs/transport.md) supports the KMC *order* of compositions on the
    Na(1+x)Zr2Si(x)P(3-x)O12 series but not its absolute sigma or Ea, so only the rank enters.

Default weights of the transport criteria follow their measured skill
(:func:`nasicon_workflows.transport.transport_validation_status`, the shipped validation run):
BVSE ``barrier`` 0 (it puts the x-series maximum at x = 3) and ``kmc`` 0.267 (2 of 3 criteria).
BVSE barriers stay in the ranking table and the report, unranked, unless a weight is given.

A criterion that is missing for any ranked candidate is dropped for all (and the drop is listed
in the ranking notes), so candidates are always compared on the same criteria.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from functools import lru_cache

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
CRITERIA = ("probability", "entropy", "barrier", "energetics", "kmc")
#: M-site entropy (units of R) from which a composition is "high entropy" (descriptors module).
HIGH_ENTROPY_R = ENTROPY_CLASS_BOUNDS[1]
#: Temperature (K) of the KMC conductivity that ranks candidates (300 C, the temperature of the
#: validation's criterion; the screen's KMC stage measures it directly).
KMC_RANK_TEMPERATURE_K = 573.15
#: Validation model whose recommended weight becomes the default ``kmc`` weight.
KMC_VALIDATION_MODEL = "kmc_softbv"


@lru_cache(maxsize=1)
def validated_transport_weights() -> dict[str, float]:
    """Default weights of the transport criteria from their measured skill.

    Reads :func:`nasicon_workflows.transport.transport_validation_status` (the validation run
    shipped with the package): ``barrier`` gets the recommended weight of ``bvse``, ``kmc`` that of
    ``kmc_softbv``. A missing or unreadable validation gives 0 to both (an unvalidated transport
    criterion is not ranked by default).

    Returns
    -------
    dict
        ``{"barrier": w_bvse, "kmc": w_kmc}``.
    """
    try:
        from nasicon_workflows.transport import transport_validation_status

        rec = transport_validation_status().get("recommended_weights", {})
    except Exception:  # noqa: BLE001 - any failure means "not validated": weight 0
        rec = {}

    def weight(name: str) -> float:
        value = (rec.get(name) or {}).get("weight")
        return float(value) if value is not None else 0.0

    return {"barrier": weight("bvse"), "kmc": weight(KMC_VALIDATION_MODEL)}


def _default_weight(name: str):
    return field(default_factory=lambda: validated_transport_weights()[name])


@dataclass(frozen=True)
class RankingWeights:
    """Weights and settings of the ranking score.

    Parameters
    ----------
    probability, entropy, barrier, energetics, kmc
        Non-negative weights of the criteria (normalised to sum 1 over the criteria used). The
        defaults of ``barrier`` (BVSE) and ``kmc`` come from the transport validation
        (:func:`validated_transport_weights`: 0 and 0.267 with the shipped run).
    spread_penalty
        How many standard deviations of the BVSE barrier over orderings are added to its mean.
    temperature_K
        Temperature of the Arrhenius scores of barrier and energetics, K.
    barrier_dimension
        Which BVSE percolation barrier ranks the candidates: ``"1D"``, ``"2D"`` or ``"3D"``.
    """

    probability: float = 0.35
    entropy: float = 0.15
    barrier: float = _default_weight("barrier")
    energetics: float = 0.10
    spread_penalty: float = 1.0
    temperature_K: float = 300.0
    barrier_dimension: str = "3D"
    kmc: float = _default_weight("kmc")

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
    out["score_kmc"] = kmc_rank_scores(frame.get(
        "kmc_sigma_573K_S_cm", pd.Series(float("nan"), index=frame.index)))
    return out


def kmc_rank_scores(sigma: pd.Series) -> pd.Series:
    """Rank score of KMC conductivities: 1 for the highest, 0 for the lowest (mean rank on ties).

    NaN anywhere gives NaN everywhere (the criterion is then dropped for all candidates).
    """
    sigma = sigma.astype(float)
    if sigma.isna().any():
        return pd.Series(float("nan"), index=sigma.index)
    if len(sigma) == 1:
        return pd.Series(1.0, index=sigma.index)
    ranks = sigma.rank(method="average")  # 1 = lowest
    return (ranks - 1.0) / (len(sigma) - 1.0)


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
            if criterion == "barrier":
                notes.append(
                    "BVSE barrier reported but not ranked (weight 0): the transport validation "
                    "finds that it misorders the Na(1+x)Zr2Si(x)P(3-x)O12 series "
                    "(docs/transport.md)"
                )
            continue
        if column.isna().any():
            missing = frame.loc[column.isna(), "composition"].tolist()
            notes.append(
                f"criterion '{criterion}' dropped: no value for {', '.join(map(str, missing))}"
                + (" (the spread needs at least two relaxed orderings)"
                   if criterion == "energetics" else "")
                + (" (no KMC transport result: run the screen with --transport kmc)"
                   if criterion == "kmc" else "")
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
        + ("; kmc = rank of the KMC sigma at 573 K" if "kmc" in used else "")
    )
    frame = pd.concat([frame, scores], axis=1)
    frame["score"] = sum(frame[f"score_{k}"] * v for k, v in used.items())
    frame = frame.sort_values(["score", "probability"], ascending=False, kind="stable")
    frame["rank"] = range(1, len(frame) + 1)
    return frame.reset_index(drop=True), notes
