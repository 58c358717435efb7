"""Closed loop: merge new synthesis outcomes into a user dataset, retrain and version the model.

The user dataset lives outside the package (``$NASICON_WORKFLOWS_DATA`` or the platform's user data
folder, see :func:`user_data_dir`); the shipped Tables S1/S2 data are never modified. Each merge
writes a new dataset version ``versions/outcomes-v<N>.csv`` and a model ``models/<model>-v<N>``
trained on the shipped rows plus every user row.

An outcome CSV has the columns ``composition``, ``outcome`` (``synthesizable`` /
``non-synthesizable``; also true/false, yes/no, 1/0) and ``source`` (who made it, a DOI, a lab book
reference). Every row is validated before anything is written: formulas must parse and be charge
balanced, no composition may appear twice, and no label may contradict another row or the existing
data. All problems are reported together, each with its CSV line number.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from pydantic import BaseModel, Field

from nasicon_workflows.classifier.errors import (
    OutcomeConflictError,
    OutcomeFileError,
    OutcomeValidationError,
)
from nasicon_workflows.composition import NasiconComposition
from nasicon_workflows.errors import InvalidCompositionError

logger = logging.getLogger(__name__)

__all__ = [
    "AddOutcomesResult",
    "add_outcomes",
    "combined_dataset",
    "composition_key",
    "load_user_dataset",
    "load_user_gate",
    "read_dataset_csv",
    "read_outcomes_csv",
    "user_data_dir",
]

_TRUE = {"synthesizable", "true", "yes", "1", "1.0", "y", "phase-pure"}
_FALSE = {
    "non-synthesizable",
    "nonsynthesizable",
    "not synthesizable",
    "false",
    "no",
    "0",
    "0.0",
    "n",
}
USER_FILE = "outcomes.csv"


def user_data_dir() -> Path:
    """Folder of the user dataset and models (``$NASICON_WORKFLOWS_DATA`` overrides)."""
    env = os.environ.get("NASICON_WORKFLOWS_DATA")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("nasicon-workflows"))


def composition_key(comp: NasiconComposition) -> tuple:
    """Order-independent identity of a composition (M-site amounts, Si, oxidation states)."""
    return (
        tuple(sorted((el, round(float(n), 6)) for el, n in comp.m_site.items())),
        round(float(comp.si), 6),
        tuple(sorted(comp.oxidation_states.items())),
    )


def _label(value) -> bool | None:
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def read_outcomes_csv(path: str | Path, require_source: bool = True):
    """Read and validate an outcome CSV on its own (parse, charge balance, duplicates, conflicts).

    Parameters
    ----------
    path
        CSV with ``composition``, ``outcome`` and (if ``require_source``) ``source`` columns.
    require_source
        Demand a non-empty ``source`` in every row.

    Returns
    -------
    pandas.DataFrame
        ``line`` (CSV line number), ``composition`` (canonical), ``outcome``, ``synthesizable``,
        ``source``, ``key``.

    Raises
    ------
    OutcomeFileError
        Missing file, unreadable CSV, missing columns, no rows.
    OutcomeConflictError
        The same composition with both labels (rows named).
    OutcomeValidationError
        Unparseable or unbalanced formulas, unknown outcome words, missing sources, duplicate rows
        (every problem listed with its line number).
    """
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise OutcomeFileError(f"Outcome file {path} does not exist.")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except Exception as exc:
        raise OutcomeFileError(f"Cannot read {path} as CSV: {exc}") from None
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    required = ["composition", "outcome"] + (["source"] if require_source else [])
    missing = [c for c in required if c not in raw.columns]
    if missing:
        raise OutcomeFileError(
            f"{path} lacks the column(s) {missing}; found {list(raw.columns)}. "
            "An outcome CSV needs "
            "the header 'composition,outcome,source'."
        )
    if raw.empty:
        raise OutcomeFileError(f"{path} has a header but no rows.")
    problems, rows = [], []
    for i, rec in raw.iterrows():
        line = int(i) + 2  # header is line 1
        text = rec["composition"].strip()
        label = _label(rec["outcome"])
        source = rec.get("source", "").strip() if "source" in raw.columns else ""
        if label is None:
            problems.append(
                f"line {line}: outcome {rec['outcome']!r} is neither "
                "'synthesizable' nor 'non-synthesizable'"
            )
        if require_source and not source:
            problems.append(f"line {line}: empty source (give a DOI, lab or notebook reference)")
        try:
            comp = NasiconComposition.from_formula(text)
        except InvalidCompositionError as exc:
            problems.append(f"line {line}: {type(exc).__name__}: {exc}")
            continue
        rows.append(
            {
                "line": line,
                "composition": comp.formula,
                "synthesizable": label,
                "source": source,
                "key": composition_key(comp),
            }
        )
    frame = pd.DataFrame(rows, columns=["line", "composition", "synthesizable", "source", "key"])
    conflicts, duplicates = [], []
    for _, group in frame.groupby("key", sort=False):
        if len(group) < 2:
            continue
        lines = ", ".join(str(v) for v in group["line"])
        labels = set(group["synthesizable"].dropna())
        if len(labels) > 1:
            conflicts.append(
                f"lines {lines}: {group['composition'].iloc[0]} is labelled both "
                "synthesizable and non-synthesizable"
            )
        else:
            duplicates.append(
                f"lines {lines}: {group['composition'].iloc[0]} appears {len(group)} times"
            )
    if conflicts:
        raise OutcomeConflictError(
            f"Contradictory labels in {path}: "
            + "; ".join(conflicts)
            + ". Keep one outcome per composition (check the XRD) and resubmit."
            + (
                " Other problems: " + "; ".join(problems + duplicates)
                if problems or duplicates
                else ""
            )
        )
    if problems or duplicates:
        raise OutcomeValidationError(
            f"{len(problems) + len(duplicates)} invalid row(s) in {path}: "
            + "; ".join(problems + duplicates)
            + ". Nothing was added; fix the rows and resubmit."
        )
    frame["outcome"] = frame["synthesizable"].map(
        {True: "synthesizable", False: "non-synthesizable"}
    )
    frame["synthesizable"] = frame["synthesizable"].astype(bool)
    return frame


def read_dataset_csv(path: str | Path):
    """A whole training dataset from a CSV (``composition``, ``outcome``; ``source`` optional)."""
    frame = read_outcomes_csv(path, require_source=False)
    if frame["synthesizable"].nunique() < 2:
        raise OutcomeValidationError(f"{path} holds one class only; a classifier needs both.")
    return frame[["composition", "outcome", "synthesizable", "source"]].reset_index(drop=True)


def load_user_dataset(data_dir: str | Path | None = None):
    """The merged user rows (empty frame when none were added)."""
    import pandas as pd

    path = Path(data_dir or user_data_dir()) / USER_FILE
    if not path.is_file():
        return pd.DataFrame(columns=["composition", "outcome", "source", "synthesizable"])
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame["synthesizable"] = frame["outcome"].eq("synthesizable")
    return frame


def combined_dataset(data_dir: str | Path | None = None):
    """Shipped rows (source = the paper) followed by the user rows."""
    import pandas as pd

    from nasicon_workflows.datasets import DATASET_CITATION, load_synthesis_dataset

    shipped = load_synthesis_dataset()[["composition", "outcome", "synthesizable"]].copy()
    shipped["source"] = DATASET_CITATION
    user = load_user_dataset(data_dir)
    return pd.concat([shipped, user[shipped.columns]], ignore_index=True)


class AddOutcomesResult(BaseModel):
    """What :func:`add_outcomes` did."""

    n_added: int
    n_user_rows: int = Field(description="User rows after the merge")
    n_training_rows: int = Field(description="Shipped + user rows the model was trained on")
    version: int = Field(description="Dataset and model version written")
    dataset_path: str
    model_path: str | None
    model_name: str
    metrics: dict[str, float]


def _current_version(root: Path) -> int:
    versions = [int(p.stem.rsplit("-v", 1)[1]) for p in (root / "versions").glob("outcomes-v*.csv")]
    return max(versions, default=0)


def add_outcomes(
    csv_path: str | Path,
    data_dir: str | Path | None = None,
    model: str | None = None,
    retrain: bool = True,
) -> AddOutcomesResult:
    """Validate new outcomes, merge them into the user dataset, retrain and version the model.

    Parameters
    ----------
    csv_path
        Outcome CSV (``composition,outcome,source``).
    data_dir
        User data folder; default :func:`user_data_dir`.
    model
        Registered model to retrain; default the gate's default model.
    retrain
        Train and save the new model version (otherwise only the data are merged).

    Raises
    ------
    OutcomeValidationError, OutcomeConflictError, OutcomeFileError
        As :func:`read_outcomes_csv`, plus rows that repeat or contradict the shipped or earlier
        user data (named with the existing row's source).
    """
    import pandas as pd

    from nasicon_workflows.classifier.gate import DEFAULT_GATE_MODEL, train_gate
    from nasicon_workflows.classifier.models import get_model_spec

    model = model or DEFAULT_GATE_MODEL
    get_model_spec(model)
    new = read_outcomes_csv(csv_path)
    root = Path(data_dir or user_data_dir())
    existing = combined_dataset(root)
    known = {}
    for _, rec in existing.iterrows():
        comp = NasiconComposition.from_formula(rec["composition"])
        known[composition_key(comp)] = (
            bool(rec["synthesizable"]),
            rec["composition"],
            rec["source"],
        )
    conflicts, repeats = [], []
    for _, rec in new.iterrows():
        if rec["key"] in known:
            label, formula, source = known[rec["key"]]
            text = (
                f"line {rec['line']}: {rec['composition']} is already in the data as {formula} "
                f"({'synthesizable' if label else 'non-synthesizable'}; source {source})"
            )
            (repeats if label == rec["synthesizable"] else conflicts).append(text)
    if conflicts:
        raise OutcomeConflictError(
            f"{csv_path} contradicts existing data: "
            + "; ".join(conflicts)
            + ". The existing label stays; resolve the disagreement before adding the row."
        )
    if repeats:
        raise OutcomeValidationError(
            f"{csv_path} repeats compositions already in the data: "
            + "; ".join(repeats)
            + ". Remove these rows (nothing was added)."
        )
    user = load_user_dataset(root)
    merged = pd.concat(
        [user[["composition", "outcome", "source"]], new[["composition", "outcome", "source"]]],
        ignore_index=True,
    )
    version = _current_version(root) + 1
    (root / "versions").mkdir(parents=True, exist_ok=True)
    snapshot = root / "versions" / f"outcomes-v{version}.csv"
    merged.to_csv(snapshot, index=False)
    merged.to_csv(root / USER_FILE, index=False)
    logger.info("user dataset version %d: %d rows", version, len(merged))
    training = combined_dataset(root)
    model_path, metrics = None, {}
    if retrain:
        gate = train_gate(model, dataset=training, data_label=f"user v{version}", version=version)
        model_path = str(gate.save(root / "models" / f"{model}-v{version}"))
        metrics = gate.metadata.metrics
    return AddOutcomesResult(
        n_added=len(new),
        n_user_rows=len(merged),
        n_training_rows=len(training),
        version=version,
        dataset_path=str(snapshot),
        model_path=model_path,
        model_name=model,
        metrics=metrics,
    )


def load_user_gate(
    model: str | None = None, version: int | None = None, data_dir: str | Path | None = None
):
    """A retrained gate (latest version by default), checked against its dataset snapshot."""
    import pandas as pd

    from nasicon_workflows.classifier.errors import ModelFileError
    from nasicon_workflows.classifier.evaluation import _frame_hash
    from nasicon_workflows.classifier.gate import DEFAULT_GATE_MODEL, SynthesizabilityGate
    from nasicon_workflows.datasets import DATASET_CITATION, load_synthesis_dataset

    root = Path(data_dir or user_data_dir())
    model = model or DEFAULT_GATE_MODEL
    version = version or _current_version(root)
    if version == 0:
        raise ModelFileError(
            f"No user model in {root}: run 'nasicon-workflows add-outcomes' first."
        )
    snapshot = root / "versions" / f"outcomes-v{version}.csv"
    if not snapshot.is_file():
        raise ModelFileError(f"No user dataset version {version} in {root}.")
    user = pd.read_csv(snapshot, dtype=str, keep_default_na=False)
    user["synthesizable"] = user["outcome"].eq("synthesizable")
    shipped = load_synthesis_dataset()[["composition", "outcome", "synthesizable"]].copy()
    shipped["source"] = DATASET_CITATION
    training = pd.concat([shipped, user[shipped.columns]], ignore_index=True)
    return SynthesizabilityGate.load(
        root / "models" / f"{model}-v{version}", expected_data_sha256=_frame_hash(training)
    )
