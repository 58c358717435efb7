"""Composition -> E_hull(1000 K) regressor trained on the DFT data of Ouyang et al. (2021).

Features (:data:`STABILITY_FEATURES`) are computed from the M-site amounts, the Si content and
the Na content by one vectorised code path (:func:`stability_feature_arrays`), so a training row,
a formula and one of millions of enumerated candidates get the same numbers. Element properties:
Shannon ionic radii for octahedral coordination (CN VI, the M site is an octahedron; Shannon,
*Acta Cryst. A* 1976, **32**, 751, as tabulated in pymatgen), Pauling electronegativities, oxide
valences and the periodic-table row. The descriptors the source found decisive (Na content,
radii, electronegativities; Ouyang et al., *Nat. Commun.* 2021, **12**, 5752) are among them;
the source's Madelung-energy descriptor needs relaxed structures and is not used.

Estimator: scikit-learn ``HistGradientBoostingRegressor`` with absolute-error loss (the target is
heavy tailed: a few compositions lie thousands of meV/atom above the hull), settings fixed before
any evaluation and not tuned. Cross-validated figures: :mod:`nasicon_workflows.stability.evaluation`
and ``docs/stability.md``.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from nasicon_workflows.composition import NasiconComposition

logger = logging.getLogger(__name__)

__all__ = [
    "STABILITY_FEATURES",
    "StabilityModel",
    "build_stability_regressor",
    "compositions_to_arrays",
    "load_default_stability_model",
    "stability_feature_arrays",
    "train_stability_model",
]

#: Stability-model features, all site-fraction weighted over the M site unless noted.
STABILITY_FEATURES = (
    "r_mean_pm",  # mean CN VI Shannon radius
    "r_std_pm",  # its site-fraction-weighted standard deviation
    "r_min_pm",  # smallest and largest M cation present
    "r_max_pm",
    "chi_mean",  # Pauling electronegativity
    "chi_std",
    "valence_mean",
    "valence_std",
    "ionic_potential_mean",  # z / r (1/pm x 100)
    "row_mean",  # periodic-table row
    "entropy_R",  # M-site mixing entropy per site
    "na",  # Na per formula unit
    "si",  # Si per formula unit (Si/P mixing: P = 3 - si)
)
#: Descriptor convention of the element properties (CN VI radii, plain Pauling chi).
STABILITY_CONVENTION = "shannon"
#: Seed of the regressor.
SEED = 0


def _element_rows(elements: Sequence[str]) -> np.ndarray:
    from pymatgen.core import Element

    return np.array([float(Element(el).row) for el in elements])


def stability_feature_arrays(
    m_amounts: np.ndarray,
    elements: Sequence[str],
    si: np.ndarray | float = 2.0,
    oxidation_states: Mapping[str, int] | None = None,
) -> np.ndarray:
    """Stability features of many compositions at once.

    Parameters
    ----------
    m_amounts
        ``(n, k)`` M-site amounts per formula unit (rows sum to 2).
    elements
        Element of each column.
    si
        Si per formula unit, scalar or per row; P = 3 - Si and Na follows from charge neutrality.
    oxidation_states
        Overrides of the default M-site oxidation states.

    Returns
    -------
    numpy.ndarray
        ``(n, len(STABILITY_FEATURES))`` in :data:`STABILITY_FEATURES` order.
    """
    from nasicon_workflows.descriptors import element_property_table

    amounts = np.atleast_2d(np.asarray(m_amounts, dtype=float))
    props = element_property_table(elements, STABILITY_CONVENTION, oxidation_states)
    x = amounts / 2.0
    present = amounts > 0

    def mean_std(values):
        mean = x @ values
        var = np.einsum("ij,ij->i", x, (values[None, :] - mean[:, None]) ** 2)
        return mean, np.sqrt(np.clip(var, 0.0, None))

    r = props["radius_pm"]
    r_mean, r_std = mean_std(r)
    chi_mean, chi_std = mean_std(props["electronegativity"])
    val_mean, val_std = mean_std(props["valence"])
    big = np.where(present, r[None, :], np.inf)
    small = np.where(present, r[None, :], -np.inf)
    with np.errstate(divide="ignore", invalid="ignore"):
        xlogx = np.where(x > 0, x * np.log(np.where(x > 0, x, 1.0)), 0.0)
    si_arr = np.broadcast_to(np.asarray(si, dtype=float), r_mean.shape)
    na = 24.0 - 4.0 * si_arr - 5.0 * (3.0 - si_arr) - amounts @ props["valence"]
    cols = {
        "r_mean_pm": r_mean,
        "r_std_pm": r_std,
        "r_min_pm": big.min(axis=1),
        "r_max_pm": small.max(axis=1),
        "chi_mean": chi_mean,
        "chi_std": chi_std,
        "valence_mean": val_mean,
        "valence_std": val_std,
        "ionic_potential_mean": x @ (100.0 * props["valence"] / r),
        "row_mean": x @ _element_rows(elements),
        "entropy_R": 0.0 - xlogx.sum(axis=1),
        "na": na,
        "si": si_arr,
    }
    return np.column_stack([cols[name] for name in STABILITY_FEATURES])


def compositions_to_arrays(
    compositions: Iterable[NasiconComposition],
) -> np.ndarray:
    """Stability features of compositions (grouped by non-default oxidation states)."""
    from nasicon_workflows.descriptors import grouped_m_site_amounts

    comps = list(compositions)
    out = np.empty((len(comps), len(STABILITY_FEATURES)))
    for oxidation_states, idx, elements, amounts, si in grouped_m_site_amounts(comps):
        out[idx] = stability_feature_arrays(amounts, elements, si, oxidation_states)
    return out


def build_stability_regressor(seed: int = SEED):
    """The unfitted regressor (settings fixed a priori, not tuned on the evaluation)."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    return HistGradientBoostingRegressor(
        loss="absolute_error",
        learning_rate=0.05,
        max_iter=400,
        max_leaf_nodes=15,
        min_samples_leaf=10,
        l2_regularization=1.0,
        random_state=seed,
    )


@dataclass
class StabilityModel:
    """A trained E_hull(1000 K) regressor.

    Attributes
    ----------
    regressor
        Fitted scikit-learn regressor on :data:`STABILITY_FEATURES`.
    training_elements
        M-site elements present in the training compositions (others are extrapolations).
    training_si_range
        (min, max) Si per formula unit of the training compositions.
    data_sha256
        SHA-256 of the training CSV.
    metadata
        Training facts (rows, citation, versions).
    """

    regressor: object
    training_elements: tuple[str, ...]
    training_si_range: tuple[float, float]
    data_sha256: str
    metadata: dict = field(default_factory=dict)

    def predict_arrays(
        self,
        m_amounts: np.ndarray,
        elements: Sequence[str],
        si: np.ndarray | float = 2.0,
        oxidation_states: Mapping[str, int] | None = None,
    ) -> np.ndarray:
        """Predicted E_hull(1000 K) in meV/atom for an amounts matrix (the enumeration path)."""
        X = stability_feature_arrays(m_amounts, elements, si, oxidation_states)
        return self.regressor.predict(X)

    def predict(self, compositions: Iterable[NasiconComposition | str]) -> np.ndarray:
        """Predicted E_hull(1000 K) in meV/atom of compositions or formulas."""
        comps = [
            c if isinstance(c, NasiconComposition) else NasiconComposition.from_formula(c)
            for c in compositions
        ]
        if not comps:
            return np.empty(0)
        return self.regressor.predict(compositions_to_arrays(comps))

    def unseen_elements(self, elements: Iterable[str]) -> list[str]:
        """Elements absent from the stability training data."""
        seen = set(self.training_elements)
        return [el for el in elements if el not in seen]


def train_stability_model(seed: int = SEED) -> StabilityModel:
    """Train the regressor on every accepted row of the shipped stability data."""
    from nasicon_workflows.stability.data import (
        STABILITY_CITATION,
        load_stability_data,
        stability_data_sha256,
    )

    data = load_stability_data()
    X = compositions_to_arrays(data.compositions)
    y = np.asarray(data.ehull_1000K_meV_per_atom)
    reg = build_stability_regressor(seed).fit(X, y)
    si = X[:, STABILITY_FEATURES.index("si")]
    return StabilityModel(
        regressor=reg,
        training_elements=tuple(sorted({el for c in data.compositions for el in c.m_site})),
        training_si_range=(float(si.min()), float(si.max())),
        data_sha256=stability_data_sha256(),
        metadata={
            "n_training_rows": len(y),
            "n_rejected_rows": len(data.rejected),
            "citation": STABILITY_CITATION,
            "features": list(STABILITY_FEATURES),
            "seed": seed,
        },
    )


@lru_cache(maxsize=1)
def load_default_stability_model() -> StabilityModel:
    """The stability model trained on the shipped data, cached in memory and on disk.

    The disk cache (beside the gate's, :func:`~nasicon_workflows.classifier.gate.cache_dir`) is
    keyed by the data hash and library versions; a missing, stale or unreadable file is retrained
    (about 2 s) and a read-only cache folder only costs the retraining.
    """
    import joblib

    from nasicon_workflows.classifier.gate import cache_dir
    from nasicon_workflows.classifier.persistence import library_versions
    from nasicon_workflows.stability.data import stability_data_sha256

    key = json.dumps(
        {
            "data": stability_data_sha256(),
            "versions": library_versions(),
            "features": list(STABILITY_FEATURES),
            "seed": SEED,
        },
        sort_keys=True,
    )
    path = Path(cache_dir()) / f"stability-{hashlib.sha256(key.encode()).hexdigest()[:16]}.joblib"
    try:
        payload = joblib.load(path)
        if payload.get("key") == key:
            return payload["model"]
    except Exception as exc:  # missing or unreadable cache: retrain
        logger.info("training the stability model (%s)", exc)
    model = train_stability_model()
    from nasicon_workflows.fileio import OutputPathError, atomic_write

    try:
        atomic_write(path, lambda tmp: joblib.dump({"key": key, "model": model}, tmp))
    except (OSError, OutputPathError) as exc:
        logger.warning("could not cache the stability model at %s: %s", path, exc)
    return model
