"""Figures of the impedance stage: Nyquist and Bode plots with the fit, Arrhenius plots."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nasicon_workflows.constants import BOLTZMANN_eV_PER_K
from nasicon_workflows.fileio import atomic_savefig

__all__ = ["plot_arrhenius", "plot_bode", "plot_nyquist"]

_LABELS = {"sigma_total": "total", "sigma_bulk": "bulk", "sigma_gb": "grain boundary"}


def _dense(f: np.ndarray) -> np.ndarray:
    return np.geomspace(f.min(), f.max(), 400)


def plot_nyquist(spectrum, fit, path: str | Path, title: str | None = None) -> Path:
    """Nyquist plot (Z' against -Z'', equal axes) of the data with the fitted circuit.

    Parameters
    ----------
    spectrum
        :class:`~nasicon_workflows.eis.spectrum.Spectrum`.
    fit
        :class:`~nasicon_workflows.eis.fitting.CircuitFit`.
    path
        PNG (or any matplotlib format) written atomically.
    title
        Figure title.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    zf = fit.predict(_dense(spectrum.frequency_Hz))
    # Left: the whole spectrum; right: the arcs (up to 1.3 × the sum of the fitted resistances),
    # which the electrode spike would otherwise squeeze into a corner.
    r_sum = sum(r.resistance_ohm for r in fit.resistors)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.5))
    for ax, zoom in zip(axes, (False, True)):
        ax.plot(spectrum.z_real_ohm, -spectrum.z_imag_ohm, "o", ms=4, mfc="none", label="data")
        ax.plot(zf.real, -zf.imag, "-", lw=1.5, label=f"fit {fit.circuit}")
        ax.set_xlabel("Z' (Ω)")
        ax.set_ylabel("-Z'' (Ω)")
        ax.ticklabel_format(style="sci", scilimits=(-3, 4))
        if zoom:
            ax.set_xlim(0, 1.3 * r_sum)
            ax.set_ylim(0, 0.65 * r_sum)
            ax.set_aspect("equal", adjustable="box")
            ax.set_title("arcs (zoom)")
        else:
            ax.set_aspect("equal", adjustable="datalim")
            ax.set_title(title or "Nyquist")
            ax.legend(fontsize=8)
    try:
        return atomic_savefig(fig, path)
    finally:
        plt.close(fig)


def plot_bode(spectrum, fit, path: str | Path, title: str | None = None) -> Path:
    """Bode plot (|Z| and -phase against frequency) of the data with the fitted circuit."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fd = _dense(spectrum.frequency_Hz)
    zf = fit.predict(fd)
    z = spectrum.impedance_ohm
    fig, (a1, a2) = plt.subplots(2, 1, figsize=(5.5, 5.5), sharex=True)
    a1.loglog(spectrum.frequency_Hz, np.abs(z), "o", ms=4, mfc="none", label="data")
    a1.loglog(fd, np.abs(zf), "-", label="fit")
    a1.set_ylabel("|Z| (Ω)")
    a1.legend(fontsize=8)
    a2.semilogx(spectrum.frequency_Hz, -np.degrees(np.angle(z)), "o", ms=4, mfc="none")
    a2.semilogx(fd, -np.degrees(np.angle(zf)), "-")
    a2.set_ylabel("-phase (°)")
    a2.set_xlabel("frequency (Hz)")
    a1.set_title(title or "Bode")
    try:
        return atomic_savefig(fig, path)
    finally:
        plt.close(fig)


def plot_arrhenius(fits: dict, path: str | Path, title: str | None = None) -> Path:
    """Arrhenius plot of the bulk, grain-boundary and total conductivities with their lines.

    Parameters
    ----------
    fits
        ``{"sigma_total": ArrheniusFit, ...}``.
    path
        Output figure.
    title
        Figure title.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4.5))
    form = next(iter(fits.values())).form if fits else "sigmaT"
    for key, fit in fits.items():
        t = np.asarray(fit.temperatures_K)
        s = np.asarray(fit.sigmas_S_cm)
        y = np.log10(s * t) if form == "sigmaT" else np.log10(s)
        err = None
        if fit.sigma_uncertainties_S_cm is not None:
            err = np.asarray(fit.sigma_uncertainties_S_cm) / s / np.log(10)
        line = ax.errorbar(1000 / t, y, yerr=err, fmt="o", ms=5, mfc="none", capsize=2)
        tt = np.linspace(t.min(), t.max(), 50)
        ln_y = fit.ln_prefactor - fit.Ea_eV / (BOLTZMANN_eV_PER_K * tt)
        ax.plot(
            1000 / tt, ln_y / np.log(10), "-", color=line[0].get_color(),
            label=(
                f"{_LABELS.get(key, key)}: Ea = {fit.Ea_eV:.3f} ± {fit.Ea_uncertainty_eV:.2g} eV"
            ),
        )
    ax.set_xlabel("1000 / T (1/K)")
    ax.set_ylabel("log10(σT / (S K cm⁻¹))" if form == "sigmaT" else "log10(σ / (S cm⁻¹))")
    ax.set_title(title or "Arrhenius")
    ax.legend(fontsize=8)
    try:
        return atomic_savefig(fig, path)
    finally:
        plt.close(fig)
