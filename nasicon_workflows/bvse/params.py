"""softBV bond-valence site-energy parameters, read from the data shipped with bvlain.

The Morse-type parameters (``r_min``, ``alpha`` = 1/b, ``D0``) are the softBV set of S. Adams and
co-workers: Adams & Rao, *Phys. Status Solidi A* 2011, 208, 1746 (DOI 10.1002/pssa.201001116) and
Chen & Adams, *IUCrJ* 2017, 4, 614 (DOI 10.1107/S2052252517010211); the covalent radii of the
screened Coulomb term and the overall energy expression are those of Chen, Wong & Adams,
*Acta Cryst. B* 2019, 75, 18 (DOI 10.1107/S2052520618015718, "SoftBV - a software tool for
screening the materials genome of inorganic fast ion conductors"). bvlain (A. Dembitskiy et al.,
MIT licence, https://github.com/dembart/BVlain) ships these tables; this module reads them from
the installed package so that the two engines share one parameter source.
"""

from __future__ import annotations

import importlib.util
import pickle
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from ase.data import atomic_numbers, chemical_symbols
from ase.data import covalent_radii as ase_covalent_radii

from nasicon_workflows.bvse.errors import InvalidBVSESettingError, MissingParametersError

__all__ = [
    "COVALENT_RADII_CHOICES",
    "FrameworkParameters",
    "MobileIon",
    "framework_parameters",
    "mobile_ion",
    "softbv_tables",
]

#: "softbv": radii of Chen, Wong & Adams 2019 (what softBV uses); "ase": ASE's covalent radii
#: (Cordero et al. 2008), bvlain's default.
COVALENT_RADII_CHOICES = ("softbv", "ase")

#: Coulomb constant e^2 / (4 pi eps0) in eV Å, the value softBV and bvlain use.
COULOMB_EV_ANGSTROM = 14.4


@lru_cache(maxsize=1)
def softbv_tables() -> dict:
    """The softBV tables shipped with bvlain.

    Returns
    -------
    dict
        ``cation`` (mobile cation -> charge -> anion Z -> anion charge -> parameters),
        ``anion`` (the same for mobile anions), ``quantum_n`` (Z -> principal quantum number) and
        ``radii_softbv`` (Z -> charge -> covalent radius in Å).
    """
    # Locate bvlain's data without importing bvlain itself (its __init__ pulls in joblib, pandas
    # and ase.io, seconds of start-up that the engine does not need).
    spec = importlib.util.find_spec("bvlain")
    if spec is None or not spec.submodule_search_locations:
        raise MissingParametersError("bvlain is not installed: pip install bvlain (parameter tables)")
    root = Path(spec.submodule_search_locations[0]) / "data"
    tables = {}
    for name in ("cation", "anion", "quantum_n"):
        with (root / f"{name}.pkl").open("rb") as handle:
            tables[name] = pickle.load(handle)  # noqa: S301 - data file of an installed package
    radii_spec = importlib.util.spec_from_file_location("_bvlain_radii", root / "covalent_radii.py")
    module = importlib.util.module_from_spec(radii_spec)
    radii_spec.loader.exec_module(module)
    tables["radii_softbv"] = module.covalent_radii_softbv
    return tables


def _covalent_radius(z: int, charge: int, choice: str) -> float:
    """Covalent radius in Å of element ``z`` at ``charge`` under the chosen table."""
    if choice == "ase":
        return float(ase_covalent_radii[z])
    try:
        return float(softbv_tables()["radii_softbv"][z][charge])
    except KeyError:
        raise MissingParametersError(
            f"softBV has no covalent radius for {chemical_symbols[z]}{charge:+d}; "
            "use covalent_radii='ase' or check the oxidation states"
        ) from None


@dataclass(frozen=True)
class MobileIon:
    """The migrating ion.

    Attributes
    ----------
    symbol
        Element symbol, e.g. "Na".
    charge
        Formal charge (+1 for Na+, Li+, K+).
    z
        Atomic number.
    n
        Principal quantum number (softBV Coulomb term).
    covalent_radius
        Covalent radius in Å (softBV Coulomb screening length).
    """

    symbol: str
    charge: int
    z: int
    n: int
    covalent_radius: float


def mobile_ion(ion: str = "Na", charge: int = 1, covalent_radii: str = "softbv") -> MobileIon:
    """Parameters of the mobile ion.

    Parameters
    ----------
    ion
        Element symbol ("Na", "Li", "K", ...).
    charge
        Formal charge of the mobile ion.
    covalent_radii
        "softbv" or "ase" (see :data:`COVALENT_RADII_CHOICES`).

    Returns
    -------
    MobileIon
    """
    if covalent_radii not in COVALENT_RADII_CHOICES:
        raise InvalidBVSESettingError(
            f"covalent_radii={covalent_radii!r} is not one of {COVALENT_RADII_CHOICES}"
        )
    if ion not in atomic_numbers:
        raise InvalidBVSESettingError(f"mobile ion {ion!r} is not an element symbol (e.g. 'Na')")
    z = atomic_numbers[ion]
    table = softbv_tables()["cation" if charge > 0 else "anion"]
    if z not in table or charge not in table[z]:
        raise MissingParametersError(
            f"softBV has no parameters for mobile ion {ion}{charge:+d}; "
            "available mobile cations: "
            f"{sorted(chemical_symbols[k] for k in softbv_tables()['cation'])}"
        )
    return MobileIon(
        symbol=ion,
        charge=int(charge),
        z=z,
        n=int(softbv_tables()["quantum_n"][z]),
        covalent_radius=_covalent_radius(z, charge, covalent_radii),
    )


@dataclass(frozen=True)
class FrameworkParameters:
    """Per-atom parameters of the framework (every atom except the mobile species).

    Attributes
    ----------
    r_min, alpha, d0
        Morse parameters (Å, 1/Å, eV) for counter-ions; NaN for ions of the mobile ion's sign.
    coulomb_prefactor
        ``14.4 q_mobile q_j / sqrt(n_mobile n_j)`` in eV Å for like-charged ions, 0 otherwise.
    screening_length
        ``f (r_c,mobile + r_c,j)`` in Å, the erfc screening length of the Coulomb term.
    """

    r_min: np.ndarray
    alpha: np.ndarray
    d0: np.ndarray
    coulomb_prefactor: np.ndarray
    screening_length: np.ndarray


def framework_parameters(
    numbers: np.ndarray,
    charges: np.ndarray,
    ion: MobileIon,
    screening: float,
    covalent_radii: str = "softbv",
) -> FrameworkParameters:
    """softBV parameters of each framework atom for the given mobile ion.

    Parameters
    ----------
    numbers
        Atomic numbers of the framework atoms.
    charges
        Integer formal charges of the framework atoms.
    ion
        The mobile ion.
    screening
        Screening factor f of the Coulomb term (softBV and the paper: 0.75; bvlain: 0.74).
    covalent_radii
        "softbv" or "ase".

    Returns
    -------
    FrameworkParameters
    """
    table = softbv_tables()["cation" if ion.charge > 0 else "anion"][ion.z][ion.charge]
    quantum_n = softbv_tables()["quantum_n"]
    n_atoms = len(numbers)
    r_min = np.full(n_atoms, np.nan)
    alpha = np.full(n_atoms, np.nan)
    d0 = np.full(n_atoms, np.nan)
    prefactor = np.zeros(n_atoms)
    length = np.ones(n_atoms)
    # Parameters depend only on (Z, charge): look each pair up once.
    for z, q in {(int(z), int(q)) for z, q in zip(numbers, charges)}:
        mask = (numbers == z) & (charges == q)
        if q * ion.charge < 0:
            try:
                p = table[z][q]
            except KeyError:
                raise MissingParametersError(
                    f"softBV has no Morse parameters for {ion.symbol}{ion.charge:+d} - "
                    f"{chemical_symbols[z]}{q:+d}; check the oxidation states of the structure"
                ) from None
            r_min[mask], alpha[mask], d0[mask] = p["r_min"], p["alpha"], p["d0"]
        elif q * ion.charge > 0:
            if z not in quantum_n:
                raise MissingParametersError(
                    f"no principal quantum number for {chemical_symbols[z]} in the softBV table"
                )
            prefactor[mask] = COULOMB_EV_ANGSTROM * ion.charge * q / np.sqrt(ion.n * quantum_n[z])
            length[mask] = screening * (
                ion.covalent_radius + _covalent_radius(z, q, covalent_radii)
            )
    return FrameworkParameters(r_min, alpha, d0, prefactor, length)
