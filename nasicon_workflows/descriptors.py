"""M-site descriptors of NASICON compositions: ionic radius, electronegativity, valence, entropy.

Two named conventions:

``paper``
    Reproduces Table S2 of Zuo et al., Energy Environ. Sci. 2026, 19, 860 (DOI
    10.1039/d5ee06594a). Shannon ionic radii (Shannon, Acta Cryst. A 1976, 32, 751, as tabulated
    in pymatgen) for coordination VIII (Zr4+, Hf4+, Ce4+), IV (Zn2+) and VI (every other cation);
    Pauling electronegativities except the values the table used for Lu (1.0), Yb (1.22), W (1.7)
    and Bi (1.9). Use it to compare with, or retrain on, the published data.
``shannon``
    Physically uniform: Shannon radii for octahedral coordination (VI) for every M cation, since
    the NASICON M site is an octahedron, and unmodified Pauling electronegativities. Use it for new
    physics-based models; it does not reproduce the published table.

All four descriptors are site-fraction-weighted means over the M site (x_i = n_i / 2), and the
configurational entropy is the ideal mixing entropy per M site, -sum x_i ln x_i, in units of R.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType

import numpy as np
from pydantic import BaseModel, Field

from nasicon_workflows.composition import (
    DEFAULT_OXIDATION_STATES,
    M_SITES_PER_FU,
    T_SITES_PER_FU,
    NasiconComposition,
)
from nasicon_workflows.constants import ENTROPY_CLASS_BOUNDS, NA_SITES_PER_FU
from nasicon_workflows.errors import InvalidMSiteElementError, UnknownConventionError


__all__ = [
    "CONVENTIONS",
    "CompositionDescriptors",
    "DescriptorConvention",
    "ENTROPY_CLASS_BOUNDS",
    "compute_descriptors",
    "descriptor_arrays",
    "descriptors_frame",
    "element_property_table",
    "entropy_class",
    "get_convention",
    "grouped_m_site_amounts",
    "matminer_features",
    "sublattice_entropies",
]



@dataclass(frozen=True, eq=False)  # hashed by identity: cached element properties
class DescriptorConvention:
    """How element properties are taken for the M-site descriptors.

    Attributes
    ----------
    name
        Convention name.
    coordination
        Shannon coordination number (roman numeral) per element; others use ``default_cn``.
    default_cn
        Coordination number for elements not in ``coordination``.
    electronegativity_overrides
        Values replacing pymatgen's Pauling electronegativity for some elements.
    description
        One sentence on where the convention comes from.
    """

    name: str
    coordination: Mapping[str, str] = field(default_factory=dict)
    default_cn: str = "VI"
    electronegativity_overrides: Mapping[str, float] = field(default_factory=dict)
    description: str = ""

    def coordination_of(self, element: str) -> str:
        """Shannon coordination number used for ``element``."""
        return self.coordination.get(element, self.default_cn)


CONVENTIONS: Mapping[str, DescriptorConvention] = MappingProxyType(
    {
        "paper": DescriptorConvention(
            name="paper",
            coordination=MappingProxyType({"Zr": "VIII", "Hf": "VIII", "Ce": "VIII", "Zn": "IV"}),
            electronegativity_overrides=MappingProxyType(
                {"Lu": 1.0, "Yb": 1.22, "W": 1.7, "Bi": 1.9}
            ),
            description=(
                "Table S2 of Zuo et al., Energy Environ. Sci. 2026, 19, 860: Shannon CN VIII for "
                "Zr/Hf/Ce, IV for Zn, VI otherwise; Pauling chi with the table's Lu, Yb, W, Bi values."
            ),
        ),
        "shannon": DescriptorConvention(
            name="shannon",
            description="Shannon CN VI (octahedral M site) for every cation; Pauling chi unmodified.",
        ),
    }
)


def get_convention(convention: str | DescriptorConvention) -> DescriptorConvention:
    """Look up a convention by name (``paper`` or ``shannon``)."""
    if isinstance(convention, DescriptorConvention):
        return convention
    try:
        return CONVENTIONS[convention]
    except KeyError:
        raise UnknownConventionError(
            f"Unknown descriptor convention {convention!r}; choose one of {sorted(CONVENTIONS)}."
        ) from None


@lru_cache(maxsize=512)
def _element_props(element: str, valence: int, convention: DescriptorConvention) -> tuple:
    from pymatgen.core import Element, Species

    cn = convention.coordination_of(element)
    species = Species(element, valence)
    try:
        try:
            radius_angstrom = species.get_shannon_radius(cn=cn, radius_type="ionic")
        except KeyError:
            # Fe3+, Mn2+, Co2+ are tabulated per spin state; oxides hold them high-spin.
            radius_angstrom = species.get_shannon_radius(
                cn=cn, spin="High Spin", radius_type="ionic"
            )
    except KeyError:
        raise InvalidMSiteElementError(
            f"No Shannon ionic radius for {element}{valence:+d} in coordination {cn} "
            f"(convention {convention.name!r}); choose another oxidation state or convention."
        ) from None
    chi = convention.electronegativity_overrides.get(element, Element(element).X)
    if chi is None or (isinstance(chi, float) and math.isnan(chi)):
        raise InvalidMSiteElementError(f"No Pauling electronegativity for {element}.")
    return float(radius_angstrom) * 100.0, float(chi), float(valence)


def element_property_table(
    elements: Sequence[str],
    convention: str | DescriptorConvention = "paper",
    oxidation_states: Mapping[str, int] | None = None,
) -> dict[str, np.ndarray]:
    """Radius (pm), electronegativity and valence of M-site elements as aligned arrays.

    Parameters
    ----------
    elements
        M-site element symbols.
    convention
        ``paper`` or ``shannon`` (or a :class:`DescriptorConvention`).
    oxidation_states
        Overrides of the default oxidation-state table.

    Returns
    -------
    dict
        ``radius_pm``, ``electronegativity``, ``valence``: float arrays of ``len(elements)``.
    """
    conv = get_convention(convention)
    table = {**DEFAULT_OXIDATION_STATES, **(oxidation_states or {})}
    rows = []
    for el in elements:
        if el not in table:
            raise InvalidMSiteElementError(f"No oxidation state for M-site element {el}.")
        rows.append(_element_props(el, int(table[el]), conv))
    arr = np.array(rows, dtype=float).reshape(-1, 3)
    return {"radius_pm": arr[:, 0], "electronegativity": arr[:, 1], "valence": arr[:, 2]}


def _mixing_entropy(fractions: Iterable[float]) -> float:
    return 0.0 - sum(x * math.log(x) for x in fractions if x > 0)  # 0.0 - : no '-0.0'


def entropy_class(entropy_m_site_R: float) -> str:
    """``low`` (< 1.0 R), ``medium`` (1.0-1.5 R) or ``high`` (>= 1.5 R) from the M-site entropy."""
    low, high = ENTROPY_CLASS_BOUNDS
    if entropy_m_site_R < low:
        return "low"
    return "medium" if entropy_m_site_R < high else "high"


def sublattice_entropies(composition: NasiconComposition) -> dict[str, float]:
    """Ideal configurational entropies per formula unit (units of R) of each sublattice.

    M site: 2 sites per formula unit; Si/P tetrahedral site: 3; Na/vacancy:
    :data:`~nasicon_workflows.constants.NA_SITES_PER_FU` (4) Na sites per formula unit holding
    ``na`` Na (the composition model guarantees 0 < na <= 4, so the entropy is never negative).
    ``total`` is their sum. The published descriptor is the M-site value
    per site, i.e. ``m_site / 2``.
    """
    m = M_SITES_PER_FU * _mixing_entropy(composition.m_site_fractions.values())
    t = T_SITES_PER_FU * _mixing_entropy((composition.si / 3, composition.p / 3))
    y = composition.na / NA_SITES_PER_FU
    # Only recorded failed compositions (recorded_excess_na) reach y > 1: no Na/vacancy entropy.
    na = NA_SITES_PER_FU * _mixing_entropy((y, 1.0 - y)) if y <= 1.0 + 1e-12 else math.nan
    return {"m_site": m, "tetrahedral": t, "na_vacancy": na, "total": m + t + na}


class CompositionDescriptors(BaseModel):
    """The published four M-site descriptors plus sublattice entropies of one composition."""

    composition: str = Field(description="Canonical formula")
    convention: str = Field(description="Descriptor convention (paper or shannon)")
    ionic_radius_pm: float = Field(description="Site-fraction-weighted Shannon radius, pm")
    electronegativity: float = Field(description="Site-fraction-weighted Pauling electronegativity")
    valence: float = Field(description="Site-fraction-weighted oxidation state")
    entropy_R: float = Field(description="M-site mixing entropy per M site, -sum x ln x, units R")
    entropy_class: str = Field(description="low / medium / high from entropy_R")
    entropy_m_site_R_per_fu: float = Field(description="M-sublattice entropy per formula unit, R")
    entropy_tetrahedral_R_per_fu: float = Field(description="Si/P entropy per formula unit, R")
    entropy_na_vacancy_R_per_fu: float = Field(description="Na/vacancy entropy per formula unit, R")
    entropy_total_R_per_fu: float = Field(description="Sum of the sublattice entropies, R")
    na: float = Field(description="Na per formula unit")
    si: float = Field(description="Si per formula unit (NASICON x)")
    n_m_cations: int = Field(description="Number of distinct M-site cations")


def compute_descriptors(
    composition: NasiconComposition | str,
    convention: str | DescriptorConvention = "paper",
) -> CompositionDescriptors:
    """Descriptors of one composition.

    Parameters
    ----------
    composition
        A :class:`NasiconComposition` or a formula.
    convention
        ``paper`` (reproduces Table S2) or ``shannon``.
    """
    comp = (
        composition
        if isinstance(composition, NasiconComposition)
        else NasiconComposition.from_formula(composition)
    )
    conv = get_convention(convention)
    radius = chi = valence = 0.0
    for el, x in comp.m_site_fractions.items():
        r_el, chi_el, z_el = _element_props(el, int(comp.oxidation_states[el]), conv)
        radius += x * r_el
        chi += x * chi_el
        valence += x * z_el
    s_m = _mixing_entropy(comp.m_site_fractions.values())
    sub = sublattice_entropies(comp)
    return CompositionDescriptors(
        composition=comp.formula,
        convention=conv.name,
        ionic_radius_pm=radius,
        electronegativity=chi,
        valence=valence,
        entropy_R=s_m,
        entropy_class=entropy_class(s_m),
        entropy_m_site_R_per_fu=sub["m_site"],
        entropy_tetrahedral_R_per_fu=sub["tetrahedral"],
        entropy_na_vacancy_R_per_fu=sub["na_vacancy"],
        entropy_total_R_per_fu=sub["total"],
        na=comp.na,
        si=comp.si,
        n_m_cations=comp.n_m_cations,
    )


def descriptor_arrays(
    m_amounts: np.ndarray,
    elements: Sequence[str],
    convention: str | DescriptorConvention = "paper",
    oxidation_states: Mapping[str, int] | None = None,
    si: np.ndarray | float = 2.0,
) -> dict[str, np.ndarray]:
    """Vectorised descriptors for many compositions at once.

    Parameters
    ----------
    m_amounts
        Array ``(n_compositions, n_elements)`` of M-site amounts per formula unit (rows sum to 2;
        zeros for absent elements). Rows are not re-validated: build them with the enumeration
        module or check them with :class:`NasiconComposition`.
    elements
        Element symbol of each column.
    convention, oxidation_states
        As in :func:`compute_descriptors`.
    si
        Si per formula unit, scalar or per row.

    Returns
    -------
    dict
        Arrays of length ``n_compositions``: ``ionic_radius_pm``, ``electronegativity``,
        ``valence``, ``entropy_R``, ``na``, ``entropy_m_site_R_per_fu``,
        ``entropy_tetrahedral_R_per_fu``, ``entropy_na_vacancy_R_per_fu``,
        ``entropy_total_R_per_fu``, ``n_m_cations``.
    """
    amounts = np.atleast_2d(np.asarray(m_amounts, dtype=float))
    if amounts.shape[1] != len(elements):
        raise ValueError(
            f"m_amounts has {amounts.shape[1]} columns but {len(elements)} elements were named."
        )
    props = element_property_table(elements, convention, oxidation_states)
    x = amounts / M_SITES_PER_FU
    with np.errstate(divide="ignore", invalid="ignore"):
        xlogx = np.where(x > 0, x * np.log(np.where(x > 0, x, 1.0)), 0.0)
    s_m = 0.0 - xlogx.sum(axis=1)
    valence = x @ props["valence"]
    si_arr = np.broadcast_to(np.asarray(si, dtype=float), s_m.shape)
    p_arr = T_SITES_PER_FU - si_arr
    na = 24.0 - 4.0 * si_arr - 5.0 * p_arr - amounts @ props["valence"]

    def _binary(y: np.ndarray) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            terms = [np.where(v > 0, v * np.log(np.where(v > 0, v, 1.0)), 0.0) for v in (y, 1 - y)]
        return -(terms[0] + terms[1])

    s_t = T_SITES_PER_FU * _binary(si_arr / 3.0)
    y_na = na / NA_SITES_PER_FU
    # more Na than sites (recorded failed compositions only): the entropy is undefined, not negative
    s_na = np.where(y_na <= 1.0 + 1e-12, NA_SITES_PER_FU * _binary(np.clip(y_na, 0, 1)), np.nan)
    return {
        "ionic_radius_pm": x @ props["radius_pm"],
        "electronegativity": x @ props["electronegativity"],
        "valence": valence,
        "entropy_R": s_m,
        "na": na,
        "entropy_m_site_R_per_fu": M_SITES_PER_FU * s_m,
        "entropy_tetrahedral_R_per_fu": s_t,
        "entropy_na_vacancy_R_per_fu": s_na,
        "entropy_total_R_per_fu": M_SITES_PER_FU * s_m + s_t + s_na,
        "n_m_cations": (amounts > 0).sum(axis=1),
    }


def grouped_m_site_amounts(
    compositions: Sequence[NasiconComposition],
) -> Iterator[tuple[dict[str, int] | None, list[int], list[str], np.ndarray, np.ndarray]]:
    """Compositions grouped by their non-default oxidation states, as M-site amount arrays.

    The compositions of one group share one element-property table, so each group is one call of
    the vectorised feature code (:func:`descriptor_arrays` and the classifier and stability
    features built on the same amounts).

    Parameters
    ----------
    compositions
        Parsed compositions.

    Yields
    ------
    oxidation_states : dict or None
        The group's oxidation states that differ from :data:`DEFAULT_OXIDATION_STATES` (None:
        all default).
    indices : list of int
        Positions of the group's compositions in ``compositions``, in order.
    elements : list of str
        The group's M-site elements, sorted (the columns of ``amounts``).
    amounts : numpy.ndarray
        ``(len(indices), len(elements))`` M-site amounts per formula unit (zeros where absent).
    si : numpy.ndarray
        Si per formula unit of each composition of the group.
    """
    groups: dict[tuple, list[int]] = {}
    for i, comp in enumerate(compositions):
        key = tuple(
            sorted(
                (el, int(ox))
                for el, ox in comp.oxidation_states.items()
                if DEFAULT_OXIDATION_STATES.get(el) != ox
            )
        )
        groups.setdefault(key, []).append(i)
    for key, idx in groups.items():
        elements = sorted({el for i in idx for el in compositions[i].m_site})
        col = {el: j for j, el in enumerate(elements)}
        amounts = np.zeros((len(idx), len(elements)))
        for row, i in enumerate(idx):
            for el, n in compositions[i].m_site.items():
                amounts[row, col[el]] = n
        si = np.array([compositions[i].si for i in idx], dtype=float)
        yield dict(key) or None, idx, elements, amounts, si


def descriptors_frame(
    compositions: Iterable[NasiconComposition | str],
    convention: str | DescriptorConvention = "paper",
):
    """Descriptors of many compositions as a :class:`pandas.DataFrame` (one row each)."""
    import pandas as pd

    rows = [compute_descriptors(c, convention).model_dump() for c in compositions]
    return pd.DataFrame(rows)


#: The four published descriptors, in the order of Table S2.
PUBLISHED_FEATURES = ("ionic_radius_pm", "electronegativity", "valence", "entropy_R")


def matminer_features(
    compositions: Iterable[NasiconComposition | str],
    preset: str = "magpie",
    convention: str | DescriptorConvention = "paper",
):
    """matminer ``ElementProperty`` features on the full composition, beside the published four.

    Parameters
    ----------
    compositions
        Compositions or formulas.
    preset
        matminer ``ElementProperty`` preset (``magpie`` by default).
    convention
        Convention of the published four descriptors.

    Returns
    -------
    features : pandas.DataFrame
        One row per composition: ``composition``, the published four, then the matminer columns.
    missing : dict
        Composition -> list of matminer feature names it could not compute (NaN in the frame,
        never silently zero).
    """
    import pandas as pd
    from matminer.featurizers.composition import ElementProperty

    comps = [
        c if isinstance(c, NasiconComposition) else NasiconComposition.from_formula(c)
        for c in compositions
    ]
    featurizer = ElementProperty.from_preset(preset, impute_nan=False)
    labels = featurizer.feature_labels()
    rows, missing = [], {}
    for comp in comps:
        try:
            values = np.asarray(featurizer.featurize(comp.to_pymatgen()), dtype=float)
        except Exception as exc:  # matminer raises bare exceptions for unknown data
            values = np.full(len(labels), np.nan)
            missing[comp.formula] = [f"{label} ({exc})" for label in labels]
        else:
            bad = [label for label, v in zip(labels, values) if not np.isfinite(v)]
            if bad:
                missing[comp.formula] = bad
        published = compute_descriptors(comp, convention)
        row = {"composition": comp.formula}
        row.update({name: getattr(published, name) for name in PUBLISHED_FEATURES})
        row.update(dict(zip(labels, values)))
        rows.append(row)
    return pd.DataFrame(rows), missing
