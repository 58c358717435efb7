"""From spectra (or a σ(T) table) to conductivities, Arrhenius fits and an add-outcomes row.

The pure functions here are what the ``eis`` command and :class:`EISAnalysisMaker` call:

* :func:`analyse_spectrum` – fit one spectrum, assign bulk / grain boundary, σ with uncertainty;
* :func:`analyse_spectra` – several spectra of one pellet; with 3 or more temperatures the
  Arrhenius fits of σ_bulk, σ_gb and σ_total;
* :func:`read_sigma_table` / :func:`arrhenius_from_table` – the Arrhenius fits of a σ(T) table;
* :func:`outcome_row` – the row that ``add-outcomes`` reads;
* :func:`write_outputs` – plots, the JSON document and the row, each written atomically.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from jobflow import Maker, job

from nasicon_workflows.eis.arrhenius import ROOM_TEMPERATURE_K, fit_arrhenius
from nasicon_workflows.eis.conductivity import PelletGeometry, conductivity_S_cm
from nasicon_workflows.eis.errors import ArrheniusError, SpectrumReadError
from nasicon_workflows.eis.fitting import CircuitFit, fit_circuit
from nasicon_workflows.eis.schemas import (
    EISAnalysisDocument,
    ElementValue,
    FitQuality,
    GeometryDoc,
    ResistorDoc,
    SpectrumResult,
)
from nasicon_workflows.eis.spectrum import Spectrum, read_spectrum
from nasicon_workflows.fileio import atomic_write_text

__all__ = [
    "EISAnalysisMaker",
    "analyse_spectra",
    "analyse_spectrum",
    "arrhenius_from_table",
    "library_version",
    "outcome_row",
    "read_sigma_table",
    "write_outputs",
]

_QUANTITIES = ("sigma_total", "sigma_bulk", "sigma_gb")
#: Below this a "temperature in K" is almost surely °C (the same bound as add-outcomes).
MIN_TEMPERATURE_K = 150.0


def _check_kelvin(temperatures_K) -> None:
    low = [float(t) for t in temperatures_K if float(t) < MIN_TEMPERATURE_K]
    if low:
        raise ArrheniusError(
            f"temperature {low[0]:g} K is below {MIN_TEMPERATURE_K:g} K; temperatures are in "
            f"kelvin (was {low[0]:g} °C = {low[0] + 273.15:g} K meant?)"
        )


def library_version() -> str:
    """The fitting library and its version, for the output document."""
    from importlib.metadata import version

    return (
        f"impedance {version('impedance')} (impedance.py circuit elements), scipy "
        f"{version('scipy')} curve_fit (Levenberg-Marquardt, modulus weighting)"
    )


def _geometry_doc(g: PelletGeometry) -> GeometryDoc:
    return GeometryDoc(
        thickness_cm=g.thickness_cm, diameter_cm=g.diameter_cm, area_cm2=g.area_cm2,
        thickness_uncertainty_cm=g.thickness_uncertainty_cm,
        diameter_uncertainty_cm=g.diameter_uncertainty_cm,
    )


def analyse_spectrum(
    spectrum: Spectrum,
    geometry: PelletGeometry,
    circuit: str | None = None,
    temperature_K: float | None = None,
    **fit_kwargs,
) -> tuple[SpectrumResult, CircuitFit]:
    """Fit one spectrum and turn its resistances into conductivities.

    Parameters
    ----------
    spectrum
        The spectrum.
    geometry
        The pellet.
    circuit
        Preset name or impedance.py circuit string (default ``bulk-gb-electrode``).
    temperature_K
        Measurement temperature in K, stored with the result.
    **fit_kwargs
        Passed to :func:`~nasicon_workflows.eis.fitting.fit_circuit` (``bulk_element``,
        ``gb_element``, ``initial_guess``, ``max_function_evals``).

    Returns
    -------
    tuple
        (:class:`SpectrumResult`, :class:`CircuitFit`).
    """
    fit = fit_circuit(spectrum, circuit, **fit_kwargs)
    bulk = fit.role("bulk")
    gb = fit.role("grain_boundary")
    r_total, dr_total = fit.resistance_sum()
    s_b, ds_b = conductivity_S_cm(bulk.resistance_ohm, geometry, bulk.resistance_uncertainty_ohm)
    s_t, ds_t = conductivity_S_cm(r_total, geometry, dr_total)
    s_g = ds_g = None
    if gb is not None:
        s_g, ds_g = conductivity_S_cm(gb.resistance_ohm, geometry, gb.resistance_uncertainty_ohm)
    kk = fit.kramers_kronig
    result = SpectrumResult(
        source=spectrum.source,
        temperature_K=temperature_K,
        reader_notes=spectrum.notes,
        circuit=fit.circuit,
        elements=[
            ElementValue(name=n, value=float(v), uncertainty=float(u), unit=unit)
            for n, v, u, unit in zip(
                fit.parameter_names, fit.values, fit.uncertainties, fit.parameter_units
            )
        ],
        resistors=[
            ResistorDoc(
                name=r.name, role=r.role, resistance_ohm=r.resistance_ohm,
                resistance_uncertainty_ohm=r.resistance_uncertainty_ohm,
                capacitance_F=None if r.capacitance_F is None else float(r.capacitance_F),
                capacitance_class=r.capacitance_class,
            )
            for r in fit.resistors
        ],
        fit_quality=FitQuality(
            chi2_reduced=fit.chi2_reduced,
            residual_rms_relative=fit.residual_rms_relative,
            n_points=fit.n_points,
            n_parameters=fit.n_parameters,
            n_starts=fit.n_starts,
            kk_M=kk.get("M"),
            kk_mu=kk.get("mu"),
            kk_max_abs_residual=(
                max(kk["max_abs_residual_real"], kk["max_abs_residual_imag"]) if kk else None
            ),
            kk_rms_residual=kk.get("rms_residual"),
        ),
        R_bulk_ohm=bulk.resistance_ohm,
        R_bulk_uncertainty_ohm=bulk.resistance_uncertainty_ohm,
        R_gb_ohm=None if gb is None else gb.resistance_ohm,
        R_gb_uncertainty_ohm=None if gb is None else gb.resistance_uncertainty_ohm,
        R_total_ohm=r_total,
        R_total_uncertainty_ohm=dr_total,
        sigma_bulk_S_cm=s_b,
        sigma_bulk_uncertainty_S_cm=ds_b,
        sigma_gb_S_cm=s_g,
        sigma_gb_uncertainty_S_cm=ds_g,
        sigma_total_S_cm=s_t,
        sigma_total_uncertainty_S_cm=ds_t,
        warnings=fit.warnings,
    )
    return result, fit


def _arrhenius_of(results: Sequence[SpectrumResult], form: str, geometry: PelletGeometry) -> dict:
    """Arrhenius fits weighted by the resistance part of each σ's uncertainty; the geometry error
    is common to all temperatures and enters σ(25 °C) only."""
    fits = {}
    temps = [r.temperature_K for r in results]
    resistance = {"sigma_bulk": ("R_bulk_ohm", "R_bulk_uncertainty_ohm"),
                  "sigma_gb": ("R_gb_ohm", "R_gb_uncertainty_ohm"),
                  "sigma_total": ("R_total_ohm", "R_total_uncertainty_ohm")}
    for q in _QUANTITIES:
        values = [getattr(r, f"{q}_S_cm") for r in results]
        if any(v is None for v in values):
            continue
        r_name, dr_name = resistance[q]
        errs = [v * getattr(r, dr_name) / getattr(r, r_name) for v, r in zip(values, results)]
        fits[q] = fit_arrhenius(
            temps, values, errs, quantity=q, form=form,
            systematic_relative_uncertainty=geometry.relative_uncertainty,
        )
    return fits


def outcome_row(
    document: EISAnalysisDocument,
    composition: str | None = None,
    outcome: str | None = None,
    source: str | None = None,
) -> dict | None:
    """The measured columns of ``add-outcomes`` from an analysis (None when there are none).

    One spectrum gives σ at its temperature (``temperature_K`` is then required); an Arrhenius
    fit gives σ(25 °C) from the fitted lines (``temperature_K`` = 298.15) and ``Ea_eV`` of the
    total conductivity.

    Parameters
    ----------
    document
        The analysis.
    composition, outcome, source
        The identifying columns of the row; ``add-outcomes`` needs all three.
    """
    row: dict = {"composition": composition, "outcome": outcome, "source": source}
    if document.arrhenius:
        row["temperature_K"] = ROOM_TEMPERATURE_K
        for q, fit in document.arrhenius.items():
            row[f"{q}_S_cm"] = fit.sigma_25C_S_cm
            row[f"{q}_uncertainty_S_cm"] = fit.sigma_25C_uncertainty_S_cm
        total = document.arrhenius.get("sigma_total")
        if total is not None:
            row["Ea_eV"] = total.Ea_eV
            row["Ea_uncertainty_eV"] = total.Ea_uncertainty_eV
        return row
    if len(document.spectra) == 1 and document.spectra[0].temperature_K is not None:
        spec = document.spectra[0]
        row["temperature_K"] = spec.temperature_K
        for q in _QUANTITIES:
            if getattr(spec, f"{q}_S_cm") is not None:
                row[f"{q}_S_cm"] = getattr(spec, f"{q}_S_cm")
                row[f"{q}_uncertainty_S_cm"] = getattr(spec, f"{q}_uncertainty_S_cm")
        return row
    return None


def analyse_spectra(
    spectra: Sequence[Spectrum | str | Path],
    geometry: PelletGeometry,
    temperatures_K: Sequence[float] | None = None,
    circuit: str | None = None,
    form: str = "sigmaT",
    composition: str | None = None,
    outcome: str | None = None,
    source: str | None = None,
    **fit_kwargs,
) -> tuple[EISAnalysisDocument, list[tuple[Spectrum, CircuitFit]]]:
    """Analyse the spectra of one pellet; Arrhenius fits when 3 or more temperatures are given.

    Parameters
    ----------
    spectra
        :class:`Spectrum` objects or file paths (read with :func:`read_spectrum`).
    geometry
        The pellet.
    temperatures_K
        One temperature per spectrum (K), or None.
    circuit
        Preset name or impedance.py circuit string.
    form
        Arrhenius form, ``"sigmaT"`` or ``"sigma"``.
    composition, outcome, source
        Identify the outcome row.
    **fit_kwargs
        Passed to :func:`~nasicon_workflows.eis.fitting.fit_circuit`.

    Returns
    -------
    tuple
        The document and the (spectrum, fit) pairs for plotting.

    Raises
    ------
    ArrheniusError
        Temperatures that do not match the spectra one to one, or that are not positive.
    EISError
        Any error of reading or fitting a spectrum.
    """
    if not spectra:
        raise SpectrumReadError("no spectrum given")
    if temperatures_K is not None:
        temperatures_K = [float(t) for t in temperatures_K]
        if len(temperatures_K) != len(spectra):
            raise ArrheniusError(
                f"{len(temperatures_K)} temperature(s) for {len(spectra)} spectra; give one "
                "temperature (K) per spectrum, in the same order"
            )
        bad = [t for t in temperatures_K if not math.isfinite(t) or t <= 0]
        if bad:
            raise ArrheniusError(f"temperature {bad[0]:g} K is not a positive number of kelvin")
        _check_kelvin(temperatures_K)
    loaded = [s if isinstance(s, Spectrum) else read_spectrum(s) for s in spectra]
    results, pairs = [], []
    for i, spec in enumerate(loaded):
        t = None if temperatures_K is None else temperatures_K[i]
        result, fit = analyse_spectrum(spec, geometry, circuit, t, **fit_kwargs)
        results.append(result)
        pairs.append((spec, fit))
    notes = []
    arrhenius = {}
    if temperatures_K is not None and len(set(temperatures_K)) >= 3:
        arrhenius = _arrhenius_of(results, form, geometry)
    elif temperatures_K is not None and len(loaded) > 1:
        notes.append(
            f"{len(set(temperatures_K))} distinct temperature(s): no Arrhenius fit (3 or more "
            "are needed)"
        )
    document = EISAnalysisDocument(
        library=library_version(), geometry=_geometry_doc(geometry), spectra=results,
        arrhenius=arrhenius, notes=notes,
    )
    document.outcome_row = outcome_row(document, composition, outcome, source)
    return document, pairs


_TABLE_ALIASES = {"temperature_k": "temperature_K", "t_k": "temperature_K", "t/k": "temperature_K"}


def read_sigma_table(path: str | Path) -> dict[str, np.ndarray]:
    """Read a σ(T) table: ``temperature_K`` and one or more of ``sigma_total_S_cm``,
    ``sigma_bulk_S_cm``, ``sigma_gb_S_cm`` (optional ``<name>_uncertainty_S_cm`` columns).

    Raises
    ------
    SpectrumReadError
        Missing file, a folder, missing columns, non-numeric cells, or columns in other units
        (``temperature_C``, ``sigma_*_mS_cm``, ``sigma_*_S_m``) named with the conversion.
    """
    import pandas as pd

    path = Path(path)
    if path.is_dir():
        raise SpectrumReadError(f"{path} is a folder; give a σ(T) table file")
    if not path.is_file():
        raise SpectrumReadError(f"σ(T) table {path} does not exist")
    try:
        frame = pd.read_csv(path, sep=None, engine="python", comment="#")
    except Exception as exc:  # pandas raises many types for malformed tables
        raise SpectrumReadError(f"cannot read {path} as a table: {exc}") from None
    frame.columns = [_TABLE_ALIASES.get(str(c).strip().lower(), str(c).strip()) for c in frame]
    for col in frame.columns:
        low = col.lower()
        if low.startswith("temperature") and col != "temperature_K":
            raise SpectrumReadError(
                f"{path}: column {col!r}: temperatures must be in kelvin in a 'temperature_K' "
                "column (T/K = T/°C + 273.15)"
            )
        if low.startswith("sigma") and not low.endswith("_s_cm"):
            raise SpectrumReadError(
                f"{path}: column {col!r}: conductivities must be in S/cm in columns named "
                "sigma_total_S_cm, sigma_bulk_S_cm, sigma_gb_S_cm (1 mS/cm = 1e-3 S/cm, "
                "1 S/m = 0.01 S/cm)"
            )
    if "temperature_K" not in frame.columns:
        raise SpectrumReadError(f"{path}: no 'temperature_K' column among {list(frame.columns)}")
    found = [q for q in _QUANTITIES if f"{q}_S_cm" in frame.columns]
    if not found:
        raise SpectrumReadError(
            f"{path}: none of sigma_total_S_cm, sigma_bulk_S_cm, sigma_gb_S_cm among "
            f"{list(frame.columns)}"
        )
    out = {}
    columns = ["temperature_K"]
    for q in found:
        columns += [f"{q}_S_cm", f"{q}_uncertainty_S_cm"]
    for col in columns:
        if col not in frame.columns:
            continue
        values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=float)
        bad = np.flatnonzero(~np.isfinite(values))
        if bad.size:
            raise SpectrumReadError(
                f"{path}: row {bad[0] + 1}: {col} = {frame[col].iloc[bad[0]]!r} is not a number"
            )
        out[col] = values
    return out


def arrhenius_from_table(
    path: str | Path,
    form: str = "sigmaT",
    composition: str | None = None,
    outcome: str | None = None,
    source: str | None = None,
) -> EISAnalysisDocument:
    """Arrhenius fits of every conductivity column of a σ(T) table (see :func:`read_sigma_table`).

    Returns
    -------
    EISAnalysisDocument
        ``arrhenius`` filled, no spectra, no geometry.
    """
    table = read_sigma_table(path)
    _check_kelvin(table["temperature_K"])
    fits = {}
    for q in _QUANTITIES:
        if f"{q}_S_cm" in table:
            fits[q] = fit_arrhenius(
                table["temperature_K"], table[f"{q}_S_cm"],
                table.get(f"{q}_uncertainty_S_cm"), quantity=q, form=form,
            )
    document = EISAnalysisDocument(
        library="numpy least squares (Arrhenius only)", arrhenius=fits,
        notes=[f"σ(T) table {path}"],
    )
    document.outcome_row = outcome_row(document, composition, outcome, source)
    return document


def write_outputs(
    document: EISAnalysisDocument,
    pairs: Sequence[tuple[Spectrum, CircuitFit]],
    out_dir: str | Path,
) -> list[Path]:
    """Write the plots, ``eis.json`` and (when complete) ``outcome_row.csv`` into ``out_dir``.

    Each file is written atomically; the document's ``plots`` lists are filled in.

    Returns
    -------
    list of pathlib.Path
    """
    from nasicon_workflows.eis.plots import plot_arrhenius, plot_bode, plot_nyquist

    out = Path(out_dir)
    written = []
    stems: dict[str, int] = {}
    for result, (spec, fit) in zip(document.spectra, pairs):
        stem = Path(spec.source).stem or "spectrum"
        stems[stem] = stems.get(stem, 0) + 1
        if stems[stem] > 1:
            stem = f"{stem}_{stems[stem]}"
        label = stem + (f" ({result.temperature_K:g} K)" if result.temperature_K else "")
        for kind, plot in (("nyquist", plot_nyquist), ("bode", plot_bode)):
            p = plot(spec, fit, out / f"{stem}_{kind}.png", title=f"{label}: {kind.title()}")
            result.plots.append(str(p))
            written.append(p)
    if document.arrhenius:
        p = plot_arrhenius(document.arrhenius, out / "arrhenius.png")
        document.plots.append(str(p))
        written.append(p)
    row = document.outcome_row
    if row and all(row.get(k) for k in ("composition", "outcome", "source")):
        import csv
        import io

        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(row))
        writer.writeheader()
        writer.writerow(row)
        written.append(atomic_write_text(out / "outcome_row.csv", buf.getvalue()))
    from nasicon_workflows.cli._output import _clean

    written.append(
        atomic_write_text(out / "eis.json", json.dumps(_clean(document), indent=2) + "\n")
    )
    return written


@dataclass
class EISAnalysisMaker(Maker):
    """Impedance analysis of one pellet: circuit fits, conductivities, Arrhenius fits.

    Attributes
    ----------
    name
        Job name.
    thickness_cm, diameter_cm
        Pellet thickness and electrode diameter in cm.
    thickness_uncertainty_cm, diameter_uncertainty_cm
        One-standard-deviation uncertainties in cm.
    circuit
        Preset name or impedance.py circuit string.
    form
        Arrhenius form, ``"sigmaT"`` or ``"sigma"``.
    """

    name: str = "eis analysis"
    thickness_cm: float = 0.1
    diameter_cm: float = 1.0
    thickness_uncertainty_cm: float = 0.0
    diameter_uncertainty_cm: float = 0.0
    circuit: str = "bulk-gb-electrode"
    form: str = "sigmaT"

    @job(output_schema=EISAnalysisDocument)
    def make(
        self,
        spectrum_files: list[str],
        temperatures_K: list[float] | None = None,
        composition: str | None = None,
        outcome: str | None = None,
        source: str | None = None,
    ) -> EISAnalysisDocument:
        """Analyse the spectrum files of one pellet (one temperature per file, in K)."""
        geometry = PelletGeometry(
            self.thickness_cm, self.diameter_cm, self.thickness_uncertainty_cm,
            self.diameter_uncertainty_cm,
        )
        document, _ = analyse_spectra(
            spectrum_files, geometry, temperatures_K, self.circuit, self.form,
            composition, outcome, source,
        )
        return document
