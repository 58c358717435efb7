"""Stand-in stages for the screen's tests (tests/screen/).

They replace only the expensive stages (classifier, and the structure, relaxation, BVSE and
phonon Makers) through ``nasicon_workflows.screen.stages``, with Makers that return the stages'
own documents; the flow, jobflow, the job store and the report stay real.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from jobflow import Maker, job
from pymatgen.core import Lattice, Structure

from nasicon_workflows.bvse import BVSEDocument
from nasicon_workflows.descriptors import compute_descriptors
from nasicon_workflows.screen import stages
from nasicon_workflows.structures.schemas import StructuresDocument

def kill_after_first_relaxation(proc: subprocess.Popen, out: Path,
                                timeout_s: float = 600.0) -> None:
    """kill -9 the screen ``proc`` (writing to ``out``) once its first relaxation is cached,
    while it is still running (the next relaxation has started)."""
    relaxations = out / "cache" / "relaxations"
    deadline = time.monotonic() + timeout_s
    while not (relaxations.is_dir() and list(relaxations.glob("*.json"))):
        assert proc.poll() is None, proc.communicate()[1][-3000:]
        assert time.monotonic() < deadline, f"no relaxation finished within {timeout_s:.0f} s"
        time.sleep(0.2)
    assert proc.poll() is None, "the run ended before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate()


@contextmanager
def output_lock_held_elsewhere(folder: Path):
    """Hold the output lock of ``folder`` in a child python process (a lock held by another
    *process* is what a second run meets) until the block ends; the child is then killed."""
    code = (
        "import time; from nasicon_workflows.fileio import output_lock\n"
        f"with output_lock({str(folder)!r}):\n"
        "    print('locked', flush=True); time.sleep(30)\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                             env=env)
    try:
        assert child.stdout.readline().strip() == "locked"
        yield child
    finally:
        child.kill()
        child.wait()


def stand_in_task_document(structure, energy_eV):
    """A force-field task document as atomate2's ``ForceFieldRelaxMaker`` returns it."""
    from atomate2.ase.schemas import InputDoc, OutputDoc
    from atomate2.forcefields.schemas import ForceFieldTaskDocument

    return ForceFieldTaskDocument(
        structure=structure, input=InputDoc(mol_or_struct=structure),
        output=OutputDoc(mol_or_struct=structure, energy=energy_eV, n_steps=3),
        is_force_converged=True, forcefield_name="stand-in", ase_calculator_name="stand-in",
    )


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
        return stand_in_task_document(relaxed, -0.1 * relaxed.volume)


@dataclass
class StandInPhononMaker(Maker):
    """Reports the cell it was given: lowest frequency = -(volume / 1000) THz."""

    name: str = "stand-in phonons"

    @job
    def make(self, structure, composition=None):
        return {"n_imaginary_modes": 0, "is_dynamically_stable": True,
                "min_frequency_THz": -structure.volume / 1000.0, "composition": composition,
                "temperatures_K": [300.0], "g_vib_config_eV_per_fu": [-0.1]}


@dataclass
class StandInKMCMaker(Maker):
    """A KMCDocument-shaped result: sigma(573 K) = volume * 1e-6 S/cm, Ea 0.5 eV."""

    name: str = "stand-in kmc"

    @job
    def make(self, structure):
        sigma = structure.volume * 1e-6
        return {"formula": structure.composition.reduced_formula, "interaction": "softbv",
                "temperatures": [{"temperature_K": 573.15, "sigma_S_cm": sigma,
                                  "haven_ratio": 0.6}],
                "Ea_eV": 0.5, "Ea_ci95_eV": [0.45, 0.55], "sigma_300K_S_cm": sigma / 1e4,
                "settings": {"n_runs": 3, "hops_per_ion": 150}}


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

    @dataclass
    class StandInStructuresMaker(Maker):
        """k random 3-atom cubic cells; the larger the index, the larger the cell."""

        name: str = "stand-in structures"
        k: int = 2
        seed: int = 0

        @job
        def make(self, composition):
            counter["build"] += 1
            species = ["Na", "Lu" if "Lu" in composition else "Zr", "O"]
            rng = np.random.default_rng(self.seed)
            cells = [Structure(Lattice.cubic(5.0 + 0.1 * i + 0.01 * len(composition)),
                               species, rng.random((3, 3))) for i in range(self.k)]
            return StructuresDocument(
                source=composition, disordered_structure=cells[0], structures=cells,
                scores=[-float(self.k - i) for i in range(self.k)], method="ewald",
                supercell=(1, 1, 1), target_formula=composition,
                realised_composition=composition, composition_error=0.0,
                ewald_energies_eV=[-float(self.k - i) for i in range(self.k)],
            )

    def structures_maker(method, orderings, max_atoms, seed, **kwargs):
        return StandInStructuresMaker(k=orderings, seed=seed)

    def relax_maker(settings):
        counter["relax"] += 1
        return StandInRelaxMaker()

    @dataclass
    class StandInBVSEMaker(Maker):
        """E_1D 0.2 eV, no 2D path, E_3D = 0.3 eV + volume / 1000."""

        name: str = "stand-in bvse"
        resolution: float = 0.1

        @job
        def make(self, structure):
            counter["bvse"] += 1
            return BVSEDocument(
                formula=structure.composition.reduced_formula, E_1D=0.2, E_2D=None,
                E_3D=0.3 + structure.volume / 1000.0, grid_shape=(1, 1, 1),
                resolution=self.resolution, grid_spacing_A=(self.resolution,) * 3,
                energy_min_eV=0.0,
            )

    def bvse_maker(resolution, maps_dir=None, stem="bvse"):
        return StandInBVSEMaker(resolution=resolution)

    def phonon_maker(engine):
        counter["phonons"] += 1
        return StandInPhononMaker()

    monkeypatch.setattr(stages, "kmc_maker", lambda resolution=0.1, seed=0: StandInKMCMaker())
    monkeypatch.setattr(stages, "phonon_maker", phonon_maker)
    monkeypatch.setattr(stages, "score_compositions", score)
    monkeypatch.setattr(stages, "structures_maker", structures_maker)
    monkeypatch.setattr(stages, "relax_maker", relax_maker)
    monkeypatch.setattr(stages, "bvse_maker", bvse_maker)
    monkeypatch.setattr(stages, "classifier_summary", lambda: {"model": "stand-in"})
    return counter
