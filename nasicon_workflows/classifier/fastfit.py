"""Bit-identical, faster fits of the registry's ensembles for the evaluation protocols.

The evaluation refits every model several hundred times on ~50 rows. For random forests, extra
trees and gradient boosting almost all of that time is scikit-learn's per-tree Python overhead
(cloning, parameter validation, input checks: about 1 ms per tree against ~0.1 ms of tree
building). :func:`fit_predict_proba` grows the same trees with scikit-learn's own tree builder,
criteria, splitters, random streams and leaf updates, skipping the per-tree checks that the
ensemble has already done once. The sigmoid-calibrated models (``CalibratedClassifierCV`` around
logistic regression, Gaussian naive Bayes or an SVC) spend most of their time in input checks
and the joblib dispatch of the calibration folds (about 75 % of a fit under cProfile, against
25 % in the two L-BFGS optimisations that are the actual fit); their fast path makes the same
splits, the same scipy L-BFGS-B calls on the same loss functions and the same sigmoid fits.
The Gaussian-process classifier (binary Laplace, constant x isotropic RBF kernel) spends about
half of its time in kernel-object bookkeeping and in scipy's argument checks around 52 x 52
Cholesky factorisations; its fast path runs scikit-learn's algorithm line by line (Rasmussen &
Williams Algorithms 3.1, 3.2 and 5.1, as ``sklearn.gaussian_process._gpc``) with the same LAPACK
routines and the same optimiser calls. The probabilities are bit-identical to the scikit-learn
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
    if not steps or not fast_path_available():
        return None
    y = np.asarray(y_train)
    if set(np.unique(y).tolist()) != {0, 1}:
        return None
    from sklearn.preprocessing import StandardScaler

    if len(steps) == 2 and type(steps[0][1]) is StandardScaler:
        # the scaler is fitted by scikit-learn itself; only the calibrated step has a fast path
        final = steps[1][1]
        if _calibrated_supported(final):
            proba = _calibrated_proba
        elif _gpc_supported(final):
            proba = _gpc_proba
        else:
            return None
        scaler = steps[0][1].fit(X_train)
        return proba(final, scaler.transform(X_train), y, scaler.transform(X_test))
    if len(steps) != 1:
        return None
    est = steps[0][1]
    if _calibrated_supported(est):
        return _calibrated_proba(est, X_train, y, X_test)
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


def _calibrated_supported(est) -> bool:
    """A ``CalibratedClassifierCV`` (sigmoid, integer folds) around a base this module fits."""
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import GaussianNB
    from sklearn.svm import SVC

    if type(est) is not CalibratedClassifierCV:
        return False
    base = est.estimator
    if not (
        est.method == "sigmoid"
        and isinstance(est.cv, int)
        and est.ensemble in (True, False, "auto")
        and est.n_jobs is None
    ):
        return False
    if type(base) is LogisticRegression:
        return _logreg_supported(base)
    return type(base) in (GaussianNB, SVC)


def _logreg_supported(lr) -> bool:
    return (
        lr.solver == "lbfgs"
        and lr.penalty in ("deprecated", "l2")
        and lr.l1_ratio in (None, 0.0)
        and lr.fit_intercept
        and lr.class_weight is None
        and not lr.warm_start
        and lr.verbose == 0
        and np.isfinite(lr.C)
    )


def _calibrated_proba(est, X_train, y, X_test) -> np.ndarray | None:
    """``CalibratedClassifierCV(method="sigmoid", cv=k)`` fit + ``predict_proba``, as 1.9.

    ``ensemble=True``: per stratified fold a base fit on the other folds and a sigmoid fitted to
    its decision values on the fold; probabilities averaged over the folds. ``ensemble=False``:
    the sigmoid is fitted to out-of-fold decision values and applied to one base fit on all rows.
    """
    from sklearn.model_selection import StratifiedKFold

    X = np.asarray(X_train, dtype=np.float64)
    Xt = np.asarray(X_test, dtype=np.float64)
    k = est.cv
    if np.bincount(y.astype(int), minlength=2).min() < k:
        return None  # scikit-learn raises its own error for this; let it
    folds = list(StratifiedKFold(n_splits=k).split(X, y))
    base = est.estimator
    if est.ensemble is False:
        pieces = [(test, _base_decision(base, X[train], y[train], X[test]))
                  for train, test in folds]
        # cross_val_predict's concatenate-then-reorder, which places each value at its row
        order = np.concatenate([t for t, _ in pieces])
        values = np.concatenate([v for _, v in pieces])
        oof = np.empty_like(values)
        oof[order] = values
        a, b = _sigmoid_fit(oof, y)
        return _clip_one(_sigmoid_predict(a, b, _base_decision(base, X, y, Xt)))
    total = np.zeros(len(Xt))
    for train, test in folds:
        decision_fold, decision_new = _base_decision(base, X[train], y[train], X[test], Xt)
        a, b = _sigmoid_fit(decision_fold, y[test])
        total += _clip_one(_sigmoid_predict(a, b, decision_new))
    total /= len(folds)
    return total


def _clip_one(p: np.ndarray) -> np.ndarray:
    """``1 - p`` and ``p`` as scikit-learn's two columns, with its clip of (1, 1 + 1e-5] to 1."""
    p = p.copy()
    p[(1.0 < p) & (p <= 1.0 + 1e-5)] = 1.0
    return p


def _base_decision(base, X, y, *X_predict):
    """Fit a clone of ``base`` on (X, y); its decision values (P(1) for GNB) on each X_predict."""
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression
    from sklearn.naive_bayes import GaussianNB

    if type(base) is LogisticRegression:
        coef, intercept = _logreg_fit(base, X, y)
        out = []
        for Xp in X_predict:
            scores = Xp @ coef.T + intercept  # LinearClassifierMixin.decision_function
            out.append(scores.reshape(-1))
    elif type(base) is GaussianNB and base.priors is None:
        out = [_gnb_positive_proba(base.var_smoothing, X, y, Xp) for Xp in X_predict]
    else:
        model = clone(base).fit(X, y)
        if hasattr(model, "decision_function"):
            out = [model.decision_function(Xp) for Xp in X_predict]
        else:
            out = [model.predict_proba(Xp)[:, 1] for Xp in X_predict]
    return out[0] if len(out) == 1 else tuple(out)


def _gnb_positive_proba(var_smoothing, X, y, X_predict) -> np.ndarray:
    """``GaussianNB(var_smoothing).fit(X, y).predict_proba(X_predict)[:, 1]``, same operations."""
    from sklearn.utils._array_api import _logsumexp

    X = np.asarray(X, dtype=np.float64)
    classes = np.unique(y)
    epsilon = var_smoothing * np.max(np.var(X, axis=0))
    theta = np.zeros((classes.shape[0], X.shape[1]))
    var = np.zeros((classes.shape[0], X.shape[1]))
    count = np.zeros(classes.shape[0])
    for i, label in enumerate(classes):  # _partial_fit on a first call: no past to combine
        X_i = X[y == label]
        theta[i, :] = np.mean(X_i, axis=0)
        var[i, :] = np.var(X_i, axis=0)
        count[i] += X_i.shape[0]
    var[:, :] += epsilon
    prior = count / np.sum(count)
    jll = []
    for i in range(classes.shape[0]):  # _joint_log_likelihood
        n_ij = -0.5 * np.sum(np.log(2.0 * np.pi * var[i, :]))
        n_ij = n_ij - 0.5 * np.sum(((X_predict - theta[i, :]) ** 2) / (var[i, :]), axis=1)
        jll.append(np.log(prior[i]) + n_ij)
    jll = np.stack(jll).T
    log_proba = jll - np.atleast_2d(_logsumexp(jll, axis=1)).T
    return np.exp(log_proba)[:, 1]


def _logreg_fit(lr, X, y):
    """Binary ``LogisticRegression(solver="lbfgs")`` coefficients, as scikit-learn computes them."""
    from scipy import optimize
    from sklearn._loss.loss import HalfBinomialLoss
    from sklearn.linear_model._linear_loss import LinearModelLoss
    from sklearn.utils.fixes import _get_additional_lbfgs_options_dict

    X = np.ascontiguousarray(X, dtype=np.float64)
    n, n_features = X.shape
    w0 = np.zeros(n_features + 1, dtype=np.float64)
    target = np.ones(y.shape, dtype=np.float64)
    target[~(y == 1)] = 0.0
    loss = LinearModelLoss(base_loss=HalfBinomialLoss(), fit_intercept=True)
    res = optimize.minimize(
        loss.loss_gradient,
        w0,
        method="L-BFGS-B",
        jac=True,
        args=(X, target, None, 1.0 / (lr.C * n), 1),
        options={
            "maxiter": lr.max_iter,
            "maxls": 50,
            "gtol": lr.tol,
            "ftol": 64 * np.finfo(float).eps,
            **_get_additional_lbfgs_options_dict("iprint", -1),
        },
    )
    w = np.stack([np.asarray(res.x.copy(order="K"), dtype=np.float64)])[0, ...]
    return w[:-1][None, :], w[-1:]


def _sigmoid_fit(decision, y):
    """``sklearn.calibration._sigmoid_calibration`` (Platt 2000, with scikit-learn's priors)."""
    from math import log

    from scipy.optimize import minimize
    from sklearn._loss.loss import HalfBinomialLoss

    predictions = np.ascontiguousarray(np.reshape(decision, (-1,)))
    yb = np.ascontiguousarray((np.asarray(y) == 1).astype(int))  # label_binarize, positive column
    F = predictions
    scale = 1.0
    max_prediction = np.max(np.abs(F))
    if max_prediction >= 30:
        scale = max_prediction
        F = F / scale
    negative = yb <= 0
    prior0 = float(np.sum(negative))
    prior1 = yb.shape[0] - prior0
    T = np.zeros_like(yb, dtype=predictions.dtype)
    T[yb > 0] = (prior1 + 1.0) / (prior1 + 2.0)
    T[yb <= 0] = 1.0 / (prior0 + 2.0)
    bin_loss = HalfBinomialLoss()

    def loss_grad(AB):
        raw = -(AB[0] * F + AB[1]).astype(dtype=predictions.dtype)
        loss, grad = bin_loss.loss_gradient(y_true=T, raw_prediction=raw, sample_weight=None)
        return loss.sum(), np.asarray([-grad @ F, -grad.sum()], dtype=np.float64)

    AB0 = np.array([0.0, log((prior0 + 1.0) / (prior1 + 1.0))])
    res = minimize(
        loss_grad, AB0, method="L-BFGS-B", jac=True,
        options={"gtol": 1e-6, "ftol": 64 * np.finfo(float).eps},
    )
    return res.x[0] / scale, res.x[1]


def _sigmoid_predict(a, b, decision) -> np.ndarray:
    from scipy.special import expit

    return expit(-(a * np.ascontiguousarray(np.reshape(decision, (-1,))) + b))


def _gpc_supported(est) -> bool:
    """A binary ``GaussianProcessClassifier`` with a ConstantKernel * isotropic RBF kernel."""
    from sklearn.gaussian_process import GaussianProcessClassifier
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, Product

    if type(est) is not GaussianProcessClassifier:
        return False
    kernel = est.kernel
    return (
        type(kernel) is Product
        and type(kernel.k1) is ConstantKernel
        and type(kernel.k2) is RBF
        and np.ndim(kernel.k2.length_scale) == 0
        and kernel.k1.constant_value_bounds != "fixed"
        and kernel.k2.length_scale_bounds != "fixed"
        and est.optimizer == "fmin_l_bfgs_b"
        and est.n_restarts_optimizer == 0
        and not est.warm_start
        and est.copy_X_train
    )


class _LaplaceGPC:
    """``_BinaryGaussianProcessClassifierLaplace`` for C * RBF, the same operations in order."""

    def __init__(self, max_iter_predict: int):
        from scipy.linalg import get_lapack_funcs

        self.max_iter = max_iter_predict
        probe = np.zeros((1, 1))
        self.potrf, self.potrs = get_lapack_funcs(("potrf", "potrs"), (probe,))

    def cholesky(self, a):
        c, info = self.potrf(a, lower=True, overwrite_a=False, clean=True)
        if info != 0:
            from numpy.linalg import LinAlgError

            raise LinAlgError(f"{info}-th leading minor of the array is not positive definite")
        return c

    def cho_solve(self, c, b):
        x, info = self.potrs(c, b, lower=True, overwrite_b=False)
        if info != 0:
            raise ValueError(f"illegal value in {-info}th argument of internal potrs")
        return x

    @staticmethod
    def params(theta):
        # Product.theta -> k1.theta = theta[:1], k2.theta = theta[1:]; each exp(theta[i])
        constant = np.exp(theta[0])
        length_scale = np.squeeze(np.exp(theta[1])).astype(float)  # _check_length_scale
        return constant, length_scale

    @staticmethod
    def kernel(X, constant, length_scale, eval_gradient=False):
        from scipy.spatial.distance import pdist, squareform

        X = np.atleast_2d(X)
        n = X.shape[0]
        dtype = np.array(constant).dtype
        K1 = np.full((n, n), constant, dtype=dtype)
        dists = pdist(X / length_scale, metric="sqeuclidean")
        K2 = np.exp(-0.5 * dists)
        K2 = squareform(K2)
        np.fill_diagonal(K2, 1)
        if not eval_gradient:
            return K1 * K2
        K1_gradient = np.full((n, n, 1), constant, dtype=dtype)
        K2_gradient = (K2 * squareform(dists))[:, :, np.newaxis]
        return K1 * K2, np.dstack(
            (K1_gradient * K2[:, :, np.newaxis], K2_gradient * K1[:, :, np.newaxis])
        )

    def posterior_mode(self, K, y):
        from scipy.special import expit

        f = np.zeros_like(y, dtype=np.float64)
        log_marginal_likelihood = -np.inf
        for _ in range(self.max_iter):
            pi = expit(f)
            W = pi * (1 - pi)
            W_sr = np.sqrt(W)
            W_sr_K = W_sr[:, np.newaxis] * K
            B = np.eye(W.shape[0]) + W_sr_K * W_sr
            L = self.cholesky(B)
            b = W * f + (y - pi)
            a = b - W_sr * self.cho_solve(L, W_sr_K.dot(b))
            f = K.dot(a)
            lml = (
                -0.5 * a.T.dot(f)
                - np.log1p(np.exp(-(y * 2 - 1) * f)).sum()
                - np.log(np.diag(L)).sum()
            )
            if lml - log_marginal_likelihood < 1e-10:
                break
            log_marginal_likelihood = lml
        return log_marginal_likelihood, (pi, W_sr, L, b, a)

    def neg_lml_and_gradient(self, theta, X, y):
        from scipy.linalg import solve

        K, K_gradient = self.kernel(X, *self.params(theta), eval_gradient=True)
        Z, (pi, W_sr, L, b, a) = self.posterior_mode(K, y)
        d_Z = np.empty(theta.shape[0])
        R = W_sr[:, np.newaxis] * self.cho_solve(L, np.diag(W_sr))
        C = solve(L, W_sr[:, np.newaxis] * K)
        s_2 = -0.5 * (np.diag(K) - np.einsum("ij, ij -> j", C, C)) * (pi * (1 - pi) * (1 - 2 * pi))
        for j in range(d_Z.shape[0]):
            C = K_gradient[:, :, j]
            s_1 = 0.5 * a.T.dot(C).dot(a) - 0.5 * R.T.ravel().dot(C.ravel())
            b = C.dot(y - pi)
            s_3 = b - K.dot(R.dot(b))
            d_Z[j] = s_1 + s_2.T.dot(s_3)
        return -Z, -d_Z


def _gpc_proba(est, X_train, y, X_test) -> np.ndarray:
    """``GaussianProcessClassifier.fit`` + ``predict_proba`` (binary, Laplace), as 1.9."""
    import scipy.optimize
    from scipy.linalg import solve
    from scipy.spatial.distance import cdist
    from scipy.special import erf
    from sklearn.base import clone
    from sklearn.gaussian_process._gpc import COEFS, LAMBDAS

    kernel = clone(est.kernel)  # only for the initial theta and the log bounds
    X = np.copy(np.asarray(X_train, dtype=np.float64))
    Xt = np.asarray(X_test, dtype=np.float64)
    yt = np.unique(y, return_inverse=True)[1]
    gp = _LaplaceGPC(est.max_iter_predict)
    res = scipy.optimize.minimize(
        gp.neg_lml_and_gradient, kernel.theta, args=(X, yt), method="L-BFGS-B", jac=True,
        bounds=kernel.bounds,
    )
    constant, length_scale = gp.params(res.x)
    K = gp.kernel(X, constant, length_scale)
    _, (pi, W_sr, L, _, _) = gp.posterior_mode(K, yt)
    # latent_mean_and_variance (Algorithm 3.2) with k(X, X*) = C * exp(-0.5 d^2 / l^2)
    dtype = np.array(constant).dtype
    K_star = np.full((X.shape[0], Xt.shape[0]), constant, dtype=dtype) * np.exp(
        -0.5 * cdist(X / length_scale, Xt / length_scale, metric="sqeuclidean")
    )
    latent_mean = K_star.T.dot(yt - pi)
    v = solve(L, W_sr[:, np.newaxis] * K_star)
    diag = np.full(Xt.shape[0], constant, dtype=dtype) * np.ones(Xt.shape[0])
    latent_var = diag - np.einsum("ij,ij->j", v, v)
    alpha = 1 / (2 * latent_var)
    gamma = LAMBDAS * latent_mean
    integrals = (
        np.sqrt(np.pi / alpha)
        * erf(gamma * np.sqrt(alpha / (alpha + LAMBDAS**2)))
        / (2 * np.sqrt(latent_var * 2 * np.pi))
    )
    return (COEFS * integrals).sum(axis=0) + 0.5 * COEFS.sum()

