"""The six shipped disordered reference structures and their provenance / repair logs.

========  ===========================================  =========================================
label     composition                                  built from
========  ===========================================  =========================================
NZSP      Na3Zr2Si2PO12                                framework (parent), no refinement
LE-NZSP   Na3.5Zr1.5Lu0.5Si2PO12                       framework + composition (no refinement)
ME1-NZSP  Na3.5Zr1.0Ti0.5Lu0.5Si2PO12                  Table S4, repaired
ME2-NZSP  Na3.5Zr0.5Ti0.5Hf0.5Lu0.5Si2PO12             Table S5, repaired
HE1-NZSP  Na3.6Zr0.5Ti0.5Hf0.4Lu0.5Ga0.1Si2PO12        Table S6, repaired
HE2-NZSP  Na3.6Zr0.5Ti0.5Hf0.4Lu0.5Sc0.1Si2PO12        Table S7, repaired
========  ===========================================  =========================================

The CIFs (P1, 84 labelled sites, oxidation states, partial occupancies) and ``<label>.json``
(provenance, defects found, repair log) live in the package (``nasicon_workflows/data/structures``)
and, as the user-facing copy, in the repository folder ``structures/``. Regenerate both with
``python -m nasicon_workflows.structures.references``.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from pathlib import Path

from pymatgen.core import Structure

from nasicon_workflows.structures.disordered import disordered_structure
from nasicon_workflows.structures.exceptions import UnknownReferenceError
from nasicon_workflows.structures.parent import site_sort_key
from nasicon_workflows.structures.refined import (
    REFINED_LABELS,
    _quiet_warnings,
    ingest_refinement,
    load_refinement,
)

__all__ = [
    "REFERENCE_COMPOSITIONS",
    "REFERENCE_LABELS",
    "build_reference",
    "load_reference_provenance",
    "load_reference_structure",
    "write_reference_files",
]

#: Nominal compositions (Zuo et al. 2026: NZSP parent, LE = low entropy, ME/HE from Tables S4-S7).
REFERENCE_COMPOSITIONS = {
    "NZSP": "Na3Zr2Si2PO12",
    "LE-NZSP": "Na3.5Zr1.5Lu0.5Si2PO12",
    "ME1-NZSP": "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12",
    "ME2-NZSP": "Na3.5Zr0.5Ti0.5Hf0.5Lu0.5Si2PO12",
    "HE1-NZSP": "Na3.6Zr0.5Ti0.5Hf0.4Lu0.5Ga0.1Si2PO12",
    "HE2-NZSP": "Na3.6Zr0.5Ti0.5Hf0.4Lu0.5Sc0.1Si2PO12",
}
REFERENCE_LABELS = tuple(REFERENCE_COMPOSITIONS)


def _check_label(label: str) -> None:
    if label not in REFERENCE_COMPOSITIONS:
        raise UnknownReferenceError(
            f"Unknown reference structure {label!r}; available: {', '.join(REFERENCE_LABELS)}."
        )


def build_reference(label: str) -> tuple[Structure, dict]:
    """Build a reference structure from its source and return it with its provenance record.

    Returns
    -------
    structure, provenance
        ``provenance`` holds label, composition, source, method, defects found in the source
        (as dicts) and the repair log (as dicts).
    """
    _check_label(label)
    composition = REFERENCE_COMPOSITIONS[label]
    if label in REFINED_LABELS:
        ref = load_refinement(label)
        structure, defects, log = ingest_refinement(ref, mode="repair")
        record = {
            "source": ref.source,
            "method": "repair mode of nasicon_workflows.structures.refined on the C2/c framework",
            "defects": [d.model_dump() for d in defects],
            "repair_log": [e.model_dump() for e in log],
        }
    else:
        structure = disordered_structure(composition)
        record = {
            "source": "R-3c framework (Hagman & Kierkegaard 1968) and the nominal composition; "
                      "no refinement",
            "method": "composition path (disordered_structure) on the C2/c framework",
            "defects": [],
            "repair_log": [],
        }
    record = {"label": label, "composition": composition,
              "lattice_abc_A": list(structure.lattice.abc), "beta_deg": structure.lattice.beta,
              "n_sites": len(structure), **record}
    return structure, record


def _to_cif(structure: Structure) -> str:
    from pymatgen.io.cif import CifWriter

    # pymatgen warns that the framework labels repeat; they do on purpose (one label per orbit).
    with _quiet_warnings():
        return str(CifWriter(structure))


def write_reference_files(*directories: str | Path) -> list[Path]:
    """Write ``<label>.cif`` and ``<label>.json`` of every reference into each directory."""
    written = []
    for label in REFERENCE_LABELS:
        structure, record = build_reference(label)
        for d in directories:
            d = Path(d)
            d.mkdir(parents=True, exist_ok=True)
            (d / f"{label}.cif").write_text(_to_cif(structure))
            (d / f"{label}.json").write_text(json.dumps(record, indent=1) + "\n")
            written += [d / f"{label}.cif", d / f"{label}.json"]
    return written


def _data_file(name: str):
    return resources.files("nasicon_workflows.data").joinpath("structures", name)


@functools.lru_cache(maxsize=None)
def _load_cif(label: str) -> Structure:
    from pymatgen.io.cif import CifParser

    with _quiet_warnings():
        structure = CifParser.from_str(_data_file(f"{label}.cif").read_text()).parse_structures(
            primitive=False
        )[0]
    # CifParser groups sites by species; restore the framework order (label, then coordinates).
    order = sorted(range(len(structure)),
                   key=lambda i: site_sort_key(structure[i].label, structure[i].frac_coords))
    return Structure.from_sites([structure[i] for i in order])


def load_reference_structure(label: str) -> Structure:
    """A shipped disordered reference structure (84 labelled sites, oxidation states).

    Parameters
    ----------
    label
        One of ``"NZSP"``, ``"LE-NZSP"``, ``"ME1-NZSP"``, ``"ME2-NZSP"``, ``"HE1-NZSP"``,
        ``"HE2-NZSP"``.

    Raises
    ------
    UnknownReferenceError
        For any other label (the message lists the available ones).
    """
    _check_label(label)
    return _load_cif(label).copy()


def load_reference_provenance(label: str) -> dict:
    """Provenance record (source, defects, repair log) of a shipped reference structure."""
    _check_label(label)
    return json.loads(_data_file(f"{label}.json").read_text())


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    root = Path(__file__).resolve().parents[2]
    for path in write_reference_files(root / "nasicon_workflows" / "data" / "structures",
                                      root / "structures"):
        print(path)
