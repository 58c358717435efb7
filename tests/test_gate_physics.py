"""Tests of the issue-13 gate: grouped validation, selection rule, uncertainty, kNN domain,
the predicted-E_hull second gate and the CLI options.

Independent references: scikit-learn's own GP predict_proba (for the latent moments), Monte Carlo
sampling (for the probability spread) and hand-built group masks.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from nasicon_workflows.classifier import train_gate
from nasicon_workflows.classifier.evaluation import (
    SELECTION_RULE,
    _selection_score,
    dopant_groups,
    entropy_groups,
    evaluate_models,
    select_default_model,
)
from nasicon_workflows.classifier.features import training_data
from nasicon_workflows.classifier.gate import _sigmoid_spread, gp_latent_moments
from nasicon_workflows.cli import main


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory, monkeypatch):
    root = tmp_path_factory.getbasetemp()
    monkeypatch.setenv("NASICON_WORKFLOWS_CACHE", str(root / "cache"))
    monkeypatch.setenv("NASICON_WORKFLOWS_DATA", str(root / "userdata-default"))


@pytest.fixture(scope="module")
def data():
    return training_data()


@pytest.fixture(scope="module")
def gp_gate():
    return train_gate("gaussian_process_physics", metric_repeats=0)


@pytest.fixture(scope="module")
def small_report():
    # tiny protocol, two fast models: the grouped protocols and the rule, not the numbers
    return evaluate_models(
        ["gnb", "knn"], n_repeats=1, n_random_splits=2, n_importance_repeats=1, n_jobs=1
    )


def test_groups_hold_out_every_row_of_an_element(data):
    frame, _ = data
    groups = dopant_groups(frame)
    assert "Zr" not in groups  # the host is never held out
    for el, mask in groups.items():
        assert mask.any()
        for els, held in zip(frame["elements"], mask):
            assert held == (el in els.split("-"))
    classes = entropy_groups(frame)
    assert set(classes) == {"low", "medium", "high"}
    assert sum(m.sum() for m in classes.values()) == len(frame)


def test_grouped_metrics_and_json_keys(small_report, data):
    frame, y = data
    ev = small_report.models["gnb"]
    n_pred = sum(int(m.sum()) for m in dopant_groups(frame).values())
    assert len(ev.grouped_dopant_predictions) == n_pred
    # pooled accuracy recomputed from the stored out-of-group predictions
    pred = np.asarray(ev.grouped_dopant_predictions)
    acc = np.mean((pred[:, 1] >= 0.5).astype(int) == y[pred[:, 0].astype(int)])
    assert ev.grouped_dopant["accuracy"].mean == pytest.approx(acc)
    assert ev.grouped_dopant_group_accuracy.n == len(ev.grouped_dopant_per_element)
    flat = small_report.flat_metrics()
    for key in (
        "gnb.grouped_dopant.accuracy.mean",
        "gnb.grouped_dopant.accuracy.std",
        "knn.grouped_entropy.roc_auc.mean",
        "gnb.grouped_dopant.group_accuracy.mean",
        "selection_optimism.roc_auc",
    ):
        assert key in flat and np.isfinite(flat[key])


def test_selection_follows_the_written_rule(small_report):
    models = small_report.models
    best = min(models.values(), key=lambda e: e.grouped_dopant["brier"].mean)
    limit = best.grouped_dopant["brier"].mean + best.grouped_dopant["brier"].std
    eligible = [n for n, e in models.items() if e.grouped_dopant["brier"].mean <= limit]
    expected = max(eligible, key=lambda n: _selection_score(models[n]))
    assert select_default_model(models) == expected == small_report.default_model
    assert "leave-one-dopant-element-out" in SELECTION_RULE


def test_gp_latent_moments_match_sklearn_and_monte_carlo(gp_gate, data):
    from scipy.special import erf  # noqa: F401  (sklearn's probit approximation uses it)

    frame, _ = data
    X = frame[gp_gate.features].to_numpy(float)[:10]
    mean, var = gp_latent_moments(gp_gate.pipeline, X)
    # sklearn integrates sigmoid(f) N(f | mean, var) with a probit approximation
    from nasicon_workflows.classifier.gate import _GH_W, _GH_X

    f = mean[:, None] + np.sqrt(var)[:, None] * _GH_X[None, :]
    p_quad = (1 / (1 + np.exp(-f))) @ (_GH_W / _GH_W.sum())
    np.testing.assert_allclose(p_quad, gp_gate.predict_proba(X), atol=0.02)
    rng = np.random.default_rng(0)
    samples = 1 / (1 + np.exp(-(mean[:, None] + np.sqrt(var)[:, None] * rng.standard_normal((10, 200_000)))))
    np.testing.assert_allclose(_sigmoid_spread(mean, var), samples.std(axis=1), atol=2e-3)


def test_uncertainty_grows_away_from_the_data(gp_gate):
    frame = gp_gate.score(["Na3.4Zr1.6Sc0.4Si2PO12", "Na1.8Zr0.4Nb0.4Ta0.4Mo0.4Ga0.4Si2PO12"])
    near, far = frame["probability_std"]
    assert 0 <= near < far <= 0.5


def test_domain_reasons_and_collinear_features(gp_gate):
    frame = gp_gate.score(
        [
            "Na3.4Zr1.9Sc0.1Si2.3P0.7O12",  # Si/P away from Si2P; na collinear with valence and Si
            "Na3.3Zr1.5Ga0.1Sc0.1In0.1Sn0.1Hf0.1Si2PO12",
            "Na3Zr2Si2PO12",
        ]
    )
    # no blow-up through collinear columns: the kNN distance of a one-dopant row stays small
    X = frame[gp_gate.features].to_numpy(float)
    dist, _ = gp_gate.domain.nearest(X)
    assert dist[0] < 2 * gp_gate.domain.knn_threshold
    assert frame["ehull_1000K_meV_per_atom"].notna().all()
    reason = frame["domain_reason"][2]
    assert "entropy_R 0 below training min" in reason
    for r, ok in zip(frame["domain_reason"], frame["in_domain"]):
        assert (r == "") == ok


def test_model_without_ehull_flags_si_it_cannot_see():
    gate = train_gate("gnb", metric_repeats=0)
    frame = gate.score(["Na3.4Zr1.9Sc0.1Si2.3P0.7O12"])
    assert not frame["in_domain"][0]
    assert "cannot read Si/P" in frame["domain_reason"][0]


def test_max_ehull_is_a_second_gate(gp_gate):
    formulas = ["Na3.4Zr1.6Sc0.4Si2PO12", "Na3.5Zr1.5La0.5Si2PO12"]
    free = gp_gate.score(formulas)
    e = free["ehull_1000K_meV_per_atom"].to_numpy()
    cut = float(np.mean(e))
    gated = gp_gate.score(formulas, max_ehull=cut)
    assert gated["ehull_pass"].tolist() == (e <= cut).tolist()
    assert (gated["label"] == (gated["probability"] >= 0.5) & (e <= cut)).all()
    arrays = gp_gate.score_arrays(np.array([[1.6, 0.4, 0.0]]), ["Zr", "Sc", "La"], max_ehull=cut)
    assert arrays["ehull_pass"][0] == gated["ehull_pass"][0]
    np.testing.assert_allclose(arrays["probability"][0], gated["probability"][0], rtol=1e-10)


def test_classify_json_rows_carry_uncertainty_and_stability(capsys):
    rc = main(["classify", "Na3.4Zr1.6Sc0.4Si2PO12", "--model", "gnb", "--json", "--max-ehull", "50"])
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    row = out["rows"][0]
    assert 0 <= row["probability_std"] <= 0.5
    assert isinstance(row["ehull_1000K_meV_per_atom"], float)
    assert out["max_ehull_meV_per_atom"] == 50


def test_na_above_four_is_one_error_line(capsys):
    assert main(["classify", "Na4.2Zr1.8Y0.2Si3O12", "--model", "gnb"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "4 Na sites" in err and err.count("\n") == 1
