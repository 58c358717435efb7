"""The transport hook of the candidate subflow: any Maker with ``make(structure)`` runs on each
candidate's lowest-energy relaxed configuration and its output lands in the candidate's result."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from jobflow import JobStore, Maker, job, run_locally
from maggma.stores import MemoryStore

from nasicon_workflows.screen.documents import ScreeningResult
from nasicon_workflows.screen.flow import ScreeningFlowMaker


@dataclass
class StandInTransportMaker(Maker):
    """Reports the volume of the cell it was given (a KMC or MD Maker would go here)."""

    name: str = "stand-in transport"
    temperature_K: float = 600.0

    @job
    def make(self, structure):
        return {"volume_A3": structure.volume, "temperature_K": self.temperature_K}


def test_transport_maker_runs_on_the_lowest_energy_configuration(calls):
    maker = ScreeningFlowMaker(top=1, threshold=0.0, orderings=3,
                               transport_maker=StandInTransportMaker())
    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    responses = run_locally(maker.make(["Na3.4Zr1.8Mg0.2Si2PO12"]), store=store, log=False,
                            ensure_success=True)
    result = next(r.output for by_index in responses.values() for r in by_index.values()
                  if isinstance(r.output, ScreeningResult))
    (cand,) = result.candidates
    # stand-in energy -0.1 eV/Å^3: the largest cell has the lowest energy per atom
    lowest = min(cand.configurations, key=lambda c: c.energy_per_atom_eV)
    assert lowest.volume_A3 == max(c.volume_A3 for c in cand.configurations)
    assert cand.transport["volume_A3"] == pytest.approx(lowest.volume_A3)
    assert cand.transport["temperature_K"] == 600.0
    # the transport settings are part of the candidate's cache key
    plain = ScreeningFlowMaker(top=1, threshold=0.0, orderings=3)
    assert maker.candidate_maker().candidate_key("X") != plain.candidate_maker().candidate_key("X")
