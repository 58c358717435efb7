"""Arrhenius analysis of conductivities: activation energy with uncertainty and σ(25 °C).

The default form is σT = A exp(-E_a / k_B T), the one that follows from the Nernst–Einstein
relation for hopping ions and is the usual choice for solid electrolytes; ``form="sigma"`` fits
σ = A exp(-E_a / k_B T) instead (E_a from the two forms differ by about k_B T ≈ 0.03 eV near room
temperature). The line ln(σT) = ln A - (E_a/k_B)(1/T) is fitted by weighted least squares with
weights 1/(δσ/σ)² when uncertainties are given, unweighted otherwise. Uncertainties are standard
errors from the covariance scaled by the residual variance (n - 2 degrees of freedom), so they
reflect the scatter about the line; at least 3 distinct temperatures are needed.
"""

from __future__ import annotations

import math

import numpy as np
from pydantic import BaseModel, Field

from nasicon_workflows.constants import BOLTZMANN_eV_PER_K
from nasicon_workflows.eis.errors import ArrheniusError

__all__ = ["ROOM_TEMPERATURE_K", "ArrheniusFit", "fit_arrhenius"]

#: 25 °C in K.
ROOM_TEMPERATURE_K = 298.15


class ArrheniusFit(BaseModel):
    """An Arrhenius fit of one conductivity (bulk, grain boundary or total)."""

    quantity: str = Field(description="sigma_total, sigma_bulk or sigma_gb")
    form: str = Field(description="'sigmaT' (σT = A exp(-Ea/kT)) or 'sigma'")
    Ea_eV: float
    Ea_uncertainty_eV: float = Field(description="one standard error")
    ln_prefactor: float = Field(description="ln A (A in S K/cm for sigmaT, S/cm for sigma)")
    ln_prefactor_uncertainty: float
    sigma_25C_S_cm: float = Field(description="σ at 298.15 K from the fitted line")
    sigma_25C_uncertainty_S_cm: float = Field(
        description="from the line's covariance and the common (geometry) relative error"
    )
    systematic_relative_uncertainty: float = Field(
        0.0, description="relative error common to all points (geometry), not in Ea"
    )
    sigma_25C_extrapolated: bool = Field(description="298.15 K lies outside the measured range")
    n_points: int
    temperature_min_K: float
    temperature_max_K: float
    r_squared: float
    weighted: bool
    temperatures_K: list[float]
    sigmas_S_cm: list[float]
    sigma_uncertainties_S_cm: list[float] | None = None


def fit_arrhenius(
    temperatures_K,
    sigmas_S_cm,
    sigma_uncertainties_S_cm=None,
    quantity: str = "sigma_total",
    form: str = "sigmaT",
    systematic_relative_uncertainty: float = 0.0,
) -> ArrheniusFit:
    """Fit E_a and σ(25 °C) to conductivities at several temperatures.

    Parameters
    ----------
    temperatures_K
        Temperatures in K.
    sigmas_S_cm
        Conductivities in S/cm.
    sigma_uncertainties_S_cm
        Optional one-standard-deviation uncertainties in S/cm (weights; zeros are ignored).
    quantity
        Name stored in the result.
    form
        ``"sigmaT"`` (default) or ``"sigma"``.
    systematic_relative_uncertainty
        A relative error common to every point (the pellet geometry t/A): it shifts all σ alike,
        so it leaves E_a unchanged and is added in quadrature to the uncertainty of σ(25 °C).
        Give ``sigma_uncertainties_S_cm`` without it (the resistance part only).

    Returns
    -------
    ArrheniusFit

    Raises
    ------
    ArrheniusError
        Unequal lengths, non-positive or non-finite values, fewer than 3 distinct temperatures.
    """
    if form not in ("sigmaT", "sigma"):
        raise ArrheniusError(f"Arrhenius form must be 'sigmaT' or 'sigma', got {form!r}")
    t = np.asarray(temperatures_K, dtype=float).ravel()
    s = np.asarray(sigmas_S_cm, dtype=float).ravel()
    if t.size != s.size:
        raise ArrheniusError(f"{t.size} temperatures but {s.size} conductivities")
    for name, v in (("temperature", t), ("conductivity", s)):
        bad = np.flatnonzero(~np.isfinite(v) | (v <= 0))
        if bad.size:
            raise ArrheniusError(
                f"{quantity}: {name} {v[bad[0]]:g} at point {bad[0] + 1} is not a positive finite "
                "number (temperatures in K, conductivities in S/cm)"
            )
    if np.unique(t).size < 3:
        raise ArrheniusError(
            f"{quantity}: {np.unique(t).size} distinct temperature(s); an activation energy with "
            "an uncertainty needs at least 3"
        )
    weights = np.ones_like(t)
    weighted = False
    ds = None
    if sigma_uncertainties_S_cm is not None:
        ds = np.asarray(sigma_uncertainties_S_cm, dtype=float).ravel()
        if ds.size != t.size or np.any(~np.isfinite(ds)) or np.any(ds < 0):
            raise ArrheniusError(
                f"{quantity}: uncertainties must be {t.size} finite non-negative numbers"
            )
        if np.all(ds > 0):
            weights = (s / ds) ** 2
            weighted = True
    x = 1.0 / t
    y = np.log(s * t) if form == "sigmaT" else np.log(s)
    a = np.column_stack([np.ones_like(x), x])
    w = np.sqrt(weights)
    coef, *_ = np.linalg.lstsq(a * w[:, None], y * w, rcond=None)
    resid = y - a @ coef
    dof = t.size - 2
    s2 = float(np.sum(weights * resid**2) / dof)
    cov = np.linalg.inv((a * weights[:, None]).T @ a) * s2
    ss_tot = float(np.sum(weights * (y - np.average(y, weights=weights)) ** 2))
    r2 = 1.0 - float(np.sum(weights * resid**2)) / ss_tot if ss_tot > 0 else 1.0
    ea = -coef[1] * BOLTZMANN_eV_PER_K
    dea = math.sqrt(max(cov[1, 1], 0.0)) * BOLTZMANN_eV_PER_K
    g = np.array([1.0, 1.0 / ROOM_TEMPERATURE_K])
    y25 = float(g @ coef)
    dy25 = math.sqrt(max(float(g @ cov @ g), 0.0))
    sigma25 = math.exp(y25) / (ROOM_TEMPERATURE_K if form == "sigmaT" else 1.0)
    dy25 = math.hypot(dy25, float(systematic_relative_uncertainty))
    return ArrheniusFit(
        quantity=quantity,
        form=form,
        Ea_eV=float(ea),
        Ea_uncertainty_eV=float(dea),
        ln_prefactor=float(coef[0]),
        ln_prefactor_uncertainty=math.sqrt(max(cov[0, 0], 0.0)),
        sigma_25C_S_cm=sigma25,
        sigma_25C_uncertainty_S_cm=sigma25 * dy25,
        sigma_25C_extrapolated=not (t.min() <= ROOM_TEMPERATURE_K <= t.max()),
        n_points=int(t.size),
        temperature_min_K=float(t.min()),
        temperature_max_K=float(t.max()),
        r_squared=r2,
        weighted=weighted,
        temperatures_K=t.tolist(),
        sigmas_S_cm=s.tolist(),
        sigma_uncertainties_S_cm=None if ds is None else ds.tolist(),
        systematic_relative_uncertainty=float(systematic_relative_uncertainty),
    )
