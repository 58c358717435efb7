"""Synthesizability classifier: features, models, honest evaluation, persistence and the gate.

Typical use::

    from nasicon_workflows.classifier import SynthesizabilityGate
    gate = SynthesizabilityGate.load_default()
    frame = gate.score(["Na3.4Zr1.6Sc0.4Si2PO12"])

Heavy modules (evaluation, outcomes) are imported on first use.
"""

from __future__ import annotations

from nasicon_workflows.classifier.errors import (
    ClassifierError,
    EmptyEnumerationError,
    EnumerationRulesError,
    ModelFileError,
    ModelMetadataError,
    OutcomeConflictError,
    OutcomeFileError,
    OutcomeValidationError,
    UnknownFeatureSetError,
    UnknownModelError,
)
from nasicon_workflows.classifier.features import FEATURE_SETS, feature_arrays, features_frame
from nasicon_workflows.classifier.gate import (
    DEFAULT_GATE_MODEL,
    ApplicabilityDomain,
    GateDocument,
    GateMaker,
    SynthesizabilityGate,
    train_gate,
)
from nasicon_workflows.classifier.models import MODEL_SPECS, PUBLISHED_MODELS, build_model

__all__ = [
    "ApplicabilityDomain",
    "ClassifierError",
    "DEFAULT_GATE_MODEL",
    "EmptyEnumerationError",
    "EnumerationRulesError",
    "FEATURE_SETS",
    "GateDocument",
    "GateMaker",
    "MODEL_SPECS",
    "ModelFileError",
    "ModelMetadataError",
    "OutcomeConflictError",
    "OutcomeFileError",
    "OutcomeValidationError",
    "PUBLISHED_MODELS",
    "SynthesizabilityGate",
    "UnknownFeatureSetError",
    "UnknownModelError",
    "build_model",
    "feature_arrays",
    "features_frame",
    "train_gate",
]
