"""Na+ transport beyond the static BVSE barrier: lattice kinetic Monte Carlo, its validation, and
machine-learned molecular dynamics.

Submodules are imported lazily so that importing the package stays cheap and modules of other
tiers (molecular dynamics) can live beside these ones:

* :mod:`~nasicon_workflows.transport.lattice` - the Na-site lattice of a cell (sites, hops, BVSE
  site and saddle energies, Na-Na interaction);
* :mod:`~nasicon_workflows.transport.kmc` - rejection-free KMC (numba), diffusivities,
  conductivity, Haven ratio, Arrhenius fit, :class:`KMCMaker`;
* :mod:`~nasicon_workflows.transport.validation` - the Na(1+x)Zr2Si(x)P(3-x)O12 series against the
  literature, and :func:`transport_validation_status`;
* :mod:`~nasicon_workflows.transport.md` - :class:`MDTransportMaker` (atomate2 force-field NVT MD,
  GPU/HPC tier) and :mod:`~nasicon_workflows.transport.diffusion` - its kinisi analysis.
"""

from __future__ import annotations

import importlib

_LAZY = {
    "NaLattice": "lattice",
    "build_na_lattice": "lattice",
    "TransportError": "errors",
    "KMCDocument": "kmc",
    "KMCMaker": "kmc",
    "run_kmc": "kmc",
    "run_kmc_temperatures": "kmc",
    "transport_validation_status": "validation",
    "validate_transport": "validation",
    "MDTransportDocument": "md",
    "MDTransportMaker": "md",
    "run_md_transport": "md",
    "analyse_diffusion": "diffusion",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        module = importlib.import_module(f"nasicon_workflows.transport.{_LAZY[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'nasicon_workflows.transport' has no attribute {name!r}")
