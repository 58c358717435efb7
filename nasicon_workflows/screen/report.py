"""Files of a finished screen: ranking.csv, results.json, report.md, CIFs and plots.

Every file is written atomically (temporary file + :func:`os.replace`).
"""

from __future__ import annotations

import io
import json
import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from nasicon_workflows.screen.cache import atomic_write_text, safe_name
from nasicon_workflows.screen.documents import ScreeningResult
from nasicon_workflows.screen.ranking import CRITERIA

__all__ = ["RANKING_COLUMNS", "render_report", "write_outputs"]

logger = logging.getLogger(__name__)

#: Leading columns of ranking.csv (all other columns follow).
RANKING_COLUMNS = (
    "rank", "composition", "score", "probability", "entropy_R", "entropy_class",
    "barrier_3D_mean_eV", "barrier_3D_std_eV", "barrier_used_eV",
    "ordering_energy_range_eV_per_m", "lowest_energy_per_atom_eV",
)


def ranking_frame(result: ScreeningResult) -> pd.DataFrame:
    """The ranking as a DataFrame with :data:`RANKING_COLUMNS` first."""
    frame = pd.DataFrame(result.ranking)
    if frame.empty:
        return pd.DataFrame(columns=list(RANKING_COLUMNS))
    first = [c for c in RANKING_COLUMNS if c in frame.columns]
    return frame[first + [c for c in frame.columns if c not in first]]


def _fmt(value: Any, spec: str = ".3f") -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "–"
    return format(value, spec) if isinstance(value, (int, float)) else str(value)


def _classifier_lines(info: Mapping[str, Any]) -> list[str]:
    """Model identity as a list, cross-validated metrics as a mean ± std table."""
    if not info:
        return ["- (the classifier reported no evaluation numbers)"]
    lines = []
    for key, value in info.items():
        if key == "metrics":
            continue
        if isinstance(value, float):
            value = f"{value:.3f}"
        elif isinstance(value, (dict, list)):
            value = ", ".join(map(str, value))
        lines.append(f"- {key}: {value}")
    metrics = info.get("metrics") or {}
    # keys look like "cv1x10.accuracy.mean": protocol, metric, statistic
    table: dict[tuple[str, str], dict[str, float]] = {}
    for key, value in metrics.items():
        protocol, _, rest = key.partition(".")
        metric, _, stat = rest.rpartition(".")
        table.setdefault((protocol, metric or rest), {})[stat or "value"] = value
    if table:
        lines += ["", "| protocol | metric | mean ± std over folds |", "|---|---|---|"]
        for (protocol, metric), stats in table.items():
            cell = (f"{stats['mean']:.3f} ± {stats.get('std', float('nan')):.3f}"
                    if "mean" in stats else ", ".join(f"{k} {v:.3f}" for k, v in stats.items()))
            lines.append(f"| {protocol} | {metric} | {cell} |")
        lines.append("")
        lines.append("(cvRxK = R repeats of stratified K-fold cross-validation on the training "
                     "data, as stored with the model; `nasicon-workflows evaluate` gives the "
                     "full evaluation.)")
    return lines


def _phonon_lines(result: ScreeningResult) -> list[str]:
    rows = []
    for cand in result.candidates:
        ph = cand.phonons
        if not ph:
            continue
        temps = ph.get("temperatures_K") or []
        g = ph.get("g_vib_config_eV_per_fu") or []
        g_text = ", ".join(f"{t:.0f} K: {v:.3f}" for t, v in zip(temps, g)) or "–"
        rows.append(
            f"| {cand.composition} | {ph.get('index')} | {ph.get('n_imaginary_modes')} | "
            f"{_fmt(ph.get('min_frequency_THz'))} | {g_text} |"
        )
    if not rows:
        return []
    return ["| composition | configuration | imaginary modes | lowest frequency (THz) | "
            "F_vib - T S_config (eV/fu) |", "|---|---|---|---|---|", *rows]


def _configuration_lines(result: ScreeningResult) -> list[str]:
    lines = ["| composition | configuration | cell formula | composition error | atoms | "
             "relaxation | E (eV/atom) | E_3D (eV) |", "|---|---|---|---|---|---|---|---|"]
    for cand in result.candidates:
        for c in cand.configurations:
            relax = "not run" if not c.relaxed else (
                f"{'converged' if c.relax_converged else 'NOT converged'}"
                + (f", {c.relax_steps} steps" if c.relax_steps is not None else "")
                + (f" ({c.relax_continuations} continuation"
                   f"{'s' if c.relax_continuations > 1 else ''})" if c.relax_continuations else "")
                + (f", largest force {c.max_force_eV_per_A:.3f} eV/Å"
                   if c.max_force_eV_per_A is not None else ""))
            lines.append(
                f"| {cand.composition} | {c.index} | {c.realised_formula or '–'} | "
                f"{_fmt(c.composition_error)} | {c.n_atoms} | {relax} | "
                f"{_fmt(c.energy_per_atom_eV, '.4f')} | {_fmt(c.barriers_eV.get('3D'))} |"
            )
    return lines if len(lines) > 2 else []


def _converged_cell(row: Mapping[str, Any]) -> str:
    """'yes', 'NO (n not converged)' or '–' (not relaxed) for the ranking table."""
    value = row.get("relax_converged")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if bool(value):
        return "yes"
    return f"NO ({int(row.get('n_relax_unconverged') or 0)} not converged): FLAGGED"


def _computed_caveats(result: ScreeningResult) -> list[str]:
    """Caveats that follow from this run's numbers: shared realised cells, unconverged relaxations."""
    notes = []
    by_cell: dict[str, list[str]] = {}
    for cand in result.candidates:
        cells = sorted({c.realised_formula for c in cand.configurations if c.realised_formula})
        if cells:
            by_cell.setdefault(" / ".join(cells), []).append(cand.composition)
    for cell, comps in by_cell.items():
        if len(comps) > 1:
            notes.append(
                f"{', '.join(comps)} are realised by the same finite cell ({cell}): their "
                "structural results (energies, barriers) are identical and only the "
                "composition-level criteria (probability, entropy) tell them apart. Raise "
                "--max-atoms for a finer composition grid."
            )
    configs = [c for cand in result.candidates for c in cand.configurations if c.relaxed]
    unconverged = [c for c in configs if c.relax_converged is False]
    if unconverged:
        notes.append(
            f"{len(unconverged)} of {len(configs)} relaxations stopped at the step limit before "
            "reaching fmax; energies and barriers are of partly relaxed cells (for converged cells "
            "run again with a higher --relax-steps, e.g. 300, into a new --out)."
        )
    return notes


def render_report(
    result: ScreeningResult,
    failed_jobs: Mapping[str, str] | None = None,
    maps: list[str] | None = None,
) -> str:
    """The human-readable report (Markdown).

    Parameters
    ----------
    result
        The screen.
    failed_jobs
        Name -> error of failed jobs.
    maps
        Relative paths of BVSE landscape files to list.
    """
    settings = result.settings
    scored = result.scored
    selected = [r for r in scored if r.selected]
    lines = [
        "# NASICON screen report",
        "",
        "## What was screened",
        "",
    ]
    enum = result.enumeration
    if enum.get("mode") == "enumerated":
        lines.append(
            f"Compositions enumerated with rules {json.dumps(enum.get('rules', {}), default=str)}; "
            + ", ".join(f"{k} = {v}" for k, v in enum.items() if k not in ("mode", "rules"))
            + (f". The {len(scored)} kept compositions (of the {enum.get('n_tied')} tied in "
               "probability with the best within its standard deviation, in "
               f"{enum.get('n_tied_sets')} M-element sets: the lowest predicted E_hull(1000 K) "
               "of each set, DFT-covered elements first, sets in that order) are listed in "
               "results.json." if enum.get("tie_break") == "ehull" else
               f". The {len(scored)} best-scored compositions are listed in results.json.")
        )
    else:
        lines.append(f"{len(scored)} given composition(s).")
    lines += [
        "",
        f"Gate: probability >= {settings.get('threshold')}, inside the applicability domain, top "
        f"{settings.get('top')} "
        + ("picked as explained below" if (settings.get("selection") or {}).get("method")
           == "select_diverse" else "by probability")
        + f": {len(selected)} selected, {len(scored) - len(selected)} not.",
        "",
        "| composition | probability | entropy_R | class | decision |",
        "|---|---|---|---|---|",
    ]
    for rec in sorted(scored, key=lambda r: -(r.probability or 0))[:30]:
        lines.append(
            f"| {rec.composition} | {_fmt(rec.probability)} | {_fmt(rec.entropy_R)} | "
            f"{rec.entropy_class or '–'} | {rec.reason} |"
        )
    if len(scored) > 30:
        lines.append(f"\n({len(scored) - 30} more in results.json)")
    selection = settings.get("selection") or {}
    if selection.get("explanation"):
        lines += ["", f"How the candidates were picked ({selection.get('method')}): "
                  f"{selection['explanation']}"]
    lines += [
        "",
        "## What was computed",
        "",
        f"Per candidate: {settings.get('orderings')} ordered configuration(s) "
        f"({settings.get('ordering_method')}, seed {settings.get('seed')}, at most "
        f"{settings.get('max_atoms')} atoms), relaxation with '{settings.get('relax')}' "
        f"({_relax_description(settings)}), BVSE "
        f"Na percolation barriers at {settings.get('bvse_resolution')} Å; barriers are given as "
        "mean ± standard deviation over the configurations.",
        "",
        "| composition | status | configurations | E_1D (eV) | E_2D (eV) | E_3D (eV) | "
        "ordering range (eV/M) | from earlier run | error |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for cand in result.candidates:
        cells = []
        for dim in ("1D", "2D", "3D"):
            mean, std = cand.barrier_mean_eV.get(dim), cand.barrier_std_eV.get(dim)
            cells.append("–" if mean is None else f"{mean:.3f} ± {std:.3f}")
        lines.append(
            f"| {cand.composition} | {cand.status} | {len(cand.configurations)} | "
            + " | ".join(cells)
            + f" | {_fmt(cand.ordering_energy_range_eV_per_m)} | {'yes' if cand.from_cache else 'no'}"
            f" | {cand.error or ''} |"
        )
    phonon_lines = _phonon_lines(result)
    if phonon_lines:
        lines += ["", "Phonons of the lowest-energy configuration (harmonic; relax stage's "
                  "phonon flow):", "", *phonon_lines]
    config_lines = _configuration_lines(result)
    if config_lines:
        lines += ["", "Configurations (the finite cell realises the composition to within the "
                  "composition error, in atoms per formula unit):", "", *config_lines]
    lines += ["", "## Ranking", ""]
    frame = ranking_frame(result)
    if frame.empty:
        lines.append("No candidate finished; nothing was ranked.")
    else:
        lines += [
            "| rank | composition | score | " + " | ".join(f"s_{c}" for c in CRITERIA)
            + " | barrier used (eV) | relaxations converged | composition error |",
            "|---" * (6 + len(CRITERIA)) + "|",
        ]
        for _, row in frame.iterrows():
            lines.append(
                f"| {row['rank']} | {row['composition']} | {_fmt(row['score'])} | "
                + " | ".join(_fmt(row.get(f"score_{c}")) for c in CRITERIA)
                + f" | {_fmt(row.get('barrier_used_eV'))} | {_converged_cell(row)} | "
                f"{_fmt(row.get('composition_error'))} |"
            )
    lines += [""] + [f"- {note}" for note in result.ranking_notes]
    lines += [
        "",
        "Scores are in [0, 1] (1 = best): probability as is; entropy_R / 1.5 R capped at 1; "
        "barrier and ordering-energy range as exp(-(x - x_best)/kT); kmc as the rank of the KMC "
        "sigma at 573 K (1 = highest, 0 = lowest). The job uuid behind every "
        "number is in ranking.csv (classifier_job, relax_jobs, bvse_jobs, summary_job) and can be "
        "read back with `load_job_store(OUT).get_output(uuid)`.",
        "",
        *_transport_lines(result),
        "## The classifier",
        "",
        *_classifier_lines(result.classifier),
        "",
        "## Caveats",
        "",
        "- The synthesizability classifier is trained on 58 published compositions (Zuo et al., "
        "Energy Environ. Sci. 2026, 19, 860); its probabilities are only as good as that small "
        "dataset and its applicability domain.",
        "- Ordered configurations approximate a disordered solid solution with a handful of "
        "supercells; the barrier spread over them is a lower bound on the configurational "
        "uncertainty.",
        "- BVSE barriers are a static bond-valence estimate, not migration barriers from DFT-NEB "
        "or molecular dynamics; compare them between candidates rather than with experiment.",
        *[f"- {note}" for note in _computed_caveats(result)],
        f"- Relaxations with '{settings.get('relax')}' "
        + ("were not run; energies are missing." if settings.get("relax") == "none" else
           "are force-field (or DFT) minima of ordered cells, not free energies."),
    ]
    if maps:
        lines += ["", "## Files", "", "- plots/descriptor_map.png: descriptor map of the scored "
                  "compositions coloured by probability (selected ones circled)"]
        lines += [f"- {m}" for m in maps]
    if failed_jobs:
        lines += ["", "## Failed jobs", ""] + [f"- {k}: {v}" for k, v in failed_jobs.items()]
    return "\n".join(lines) + "\n"


def _transport_lines(result: ScreeningResult) -> list[str]:
    """The transport section: validation status (with citations), KMC per candidate, measured vs
    predicted transport, MD of the top candidates."""
    lines = ["## Transport", ""]
    status = result.transport_validation or {}
    if status:
        from nasicon_workflows.transport.validation import validation_report_parts

        parts = validation_report_parts(status)
        lines += [
            "**Validation status: "
            + ("validated" if status.get("validated") else "NOT validated") + ".** "
            + str(status.get("statement", ""))
            + (f" (source: {status['source']})" if status.get("source") else ""),
            "",
        ]
        prose = " ".join(t for t in (parts["weights"], parts["skill"]) if t)
        if prose:
            lines += [prose, ""]
        if parts["reference_rows"]:
            lines += ["Shipped reference compositions in the same validation run (softBV KMC, "
                      "CHGNet-relaxed cells; acceptance window around the measured 0.2-0.4 eV "
                      "of NZSP-type conductors):", "",
                      "| " + " | ".join(parts["reference_header"]) + " |",
                      "|" + "---|" * len(parts["reference_header"])]
            lines += ["| " + " | ".join(row) + " |" for row in parts["reference_rows"]]
            lines.append("")
    kmc = [c for c in result.candidates if c.transport and "interaction" in c.transport]
    if kmc:
        from nasicon_workflows.screen.aggregate import kmc_columns

        lines += [
            "Lattice KMC of the lowest-energy configuration (BVSE site and saddle energies, softBV "
            "Na-Na term; mean over runs, Ea with its 95 % interval over per-run fits):",
            "",
            "| composition | sigma(573 K) (S/cm) | Ea (eV) [95 % CI] | Haven ratio (573 K) | "
            "runs x hops per Na |",
            "|---|---|---|---|---|",
        ]
        for cand in kmc:
            cols = kmc_columns(cand.transport)
            haven = next((t.get("haven_ratio") for t in cand.transport.get("temperatures", [])
                          if abs(float(t.get("temperature_K", 0)) - 573.15) <= 1), None)
            low, high = cols.get("kmc_Ea_ci95_low_eV"), cols.get("kmc_Ea_ci95_high_eV")
            ci = "" if low is None else f" [{low:.3f}, {high:.3f}]"
            settings = cand.transport.get("settings", {})
            lines.append(
                f"| {cand.composition} | {_fmt(cols.get('kmc_sigma_573K_S_cm'), '.3g')} | "
                f"{_fmt(cols.get('kmc_Ea_eV'))}{ci} | {_fmt(haven, '.2f')} | "
                f"{settings.get('n_runs', '–')} x {settings.get('hops_per_ion', '–')} |"
            )
        lines.append("")
    elif result.settings.get("transport") is None:
        lines += ["No transport stage ran (--transport none): the KMC criterion is not ranked.",
                  ""]
    lines += ["Measured against predicted transport (measurements from add-outcomes):", ""]
    if result.measured_transport:
        lines += [f"- {c.get('summary')} (expected sign {c.get('expected_sign', '?')}; "
                  f"{c.get('n_measured', '?')} measured value(s))"
                  for c in result.measured_transport]
    else:
        lines.append("- no measured Ea or conductivity in the user data: nothing to compare.")
    lines.append("")
    if result.md:
        lines += ["Force-field MD of the top candidates (--md; Haven ratio assumed 1, intervals "
                  "hold the MD statistics only):", "",
                  "| rank | composition | status | Ea (eV) [95 % CI] | sigma(300 K) (S/cm) |",
                  "|---|---|---|---|---|"]
        for entry in result.md:
            doc = entry.get("document") or {}
            ci = doc.get("Ea_ci95_eV")
            ea = _fmt(doc.get("Ea_eV")) + (f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "")
            lines.append(f"| {entry['rank']} | {entry['composition']} | {entry['status']} "
                         f"{entry.get('error') or ''} | {ea} | "
                         f"{_fmt(doc.get('sigma_300K_S_cm'), '.3g')} |")
        lines.append("")
    return lines


def _unique_labels(structure):
    """A copy whose site labels are unique, as the CIF format requires: the framework label
    (Na1, M1, O3, ...) keeps its meaning and gets a running number (Na1_1, Na1_2, ...)."""
    out = structure.copy()
    seen: dict[str, int] = {}
    for site in out:
        base = site.label or site.species_string
        seen[base] = seen.get(base, 0) + 1
        site.label = f"{base}_{seen[base]}"
    return out


def _relax_description(settings: Mapping[str, Any]) -> str:
    """The relaxation settings in words: VASP's INCAR keys or the force-field budget."""
    relax = settings.get("relax_settings") or {}
    if relax.get("engine") == "vasp":
        incar = relax.get("incar", {})
        keys = ", ".join(f"{k} {incar[k]}" for k in ("GGA", "ENCUT", "EDIFF", "EDIFFG", "ISIF",
                                                        "NSW") if k in incar)
        return f"VASP double relaxation, PAW, {keys}"
    if relax.get("engine") is None:
        return "none"
    return (f"fmax {relax.get('fmax_eV_per_A')} eV/Å, at most {relax.get('max_steps')} "
            "steps")


def _write_cifs(result: ScreeningResult, folder: Path) -> list[Path]:
    from pymatgen.io.cif import CifWriter

    written = []
    for cand in result.candidates:
        for config in cand.configurations:
            if config.structure is None:
                continue
            path = folder / f"{safe_name(cand.composition)}_{config.index}.cif"
            text = str(CifWriter(_unique_labels(config.structure)))
            written.append(atomic_write_text(path, text))
    return written


def write_outputs(
    result: ScreeningResult,
    out_dir: str | Path,
    failed_jobs: Mapping[str, str] | None = None,
) -> dict[str, Path]:
    """Write every output file of a screen.

    Parameters
    ----------
    result
        The aggregate job's output.
    out_dir
        Output folder.
    failed_jobs
        Name -> error of jobs that failed (listed in the report).

    Returns
    -------
    dict
        Name -> path of each file written.
    """
    out = Path(out_dir)
    paths: dict[str, Path] = {}
    buffer = io.StringIO()
    ranking_frame(result).to_csv(buffer, index=False)
    paths["ranking.csv"] = atomic_write_text(out / "ranking.csv", buffer.getvalue())
    payload = {**result.model_dump(mode="json"), "failed_jobs": dict(failed_jobs or {})}
    paths["results.json"] = atomic_write_text(
        out / "results.json", json.dumps(payload, indent=1, default=str)
    )
    maps = sorted(str(p.relative_to(out)) for p in (out / "bvse_maps").glob("*") if p.is_file())
    paths["report.md"] = atomic_write_text(
        out / "report.md", render_report(result, failed_jobs, maps)
    )
    for i, path in enumerate(_write_cifs(result, out / "structures")):
        paths[f"cif{i}"] = path
    from nasicon_workflows.screen import plots

    paths.update(plots.write_plots(result, out / "plots"))
    from nasicon_workflows.screen.report_html import write_html_report

    paths["report.html"] = write_html_report(
        result, out / "report.html", maps_dir=out / "bvse_maps",
        selection_explanation=(result.settings.get("selection") or {}).get("explanation"),
    )
    return paths
