"""Impedance analysis: measured spectra to bulk, grain-boundary and total conductivity, Arrhenius
activation energies, an ``add-outcomes`` row, and measured-vs-predicted rank correlations.

See ``docs/eis.md`` for the protocol, the library comparison and the validation.
"""

from nasicon_workflows.eis.analysis import (
    EISAnalysisMaker,
    analyse_spectra,
    analyse_spectrum,
    arrhenius_from_table,
    outcome_row,
    read_sigma_table,
    write_outputs,
)
from nasicon_workflows.eis.arrhenius import ROOM_TEMPERATURE_K, ArrheniusFit, fit_arrhenius
from nasicon_workflows.eis.compare import (
    RankCorrelation,
    compare_transport,
    measured_vs_predicted,
    spearman_with_ci,
)
from nasicon_workflows.eis.conductivity import PelletGeometry, conductivity_S_cm
from nasicon_workflows.eis.errors import (
    ArrheniusError,
    CircuitError,
    EISError,
    FitConvergenceError,
    GeometryError,
    SpectrumReadError,
    SpectrumValueError,
    TooFewPointsError,
)
from nasicon_workflows.eis.fitting import (
    DEFAULT_CIRCUIT,
    PRESET_CIRCUITS,
    CircuitFit,
    fit_circuit,
    kramers_kronig_check,
    simulate,
)
from nasicon_workflows.eis.schemas import EISAnalysisDocument, SpectrumResult
from nasicon_workflows.eis.spectrum import Spectrum, read_spectrum

__all__ = [
    "DEFAULT_CIRCUIT",
    "PRESET_CIRCUITS",
    "ROOM_TEMPERATURE_K",
    "ArrheniusError",
    "ArrheniusFit",
    "CircuitError",
    "CircuitFit",
    "EISAnalysisDocument",
    "EISAnalysisMaker",
    "EISError",
    "FitConvergenceError",
    "GeometryError",
    "PelletGeometry",
    "RankCorrelation",
    "Spectrum",
    "SpectrumReadError",
    "SpectrumResult",
    "SpectrumValueError",
    "TooFewPointsError",
    "analyse_spectra",
    "analyse_spectrum",
    "arrhenius_from_table",
    "compare_transport",
    "conductivity_S_cm",
    "fit_arrhenius",
    "fit_circuit",
    "kramers_kronig_check",
    "measured_vs_predicted",
    "outcome_row",
    "read_sigma_table",
    "read_spectrum",
    "simulate",
    "spearman_with_ci",
    "write_outputs",
]
