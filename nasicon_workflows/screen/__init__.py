"""End-to-end screening (composition -> gate -> structures -> relax -> BVSE -> ranking).

>>> from nasicon_workflows.screen import ScreeningFlowMaker, run_screen
>>> flow = ScreeningFlowMaker(top=2, relax="none").make(["Na3.4Zr1.8Mg0.2Si2PO12"])  # doctest: +SKIP
"""

from nasicon_workflows.screen.documents import CandidateResult, GateRecord, ScreeningResult
from nasicon_workflows.screen.flow import ScreeningFlowMaker
from nasicon_workflows.screen.ranking import RankingWeights, rank_candidates

__all__ = [
    "CandidateResult",
    "GateRecord",
    "RankingWeights",
    "ScreeningFlowMaker",
    "ScreeningResult",
    "load_job_store",
    "rank_candidates",
    "run_screen",
]


def __getattr__(name: str):
    # The runner imports maggma's JSONStore; keep `import nasicon_workflows.screen` light.
    if name in ("run_screen", "load_job_store"):
        from nasicon_workflows.screen import runner

        return getattr(runner, name)
    raise AttributeError(name)
