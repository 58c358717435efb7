"""Tests of candidate enumeration and the vectorised screen (checked by brute force)."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from nasicon_workflows.classifier import EmptyEnumerationError, EnumerationRulesError, train_gate
from nasicon_workflows.classifier.gate import SCORE_COLUMNS
from nasicon_workflows.cli import main
from nasicon_workflows.composition import DEFAULT_OXIDATION_STATES, NasiconComposition
from nasicon_workflows.enumeration import (
    DEFAULT_DOPANT_POOL,
    EnumerationRules,
    _partitions,
    count_candidates,
    enumerate_candidates,
    screen_candidates,
)

SMALL = EnumerationRules(
    dopant_pool=("Zr", "Sc", "Ti", "Mg", "Ta"), n_cations=(1, 3), step=0.25, na_range=(3.0, 3.75)
)


@pytest.fixture(scope="module")
def gate():
    return train_gate("gnb", metric_repeats=0)


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("NASICON_WORKFLOWS_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


def _brute_force(rules: EnumerationRules) -> set[tuple]:
    """Independent enumeration: every amount vector on the grid, filtered by the rules."""
    pool = rules.eligible_elements()
    units = rules.units
    out = set()
    for vec in itertools.product(range(units + 1), repeat=len(pool)):
        k = sum(v > 0 for v in vec)
        if sum(vec) != units or not rules.n_cations[0] <= k <= rules.n_cations[1]:
            continue
        na = 11.0 - sum(v * rules.step * DEFAULT_OXIDATION_STATES[el] for v, el in zip(vec, pool))
        if rules.na_range[0] - 1e-9 <= na <= rules.na_range[1] + 1e-9:
            out.add(vec)
    return out


def test_partitions_count():
    for units, k in ((20, 2), (20, 5), (8, 3)):
        parts = _partitions(units, k)
        assert len(parts) == math.comb(units - 1, k - 1)
        assert (parts.sum(1) == units).all() and (parts > 0).all()
        assert len({tuple(p) for p in parts}) == len(parts)


def test_enumeration_equals_brute_force_without_duplicates():
    rows = np.vstack([c.amounts for c in enumerate_candidates(SMALL, chunk_size=7)])
    as_units = [tuple(int(round(a / SMALL.step)) for a in row) for row in rows]
    assert len(set(as_units)) == len(as_units)  # deduplicated
    assert set(as_units) == _brute_force(SMALL)
    # every row is a valid NASICON composition with Na in range
    chunk = next(enumerate_candidates(SMALL, chunk_size=10_000))
    for comp in chunk.compositions():
        assert 3.0 - 1e-9 <= comp.na <= 3.75 + 1e-9 and comp.is_charge_balanced


def test_min_entropy_filter_equals_brute_force():
    rules = EnumerationRules(
        dopant_pool=SMALL.dopant_pool,
        n_cations=SMALL.n_cations,
        step=SMALL.step,
        na_range=SMALL.na_range,
        min_entropy_R=1.0,
    )
    rows = np.vstack([c.amounts for c in enumerate_candidates(rules)])
    got = {tuple(int(round(a / rules.step)) for a in row) for row in rows}

    def entropy(vec):
        x = np.array([v for v in vec if v]) / rules.units
        return -(x * np.log(x)).sum()

    assert got == {v for v in _brute_force(SMALL) if entropy(v) >= 1.0}
    assert len(got) > 0
    with pytest.raises(EmptyEnumerationError, match="entropy >= 1.2 R"):
        list(enumerate_candidates(EnumerationRules(**{**rules.__dict__, "min_entropy_R": 1.2})))


def test_chunks_are_bounded_and_independent_of_size():
    sizes = [len(c) for c in enumerate_candidates(SMALL, chunk_size=25)]
    assert max(sizes) <= 25 and all(s == 25 for s in sizes[:-1])
    assert sum(sizes) == count_candidates(SMALL, chunk_size=1000)


def test_default_counts_by_combinatorics():
    # With 2 cations, no Na/radius filter bites when the valence sum stays in range: count the
    # Zr + one-dopant pairs by hand, for Na 3.0-4.0 and step 0.1 (units of 0.1 on 20 M steps).
    rules = EnumerationRules(
        dopant_pool=DEFAULT_DOPANT_POOL, n_cations=(2, 2), required_elements=("Zr",), step=0.1
    )
    expected = 0
    for el in DEFAULT_DOPANT_POOL:
        if el == "Zr":
            continue
        z = DEFAULT_OXIDATION_STATES[el]
        for u in range(1, 20):  # dopant amount u * 0.1
            na = 11 - (20 - u) * 0.4 - u * 0.1 * z
            expected += 3 - 1e-9 <= na <= 4 + 1e-9
    assert count_candidates(rules) == expected


def test_radius_window_uses_shannon_cn6():
    # Shannon (1976) CN VI radii within 5 pm of Zr4+ (72 pm): Zn 74, Mg 72, Sc 74.5, Zr 72, Sn 69,
    # Hf 71; In 80 and Ta 64 fall outside.
    rules = EnumerationRules(radius_window_pm=5.0)
    assert set(rules.eligible_elements()) == {"Zn", "Mg", "Sc", "Zr", "Sn", "Hf"}
    assert len(EnumerationRules().eligible_elements()) == 23  # default window keeps the pool
    assert EnumerationRules(valence_range=(5, 6)).eligible_elements() == ("Ta", "Mo", "W")


@pytest.mark.parametrize(
    ("rules", "error", "message"),
    [
        (EnumerationRules(step=0.3), EnumerationRulesError, "step 0.3 must be > 0 and divide 2"),
        (EnumerationRules(n_cations=(3, 2)), EnumerationRulesError, "1 <= min <= max"),
        (
            EnumerationRules(dopant_pool=("Zr", "Xx")),
            EnumerationRulesError,
            "no oxidation state for pool element(s) ['Xx']",
        ),
        (EnumerationRules(na_range=(0.5, 3)), EnumerationRulesError, "must lie within"),
        (
            EnumerationRules(required_elements=("Nb",)),
            EnumerationRulesError,
            "required element(s) ['Nb'] are not in the dopant pool",
        ),
        (
            EnumerationRules(dopant_pool=("Zr", "Ti"), na_range=(3.5, 4.0)),
            EmptyEnumerationError,
            "gives Na within (3.5, 4.0)",
        ),
        (
            EnumerationRules(radius_window_pm=0.5, n_cations=(3, 5)),
            EmptyEnumerationError,
            "Only 2 pool element(s) pass the radius/valence rules (Mg, Zr) but at least 3",
        ),
    ],
)
def test_rule_errors(rules, error, message):
    with pytest.raises(error) as info:
        list(enumerate_candidates(rules))
    assert message in str(info.value)


def test_screen_equals_scoring_every_composition(gate):
    top = screen_candidates(SMALL, gate, top=8, chunk_size=13)
    every = gate.score(next(enumerate_candidates(SMALL, chunk_size=100_000)).compositions())
    assert top.attrs["n_enumerated"] == len(every)
    assert top.attrs["n_in_domain"] == int(every["in_domain"].sum())
    best = every.sort_values("probability", ascending=False, kind="stable").head(8)
    np.testing.assert_allclose(top["probability"], best["probability"], rtol=1e-12)
    assert set(top["composition"]) <= set(every["composition"])
    inside = screen_candidates(SMALL, gate, top=5, in_domain_only=True)
    assert inside["in_domain"].all()
    best_in = every[every["in_domain"]]["probability"].nlargest(5)
    np.testing.assert_allclose(inside["probability"], best_in, rtol=1e-12)
    assert tuple(top.columns[: len(SCORE_COLUMNS)]) == SCORE_COLUMNS
    with pytest.raises(EnumerationRulesError, match="top must be >= 1"):
        screen_candidates(SMALL, gate, top=0)


def test_enumerate_cli(capsys):
    rc = main(
        [
            "enumerate",
            "--pool",
            "Zr",
            "Sc",
            "Ti",
            "Hf",
            "--n-cations",
            "2,3",
            "--step",
            "0.1",
            "--top",
            "4",
            "--model",
            "gnb",
            "--tie-break",
            "probability",
            "--json",
        ]
    )
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["top"]) == 4 and out["n_enumerated"] > 100
    assert out["tie_break"] == "probability" and out["n_tied"] is None
    probs = [row["probability"] for row in out["top"]]
    assert probs == sorted(probs, reverse=True)
    NasiconComposition.from_formula(out["top"][0]["composition"])  # a valid formula
    assert (
        main(["enumerate", "--pool", "Zr", "Ti", "--na-range", "3.5,4", "--model", "gnb", "--json"])
        == 2
    )
    assert "error: No composition of Zr, Ti" in capsys.readouterr().err


# ------------------------------------------------------------------ keeping the probability tie
# Lu and Tm are absent from the DFT stability data (extrapolated E_hull); the rest are covered.
TIE_RULES = EnumerationRules(
    dopant_pool=("Zr", "Sc", "Ti", "Mg", "Hf", "Lu", "Tm"), n_cations=(2, 4), step=0.25,
    required_elements=("Zr",),
)


@pytest.fixture(scope="module")
def gp_gate():
    return train_gate("gaussian_process_stability", metric_repeats=0)


def _every_row(gate, rules):
    """Brute force: every composition scored at once on the same vectorised path."""
    chunk = next(enumerate_candidates(rules, chunk_size=1_000_000))
    scored = gate.score_arrays(chunk.amounts, chunk.elements, chunk.si, with_std=True)
    unseen = [el in ("Lu", "Tm") for el in chunk.elements]
    extrap = (chunk.amounts[:, unseen] > 0).any(axis=1)
    formulas = [c.formula for c in chunk.compositions()]
    scored["m_set"] = [tuple(np.nonzero(row > 0)[0]) for row in chunk.amounts]
    return scored, extrap, formulas


# 38 rows tied with the best within its own std, in 18 M-element sets, 19 rows DFT-covered: 5
# takes one row of each of the 5 best sets, 25 and 30 run past the 18 sets into the other tied
# rows, 60 needs the fill by probability
@pytest.mark.parametrize("top", [5, 25, 30, 60])
def test_ehull_keep_returns_the_tied_rows_with_lowest_ehull(gp_gate, top):
    scored, extrap, formulas = _every_row(gp_gate, TIE_RULES)
    p, s, e = scored["probability"], scored["probability_std"], scored["ehull_1000K_meV_per_atom"]
    inside = np.nonzero(scored["in_domain"])[0]
    b = inside[np.argmax(p[inside])]
    tied = [i for i in inside if p[b] - p[i] <= s[b] + 1e-12]  # within the best's own std
    by_key = sorted(tied, key=lambda i: (extrap[i], e[i], i))
    # one row per M-element set (its lowest key), sets in that order; then the other tied rows
    firsts, seen = [], set()
    for i in by_key:
        if scored["m_set"][i] not in seen:
            seen.add(scored["m_set"][i])
            firsts.append(i)
    expected = firsts[:top]
    expected += [i for i in by_key if i not in expected][: top - len(expected)]
    fill = sorted((i for i in inside if i not in tied), key=lambda i: (-p[i], i))
    expected += fill[: top - len(expected)]
    assert len(firsts) < len(tied)  # several tied rows share a set: the per-set rule acts
    kept = screen_candidates(TIE_RULES, gp_gate, top=top, chunk_size=37, in_domain_only=True,
                             tie_break="ehull")
    assert kept.attrs["tie_break"] == "ehull" and kept.attrs["n_tied"] == len(tied)
    assert kept.attrs["n_tied_sets"] == len(firsts)
    assert kept.attrs["best"]["probability"] == pytest.approx(p[b], rel=1e-12)
    assert list(kept["composition"]) == [formulas[i] for i in expected]
    # the tie is kept, not the probability order: the default differs from the old keep when
    # more rows are tied than kept (the tie is the most probable rows, so a larger keep is the
    # same set, ordered differently)
    old = screen_candidates(TIE_RULES, gp_gate, top=top, in_domain_only=True)
    assert old.attrs["tie_break"] == "probability" and "n_tied" not in old.attrs
    if top < len(tied):
        assert set(old["composition"]) != set(kept["composition"])
        assert (kept["ehull_1000K_meV_per_atom"].median()
                < old["ehull_1000K_meV_per_atom"].median())
    else:
        assert set(old["composition"]) == set(kept["composition"])
    # DFT-covered rows first among the sets' representatives
    notes = list(kept["ehull_note"] != "")[: len(firsts)]
    assert notes == sorted(notes)


def test_ehull_keep_fills_a_small_tie_by_probability(gp_gate):
    scored, extrap, formulas = _every_row(gp_gate, TIE_RULES)
    p = scored["probability"]
    inside = np.nonzero(scored["in_domain"])[0]
    b = inside[np.argmax(p[inside])]
    # tie_sigma 0: only the best (and exact equals) tied; the rest filled by probability
    tied = [i for i in inside if p[i] >= p[b] - 1e-12]
    rest = sorted((i for i in inside if i not in tied), key=lambda i: (-p[i], i))
    kept = screen_candidates(TIE_RULES, gp_gate, top=6, chunk_size=50, in_domain_only=True,
                             tie_break="ehull", tie_sigma=0.0)
    assert kept.attrs["n_tied"] == len(tied) < 6
    expected = [formulas[i] for i in tied] + [formulas[i] for i in rest[: 6 - len(tied)]]
    assert list(kept["composition"]) == expected


def test_ehull_keep_falls_back_without_uncertainty_and_refuses_bad_options(gate, monkeypatch):
    import nasicon_workflows.classifier.gate as gate_module

    def no_std(self, X):
        return np.full(len(X), np.nan)

    monkeypatch.setattr(gate_module.SynthesizabilityGate, "probability_std", no_std)
    kept = screen_candidates(SMALL, gate, top=5, tie_break="ehull")
    old = screen_candidates(SMALL, gate, top=5, tie_break="probability")
    assert kept.attrs["tie_break"] == "probability"
    assert list(kept["composition"]) == list(old["composition"])
    assert kept.attrs["n_enumerated"] == old.attrs["n_enumerated"]
    with pytest.raises(EnumerationRulesError, match="tie_break must be one of"):
        screen_candidates(SMALL, gate, top=5, tie_break="noise")
    with pytest.raises(EnumerationRulesError, match="tie_sigma must be >= 0"):
        screen_candidates(SMALL, gate, top=5, tie_break="ehull", tie_sigma=-1)
