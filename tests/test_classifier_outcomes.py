"""Tests of the closed loop: outcome CSV validation, merging, retraining and model versions."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nasicon_workflows.classifier import (
    OutcomeConflictError,
    OutcomeFileError,
    OutcomeValidationError,
)
from nasicon_workflows.classifier.outcomes import (
    add_outcomes,
    combined_dataset,
    load_user_gate,
    read_dataset_csv,
    read_outcomes_csv,
)
from nasicon_workflows.cli import main
from nasicon_workflows.datasets import dataset_sha256


def _csv(tmp_path, text, name="new.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


GOOD = """composition,outcome,source
Na3.2Zr1.8In0.2Si2PO12,synthesizable,lab book 12 p. 3
Zr1.4Ti0.2Sn0.2Hf0.2Si2PO12,non-synthesizable,lab book 12 p. 4
"""


def test_add_outcomes_merges_retrains_and_versions(tmp_path):
    before = dataset_sha256()
    data_dir = tmp_path / "user"
    result = add_outcomes(_csv(tmp_path, GOOD), data_dir, model="gnb")
    assert (result.n_added, result.n_user_rows, result.n_training_rows, result.version) == (
        2,
        2,
        60,
        1,
    )
    meta = json.loads((data_dir / "models" / "gnb-v1.json").read_text())
    assert meta["n_training_rows"] == 60 and meta["training_data_label"] == "user v1"
    assert meta["version"] == 1
    gate = load_user_gate("gnb", data_dir=data_dir)
    assert gate.metadata.n_training_rows == 60

    more = _csv(
        tmp_path, "composition,outcome,source\nNa3.3Zr1.7Y0.3Si2PO12,yes,DOI 10.1/x\n", "b.csv"
    )
    second = add_outcomes(more, data_dir, model="gnb")
    assert (second.version, second.n_user_rows, second.n_training_rows) == (2, 3, 61)
    assert load_user_gate("gnb", data_dir=data_dir).metadata.version == 2
    assert load_user_gate("gnb", version=1, data_dir=data_dir).metadata.n_training_rows == 60
    # the merged data change the model: the in-domain probability of the new rows moves
    assert dataset_sha256() == before  # shipped data untouched
    assert len(combined_dataset(data_dir)) == 61


def test_retrained_model_learns_new_label(tmp_path):
    # Nine distinct In-doped rows labelled non-synthesizable surround the probe in feature space:
    # a retrained 5-nearest-neighbour model must now call it non-synthesizable.
    rows = [
        f"Na{3 + a / 10:.1f}Zr{2 - a / 10:.1f}In{a / 10:.1f}Si2PO12,non-synthesizable,test"
        for a in range(1, 10)
    ]
    path = _csv(tmp_path, "composition,outcome,source\n" + "\n".join(rows) + "\n")
    from nasicon_workflows.classifier.gate import train_gate

    probe = ["Na3.45Zr1.55In0.45Si2PO12"]
    p_before = train_gate("knn", metric_repeats=0).score(probe)["probability"][0]
    add_outcomes(path, tmp_path / "u", model="knn")
    p_after = load_user_gate("knn", data_dir=tmp_path / "u").score(probe)["probability"][0]
    assert p_before > 0.5 > p_after


@pytest.mark.parametrize(
    ("text", "error", "message"),
    [
        (
            "composition,result\nNa3Zr2Si2PO12,synthesizable\n",
            OutcomeFileError,
            "lacks the column(s) ['outcome', 'source']",
        ),
        ("composition,outcome,source\n", OutcomeFileError, "no rows"),
        (
            "composition,outcome,source\nNa3.2Zr1.8In0.2Si2PO12,synthesizable,a\n"
            "Na3Zr1.8In0.2Si2PO12,synthesizable,b\n",
            OutcomeValidationError,
            "line 3: ChargeBalanceError",
        ),
        (
            "composition,outcome,source\nNa3.2Zr1.8In0.2Si2PO12,maybe,a\n",
            OutcomeValidationError,
            "line 2: outcome 'maybe'",
        ),
        (
            "composition,outcome,source\nNa3.2Zr1.8In0.2Si2PO12,synthesizable,\n",
            OutcomeValidationError,
            "line 2: empty source",
        ),
        (
            "composition,outcome,source\nNa3.2Zr1.8In0.2Si2PO12,synthesizable,a\n"
            "Na3.2In0.2Zr1.8Si2PO12,synthesizable,b\n",
            OutcomeValidationError,
            "lines 2, 3: Na3.2Zr1.8In0.2Si2PO12 appears 2 times",
        ),
        (
            "composition,outcome,source\nNa3.2Zr1.8In0.2Si2PO12,synthesizable,a\n"
            "Na3.2In0.2Zr1.8Si2PO12,non-synthesizable,b\n",
            OutcomeConflictError,
            "lines 2, 3: Na3.2Zr1.8In0.2Si2PO12 is labelled both",
        ),
        (
            "composition,outcome,source\nXx2Si2PO12,synthesizable,a\n",
            OutcomeValidationError,
            "line 2: UnknownElementError",
        ),
    ],
)
def test_invalid_outcome_files(tmp_path, text, error, message):
    with pytest.raises(error) as info:
        add_outcomes(_csv(tmp_path, text), tmp_path / "u", model="gnb")
    assert message in str(info.value)
    assert not (tmp_path / "u" / "outcomes.csv").exists()  # nothing merged


def test_conflict_and_repeat_with_shipped_data(tmp_path):
    # Table S1 row 13: Na3.5Zr1.5Lu0.5Si2PO12 is synthesizable
    conflict = "composition,outcome,source\nNa3.5Lu0.5Zr1.5Si2PO12,non-synthesizable,me\n"
    with pytest.raises(OutcomeConflictError, match="line 2: .* already in the data .*Zuo et al"):
        add_outcomes(_csv(tmp_path, conflict), tmp_path / "u", model="gnb")
    repeat = "composition,outcome,source\nNa3.5Lu0.5Zr1.5Si2PO12,synthesizable,me\n"
    with pytest.raises(OutcomeValidationError, match="repeats compositions already in the data"):
        add_outcomes(_csv(tmp_path, repeat), tmp_path / "u", model="gnb")


def test_missing_file_and_dataset_csv(tmp_path):
    with pytest.raises(OutcomeFileError, match="does not exist"):
        read_outcomes_csv(tmp_path / "none.csv")
    frame = read_dataset_csv(
        _csv(
            tmp_path,
            "composition,outcome\nNa3.2Zr1.8In0.2Si2PO12,1\nZr1.4Ti0.2Sn0.2Hf0.2Si2PO12,0\n",
        )
    )
    assert frame["synthesizable"].tolist() == [True, False]
    with pytest.raises(OutcomeValidationError, match="one class only"):
        read_dataset_csv(_csv(tmp_path, "composition,outcome\nNa3.2Zr1.8In0.2Si2PO12,1\n", "c.csv"))


def test_add_outcomes_cli(tmp_path, capsys):
    rc = main(
        [
            "add-outcomes",
            str(_csv(tmp_path, GOOD)),
            "--data-dir",
            str(tmp_path / "u"),
            "--model",
            "gnb",
            "--json",
        ]
    )
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert out["version"] == 1 and out["n_added"] == 2
    assert np.isfinite(out["metrics"]["cv1x10.accuracy.mean"])
    bad = _csv(
        tmp_path,
        "composition,outcome,source\nNa3Zr2Si2PO12,synthesizable,x\n"
        "Na3Zr2Si2PO12,non-synthesizable,y\n",
        "bad.csv",
    )
    assert main(["add-outcomes", str(bad), "--data-dir", str(tmp_path / "u")]) == 2
    assert "labelled both" in capsys.readouterr().err
    rc = main(
        [
            "classify",
            "Na3.2Zr1.8In0.2Si2PO12",
            "--user-model",
            "--model",
            "gnb",
            "--data-dir",
            str(tmp_path / "u"),
            "--json",
        ]
    )
    assert rc == 0
    assert json.loads(capsys.readouterr().out)["training_data"] == "user v1"
