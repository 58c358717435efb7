"""The model registry: scikit-learn pipelines for the published and the stronger classifiers.

The five published models of Zuo et al., Energy Environ. Sci. 2026, 19, 860 (Gaussian naive Bayes,
k-nearest neighbours, decision tree, support-vector machine, multilayer perceptron) on the four
published descriptors, plus stronger candidates: random forest, extra trees, gradient boosting,
logistic regression with sigmoid calibration, a Gaussian-process classifier, a calibrated GNB and
variants of some on the ``extended`` feature set, and variants that read the polyanion (Si) and
the E_hull(1000 K) predicted by the stability model (``physics`` and ``stability`` sets). Every stochastic estimator has a fixed seed;
scale-sensitive models get a :class:`~sklearn.preprocessing.StandardScaler`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from nasicon_workflows.classifier.errors import UnknownModelError
from nasicon_workflows.classifier.features import get_feature_set

__all__ = ["MODEL_SPECS", "ModelSpec", "PUBLISHED_MODELS", "build_model", "get_model_spec"]

#: Seed of every stochastic estimator (fixed so reruns give the same numbers).
SEED = 0


@dataclass(frozen=True)
class ModelSpec:
    """One registered model.

    Attributes
    ----------
    name
        Registry name (used on the CLI and in saved metadata).
    description
        One line on the estimator and its settings.
    feature_set
        Name of the feature set it is trained on (``published`` or ``extended``).
    factory
        ``factory(seed) -> sklearn Pipeline``, unfitted.
    published
        True for the five models of the source paper.
    """

    name: str
    description: str
    feature_set: str
    factory: Callable[[int], object]
    published: bool = False

    @property
    def features(self) -> tuple[str, ...]:
        """Feature names in training order."""
        return get_feature_set(self.feature_set)


def _pipe(*steps):
    from sklearn.pipeline import make_pipeline

    return make_pipeline(*steps)


def _scaler():
    from sklearn.preprocessing import StandardScaler

    return StandardScaler()


def _gnb(seed: int):
    from sklearn.naive_bayes import GaussianNB

    return _pipe(GaussianNB())


def _gnb_calibrated(seed: int):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.naive_bayes import GaussianNB

    # GNB probabilities are pushed to 0/1 by the independence assumption: sigmoid-calibrate them.
    return _pipe(CalibratedClassifierCV(GaussianNB(), method="sigmoid", cv=5))


def _knn(seed: int):
    from sklearn.neighbors import KNeighborsClassifier

    return _pipe(_scaler(), KNeighborsClassifier(n_neighbors=5))


def _tree(seed: int):
    from sklearn.tree import DecisionTreeClassifier

    return _pipe(DecisionTreeClassifier(max_depth=4, random_state=seed))


def _svm(seed: int):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.svm import SVC

    # Platt scaling (5-fold sigmoid, one final SVC): scikit-learn's replacement of probability=True.
    svc = SVC(kernel="rbf", C=1.0, gamma="scale", random_state=seed)
    return _pipe(_scaler(), CalibratedClassifierCV(svc, method="sigmoid", cv=5, ensemble=False))


def _mlp(seed: int):
    from sklearn.neural_network import MLPClassifier

    # lbfgs suits tiny data sets; alpha regularises the 58-row fit.
    return _pipe(
        _scaler(),
        MLPClassifier(
            hidden_layer_sizes=(16,), solver="lbfgs", alpha=1e-2, max_iter=2000, random_state=seed
        ),
    )


def _rf(seed: int):
    from sklearn.ensemble import RandomForestClassifier

    return _pipe(
        RandomForestClassifier(n_estimators=100, min_samples_leaf=2, random_state=seed, n_jobs=1)
    )


def _et(seed: int):
    from sklearn.ensemble import ExtraTreesClassifier

    return _pipe(
        ExtraTreesClassifier(n_estimators=100, min_samples_leaf=2, random_state=seed, n_jobs=1)
    )


def _gb(seed: int):
    from sklearn.ensemble import GradientBoostingClassifier

    return _pipe(
        GradientBoostingClassifier(
            n_estimators=150, max_depth=2, learning_rate=0.05, subsample=0.8, random_state=seed
        )
    )


def _logreg(seed: int):
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression

    return _pipe(
        _scaler(),
        CalibratedClassifierCV(LogisticRegression(C=1.0, max_iter=2000), method="sigmoid", cv=5),
    )


def _gpc(seed: int):
    from sklearn.gaussian_process import GaussianProcessClassifier
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel

    kernel = ConstantKernel(1.0, (1e-2, 1e2)) * RBF(
        length_scale=1.0, length_scale_bounds=(1e-1, 1e2)
    )
    return _pipe(_scaler(), GaussianProcessClassifier(kernel=kernel, random_state=seed))


_SPECS = [
    ModelSpec("gnb", "Gaussian naive Bayes (the published choice)", "published", _gnb, True),
    ModelSpec("knn", "k-nearest neighbours, k=5, standardised", "published", _knn, True),
    ModelSpec("decision_tree", "decision tree, max depth 4", "published", _tree, True),
    ModelSpec(
        "svm",
        "RBF support-vector machine with Platt probabilities, standardised",
        "published",
        _svm,
        True,
    ),
    ModelSpec(
        "mlp",
        "multilayer perceptron, 16 hidden units, lbfgs, standardised",
        "published",
        _mlp,
        True,
    ),
    ModelSpec(
        "gnb_calibrated", "GNB with 5-fold sigmoid calibration", "published", _gnb_calibrated
    ),
    ModelSpec("random_forest", "random forest, 100 trees, min leaf 2", "published", _rf),
    ModelSpec("extra_trees", "extra trees, 100 trees, min leaf 2", "published", _et),
    ModelSpec("gradient_boosting", "gradient boosting, 150 stumps of depth 2", "published", _gb),
    ModelSpec(
        "logistic_calibrated",
        "logistic regression, sigmoid-calibrated, standardised",
        "published",
        _logreg,
    ),
    ModelSpec(
        "gaussian_process",
        "Gaussian-process classifier, RBF kernel, standardised",
        "published",
        _gpc,
    ),
    ModelSpec("random_forest_extended", "random forest on the extended features", "extended", _rf),
    ModelSpec(
        "logistic_calibrated_extended",
        "calibrated logistic regression, extended features",
        "extended",
        _logreg,
    ),
    ModelSpec(
        "gaussian_process_extended",
        "Gaussian-process classifier, extended features",
        "extended",
        _gpc,
    ),
    ModelSpec(
        "gaussian_process_physics",
        "Gaussian-process classifier, extended + Si + predicted E_hull(1000 K)",
        "physics",
        _gpc,
    ),
    ModelSpec(
        "logistic_calibrated_physics",
        "calibrated logistic regression, extended + Si + predicted E_hull(1000 K)",
        "physics",
        _logreg,
    ),
    ModelSpec(
        "gradient_boosting_physics",
        "gradient boosting, extended + Si + predicted E_hull(1000 K)",
        "physics",
        _gb,
    ),
    ModelSpec(
        "gaussian_process_stability",
        "Gaussian-process classifier on entropy, Na, Si and predicted E_hull(1000 K)",
        "stability",
        _gpc,
    ),
]

#: Every registered model by name.
MODEL_SPECS: Mapping[str, ModelSpec] = MappingProxyType({s.name: s for s in _SPECS})
#: The five models of the source paper.
PUBLISHED_MODELS = tuple(s.name for s in _SPECS if s.published)


def get_model_spec(name: str) -> ModelSpec:
    """Registered model by name; an unknown name raises :class:`UnknownModelError`."""
    try:
        return MODEL_SPECS[name]
    except KeyError:
        raise UnknownModelError(
            f"Unknown model {name!r}; choose one of: {', '.join(MODEL_SPECS)}."
        ) from None


def build_model(name: str, seed: int = SEED):
    """A fresh, unfitted scikit-learn pipeline of a registered model."""
    return get_model_spec(name).factory(seed)
