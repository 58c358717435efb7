"""The screen's transport tiers: lattice KMC on every computed candidate (default) and force-field
MD on the top-N ranked ones (``--md TOP_N``, the GPU/HPC tier).

KMC runs through the candidate subflow's transport hook
(:attr:`~nasicon_workflows.screen.flow.ScreeningFlowMaker.transport_maker`) on the lowest-energy
relaxed configuration. Its settings here are a screening budget, cheaper than the validation run
of ``validate-transport`` (5 runs x 400 hops per Na): 3 independent runs x 150 production hops
per Na (50 equilibration hops) at 473.15, 573.15 and 673.15 K, the validation's temperatures, so
the ranked sigma(573 K) is measured, not extrapolated. Measured on the relaxed validation cells
(docs/screen.md): a few seconds of KMC per configuration plus the BVSE landscape of the lattice.

MD (:func:`md_top_candidates`) runs after the ranking, locally and synchronously, with
:func:`nasicon_workflows.transport.md.run_md_transport` on the lowest-energy relaxed configuration
of each of the top-N candidates; its documents go into ``results.json`` and the report. On CPU
this is hours to days per candidate (docs/md.md); it is off by default.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from nasicon_workflows.screen.errors import ScreenInputError

__all__ = [
    "COMPARISONS",
    "SCREEN_KMC_SETTINGS",
    "annotate_transport",
    "measured_comparisons",
    "predictions_from_file",
    "TRANSPORT_CHOICES",
    "md_top_candidates",
    "screen_kmc_maker",
    "transport_maker",
]

logger = logging.getLogger(__name__)

#: Transport stages the screen offers (``--transport``).
TRANSPORT_CHOICES = ("kmc", "none")

#: KMCMaker settings of the screen (a budget of a few seconds per configuration; see module doc).
SCREEN_KMC_SETTINGS: dict[str, Any] = {
    "name": "screen kmc",
    "temperatures_K": (473.15, 573.15, 673.15),
    "n_runs": 3,
    "hops_per_ion": 150,
    "equil_hops_per_ion": 50,
    "interaction": "softbv",
}


def screen_kmc_maker(resolution: float = 0.1, seed: int = 0, **overrides: Any):
    """The screen's :class:`~nasicon_workflows.transport.kmc.KMCMaker` (softBV Na-Na term).

    Parameters
    ----------
    resolution
        BVSE grid spacing of the KMC lattice, Å (the screen passes its ``--bvse-resolution``).
    seed
        Base random seed (the screen's ``--seed``).
    overrides
        Any other ``KMCMaker`` field.
    """
    from nasicon_workflows.transport.kmc import KMCMaker

    return KMCMaker(**{**SCREEN_KMC_SETTINGS, "resolution": resolution, "seed": seed,
                       **overrides})


def transport_maker(choice: str, resolution: float = 0.1, seed: int = 0):
    """The transport Maker of ``--transport CHOICE`` (None for ``"none"``).

    Raises
    ------
    ScreenInputError
        A choice other than ``kmc`` or ``none``.
    """
    choice = str(choice).lower()
    if choice not in TRANSPORT_CHOICES:
        raise ScreenInputError(
            f"--transport {choice!r} is not one of {', '.join(TRANSPORT_CHOICES)}."
        )
    if choice == "none":
        return None
    from nasicon_workflows.screen import stages

    return stages.kmc_maker(resolution, seed)


def _lowest_structure(candidate) -> Any:
    configs = [c for c in candidate.configurations if c.structure is not None]
    if not configs:
        return None
    with_energy = [c for c in configs if c.energy_per_atom_eV is not None]
    chosen = min(with_energy, key=lambda c: c.energy_per_atom_eV) if with_energy else configs[0]
    return chosen.structure


def md_top_candidates(
    result,
    top_n: int,
    maker=None,
    runner: Callable[..., Any] | None = None,
) -> list[dict[str, Any]]:
    """Force-field MD transport of the ``top_n`` best-ranked candidates.

    Parameters
    ----------
    result
        The screen's :class:`~nasicon_workflows.screen.documents.ScreeningResult`.
    top_n
        How many ranked candidates (rank 1 first); 0 runs nothing.
    maker
        An ``MDTransportMaker`` (default: its defaults, CHGNet).
    runner
        ``run_md_transport``-like callable ``(structure, maker=...)`` (tests pass a stand-in).

    Returns
    -------
    list of dict
        Per candidate: ``composition``, ``rank``, ``status`` (finished/failed), and ``document``
        (the ``MDTransportDocument`` as a dict) or ``error``. A failed MD run never stops the
        screen; its error is recorded.
    """
    if top_n < 0:
        raise ScreenInputError(f"--md {top_n} must be >= 0 (the number of top candidates).")
    if top_n == 0 or not result.ranking:
        return []
    if runner is None:
        from nasicon_workflows.transport.md import run_md_transport as runner
    by_name = {c.composition: c for c in result.candidates}
    out = []
    for row in sorted(result.ranking, key=lambda r: r["rank"])[:top_n]:
        cand = by_name.get(row["composition"])
        structure = None if cand is None else _lowest_structure(cand)
        entry: dict[str, Any] = {"composition": row["composition"], "rank": int(row["rank"])}
        if structure is None:
            out.append({**entry, "status": "failed", "error": "no relaxed structure"})
            continue
        logger.info("MD transport of rank %d: %s", entry["rank"], entry["composition"])
        try:
            doc = runner(structure, maker=maker) if maker is not None else runner(structure)
        except Exception as exc:  # noqa: BLE001 - recorded per candidate, the screen goes on
            out.append({**entry, "status": "failed", "error": f"{type(exc).__name__}: {exc}"})
            continue
        data = doc.model_dump(mode="json") if hasattr(doc, "model_dump") else dict(doc)
        out.append({**entry, "status": "finished", "document": data})
    return out


#: Measured vs predicted pairs compared wherever measurements exist: (measured column, predicted
#: column of the ranking, its name, temperature of the measured rows or None, expected sign).
COMPARISONS = (
    ("Ea_eV", "barrier_3D_mean_eV", "BVSE E_3D (eV)", None, "positive"),
    ("Ea_eV", "kmc_Ea_eV", "KMC Ea (eV)", None, "positive"),
    ("sigma_total_S_cm", "kmc_sigma_300K_S_cm", "KMC sigma(300 K) extrapolated (S/cm)", 298.15,
     "positive"),
)


def measured_comparisons(
    predictions: list[dict[str, Any]], data_dir=None
) -> list[dict[str, Any]]:
    """Measured transport (``add-outcomes`` data) against predicted transport, by composition.

    Parameters
    ----------
    predictions
        Rows with ``composition`` and any of the predicted columns of :data:`COMPARISONS`
        (the screen's ranking rows).
    data_dir
        User data folder (default: the ``add-outcomes`` folder, ``$NASICON_WORKFLOWS_DATA``).

    Returns
    -------
    list of dict
        One per comparison with at least one measured value: the
        :class:`~nasicon_workflows.eis.compare.RankCorrelation` fields (Spearman rho with n, a
        95 % bootstrap interval and a permutation p-value, or ``status = "too few"`` below 3
        pairs), ``summary`` (one line), ``expected_sign`` and ``n_measured``. Empty when no
        measurement exists.
    """
    import math

    from nasicon_workflows.classifier.outcomes import load_measured_transport
    from nasicon_workflows.eis.compare import measured_vs_predicted

    measured = load_measured_transport(data_dir)
    if measured.empty:
        return []
    out = []
    for column, pred_col, pred_name, temperature, sign in COMPARISONS:
        values = measured[column].astype(float)
        if temperature is not None:
            values = values[(measured["temperature_K"].astype(float) - temperature).abs() <= 0.5]
        n_measured = int(values.notna().sum())
        if n_measured == 0:
            continue
        predicted = {
            row["composition"]: float(row[pred_col]) for row in predictions
            if row.get(pred_col) is not None and math.isfinite(float(row[pred_col]))
        }
        corr = measured_vs_predicted(predicted, column, pred_name, data_dir=data_dir,
                                     temperature_K=temperature)
        out.append({**corr.model_dump(), "summary": corr.summary(), "expected_sign": sign,
                    "n_measured": n_measured})
    return out


def annotate_transport(result, data_dir=None):
    """The screen result with the transport models' validation status and the measured vs
    predicted comparisons (:func:`measured_comparisons` over the ranked candidates).

    A missing validation file or unreadable user data never stops the screen: the field then
    holds the reason.
    """
    try:
        from nasicon_workflows.transport import transport_validation_status

        status = transport_validation_status()
    except Exception as exc:  # noqa: BLE001 - reported, not fatal
        status = {"validated": False, "statement": f"transport validation unavailable: {exc}"}
    try:
        comparisons = measured_comparisons(result.ranking, data_dir)
    except Exception as exc:  # noqa: BLE001 - reported, not fatal
        comparisons = [{"summary": f"measured transport could not be read: {exc}",
                        "status": "error"}]
    return result.model_copy(update={"transport_validation": status,
                                     "measured_transport": comparisons})


def predictions_from_file(path) -> list[dict[str, Any]]:
    """Predicted transport rows of a screen: its ``results.json`` (the ranking) or
    ``ranking.csv``, or a CSV with ``composition`` and any predicted column of
    :data:`COMPARISONS`.

    Raises
    ------
    ScreenInputError
        A missing or unreadable file, or one without a ``composition`` column.
    """
    import json
    from pathlib import Path

    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise ScreenInputError(
            f"predicted-transport file {str(path)!r} does not exist or is not a file: give a "
            "screen's results.json or ranking.csv"
        )
    try:
        if path.suffix.lower() == ".json":
            rows = json.loads(path.read_text(encoding="utf-8")).get("ranking")
        else:
            rows = pd.read_csv(path).to_dict(orient="records")
    except (OSError, ValueError, UnicodeDecodeError, AttributeError) as exc:
        raise ScreenInputError(
            f"cannot read predicted transport from {str(path)!r}: {exc}"
        ) from None
    if not isinstance(rows, list) or any(
        not isinstance(r, dict) or "composition" not in r for r in rows
    ):
        raise ScreenInputError(
            f"{str(path)!r} holds no ranking with a 'composition' column: give a screen's "
            "results.json or ranking.csv"
        )
    return rows
