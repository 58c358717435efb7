"""Transport, stability gate, MD tier and measured transport wired into the screen (issues 13-15).

The expensive stages are stand-ins (conftest: structures, relaxation, BVSE, KMC); the ranking,
the gate, the report, the validation status and the rank correlations are real.
"""

from __future__ import annotations

import argparse
import json
import math

import pandas as pd
import pytest

from nasicon_workflows.screen.documents import GateRecord
from nasicon_workflows.screen.gate import gate_record, select_candidates
from nasicon_workflows.screen.ranking import (
    RankingWeights,
    kmc_rank_scores,
    rank_candidates,
    validated_transport_weights,
)

COMPS = ["Na3.4Zr1.6Sc0.4Si2PO12", "Na3.4Zr1.8Mg0.2Si2PO12", "Na3.3Zr1.4Sc0.3Ti0.3Si2PO12"]


# ---------------------------------------------------------------------- weights and KMC criterion
def test_default_weights_follow_the_measured_transport_skill():
    from nasicon_workflows.transport import transport_validation_status

    rec = transport_validation_status()["recommended_weights"]
    w = RankingWeights()
    # BVSE misorders the x-series (maximum at x = 3): weight 0; KMC passes 2 of 3 criteria
    assert w.barrier == rec["bvse"]["weight"] == 0.0
    assert w.kmc == pytest.approx(rec["kmc_softbv"]["weight"]) and w.kmc == pytest.approx(0.267)
    assert validated_transport_weights() == {"barrier": 0.0, "kmc": pytest.approx(0.267)}
    # a user weight still ranks BVSE on purpose
    assert RankingWeights.parse("barrier=0.4").barrier == 0.4


def test_kmc_rank_scores_by_hand():
    scores = kmc_rank_scores(pd.Series([1e-4, 3e-6, 2e-5, 2e-5]))
    # ranks (1 = lowest): 4, 1, 2.5, 2.5 -> (r - 1) / 3
    assert scores.tolist() == pytest.approx([1.0, 0.0, 0.5, 0.5])
    assert kmc_rank_scores(pd.Series([5e-5])).tolist() == [1.0]
    assert kmc_rank_scores(pd.Series([1e-4, float("nan")])).isna().all()


def _row(name, p, sigma, barrier):
    return {"composition": name, "probability": p, "entropy_R": 1.0, "barrier_3D_mean_eV": barrier,
            "barrier_3D_std_eV": 0.0, "ordering_energy_range_eV_per_m": 0.01,
            "kmc_sigma_573K_S_cm": sigma}


def test_ranking_uses_the_kmc_rank_not_the_bvse_barrier():
    # "bvse" has the lowest BVSE barrier, "kmc" the highest KMC sigma; equal otherwise
    rows = [_row("bvse", 0.8, 1e-6, 0.50), _row("kmc", 0.8, 1e-4, 0.90)]
    ranking, notes = rank_candidates(rows, RankingWeights())
    assert ranking["composition"].tolist() == ["kmc", "bvse"]
    total = 0.35 + 0.15 + 0.10 + 0.267
    expected = (0.35 * 0.8 + 0.15 * 1.0 / 1.5 + 0.10 * 1.0 + 0.267 * 1.0) / total
    assert ranking.iloc[0]["score"] == pytest.approx(expected)
    assert ranking.iloc[1]["score_kmc"] == 0.0
    assert any("BVSE barrier reported but not ranked" in n for n in notes)
    assert "rank of the KMC sigma at 573 K" in notes[-1]
    # only the order of sigma matters: scaling every sigma by 1000 changes no score
    scaled = [{**r, "kmc_sigma_573K_S_cm": r["kmc_sigma_573K_S_cm"] * 1e3} for r in rows]
    again, _ = rank_candidates(scaled, RankingWeights())
    assert again["score"].tolist() == pytest.approx(ranking["score"].tolist())


def test_kmc_missing_for_a_candidate_is_dropped_with_the_reason():
    rows = [_row("a", 0.9, None, 0.5), _row("b", 0.5, 1e-4, 0.5)]
    rows[0].pop("kmc_sigma_573K_S_cm")
    _, notes = rank_candidates(rows, RankingWeights())
    assert any("criterion 'kmc' dropped" in n and "--transport kmc" in n for n in notes)


def test_kmc_columns_read_sigma_at_573K():
    from nasicon_workflows.screen.aggregate import kmc_columns

    doc = {"interaction": "softbv", "Ea_eV": 0.69, "Ea_ci95_eV": [0.66, 0.73],
           "sigma_300K_S_cm": 5.7e-10,
           "temperatures": [{"temperature_K": 473.15, "sigma_S_cm": 6.5e-6},
                            {"temperature_K": 573.15, "sigma_S_cm": 1.16e-4}]}
    cols = kmc_columns(doc)
    assert cols["kmc_sigma_573K_S_cm"] == 1.16e-4 and cols["kmc_Ea_ci95_high_eV"] == 0.73
    assert kmc_columns({"Ea_eV": 0.3}) == {}  # an MD document is not ranked as KMC
    no_573 = kmc_columns({**doc, "temperatures": doc["temperatures"][:1]})
    assert math.isnan(no_573["kmc_sigma_573K_S_cm"])


def test_screen_kmc_settings_measure_sigma_at_the_ranked_temperature():
    from nasicon_workflows.screen.transport import (
        SCREEN_KMC_SETTINGS,
        screen_kmc_maker,
        transport_maker,
    )
    from nasicon_workflows.transport.kmc import KMCMaker

    maker = screen_kmc_maker(0.2, 7)
    assert isinstance(maker, KMCMaker) and maker.resolution == 0.2 and maker.seed == 7
    assert 573.15 in maker.temperatures_K and maker.n_runs >= 3  # >= 3 runs: an Ea interval
    assert maker.hops_per_ion == SCREEN_KMC_SETTINGS["hops_per_ion"]
    assert transport_maker("none") is None
    from nasicon_workflows.screen.errors import ScreenInputError

    with pytest.raises(ScreenInputError, match="not one of kmc, none"):
        transport_maker("md")


# ---------------------------------------------------------------------- stability gate
def test_gate_records_carry_uncertainty_and_stability_and_the_ehull_gate_rejects():
    rows = [
        {"composition": COMPS[0], "probability": 0.9, "probability_std": 0.04, "in_domain": True,
         "ehull_1000K_meV_per_atom": 12.5, "ehull_pass": True, "entropy_R": 0.5},
        {"composition": COMPS[1], "probability": 0.95, "probability_std": 0.03, "in_domain": True,
         "ehull_1000K_meV_per_atom": 80.0, "ehull_pass": False, "entropy_R": 0.4},
    ]
    records = [gate_record(r, "uuid") for r in rows]
    assert records[0].probability_std == 0.04 and records[0].ehull_1000K_meV_per_atom == 12.5
    assert "probability_std" not in records[0].descriptors
    out = select_candidates(records, 0.5, 4)
    assert out[0].selected and not out[1].selected
    assert "E_hull(1000 K) 80.0 meV/atom above the stability gate" in out[1].reason


def _parse(register, argv):
    parser = argparse.ArgumentParser()
    register(parser)
    return parser.parse_args(argv)


def test_max_ehull_is_one_option_of_enumerate_and_screen():
    from nasicon_workflows.cli.enumeration_options import EnumerationOptions
    from nasicon_workflows.screen.cli import add_arguments

    screen_args = _parse(add_arguments, ["--max-ehull", "25"])
    enum_args = _parse(EnumerationOptions.add_arguments, ["--max-ehull", "25"])
    assert EnumerationOptions.from_args(screen_args).max_ehull == 25.0
    assert EnumerationOptions.from_args(enum_args).max_ehull == 25.0
    assert EnumerationOptions.from_args(_parse(add_arguments, [])).max_ehull is None
    assert screen_args.transport == "kmc" and screen_args.md == 0  # the defaults


def test_screen_passes_max_ehull_to_the_classifier(calls, monkeypatch, tmp_path):
    from nasicon_workflows.screen import stages
    from nasicon_workflows.screen.flow import ScreeningFlowMaker
    from nasicon_workflows.screen.runner import run_screen

    seen = {}
    plain = stages.score_compositions

    def score(formulas, max_ehull=None):
        seen["max_ehull"] = max_ehull
        rows = plain(formulas)
        for r in rows:  # the Mg composition is "unstable"
            r["ehull_1000K_meV_per_atom"] = 90.0 if "Mg" in r["composition"] else 5.0
            r["ehull_pass"] = r["ehull_1000K_meV_per_atom"] <= max_ehull
            r["probability_std"] = 0.01
        return rows

    monkeypatch.setattr(stages, "score_compositions", score)
    maker = ScreeningFlowMaker(relax="none", orderings=1, max_ehull=30.0)
    run = run_screen(maker, tmp_path / "s", COMPS[:2])
    assert seen["max_ehull"] == 30.0
    data = json.loads((tmp_path / "s" / "results.json").read_text())
    mg = next(r for r in data["scored"] if "Mg" in r["composition"])
    assert not mg["selected"] and "stability gate" in mg["reason"]
    assert [c.composition for c in run.result.candidates] == [COMPS[0]]
    cand = run.result.candidates[0]
    assert cand.ehull_1000K_meV_per_atom == 5.0 and cand.probability_std == 0.01


# ---------------------------------------------------------------------- the screen end to end
def test_cli_screen_ranks_on_kmc_and_reports_validation(calls, tmp_path):
    from nasicon_workflows.screen.cli import main as screen_main

    out = tmp_path / "screen"
    code = screen_main(["--compositions", *COMPS, "--relax", "none", "--orderings", "2",
                        "--out", str(out), "--quiet"])
    assert code == 0
    ranking = pd.read_csv(out / "ranking.csv")
    assert {"score_kmc", "kmc_sigma_573K_S_cm", "kmc_Ea_eV"} <= set(ranking.columns)
    # stand-in KMC: sigma grows with the cell volume, so the ranked order of score_kmc follows it
    assert ranking["score_kmc"].max() == 1.0 and ranking["score_kmc"].min() == 0.0
    assert (ranking["score_barrier"].notna()).all()  # BVSE still reported
    report = (out / "report.md").read_text()
    assert "## Transport" in report and "Validation status: NOT validated" in report
    assert "Goodenough, Hong & Kafalas" in report and "10.1038/s41467-022-32190-7" in report
    assert "no measured Ea or conductivity" in report
    results = json.loads((out / "results.json").read_text())
    assert results["transport_validation"]["validated"] is False
    assert results["settings"]["transport"] == "StandInKMCMaker"


def test_cli_transport_none_runs_no_kmc(calls, tmp_path):
    from nasicon_workflows.screen.cli import main as screen_main

    out = tmp_path / "screen"
    assert screen_main(["--compositions", COMPS[0], "--relax", "none", "--orderings", "1",
                        "--transport", "none", "--out", str(out), "--quiet"]) == 0
    assert "kmc" not in calls
    report = (out / "report.md").read_text()
    assert "No transport stage ran (--transport none)" in report


# ---------------------------------------------------------------------- MD tier
def test_md_top_n_runs_on_the_best_ranked_lowest_energy_cells(calls, monkeypatch, tmp_path):
    import nasicon_workflows.transport.md as md_module
    from nasicon_workflows.screen.flow import ScreeningFlowMaker
    from nasicon_workflows.screen.runner import run_screen

    ran = []

    def fake_md(structure, maker=None):
        ran.append(structure.volume)
        if len(ran) == 2:
            raise RuntimeError("no temperature reached the diffusive regime")
        return {"Ea_eV": 0.31, "Ea_ci95_eV": [0.25, 0.37], "sigma_300K_S_cm": 1e-3}

    monkeypatch.setattr(md_module, "run_md_transport", fake_md)
    maker = ScreeningFlowMaker(relax="none", orderings=2, md_top=2,
                               transport_maker=None)
    run = run_screen(maker, tmp_path / "s", COMPS)
    md = run.result.md
    assert [m["rank"] for m in md] == [1, 2] and len(ran) == 2
    assert md[0]["status"] == "finished" and md[0]["document"]["Ea_eV"] == 0.31
    assert md[1]["status"] == "failed" and "diffusive regime" in md[1]["error"]
    top = next(c for c in run.result.candidates if c.composition == md[0]["composition"])
    lowest = min(top.configurations, key=lambda c: c.energy_per_atom_eV or 0.0)
    assert ran[0] == pytest.approx(lowest.structure.volume)
    report = (tmp_path / "s" / "report.md").read_text()
    assert "Force-field MD of the top candidates" in report and "0.310 [0.250, 0.370]" in report


def test_md_zero_runs_nothing_and_negative_is_refused():
    from nasicon_workflows.screen.documents import ScreeningResult
    from nasicon_workflows.screen.errors import ScreenInputError
    from nasicon_workflows.screen.transport import md_top_candidates

    result = ScreeningResult(ranking=[{"composition": "x", "rank": 1}])
    assert md_top_candidates(result, 0, runner=lambda s: 1 / 0) == []
    with pytest.raises(ScreenInputError, match="must be >= 0"):
        md_top_candidates(result, -1)


# ---------------------------------------------------------------------- measured transport
def _measured(monkeypatch, rows):
    import nasicon_workflows.classifier.outcomes as outcomes

    columns = ["composition", "Ea_eV", "sigma_total_S_cm", "temperature_K"]
    frame = pd.DataFrame(rows, columns=columns)
    monkeypatch.setattr(outcomes, "load_measured_transport", lambda data_dir=None: frame)


def test_measured_vs_predicted_rank_correlation_with_n_and_ci(monkeypatch):
    from nasicon_workflows.screen.transport import measured_comparisons

    formulas = ["Na3.4Zr1.6Sc0.4Si2PO12", "Na3.2Zr1.8Sc0.2Si2PO12", "Na3.5Zr1.5Sc0.5Si2PO12",
                "Na3.3Zr1.7Sc0.3Si2PO12"]
    ea = [0.30, 0.36, 0.28, 0.33]
    _measured(monkeypatch, [(f, e, float("nan"), float("nan")) for f, e in zip(formulas, ea)])
    # predictions in another notation (element order) and monotone in Ea: rho = 1
    reordered = ["Na3.4Sc0.4Zr1.6Si2PO12", "Na3.2Sc0.2Zr1.8Si2PO12", "Na3.5Sc0.5Zr1.5Si2PO12",
                 "Na3.3Sc0.3Zr1.7Si2PO12"]
    predictions = [{"composition": f, "barrier_3D_mean_eV": 0.5 + e, "kmc_Ea_eV": 0.6 + e}
                   for f, e in zip(reordered, ea)]
    out = measured_comparisons(predictions)
    assert [c["predicted"] for c in out] == ["BVSE E_3D (eV)", "KMC Ea (eV)"]
    for c in out:
        assert c["status"] == "ok" and c["n"] == 4 and c["rho"] == pytest.approx(1.0)
        assert c["ci_low"] is not None and "n = 4" in c["summary"]
    # two matches only: "too few", no rho
    out = measured_comparisons(predictions[:2])
    assert all(c["status"] == "too few" and c["rho"] is None for c in out)
    assert "too few pairs" in out[0]["summary"]


def test_measured_transport_appears_in_the_screen_report(calls, monkeypatch, tmp_path):
    from nasicon_workflows.screen.cli import main as screen_main

    _measured(monkeypatch, [(COMPS[0], 0.30, 2e-3, 298.15), (COMPS[2], 0.35, 1e-3, 298.15)])
    out = tmp_path / "screen"
    assert screen_main(["--compositions", *COMPS, "--relax", "none", "--orderings", "1",
                        "--out", str(out), "--quiet"]) == 0
    report = (out / "report.md").read_text()
    assert "Ea_eV (measured) vs BVSE E_3D (eV): Spearman ρ not reported: too few pairs (n = 2" \
        in report
    assert "sigma_total_S_cm at 298.15 K (measured) vs KMC sigma(300 K)" in report
    data = json.loads((out / "results.json").read_text())
    assert {c["n_measured"] for c in data["measured_transport"]} == {2}


def test_gate_record_model_keeps_old_records_readable():
    rec = GateRecord.model_validate({"composition": COMPS[0], "probability": 0.7})
    assert rec.probability_std is None and rec.ehull_pass is None


def test_evaluate_compares_measured_with_a_screens_predictions(monkeypatch, tmp_path, capsys):
    from nasicon_workflows.cli import main

    formulas = ["Na3.4Zr1.6Sc0.4Si2PO12", "Na3.2Zr1.8Sc0.2Si2PO12", "Na3.5Zr1.5Sc0.5Si2PO12"]
    _measured(monkeypatch, [(f, e, float("nan"), float("nan"))
                            for f, e in zip(formulas, [0.30, 0.36, 0.28])])
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"ranking": [
        {"composition": f, "barrier_3D_mean_eV": b, "kmc_Ea_eV": k}
        for f, b, k in zip(formulas, [0.80, 0.85, 0.70], [0.70, 0.60, 0.65])]}))
    argv = ["evaluate", "--models", "gnb", "--repeats", "1", "--folds", "2", "--splits", "1",
            "--importance-repeats", "1", "--jobs", "1", "--output", str(tmp_path / "ev"),
            "--predicted-transport", str(results), "--json"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    by_name = {c["predicted"]: c for c in data["measured_transport"]}
    # measured Ea 0.28 < 0.30 < 0.36; BVSE 0.70 < 0.80 < 0.85: rho = 1; KMC 0.65, 0.70, 0.60: -0.5
    assert by_name["BVSE E_3D (eV)"]["rho"] == pytest.approx(1.0)
    assert by_name["KMC Ea (eV)"]["rho"] == pytest.approx(-0.5)
    assert by_name["KMC Ea (eV)"]["n"] == 3 and by_name["KMC Ea (eV)"]["ci_low"] is not None


def test_tie_break_is_one_option_of_enumerate_and_screen_and_reaches_the_enumeration(
        monkeypatch):
    from nasicon_workflows.cli.enumeration_options import EnumerationOptions
    from nasicon_workflows.screen import stages
    from nasicon_workflows.screen.cli import add_arguments, maker_from_args
    from nasicon_workflows.screen.gate import classify_candidates

    assert EnumerationOptions.from_args(_parse(add_arguments, [])).tie_break == "ehull"
    for register in (add_arguments, EnumerationOptions.add_arguments):
        args = _parse(register, ["--tie-break", "probability"])
        assert EnumerationOptions.from_args(args).tie_break == "probability"
    maker, _ = maker_from_args(_parse(add_arguments, ["--tie-break", "probability",
                                                      "--relax", "none"]))
    assert maker.tie_break == "probability" and maker.settings()["tie_break"] == "probability"

    seen = []

    def enumerate_and_score(rules, keep, max_ehull=None, tie_break="ehull"):
        seen.append(tie_break)
        return ([{"composition": "Na3.5Zr1.5Sc0.5Si2PO12", "probability": 0.9}],
                {"n_enumerated": 1, "n_in_domain": 1, "tie_break": tie_break})

    monkeypatch.setattr(stages, "enumerate_and_score", enumerate_and_score)
    monkeypatch.setattr(stages, "classifier_summary", lambda: {"model_name": "stand-in"})
    for tie_break in ("ehull", "probability"):
        doc = classify_candidates.original(None, {}, 5, None, tie_break=tie_break)
        assert doc.enumeration["tie_break"] == tie_break
    assert seen == ["ehull", "probability"]


def test_report_says_how_the_enumerated_list_was_kept():
    from nasicon_workflows.screen.documents import ScreeningResult
    from nasicon_workflows.screen.report import render_report

    scored = [GateRecord(composition="Na3.5Zr1.5Sc0.5Si2PO12", probability=0.9)]
    base = {"mode": "enumerated", "rules": {}, "n_enumerated": 10, "n_in_domain": 8}
    tied = render_report(ScreeningResult(
        scored=scored, enumeration={**base, "tie_break": "ehull", "n_tied": 7, "n_tied_sets": 3}))
    assert "The 1 kept compositions (of the 7 tied in probability with the best" in tied
    assert "in 3 M-element sets: the lowest predicted E_hull(1000 K) of each set" in tied
    assert "DFT-covered elements first" in tied
    old = render_report(ScreeningResult(
        scored=scored, enumeration={**base, "tie_break": "probability"}))
    assert "The 1 best-scored compositions are listed" in old and "tied in probability" not in old
