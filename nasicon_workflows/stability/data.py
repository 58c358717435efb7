"""The shipped DFT stability data of Ouyang et al. (2021), read through the composition model.

``ouyang2021_nasicon_ehull_1000K.csv`` holds E_hull(1000 K) of 3,881 NASICON compositions from
Ouyang, Wang, He, Bartel, Huo, Wang, Lacivita, Kim & Ceder, *Nat. Commun.* 2021, **12**, 5752
(DOI 10.1038/s41467-021-26006-3), MIT licence (``ouyang2021_LICENSE.txt`` beside it). Formulas are
written per one or two formula units and with polyanion groups; every Na-containing row is read
with :meth:`NasiconComposition.from_formula` (``per_12_oxygen=True``) or listed as rejected with
the composition model's reason.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from nasicon_workflows.composition import NasiconComposition, parse_formula
from nasicon_workflows.errors import InvalidCompositionError

__all__ = [
    "STABILITY_CITATION",
    "STABILITY_DATA_FILE",
    "STABILITY_METRICS_FILE",
    "RejectedRow",
    "StabilityData",
    "load_stability_data",
    "stability_data_sha256",
    "stability_model_skill",
]

STABILITY_DATA_FILE = "ouyang2021_nasicon_ehull_1000K.csv"
STABILITY_CITATION = (
    "Ouyang et al., Synthetic accessibility and stability rules of NASICONs, Nat. Commun. 2021, "
    "12, 5752, DOI 10.1038/s41467-021-26006-3 (data: NASICON_Predictor_Data, MIT licence)"
)


#: The stability model's cross-validated metrics (``python -m nasicon_workflows.stability.evaluation
#: --json``), shipped so that the library can quote them; the same bytes as
#: ``docs/stability_evaluation/metrics.json`` (a packaging test checks it).
STABILITY_METRICS_FILE = "stability_metrics.json"


def stability_model_skill(
    protocol: str = "grouped_mset", model: str = "hist_gradient_boosting"
) -> dict[str, dict[str, float]]:
    """Measured skill of the stability model under one validation protocol.

    Parameters
    ----------
    protocol
        ``"random"``, ``"grouped_mset"`` (unseen M-cation combinations, the default: the case of
        an enumerated composition whose elements the DFT data cover) or
        ``"leave_one_element_out"``.
    model
        Estimator of the evaluation (``hist_gradient_boosting`` is the shipped model).

    Returns
    -------
    dict
        ``{"mae", "median_ae", "r2", "spearman"}`` each ``{"mean", "std", "n"}`` over test folds
        (errors in meV/atom), plus ``"protocol"``: the evaluation's protocol settings.

    Raises
    ------
    KeyError
        An unknown protocol or model.
    """
    import json

    path = resources.files("nasicon_workflows.data").joinpath(STABILITY_METRICS_FILE)
    metrics = json.loads(path.read_text(encoding="utf-8"))
    return {**metrics["models"][model][protocol],
            "protocol": {"name": protocol, **metrics["protocol"]}}


def _path():
    return resources.files("nasicon_workflows.data").joinpath(STABILITY_DATA_FILE)


def stability_data_sha256() -> str:
    """SHA-256 of the shipped stability CSV (stored with trained stability models)."""
    return hashlib.sha256(_path().read_bytes()).hexdigest()


@dataclass(frozen=True)
class RejectedRow:
    """A Na-containing source row the composition model cannot represent.

    Attributes
    ----------
    line
        Line number in the CSV (header = 1).
    formula
        Formula as written by the source.
    reason
        The composition model's error message.
    error
        Name of the exception class (e.g. ``TetrahedralSumError`` for sulfates).
    """

    line: int
    formula: str
    reason: str
    error: str


@dataclass(frozen=True)
class StabilityData:
    """Parsed stability data.

    Attributes
    ----------
    compositions
        Accepted compositions (one formula unit each).
    ehull_1000K_meV_per_atom
        E_hull(1000 K) of each accepted composition, meV/atom.
    source_formulas
        The formulas as written by the source, aligned with ``compositions``.
    rejected
        Every Na-containing row that was not accepted, with its reason.
    n_rows, n_without_na
        Rows in the file and rows without Na (not NASICON Na conductors; skipped).
    """

    compositions: tuple[NasiconComposition, ...]
    ehull_1000K_meV_per_atom: tuple[float, ...]
    source_formulas: tuple[str, ...]
    rejected: tuple[RejectedRow, ...]
    n_rows: int
    n_without_na: int

    def frame(self):
        """Accepted rows as a DataFrame: ``source_formula``, ``composition``, ``elements``,
        ``na``, ``si``, ``ehull_1000K_meV_per_atom``."""
        import pandas as pd

        return pd.DataFrame(
            {
                "source_formula": list(self.source_formulas),
                "composition": [c.formula for c in self.compositions],
                "elements": ["-".join(sorted(c.m_site)) for c in self.compositions],
                "na": [c.na for c in self.compositions],
                "si": [c.si for c in self.compositions],
                "ehull_1000K_meV_per_atom": list(self.ehull_1000K_meV_per_atom),
            }
        )

    def rejection_counts(self) -> dict[str, int]:
        """Rejected rows per exception class."""
        out: dict[str, int] = {}
        for row in self.rejected:
            out[row.error] = out.get(row.error, 0) + 1
        return out


@lru_cache(maxsize=1)
def load_stability_data() -> StabilityData:
    """Read every Na-containing row of the shipped stability CSV.

    Returns
    -------
    StabilityData
        Accepted compositions with their E_hull(1000 K) and each rejected row with its reason.
        Sulfate and mixed S-containing polyanions (not held by the composition model) and Na
        contents outside 1-4 per formula unit are the rejections found in the shipped file.
    """
    import csv
    import io

    text = _path().read_text(encoding="utf-8")
    reader = csv.DictReader(io.StringIO(text))
    comps, ehull, formulas, rejected = [], [], [], []
    n_rows = n_without_na = 0
    for line, row in enumerate(reader, start=2):
        n_rows += 1
        formula = row["composition"]
        if "Na" not in parse_formula(formula):
            n_without_na += 1
            continue
        try:
            comp = NasiconComposition.from_formula(formula, per_12_oxygen=True)
        except InvalidCompositionError as exc:
            rejected.append(RejectedRow(line, formula, str(exc), type(exc).__name__))
            continue
        comps.append(comp)
        ehull.append(float(row["ehull_1000K_meV_per_atom"]))
        formulas.append(formula)
    return StabilityData(
        tuple(comps), tuple(ehull), tuple(formulas), tuple(rejected), n_rows, n_without_na
    )
