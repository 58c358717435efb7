"""End-to-end screening (composition -> gate -> structures -> relax -> BVSE -> ranking).

>>> from nasicon_workflows.screen import ScreeningFlowMaker, run_screen
>>> flow = ScreeningFlowMaker(top=2, relax="none").make(["Na3.4Zr1.8Mg0.2Si2PO12"])  # doctest: +SKIP

The public names are imported from their submodules on first use, so that importing one
submodule (the command line's options, or a job function in a jobflow-remote job process) does
not import the whole screen (the runner alone imports maggma's JSONStore).
"""

from nasicon_workflows._lazy import lazy_exports

#: Public name -> submodule that defines it, in the order of ``__all__``.
_EXPORTS = {
    "CandidateResult": "documents",
    "GateRecord": "documents",
    "RankingWeights": "ranking",
    "ScreeningFlowMaker": "flow",
    "ScreeningResult": "documents",
    "load_job_store": "runner",
    "rank_candidates": "ranking",
    "run_screen": "runner",
}

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
