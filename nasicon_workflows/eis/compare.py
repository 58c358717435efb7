"""Measured against predicted transport: Spearman rank correlation with n and a confidence interval.

A rank correlation between, say, measured activation energies and predicted BVSE barriers is only
reported with the number of pairs, a confidence interval and a permutation p-value, never as a bare
number, and not at all below 3 pairs (``status = "too few"``).

Protocol
--------
* ρ: Spearman's rank correlation (average ranks for ties).
* Confidence interval: percentile bootstrap over the pairs. For n ≤ 6 every one of the n^n
  resamples is enumerated (an exact bootstrap distribution, deterministic); above, ``n_bootstrap``
  random resamples with a fixed seed. Resamples whose ranks are all tied (ρ undefined) are left
  out and counted.
* p-value: two-sided permutation test of ρ = 0, exact (all n! pairings) for n ≤ 8, otherwise
  20 000 random pairings.

Expected signs: measured and predicted activation energies (or barriers) should correlate
positively; a predicted barrier against a measured conductivity negatively.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence

import numpy as np
from pydantic import BaseModel, Field
from scipy.stats import rankdata

__all__ = [
    "MIN_PAIRS",
    "RankCorrelation",
    "compare_transport",
    "measured_vs_predicted",
    "spearman_with_ci",
]

#: Fewest pairs for which a rank correlation is reported.
MIN_PAIRS = 3
_EXACT_BOOTSTRAP_MAX = 50_000
_EXACT_PERMUTATION_MAX_N = 8


class RankCorrelation(BaseModel):
    """A Spearman rank correlation with its n, confidence interval and p-value."""

    measured: str = Field(description="name of the measured quantity")
    predicted: str = Field(description="name of the predicted quantity")
    n: int = Field(description="number of pairs used")
    n_dropped: int = Field(0, description="pairs left out for a missing or non-finite value")
    status: str = Field(description="'ok', 'too few' (n < 3) or 'undefined' (all ranks tied)")
    rho: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    confidence: float = 0.95
    ci_method: str = ""
    p_value: float | None = None
    p_method: str = ""
    labels: list[str] = Field(default_factory=list)

    def summary(self) -> str:
        """One line for a report, e.g. ``Spearman ρ = 0.60 (95 % CI -0.10 to 0.95, n = 6 ...``."""
        if self.status != "ok":
            why = (
                f"too few pairs (n = {self.n} < {MIN_PAIRS})" if self.status == "too few"
                else f"undefined (all values of one side tied, n = {self.n})"
            )
            return f"{self.measured} vs {self.predicted}: Spearman ρ not reported: {why}"
        return (
            f"{self.measured} vs {self.predicted}: Spearman ρ = {self.rho:.2f} "
            f"({self.confidence:.0%} CI {self.ci_low:.2f} to {self.ci_high:.2f}, n = {self.n}, "
            f"{self.ci_method}; {self.p_method} p = {self.p_value:.3g})"
        )


def _spearman_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Spearman ρ of each row pair of (B, n) arrays; NaN where one side is all tied."""
    rx = rankdata(x, axis=-1)
    ry = rankdata(y, axis=-1)
    rx = rx - rx.mean(axis=-1, keepdims=True)
    ry = ry - ry.mean(axis=-1, keepdims=True)
    den = np.sqrt((rx**2).sum(axis=-1) * (ry**2).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, (rx * ry).sum(axis=-1) / np.where(den > 0, den, 1), np.nan)


def spearman_with_ci(
    measured: Sequence[float],
    predicted: Sequence[float],
    labels: Sequence[str] | None = None,
    measured_name: str = "measured",
    predicted_name: str = "predicted",
    confidence: float = 0.95,
    n_bootstrap: int = 5000,
    seed: int = 0,
) -> RankCorrelation:
    """Spearman ρ of paired values with n, a bootstrap confidence interval and a p-value.

    Parameters
    ----------
    measured, predicted
        Paired values; pairs with a missing or non-finite value are dropped (and counted).
    labels
        Names of the pairs (e.g. compositions), kept in the result.
    measured_name, predicted_name
        Names of the two quantities.
    confidence
        Confidence level of the interval.
    n_bootstrap
        Random resamples when the exact bootstrap (n^n ≤ 50 000) is too large.
    seed
        Seed of the random resamples and permutations.

    Returns
    -------
    RankCorrelation
        ``status = "too few"`` and no ρ below 3 pairs.
    """
    x = np.asarray([np.nan if v is None else v for v in measured], dtype=float)
    y = np.asarray([np.nan if v is None else v for v in predicted], dtype=float)
    if x.shape != y.shape:
        raise ValueError(f"{x.size} measured but {y.size} predicted values")
    keep = np.isfinite(x) & np.isfinite(y)
    names = [str(v) for v in labels] if labels is not None else [str(i) for i in range(x.size)]
    x, y = x[keep], y[keep]
    names = [n for n, k in zip(names, keep) if k]
    base = dict(
        measured=measured_name, predicted=predicted_name, n=int(x.size),
        n_dropped=int((~keep).sum()), confidence=confidence, labels=names,
    )
    if x.size < MIN_PAIRS:
        return RankCorrelation(status="too few", **base)
    rho = float(_spearman_rows(x[None], y[None])[0])
    if not math.isfinite(rho):
        return RankCorrelation(status="undefined", **base)
    n = x.size
    rng = np.random.default_rng(seed)
    if n**n <= _EXACT_BOOTSTRAP_MAX:
        idx = np.array(list(itertools.product(range(n), repeat=n)))
        method = f"exact bootstrap over all {n}^{n} resamples"
    else:
        idx = rng.integers(0, n, size=(n_bootstrap, n))
        method = f"percentile bootstrap, {n_bootstrap} resamples, seed {seed}"
    boot = _spearman_rows(x[idx], y[idx])
    valid = boot[np.isfinite(boot)]
    dropped = boot.size - valid.size
    if dropped:
        method += f" ({dropped} all-tied resamples left out)"
    alpha = (1 - confidence) / 2
    lo, hi = np.quantile(valid, [alpha, 1 - alpha])
    if n <= _EXACT_PERMUTATION_MAX_N:
        perms = np.array(list(itertools.permutations(range(n))))
        p_method = f"exact permutation test ({len(perms)} pairings)"
    else:
        perms = np.argsort(rng.random((20000, n)), axis=1)
        p_method = "permutation test (20000 random pairings)"
    null = _spearman_rows(np.broadcast_to(x, perms.shape), y[perms])
    p = float(np.mean(np.abs(null) >= abs(rho) - 1e-12))
    return RankCorrelation(
        status="ok", rho=rho, ci_low=float(lo), ci_high=float(hi), ci_method=method,
        p_value=p, p_method=p_method, **base,
    )


def _key(label: str):
    from nasicon_workflows.classifier.outcomes import composition_key
    from nasicon_workflows.composition import NasiconComposition
    from nasicon_workflows.errors import InvalidCompositionError

    try:
        return composition_key(NasiconComposition.from_formula(label))
    except InvalidCompositionError:
        return label.strip()


def compare_transport(
    measured: Mapping[str, float],
    predicted: Mapping[str, float],
    measured_name: str = "measured",
    predicted_name: str = "predicted",
    **kwargs,
) -> RankCorrelation:
    """Rank-correlate measured and predicted values matched by composition.

    Parameters
    ----------
    measured, predicted
        ``{formula: value}``; formulas are matched as compositions (element order and notation
        do not matter), labels that are not NASICON formulas by their exact text.
    measured_name, predicted_name
        Names of the quantities (e.g. ``"Ea_eV (measured)"``, ``"E_3D BVSE (eV)"``).
    **kwargs
        Passed to :func:`spearman_with_ci` (confidence, n_bootstrap, seed).

    Returns
    -------
    RankCorrelation
        Over the compositions present on both sides; labels are the measured formulas.
    """
    pred = {_key(k): v for k, v in predicted.items()}
    pairs = [(k, v, pred[_key(k)]) for k, v in measured.items() if _key(k) in pred]
    return spearman_with_ci(
        [p[1] for p in pairs], [p[2] for p in pairs], labels=[p[0] for p in pairs],
        measured_name=measured_name, predicted_name=predicted_name, **kwargs,
    )


def measured_vs_predicted(
    predicted: Mapping[str, float],
    measured_column: str = "Ea_eV",
    predicted_name: str = "predicted",
    data_dir=None,
    temperature_K: float | None = None,
    **kwargs,
) -> RankCorrelation:
    """Rank-correlate predictions with the measurements stored by ``add-outcomes``.

    Parameters
    ----------
    predicted
        ``{formula: value}``, e.g. BVSE E_3D barriers (eV) or KMC/MD activation energies.
    measured_column
        A measured column of the user dataset: ``Ea_eV``, ``sigma_total_S_cm``,
        ``sigma_bulk_S_cm`` or ``sigma_gb_S_cm``.
    predicted_name
        Name of the predicted quantity in the result.
    data_dir
        User data folder (default: the add-outcomes folder).
    temperature_K
        For conductivities: use only rows measured at this temperature (± 0.5 K); ranks of
        conductivities at different temperatures are not comparable.
    **kwargs
        Passed to :func:`spearman_with_ci`.

    Returns
    -------
    RankCorrelation
        ``status = "too few"`` when fewer than 3 compositions have both values.
    """
    from nasicon_workflows.classifier.outcomes import MEASURED_COLUMNS, load_measured_transport

    if measured_column not in MEASURED_COLUMNS or "uncertainty" in measured_column:
        raise ValueError(
            f"measured_column must be one of Ea_eV, sigma_total_S_cm, sigma_bulk_S_cm, "
            f"sigma_gb_S_cm; got {measured_column!r}"
        )
    frame = load_measured_transport(data_dir)
    frame = frame[np.isfinite(frame[measured_column].to_numpy(dtype=float))]
    if measured_column.startswith("sigma") and temperature_K is not None:
        frame = frame[np.abs(frame["temperature_K"].to_numpy(dtype=float) - temperature_K) <= 0.5]
    measured = dict(zip(frame["composition"], frame[measured_column].astype(float)))
    name = measured_column + (f" at {temperature_K:g} K" if temperature_K is not None else "")
    return compare_transport(measured, predicted, f"{name} (measured)", predicted_name, **kwargs)
