"""Bit-identical, faster fits of the registry's tree ensembles for the evaluation protocols.

The evaluation refits every model several hundred times on ~50 rows. For random forests, extra
trees and gradient boosting almost all of that time is scikit-learn's per-tree Python overhead
(cloning, parameter validation, input checks: about 1 ms per tree against ~0.1 ms of tree
building). :func:`fit_predict_proba` grows the same trees with scikit-learn's own tree builder,
criteria, splitters, random streams and leaf updates, skipping the per-tree checks that the
ensemble has already done once. The probabilities are bit-identical to the scikit-learn
estimator's (``tests/test_classifier.py`` compares them on the real folds), so the evaluated
model is the registered one; the gate itself is always fitted by scikit-learn.

It relies on scikit-learn internals (``sklearn.tree._tree``, ``_splitter``, ``_criterion``,
``sklearn.ensemble._gb``), so it is used only on the versions it was checked against
(:data:`CHECKED_SKLEARN`) and only for the settings it reproduces; everything else returns
``None`` and the caller fits the scikit-learn estimator as usual.
"""

from __future__ import annotations

import numpy as np

__all__ = ["CHECKED_SKLEARN", "fast_path_available", "fit_predict_proba"]

#: scikit-learn minor versions whose internals this module reproduces (checked by the tests).
CHECKED_SKLEARN = ("1.9",)

_MAX_INT = np.iinfo(np.int32).max


def fast_path_available() -> bool:
    """True when the installed scikit-learn is one of :data:`CHECKED_SKLEARN`."""
    import sklearn

    return ".".join(sklearn.__version__.split(".")[:2]) in CHECKED_SKLEARN


def fit_predict_proba(pipeline, X_train, y_train, X_test) -> np.ndarray | None:
    """Fit a registry pipeline and return ``P(class 1)`` of ``X_test``, or ``None``.

    Parameters
    ----------
    pipeline
        Unfitted pipeline from :func:`~nasicon_workflows.classifier.models.build_model`.
    X_train, y_train
        Finite training features and 0/1 labels holding both classes.
    X_test
        Finite features to predict.

    Returns
    -------
    numpy.ndarray or None
        The probabilities the scikit-learn pipeline would give, bit for bit; ``None`` when the
        pipeline is not a single supported tree ensemble (fit it normally then).
    """
    steps = getattr(pipeline, "steps", None)
    if not steps or len(steps) != 1 or not fast_path_available():
        return None
    est = steps[0][1]
    y = np.asarray(y_train)
    if set(np.unique(y).tolist()) != {0, 1}:
        return None
    from sklearn.ensemble import (
        ExtraTreesClassifier,
        GradientBoostingClassifier,
        RandomForestClassifier,
    )

    if type(est) in (RandomForestClassifier, ExtraTreesClassifier) and _forest_supported(est):
        return _forest_proba(est, X_train, y, X_test)
    if type(est) is GradientBoostingClassifier and _boosting_supported(est):
        return _boosting_proba(est, X_train, y, X_test)
    return None


def _forest_supported(est) -> bool:
    return (
        est.criterion == "gini"
        and est.max_features == "sqrt"
        and isinstance(est.min_samples_leaf, int)
        and est.min_samples_split == 2
        and est.min_weight_fraction_leaf == 0.0
        and est.max_leaf_nodes is None
        and est.min_impurity_decrease == 0.0
        and est.ccp_alpha == 0.0
        and est.class_weight is None
        and est.max_samples is None
        and est.monotonic_cst is None
        and not est.oob_score
        and not est.warm_start
        and isinstance(est.random_state, int)
        and (est.max_depth is None or isinstance(est.max_depth, int))
    )


def _boosting_supported(est) -> bool:
    return (
        est.loss == "log_loss"
        and est.init is None
        and est.max_features is None
        and est.min_samples_split == 2
        and est.min_samples_leaf == 1
        and est.min_weight_fraction_leaf == 0.0
        and est.max_leaf_nodes is None
        and est.min_impurity_decrease == 0.0
        and est.ccp_alpha == 0.0
        and est.n_iter_no_change is None
        and not est.warm_start
        and isinstance(est.random_state, int)
        and isinstance(est.max_depth, int)
    )


def _forest_proba(est, X_train, y, X_test) -> np.ndarray:
    """RandomForest/ExtraTrees ``fit`` + ``predict_proba`` with n_jobs=1, as scikit-learn 1.9."""
    from sklearn.tree._criterion import Gini
    from sklearn.tree._splitter import BestSplitter, RandomSplitter
    from sklearn.tree._tree import DepthFirstTreeBuilder, Tree

    X = np.ascontiguousarray(X_train, dtype=np.float32)
    Xt = np.ascontiguousarray(X_test, dtype=np.float32)
    n, n_features = X.shape
    # the forest's label encoding; classes are {0, 1} here (checked by the caller)
    y2 = np.ascontiguousarray(np.unique(y, return_inverse=True)[1].reshape(-1, 1), dtype=float)
    n_classes = np.array([2], dtype=np.intp)
    max_features = max(1, int(np.sqrt(n_features)))
    leaf = est.min_samples_leaf
    depth = _MAX_INT if est.max_depth is None else est.max_depth
    splitter_cls = RandomSplitter if est.estimator.splitter == "random" else BestSplitter
    # one RandomState re-seeded per use: the same stream as a fresh RandomState(seed), without
    # its entropy-gathering constructor (the forest draws one int32 seed per tree)
    seeds = np.random.RandomState(est.random_state)
    stream = np.random.RandomState()
    proba = np.zeros((Xt.shape[0], 2))
    for _ in range(est.n_estimators):
        tree_seed = seeds.randint(_MAX_INT)
        weight = None
        if est.bootstrap:
            stream.seed(tree_seed)
            draws = stream.randint(0, n, n).astype(np.int32)
            weight = np.bincount(draws, minlength=n).astype(np.float64)
        stream.seed(tree_seed)
        splitter = splitter_cls(Gini(1, n_classes), max_features, leaf, 0.0, stream, None)
        tree = Tree(n_features, n_classes, 1)
        DepthFirstTreeBuilder(splitter, max(2, 2 * leaf), leaf, 0.0, depth, 0.0).build(
            tree, X, y2, weight, None
        )
        proba += tree.predict(Xt)[:, :2]
    proba /= est.n_estimators
    return proba[:, 1]


def _boosting_proba(est, X_train, y, X_test) -> np.ndarray:
    """GradientBoostingClassifier (binary log-loss) ``fit`` + ``predict_proba``, as 1.9."""
    from sklearn._loss.loss import HalfBinomialLoss
    from sklearn.dummy import DummyClassifier
    from sklearn.ensemble._gb import _init_raw_predictions
    from sklearn.ensemble._gradient_boosting import _random_sample_mask
    from sklearn.tree._criterion import MSE
    from sklearn.tree._splitter import BestSplitter
    from sklearn.tree._tree import DepthFirstTreeBuilder, Tree

    X = np.ascontiguousarray(X_train, dtype=np.float32)
    Xt = np.ascontiguousarray(X_test, dtype=np.float32)
    n, n_features = X.shape
    yf = np.unique(y, return_inverse=True)[1].astype(float)
    sample_weight = np.ones(n, dtype=np.float64)
    loss = HalfBinomialLoss(sample_weight=sample_weight)
    init = DummyClassifier(strategy="prior").fit(X, yf)
    raw = _init_raw_predictions(X, init, loss, True)
    raw_test = _init_raw_predictions(Xt, init, loss, True)
    rng = np.random.RandomState(est.random_state)
    n_inbag = max(1, int(est.subsample * n))
    one_output = np.array([1], dtype=np.intp)
    for _ in range(est.n_estimators):
        mask = np.ones(n, dtype=bool)
        if est.subsample < 1.0:
            mask = _random_sample_mask(n, n_inbag, rng)
        neg_gradient = -loss.gradient(y_true=yf, raw_prediction=raw, sample_weight=None)
        weight = sample_weight * mask.astype(np.float64) if est.subsample < 1.0 else sample_weight
        splitter = BestSplitter(MSE(1, n), n_features, 1, 0.0, rng, None)
        tree = Tree(n_features, one_output, 1)
        DepthFirstTreeBuilder(splitter, 2, 1, 0.0, est.max_depth, 0.0).build(
            tree, X, np.ascontiguousarray(neg_gradient.reshape(-1, 1)), weight, None
        )
        _newton_leaf_update(tree, X, yf, neg_gradient, raw, weight, mask, est.learning_rate)
        raw_test[:, 0] += est.learning_rate * tree.predict(Xt)[:, 0]
    return loss.predict_proba(raw_test.ravel())[:, 1]


def _newton_leaf_update(tree, X, y, neg_gradient, raw, weight, mask, learning_rate) -> None:
    """``sklearn.ensemble._gb._update_terminal_regions`` for the binomial loss, same arithmetic.

    One Newton step per leaf, sum(w (y - p)) / sum(w p (1 - p)) over the in-bag rows of the leaf,
    written with the same numpy reductions as ``np.average`` (so the same bits) but without its
    per-call validation, which was most of the boosting time. Updates ``tree`` and ``raw`` in place.
    """
    from sklearn.tree._tree import TREE_LEAF

    leaf_of_row = tree.apply(X)
    in_bag_leaf = leaf_of_row.copy()
    in_bag_leaf[~mask] = -1
    value = tree.value
    for leaf in np.nonzero(tree.children_left == TREE_LEAF)[0]:
        rows = np.nonzero(in_bag_leaf == leaf)[0]
        neg_g = neg_gradient.take(rows, axis=0)
        prob = y.take(rows, axis=0) - neg_g
        w = weight[rows]
        w_sum = w.sum(dtype=np.float64)
        if w_sum == 0.0:
            raise ZeroDivisionError("Weights sum to zero, can't be normalized")
        numerator = np.multiply(neg_g, w, dtype=np.float64).sum() / w_sum
        denominator = np.multiply(prob * (1 - prob), w, dtype=np.float64).sum() / w_sum
        # scikit-learn's _safe_divide: no step where the hessian vanishes
        value[leaf, 0, 0] = (
            0.0 if abs(denominator) < 1e-150 else float(numerator) / float(denominator)
        )
    raw[:, 0] += learning_rate * value[:, 0, 0].take(leaf_of_row, axis=0)
