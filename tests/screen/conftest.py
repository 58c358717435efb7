"""Stand-in stages for the screen's tests (tests/screen/).

They replace only the expensive stages (classifier, structures, relaxation, BVSE landscape) through
``nasicon_workflows.screen.stages``; the flow, jobflow, the job store and the report stay real.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest
from jobflow import Maker, job
from pymatgen.core import Lattice, Structure

from nasicon_workflows.bvse import BVSEDocument
from nasicon_workflows.descriptors import compute_descriptors
from nasicon_workflows.screen import stages

@dataclass
class StandInRelaxMaker(Maker):
    """Scales the cell by 2 %; energy -0.1 eV per Å^3. Fails for cells holding Lu."""

    name: str = "stand-in relax"

    @job
    def make(self, structure):
        if "Lu" in {el.symbol for el in structure.composition.elements}:
            raise ValueError("stand-in relaxation diverged")
        relaxed = structure.copy()
        relaxed.scale_lattice(structure.volume * 1.02)
        return {"structure": relaxed, "output": {"energy": -0.1 * relaxed.volume}}


@dataclass
class StandInPhononMaker(Maker):
    """Reports the cell it was given: lowest frequency = -(volume / 1000) THz."""

    name: str = "stand-in phonons"

    @job
    def make(self, structure, composition=None):
        return {"n_imaginary_modes": 0, "is_dynamically_stable": True,
                "min_frequency_THz": -structure.volume / 1000.0, "composition": composition,
                "temperatures_K": [300.0], "g_vib_config_eV_per_fu": [-0.1]}


@pytest.fixture
def calls(monkeypatch):
    """Install stand-in stages; returns a counter of calls per stage."""
    counter = {"score": 0, "build": 0, "relax": 0, "bvse": 0, "phonons": 0}

    def score(formulas):
        counter["score"] += 1
        out = []
        for f in formulas:
            d = compute_descriptors(f)
            # probability = entropy: a monotone stand-in whose gate decisions are easy to predict
            out.append(dict(composition=d.composition, probability=min(1.0, d.entropy_R), label=1,
                            in_domain="Hf" not in f or "Sc" in f, domain_reason=None,
                            entropy_R=d.entropy_R, entropy_class=d.entropy_class,
                            ionic_radius_pm=d.ionic_radius_pm,
                            electronegativity=d.electronegativity))
        return out

    def build(formula, k, method, max_atoms, seed):
        counter["build"] += 1
        species = ["Na", "Lu" if "Lu" in formula else "Zr", "O"]
        rng = np.random.default_rng(seed)
        return [{"structure": Structure(Lattice.cubic(5.0 + 0.1 * i + 0.01 * len(formula)),
                                        species, rng.random((3, 3))),
                 "ordering_score": -float(k - i), "realised_formula": formula,
                 "composition_error": 0.0} for i in range(k)]

    def relax_maker(engine, fmax, steps):
        counter["relax"] += 1
        return StandInRelaxMaker()

    def bvse(structure, resolution, maps_dir=None, stem="bvse"):
        counter["bvse"] += 1
        return BVSEDocument(
            formula=structure.composition.reduced_formula, E_1D=0.2, E_2D=None,
            E_3D=0.3 + structure.volume / 1000.0, grid_shape=(1, 1, 1), resolution=resolution,
            grid_spacing_A=(resolution,) * 3, energy_min_eV=0.0,
        )

    def phonon_maker(engine):
        counter["phonons"] += 1
        return StandInPhononMaker()

    monkeypatch.setattr(stages, "phonon_maker", phonon_maker)
    monkeypatch.setattr(stages, "score_compositions", score)
    monkeypatch.setattr(stages, "build_configurations", build)
    monkeypatch.setattr(stages, "relax_maker", relax_maker)
    monkeypatch.setattr(stages, "bvse_landscape", bvse)
    monkeypatch.setattr(stages, "classifier_summary", lambda: {"model": "stand-in"})
    return counter


