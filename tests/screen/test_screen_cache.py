"""The result cache is keyed by everything that changes a result: settings, the force field and
its model version, and the package version. Stand-in stages (conftest.py) count the calls."""

from __future__ import annotations

from jobflow import JobStore, run_locally
from maggma.stores import MemoryStore
from pymatgen.core import Lattice, Structure

from nasicon_workflows.relax.settings import ForceFieldRelaxSettings, VaspRelaxSettings
from nasicon_workflows.screen import cache as cache_module
from nasicon_workflows.screen.candidate import relax_key
from nasicon_workflows.screen.flow import ScreeningFlowMaker

FORMULA = "Na3.4Zr1.8Mg0.2Si2PO12"


def _run(maker, cache_dir):
    maker.cache_dir = str(cache_dir)
    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    responses = run_locally(maker.make([FORMULA]), store=store, log=False, ensure_success=True)
    return responses


def _fake_versions(monkeypatch, versions):
    real = cache_module.package_version
    monkeypatch.setattr(cache_module, "package_version",
                        lambda dist="nasicon-workflows": versions.get(dist, real(dist)))


def test_relax_key_changes_with_force_field_model_and_package(monkeypatch):
    cell = Structure(Lattice.cubic(5.0), ["Na", "Zr", "O"], [[0, 0, 0], [0.5, 0.5, 0.5],
                                                             [0.5, 0, 0]])
    chgnet = ForceFieldRelaxSettings("chgnet", 0.1, 25)
    base = relax_key(cell, chgnet)
    assert relax_key(cell, ForceFieldRelaxSettings("chgnet", 0.1, 25)) == base  # stable
    assert relax_key(cell, ForceFieldRelaxSettings("sevennet", 0.1, 25)) != base
    assert relax_key(cell, ForceFieldRelaxSettings("chgnet", 0.05, 25)) != base
    assert relax_key(cell, VaspRelaxSettings()) != base
    _fake_versions(monkeypatch, {"chgnet": "99.0"})
    assert relax_key(cell, chgnet) != base  # another version of the model's package
    _fake_versions(monkeypatch, {"nasicon-workflows": "99.0"})
    assert relax_key(cell, chgnet) != base  # another version of this package
    assert cache_module.code_identity("chgnet")["model_version"].startswith("chgnet ")


def test_changing_the_force_field_invalidates_the_cache(calls, tmp_path, monkeypatch):
    cache_dir = tmp_path / "cache"
    settings = dict(top=1, threshold=0.0, orderings=2)
    _run(ScreeningFlowMaker(relax="chgnet", **settings), cache_dir)
    assert (calls["relax"], calls["bvse"]) == (2, 2)
    _run(ScreeningFlowMaker(relax="chgnet", **settings), cache_dir)
    assert (calls["relax"], calls["bvse"]) == (2, 2)  # same force field: all from the cache
    _run(ScreeningFlowMaker(relax="sevennet", **settings), cache_dir)
    assert calls["relax"] == 4  # another force field: both configurations relaxed again
    _fake_versions(monkeypatch, {"sevenn": "0.0.1-other"})
    _run(ScreeningFlowMaker(relax="sevennet", **settings), cache_dir)
    assert calls["relax"] == 6  # another version of the same force field: relaxed again
    assert calls["build"] == 1  # the ordered cells do not depend on the force field
