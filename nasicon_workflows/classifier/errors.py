"""Typed errors of the synthesizability classifier, the outcome loop and the enumeration."""

from __future__ import annotations

from nasicon_workflows.errors import NasiconWorkflowsError

__all__ = [
    "ClassifierError",
    "UnknownModelError",
    "UnknownFeatureSetError",
    "ModelMetadataError",
    "ModelFileError",
    "OutcomeFileError",
    "OutcomeValidationError",
    "OutcomeConflictError",
    "EnumerationRulesError",
    "EmptyEnumerationError",
]


class ClassifierError(NasiconWorkflowsError, ValueError):
    """Base class of the classifier errors."""


class UnknownModelError(ClassifierError):
    """A model name that is not in the registry."""


class UnknownFeatureSetError(ClassifierError):
    """A feature-set name that does not exist."""


class ModelMetadataError(ClassifierError):
    """A saved model whose metadata do not match this installation or the request."""


class ModelFileError(ClassifierError):
    """A saved model file that is missing or unreadable."""


class OutcomeFileError(ClassifierError):
    """An outcome CSV that cannot be read or lacks the required columns."""


class OutcomeValidationError(ClassifierError):
    """Outcome rows that do not parse, are not charge balanced or are duplicated."""


class OutcomeConflictError(OutcomeValidationError):
    """The same composition labelled both synthesizable and non-synthesizable."""


class EnumerationRulesError(NasiconWorkflowsError, ValueError):
    """Enumeration rules that are inconsistent or out of range."""


class EmptyEnumerationError(EnumerationRulesError):
    """Rules that admit no composition at all."""
