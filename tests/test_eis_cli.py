"""The ``eis`` command end to end, every bad input (exit 2, one ``error:`` line,
nothing written), and the loop eis --json -> add-outcomes -> retrained gate."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from eis_synthetic import arrhenius_set, synthetic  # noqa: E402

from nasicon_workflows.cli import main


def _write(path: Path, f, z, header="freq,Z_real,Z_imag") -> Path:
    path.write_text(header + "\n" + "\n".join(
        f"{a:.15g},{b:.15g},{c:.15g}" for a, b, c in zip(f, z.real, z.imag)) + "\n")
    return path


def _one_error_line(capsys) -> str:
    captured = capsys.readouterr()
    lines = [ln for ln in captured.err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert "Traceback" not in captured.err
    return lines[0]


def test_eis_single_spectrum_json_plots_and_row(tmp_path, capsys):
    f, z = synthetic("bulk-gb-electrode", 0.01, 2)
    spec = _write(tmp_path / "pellet.csv", f, z)
    out = tmp_path / "out"
    rc = main(["eis", str(spec), "--thickness-cm", "0.1", "--diameter-cm", "1.0",
               "--temperature-K", "298.15", "--json", "--out", str(out),
               "--composition", "Na3.2Zr1.8In0.2Si2PO12", "--outcome", "synthesizable",
               "--source", "lab book 7 p. 2"])
    assert rc == 0
    doc = json.loads(capsys.readouterr().out)
    s = doc["spectra"][0]
    for key in ("sigma_bulk_S_cm", "sigma_gb_S_cm", "sigma_total_S_cm"):
        assert s[key] > 0 and 0 < s[key.replace("_S_cm", "_uncertainty_S_cm")] < 0.1 * s[key]
    assert s["sigma_total_S_cm"] == pytest.approx(0.1 / (3e4 * np.pi / 4), rel=0.02)
    assert {e["name"] for e in s["elements"]} >= {"R0", "CPE0_0", "CPE0_1", "R1", "CPE2_1"}
    assert s["fit_quality"]["kk_M"] >= 1 and s["fit_quality"]["chi2_reduced"] < 1e-4
    assert any("sign convention" in n for n in s["reader_notes"])
    names = sorted(p.name for p in out.iterdir())
    assert names == ["eis.json", "outcome_row.csv", "pellet_bode.png", "pellet_nyquist.png"]
    assert doc["outcome_row"]["temperature_K"] == 298.15


def test_eis_arrhenius_mode_and_sigma_table(tmp_path, capsys):
    files, temps = [], []
    for t, f, z, _ in arrhenius_set(0.35, (273.15, 323.15, 373.15)):
        files.append(str(_write(tmp_path / f"T{t:.0f}.csv", f, z)))
        temps.append(f"{t}")
    rc = main(["eis", *files, "--thickness-cm", "0.1", "--diameter-cm", "1", "--temperature-K",
               *temps, "--out", str(tmp_path / "o")])
    assert rc == 0
    text = capsys.readouterr().out
    assert "Arrhenius sigma_total" in text and "Ea = 0.350" in text
    assert (tmp_path / "o" / "arrhenius.png").is_file()
    table = tmp_path / "sigma.csv"
    t = np.array([300.0, 325.0, 350.0, 375.0])
    sigma = 2e4 / t * np.exp(-0.30 / (8.617333262e-5 * t))
    table.write_text("temperature_K,sigma_total_S_cm\n" + "\n".join(
        f"{a},{b:.8g}" for a, b in zip(t, sigma)) + "\n")
    assert main(["eis", "--sigma-table", str(table), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["arrhenius"]["sigma_total"]["Ea_eV"] == pytest.approx(0.30, abs=1e-5)


def _bad_cases(tmp_path):
    f, z = synthetic("bulk-gb-electrode")
    good = _write(tmp_path / "good.csv", f, z)
    cases = {}
    text = good.read_text().splitlines()
    (tmp_path / "malformed.csv").write_text("\n".join(text[:5] + ["1e3,abc,-5"] + text[6:]))
    cases["malformed"] = ([str(tmp_path / "malformed.csv")], "is not a number")
    (tmp_path / "nan.csv").write_text("\n".join(text[:5] + ["1e3,nan,-5"] + text[6:]))
    cases["NaN"] = ([str(tmp_path / "nan.csv")], "non-finite")
    (tmp_path / "cols.csv").write_text("a,b,c\n1,2,3\n4,5,6\n7,8,9\n")
    cases["unknown columns"] = ([str(tmp_path / "cols.csv")], "no frequency")
    (tmp_path / "ragged.csv").write_text("\n".join(text[:5] + ["1e3,5,-5,7"] + text[6:]))
    cases["ragged"] = ([str(tmp_path / "ragged.csv")], "field(s)")
    (tmp_path / "empty.csv").write_text("")
    cases["empty"] = ([str(tmp_path / "empty.csv")], "empty")
    dup = np.array(f)
    dup[10] = dup[9]
    cases["duplicate"] = ([str(_write(tmp_path / "dup.csv", dup, z))], "repeats the frequency")
    nonmono = np.array(f)
    nonmono[[10, 11]] = nonmono[[11, 10]]
    cases["non-monotonic"] = ([str(_write(tmp_path / "nm.csv", nonmono, z))], "not monotonic")
    cases["too few points"] = ([str(_write(tmp_path / "few.csv", f[::12], z[::12]))],
                               "frequencies for the 8 free parameters")
    cases["no convergence"] = ([str(good), "--max-function-evals", "3"], "did not converge")
    cases["thickness 0"] = ([str(good), "--thickness-cm", "0"], "thickness_cm must be a positive")
    cases["negative diameter"] = ([str(good), "--diameter-cm", "-1"], "diameter_cm must be")
    cases["nan thickness"] = ([str(good), "--thickness-cm", "nan"], "thickness_cm must be")
    cases["missing file"] = ([str(tmp_path / "none.csv")], "does not exist")
    cases["folder"] = ([str(tmp_path)], "is a folder")
    cases["bad circuit"] = ([str(good), "--circuit", "p(R0,Q0"], "unknown element")
    cases["unclosed"] = ([str(good), "--circuit", "p(R0,C0"], "not closed")
    cases["temperatures"] = ([str(good), "--temperature-K", "300", "310"], "1 spectra")
    cases["bad role"] = ([str(good), "--bulk-element", "R7"], "not a resistor")
    cases["bad formula"] = ([str(good), "--composition", "Na3Zr2.5Si2PO12"], "sum")
    cases["celsius"] = ([str(good), "--temperature-K", "25"], "was 25 °C = 298.15 K meant?")
    (tmp_path / "tc.csv").write_text("temperature_C,sigma_total_S_cm\n25,1e-4\n50,2e-4\n75,3e-4\n")
    cases["table in °C"] = (["--sigma-table", str(tmp_path / "tc.csv")], "in kelvin")
    (tmp_path / "t2.csv").write_text("temperature_K,sigma_total_S_cm\n300,1e-4\n350,2e-4\n")
    cases["table of 2"] = (["--sigma-table", str(tmp_path / "t2.csv")], "at least 3")
    return cases


@pytest.mark.parametrize("case", [
    "malformed", "NaN", "unknown columns", "ragged", "empty", "duplicate", "non-monotonic",
    "too few points", "no convergence", "thickness 0", "negative diameter", "nan thickness",
    "missing file", "folder", "bad circuit", "unclosed", "temperatures", "bad role", "bad formula",
    "celsius", "table in °C", "table of 2",
])
def test_bad_input_exit_2_one_line_nothing_written(tmp_path, capsys, case):
    args, message = _bad_cases(tmp_path)[case]
    out = tmp_path / "out"
    argv = ["eis", *args]
    if "--thickness-cm" not in args:
        argv += ["--thickness-cm", "0.1"]
    if "--diameter-cm" not in args:
        argv += ["--diameter-cm", "1.0"]
    assert main([*argv, "--out", str(out)]) == 2
    line = _one_error_line(capsys)
    assert message in line, line
    assert not out.exists() or not any(out.iterdir())


def test_eis_json_feeds_add_outcomes_and_retrains(tmp_path, capsys):
    from nasicon_workflows.classifier.outcomes import load_measured_transport, load_user_gate

    f, z = synthetic("randles")
    spec = _write(tmp_path / "r.csv", f, z)
    assert main(["eis", str(spec), "--thickness-cm", "0.127", "--diameter-cm", "1.6",
                 "--circuit", "randles", "--temperature-K", "298.15", "--json",
                 "--composition", "Na3.2Zr1.8In0.2Si2PO12", "--outcome", "synthesizable",
                 "--source", "synthetic Randles spectrum"]) == 0
    row_json = tmp_path / "row.json"
    row_json.write_text(capsys.readouterr().out)
    data = tmp_path / "user"
    assert main(["add-outcomes", str(row_json), "--data-dir", str(data), "--model", "gnb",
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n_added"] == 1 and result["n_measured_rows"] == 1
    measured = load_measured_transport(data)
    assert measured["sigma_total_S_cm"].iloc[0] == pytest.approx(9.62e-4, rel=0.005)
    assert measured["temperature_K"].iloc[0] == 298.15
    assert load_user_gate("gnb", data_dir=data).metadata.n_training_rows == 59
    # a JSON without the identifying columns is refused with the fix
    assert main(["eis", str(spec), "--thickness-cm", "0.127", "--diameter-cm", "1.6",
                 "--circuit", "randles", "--temperature-K", "298.15", "--json"]) == 0
    bare = tmp_path / "bare.json"
    bare.write_text(capsys.readouterr().out)
    assert main(["add-outcomes", str(bare), "--data-dir", str(data)]) == 2
    assert "--composition" in _one_error_line(capsys)
