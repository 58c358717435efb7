"""The end-to-end screening flow: compositions -> classifier -> gate -> per candidate (stage
Makers: structures -> relaxation -> BVSE [-> phonons, transport]) -> aggregate and rank.

The flow is assembled from modules with one responsibility each:

* :mod:`~nasicon_workflows.screen.gate`: classification and the gate's selection; the gate job
  expands the selected candidates into subflows with ``Response(replace=...)`` and appends the
  aggregate job, whose ``on_missing_references`` is ``NONE`` so that a candidate whose relaxation
  or BVSE failed arrives as ``None`` and is reported as failed while the others are ranked;
* :mod:`~nasicon_workflows.screen.candidate`: the per-candidate subflow, composed of the stage
  Makers (``BuildStructuresMaker``, the relax stage's Maker, ``BVSEMaker``,
  ``NasiconPhononMaker``, an optional transport Maker);
* :mod:`~nasicon_workflows.screen.aggregate`: collection and ranking;
* :mod:`~nasicon_workflows.screen.cache`: the resumable result cache.

Relaxation settings: force fields use :attr:`ScreeningFlowMaker.fmax` and
:attr:`ScreeningFlowMaker.relax_steps`; VASP uses :attr:`ScreeningFlowMaker.vasp`, a
:class:`~nasicon_workflows.relax.settings.VaspRelaxSettings` with the published settings, which
the force-field budget never touches.

Resumability: when ``cache_dir`` is set (the local runner sets it inside the output folder), every
expensive step first looks up its result in a :class:`~nasicon_workflows.screen.cache.ResultCache`
keyed by composition, the settings that change the result, the package version and the force
field and its version, and stores it atomically when done. On HPC (jobflow-remote) leave
``cache_dir`` None: the queue database does the bookkeeping.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from jobflow import Flow, Maker

from nasicon_workflows.composition import NasiconComposition
from nasicon_workflows.relax.settings import ForceFieldRelaxSettings, VaspRelaxSettings
from nasicon_workflows.screen.aggregate import aggregate_screen, ranking_row
from nasicon_workflows.screen.candidate import CandidateFlowMaker
from nasicon_workflows.screen.documents import DIMENSIONS, GateRecord
from nasicon_workflows.screen.errors import (
    EmptyCandidateSetError,
    ScreenInputError,
    ThresholdRangeError,
)
from nasicon_workflows.screen.gate import classify_candidates, gate_candidates, select_candidates
from nasicon_workflows.screen.ranking import RankingWeights

__all__ = [
    "DIMENSIONS",
    "ScreeningFlowMaker",
    "aggregate_screen",
    "candidate_key",
    "check_realisable",
    "classify_candidates",
    "gate_candidates",
    "ranking_row",
    "select_candidates",
]

logger = logging.getLogger(__name__)


@dataclass
class ScreeningFlowMaker(Maker):
    """Maker of the end-to-end NASICON screen.

    Parameters
    ----------
    name
        Flow name.
    enumeration
        Keyword arguments of the enumeration stage's ``EnumerationRules`` used when no explicit
        compositions are given (empty: the stage's defaults, i.e. the paper's dopant pool).
    keep_scored
        How many enumerated compositions are kept in the results (the enumeration itself may
        cover many more; their count is reported).
    tie_break
        Which ``keep_scored`` are kept: ``"ehull"`` (default) keeps, among the compositions
        tied in probability with the best within the best's standard deviation, those with
        the lowest predicted E_hull(1000 K), DFT-covered elements first (the probability
        cannot order a tie; docs/selection_report.md); ``"probability"`` the most probable
        (the previous behaviour). Gates without ``probability_std`` use ``"probability"``.
    threshold
        Minimum synthesizability probability (0-1) for a candidate to pass the gate.
    top
        Number of passing candidates expanded into calculations (default 3: top 4 x 2 converged
        orderings took 10.95 min on 2 idle cores, top 3 x 2 7.6 min; docs/screen.md).
    orderings
        Ordered configurations per candidate (the BVSE spread is taken over them).
    ordering_method
        ``"ewald"`` or ``"sqs"`` (structure stage).
    max_atoms
        Largest ordered cell, atoms. Compositions get the smallest exact (possibly
        non-diagonal) cell within it; 220 admits the 10-formula-unit cells of a 0.1 grid.
    relax
        Relaxation engine: ``"chgnet"``, ``"sevennet"``, ``"vasp"`` or ``"none"``.
    fmax
        Force convergence of **force-field** relaxations (cell and positions together, BFGS),
        eV/Å (never used for VASP). The default 0.049 certifies 0.05: the optimizer's final
        forces change by ~1e-4 eV/Å in the round trip to a pymatgen structure
        (docs/relax_convergence.md).
    relax_steps
        Maximum optimizer steps of **force-field** relaxations (never used for VASP); 300 is a
        guard (the largest count measured with BFGS was 81), not a budget: a relaxation that
        stops there is flagged as not converged in the ranking and the reports.
    allow_composition_error
        Explicit compositions that no cell within ``max_atoms`` realises exactly are refused
        before anything is computed; True computes the nearest realisable composition instead
        (its error is recorded per configuration).
    vasp
        Settings of VASP relaxations (``relax="vasp"``): the published PBE settings with NSW 200
        unless overridden explicitly (overrides are logged).
    transport_maker
        Optional transport stage run on each candidate's lowest-energy relaxed configuration: a
        Maker whose ``make(structure)`` returns a document (e.g. KMC or MD); None: none.
    bvse_resolution
        Grid spacing of the BVSE landscape, Å.
    phonons
        Also compute force-field phonons of the lowest-energy configuration (slow).
    seed
        Seed of every random choice (orderings).
    ranking_weights
        Keyword arguments of :class:`~nasicon_workflows.screen.ranking.RankingWeights`.
    max_ehull
        Second gate on the stability model's predicted E_hull(1000 K), meV/atom (None: off);
        the same as ``classify/enumerate --max-ehull``. A composition above it is rejected with
        the reason.
    md_top
        Force-field MD transport (``MDTransportMaker``, GPU/HPC tier) of the ``md_top`` best
        ranked candidates after the ranking (local runs; 0: none).
    cache_dir
        Folder of the resumable result cache (None: no caching).
    maps_dir
        Folder for the BVSE landscape files (cube, grd, section PNG) of each candidate's first
        configuration (None: not written).
    """

    name: str = "nasicon screen"
    enumeration: dict = field(default_factory=dict)
    keep_scored: int = 100
    tie_break: str = "ehull"
    threshold: float = 0.5
    top: int = 3
    orderings: int = 2
    ordering_method: str = "ewald"
    max_atoms: int = 220
    relax: str = "chgnet"
    fmax: float = 0.049
    relax_steps: int = 300
    allow_composition_error: bool = False
    vasp: VaspRelaxSettings = field(default_factory=VaspRelaxSettings)
    bvse_resolution: float = 0.1
    phonons: bool = False
    seed: int = 0
    ranking_weights: dict = field(default_factory=dict)
    transport_maker: Maker | None = None
    max_ehull: float | None = None
    md_top: int = 0
    cache_dir: str | None = None
    maps_dir: str | None = None

    def __post_init__(self) -> None:
        if not (0.0 <= float(self.threshold) <= 1.0):
            raise ThresholdRangeError(
                f"Probability threshold {self.threshold} is outside [0, 1]: give e.g. 0.5."
            )
        for name in ("top", "orderings", "keep_scored", "max_atoms", "relax_steps"):
            if int(getattr(self, name)) < 1:
                raise ScreenInputError(f"{name} must be >= 1; got {getattr(self, name)}.")
        if not (self.bvse_resolution > 0 and self.fmax > 0):
            raise ScreenInputError(
                f"bvse_resolution ({self.bvse_resolution} Å) and fmax ({self.fmax} eV/Å) must be "
                "> 0."
            )
        if self.max_ehull is not None and not math.isfinite(float(self.max_ehull)):
            raise ScreenInputError(
                f"max_ehull must be a finite number of meV/atom; got {self.max_ehull}."
            )
        if self.tie_break not in ("ehull", "probability"):
            raise ScreenInputError(
                f"tie_break must be 'ehull' or 'probability'; got {self.tie_break!r}."
            )
        if int(self.md_top) < 0:
            raise ScreenInputError(f"md_top must be >= 0; got {self.md_top}.")
        RankingWeights(**self.ranking_weights)  # validates names and values now, not at the end
        if isinstance(self.vasp, dict):
            self.vasp = VaspRelaxSettings(**self.vasp)
        self.relax_settings()  # validates the relaxation settings now

    # ------------------------------------------------------------------ settings
    def relax_settings(self) -> ForceFieldRelaxSettings | VaspRelaxSettings | None:
        """The relaxation settings object of :attr:`relax` (None for ``"none"``).

        Force fields get :attr:`fmax` and :attr:`relax_steps`; VASP gets :attr:`vasp` and
        nothing else, so the force-field budget never reaches a VASP INCAR.
        """
        engine = self.relax.lower()
        if engine == "none":
            return None
        if engine == "vasp":
            return self.vasp
        return ForceFieldRelaxSettings(
            force_field=engine, fmax_eV_per_A=self.fmax, max_steps=self.relax_steps
        )

    def phonon_engine(self) -> str | None:
        """Engine of the phonons (None: off): the relaxation engine, CHGNet without one."""
        if not self.phonons:
            return None
        return "chgnet" if self.relax.lower() == "none" else self.relax.lower()

    def candidate_maker(self) -> CandidateFlowMaker:
        """The Maker of each candidate's subflow, with this screen's settings."""
        return CandidateFlowMaker(
            orderings=self.orderings,
            ordering_method=self.ordering_method,
            max_atoms=self.max_atoms,
            seed=self.seed,
            allow_composition_error=self.allow_composition_error,
            relax_settings=self.relax_settings(),
            bvse_resolution=self.bvse_resolution,
            phonon_engine=self.phonon_engine(),
            transport_maker=self.transport_maker,
            cache_dir=self.cache_dir,
            maps_dir=self.maps_dir,
        )

    def candidate_settings(self) -> dict[str, Any]:
        """The settings that change a candidate's computed results (part of its cache key)."""
        return self.candidate_maker().settings()

    def settings(self) -> dict[str, Any]:
        """Every setting, for the report (the active relaxation settings under
        ``relax_settings``)."""
        out = {k: v for k, v in asdict(self).items()
               if k not in ("cache_dir", "maps_dir", "transport_maker")}
        relax = self.relax_settings()
        out["relax_settings"] = None if relax is None else relax.settings_dict()
        out["transport"] = (None if self.transport_maker is None
                            else type(self.transport_maker).__name__)
        return out

    # ------------------------------------------------------------------ flows
    def make(self, compositions: Sequence[str] | None = None) -> Flow:
        """The screening flow.

        Parameters
        ----------
        compositions
            Formulas to screen; None enumerates compositions with :attr:`enumeration`.

        Returns
        -------
        Flow
            ``classify`` then the dynamic ``gate``; the flow's output is the
            :class:`ScreeningResult` of the aggregate job.

        Raises
        ------
        InvalidCompositionError
            A formula that is not a valid NASICON composition.
        CompositionNotRealisableError
            A formula no cell within :attr:`max_atoms` realises exactly (unless
            :attr:`allow_composition_error`).
        EmptyCandidateSetError
            An empty composition list.
        """
        formulas = None
        if compositions is not None:
            formulas = self.make_formulas(compositions)
            if not formulas:
                raise EmptyCandidateSetError(
                    "The composition list is empty: give at least one formula or omit it to "
                    "enumerate compositions."
                )
            if not self.allow_composition_error:
                check_realisable(formulas, self.max_atoms)
        extra = {} if self.max_ehull is None else {"max_ehull": float(self.max_ehull)}
        classify = classify_candidates(formulas, self.enumeration, self.keep_scored,
                                       self.cache_dir, **extra, tie_break=self.tie_break)
        gate = gate_candidates(
            classify.output, self.threshold, self.top, self.candidate_maker(), self.settings()
        )
        return Flow([classify, gate], output=gate.output, name=self.name)

    @staticmethod
    def make_formulas(compositions: Sequence[str]) -> list[str]:
        """Canonical formulas of ``compositions``, duplicates removed (order kept)."""
        return list(dict.fromkeys(
            NasiconComposition.from_formula(f).formula for f in compositions
        ))

    def make_candidate(self, record: GateRecord, index: int = 1, total: int = 1) -> Flow:
        """The subflow of one gated candidate (:class:`CandidateFlowMaker` with these settings)."""
        return self.candidate_maker().make(record, index, total)


def check_realisable(formulas: Sequence[str], max_atoms: int) -> None:
    """Refuse, before computing, compositions that no cell within ``max_atoms`` realises exactly.

    Uses the structure stage's exact (possibly non-diagonal) supercell search
    (:func:`~nasicon_workflows.structures.supercell.exact_supercell`).

    Raises
    ------
    CompositionNotRealisableError
        Names every composition concerned, its smallest exact cell and nearest realisable
        composition (the structure stage's message), and the option that allows the error.
    """
    from nasicon_workflows.structures import disordered_structure
    from nasicon_workflows.structures.supercell import (
        CompositionNotRealisableError,
        exact_supercell,
    )

    problems = []
    for formula in formulas:
        try:
            exact_supercell(disordered_structure(formula), max_atoms=max_atoms)
        except CompositionNotRealisableError as exc:
            problems.append(f"{formula}: {exc}")
    if problems:
        raise CompositionNotRealisableError(
            "no cell within the atom budget realises these compositions exactly: "
            + "; ".join(problems)
            + " Raise --max-atoms, or give --allow-composition-error to compute the nearest "
            "realisable composition with its error recorded."
        )


def candidate_key(formula: str, maker: ScreeningFlowMaker) -> str:
    """Cache key of a finished candidate: composition, settings, package and model version."""
    return maker.candidate_maker().candidate_key(formula)
