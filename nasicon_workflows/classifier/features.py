"""Classifier features: the four published descriptors and physically motivated extras.

Every feature is computed from the M-site amounts by one vectorised code path
(:func:`feature_arrays`, built on :func:`nasicon_workflows.descriptors.descriptor_arrays`), so a
composition scored alone, a training row and one of a million enumerated candidates get exactly the
same numbers.

Extra features (``extended`` set), all site-fraction weighted over the M site (x_i = n_i / 2):

``size_mismatch_delta``
    delta = sqrt(sum_i x_i (1 - r_i / r_mean)^2), the size-mismatch parameter of high-entropy
    alloys and oxides (Yeh et al., Adv. Eng. Mater. 2004, 6, 299; dimensionless).
``electronegativity_spread``, ``valence_spread``
    Site-fraction-weighted standard deviations sqrt(sum_i x_i (p_i - p_mean)^2).
``na``
    Na per formula unit after charge balance.
``n_m_cations``
    Number of distinct M-site cations.

Physics features (``physics`` set = ``extended`` + the predicted E_hull; ``stability`` set =
entropy, Na and the predicted E_hull):

``si``
    Si per formula unit (P = 3 - Si): the polyanion, reported with every score. All 58 training
    rows are Si2P, so as a direct classifier input it carries no label information (its learned
    weight could only be zero or spurious); non-Si2P compositions are judged through the next
    feature, whose model was trained on 1,081 DFT compositions with Si 0-3 and reads Si.
``ehull_1000K_meV_per_atom``
    E_hull(1000 K) predicted by :mod:`nasicon_workflows.stability` (trained on the DFT data of
    Ouyang et al., Nat. Commun. 2021, 12, 5752); it carries Na, Si/P and M-cation stability
    physics from far beyond the 58 rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType

import numpy as np

from nasicon_workflows.classifier.errors import UnknownFeatureSetError
from nasicon_workflows.composition import NasiconComposition
from nasicon_workflows.descriptors import (
    ENTROPY_CLASS_BOUNDS,
    PUBLISHED_FEATURES,
    descriptor_arrays,
    element_property_table,
    grouped_m_site_amounts,
)

__all__ = [
    "EXTRA_FEATURES",
    "FEATURE_SETS",
    "PHYSICS_FEATURES",
    "entropy_classes",
    "feature_arrays",
    "features_frame",
    "get_feature_set",
    "to_compositions",
    "training_data",
]

EXTRA_FEATURES = (
    "size_mismatch_delta",
    "electronegativity_spread",
    "valence_spread",
    "na",
    "n_m_cations",
)

#: Polyanion and predicted-stability features (need the stability model).
PHYSICS_FEATURES = ("si", "ehull_1000K_meV_per_atom")

#: Named feature sets: ``published`` = the four descriptors of Table S2 (Zuo et al. 2026).
FEATURE_SETS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "published": tuple(PUBLISHED_FEATURES),
        "extended": tuple(PUBLISHED_FEATURES) + EXTRA_FEATURES,
        # Si is constant (2) in all 58 rows: as a direct classifier input it could only add a
        # spurious offset; the polyanion reaches the gate through the E_hull model (Si 0-3).
        "physics": tuple(PUBLISHED_FEATURES) + EXTRA_FEATURES + ("ehull_1000K_meV_per_atom",),
        "stability": ("entropy_R", "na", "ehull_1000K_meV_per_atom"),
    }
)


def get_feature_set(name: str) -> tuple[str, ...]:
    """Feature names of a named feature set (``published`` or ``extended``)."""
    try:
        return FEATURE_SETS[name]
    except KeyError:
        raise UnknownFeatureSetError(
            f"Unknown feature set {name!r}; choose one of {sorted(FEATURE_SETS)}."
        ) from None


def feature_arrays(
    m_amounts: np.ndarray,
    elements: Sequence[str],
    convention: str = "paper",
    oxidation_states: Mapping[str, int] | None = None,
    si: np.ndarray | float = 2.0,
    stability: bool = True,
) -> dict[str, np.ndarray]:
    """Every classifier feature for many compositions at once.

    Parameters
    ----------
    m_amounts
        ``(n, k)`` M-site amounts per formula unit (rows sum to 2).
    elements
        Element of each column.
    convention
        Descriptor convention (``paper`` or ``shannon``).
    oxidation_states
        Overrides of the default M-site oxidation states.
    si
        Si per formula unit, scalar or per row.
    stability
        Also predict ``ehull_1000K_meV_per_atom`` with the default stability model (skip it when
        the model at hand does not use it: it is the costliest feature).

    Returns
    -------
    dict
        The arrays of :func:`~nasicon_workflows.descriptors.descriptor_arrays` plus
        :data:`EXTRA_FEATURES` and :data:`PHYSICS_FEATURES`, each of length ``n``.
    """
    amounts = np.atleast_2d(np.asarray(m_amounts, dtype=float))
    out = descriptor_arrays(amounts, elements, convention, oxidation_states, si)
    props = element_property_table(elements, convention, oxidation_states)
    x = amounts / 2.0
    r_mean = out["ionic_radius_pm"]
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = 1.0 - props["radius_pm"][None, :] / r_mean[:, None]
    out["size_mismatch_delta"] = np.sqrt(np.einsum("ij,ij->i", x, rel * rel))
    for name, key in (
        ("electronegativity_spread", "electronegativity"),
        ("valence_spread", "valence"),
    ):
        dev = props[key][None, :] - out[key][:, None]
        # clip: rounding can leave -1e-17 under the root for single-cation rows
        out[name] = np.sqrt(np.clip(np.einsum("ij,ij->i", x, dev * dev), 0.0, None))
    out["n_m_cations"] = out["n_m_cations"].astype(float)
    out["si"] = np.broadcast_to(np.asarray(si, dtype=float), r_mean.shape).copy()
    if stability:
        from nasicon_workflows.stability.model import load_default_stability_model

        model = load_default_stability_model()
        out["ehull_1000K_meV_per_atom"] = model.predict_arrays(
            amounts, elements, out["si"], oxidation_states
        )
    return out


def entropy_classes(entropy_R: np.ndarray) -> np.ndarray:
    """Vectorised ``low`` / ``medium`` / ``high`` classes of M-site entropies (units of R)."""
    low, high = ENTROPY_CLASS_BOUNDS
    return np.where(entropy_R < low, "low", np.where(entropy_R < high, "medium", "high"))


def to_compositions(
    compositions: Iterable[NasiconComposition | str],
) -> list[NasiconComposition]:
    """Parse formulas (validated; a bad one raises an ``InvalidCompositionError``)."""
    if isinstance(compositions, (str, NasiconComposition)):
        compositions = [compositions]
    return [
        c if isinstance(c, NasiconComposition) else NasiconComposition.from_formula(c)
        for c in compositions
    ]


def features_frame(
    compositions: Iterable[NasiconComposition | str],
    convention: str = "paper",
):
    """Classifier features of compositions as a :class:`pandas.DataFrame` (one row each, in order).

    Parameters
    ----------
    compositions
        Compositions or formulas.
    convention
        Descriptor convention.

    Returns
    -------
    pandas.DataFrame
        ``composition`` (canonical formula), ``elements`` (M-site elements joined by "-"), every
        feature of :data:`FEATURE_SETS` ``extended``, :data:`PHYSICS_FEATURES`, ``entropy_R`` and
        ``entropy_class``.
    """
    import pandas as pd

    comps = to_compositions(compositions)
    columns = list(FEATURE_SETS["extended"]) + list(PHYSICS_FEATURES) + ["entropy_R"]
    values = {name: np.empty(len(comps)) for name in columns}
    # Compositions with non-default oxidation states need their own property table: grouped.
    for oxidation_states, idx, elements, amounts, si in grouped_m_site_amounts(comps):
        arrays = feature_arrays(amounts, elements, convention, oxidation_states, si)
        for name in columns:
            values[name][idx] = arrays[name]
    frame = pd.DataFrame({"composition": [c.formula for c in comps]})
    frame["elements"] = ["-".join(c.m_site) for c in comps]
    for name in (*FEATURE_SETS["extended"], *PHYSICS_FEATURES):
        frame[name] = values[name]
    frame["entropy_class"] = entropy_classes(values["entropy_R"])
    return frame


def training_data(dataset=None, convention: str = "paper"):
    """Features and labels of a synthesis dataset.

    The descriptors are recomputed from the formulas (convention ``paper`` reproduces Table S2 of
    Zuo et al. 2026 for all 58 rows, except the misprinted entropy of row 24), so training and
    scoring use the same code.

    Parameters
    ----------
    dataset
        DataFrame with ``composition`` and bool ``synthesizable``; default: the shipped 58 rows.
    convention
        Descriptor convention.

    Returns
    -------
    frame : pandas.DataFrame
        As :func:`features_frame`.
    y : numpy.ndarray
        Integer labels, 1 = synthesizable.
    """
    from nasicon_workflows.datasets import load_synthesis_dataset

    data = load_synthesis_dataset() if dataset is None else dataset
    # Recorded outcomes keep their nominal formula even with Na above the 4 Na sites (Table S1
    # rows 50-58, all non-synthesizable): a labelled failure, never a candidate.
    comps = [
        NasiconComposition.from_formula(f, allow_excess_na=True) for f in data["composition"]
    ]
    frame = features_frame(comps, convention)
    return frame, np.asarray(data["synthesizable"], dtype=int)
