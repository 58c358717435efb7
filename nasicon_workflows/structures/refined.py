"""Refined (partial) occupancies: read, validate every defect at once, repair on request.

Inputs
------
* the shipped JSON of Tables S4-S7 of Zuo et al. 2026 (:func:`load_refinement`),
* a CIF with partial occupancies (:meth:`Refinement.from_cif`),
* a simple table: Wyckoff site -> element -> occupancy plus lattice lengths
  (:meth:`Refinement.from_table`; dict, JSON or CSV).

Validation (:func:`validate_refinement`) returns a list of :class:`Defect` (kind, site, expected,
found): occupancy sum per site above 1, under-filled framework sites, composition against the
nominal formula, charge neutrality, missing sites, impossible interatomic distances, missing
lattice parameters. :func:`ingest_refinement` raises :class:`RefinementDefectError` with that
list in ``strict`` mode; ``repair`` mode rebuilds the structure on the validated framework and
logs every change (:class:`RepairEntry`).
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field, PrivateAttr
from pymatgen.core import Lattice, Structure

from nasicon_workflows.composition import (
    DEFAULT_OXIDATION_STATES,
    FRAMEWORK_OXIDATION_STATES,
    NasiconComposition,
)
from nasicon_workflows.errors import InvalidCompositionError
from nasicon_workflows.structures.exceptions import (
    MalformedStructureError,
    RefinementDefectError,
    UnknownReferenceError,
)
from nasicon_workflows.structures.occupancy import (
    default_na_preference,
    load_refined_tables_json,
    na_site_occupancies,
)
from nasicon_workflows.structures.parent import (
    BV_R0_OXIDE_A,
    FRAMEWORK_BETA_DEG,
    NA_LABELS,
    O_LABELS,
    SITE_LABELS,
    SITE_MULTIPLICITY,
    SITE_WYCKOFF,
    Z_CONVENTIONAL,
    _r0,
    base_label,
    build_on_framework,
    framework_geometry,
    framework_lattice,
)
from nasicon_workflows.structures.schemas import Defect, RepairEntry

__all__ = [
    "OCCUPANCY_TOLERANCE",
    "REFINED_LABELS",
    "Refinement",
    "RefinedSite",
    "ingest_refinement",
    "load_refinement",
    "repair_refinement",
    "validate_refinement",
    "validate_structure",
]

#: Labels of the refinements shipped with the package (Tables S4-S7).
REFINED_LABELS = ("ME1-NZSP", "ME2-NZSP", "HE1-NZSP", "HE2-NZSP")
#: Tolerance on site occupancy sums (Rietveld occupancies carry ~0.01 uncertainty).
OCCUPANCY_TOLERANCE = 0.01
#: Tolerance on element amounts (per formula unit) against the nominal formula and on the net
#: charge (e per formula unit): refined formulas differ from nominal by up to 0.02 (Table S4-S7).
AMOUNT_TOLERANCE = 0.05
#: Shortest allowed distance as a fraction of the bond-valence bond length (0.9: a 10 % shorter
#: bond carries 1.3x the valence; nothing in a sound oxide is shorter).
DISTANCE_FRACTION = 0.9
#: Shortest allowed O-O distance (Å): the shortest edge of a PO4 tetrahedron is ~2.45 Å.
MIN_O_O_A = 2.2
#: Assumed coordination numbers for the bond-valence reference length.
_CN = {"Na": 6, "M": 6, "T": 4}


class RefinedSite(BaseModel):
    """One element on one crystallographic site of a refinement table."""

    wyckoff: str = Field(description="Wyckoff position, e.g. '8f'")
    element: str
    occupancy: float
    x: float | None = None
    y: float | None = None
    z: float | None = None
    label: str | None = Field(None, description="framework label if known (CIF input)")


class Refinement(BaseModel):
    """A refinement table: lattice (Å, degrees; None = not reported) and refined sites."""

    label: str
    source: str = ""
    nominal_composition: str | None = None
    a: float | None = None
    b: float | None = None
    c: float | None = None
    beta: float | None = None
    sites: list[RefinedSite]
    z_formula_units: float = Z_CONVENTIONAL
    # The full structure when the refinement was read from a CIF/Structure (any setting); its
    # own coordinates are then used instead of a C2/c expansion of one site per label.
    _structure: Structure | None = PrivateAttr(default=None)

    @classmethod
    def from_json_entry(cls, entry: Mapping, source: str = "") -> Refinement:
        """From one entry of the Tables S4-S7 JSON (``"not reported"`` -> None)."""

        def number(key: str) -> float | None:
            value = entry.get(key)
            return float(value) if isinstance(value, (int, float)) else None

        try:
            sites = [RefinedSite(**site) for site in entry["sites"]]
            return cls(
                label=entry.get("label", "refinement"), source=source or entry.get("table", ""),
                nominal_composition=entry.get("nominal_composition"),
                a=number("a"), b=number("b"), c=number("c"), beta=number("beta"), sites=sites,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise MalformedStructureError(f"Refinement entry is malformed: {exc}") from exc

    @classmethod
    def from_table(
        cls, table: Mapping | str | Path, label: str | None = None,
        lattice: Mapping[str, float] | None = None, nominal_composition: str | None = None,
    ) -> Refinement:
        """From a simple table: a dict/JSON like the Tables S4-S7 entries, or a CSV file.

        Parameters
        ----------
        table
            A mapping with ``sites`` (list of {wyckoff, element, occupancy[, x, y, z]}) and
            optional ``a``, ``b``, ``c``, ``beta``; or a path to such a JSON; or a CSV path with
            columns ``wyckoff,element,occupancy`` (optional ``x,y,z``).
        label, lattice, nominal_composition
            Name, lattice ``{"a":, "b":, "c":, "beta":}`` (Å, degrees) and nominal formula,
            overriding what the table holds.
        """
        if isinstance(table, (str, Path)):
            path = Path(table)
            if not path.is_file():
                raise MalformedStructureError(f"Table file {path} does not exist.")
            text = path.read_text()
            if path.suffix.lower() == ".csv":
                rows = list(csv.DictReader(io.StringIO(text)))
                missing = {"wyckoff", "element", "occupancy"} - set(rows[0] if rows else {})
                if missing:
                    raise MalformedStructureError(
                        f"CSV table {path} lacks column(s) {sorted(missing)}; it needs "
                        "wyckoff,element,occupancy (and optionally x,y,z)."
                    )
                table = {"sites": [{k: v for k, v in r.items() if v not in (None, "")} for r in rows]}
            else:
                try:
                    table = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise MalformedStructureError(f"Table file {path} is not valid JSON: {exc}") from exc
            label = label or path.stem
        entry = dict(table)
        entry.update(lattice or {})
        if label:
            entry["label"] = label
        if nominal_composition:
            entry["nominal_composition"] = nominal_composition
        return cls.from_json_entry(entry)

    @classmethod
    def from_cif(cls, path: str | Path, nominal_composition: str | None = None) -> Refinement:
        """From a CIF with (partial) occupancies; sites are grouped by their CIF labels."""
        from pymatgen.io.cif import CifParser

        path = Path(path)
        if not path.is_file():
            raise MalformedStructureError(f"CIF file {path} does not exist.")
        try:
            with _quiet_warnings():
                parser = CifParser(str(path), occupancy_tolerance=100.0)
                structures = parser.parse_structures(primitive=False)
                raw = _raw_cif_occupancies(parser)
        except Exception as exc:  # pymatgen raises ValueError/KeyError/... for broken CIFs
            raise MalformedStructureError(
                f"Cannot read {path} as a CIF structure ({type(exc).__name__}: {exc}). Check the "
                "cell, symmetry and _atom_site loops."
            ) from exc
        if not structures:
            raise MalformedStructureError(f"{path} holds no structure.")
        # pymatgen scales occupancies above 1 down to 1; keep the values the CIF states.
        return refinement_from_structure(structures[0], label=path.stem,
                                         nominal_composition=nominal_composition,
                                         occupancies=raw)


def _raw_cif_occupancies(parser) -> dict[str, dict[str, float]]:
    """label -> {element: occupancy} exactly as written in the CIF's _atom_site loop."""
    import re

    out: dict[str, dict[str, float]] = {}
    for block in parser._cif.data.values():  # noqa: SLF001 - the parsed CIF text is not public API
        data = block.data
        labels = data.get("_atom_site_label")
        symbols = data.get("_atom_site_type_symbol", labels)
        if not labels:
            continue
        occs = data.get("_atom_site_occupancy", ["1"] * len(labels))
        for label, symbol, occ in zip(labels, symbols, occs):
            match = re.match(r"[A-Z][a-z]?", symbol)
            if match is None:
                continue
            value = float(re.sub(r"\(.*\)", "", occ)) if occ not in (".", "?") else 1.0
            out.setdefault(label, {})[match.group(0)] = value
        break
    return out


class _quiet_warnings:
    """Silence pymatgen's CIF warnings (the validation reports the problems instead)."""

    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore")

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


def refinement_from_structure(
    structure: Structure, label: str = "structure", nominal_composition: str | None = None,
    occupancies: Mapping[str, Mapping[str, float]] | None = None,
) -> Refinement:
    """A :class:`Refinement` of a (disordered) conventional C2/c structure, grouped by site label.

    ``occupancies`` (label -> {element: occupancy}) overrides the structure's occupancies, e.g.
    with the unscaled values of a CIF.
    """
    import spglib

    labels = [site.label or site.species_string for site in structure]
    kinds = sorted(set(labels))
    dataset = spglib.get_symmetry_dataset(
        (structure.lattice.matrix, structure.frac_coords, [kinds.index(x) for x in labels]),
        symprec=1e-2,
    )
    sites: list[RefinedSite] = []
    seen: dict[str, int] = defaultdict(int)
    first: dict[str, int] = {}
    for i, lab in enumerate(labels):
        seen[lab] += 1
        first.setdefault(lab, i)
    for lab, i in first.items():
        site = structure[i]
        letter = dataset.wyckoffs[i] if dataset is not None else "?"
        wyckoff = f"{seen[lab]}{letter}"
        x, y, z = (float(v) for v in site.frac_coords)
        species = {sp.symbol: float(occ) for sp, occ in site.species.items()}
        if occupancies and lab in occupancies:
            species = dict(occupancies[lab])
        for el, occ in species.items():
            sites.append(RefinedSite(wyckoff=wyckoff, element=el, occupancy=occ,
                                     x=x, y=y, z=z, label=base_label(lab)))
    lat = structure.lattice
    v_fu = framework_geometry()[0].volume / Z_CONVENTIONAL
    ref = Refinement(
        label=label, source=label, nominal_composition=nominal_composition,
        a=lat.a, b=lat.b, c=lat.c, beta=lat.beta, sites=sites,
        z_formula_units=float(max(1, round(lat.volume / v_fu))),
    )
    ref._structure = structure.copy()
    return ref


def _relabelled(ref: Refinement, groups: Mapping[str, list[RefinedSite]]) -> Structure | None:
    """The refinement's own structure with its sites relabelled to framework labels."""
    if ref._structure is None:
        return None
    label_map = {s.label: lab for lab, members in groups.items() for s in members}
    structure = ref._structure.copy()
    for site in structure:
        site.label = label_map.get(base_label(site.label or ""), site.label)
    return structure


def load_refinement(label: str) -> Refinement:
    """One of the shipped Tables S4-S7 refinements, exactly as published (defects included).

    Raises
    ------
    UnknownReferenceError
        For a label not in :data:`REFINED_LABELS` (the message lists them).
    """
    data = load_refined_tables_json()
    for entry in data["refinements"]:
        if entry["label"] == label:
            return Refinement.from_json_entry(entry, source=f"{entry['table']}, {data['source']}")
    raise UnknownReferenceError(
        f"Unknown refinement label {label!r}; available: {', '.join(REFINED_LABELS)}."
    )


# ----------------------------------------------------------------------------- site mapping
def _sublattice(element: str) -> str:
    if element == "Na":
        return "Na"
    if element in ("Si", "P"):
        return "T"
    if element == "O":
        return "O"
    return "M"


def _group_sites(ref: Refinement) -> tuple[dict[str, list[RefinedSite]], list[Defect]]:
    """Refined sites grouped into framework labels; sites that fit no label become defects."""
    groups: dict[str, list[RefinedSite]] = {}
    defects: list[Defect] = []
    # One crystallographic site = one (Wyckoff, position) with possibly several elements.
    crystallographic: dict[tuple, list[RefinedSite]] = defaultdict(list)
    for site in ref.sites:
        pos = (None if site.x is None else tuple(round(v or 0.0, 4) for v in (site.x, site.y, site.z)))
        key = (site.label,) if site.label else (site.wyckoff, _sublattice(site.element), pos)
        crystallographic[key].append(site)
    n_o = 0
    for key, members in crystallographic.items():
        first = members[0]
        if first.label in SITE_LABELS:
            label = first.label
        else:
            subl = {_sublattice(s.element) for s in members}
            wyck = first.wyckoff
            label = None
            if subl == {"Na"}:
                label = {"4d": "Na1", "4e": "Na2", "8f": "Na3"}.get(wyck)
            elif subl == {"T"}:
                label = {"4e": "T1", "8f": "T2"}.get(wyck)
            elif subl == {"M"}:
                label = "M1" if wyck == "8f" else None
            elif subl == {"O"} and wyck == "8f":
                n_o += 1
                label = f"O{n_o}" if n_o <= len(O_LABELS) else None
            if label is None:
                defects.append(Defect(
                    kind="unknown_site", site=f"{wyck} {'/'.join(s.element for s in members)}",
                    expected="a C2/c NASICON site: " + ", ".join(
                        f"{lab} {SITE_WYCKOFF[lab]}" for lab in SITE_LABELS),
                    found=f"{wyck} with {', '.join(s.element for s in members)}",
                ))
                continue
        if label in groups:
            defects.append(Defect(kind="unknown_site", site=label, expected=f"one {label} site",
                                  found=f"a second {label} ({first.wyckoff}) site"))
            continue
        groups[label] = members
    return groups, defects


def _occupancies(groups: Mapping[str, list[RefinedSite]]) -> dict[str, dict[str, float]]:
    occ: dict[str, dict[str, float]] = {}
    for label, members in groups.items():
        occ[label] = defaultdict(float)
        for s in members:
            occ[label][s.element] += s.occupancy
        occ[label] = dict(occ[label])
    return occ


def _oxidation_states(elements, nominal: NasiconComposition | None) -> dict[str, int]:
    table = {**DEFAULT_OXIDATION_STATES, **FRAMEWORK_OXIDATION_STATES}
    if nominal is not None:
        table.update(nominal.all_oxidation_states)
    return {el: table[el] for el in elements if el in table}


def _nominal(ref: Refinement) -> NasiconComposition | None:
    if not ref.nominal_composition:
        return None
    try:
        return NasiconComposition.from_formula(ref.nominal_composition)
    except InvalidCompositionError as exc:
        raise MalformedStructureError(
            f"Nominal composition {ref.nominal_composition!r} of {ref.label} is invalid: {exc}"
        ) from exc


def _bond_length_A(element: str, valence: int, cn: int) -> float:
    """Bond-valence bond length (Å) for bond strength valence/CN (Brown's equation, b = 0.37 Å)."""
    return _r0(element) - 0.37 * math.log(valence / cn)


# ----------------------------------------------------------------------------- validation
def validate_refinement(ref: Refinement) -> list[Defect]:
    """Every defect of a refinement, all at once.

    Parameters
    ----------
    ref
        The refinement (table, JSON entry or CIF).

    Returns
    -------
    list of Defect
        Empty for a sound refinement. Kinds: ``missing_lattice_parameter``, ``unknown_site``,
        ``missing_site``, ``occupancy_above_one``, ``site_underfilled``,
        ``composition_mismatch``, ``charge_imbalance``, ``impossible_distance``.
    """
    defects: list[Defect] = []
    for name, unit in (("a", "Å"), ("b", "Å"), ("c", "Å"), ("beta", "degrees")):
        value = getattr(ref, name)
        if value is None or not math.isfinite(value) or value <= 0:
            defects.append(Defect(kind="missing_lattice_parameter", site="lattice",
                                  expected=f"{name} in {unit}", found="not reported"))
    groups, site_defects = _group_sites(ref)
    defects += site_defects
    for label in SITE_LABELS:
        if label not in groups:
            defects.append(Defect(kind="missing_site", site=f"{label} ({SITE_WYCKOFF[label]})",
                                  expected=f"{label} {SITE_WYCKOFF[label]} present",
                                  found="absent"))
    occ = _occupancies(groups)
    for label, species in occ.items():
        total = sum(species.values())
        detail = " + ".join(f"{el} {x:.4g}" for el, x in species.items())
        if total > 1 + OCCUPANCY_TOLERANCE:
            defects.append(Defect(kind="occupancy_above_one", site=f"{label} ({SITE_WYCKOFF[label]})",
                                  expected=f"sum <= 1 (+{OCCUPANCY_TOLERANCE})",
                                  found=f"{total:.4g} ({detail})"))
        elif label not in NA_LABELS and total < 1 - OCCUPANCY_TOLERANCE:
            defects.append(Defect(kind="site_underfilled", site=f"{label} ({SITE_WYCKOFF[label]})",
                                  expected="framework site full (sum 1)",
                                  found=f"{total:.4g} ({detail})"))

    nominal = _nominal(ref)
    amounts: dict[str, float] = defaultdict(float)
    for label, species in occ.items():
        for el, x in species.items():
            amounts[el] += x * SITE_MULTIPLICITY[label] / ref.z_formula_units
    expected_amounts = nominal.amounts if nominal is not None else {}
    for el in sorted(set(amounts) | set(expected_amounts), key=lambda e: (e != "Na", e)):
        have, want = amounts.get(el, 0.0), expected_amounts.get(el)
        if want is not None and abs(have - want) > AMOUNT_TOLERANCE:
            defects.append(Defect(kind="composition_mismatch", site=el,
                                  expected=f"{want:.4g} per formula unit ({ref.nominal_composition})",
                                  found=f"{have:.4g} per formula unit"))
    oxi = _oxidation_states(amounts, nominal)
    unknown = sorted(set(amounts) - set(oxi))
    if unknown:
        defects.append(Defect(kind="charge_imbalance", site="cell", expected="known oxidation states",
                              found=f"no oxidation state for {', '.join(unknown)}"))
    else:
        net = sum(oxi[el] * x for el, x in amounts.items())
        if abs(net) > AMOUNT_TOLERANCE:
            defects.append(Defect(kind="charge_imbalance", site="cell",
                                  expected="net charge 0 e per formula unit",
                                  found=f"{net:+.3f} e per formula unit"))
    defects += _distance_defects(ref, groups, oxi)
    return defects


def _distance_defects(ref: Refinement, groups, oxi) -> list[Defect]:
    if any(s.x is None or s.y is None or s.z is None for members in groups.values() for s in members):
        return []
    if not groups or any(getattr(ref, n) is None for n in ("a", "b", "c")):
        return []
    beta = ref.beta or FRAMEWORK_BETA_DEG
    note = "" if ref.beta else f" (beta not reported; framework beta {FRAMEWORK_BETA_DEG:.2f} deg used)"
    struct = _relabelled(ref, groups)
    if struct is None:
        lattice = Lattice.monoclinic(ref.a, ref.b, ref.c, beta)
        labels, species, coords = [], [], []
        for label, members in groups.items():
            labels.append(label)
            species.append({s.element: max(s.occupancy, 1e-6) for s in members})
            coords.append([members[0].x, members[0].y, members[0].z])
        try:
            with _quiet_warnings():
                struct = Structure.from_spacegroup("C2/c", lattice, species, coords, labels=labels,
                                                   tol=1e-3)
        except Exception as exc:  # overlapping/duplicated positions make pymatgen raise
            return [Defect(kind="impossible_distance", site="all", expected="expandable C2/c sites",
                           found=f"symmetry expansion failed: {exc}")]
    limits = {}
    for label, members in groups.items():
        subl = _sublattice(members[0].element)
        if subl == "O":
            continue
        total = sum(s.occupancy for s in members) or 1.0
        ref_len = sum(s.occupancy * _bond_length_A(s.element, oxi.get(s.element, 1), _CN[subl])
                      for s in members if s.element in BV_R0_OXIDE_A or s.element in oxi) / total
        limits[label] = DISTANCE_FRACTION * ref_len
    shortest: dict[tuple[str, str], float] = {}
    for i, site in enumerate(struct):
        for nb in struct.get_neighbors(site, 3.0):
            a, b = base_label(site.label), base_label(nb.label)
            a_o, b_o = a.startswith("O"), b.startswith("O")
            if a_o and b_o:
                limit = MIN_O_O_A
            elif a_o != b_o:
                limit = limits.get(b if a_o else a, 0.0)
            else:
                limit = 1.0  # two cation sites this close cannot both be real
            if nb.nn_distance < limit:
                key = tuple(sorted((a, b), key=SITE_LABELS.index)) if a in SITE_LABELS and b in SITE_LABELS else (a, b)
                if nb.nn_distance < shortest.get(key, (np.inf, 0))[0]:
                    shortest[key] = (nb.nn_distance, limit)
    return [
        Defect(kind="impossible_distance", site=f"{a}-{b}", expected=f">= {limit:.2f} Å",
               found=f"{d:.2f} Å{note}")
        for (a, b), (d, limit) in sorted(shortest.items())
    ]


def validate_structure(structure: Structure, nominal_composition: str | None = None) -> list[Defect]:
    """Defects of a disordered C2/c :class:`~pymatgen.core.Structure` (see :func:`validate_refinement`)."""
    return validate_refinement(refinement_from_structure(structure, nominal_composition=nominal_composition))


# ----------------------------------------------------------------------------- repair
def repair_refinement(ref: Refinement) -> tuple[Structure, list[RepairEntry]]:
    """Rebuild a refinement on the validated framework and log every change.

    Rules: M-site metal ratios from the refinement normalised to fill the site (nominal ratios
    if the M site is missing); Si/P from the nominal ratio; Na from charge neutrality of the
    repaired cations, spread over Na1/Na2/Na3 keeping the refined relative occupancies; O sites
    full; a, b, c from the refinement; beta and all coordinates from the framework.

    Returns
    -------
    structure, log
        The repaired disordered structure (84 labelled sites, oxidation states) and the log.
    """
    groups, _ = _group_sites(ref)
    occ = _occupancies(groups)
    nominal = _nominal(ref)
    log: list[RepairEntry] = []
    fw = framework_geometry()[0]

    def change(site, quantity, before, after, reason):
        if str(before) != str(after):
            log.append(RepairEntry(site=site, quantity=quantity, before=str(before),
                                   after=str(after), reason=reason))

    for name in ("a", "b", "c"):
        if getattr(ref, name) is None:
            change("lattice", name, "not reported", f"{getattr(fw, name):.5f}",
                   "missing lattice length taken from the framework")
    lattice = framework_lattice(ref.a, ref.b, ref.c, None)
    change("lattice", "beta", "not reported" if ref.beta is None else f"{ref.beta:.4f}",
           f"{FRAMEWORK_BETA_DEG:.4f}", "beta from the R-3c-derived framework")
    change("all sites", "coordinates", "published" if any(s.x is not None for s in ref.sites) else "none",
           "framework", "published coordinates are not used (they are unreliable; see validation)")

    metals = occ.get("M1")
    if metals and sum(metals.values()) > 0:
        total = sum(metals.values())
        m_frac = {el: x / total for el, x in metals.items()}
        reason = "metal ratios of the refinement normalised to fill the M site"
    elif nominal is not None:
        m_frac = nominal.m_site_fractions
        reason = "M site missing: nominal metal ratios"
    else:
        raise MalformedStructureError(
            f"{ref.label}: no M site and no nominal composition; cannot repair. Pass "
            "nominal_composition."
        )
    if nominal is not None:
        si, p = nominal.si, nominal.p
        t_reason = f"Si/P from the nominal ratio of {ref.nominal_composition}"
    else:
        t_occ = defaultdict(float)
        for lab in ("T1", "T2"):
            for el, x in occ.get(lab, {}).items():
                t_occ[el] += x * SITE_MULTIPLICITY[lab]
        t_total = sum(t_occ.values())
        if t_total <= 0:
            raise MalformedStructureError(f"{ref.label}: no Si/P and no nominal composition.")
        si, p = 3 * t_occ.get("Si", 0.0) / t_total, 3 * t_occ.get("P", 0.0) / t_total
        t_reason = "Si/P from the refined T-site ratio (no nominal composition)"
    oxi = _oxidation_states(m_frac, nominal)
    try:
        repaired = NasiconComposition.from_m_site(
            {el: 2 * x for el, x in m_frac.items()}, si=si, oxidation_states=oxi or None
        )
    except InvalidCompositionError as exc:
        raise MalformedStructureError(f"{ref.label}: the repaired composition is invalid: {exc}") from exc

    na_pref = {lab: occ.get(lab, {}).get("Na", 0.0) for lab in NA_LABELS}
    if any(w <= 0 for w in na_pref.values()):
        change("Na1/Na2/Na3", "Na preference", na_pref, default_na_preference(),
               "a Na site is missing or empty: default preference (mean of Tables S4-S7)")
        na_pref = default_na_preference()
    na = na_site_occupancies(repaired.na * Z_CONVENTIONAL, na_pref)

    new: dict[str, dict[str, float]] = {}
    for lab in NA_LABELS:
        new[lab] = {"Na": na[lab]}
    new["M1"] = dict(m_frac)
    new["T1"] = new["T2"] = {el: x / 3 for el, x in (("Si", si), ("P", p)) if x > 0}
    for lab in O_LABELS:
        new[lab] = {"O": 1.0}
    reasons = {
        "M1": reason, "T1": t_reason, "T2": t_reason,
        **{lab: (f"Na rescaled to charge balance ({repaired.na:.4g} Na per formula unit) "
                 "keeping the refined relative site occupancies") for lab in NA_LABELS},
        **{lab: "framework oxygen site, full" for lab in O_LABELS},
    }
    for lab in SITE_LABELS:
        before = {el: round(x, 6) for el, x in occ[lab].items()} if lab in occ else "missing"
        after = {el: round(x, 6) for el, x in new[lab].items()}
        change(lab, "occupancy", before, after, reasons[lab])
    structure = build_on_framework(new, repaired.all_oxidation_states, lattice)
    structure.properties = {
        "repaired_composition": repaired.formula,
        "source": ref.source or ref.label,
        "repair_log": [entry.model_dump() for entry in log],
    }
    return structure, log


def ingest_refinement(
    ref: Refinement, mode: Literal["strict", "repair"] = "strict"
) -> tuple[Structure, list[Defect], list[RepairEntry]]:
    """Validate a refinement and build its disordered structure.

    Parameters
    ----------
    ref
        The refinement.
    mode
        ``"strict"`` raises on any defect; ``"repair"`` (explicit opt-in) rebuilds the structure
        on the framework (:func:`repair_refinement`) and returns the log.

    Returns
    -------
    structure, defects, repair_log
        In strict mode (no defects) the structure is built from the refinement as given.

    Raises
    ------
    RefinementDefectError
        ``strict`` mode with defects; ``.defects`` holds the full list.
    """
    if mode not in ("strict", "repair"):
        raise MalformedStructureError(f"Unknown mode {mode!r}; use 'strict' or 'repair'.")
    defects = validate_refinement(ref)
    if mode == "strict":
        if defects:
            listing = "; ".join(str(d) for d in defects)
            raise RefinementDefectError(
                f"{ref.label} has {len(defects)} defect(s): {listing}. Use repair mode to rebuild "
                "it on the validated framework.", defects,
            )
        groups, _ = _group_sites(ref)
        occ = _occupancies(groups)
        nominal = _nominal(ref)
        oxi = _oxidation_states({el for sp in occ.values() for el in sp}, nominal)
        lattice = Lattice.monoclinic(ref.a, ref.b, ref.c, ref.beta)
        own = _relabelled(ref, groups)
        if own is not None:
            own.add_oxidation_state_by_element(oxi)
            structure = own
        elif all(s.x is not None for s in ref.sites):
            structure = Structure.from_spacegroup(
                "C2/c", lattice,
                [{f"{el}{_sign(oxi[el])}": x for el, x in occ[lab].items()} for lab in groups],
                [[groups[lab][0].x, groups[lab][0].y, groups[lab][0].z] for lab in groups],
                labels=list(groups), tol=1e-3,
            )
        else:
            structure = build_on_framework(occ, oxi, lattice)
        return structure, [], []
    structure, log = repair_refinement(ref)
    return structure, defects, log


def _sign(ox: int) -> str:
    return f"{abs(ox)}{'+' if ox > 0 else '-'}"
