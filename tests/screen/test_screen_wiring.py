"""Wired into the screen: exact cells, converged relaxations flagged in the ranking,
the diversity tie-break in the gate, report.html beside report.md.

Stand-in stages (conftest.py) for the expensive stages; the flow, the gate, the ranking and the
reports are real. The exact-cell checks use the real structure stage (supercell search only).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass

import pytest
from jobflow import Maker, job

from nasicon_workflows.errors import NasiconWorkflowsError
from nasicon_workflows.screen import stages
from nasicon_workflows.screen.candidate import MAX_CONTINUATIONS, certified_criterion
from nasicon_workflows.screen.cli import main as screen_main
from nasicon_workflows.screen.documents import GateRecord
from nasicon_workflows.screen.errors import ScreenInputError
from nasicon_workflows.screen.flow import ScreeningFlowMaker, check_realisable
from nasicon_workflows.screen.gate import select_candidates, select_candidates_explained
from nasicon_workflows.screen.runner import run_screen
from nasicon_workflows.structures.supercell import CompositionNotRealisableError

from conftest import StandInRelaxMaker, stand_in_task_document

# 0.25 grid: the 84-site cell realises both exactly; 0.2 steps need a 10-formula-unit cell
ON_GRID = ["Na3.5Zr1.5Sc0.5Si2PO12", "Na3.25Zr1.75Ga0.25Si2PO12"]
OFF_GRID = "Na3.4Zr1.8Mg0.2Si2PO12"


# ---------------------------------------------------------------------- defaults
def test_screen_defaults_are_the_converged_ones():
    maker = ScreeningFlowMaker()
    relax = maker.relax_settings()
    assert relax.fmax_eV_per_A == 0.049 and relax.max_steps == 300
    # 0.049 for the optimizer certifies 0.05 on the final forces
    assert certified_criterion(relax) == pytest.approx(0.05)
    from nasicon_workflows.relax.forcefield import DEFAULT_OPTIMIZER

    assert (relax.optimizer or DEFAULT_OPTIMIZER) == "BFGS"


def test_cli_enumeration_follows_the_cell_grid():
    from nasicon_workflows.cli.enumeration_options import EnumerationOptions
    import argparse

    from nasicon_workflows.screen.cli import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args([])
    options = EnumerationOptions.from_args(args)
    assert "step" not in options.rules()
    assert options.enumeration_rules().step == 0.25
    assert args.fmax == 0.049 and args.relax_steps == 300 and not args.allow_composition_error


# ---------------------------------------------------------------------- exact cells
def test_off_grid_composition_is_refused_before_computing(calls, tmp_path):
    with pytest.raises(CompositionNotRealisableError, match="allow-composition-error"):
        ScreeningFlowMaker(max_atoms=200).make([OFF_GRID])
    assert calls["score"] == 0 and calls["build"] == 0
    # the 10-formula-unit cell (204 atoms) realises it within the default 220
    check_realisable([OFF_GRID], 220)
    ScreeningFlowMaker(max_atoms=200, allow_composition_error=True).make([OFF_GRID])
    assert issubclass(CompositionNotRealisableError, NasiconWorkflowsError)


def test_cli_refusal_is_one_line_and_nothing_written(calls, tmp_path, capsys):
    out = tmp_path / "screen"
    code = screen_main(["--compositions", OFF_GRID, "--max-atoms", "200", "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].startswith("error:")
    assert OFF_GRID in err[0] and "--allow-composition-error" in err[0]
    assert calls["score"] == 0 and not (out / "results.json").exists()


def test_structure_stage_gets_the_exact_cell_search(calls, monkeypatch, tmp_path):
    seen = []
    original = stages.structures_maker

    def spy(method, orderings, max_atoms, seed, **kwargs):
        seen.append(kwargs)
        return original(method, orderings, max_atoms, seed, **kwargs)

    monkeypatch.setattr(stages, "structures_maker", spy)
    run = run_screen(ScreeningFlowMaker(threshold=0.0, orderings=1, relax="none"),
                     tmp_path / "s", ON_GRID[:1])
    assert seen == [{"cell_search": "exact", "allow_composition_error": False}]
    config = run.result.candidates[0].configurations[0]
    assert config.composition_error == 0.0 and config.realised_formula
    rows = list(csv.DictReader(open(tmp_path / "s" / "ranking.csv", newline="")))
    assert float(rows[0]["composition_error"]) == 0.0 and rows[0]["realised_formula"]
    report = (tmp_path / "s" / "report.md").read_text()
    assert "composition error" in report


# ---------------------------------------------------------------------- relaxations
class _Recorder:
    structures: list = []


def test_second_ordering_starts_on_the_first_ones_relaxed_lattice(calls, monkeypatch, tmp_path):


    class Spy(StandInRelaxMaker):
        def make(self, structure):  # noqa: D102
            _Recorder.structures.append(structure)
            return super().make(structure)

    _Recorder.structures = []
    monkeypatch.setattr(stages, "relax_maker", lambda settings: Spy())
    run = run_screen(ScreeningFlowMaker(threshold=0.0, orderings=2), tmp_path / "s", ON_GRID[:1])
    first, second = _Recorder.structures
    relaxed0 = run.result.candidates[0].configurations[0].structure
    assert second.lattice.abc == pytest.approx(relaxed0.lattice.abc)
    assert first.lattice.volume == pytest.approx(relaxed0.lattice.volume / 1.02)


@dataclass
class _NeverConverges(Maker):
    """Stand-in relaxation that moves nothing and always stops before reaching fmax."""

    name: str = "stand-in relax"

    @job
    def make(self, structure):
        return stand_in_task_document(structure.copy(), -0.1 * structure.volume).model_copy(
            update={"is_force_converged": False})


def test_failed_check_is_continued_from_the_last_cell(calls, monkeypatch, tmp_path):
    """A relaxation whose final forces fail the check is continued from its last cell; the
    continuation's steps are added and counted, and the configuration counts as converged."""
    starts = []

    def relax_maker(settings):
        class Spy(StandInRelaxMaker):
            def make(self, structure):  # noqa: D102
                starts.append(structure)
                return super().make(structure)

        @dataclass
        class FirstFails(_NeverConverges):
            @job
            def make(self, structure):
                starts.append(structure)
                relaxed = structure.copy()
                relaxed.scale_lattice(structure.volume * 1.02)
                return stand_in_task_document(relaxed, -0.1 * relaxed.volume).model_copy(
                    update={"is_force_converged": False})

        return FirstFails() if not starts else Spy()

    monkeypatch.setattr(stages, "relax_maker", relax_maker)
    run = run_screen(ScreeningFlowMaker(threshold=0.0, orderings=1), tmp_path / "s", ON_GRID[:1])
    (config,) = run.result.candidates[0].configurations
    assert len(starts) == 2
    # the continuation started on the first relaxation's final cell (+2 % volume)
    assert starts[1].volume == pytest.approx(starts[0].volume * 1.02)
    assert config.relax_converged is True and config.relax_continuations == 1
    assert config.relax_steps == 6  # 3 stand-in steps each
    assert config.volume_A3 == pytest.approx(starts[0].volume * 1.02 ** 2)
    assert "1 continuation" in (tmp_path / "s" / "report.md").read_text()
    # a resumed run takes both the relaxation and its continuation from the cache
    again = run_screen(ScreeningFlowMaker(threshold=0.0, orderings=1), tmp_path / "s",
                       ON_GRID[:1], resume=True)
    assert len(starts) == 2
    assert again.result.candidates[0].configurations[0].relax_continuations == 1


def test_relaxation_that_used_up_its_steps_is_not_continued(calls, monkeypatch, tmp_path):
    made = []

    @dataclass
    class StopsAtTheLimit(_NeverConverges):
        @job
        def make(self, structure):
            made.append(1)
            doc = stand_in_task_document(structure.copy(), -0.1 * structure.volume)
            return doc.model_copy(update={
                "is_force_converged": False,
                "output": doc.output.model_copy(update={"n_steps": 40})})

    monkeypatch.setattr(stages, "relax_maker", lambda settings: StopsAtTheLimit())
    run = run_screen(ScreeningFlowMaker(threshold=0.0, orderings=1, relax_steps=40),
                     tmp_path / "s", ON_GRID[:1])
    (config,) = run.result.candidates[0].configurations
    assert made == [1]
    assert config.relax_converged is False and config.relax_hit_step_limit is True
    assert config.relax_continuations == 0


def test_unconverged_relaxation_is_flagged_in_the_ranking(calls, monkeypatch, tmp_path):
    stuck = []

    def relax_maker(settings):
        # the first candidate's relaxation and all its continuations stop short of fmax
        if len(stuck) < 1 + MAX_CONTINUATIONS:
            stuck.append(1)
            return _NeverConverges()
        return StandInRelaxMaker()

    monkeypatch.setattr(stages, "relax_maker", relax_maker)
    out = tmp_path / "s"
    run = run_screen(ScreeningFlowMaker(threshold=0.0, orderings=1), out, ON_GRID)
    assert len(stuck) == 1 + MAX_CONTINUATIONS
    unconverged = {c.composition for c in run.result.candidates
                   if any(x.relax_converged is False for x in c.configurations)}
    assert len(unconverged) == 1 and len(run.result.candidates) == 2
    (bad,) = unconverged
    (good,) = set(ON_GRID) - unconverged
    rows = {r["composition"]: r for r in csv.DictReader(open(out / "ranking.csv", newline=""))}
    assert rows[bad]["relax_converged"] == "False" and rows[bad]["n_relax_unconverged"] == "1"
    assert rows[good]["relax_converged"] == "True"
    results = json.loads((out / "results.json").read_text())
    assert {r["composition"]: r["relax_converged"] for r in results["ranking"]} == {
        bad: False, good: True}
    assert any("FLAGGED" in n and bad in n for n in results["ranking_notes"])
    report = (out / "report.md").read_text()
    line = next(x for x in report.splitlines() if x.startswith("| ") and bad in x and "FLAGGED" in x)
    assert "NO (1 not converged)" in line
    assert "not converged" in (out / "report.html").read_text().lower()


# ---------------------------------------------------------------------- selection
def _plateau():
    """Five near-duplicates of one chemistry on top, two other chemistries just below, all
    within the best's standard deviation."""
    rows = [
        ("Na3.5Zr1.5Ga0.25Sc0.25Si2PO12", 0.905), ("Na3.75Zr1.25Ga0.25Sc0.5Si2PO12", 0.904),
        ("Na3.75Zr1.25Ga0.5Sc0.25Si2PO12", 0.903), ("Na4Zr1Ga0.5Sc0.5Si2PO12", 0.902),
        ("Na4Zr1Ga0.25Sc0.75Si2PO12", 0.901),
        ("Na3.5Zr1.0Ti0.5Lu0.5Si2PO12", 0.895), ("Na3.5Zr1.5In0.5Si2PO12", 0.890),
    ]
    from nasicon_workflows.composition import NasiconComposition
    from nasicon_workflows.descriptors import compute_descriptors

    out = []
    for formula, p in rows:
        formula = NasiconComposition.from_formula(formula).formula
        d = compute_descriptors(formula)
        out.append(GateRecord(
            composition=formula, probability=p, probability_std=0.02, in_domain=True,
            entropy_R=d.entropy_R,
            descriptors={"ionic_radius_pm": d.ionic_radius_pm,
                         "electronegativity": d.electronegativity, "entropy_R": d.entropy_R},
        ))
    return out


def test_gate_breaks_ties_for_diversity():
    records = _plateau()
    by_probability = [r.composition for r in sorted(records, key=lambda r: -r.probability)][:3]
    out, selection = select_candidates_explained(records, threshold=0.5, top=3)
    picked = [r.composition for r in out if r.selected]
    assert set(picked) != set(by_probability)
    # three different dopant sets instead of three Ga/Sc near-duplicates
    from nasicon_workflows.composition import NasiconComposition

    sets = {frozenset(NasiconComposition.from_formula(c).m_site) for c in picked}
    assert len(sets) == 3
    assert selection["method"] == "select_diverse"
    assert "tied" in selection["explanation"]
    assert all("pick" in r.reason for r in out if r.selected)
    # without an uncertainty the gate takes the most probable
    plain = [r.model_copy(update={"probability_std": None}) for r in records]
    assert [r.composition for r in select_candidates(plain, 0.5, 3) if r.selected] == [
        r.composition for r in plain if r.composition in by_probability]


def test_selection_explanation_reaches_results_and_reports(calls, monkeypatch, tmp_path):
    records = {r.composition: r for r in _plateau()}

    def score(formulas):
        return [{**records[f].descriptors, "composition": f,
                 "probability": records[f].probability, "probability_std": 0.02, "label": 1,
                 "in_domain": True, "domain_reason": None, "entropy_class": "medium"}
                for f in formulas]

    monkeypatch.setattr(stages, "score_compositions", score)
    out = tmp_path / "s"
    run = run_screen(ScreeningFlowMaker(threshold=0.5, top=3, orderings=1, relax="none"),
                     out, list(records))
    explanation = run.result.settings["selection"]["explanation"]
    assert "tied" in explanation
    from nasicon_workflows.composition import NasiconComposition

    picked = [c.composition for c in run.result.candidates]
    assert len({frozenset(NasiconComposition.from_formula(c).m_site) for c in picked}) == 3
    results = json.loads((out / "results.json").read_text())
    assert results["settings"]["selection"]["explanation"] == explanation
    assert explanation in (out / "report.md").read_text()
    html = (out / "report.html").read_text()
    assert "<html" in html.lower() and "tied" in html


def test_ehull_reasons_reach_results_and_reports(calls, monkeypatch, tmp_path):
    """With the stability model's E_hull on the records, the tie is ordered by it and the
    reasons and explanation say so in results.json and report.md."""
    records = {r.composition: r for r in _plateau()}
    # the lowest E_hull belongs to the Lu row, absent from the DFT data: not the first pick
    ehull = dict(zip(records, (9.0, 8.0, 7.0, 6.0, 5.0, 1.0, 3.0)))

    def score(formulas):
        return [{**records[f].descriptors, "composition": f,
                 "probability": records[f].probability, "probability_std": 0.02, "label": 1,
                 "in_domain": True, "domain_reason": None, "entropy_class": "medium",
                 "ehull_1000K_meV_per_atom": ehull[f],
                 "ehull_note": "elements absent from the DFT stability data: Lu"
                 if "Lu" in f else ""}
                for f in formulas]

    monkeypatch.setattr(stages, "score_compositions", score)
    out = tmp_path / "s"
    run = run_screen(ScreeningFlowMaker(threshold=0.5, top=2, orderings=1, relax="none"),
                     out, list(records))
    first_in = "Na3.5Zr1.5In0.5Si2PO12"
    results = json.loads((out / "results.json").read_text())
    rows = {r["composition"]: r for r in results["settings"]["selection"]["rows"]}
    assert rows[first_in]["pick_order"] == 1
    assert "predicted E_hull 3.0 meV/atom, lowest of the 6 tied candidates with DFT-covered" \
        in rows[first_in]["reason"]
    scored = {r["composition"]: r for r in results["scored"]}
    assert "predicted E_hull 3.0 meV/atom" in scored[first_in]["reason"]
    lu = next(c for c in records if "Lu" in c)
    assert scored[lu]["ehull_note"].startswith("elements absent")
    report = (out / "report.md").read_text()
    assert run.result.settings["selection"]["explanation"] in report
    assert "predicted E_hull(1000 K)" in report and "picked as explained below" in report
    assert run.result.settings["tie_break"] == "ehull"
    with pytest.raises(ScreenInputError, match="tie_break must be 'ehull' or 'probability'"):
        ScreeningFlowMaker(tie_break="noise", relax="none")
