"""Synthetic impedance spectra from known circuits, shared by the EIS tests and benchmark.

Element values are typical of a NASICON pellet at room temperature between blocking electrodes
(bulk C_eff ~ 5 pF, grain boundary ~ 0.5 nF, electrode CPE ~ 2 µF s^(n-1)) and of the Randles
circuit of Zhao et al. (R_Ω + R_ct ∥ CPE + Warburg). Noise is proportional: each of Z' and Z''
is multiplied by (1 + 0.01 ε) with ε standard normal.
"""

from __future__ import annotations

import numpy as np

#: name -> (circuit, true parameters in impedance.py order, frequency range Hz, points)
CASES = {
    "bulk-gb-electrode": (
        "p(R0,CPE0)-p(R1,CPE1)-CPE2",
        [2.0e4, 2.0e-11, 0.92, 1.0e4, 3.0e-9, 0.85, 2.0e-6, 0.80],
        (0.1, 7e6), 71,
    ),
    "bulk-electrode": (
        "p(R0,CPE0)-CPE1",
        [5.0e3, 1.0e-11, 0.90, 1.0e-6, 0.80],
        (0.1, 7e6), 50,
    ),
    "randles": (
        "R0-p(R1,CPE1)-W1",
        [30.31, 35.35, 2.0e-5, 0.85, 15.0],
        (0.01, 1e6), 60,
    ),
}


def synthetic(name: str, noise: float = 0.0, seed: int = 0, descending: bool = False):
    """Frequencies (Hz) and complex impedance (Ω) of a case, with proportional noise."""
    from nasicon_workflows.eis.fitting import _model

    circuit, params, (f_lo, f_hi), n = CASES[name]
    f = np.geomspace(f_lo, f_hi, n)
    z = _model(circuit)(f, np.array(params))
    if noise:
        rng = np.random.default_rng(seed)
        z = z.real * (1 + noise * rng.standard_normal(n)) + 1j * z.imag * (
            1 + noise * rng.standard_normal(n)
        )
    if descending:
        f, z = f[::-1], z[::-1]
    return f, z


def arrhenius_set(ea_eV: float = 0.35, temperatures_K=(273.15, 298.15, 323.15, 348.15, 373.15)):
    """Bulk-gb-electrode spectra whose R_bulk and R_gb follow σT = A exp(-Ea/kT).

    Both resistances scale with exp(Ea/kT)/T relative to 298.15 K; the capacitances are fixed,
    so the arcs move in frequency as in a real pellet.
    """
    from nasicon_workflows.constants import BOLTZMANN_eV_PER_K
    from nasicon_workflows.eis.fitting import _model

    circuit, params, (f_lo, f_hi), n = CASES["bulk-gb-electrode"]
    f = np.geomspace(f_lo, f_hi, n)
    out = []
    for t in temperatures_K:
        scale = (t / 298.15) * np.exp(ea_eV / BOLTZMANN_eV_PER_K * (1 / t - 1 / 298.15))
        p = list(params)
        p[0] *= scale
        p[3] *= scale
        out.append((t, f, _model(circuit)(f, np.array(p)), p))
    return out
