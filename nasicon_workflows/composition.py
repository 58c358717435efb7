"""NASICON compositions Na_{1+x+y} M_2 Si_x P_{3-x} O_12: parsing, validation, charge balance.

The NASICON formula unit has 2 octahedral M sites, 3 tetrahedral (Si, P) sites, 12 oxygen and
4 Na sites (one Na1 + three Na2 per formula unit, :data:`nasicon_workflows.constants.NA_SITES_PER_FU`),
of which 1 to 4 hold Na: more Na than sites is impossible and is refused with a
:class:`~nasicon_workflows.errors.SodiumRangeError`. Every cation that is
not Na, Si or P sits on the M site.

Oxidation states come from :data:`DEFAULT_OXIDATION_STATES`, the usual oxide valences used in
Table S2 of Zuo et al., Energy Environ. Sci. 2026, 19, 860 (DOI 10.1039/d5ee06594a), extended by a
few further cations that occur on the Zr site of NASICON phosphates. Users override it per call.

Examples
--------
>>> c = NasiconComposition.from_formula("Na3.5Zr1.0Ti0.5Lu0.5Si2PO12")
>>> c.m_site_fractions["Lu"]
0.25
>>> NasiconComposition.from_formula("Zr1.5Lu0.5Si2PO12").na  # Na from charge neutrality
3.5
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from nasicon_workflows.constants import NA_SITES_PER_FU
from nasicon_workflows.errors import (
    ChargeBalanceError,
    FormulaParseError,
    InvalidMSiteElementError,
    MSiteSumError,
    NonPositiveAmountError,
    OxygenCountError,
    SodiumRangeError,
    TetrahedralSumError,
    UnknownElementError,
)

__all__ = [
    "DEFAULT_OXIDATION_STATES",
    "FRAMEWORK_OXIDATION_STATES",
    "M_SITES_PER_FU",
    "NA_SITES_PER_FU",
    "NasiconComposition",
    "parse_formula",
]

#: M (octahedral) sites per formula unit.
M_SITES_PER_FU = 2
#: Tetrahedral (Si/P) sites per formula unit.
T_SITES_PER_FU = 3
#: Oxygen per formula unit.
O_PER_FU = 12
#: Tolerance on site sums and charge (formula units), as required by the composition model.
SUM_TOLERANCE = 1e-6
#: NASICON Na range per formula unit (inclusive): NaM2(PO4)3 (Na1 site full) to all four Na sites
#: full (Na4Zr2Si3O12). The upper bound is the number of Na sites, the one shared constant.
NA_RANGE = (1.0, float(NA_SITES_PER_FU))
#: Polyanion-site elements the composition model cannot hold (sulfate NASICONs such as those of
#: Ouyang et al., Nat. Commun. 2021, 12, 5752): refused with a clear reason.
_UNSUPPORTED_POLYANION = frozenset({"S"})

#: Framework ions, never on the M site.
FRAMEWORK_OXIDATION_STATES = MappingProxyType({"Na": 1, "Si": 4, "P": 5, "O": -2})

#: Default M-site oxidation states: the oxide valences of Table S2 (Zuo et al. 2026, SI; Ca, Mg,
#: Zn 2; Al, Ga, In, Sc, Y, La, Nd, Gd, Er, Tm, Yb, Lu, Bi 3; Ti, Zr, Hf, Sn, Ge, Ce, Ir 4; Nb, Ta 5;
#: Mo, W 6) plus the common oxide valence of further cations known on the NASICON M site.
DEFAULT_OXIDATION_STATES: Mapping[str, int] = MappingProxyType(
    {
        # +2
        "Mg": 2, "Ca": 2, "Zn": 2, "Co": 2, "Ni": 2, "Cd": 2, "Mn": 2, "Cu": 2,
        # +3
        "Al": 3, "Ga": 3, "In": 3, "Sc": 3, "Y": 3, "La": 3, "Pr": 3, "Nd": 3, "Sm": 3,
        "Eu": 3, "Gd": 3, "Tb": 3, "Dy": 3, "Ho": 3, "Er": 3, "Tm": 3, "Yb": 3, "Lu": 3,
        "Bi": 3, "Fe": 3, "Cr": 3, "V": 3,
        # +4
        "Ti": 4, "Zr": 4, "Hf": 4, "Sn": 4, "Ge": 4, "Ce": 4, "Ir": 4, "Th": 4,
        # +5
        "Nb": 5, "Ta": 5, "Sb": 5,
        # +6
        "Mo": 6, "W": 6,
    }
)

# Every element symbol of the periodic table (for "unknown element" vs "not an M cation").
_ELEMENTS = frozenset(
    """H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu Zn Ga Ge As
    Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm Eu Gd Tb
    Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am Cm Bk
    Cf Es Fm Md No Lr Rf Db Sg Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts Og""".split()
)
# Anions and noble gases can never be cations on the octahedral site.
_NEVER_M = frozenset("H He C N F Ne S Cl Ar Se Br Kr Te I Xe At Rn".split()) | {"O"}

_SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉.", "0123456789.")
_TOKEN = re.compile(r"\s*(?:(?P<el>[A-Z][a-z]?)|(?P<num>-?\d+(?:\.\d*)?|-?\.\d+)|(?P<open>\()|(?P<close>\)))")


def _normalise_text(formula: str) -> str:
    """Strip LaTeX-like subscripts (``Na_{3.4}``), unicode subscripts and spaces."""
    text = formula.translate(_SUBSCRIPTS)
    text = text.replace("_", "").replace("{", "").replace("}", "").replace("$", "")
    return "".join(text.split())


def parse_formula(formula: str) -> dict[str, float]:
    """Read a chemical formula into element amounts, expanding parentheses.

    Parameters
    ----------
    formula
        Text such as ``Na3Zr2(SiO4)2(PO4)``, ``Na_{3.4}Zr_{1.8}Mg_{0.2}Si_2PO_{12}`` or
        ``Na₃Zr₂Si₂PO₁₂``. A symbol without a number counts once.

    Returns
    -------
    dict
        Element symbol to amount (per formula unit as written). Repeated symbols are added.

    Raises
    ------
    FormulaParseError
        Text that is not a formula (stray characters, unbalanced parentheses, empty).
    UnknownElementError
        A capitalised symbol that is not an element.
    NonPositiveAmountError
        An amount that is zero or negative.
    """
    if not isinstance(formula, str) or not formula.strip():
        raise FormulaParseError(
            f"Empty or non-text formula {formula!r}: give a formula such as 'Na3Zr2Si2PO12'."
        )
    text = _normalise_text(formula)
    stack: list[dict[str, float]] = [{}]
    last: tuple[str, dict[str, float]] | None = None  # what a following number multiplies
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise FormulaParseError(
                f"Cannot parse formula {formula!r}: unexpected {text[pos:pos + 6]!r} at position "
                f"{pos}. Use element symbols with amounts, e.g. 'Na3.4Zr1.8Mg0.2Si2PO12'."
            )
        pos = match.end()
        if match["el"]:
            symbol = match["el"]
            if symbol not in _ELEMENTS:
                raise UnknownElementError(
                    f"Unknown element {symbol!r} in formula {formula!r}: check the spelling and the "
                    "capitalisation of the element symbols."
                )
            stack[-1][symbol] = stack[-1].get(symbol, 0.0) + 1.0
            last = ("el", {symbol: 1.0})
        elif match["num"]:
            value = float(match["num"])
            if last is None:
                raise FormulaParseError(
                    f"Cannot parse formula {formula!r}: the number {match['num']} does not follow "
                    "an element symbol or a closing parenthesis."
                )
            kind, counted = last
            if value <= 0:
                what = next(iter(counted)) if kind == "el" else "a parenthesised group"
                raise NonPositiveAmountError(
                    f"Amount {match['num']} of {what} in formula {formula!r} is not positive: "
                    "every element needs an amount > 0 (leave out elements that are absent)."
                )
            for symbol, amount in counted.items():
                stack[-1][symbol] += amount * (value - 1.0)
            last = None
        elif match["open"]:
            stack.append({})
            last = None
        else:
            if len(stack) == 1:
                raise FormulaParseError(
                    f"Unbalanced parentheses in formula {formula!r}: ')' without '('."
                )
            group = stack.pop()
            for symbol, amount in group.items():
                stack[-1][symbol] = stack[-1].get(symbol, 0.0) + amount
            last = ("group", group)
    if len(stack) != 1:
        raise FormulaParseError(f"Unbalanced parentheses in formula {formula!r}: '(' is not closed.")
    amounts = stack[0]
    if not amounts:
        raise FormulaParseError(f"No element found in formula {formula!r}.")
    return amounts


def _fmt(value: float) -> str:
    """Short number for formulas: 2 -> '2', 0.5 -> '0.5', 1/3 -> '0.333333', 1 -> ''."""
    if abs(value - 1.0) < 1e-9:
        return ""
    return f"{value:.6f}".rstrip("0").rstrip(".")


def _num(value: float) -> str:
    """Number for error messages."""
    return f"{value:.6g}"


@dataclass(frozen=True)
class NasiconComposition:
    """A validated NASICON composition per formula unit.

    Build it with :meth:`from_formula` or :meth:`from_m_site`; the constructor validates.

    Attributes
    ----------
    m_site
        M-site cation amounts per formula unit (sum 2), ordered as given.
    na
        Na per formula unit.
    si, p
        Si and P per formula unit (sum 3); ``si`` is the NASICON x.
    oxidation_states
        Oxidation state of every M-site cation (framework ions are Na+1, Si+4, P+5, O-2).
    source
        The text the composition was read from, if any.
    recorded_excess_na
        True only for recorded nominal compositions with more Na than the 4 Na sites (the seven
        non-synthesizable rows 50-58 of Table S1 of Zuo et al. 2026 have Na 4.2-4.6): they are
        kept as labelled failures of synthesis, never accepted as candidates.
    """

    m_site: Mapping[str, float]
    na: float
    si: float = 2.0
    p: float = 1.0
    oxidation_states: Mapping[str, int] = field(default_factory=dict)
    source: str | None = None
    recorded_excess_na: bool = field(default=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "m_site", MappingProxyType(dict(self.m_site)))
        object.__setattr__(self, "oxidation_states", MappingProxyType(dict(self.oxidation_states)))
        self._validate()

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_formula(
        cls,
        formula: str,
        oxidation_states: Mapping[str, int] | None = None,
        per_12_oxygen: bool = False,
        allow_excess_na: bool = False,
    ) -> NasiconComposition:
        """Parse and validate a NASICON formula.

        Parameters
        ----------
        formula
            E.g. ``Na3.5Zr1.0Ti0.5Lu0.5Si2PO12``, ``Na3Zr2(SiO4)2(PO4)``,
            ``Na_{3.4}Zr_{1.8}Mg_{0.2}Si_2PO_{12}``. Without Na, Na follows from charge
            neutrality.
        oxidation_states
            Overrides of :data:`DEFAULT_OXIDATION_STATES` (element -> valence), e.g. ``{"Ce": 3}``
            or an oxidation state for a cation the default table lacks.
        per_12_oxygen
            Divide every amount by O / 12 first, so that formulas written per two (or more)
            formula units such as ``Na3Zr2Ti2SiP5O24`` (Ouyang et al., Nat. Commun. 2021, 12,
            5752) read as one formula unit (``Na1.5ZrTiSi0.5P2.5O12``). Without it, O must be 12.
        allow_excess_na
            Accept Na above the 4 Na sites, for recorded nominal compositions of a synthesis
            dataset only (e.g. the failed Na4.6 rows of Table S1); never for candidates.

        Raises
        ------
        InvalidCompositionError
            A subclass naming the problem: parse error, unknown element, element not allowed on
            the M site, M-site sum != 2, Si + P != 3, O != 12, non-positive amount, charge
            imbalance (with the net charge), Na outside 1-4 (:class:`SodiumRangeError`), a
            polyanion other than Si/P (:class:`TetrahedralSumError`).
        """
        amounts = parse_formula(formula)
        if per_12_oxygen and amounts.get("O", 0.0) > 0:
            scale = amounts["O"] / O_PER_FU
            amounts = {el: n / scale for el, n in amounts.items()}
        if _UNSUPPORTED_POLYANION & set(amounts):
            raise TetrahedralSumError(
                f"Formula {formula!r} holds S: sulfate (SO4) polyanions are not modelled; the "
                "NASICON composition model holds Si/P tetrahedra only (Si + P = 3 per formula unit)."
            )
        table = _oxidation_table(oxidation_states)
        m_site = {el: amt for el, amt in amounts.items() if el not in FRAMEWORK_OXIDATION_STATES}
        _check_m_elements(m_site, table, formula)
        o_amount = amounts.get("O", 0.0)
        if abs(o_amount - O_PER_FU) > SUM_TOLERANCE:
            raise OxygenCountError(
                f"Formula {formula!r} has O = {_num(o_amount)} per formula unit; a NASICON formula "
                f"unit has O = {O_PER_FU}. Write the formula per unit of 12 oxygen."
            )
        si, p = amounts.get("Si", 0.0), amounts.get("P", 0.0)
        ox = {el: table[el] for el in m_site}
        if "Na" in amounts:
            na = amounts["Na"]
        else:
            na = 2 * O_PER_FU - 4 * si - 5 * p - sum(ox[el] * n for el, n in m_site.items())
        return cls(
            m_site=m_site,
            na=na,
            si=si,
            p=p,
            oxidation_states=ox,
            source=formula,
            recorded_excess_na=allow_excess_na,
        )

    @classmethod
    def from_m_site(
        cls,
        m_site: Mapping[str, float],
        si: float = 2.0,
        oxidation_states: Mapping[str, int] | None = None,
    ) -> NasiconComposition:
        """Composition from M-site amounts (sum 2) and Si content; Na from charge neutrality."""
        table = _oxidation_table(oxidation_states)
        _check_m_elements(m_site, table, repr(dict(m_site)))
        ox = {el: table[el] for el in m_site}
        p = T_SITES_PER_FU - si
        na = 2 * O_PER_FU - 4 * si - 5 * p - sum(ox[el] * n for el, n in m_site.items())
        return cls(m_site=dict(m_site), na=na, si=si, p=p, oxidation_states=ox)

    # ------------------------------------------------------------------ validation
    def _validate(self) -> None:
        label = self.source or self.formula
        for el, amount in self.m_site.items():
            if amount <= 0:
                raise NonPositiveAmountError(
                    f"M-site amount of {el} in {label!r} is {_num(amount)}: amounts must be > 0."
                )
            if el not in self.oxidation_states:
                raise InvalidMSiteElementError(
                    f"No oxidation state for M-site cation {el} in {label!r}: pass "
                    f"oxidation_states={{'{el}': valence}}."
                )
        if not self.m_site:
            raise MSiteSumError(
                f"Formula {label!r} has no M-site cation; NASICON needs 2 M cations per formula "
                "unit (e.g. Zr2)."
            )
        m_sum = sum(self.m_site.values())
        if abs(m_sum - M_SITES_PER_FU) > SUM_TOLERANCE:
            raise MSiteSumError(
                f"M-site cations of {label!r} sum to {m_sum:.6g} per formula unit; they must sum to "
                f"{M_SITES_PER_FU} (tolerance {SUM_TOLERANCE:g}). Adjust the dopant amounts."
            )
        for name, amount in (("Si", self.si), ("P", self.p)):
            if amount < 0:
                raise NonPositiveAmountError(f"{name} amount in {label!r} is negative ({amount}).")
        t_sum = self.si + self.p
        if abs(t_sum - T_SITES_PER_FU) > SUM_TOLERANCE:
            raise TetrahedralSumError(
                f"Si + P of {label!r} is {t_sum:.6g} per formula unit (Si {_num(self.si)}, "
                f"P {_num(self.p)}); it must be {T_SITES_PER_FU}. E.g. Si2P1 for Na3Zr2Si2PO12."
            )
        if self.na <= 0:
            raise NonPositiveAmountError(
                f"Na of {label!r} is {_num(self.na)}: the formula needs a positive Na content "
                "(charge neutrality with these cations leaves no room for Na)."
            )
        net = self.net_charge
        if abs(net) > SUM_TOLERANCE:
            raise ChargeBalanceError(
                f"Formula {label!r} is not charge balanced: net charge {net:+.4g} e per formula "
                f"unit (Na {_num(self.na)}). Leave Na out to derive it from neutrality, or change "
                "the cation amounts or oxidation states."
            )
        lo, hi = NA_RANGE
        if self.na > hi + SUM_TOLERANCE and not self.recorded_excess_na:
            raise SodiumRangeError(
                f"Na = {_num(self.na)} per formula unit in {label!r} is outside the NASICON range "
                f"{lo:g} <= Na <= {hi:g}: the framework has only {NA_SITES_PER_FU:g} Na sites per "
                "formula unit (Na1 + 3 Na2). Use higher-valent dopants or more P to lower Na."
            )
        if self.na < lo - SUM_TOLERANCE:
            raise SodiumRangeError(
                f"Na = {_num(self.na)} per formula unit in {label!r} is outside the NASICON range "
                f"{lo:g} <= Na <= {hi:g}: below Na1 the Na1 site is not full. Choose dopant "
                "valences that keep Na within it."
            )

    # ------------------------------------------------------------------ properties
    @property
    def net_charge(self) -> float:
        """Net charge per formula unit (e); zero for a valid composition."""
        cations = self.na + 4 * self.si + 5 * self.p
        cations += sum(self.oxidation_states[el] * n for el, n in self.m_site.items())
        return cations - 2 * O_PER_FU

    @property
    def is_charge_balanced(self) -> bool:
        """True when the net charge is zero within the tolerance."""
        return abs(self.net_charge) <= SUM_TOLERANCE

    @property
    def x(self) -> float:
        """The NASICON Si content x of Na_{1+x}Zr_2Si_xP_{3-x}O_12."""
        return self.si

    @property
    def m_site_fractions(self) -> dict[str, float]:
        """Site fractions on the M site (amount / 2); they sum to 1."""
        return {el: n / M_SITES_PER_FU for el, n in self.m_site.items()}

    @property
    def elements(self) -> tuple[str, ...]:
        """M-site elements in the order given."""
        return tuple(self.m_site)

    @property
    def n_m_cations(self) -> int:
        """Number of distinct M-site cations."""
        return len(self.m_site)

    @property
    def formula(self) -> str:
        """Canonical formula: Na, M cations in the given order, Si, P, O12."""
        parts = [f"Na{_fmt(self.na)}"]  # amounts of exactly 1 are written without a number
        parts += [f"{el}{_fmt(n)}" for el, n in self.m_site.items()]
        parts += [f"{el}{_fmt(n)}" for el, n in (("Si", self.si), ("P", self.p)) if n > 0]
        parts.append(f"O{O_PER_FU}")
        return "".join(parts)

    @property
    def amounts(self) -> dict[str, float]:
        """All element amounts per formula unit."""
        out = {"Na": self.na, **dict(self.m_site), "Si": self.si, "P": self.p, "O": float(O_PER_FU)}
        return {el: n for el, n in out.items() if n > 0}

    @property
    def all_oxidation_states(self) -> dict[str, int]:
        """Oxidation states of every element, framework ions included."""
        return {**FRAMEWORK_OXIDATION_STATES, **dict(self.oxidation_states)}

    def to_pymatgen(self):
        """The composition as a :class:`pymatgen.core.Composition`."""
        from pymatgen.core import Composition

        return Composition(self.amounts)

    def __str__(self) -> str:
        return self.formula


def _oxidation_table(overrides: Mapping[str, int] | None) -> dict[str, int]:
    table = dict(DEFAULT_OXIDATION_STATES)
    if overrides:
        for el, ox in overrides.items():
            if el not in _ELEMENTS:
                raise UnknownElementError(f"Unknown element {el!r} in oxidation_states.")
            table[el] = int(ox)
    return table


def _check_m_elements(m_site: Mapping[str, float], table: Mapping[str, int], label: str) -> None:
    for el, amount in m_site.items():
        if el not in _ELEMENTS:
            raise UnknownElementError(f"Unknown element {el!r} in {label}.")
        if el in _NEVER_M:
            raise InvalidMSiteElementError(
                f"{el} in {label} cannot sit on the octahedral M site (it is an anion or a noble "
                "gas). NASICON M-site cations are metals such as Zr, Ti, Sc, Mg."
            )
        if el not in table:
            raise InvalidMSiteElementError(
                f"{el} in {label} is not a known M-site cation (no default oxidation state); "
                "allowed by default: " + ", ".join(sorted(table)) + ". If it belongs on the M site, "
                f"pass oxidation_states={{'{el}': valence}}."
            )
        if amount <= 0:
            raise NonPositiveAmountError(f"Amount of {el} in {label} is {amount}: must be > 0.")
