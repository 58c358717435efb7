"""The shipped 58-composition synthesis dataset (Zuo et al. 2026, SI Tables S1 and S2).

Provenance: ``nasicon_workflows/data/PROVENANCE.md``.
"""

from __future__ import annotations

import hashlib
from importlib import resources

__all__ = ["DATASET_CITATION", "DATASET_FILE", "dataset_sha256", "load_synthesis_dataset"]

DATASET_FILE = "synthesis_outcomes_table_s1_s2.csv"
DATASET_CITATION = (
    "Zuo et al., Energy Environ. Sci. 2026, 19, 860, DOI 10.1039/d5ee06594a, "
    "Supporting Information Tables S1 and S2"
)


def _dataset_path():
    return resources.files("nasicon_workflows.data").joinpath(DATASET_FILE)


def dataset_sha256() -> str:
    """SHA-256 of the shipped CSV (stored with trained models to detect data changes)."""
    return hashlib.sha256(_dataset_path().read_bytes()).hexdigest()


def load_synthesis_dataset():
    """Load the 58-row synthesis dataset.

    Returns
    -------
    pandas.DataFrame
        The columns of the CSV (see ``PROVENANCE.md``) plus ``synthesizable`` (bool). The
        ``*_pm``/``electronegativity``/``valence``/``entropy_R`` columns are the published Table S2
        values, kept as printed (row 24 entropy is a known misprint).
    """
    import pandas as pd

    with _dataset_path().open("r", encoding="utf-8") as handle:
        frame = pd.read_csv(handle)
    outcomes = set(frame["outcome"])
    if not outcomes <= {"synthesizable", "non-synthesizable"}:
        raise ValueError(f"Unexpected outcome labels in the shipped dataset: {sorted(outcomes)}")
    frame["synthesizable"] = frame["outcome"].eq("synthesizable")
    frame.attrs["citation"] = DATASET_CITATION
    return frame
