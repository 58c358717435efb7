"""add-outcomes with measured transport columns: unit checks, merging, and the two fixed errors
(a row with more fields than the header, a folder given as the file)."""

from __future__ import annotations

import pytest

from nasicon_workflows.classifier import OutcomeFileError, OutcomeValidationError
from nasicon_workflows.classifier.outcomes import (
    add_outcomes,
    load_measured_transport,
    load_user_dataset,
    read_outcomes_csv,
)
from nasicon_workflows.cli import main

HEAD = "composition,outcome,source,sigma_total_S_cm,temperature_K,Ea_eV\n"


def _csv(tmp_path, text, name="m.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_measured_columns_merge_and_survive_later_merges(tmp_path):
    first = _csv(tmp_path, HEAD + "Na3.2Zr1.8In0.2Si2PO12,synthesizable,lab 1,9.62e-4,298.15,0.31\n"
                 "Na3.3Zr1.7Y0.3Si2PO12,synthesizable,lab 2,,,0.35\n")
    result = add_outcomes(first, tmp_path / "u", retrain=False)
    assert result.n_measured_rows == 2
    plain = _csv(tmp_path, "composition,outcome,source\nZr1.4Ti0.2Sn0.2Hf0.2Si2PO12,no,lab 3\n",
                 "p.csv")
    add_outcomes(plain, tmp_path / "u", retrain=False)
    user = load_user_dataset(tmp_path / "u")
    assert len(user) == 3 and "sigma_total_S_cm" in user.columns
    measured = load_measured_transport(tmp_path / "u")
    assert list(measured["composition"]) == ["Na3.2Zr1.8In0.2Si2PO12", "Na3.3Zr1.7Y0.3Si2PO12"]
    assert measured["Ea_eV"].tolist() == [0.31, 0.35]
    assert measured["sigma_total_S_cm"].iloc[0] == 9.62e-4


def test_measured_vs_predicted_from_the_user_dataset(tmp_path):
    from nasicon_workflows.eis import measured_vs_predicted

    rows = ["Na3.2Zr1.8In0.2Si2PO12,synthesizable,a,1e-4,298.15,0.30",
            "Na3.3Zr1.7Y0.3Si2PO12,synthesizable,b,2e-4,298.15,0.28",
            "Na3.4Zr1.6Sc0.4Si2PO12,synthesizable,c,5e-5,373.15,0.36",
            "Na3.1Zr1.9Lu0.1Si2PO12,synthesizable,d,,,0.40"]
    add_outcomes(_csv(tmp_path, HEAD + "\n".join(rows) + "\n"), tmp_path / "u", retrain=False)
    barriers = {"Na3.2In0.2Zr1.8Si2PO12": 0.45, "Na3.3Y0.3Zr1.7Si2PO12": 0.40,
                "Na3.4Sc0.4Zr1.6Si2PO12": 0.52, "Na3.1Lu0.1Zr1.9Si2PO12": 0.60}
    ea = measured_vs_predicted(barriers, "Ea_eV", "E_3D_eV", data_dir=tmp_path / "u")
    assert ea.status == "ok" and ea.n == 4 and ea.rho == pytest.approx(1.0)
    sigma = measured_vs_predicted(barriers, "sigma_total_S_cm", "E_3D_eV",
                                  data_dir=tmp_path / "u", temperature_K=298.15)
    assert sigma.status == "too few" and sigma.n == 2  # the 373 K row is not mixed in


def test_known_composition_is_accepted_as_a_measurement_only(tmp_path, capsys):
    # Na3.4Zr1.6Sc0.4Si2PO12 is in the shipped Tables S1/S2 (synthesizable): with a measured
    # value it is kept as a measurement, the training data and model version do not change.
    path = _csv(tmp_path, HEAD + "Na3.4Zr1.6Sc0.4Si2PO12,synthesizable,lab,5e-5,373.15,0.36\n")
    assert main(["add-outcomes", str(path), "--data-dir", str(tmp_path / "u"), "--json"]) == 0
    import json

    result = json.loads(capsys.readouterr().out)
    assert (result["n_added"], result["n_measurements_only"], result["version"]) == (0, 1, 0)
    assert result["n_training_rows"] == 58 and result["model_path"] is None
    measured = load_measured_transport(tmp_path / "u")
    assert measured["Ea_eV"].tolist() == [0.36]
    # the same row without a measurement is still a repeat, and a contradicting label an error
    plain = _csv(tmp_path, "composition,outcome,source\nNa3.4Zr1.6Sc0.4Si2PO12,yes,lab\n", "p.csv")
    with pytest.raises(OutcomeValidationError, match="only with measured values"):
        add_outcomes(plain, tmp_path / "u", retrain=False)


@pytest.mark.parametrize(("row", "message"), [
    ("9.62e-1,298.15,0.31", "sigma_total_S_cm = 0.962 S/cm is outside"),  # fine: < 1 S/cm
    ("2.5,298.15,0.31", "(mS/cm or S/m given?)"),
    ("1e-3,25,0.31", "was 25 °C = 298.15 K meant?"),
    ("1e-3,298.15,30", "(kJ/mol or meV given?)"),
    ("1e-3,,0.31", "needs its temperature_K"),
    ("abc,298.15,0.31", "'abc' is not a number"),
    ("-1e-3,298.15,0.31", "outside (0, 1]"),
])
def test_measured_values_are_unit_checked(tmp_path, row, message):
    path = _csv(tmp_path, HEAD + f"Na3.2Zr1.8In0.2Si2PO12,synthesizable,lab,{row}\n")
    if message.startswith("sigma_total_S_cm = 0.962"):
        assert read_outcomes_csv(path)["sigma_total_S_cm"].iloc[0] == 0.962
        return
    with pytest.raises(OutcomeValidationError, match="line 2") as info:
        add_outcomes(path, tmp_path / "u", retrain=False)
    assert message in str(info.value)
    assert not (tmp_path / "u" / "outcomes.csv").exists()


@pytest.mark.parametrize("column", ["sigma_total_mS_cm", "temperature_C", "Ea_kJ_mol",
                                    "sigma_total_S_m", "conductivity"])
def test_columns_in_other_units_are_refused(tmp_path, column):
    path = _csv(tmp_path, f"composition,outcome,source,{column}\n"
                "Na3.2Zr1.8In0.2Si2PO12,synthesizable,lab,1\n")
    with pytest.raises(OutcomeFileError, match="not in the expected unit"):
        read_outcomes_csv(path)


def test_extra_fields_and_folder_give_one_clear_error(tmp_path, capsys):
    extra = _csv(tmp_path, "composition,outcome,source\n"
                 "Na3.2Zr1.8In0.2Si2PO12,synthesizable,Smith, lab book 3\n")
    with pytest.raises(OutcomeFileError, match="header has 3 fields but line 2 has 4"):
        read_outcomes_csv(extra)
    assert main(["add-outcomes", str(extra), "--data-dir", str(tmp_path / "u")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and "quote fields" in err[0]
    assert main(["add-outcomes", str(tmp_path), "--data-dir", str(tmp_path / "u")]) == 2
    err = capsys.readouterr().err.strip()
    assert "is a folder" in err and "does not exist" not in err
    # a row with fewer fields than the header leaves its trailing columns empty
    short = _csv(tmp_path, HEAD + "Na3.2Zr1.8In0.2Si2PO12,synthesizable,lab\n", "short.csv")
    assert read_outcomes_csv(short)["sigma_total_S_cm"].isna().all()
