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
    "train_gate",
]

#: Chosen by the evaluation in docs/classifier.md (selection rule in classifier.evaluation).
DEFAULT_GATE_MODEL = "gaussian_process_extended"
#: Descriptors reported with every score, whatever the model uses.
REPORTED_FEATURES = FEATURE_SETS["extended"]
#: Leading columns of every score frame (the contract other stages rely on).
SCORE_COLUMNS = (
    "composition",
    "probability",
    "label",
    "in_domain",
    "domain_reason",
    "entropy_R",
    "entropy_class",
)


def cache_dir() -> Path:
    """Cache folder of trained default gates (``$NASICON_WORKFLOWS_CACHE`` overrides)."""
    env = os.environ.get("NASICON_WORKFLOWS_CACHE")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("nasicon-workflows"))


class ApplicabilityDomain(BaseModel):
    """Where the training data lie in feature space.

    A composition is outside when a feature is beyond the training range, when its Mahalanobis
    distance to the training mean exceeds the largest distance of any training row, or when it
    holds an M-site element absent from the training compositions (the descriptors then
    extrapolate chemistry the labels never saw).
    """

    features: list[str]
    minimum: list[float]
    maximum: list[float]
    mean: list[float]
    inverse_covariance: list[list[float]]
    mahalanobis_threshold: float = Field(description="Largest training-row distance")
    training_elements: list[str]

    @classmethod
    def from_training(cls, X: np.ndarray, features: Sequence[str], elements: Iterable[str]):
        """Domain of a training matrix ``X`` (rows = compositions, columns = ``features``)."""
        X = np.asarray(X, dtype=float)
        mean = X.mean(axis=0)
        cov = np.atleast_2d(np.cov(X, rowvar=False))
        # A tiny ridge keeps constant or collinear columns (e.g. n_m_cations vs entropy) invertible.
        cov = cov + 1e-9 * np.eye(len(features)) * max(1.0, float(np.trace(cov)))
        inv = np.linalg.pinv(cov)
        d = _mahalanobis(X, mean, inv)
        return cls(
            features=list(features),
            minimum=X.min(0).tolist(),
            maximum=X.max(0).tolist(),
            mean=mean.tolist(),
            inverse_covariance=inv.tolist(),
            mahalanobis_threshold=float(d.max()),
            training_elements=sorted(set(elements)),
        )

    def flags(self, X: np.ndarray) -> dict[str, np.ndarray]:
        """Vectorised checks: ``below``/``above`` (n, p) bools and ``mahalanobis`` (n,)."""
        X = np.asarray(X, dtype=float)
        # a relative tolerance so that rounding of training values does not flag them
        span = np.maximum(np.asarray(self.maximum) - np.asarray(self.minimum), 1e-12)
        tol = 1e-9 * span
        return {
            "below": X < np.asarray(self.minimum) - tol,
            "above": X > np.asarray(self.maximum) + tol,
            "mahalanobis": _mahalanobis(
                X, np.asarray(self.mean), np.asarray(self.inverse_covariance)
            ),
        }

    def reasons(self, X: np.ndarray, unseen: Sequence[Sequence[str]]) -> list[str]:
        """One text per row: why it lies outside the domain ("" when inside)."""
        f = self.flags(X)
        out = []
        for i in range(len(X)):
            parts = []
            for j, name in enumerate(self.features):
                if f["below"][i, j]:
                    parts.append(f"{name} {X[i, j]:.4g} below training min {self.minimum[j]:.4g}")
                if f["above"][i, j]:
                    parts.append(f"{name} {X[i, j]:.4g} above training max {self.maximum[j]:.4g}")
            if f["mahalanobis"][i] > self.mahalanobis_threshold:
                parts.append(
                    f"Mahalanobis distance {f['mahalanobis'][i]:.2f} > "
                    f"{self.mahalanobis_threshold:.2f} (largest in training)"
                )
            if unseen[i]:
                parts.append("M-site elements absent from training data: " + ", ".join(unseen[i]))
            out.append("; ".join(parts))
        return out

    def in_domain(self, X: np.ndarray, has_unseen: np.ndarray | None = None) -> np.ndarray:
        """Vectorised in-domain flag."""
        f = self.flags(X)
        ok = ~(f["below"].any(1) | f["above"].any(1)) & (
            f["mahalanobis"] <= self.mahalanobis_threshold
        )
        if has_unseen is not None:
            ok &= ~np.asarray(has_unseen, dtype=bool)
        return ok


def _mahalanobis(X, mean, inv) -> np.ndarray:
    diff = X - mean
    return np.sqrt(np.clip(np.einsum("ij,jk,ik->i", diff, inv, diff), 0.0, None))


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
    """

    model_name: str
    pipeline: object
    metadata: ModelMetadata
    domain: ApplicabilityDomain

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

        spec = get_model_spec(model)
        key = json.dumps(
            {
                "model": model,
                "data": dataset_sha256(),
                "versions": library_versions(),
                "features": list(spec.features),
                "seed": SEED,
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
            {"pipeline": self.pipeline, "domain": self.domain.model_dump()}, self.metadata, path
        )

    @classmethod
    def load(cls, path: str | Path, **expected) -> SynthesizabilityGate:
        """Load a saved gate; ``expected`` as :func:`~.persistence.load_model` keywords."""
        meta, payload = load_model(path, **expected)
        return cls(
            meta.model_name, payload["pipeline"], meta, ApplicabilityDomain(**payload["domain"])
        )

    # ------------------------------------------------------------------ scoring
    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Probability of 'synthesizable' for a feature matrix in :attr:`features` order."""
        proba = self.pipeline.predict_proba(np.asarray(X, dtype=float))
        return proba[:, list(self.pipeline.classes_).index(1)]

    def score(self, compositions: Iterable[NasiconComposition | str]):
        """Score compositions.

        Parameters
        ----------
        compositions
            :class:`NasiconComposition` objects or formulas (invalid formulas raise an
            ``InvalidCompositionError`` naming the problem).

        Returns
        -------
        pandas.DataFrame
            One row per composition, in input order: ``composition``, ``probability``, ``label``,
            ``in_domain``, ``domain_reason`` ("" inside), ``entropy_R``, ``entropy_class``, then the
            descriptors (the published four, the extended set; ``model_features`` lists the ones
            the model used).
        """
        frame = features_frame(compositions, self.convention)
        if frame.empty:
            return _empty_score_frame()
        X = frame[self.features].to_numpy(dtype=float)
        seen = set(self.domain.training_elements)
        unseen = [[el for el in els.split("-") if el not in seen] for els in frame["elements"]]
        proba = self.predict_proba(X)
        reasons = self.domain.reasons(X, unseen)
        return _assemble(
            frame["composition"].tolist(),
            proba,
            self.threshold,
            reasons,
            {name: frame[name].to_numpy() for name in REPORTED_FEATURES},
            frame["entropy_class"].to_numpy(),
            self.features,
        )

    def score_arrays(
        self,
        m_amounts: np.ndarray,
        elements: Sequence[str],
        si: np.ndarray | float = 2.0,
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

        Returns
        -------
        dict
            ``probability``, ``in_domain`` and every feature array of
            :func:`~nasicon_workflows.classifier.features.feature_arrays`.
        """
        arrays = feature_arrays(m_amounts, elements, self.convention, None, si)
        X = np.column_stack([arrays[name] for name in self.features])
        seen = set(self.domain.training_elements)
        unseen_cols = np.array([el not in seen for el in elements])
        has_unseen = (
            (np.asarray(m_amounts)[:, unseen_cols] > 0).any(axis=1)
            if unseen_cols.any()
            else np.zeros(len(X), dtype=bool)
        )
        arrays["probability"] = self.predict_proba(X)
        arrays["in_domain"] = self.domain.in_domain(X, has_unseen)
        return arrays


def _empty_score_frame():
    import pandas as pd

    cols = [*SCORE_COLUMNS, *[f for f in REPORTED_FEATURES if f != "entropy_R"], "model_features"]
    return pd.DataFrame({c: [] for c in cols})


def _assemble(formulas, proba, threshold, reasons, features, entropy_class, model_features):
    """The score frame of the public contract, from aligned arrays."""
    import pandas as pd

    frame = pd.DataFrame(
        {
            "composition": formulas,
            "probability": np.asarray(proba, dtype=float),
            "label": np.asarray(proba) >= threshold,
            "in_domain": [r == "" for r in reasons],
            "domain_reason": reasons,
            "entropy_R": features["entropy_R"],
            "entropy_class": entropy_class,
        }
    )
    for name in REPORTED_FEATURES:
        if name != "entropy_R":
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
    domain = ApplicabilityDomain.from_training(X, spec.features, elements)
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
    return SynthesizabilityGate(model, pipeline, meta, domain)


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
    """

    name: str = "synthesizability gate"
    model: str = DEFAULT_GATE_MODEL
    threshold: float = 0.5
    require_in_domain: bool = True

    @job(output_schema=GateDocument)
    def make(self, compositions: list[str]) -> GateDocument:
        """Score ``compositions`` (formulas) and list those that pass."""
        gate = SynthesizabilityGate.load_default(self.model)
        frame = gate.score(compositions)
        ok = frame["probability"] >= self.threshold
        if self.require_in_domain:
            ok &= frame["in_domain"]
        return GateDocument(
            model_name=gate.model_name,
            threshold=self.threshold,
            rows=frame.to_dict(orient="records"),
            passed=frame.loc[ok, "composition"].tolist(),
        )
