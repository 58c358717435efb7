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

Measured transport (optional columns, units in the names and checked): ``sigma_total_S_cm``,
``sigma_bulk_S_cm``, ``sigma_gb_S_cm`` (S/cm, each needs ``temperature_K`` in the same row),
``Ea_eV`` (eV), and their ``*_uncertainty_S_cm`` / ``Ea_uncertainty_eV``. Columns that name one
of these quantities in another unit (``temperature_C``, ``sigma_total_mS_cm``, ``Ea_kJ_mol`` ...)
are refused with the conversion, and values outside physical bounds (σ > 1 S/cm, T < 150 K,
Ea > 2 eV) are reported as probable unit mistakes. The JSON document printed by
``nasicon-workflows eis --json`` (its ``outcome_row``) is read like a one-row CSV.
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
    "MEASURED_COLUMNS",
    "load_measured_transport",
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
#: Measurements of compositions that were already labelled (shipped or earlier user rows).
MEASUREMENTS_FILE = "measurements.csv"

#: Optional measured columns with their units (in the names) and plausibility bounds. The bounds
#: are unit checks, not physics: no solid Na+ conductor reaches 1 S/cm (Na3Zr2Si2PO12 has about
#: 0.2 S/cm at 300 °C, Goodenough, Hong & Kafalas, Mater. Res. Bull. 1976, 11, 203), a
#: temperature below 150 K in kelvin is almost surely °C, an activation energy above 2 eV is
#: almost surely kJ/mol or meV.
MEASURED_COLUMNS = {
    "sigma_total_S_cm": (0.0, 1.0, "S/cm"),
    "sigma_bulk_S_cm": (0.0, 1.0, "S/cm"),
    "sigma_gb_S_cm": (0.0, 1.0, "S/cm"),
    "sigma_total_uncertainty_S_cm": (0.0, 1.0, "S/cm"),
    "sigma_bulk_uncertainty_S_cm": (0.0, 1.0, "S/cm"),
    "sigma_gb_uncertainty_S_cm": (0.0, 1.0, "S/cm"),
    "temperature_K": (150.0, 2000.0, "K"),
    "Ea_eV": (0.0, 2.0, "eV"),
    "Ea_uncertainty_eV": (0.0, 2.0, "eV"),
}
_SIGMAS = ("sigma_total_S_cm", "sigma_bulk_S_cm", "sigma_gb_S_cm")
_UNIT_HINTS = {
    "sigma": "conductivities go in S/cm columns sigma_total_S_cm, sigma_bulk_S_cm, "
    "sigma_gb_S_cm (1 mS/cm = 1e-3 S/cm, 1 S/m = 0.01 S/cm)",
    "temperature": "temperatures go in kelvin in temperature_K (T/K = T/°C + 273.15)",
    "ea": "activation energies go in eV in Ea_eV (1 eV = 96.485 kJ/mol = 1000 meV)",
}


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


def _canonical_column(name) -> str:
    text = str(name).strip()
    for canonical in MEASURED_COLUMNS:
        if text.lower() == canonical.lower():
            return canonical
    return text.lower()


def _check_measured_columns(path: Path, columns) -> None:
    """Refuse columns that name a measured quantity in a unit other than the one expected."""
    import re

    for col in columns:
        if _canonical_column(col) in MEASURED_COLUMNS:
            continue
        low = col.lower()
        for stem, pattern in (
            ("sigma", r"^(sigma|conductivity|cond)"),
            ("temperature", r"^(temperature|temp\b|temp_|t_[ck]$|t_c\b)"),
            ("ea", r"^(ea|e_a|activation)"),
        ):
            if re.match(pattern, low):
                raise OutcomeFileError(
                    f"{path}: column {col!r} is not in the expected unit: {_UNIT_HINTS[stem]}."
                )


def _check_field_counts(path: Path) -> None:
    """No CSV row may have more fields than the header (pandas would turn the extra leading
    fields into an index and shift every column); rows with fewer fields leave the trailing
    columns empty."""
    import csv

    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle, skipinitialspace=True))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise OutcomeFileError(f"Cannot read {path} as CSV: {exc}") from None
    rows = [(i + 1, r) for i, r in enumerate(rows) if any(field.strip() for field in r)]
    if not rows:
        raise OutcomeFileError(
            f"{path} is empty; it needs the header 'composition,outcome,source'."
        )
    width = len(rows[0][1])
    bad = [(n, len(r)) for n, r in rows[1:] if len(r) > width]
    if bad:
        detail = "; ".join(f"line {n} has {k}" for n, k in bad[:5])
        raise OutcomeFileError(
            f"{path}: the header has {width} fields but {detail} (quote fields that contain "
            "commas, e.g. \"Smith, lab book 3\")."
        )


def _read_eis_json(path: Path):
    """The outcome row(s) of ``nasicon-workflows eis --json`` output as a string frame."""
    import json

    import pandas as pd

    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OutcomeFileError(f"Cannot read {path} as JSON: {exc}") from None
    documents = data if isinstance(data, list) else [data]
    rows = []
    for k, doc in enumerate(documents):
        row = doc.get("outcome_row", doc) if isinstance(doc, dict) else None
        if not isinstance(row, dict) or not any(c in row for c in MEASURED_COLUMNS):
            raise OutcomeFileError(
                f"{path}: document {k + 1} holds no outcome row with measured values; run "
                "'nasicon-workflows eis' with --temperature-K (one spectrum) or three or more "
                "temperatures, and --composition/--outcome/--source."
            )
        empty = [c for c in ("composition", "outcome", "source") if not row.get(c)]
        if empty:
            raise OutcomeFileError(
                f"{path}: the eis row lacks {empty}; rerun 'nasicon-workflows eis' with "
                "--composition FORMULA --outcome synthesizable|non-synthesizable --source REF."
            )
        rows.append({c: "" if v is None else str(v) for c, v in row.items()})
    return pd.DataFrame(rows, dtype=str)


def _measured_values(rec, columns, line: int, problems: list) -> dict:
    """Parse and unit-check the measured columns of one row (problems appended)."""
    import math

    values = {}
    for col in columns:
        text = str(rec[col]).strip()
        if not text:
            values[col] = float("nan")
            continue
        try:
            value = float(text)
        except ValueError:
            problems.append(f"line {line}: {col} = {text!r} is not a number")
            values[col] = float("nan")
            continue
        low, high, unit = MEASURED_COLUMNS[col]
        if not math.isfinite(value):
            problems.append(f"line {line}: {col} = {text!r} is not a finite number")
        elif col == "temperature_K" and value < low:
            problems.append(
                f"line {line}: temperature_K = {value:g} is below {low:g} K; temperatures are in "
                f"kelvin (was {value:g} °C = {value + 273.15:g} K meant?)"
            )
        elif "uncertainty" in col and not (0 <= value <= high):
            problems.append(f"line {line}: {col} = {value:g} must be between 0 and {high:g} {unit}")
        elif "uncertainty" not in col and not (low < value <= high):
            hint = {"S/cm": "(mS/cm or S/m given?)", "eV": "(kJ/mol or meV given?)", "K": ""}[unit]
            problems.append(
                f"line {line}: {col} = {value:g} {unit} is outside ({low:g}, {high:g}] {unit} "
                f"{hint}".rstrip()
            )
        values[col] = value
    has_sigma = any(math.isfinite(values.get(c, float("nan"))) for c in _SIGMAS)
    if has_sigma and not math.isfinite(values.get("temperature_K", float("nan"))):
        problems.append(f"line {line}: a conductivity needs its temperature_K in the same row")
    for col in columns:
        if "uncertainty" in col and math.isfinite(values[col]):
            base = col.replace("_uncertainty", "")
            if not math.isfinite(values.get(base, float("nan"))):
                problems.append(f"line {line}: {col} is given without {base}")
    return values


def read_outcomes_csv(path: str | Path, require_source: bool = True):
    """Read and validate an outcome CSV on its own (parse, charge balance, duplicates, conflicts).

    Parameters
    ----------
    path
        CSV with ``composition``, ``outcome`` and (if ``require_source``) ``source`` columns and
        optional measured columns (:data:`MEASURED_COLUMNS`), or the JSON of
        ``nasicon-workflows eis --json``.
    require_source
        Demand a non-empty ``source`` in every row.

    Returns
    -------
    pandas.DataFrame
        ``line`` (CSV line number), ``composition`` (canonical), ``outcome``, ``synthesizable``,
        ``source``, ``key`` and the measured columns present (NaN where empty).

    Raises
    ------
    OutcomeFileError
        Missing file, a folder, unreadable CSV, rows with more or fewer fields than the header,
        missing columns, measured columns in the wrong unit, no rows.
    OutcomeConflictError
        The same composition with both labels (rows named).
    OutcomeValidationError
        Unparseable or unbalanced formulas, unknown outcome words, missing sources, duplicate rows,
        measured values that are not numbers or fail the unit checks, conductivities without
        temperature (every problem listed with its line number).
    """
    import pandas as pd

    path = Path(path)
    if path.is_dir():
        raise OutcomeFileError(
            f"{path} is a folder, not an outcome file; give the CSV (or eis JSON) file."
        )
    if not path.is_file():
        raise OutcomeFileError(f"Outcome file {path} does not exist.")
    if path.suffix.lower() == ".json":
        raw = _read_eis_json(path)
    else:
        _check_field_counts(path)
        try:
            raw = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
        except Exception as exc:
            raise OutcomeFileError(f"Cannot read {path} as CSV: {exc}") from None
        raw = raw.fillna("")
    _check_measured_columns(path, [str(c).strip() for c in raw.columns])
    raw.columns = [_canonical_column(c) for c in raw.columns]
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
    measured_cols = [c for c in MEASURED_COLUMNS if c in raw.columns]
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
        measured = _measured_values(rec, measured_cols, line, problems)
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
                **measured,
            }
        )
    frame = pd.DataFrame(
        rows, columns=["line", "composition", "synthesizable", "source", "key", *measured_cols]
    )
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


def _append_measurements(root: Path, rows) -> None:
    """Add measurement-only rows to ``measurements.csv`` (atomically)."""
    import pandas as pd

    from nasicon_workflows.fileio import atomic_write_text

    path = root / MEASUREMENTS_FILE
    columns = ["composition", "source", *MEASURED_COLUMNS]
    new = pd.DataFrame({c: rows[c] if c in rows.columns else float("nan") for c in columns})
    text = new.to_csv(index=False)
    if path.is_file():
        old = pd.read_csv(path, dtype=str, keep_default_na=False).reindex(columns=columns)
        text = old.to_csv(index=False) + new.to_csv(index=False, header=False)
    atomic_write_text(path, text)


def load_measured_transport(data_dir: str | Path | None = None):
    """Every measured transport value of the user data, numeric, for comparisons.

    Rows come from the user dataset (new compositions) and from ``measurements.csv``
    (measurements of compositions already labelled); a composition measured more than once
    appears more than once, in the order added.

    Returns
    -------
    pandas.DataFrame
        ``composition`` and every :data:`MEASURED_COLUMNS` column (NaN where not measured);
        empty when no row has a measured value.
    """
    import pandas as pd

    root = Path(data_dir or user_data_dir())
    user = load_user_dataset(root)
    extra_path = root / MEASUREMENTS_FILE
    if extra_path.is_file():
        extra = pd.read_csv(extra_path, dtype=str, keep_default_na=False)
        user = pd.concat([user, extra], ignore_index=True).fillna("")
    columns = ["composition", *MEASURED_COLUMNS]
    frame = pd.DataFrame({c: user[c] if c in user.columns else "" for c in columns})
    numeric = frame[list(MEASURED_COLUMNS)].apply(pd.to_numeric, errors="coerce")
    frame[list(MEASURED_COLUMNS)] = numeric
    return frame[numeric.notna().any(axis=1)].reset_index(drop=True)


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
    n_measurements_only: int = Field(
        0, description="Rows of known compositions kept as measurements only (no new label)"
    )
    n_measured_rows: int = Field(
        0, description="Rows with measured transport values in the user data after the merge"
    )
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
        Outcome CSV (``composition,outcome,source`` and optional measured columns) or the JSON
        of ``nasicon-workflows eis --json``.
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
        comp = NasiconComposition.from_formula(rec["composition"], allow_excess_na=True)
        known[composition_key(comp)] = (
            bool(rec["synthesizable"]),
            rec["composition"],
            rec["source"],
        )
    conflicts, repeats, measurement_only = [], [], []
    measured_cols = [c for c in MEASURED_COLUMNS if c in new.columns]
    for idx, rec in new.iterrows():
        if rec["key"] in known:
            label, formula, source = known[rec["key"]]
            text = (
                f"line {rec['line']}: {rec['composition']} is already in the data as {formula} "
                f"({'synthesizable' if label else 'non-synthesizable'}; source {source})"
            )
            if label != rec["synthesizable"]:
                conflicts.append(text)
            elif any(pd.notna(rec[c]) for c in measured_cols):
                # a known composition with the same label and a measurement: the measurement is
                # kept, the training data do not change
                measurement_only.append(idx)
            else:
                repeats.append(text)
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
            + ". Remove these rows (nothing was added); a known composition is accepted again "
            "only with measured values (sigma_*_S_cm with temperature_K, or Ea_eV)."
        )
    if measurement_only:
        _append_measurements(root, new.loc[measurement_only])
        new = new.drop(index=measurement_only)
    if new.empty:
        version = _current_version(root)
        snapshot = root / "versions" / f"outcomes-v{version}.csv"
        return AddOutcomesResult(
            n_added=0,
            n_measurements_only=len(measurement_only),
            n_measured_rows=len(load_measured_transport(root)),
            n_user_rows=len(load_user_dataset(root)),
            n_training_rows=len(combined_dataset(root)),
            version=version,
            dataset_path=str(snapshot) if version else "",
            model_path=None,
            model_name=model,
            metrics={},
        )
    user = load_user_dataset(root)
    keep = ["composition", "outcome", "source"]
    measured = [c for c in MEASURED_COLUMNS if c in user.columns or c in new.columns]
    merged = pd.concat(
        [user[[c for c in keep + measured if c in user.columns]],
         new[[c for c in keep + measured if c in new.columns]]],
        ignore_index=True,
    )[keep + measured]
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
        n_measurements_only=len(measurement_only),
        n_measured_rows=len(load_measured_transport(root)),
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
