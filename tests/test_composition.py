"""Composition model: parsing, derived quantities and every malformed-input error."""

from __future__ import annotations

import math

import pytest

from nasicon_workflows.composition import (
    DEFAULT_OXIDATION_STATES,
    NasiconComposition,
    parse_formula,
)
from nasicon_workflows.errors import (
    ChargeBalanceError,
    FormulaParseError,
    InvalidCompositionError,
    InvalidMSiteElementError,
    MSiteSumError,
    NonPositiveAmountError,
    OxygenCountError,
    SodiumRangeError,
    TetrahedralSumError,
    UnknownElementError,
)


@pytest.mark.parametrize(
    "formula",
    [
        "Na3Zr2Si2PO12",
        "Na3Zr2(SiO4)2(PO4)",
        "Na_{3}Zr_{2}Si_2PO_{12}",
        "Na₃Zr₂Si₂PO₁₂",
        "Zr2Si2PO12",
        "Na3 Zr2 Si2 P O12",
    ],
)
def test_parent_written_many_ways(formula):
    comp = NasiconComposition.from_formula(formula)
    assert comp.m_site == {"Zr": 2.0}
    assert comp.na == pytest.approx(3.0)
    assert (comp.si, comp.p) == (pytest.approx(2.0), pytest.approx(1.0))
    assert comp.x == comp.si
    assert comp.formula == "Na3Zr2Si2PO12"


def test_me1_composition_fractions_and_charge():
    comp = NasiconComposition.from_formula("Na3.5Zr1.0Ti0.5Lu0.5Si2PO12")
    assert comp.m_site_fractions == {"Zr": 0.5, "Ti": 0.25, "Lu": 0.25}
    assert comp.oxidation_states == {"Zr": 4, "Ti": 4, "Lu": 3}
    # 3.5 + 4*1 + 4*0.5 + 3*0.5 + 4*2 + 5*1 - 24 = 0
    assert comp.net_charge == pytest.approx(0.0, abs=1e-12)
    assert comp.is_charge_balanced
    assert comp.n_m_cations == 3


def test_latex_subscripts_and_na_derived():
    given = NasiconComposition.from_formula("Na_{3.4}Zr_{1.8}Mg_{0.2}Si_2PO_{12}")
    derived = NasiconComposition.from_formula("Zr1.8Mg0.2Si2PO12")
    assert given.na == pytest.approx(3.4)
    # Na = 24 - 4*2 - 5*1 - (4*1.8 + 2*0.2) = 3.4
    assert derived.na == pytest.approx(3.4)
    assert derived.m_site == given.m_site


def test_parentheses_multiply_groups():
    assert parse_formula("Na3Zr2(SiO4)2(PO4)") == {
        "Na": 3.0,
        "Zr": 2.0,
        "Si": 2.0,
        "O": 12.0,
        "P": 1.0,
    }
    assert parse_formula("Ca(OH)2") == {"Ca": 1.0, "O": 2.0, "H": 2.0}


def test_oxidation_state_override_changes_na():
    # Ce3+ instead of the default Ce4+ needs 0.5 more Na per 0.5 Ce.
    default = NasiconComposition.from_formula("Zr1.5Ce0.5Si2PO12")
    reduced = NasiconComposition.from_formula("Zr1.5Ce0.5Si2PO12", oxidation_states={"Ce": 3})
    assert default.na == pytest.approx(3.0)
    assert reduced.na == pytest.approx(3.5)
    assert DEFAULT_OXIDATION_STATES["Ce"] == 4


def test_x_range_phosphate_and_silicate_end_members():
    phosphate = NasiconComposition.from_formula("NaZr2P3O12")
    silicate = NasiconComposition.from_formula("Na4Zr2Si3O12")
    assert (phosphate.na, phosphate.x) == (1.0, 0.0)
    assert (silicate.na, silicate.x) == (4.0, 3.0)


def test_from_m_site_matches_formula():
    comp = NasiconComposition.from_m_site({"Zr": 1.5, "Lu": 0.5})
    assert comp.na == pytest.approx(3.5)
    assert comp.formula == "Na3.5Zr1.5Lu0.5Si2PO12"
    parsed = NasiconComposition.from_formula("Na3.5Zr1.5Lu0.5Si2PO12")
    assert (comp.m_site, comp.na, comp.si, comp.p) == (parsed.m_site, parsed.na, parsed.si, parsed.p)


def test_to_pymatgen_amounts():
    comp = NasiconComposition.from_formula("Na3.5Zr1.5Lu0.5Si2PO12")
    pmg = comp.to_pymatgen()
    assert pmg["Na"] == pytest.approx(3.5)
    assert pmg["Lu"] == pytest.approx(0.5)
    assert pmg["O"] == pytest.approx(12)


def test_composition_is_immutable():
    comp = NasiconComposition.from_formula("Na3Zr2Si2PO12")
    with pytest.raises(TypeError):
        comp.m_site["Zr"] = 1.0  # type: ignore[index]


# --- malformed inputs: (formula, error type, words the message must contain) ---------------------
MALFORMED = [
    ("", FormulaParseError, ["empty"]),
    ("   ", FormulaParseError, ["empty"]),
    ("Na3Zr2Si2PO12!", FormulaParseError, ["cannot parse", "'!'"]),
    ("Na3Zr2Si2PO12)", FormulaParseError, ["unbalanced", "')'"]),
    ("Na3Zr2(SiO4", FormulaParseError, ["unbalanced", "not closed"]),
    ("3Na3Zr2Si2PO12", FormulaParseError, ["does not follow"]),
    ("na3zr2si2po12", FormulaParseError, ["cannot parse"]),
    ("Na3Xx2Si2PO12", UnknownElementError, ["unknown element", "'Xx'"]),
    ("Na3Zr1.8Qq0.2Si2PO12", UnknownElementError, ["'Qq'"]),
    ("Na3Zr1.9Cl0.1Si2PO12", InvalidMSiteElementError, ["Cl", "cannot sit on the octahedral M site"]),
    ("Na3Zr1.9F0.1Si2PO12", InvalidMSiteElementError, ["F", "anion"]),
    ("Na3Zr1.9Li0.1Si2PO12", InvalidMSiteElementError, ["Li", "not a known M-site cation"]),
    ("Na3Zr1.9Os0.1Si2PO12", InvalidMSiteElementError, ["oxidation_states"]),
    ("Na3Zr2.1Si2PO12", MSiteSumError, ["sum to 2.1", "must sum to 2"]),
    ("Na3Zr1.9Si2PO12", MSiteSumError, ["sum to 1.9"]),
    ("Na3.5Zr1.5Lu0.4Si2PO12", MSiteSumError, ["sum to 1.9"]),
    ("Na3Si2PO12", MSiteSumError, ["no M-site cation"]),
    ("Na3Zr2Si2P2O12", TetrahedralSumError, ["Si + P", "is 4"]),
    ("Na3Zr2SiPO12", TetrahedralSumError, ["is 2"]),
    ("Na3Zr2Si2PO11", OxygenCountError, ["O = 11", "12"]),
    ("Na3Zr2Si2P", OxygenCountError, ["O = 0"]),
    ("Na3Zr2Si2PO12.5", OxygenCountError, ["O = 12.5"]),
    ("Na3Zr2.2Mg-0.2Si2PO12", NonPositiveAmountError, ["not positive", "Mg"]),
    ("Na3Zr2Mg0Si2PO12", NonPositiveAmountError, ["not positive", "Mg"]),
    ("Na0Zr2Si2PO12", NonPositiveAmountError, ["Na"]),
    ("Na3.2Zr2Si2PO12", ChargeBalanceError, ["not charge balanced", "+0.2"]),
    ("Na3Zr1.8Mg0.2Si2PO12", ChargeBalanceError, ["net charge -0.4"]),
    ("Na0.5Zr1.5Nb0.5P3O12", SodiumRangeError, ["outside the NASICON range", "Na = 0.5"]),
    ("Zr1Mg1Si3O12", SodiumRangeError, ["Na = 6"]),
    ("Na6Zr1Mg1Si3O12", SodiumRangeError, ["Na = 6"]),
]


@pytest.mark.parametrize(("formula", "error", "words"), MALFORMED, ids=[m[0] or "empty" for m in MALFORMED])
def test_malformed_formula_raises_typed_error(formula, error, words):
    with pytest.raises(error) as info:
        NasiconComposition.from_formula(formula)
    message = str(info.value).lower()
    for word in words:
        assert word.lower() in message, f"{word!r} not in {message!r}"
    # every composition error is also a ValueError the caller can catch generically
    assert isinstance(info.value, InvalidCompositionError)
    assert isinstance(info.value, ValueError)


def test_at_least_twenty_malformed_cases():
    assert len(MALFORMED) >= 20


def test_non_string_input():
    with pytest.raises(FormulaParseError):
        NasiconComposition.from_formula(None)  # type: ignore[arg-type]


def test_unknown_element_in_oxidation_override():
    with pytest.raises(UnknownElementError, match="Zz"):
        NasiconComposition.from_formula("Na3Zr2Si2PO12", oxidation_states={"Zz": 3})


def test_net_charge_reported_value_matches_arithmetic():
    with pytest.raises(ChargeBalanceError) as info:
        NasiconComposition.from_formula("Na3.3Zr1.5Lu0.5Si2PO12")
    # 3.3 + 6 + 1.5 + 8 + 5 - 24 = -0.2
    assert "-0.2" in str(info.value)
    assert math.isclose(3.3 + 6 + 1.5 + 8 + 5 - 24, -0.2, abs_tol=1e-9)


def test_na_above_the_four_na_sites_is_refused():
    """Na4.2 used to parse (limit 5) and gave a negative Na/vacancy entropy."""
    with pytest.raises(SodiumRangeError, match="4 Na sites"):
        NasiconComposition.from_formula("Na4.2Zr1.8Y0.2Si3O12")
    with pytest.raises(SodiumRangeError, match="Na = 4.6"):
        NasiconComposition.from_formula("Na4.6Zr0.4Zn0.4Sn0.4Hf0.4Mg0.4Si2PO12")
    # the filled end member is allowed, and so is a recorded failed composition when asked
    assert NasiconComposition.from_formula("Na4Zr2Si3O12").na == 4
    rec = NasiconComposition.from_formula(
        "Na4.6Zr0.4Zn0.4Sn0.4Hf0.4Mg0.4Si2PO12", allow_excess_na=True
    )
    assert rec.na == pytest.approx(4.6)


def test_formulas_per_two_formula_units_and_polyanion_groups():
    """Ouyang et al. 2021 write formulas per 2 f.u. and with (PO4) groups."""
    c = NasiconComposition.from_formula("Na3Zr2Ti2SiP5O24", per_12_oxygen=True)
    assert (c.na, c.si, c.p) == pytest.approx((1.5, 0.5, 2.5))
    assert dict(c.m_site) == pytest.approx({"Zr": 1.0, "Ti": 1.0})
    c = NasiconComposition.from_formula("Na3MgZr(PO4)3", per_12_oxygen=True)
    assert (c.na, c.p) == pytest.approx((3.0, 3.0))
    with pytest.raises(OxygenCountError):
        NasiconComposition.from_formula("Na3Zr2Ti2SiP5O24")
    with pytest.raises(TetrahedralSumError, match="sulfate"):
        NasiconComposition.from_formula("NaMgAl3(SO4)6", per_12_oxygen=True)
