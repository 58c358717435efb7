"""The force-field relax maker's optimizer: the benchmarked default reaches atomate2's relaxer."""

from __future__ import annotations

import pytest

from nasicon_workflows.relax import forcefield


def test_default_optimizer_is_passed_to_atomate2():
    from ase.optimize import BFGS, FIRE
    from atomate2.ase.utils import OPTIMIZERS

    maker = forcefield.get_relax_maker("chgnet")
    name = maker.optimizer_kwargs["optimizer"]
    assert name == forcefield.DEFAULT_OPTIMIZER == "BFGS"
    # atomate2's AseRelaxer resolves the name to the ASE class that the benchmark measured
    assert OPTIMIZERS[name] is BFGS
    assert forcefield.get_relax_maker("chgnet", optimizer="FIRE").optimizer_kwargs[
        "optimizer"] == "FIRE"
    assert OPTIMIZERS["FIRE"] is FIRE


def test_explicit_optimizer_kwargs_win_over_the_default():
    maker = forcefield.get_relax_maker("chgnet", optimizer_kwargs={"optimizer": "LBFGS"})
    assert maker.optimizer_kwargs["optimizer"] == "LBFGS"
    assert maker.relax_kwargs["fmax"] == pytest.approx(forcefield.DEFAULT_FMAX_EV_PER_A)
