"""The synthesizability gate: a trained model, its applicability domain and batch scoring.

:class:`SynthesizabilityGate` is what the other stages call: ``load_default()`` trains (or reloads
from the user cache) the default model on the shipped data; ``score(compositions)`` returns one row
per composition with the probability, the label, an applicability-domain flag and the descriptors
used. :meth:`SynthesizabilityGate.score_arrays` does the same for millions of enumerated
compositions without building a formula per row.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from jobflow import Maker, job
from pydantic import BaseModel, Field

from nasicon_workflows.classifier.features import (
    FEATURE_SETS,
    feature_arrays,
    features_frame,
    training_data,
)
from nasicon_workflows.classifier.models import SEED, build_model, get_model_spec
from nasicon_workflows.classifier.persistence import (
    ModelMetadata,
    library_versions,
    load_model,
    save_model,
)
from nasicon_workflows.composition import NasiconComposition

logger = logging.getLogger(__name__)

__all__ = [
    "ApplicabilityDomain",
    "DEFAULT_GATE_MODEL",
    "GateDocument",
    "GateMaker",
    "SCORE_COLUMNS",
    "SynthesizabilityGate",
    "cache_dir",
    "ehull_extrapolated",
    "train_gate",
]

#: Chosen by the grouped-validation rule (classifier.evaluation.SELECTION_RULE, docs/classifier.md).
DEFAULT_GATE_MODEL = "gaussian_process_stability"
#: Descriptors reported with every score, whatever the model uses.
REPORTED_FEATURES = (*FEATURE_SETS["extended"], "si", "ehull_1000K_meV_per_atom")
#: Leading columns of every score frame (the contract other stages rely on).
SCORE_COLUMNS = (
    "composition",
    "probability",
    "label",
    "in_domain",
    "domain_reason",
    "entropy_R",
    "entropy_class",
    "probability_std",
    "ehull_1000K_meV_per_atom",
    "ehull_pass",
)
#: Bootstrap refits that give ``probability_std`` for models without a GP latent variance.
N_BOOTSTRAP_MODELS = 16


def cache_dir() -> Path:
    """Cache folder of trained default gates (``$NASICON_WORKFLOWS_CACHE`` overrides)."""
    env = os.environ.get("NASICON_WORKFLOWS_CACHE")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("nasicon-workflows"))


class ApplicabilityDomain(BaseModel):
    """Where the training data lie in feature space, judged without inverting a covariance.

    Features are standardised with the training mean and standard deviation (columns that are
    constant in training, e.g. Si = 2 in all 58 rows, are left out: they carry no information
    and would divide by zero). A composition is outside the domain when

    * a model feature lies outside the training range (the reason names feature, value, bound);
    * its nearest training composition is farther than ``knn_threshold``: the root-mean-square
      per-feature distance in training standard deviations, with the limit set at the 95th
      percentile of the training rows' own nearest-neighbour distances (each row to the others).
      Collinear features (Na is a linear function of the valence and Si) only repeat a
      difference, they cannot blow a distance up, unlike a Mahalanobis distance through a
      near-singular covariance;
    * it holds an M-site element absent from the training compositions.
    """

    features: list[str]
    minimum: list[float]
    maximum: list[float]
    mean: list[float]
    scale: list[float] = Field(description="Training std per feature (0 = constant, not used)")
    training_standardised: list[list[float]] = Field(description="Standardised training rows")
    training_compositions: list[str]
    knn_threshold: float = Field(description="95th percentile of training NN distances (RMS SD)")
    training_elements: list[str]
    training_si_range: list[float] = Field(
        default_factory=lambda: [2.0, 2.0], description="Si per f.u. of the training rows"
    )
    reads_polyanion: bool = Field(
        False, description="The model reads Si/P (through the predicted E_hull)"
    )

    @classmethod
    def from_training(
        cls,
        X: np.ndarray,
        features: Sequence[str],
        elements: Iterable[str],
        compositions: Sequence[str] | None = None,
        si: np.ndarray | None = None,
    ):
        """Domain of a training matrix ``X`` (rows = compositions, columns = ``features``).

        ``si``: Si per formula unit of the training rows (default all 2). A model that does not
        read the predicted E_hull cannot see Si/P, so other Si contents are outside its domain.
        """
        X = np.asarray(X, dtype=float)
        mean = X.mean(axis=0)
        scale = X.std(axis=0, ddof=1) if len(X) > 1 else np.zeros(X.shape[1])
        scale = np.where(scale > 1e-12 * np.maximum(1.0, np.abs(mean)), scale, 0.0)
        Z = _standardise(X, mean, scale)
        d = _pairwise_rms(Z, Z)
        np.fill_diagonal(d, np.inf)
        nn = d.min(axis=1) if len(X) > 1 else np.zeros(1)
        return cls(
            features=list(features),
            minimum=X.min(0).tolist(),
            maximum=X.max(0).tolist(),
            mean=mean.tolist(),
            scale=scale.tolist(),
            training_standardised=Z.tolist(),
            training_compositions=list(compositions or [""] * len(X)),
            knn_threshold=float(np.percentile(nn[np.isfinite(nn)], 95)),
            training_elements=sorted(set(elements)),
            training_si_range=[float(np.min(si)), float(np.max(si))] if si is not None else [2.0, 2.0],
            reads_polyanion="ehull_1000K_meV_per_atom" in features,
        )

    def si_outside(self, si: np.ndarray) -> np.ndarray:
        """True where Si differs from the training rows and the model cannot read Si/P."""
        si = np.asarray(si, dtype=float)
        if self.reads_polyanion:
            return np.zeros(si.shape, dtype=bool)
        lo, hi = self.training_si_range
        return (si < lo - 1e-9) | (si > hi + 1e-9)

    def nearest(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distance (RMS training SDs) to and index of the nearest training row, per row of X."""
        Z = _standardise(np.asarray(X, dtype=float), np.asarray(self.mean), np.asarray(self.scale))
        T = np.asarray(self.training_standardised)
        dist = np.empty(len(Z))
        idx = np.empty(len(Z), dtype=int)
        for lo in range(0, len(Z), 50_000):  # bounded memory on million-row chunks
            d = _pairwise_rms(Z[lo : lo + 50_000], T)
            idx[lo : lo + 50_000] = d.argmin(axis=1)
            dist[lo : lo + 50_000] = d[np.arange(len(d)), idx[lo : lo + 50_000]]
        return dist, idx

    def flags(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """Vectorised checks: ``below``/``above`` (n, p) bools, ``knn_distance`` (n,)."""
        X = np.asarray(X, dtype=float)
        # a relative tolerance so that rounding of training values does not flag them
        span = np.maximum(np.asarray(self.maximum) - np.asarray(self.minimum), 1e-12)
        tol = 1e-9 * span
        used = np.asarray(self.scale) > 0
        dist, idx = self.nearest(X)
        return {
            "below": (X < np.asarray(self.minimum) - tol) & used,
            "above": (X > np.asarray(self.maximum) + tol) & used,
            "knn_distance": dist,
            "nearest": idx,
        }

    def reasons(
        self, X: np.ndarray, unseen: Sequence[Sequence[str]], si: np.ndarray | None = None
    ) -> list[str]:
        """One plain text per row: why it lies outside the domain ("" when inside)."""
        X = np.asarray(X, dtype=float)
        f = self.flags(X)
        si_bad = self.si_outside(si) if si is not None else np.zeros(len(X), dtype=bool)
        scale = np.asarray(self.scale)
        used = scale > 0
        Z = _standardise(X, np.asarray(self.mean), scale)
        T = np.asarray(self.training_standardised)
        out = []
        for i in range(len(X)):
            parts = []
            for j, name in enumerate(self.features):
                if f["below"][i, j]:
                    parts.append(f"{name} {X[i, j]:.4g} below training min {self.minimum[j]:.4g}")
                if f["above"][i, j]:
                    parts.append(f"{name} {X[i, j]:.4g} above training max {self.maximum[j]:.4g}")
            if f["knn_distance"][i] > self.knn_threshold:
                k = int(f["nearest"][i])
                diff = np.where(used, Z[i] - T[k], 0.0)
                top = np.argsort(-np.abs(diff))[:2]
                what = ", ".join(
                    f"{self.features[j]} {diff[j]:+.1f} SD" for j in top if abs(diff[j]) > 0
                )
                parts.append(
                    f"nearest training composition {self.training_compositions[k]} is "
                    f"{f['knn_distance'][i]:.2f} SD away (RMS over features; limit "
                    f"{self.knn_threshold:.2f}, the 95th percentile of training rows); largest "
                    f"differences: {what}"
                )
            if unseen[i]:
                parts.append("M-site elements absent from training data: " + ", ".join(unseen[i]))
            if si_bad[i]:
                lo, hi = self.training_si_range
                parts.append(
                    f"Si {si[i]:g} per formula unit, but every training row has Si {lo:g}-{hi:g} "
                    "and this model cannot read Si/P (use a model with the predicted E_hull)"
                )
            out.append("; ".join(parts))
        return out

    def in_domain(
        self, X: np.ndarray, has_unseen: np.ndarray | None = None, si: np.ndarray | None = None
    ) -> np.ndarray:
        """Vectorised in-domain flag."""
        f = self.flags(X)
        ok = ~(f["below"].any(1) | f["above"].any(1)) & (f["knn_distance"] <= self.knn_threshold)
        if has_unseen is not None:
            ok &= ~np.asarray(has_unseen, dtype=bool)
        if si is not None:
            ok &= ~self.si_outside(np.broadcast_to(np.asarray(si, dtype=float), ok.shape))
        return ok


def _standardise(X, mean, scale) -> np.ndarray:
    used = scale > 0
    return (X[:, used] - mean[used]) / scale[used]


def _pairwise_rms(A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """Root-mean-square per-feature distance between rows of A and B."""
    if A.shape[1] == 0:
        return np.zeros((len(A), len(B)))
    sq = (A * A).sum(1)[:, None] + (B * B).sum(1)[None, :] - 2.0 * A @ B.T
    return np.sqrt(np.clip(sq, 0.0, None) / A.shape[1])


#: Gauss-Hermite nodes for the spread of a probability under a Gaussian latent value.
_GH_X, _GH_W = np.polynomial.hermite_e.hermegauss(100)


def gp_latent_moments(pipeline, X: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Latent mean and variance of a fitted binary GP classifier pipeline (Laplace).

    The same algebra as scikit-learn's ``_BinaryGaussianProcessClassifierLaplace.predict_proba``
    (Rasmussen & Williams 2006, Algorithm 3.2). Returns None when the final step is not a
    binary GP classifier.
    """
    from scipy.linalg import solve

    final = pipeline[-1] if hasattr(pipeline, "__getitem__") else pipeline
    be = getattr(final, "base_estimator_", None)
    if be is None or not hasattr(be, "W_sr_"):
        return None
    Xt = np.asarray(X, dtype=float)
    if hasattr(pipeline, "__getitem__") and len(pipeline) > 1:
        Xt = pipeline[:-1].transform(Xt)
    K_star = be.kernel_(be.X_train_, Xt)
    f_star = K_star.T.dot(be.y_train_ - be.pi_)
    v = solve(be.L_, be.W_sr_[:, np.newaxis] * K_star)
    var = np.clip(be.kernel_.diag(Xt) - np.einsum("ij,ij->j", v, v), 0.0, None)
    return f_star, var


def _sigmoid_spread(mean: np.ndarray, var: np.ndarray) -> np.ndarray:
    """Standard deviation of sigmoid(f) for f ~ N(mean, var), by Gauss-Hermite quadrature."""
    f = mean[:, None] + np.sqrt(var)[:, None] * _GH_X[None, :]
    s = 1.0 / (1.0 + np.exp(-f))
    w = _GH_W / _GH_W.sum()
    m1 = s @ w
    m2 = (s * s) @ w
    return np.sqrt(np.clip(m2 - m1 * m1, 0.0, None))


@dataclass
class SynthesizabilityGate:
    """A trained synthesizability classifier with its applicability domain.

    Attributes
    ----------
    model_name
        Registered model name.
    pipeline
        Fitted scikit-learn pipeline.
    metadata
        Training metadata (features, convention, data hash, versions, metrics).
    domain
        Applicability domain of the training data.
    ensemble
        Bootstrap refits (resampled training rows) that give ``probability_std`` for models
        without a latent variance; None for Gaussian-process classifiers.
    """

    model_name: str
    pipeline: object
    metadata: ModelMetadata
    domain: ApplicabilityDomain
    ensemble: list | None = None

    @property
    def features(self) -> list[str]:
        """Feature names in model order."""
        return list(self.metadata.features)

    @property
    def convention(self) -> str:
        """Descriptor convention."""
        return self.metadata.convention

    @property
    def threshold(self) -> float:
        """Probability at or above which the label is True."""
        return self.metadata.threshold

    # ------------------------------------------------------------------ training and loading
    @classmethod
    def train(cls, model: str = DEFAULT_GATE_MODEL, **kwargs) -> SynthesizabilityGate:
        """Train a gate; keyword arguments as :func:`train_gate`."""
        return train_gate(model, **kwargs)

    @classmethod
    def load_default(
        cls, model: str = DEFAULT_GATE_MODEL, cache: str | Path | None = None
    ) -> SynthesizabilityGate:
        """The gate trained on the shipped data, cached on disk.

        The cache file name holds a hash of the model name, the shipped data hash and the library
        versions, so a new dataset or library release trains a fresh model; a cached file whose
        metadata do not match is retrained rather than used.

        Parameters
        ----------
        model
            Registered model name (default :data:`DEFAULT_GATE_MODEL`).
        cache
            Cache folder; default :func:`cache_dir`.
        """
        from nasicon_workflows.classifier.errors import ModelFileError, ModelMetadataError
        from nasicon_workflows.datasets import dataset_sha256
        from nasicon_workflows.stability.data import stability_data_sha256

        spec = get_model_spec(model)
        key = json.dumps(
            {
                "model": model,
                "data": dataset_sha256(),
                "versions": library_versions(),
                "features": list(spec.features),
                "seed": SEED,
                # the E_hull feature depends on the stability data; format 2 = kNN domain
                "stability_data": stability_data_sha256(),
                "format": 2,
            },
            sort_keys=True,
        )
        stem = (
            Path(cache or cache_dir())
            / f"gate-{model}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"
        )
        try:
            return cls.load(
                stem, expected_data_sha256=dataset_sha256(), expected_features=list(spec.features)
            )
        except (ModelFileError, ModelMetadataError) as exc:
            logger.info("training default gate %s (%s)", model, exc)
        gate = train_gate(model)
        try:
            gate.save(stem)
        except OSError as exc:  # a read-only home must not stop scoring
            logger.warning("could not cache the gate at %s: %s", stem, exc)
        return gate

    def save(self, path: str | Path) -> Path:
        """Save pipeline, domain and metadata (see :mod:`~.classifier.persistence`)."""
        return save_model(
            {
                "pipeline": self.pipeline,
                "domain": self.domain.model_dump(),
                "ensemble": self.ensemble,
            },
            self.metadata,
            path,
        )

    @classmethod
    def load(cls, path: str | Path, **expected) -> SynthesizabilityGate:
        """Load a saved gate; ``expected`` as :func:`~.persistence.load_model` keywords."""
        meta, payload = load_model(path, **expected)
        try:
            domain = ApplicabilityDomain(**payload["domain"])
        except Exception as exc:  # a file of the previous release (Mahalanobis domain)
            from nasicon_workflows.classifier.errors import ModelMetadataError

            raise ModelMetadataError(
                f"Saved model {path} has an applicability domain of an older format ({exc}). "
                "Retrain it."
            ) from None
        return cls(meta.model_name, payload["pipeline"], meta, domain, payload.get("ensemble"))

    # ------------------------------------------------------------------ scoring
    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probability of 'synthesizable' for a feature matrix in :attr:`features` order."""
        proba = self.pipeline.predict_proba(np.asarray(X, dtype=float))
        return proba[:, list(self.pipeline.classes_).index(1)]

    def probability_std(self, X: np.ndarray) -> np.ndarray:
        """Uncertainty of each probability (same scale, 0-0.5).

        Gaussian-process classifiers: the standard deviation of sigmoid(f) under the Laplace
        posterior of the latent f (its variance grows away from the training rows). Other
        models: the standard deviation of the probability over :data:`N_BOOTSTRAP_MODELS`
        refits on bootstrap resamples of the training rows. NaN when neither is available.
        """
        X = np.asarray(X, dtype=float)
        moments = gp_latent_moments(self.pipeline, X)
        if moments is not None:
            return _sigmoid_spread(*moments)
        if self.ensemble:
            P = np.column_stack(
                [m.predict_proba(X)[:, list(m.classes_).index(1)] for m in self.ensemble]
            )
            return P.std(axis=1, ddof=1)
        return np.full(len(X), np.nan)

    def _ehull_pass(self, ehull: np.ndarray, max_ehull: float | None) -> np.ndarray:
        if max_ehull is None:
            return np.ones(len(ehull), dtype=bool)
        return np.asarray(ehull) <= max_ehull

    def score(
        self,
        compositions: Iterable[NasiconComposition | str],
        max_ehull: float | None = None,
    ):
        """Score compositions.

        Parameters
        ----------
        compositions
            :class:`NasiconComposition` objects or formulas (invalid formulas raise an
            ``InvalidCompositionError`` naming the problem).
        max_ehull
            Second gate: the label also requires the predicted E_hull(1000 K) to be at most
            this many meV/atom (None = off).

        Returns
        -------
        pandas.DataFrame
            One row per composition, in input order: ``composition``, ``probability``, ``label``,
            ``in_domain``, ``domain_reason`` ("" inside), ``entropy_R``, ``entropy_class``,
            ``probability_std``, ``ehull_1000K_meV_per_atom`` (predicted), ``ehull_pass``,
            ``ehull_note`` (why the E_hull prediction is an extrapolation, "" otherwise), then
            the descriptors (``model_features`` lists the ones the model used).
        """
        frame = features_frame(compositions, self.convention)
        if frame.empty:
            return _empty_score_frame()
        X = frame[self.features].to_numpy(dtype=float)
        seen = set(self.domain.training_elements)
        unseen = [[el for el in els.split("-") if el not in seen] for els in frame["elements"]]
        proba = self.predict_proba(X)
        reasons = self.domain.reasons(X, unseen, frame["si"].to_numpy())
        ehull = frame["ehull_1000K_meV_per_atom"].to_numpy()
        out = _assemble(
            frame["composition"].tolist(),
            proba,
            self.threshold,
            reasons,
            {name: frame[name].to_numpy() for name in REPORTED_FEATURES},
            frame["entropy_class"].to_numpy(),
            self.features,
            self.probability_std(X),
            self._ehull_pass(ehull, max_ehull),
        )
        out.insert(
            len(SCORE_COLUMNS), "ehull_note", _ehull_notes(frame["elements"], frame["si"])
        )
        return out

    def score_arrays(
        self,
        m_amounts: np.ndarray,
        elements: Sequence[str],
        si: np.ndarray | float = 2.0,
        max_ehull: float | None = None,
        with_std: bool = False,
        with_ehull: bool = False,
    ) -> dict[str, np.ndarray]:
        """Vectorised scoring of an amounts matrix (the enumeration path).

        Parameters
        ----------
        m_amounts
            ``(n, k)`` M-site amounts per formula unit.
        elements
            Element of each column.
        si
            Si per formula unit.
        max_ehull
            Second gate on the predicted E_hull(1000 K), meV/atom (None = off): ``ehull_pass``.
        with_std
            Also compute ``probability_std`` (cheap for GP models, 16 refits otherwise).
        with_ehull
            Also predict ``ehull_1000K_meV_per_atom`` when the model does not use it, and flag
            ``ehull_extrapolated`` (see :func:`ehull_extrapolated`).

        Returns
        -------
        dict
            ``probability``, ``in_domain``, ``ehull_pass``, every feature array of
            :func:`~nasicon_workflows.classifier.features.feature_arrays` (with
            ``ehull_1000K_meV_per_atom`` when the model or ``max_ehull`` needs it) and, with
            ``with_std``, ``probability_std``; with ``with_ehull``, ``ehull_extrapolated``.
        """
        need_ehull = ("ehull_1000K_meV_per_atom" in self.features or max_ehull is not None
                      or with_ehull)
        arrays = feature_arrays(m_amounts, elements, self.convention, None, si, need_ehull)
        X = np.column_stack([arrays[name] for name in self.features])
        seen = set(self.domain.training_elements)
        has_unseen = _holds_any(m_amounts, [el not in seen for el in elements])
        arrays["probability"] = self.predict_proba(X)
        arrays["in_domain"] = self.domain.in_domain(X, has_unseen, arrays["si"])
        if need_ehull:
            arrays["ehull_pass"] = self._ehull_pass(arrays["ehull_1000K_meV_per_atom"], max_ehull)
        else:
            arrays["ehull_pass"] = np.ones(len(X), dtype=bool)
        if with_std:
            arrays["probability_std"] = self.probability_std(X)
        if with_ehull:
            arrays["ehull_extrapolated"] = ehull_extrapolated(m_amounts, elements, arrays["si"])
        return arrays


def ehull_extrapolated(
    m_amounts: np.ndarray, elements: Sequence[str], si: np.ndarray | float = 2.0
) -> np.ndarray:
    """Whether each predicted E_hull is an extrapolation of the DFT stability data (vectorised).

    The row-wise counterpart of the ``ehull_note`` column of :meth:`SynthesizabilityGate.score`:
    True when a composition holds an M element absent from the stability model's training data
    or its Si lies outside the training range.

    Parameters
    ----------
    m_amounts
        ``(n, k)`` M-site amounts per formula unit.
    elements
        Element of each column.
    si
        Si per formula unit, scalar or per row.

    Returns
    -------
    numpy.ndarray
        Boolean, one per row.
    """
    from nasicon_workflows.stability.model import load_default_stability_model

    model = load_default_stability_model()
    out = _holds_any(m_amounts, [bool(model.unseen_elements([el])) for el in elements])
    lo, hi = model.training_si_range
    si = np.broadcast_to(np.asarray(si, dtype=float), out.shape)
    return out | (si < lo - 1e-9) | (si > hi + 1e-9)


def _holds_any(m_amounts: np.ndarray, columns: Sequence[bool]) -> np.ndarray:
    """Rows with a positive amount in any of the flagged columns."""
    amounts = np.atleast_2d(np.asarray(m_amounts, dtype=float))
    flags = np.asarray(columns, dtype=bool)
    if not flags.any():
        return np.zeros(len(amounts), dtype=bool)
    return (amounts[:, flags] > 0).any(axis=1)


def _ehull_notes(elements_col, si_col) -> list[str]:
    """Why a predicted E_hull is an extrapolation of the DFT data ("" when it is not)."""
    from nasicon_workflows.stability.model import load_default_stability_model

    model = load_default_stability_model()
    lo, hi = model.training_si_range
    notes = []
    for els, si in zip(elements_col, si_col):
        parts = []
        missing = model.unseen_elements(els.split("-"))
        if missing:
            parts.append("elements absent from the DFT stability data: " + ", ".join(missing))
        if not lo - 1e-9 <= si <= hi + 1e-9:
            parts.append(f"Si {si:g} outside the DFT data's {lo:g}-{hi:g}")
        notes.append("; ".join(parts))
    return notes


def _empty_score_frame():
    import pandas as pd

    cols = [*SCORE_COLUMNS, "ehull_note"]
    cols += [f for f in REPORTED_FEATURES if f not in cols]
    cols.append("model_features")
    return pd.DataFrame({c: [] for c in cols})


def _assemble(
    formulas,
    proba,
    threshold,
    reasons,
    features,
    entropy_class,
    model_features,
    proba_std,
    ehull_pass,
):
    """The score frame of the public contract, from aligned arrays."""
    import pandas as pd

    frame = pd.DataFrame(
        {
            "composition": formulas,
            "probability": np.asarray(proba, dtype=float),
            "label": (np.asarray(proba) >= threshold) & np.asarray(ehull_pass, dtype=bool),
            "in_domain": [r == "" for r in reasons],
            "domain_reason": reasons,
            "entropy_R": features["entropy_R"],
            "entropy_class": entropy_class,
            "probability_std": np.asarray(proba_std, dtype=float),
            "ehull_1000K_meV_per_atom": features["ehull_1000K_meV_per_atom"],
            "ehull_pass": np.asarray(ehull_pass, dtype=bool),
        }
    )
    for name in REPORTED_FEATURES:
        if name not in frame:
            frame[name] = features[name]
    frame["model_features"] = ",".join(model_features)
    return frame


def train_gate(
    model: str = DEFAULT_GATE_MODEL,
    dataset=None,
    convention: str = "paper",
    seed: int = SEED,
    metric_repeats: int = 1,
    data_label: str = "shipped",
    version: int = 1,
) -> SynthesizabilityGate:
    """Train a gate on a synthesis dataset.

    Parameters
    ----------
    model
        Registered model name.
    dataset
        DataFrame with ``composition`` and ``synthesizable``; default the shipped 58 rows.
    convention
        Descriptor convention.
    seed
        Estimator and fold seed.
    metric_repeats
        Repeats of stratified 10-fold CV whose metrics are stored in the metadata (the full
        evaluation is ``nasicon-workflows evaluate``).
    data_label, version
        Stored in the metadata (user datasets are versioned).
    """
    from nasicon_workflows.classifier.evaluation import _cv_oof, _repeated_folds, fold_metrics
    from nasicon_workflows.datasets import dataset_sha256

    spec = get_model_spec(model)
    frame, y = training_data(dataset, convention)
    X = frame[list(spec.features)].to_numpy(dtype=float)
    metrics: dict[str, float] = {}
    n_splits = int(min(10, np.bincount(y, minlength=2).min()))
    if metric_repeats > 0 and n_splits >= 2:
        folds = _repeated_folds(y, n_splits, metric_repeats, seed)
        oof = _cv_oof(model, X, y, folds, seed)
        per = [fold_metrics(y[test], p[test]) for (_, test), p in zip(folds, oof)]
        for m in per[0]:
            vals = np.array([d[m] for d in per], dtype=float)
            vals = vals[np.isfinite(vals)]
            metrics[f"cv{metric_repeats}x{n_splits}.{m}.mean"] = float(vals.mean())
            metrics[f"cv{metric_repeats}x{n_splits}.{m}.std"] = float(vals.std(ddof=1))
    pipeline = build_model(model, seed)
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipeline.fit(X, y)
    elements = {el for els in frame["elements"] for el in els.split("-")}
    domain = ApplicabilityDomain.from_training(
        X, spec.features, elements, frame["composition"].tolist(), frame["si"].to_numpy()
    )
    ensemble = None
    if gp_latent_moments(pipeline, X[:1]) is None:
        rng = np.random.default_rng(seed)
        ensemble = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            while len(ensemble) < N_BOOTSTRAP_MODELS:
                idx = rng.integers(0, len(y), len(y))
                if len(set(y[idx])) < 2:
                    continue
                ensemble.append(build_model(model, seed).fit(X[idx], y[idx]))
    if dataset is None:
        data_hash = dataset_sha256()
    else:
        from nasicon_workflows.classifier.evaluation import _frame_hash

        data_hash = _frame_hash(dataset)
    meta = ModelMetadata(
        model_name=model,
        description=spec.description,
        feature_set=spec.feature_set,
        features=list(spec.features),
        convention=convention,
        training_data_sha256=data_hash,
        training_data_label=data_label,
        n_training_rows=len(y),
        n_synthesizable=int(y.sum()),
        library_versions=library_versions(),
        metrics=metrics,
        seed=seed,
        version=version,
    )
    return SynthesizabilityGate(model, pipeline, meta, domain, ensemble)


class GateDocument(BaseModel):
    """Output of :class:`GateMaker`: scored compositions."""

    model_name: str = Field(description="Gate model")
    threshold: float = Field(description="Probability threshold of the gate")
    rows: list[dict] = Field(description="One dict per composition (columns of score())")
    passed: list[str] = Field(description="Compositions with probability >= threshold, in domain")


@dataclass
class GateMaker(Maker):
    """Score compositions with the synthesizability gate as a jobflow job.

    Attributes
    ----------
    name
        Job name.
    model
        Registered model name of the default gate.
    threshold
        Probability threshold (0-1) a composition must reach to pass.
    require_in_domain
        Only compositions inside the applicability domain pass.
    max_ehull_meV_per_atom
        Second gate: predicted E_hull(1000 K) at most this (meV/atom); None = off.
    """

    name: str = "synthesizability gate"
    model: str = DEFAULT_GATE_MODEL
    threshold: float = 0.5
    require_in_domain: bool = True
    max_ehull_meV_per_atom: float | None = None

    @job(output_schema=GateDocument)
    def make(self, compositions: list[str]) -> GateDocument:
        """Score ``compositions`` (formulas) and list those that pass."""
        gate = SynthesizabilityGate.load_default(self.model)
        frame = gate.score(compositions, max_ehull=self.max_ehull_meV_per_atom)
        ok = (frame["probability"] >= self.threshold) & frame["ehull_pass"]
        if self.require_in_domain:
            ok &= frame["in_domain"]
        return GateDocument(
            model_name=gate.model_name,
            threshold=self.threshold,
            rows=frame.to_dict(orient="records"),
            passed=frame.loc[ok, "composition"].tolist(),
        )
