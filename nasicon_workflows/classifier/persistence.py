"""Saving and reloading trained models with metadata that is checked on load.

A model is two files: ``<stem>.joblib`` (the fitted pipeline and its applicability domain) and
``<stem>.json`` (the metadata, readable without unpickling). :func:`load_model` reads the JSON
first and refuses a model whose library versions, descriptor convention, features or training-data
hash differ from what this installation or the caller expects, so a stale model raises a clear
:class:`ModelMetadataError` instead of predicting wrong numbers. Only load files you wrote: joblib
files are pickles.
"""

from __future__ import annotations

import json
import platform
from datetime import datetime, timezone
from pathlib import Path

from pydantic import BaseModel, Field

from nasicon_workflows.classifier.errors import ModelFileError, ModelMetadataError

__all__ = ["FORMAT_VERSION", "ModelMetadata", "library_versions", "load_model", "save_model"]

#: Bumped when the saved layout changes.
FORMAT_VERSION = 1


def library_versions() -> dict[str, str]:
    """Versions that decide whether a pickled pipeline gives the same predictions."""
    import numpy
    import sklearn

    from nasicon_workflows import __version__

    return {
        "nasicon_workflows": __version__,
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
    }


class ModelMetadata(BaseModel):
    """What a saved model was trained with."""

    format_version: int = FORMAT_VERSION
    model_name: str
    description: str = ""
    feature_set: str
    features: list[str]
    convention: str = Field(description="Descriptor convention of the features")
    training_data_sha256: str
    training_data_label: str = Field(description="'shipped' or the user-dataset version")
    n_training_rows: int
    n_synthesizable: int
    library_versions: dict[str, str]
    metrics: dict[str, float] = Field(
        default_factory=dict, description="Cross-validated metrics at training time (mean/std)"
    )
    seed: int = 0
    threshold: float = 0.5
    created_utc: str = Field(
        default_factory=lambda: datetime.now(timezone.utc).isoformat(timespec="seconds")
    )
    version: int = Field(1, description="Model version (increases with each retraining)")


def _paths(path: str | Path) -> tuple[Path, Path]:
    p = Path(path)
    stem = p.with_suffix("") if p.suffix in {".joblib", ".json"} else p
    return stem.with_suffix(".joblib"), stem.with_suffix(".json")


def save_model(payload: dict, metadata: ModelMetadata, path: str | Path) -> Path:
    """Write ``payload`` (pipeline, domain, ...) and ``metadata`` next to each other.

    Parameters
    ----------
    payload
        Picklable objects of the model.
    metadata
        Its metadata.
    path
        File stem or ``.joblib`` path; parent folders are created.

    Returns
    -------
    pathlib.Path
        The ``.joblib`` path.
    """
    import joblib

    from nasicon_workflows.fileio import atomic_write, atomic_write_text

    model_path, meta_path = _paths(path)
    # Atomic writes (temporary file + rename): parallel processes (pytest-xdist workers, several
    # screens) sharing one cache never read a half-written file.
    atomic_write(model_path,
                 lambda tmp: joblib.dump({"metadata": metadata.model_dump(), **payload}, tmp))
    atomic_write_text(meta_path, json.dumps(metadata.model_dump(), indent=2))
    return model_path


def read_metadata(path: str | Path) -> ModelMetadata:
    """Metadata of a saved model without unpickling it."""
    _, meta_path = _paths(path)
    if not meta_path.is_file():
        raise ModelFileError(f"No model metadata at {meta_path}: train or save the model first.")
    try:
        return ModelMetadata(**json.loads(meta_path.read_text()))
    except Exception as exc:  # malformed JSON or fields: say which file
        raise ModelFileError(f"Unreadable model metadata {meta_path}: {exc}") from None


def load_model(
    path: str | Path,
    expected_data_sha256: str | None = None,
    expected_convention: str | None = None,
    expected_features: list[str] | None = None,
    check_versions: bool = True,
) -> tuple[ModelMetadata, dict]:
    """Load a saved model after checking its metadata.

    Parameters
    ----------
    path
        File stem or ``.joblib`` path.
    expected_data_sha256, expected_convention, expected_features
        When given, must equal the saved values.
    check_versions
        Require the saved library versions to equal :func:`library_versions`.

    Returns
    -------
    metadata : ModelMetadata
    payload : dict
        What was saved (``pipeline``, ``domain``, ...).

    Raises
    ------
    ModelFileError
        Missing or unreadable files.
    ModelMetadataError
        A mismatch, naming each differing field with saved and expected values.
    """
    import joblib

    meta = read_metadata(path)
    problems = []
    if meta.format_version != FORMAT_VERSION:
        problems.append(f"format_version saved {meta.format_version}, expected {FORMAT_VERSION}")
    if check_versions:
        now = library_versions()
        for lib, version in now.items():
            if meta.library_versions.get(lib) != version:
                problems.append(
                    f"{lib} saved {meta.library_versions.get(lib)}, installed {version}"
                )
    for field, expected in (
        ("training_data_sha256", expected_data_sha256),
        ("convention", expected_convention),
        ("features", expected_features),
    ):
        saved = getattr(meta, field)
        if expected is not None and saved != expected:
            problems.append(f"{field} saved {saved!r}, expected {expected!r}")
    if problems:
        raise ModelMetadataError(
            f"Saved model {_paths(path)[0]} does not match: "
            + "; ".join(problems)
            + ". Retrain it (delete the file, or run add-outcomes / load_default again)."
        )
    model_path, _ = _paths(path)
    try:
        payload = joblib.load(model_path)
    except FileNotFoundError:
        raise ModelFileError(f"Model file {model_path} is missing (metadata exists).") from None
    except Exception as exc:
        raise ModelFileError(f"Cannot read model file {model_path}: {exc}") from None
    if payload.get("metadata") != meta.model_dump():
        raise ModelMetadataError(
            f"Model file {model_path} and its metadata {_paths(path)[1]} disagree: one of them was "
            "replaced. Retrain the model."
        )
    payload.pop("metadata")
    return meta, payload
