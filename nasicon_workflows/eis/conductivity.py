"""Ionic conductivity of a pellet from a resistance and its geometry, with propagated uncertainty.

σ = t / (R · A) with t the pellet thickness and A = π d² / 4 its electrode area. Relative
uncertainties add in quadrature (first-order propagation, independent errors):
(δσ/σ)² = (δR/R)² + (δt/t)² + (2 δd/d)².
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from nasicon_workflows.eis.errors import GeometryError

__all__ = ["PelletGeometry", "conductivity_S_cm"]


def _check(name: str, value, allow_zero: bool = False) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise GeometryError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise GeometryError(
            f"{name} must be a positive finite number, got {value:g}"
            if allow_zero is False
            else f"{name} must be zero or a positive finite number, got {value:g}"
        )
    return value


@dataclass(frozen=True)
class PelletGeometry:
    """A cylindrical pellet between two electrodes.

    Attributes
    ----------
    thickness_cm
        Thickness t (distance between the electrodes) in cm.
    diameter_cm
        Electrode (pellet) diameter d in cm.
    thickness_uncertainty_cm, diameter_uncertainty_cm
        One-standard-deviation uncertainties in cm (0: taken as exact).
    """

    thickness_cm: float
    diameter_cm: float
    thickness_uncertainty_cm: float = 0.0
    diameter_uncertainty_cm: float = 0.0

    def __post_init__(self):
        object.__setattr__(self, "thickness_cm", _check("thickness_cm", self.thickness_cm))
        object.__setattr__(self, "diameter_cm", _check("diameter_cm", self.diameter_cm))
        object.__setattr__(
            self, "thickness_uncertainty_cm",
            _check("thickness_uncertainty_cm", self.thickness_uncertainty_cm, allow_zero=True),
        )
        object.__setattr__(
            self, "diameter_uncertainty_cm",
            _check("diameter_uncertainty_cm", self.diameter_uncertainty_cm, allow_zero=True),
        )

    @classmethod
    def from_radius(cls, thickness_cm: float, radius_cm: float, **kwargs) -> PelletGeometry:
        """A pellet given by its radius (cm)."""
        return cls(thickness_cm, 2 * _check("radius_cm", radius_cm), **kwargs)

    @property
    def area_cm2(self) -> float:
        """Electrode area π d² / 4 in cm²."""
        return math.pi * self.diameter_cm**2 / 4

    @property
    def relative_uncertainty(self) -> float:
        """Relative uncertainty of the geometric factor t / A."""
        return math.hypot(
            self.thickness_uncertainty_cm / self.thickness_cm,
            2 * self.diameter_uncertainty_cm / self.diameter_cm,
        )


def conductivity_S_cm(
    resistance_ohm: float,
    geometry: PelletGeometry,
    resistance_uncertainty_ohm: float = 0.0,
) -> tuple[float, float]:
    """Conductivity σ = t / (R A) and its propagated one-standard-deviation uncertainty.

    Parameters
    ----------
    resistance_ohm
        Resistance R in Ω (bulk, grain boundary or their sum).
    geometry
        The pellet.
    resistance_uncertainty_ohm
        One-standard-deviation uncertainty of R in Ω.

    Returns
    -------
    tuple of float
        (σ, δσ) in S/cm.

    Raises
    ------
    GeometryError
        A non-positive or non-finite resistance or uncertainty.
    """
    r = _check("resistance_ohm", resistance_ohm)
    dr = _check("resistance_uncertainty_ohm", resistance_uncertainty_ohm, allow_zero=True)
    sigma = geometry.thickness_cm / (r * geometry.area_cm2)
    rel = math.hypot(dr / r, geometry.relative_uncertainty)
    return sigma, sigma * rel
