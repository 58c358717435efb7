"""A self-contained HTML report of a screen (report.html beside report.md).

One file, no scripts, no external resources: every figure is a PNG embedded as base64, the
style sheet is inline. Sections:

* how the candidates were picked (the selection's explanation, if given) and caveats;
* the ranking, with the mean BVSE barrier of each candidate and its spread over orderings as
  error bars, and a flag on every candidate with an unconverged or missing relaxation;
* the transport models' validation status and the reference compositions' results, read from
  the validation document the screen recorded;
* the descriptor map (ionic radius vs electronegativity of the scored compositions);
* the BVSE section maps of each ranked candidate (from the screen's maps folder, else computed
  from the relaxed cell of its first configuration);
* the convergence table (relaxation converged?, steps, final force where reported) and the
  composition-error table (realised formula of every computed cell and its error).

The input is a :class:`~nasicon_workflows.screen.documents.ScreeningResult`; fields that newer
versions of the documents add (``relax_fmax_eV_per_A``, ``selection`` in ``settings``) are used
when present and skipped otherwise.
"""

from __future__ import annotations

import base64
import html
import io
import logging
import math
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from nasicon_workflows.screen.documents import ScreeningResult

__all__ = ["render_html_report", "write_html_report"]

logger = logging.getLogger(__name__)

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;margin:2em auto;max-width:72em;
color:#222;line-height:1.45;padding:0 1em}
h1{font-size:1.6em}h2{font-size:1.25em;border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.8em 0;font-size:.9em}
th,td{border:1px solid #ccc;padding:.25em .6em;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
.flag{color:#a00;font-weight:bold}.ok{color:#070}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #ddd}
figcaption{font-size:.85em;color:#555}.note{background:#fff8e0;border-left:4px solid #e0b000;
padding:.5em 1em}
"""


def _esc(x: Any) -> str:
    return html.escape("" if x is None else str(x))


def _num(x: Any, spec: str = ".3f") -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    return format(x, spec) if isinstance(x, (int, float)) and not isinstance(x, bool) else _esc(x)


def _png(fig) -> str:
    """A matplotlib figure as a data URI (PNG, base64); the figure is closed."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _file_png(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _figure(uri: str, caption: str, alt: str) -> str:
    return (f'<figure><img src="{uri}" alt="{_esc(alt)}"><figcaption>{_esc(caption)}'
            "</figcaption></figure>")


def _table(header: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{c}</td>' if j in numeric else f"<td>{c}</td>"
                         for j, c in enumerate(r)) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _configs_converged(candidate) -> tuple[bool, str]:
    """(every configuration relaxed and converged, text for the flag)."""
    configs = candidate.configurations
    if not configs:
        return False, "no computed configuration"
    bad = [c.index for c in configs if c.relax_converged is not True]
    if bad:
        return False, f"configuration(s) {', '.join(str(i) for i in bad)} not converged"
    return True, "all converged"


def _barrier_key(row: Mapping[str, Any], candidate) -> tuple[float | None, float | None, str]:
    """(mean, std, dimension) of the barrier shown for a ranked candidate (3D, else 2D, 1D)."""
    for dim in ("3D", "2D", "1D"):
        mean = row.get(f"barrier_{dim}_mean_eV")
        if mean is None and candidate is not None:
            mean = candidate.barrier_mean_eV.get(dim)
        if mean is not None:
            std = row.get(f"barrier_{dim}_std_eV")
            if std is None and candidate is not None:
                std = candidate.barrier_std_eV.get(dim)
            return float(mean), (None if std is None else float(std)), dim
    return None, None, "–"


def _ranking_plot(entries: list[tuple[str, float, float | None, str, bool]]) -> str | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    entries = [e for e in entries if e[1] is not None]
    if not entries:
        return None
    fig, ax = plt.subplots(figsize=(7, 0.55 * len(entries) + 1.2))
    y = list(range(len(entries)))[::-1]
    for yi, (label, mean, std, dim, ok) in zip(y, entries):
        ax.errorbar(mean, yi, xerr=0.0 if std is None else std, fmt="o" if ok else "x",
                    color="C0" if ok else "C3", capsize=4)
    ax.set_yticks(y)
    ax.set_yticklabels([e[0] for e in entries], fontsize=8)
    ax.set_xlabel("BVSE Na$^+$ percolation barrier (eV), mean ± std over orderings")
    ax.set_title("Ranked candidates (x, red: relaxation not converged)", fontsize=9)
    ax.grid(axis="x", alpha=0.3)
    return _png(fig)


def _descriptor_map(result: ScreeningResult, ranked: list[str]) -> str | None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pts = [(r.descriptors.get("ionic_radius_pm"), r.descriptors.get("electronegativity"),
            r.probability, r.composition) for r in result.scored]
    pts = [p for p in pts if p[0] is not None and p[1] is not None]
    if not pts:
        return None
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    sc = ax.scatter([p[0] for p in pts], [p[1] for p in pts],
                    c=[p[2] if p[2] is not None else math.nan for p in pts],
                    cmap="viridis", vmin=0, vmax=1, s=14)
    fig.colorbar(sc, ax=ax, label="synthesizability probability")
    for p in pts:
        if p[3] in ranked:
            ax.scatter([p[0]], [p[1]], s=90, facecolors="none", edgecolors="red", linewidths=1.2)
            ax.annotate(p[3], (p[0], p[1]), fontsize=6, xytext=(4, 4), textcoords="offset points")
    ax.set_xlabel("mean M-site ionic radius (pm)")
    ax.set_ylabel("mean M-site electronegativity (Pauling)")
    ax.set_title(f"{len(pts)} scored compositions; ranked candidates circled", fontsize=9)
    return _png(fig)


def _section_map(candidate, maps_dir: Path | None, resolution: float) -> tuple[str | None, str]:
    """(data URI, source text) of the BVSE section map of a candidate's first configuration."""
    from nasicon_workflows.screen.cache import safe_name

    if maps_dir is not None:
        hits = sorted(Path(maps_dir).glob(f"{safe_name(candidate.composition)}*_sections.png"))
        if hits:
            return _file_png(hits[0]), f"from {hits[0].name}"
    structure = next((c.structure for c in candidate.configurations if c.structure is not None),
                     None)
    if structure is None:
        return None, "no relaxed structure in the results"
    from nasicon_workflows.bvse import analyse_landscape, compute_landscape
    from nasicon_workflows.bvse.plots import plot_sections

    landscape = compute_landscape(structure, resolution=resolution)
    document = analyse_landscape(landscape)
    with tempfile.TemporaryDirectory() as tmp:
        path = plot_sections(landscape, Path(tmp) / "sections.png", document)
        return _file_png(Path(path)), f"computed here at {resolution} Å from configuration 0"


def _transport_validation_html(status: Mapping[str, Any]) -> list[str]:
    """Validation status of the transport models and the reference compositions' results."""
    if not status:
        return []
    from nasicon_workflows.transport.validation import validation_report_parts

    verdict = "validated" if status.get("validated") else "NOT validated"
    out = ["<h2>Transport validation</h2>",
           f'<p><span class="{"ok" if status.get("validated") else "flag"}">'
           f"{_esc(verdict)}</span>: {_esc(status.get('statement'))}</p>"]
    parts = validation_report_parts(dict(status))
    prose = " ".join(t for t in (parts["weights"], parts["skill"]) if t)
    if prose:
        out.append(f"<p>{_esc(prose)}</p>")
    if parts["reference_rows"]:
        rows = [[_esc(c) if c != "MISSED" else '<span class="flag">MISSED</span>' for c in row]
                for row in parts["reference_rows"]]
        out.append(_table(parts["reference_header"], rows, numeric={2, 4, 5, 6}))
    return out


def render_html_report(
    result: ScreeningResult,
    maps_dir: str | Path | None = None,
    selection_explanation: str | None = None,
    section_resolution_A: float = 0.2,
    title: str = "NASICON screen",
) -> str:
    """The report as one self-contained HTML string.

    Parameters
    ----------
    result
        The screen's aggregate document.
    maps_dir
        Folder of the screen's BVSE maps (``<formula>_0_sections.png``); candidates without a
        map there get one computed from their first relaxed configuration.
    selection_explanation
        How the candidates were picked (:class:`~nasicon_workflows.screen.selection.Selection`
        ``.explanation``); default ``result.settings["selection"]["explanation"]`` if present.
    section_resolution_A
        Grid spacing (Å) of section maps computed here.
    title
        Page title.
    """
    by_comp = {c.composition: c for c in result.candidates}
    ranking = list(result.ranking)
    ranked = [str(r.get("composition")) for r in ranking]
    selection = selection_explanation
    if selection is None and isinstance(result.settings.get("selection"), Mapping):
        selection = result.settings["selection"].get("explanation")
    parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{_esc(title)}</h1>"]
    n_enum = result.enumeration.get("n_enumerated") if result.enumeration else None
    parts.append(
        f"<p>{len(result.scored)} compositions scored"
        + (f" of {n_enum:,} enumerated" if isinstance(n_enum, int) else "")
        + f"; {len(result.candidates)} computed; {len(ranking)} ranked.</p>")

    # -- how the pick was made and caveats
    parts.append("<h2>How the candidates were picked</h2>")
    parts.append(f"<p>{_esc(selection)}</p>" if selection else
                 "<p>The screen did not report how the candidates were picked.</p>")
    flagged = [(c.composition, _configs_converged(c)[1]) for c in result.candidates
               if not _configs_converged(c)[0]]
    inexact = [(c.composition, cfg.index, cfg.composition_error) for c in result.candidates
               for cfg in c.configurations
               if cfg.composition_error is not None and cfg.composition_error > 1e-6]
    notes = list(result.ranking_notes)
    if flagged:
        notes.append("Relaxation not converged for " + "; ".join(
            f"{comp} ({why})" for comp, why in flagged) + ": their barriers are flagged below.")
    if inexact:
        notes.append(f"{len(inexact)} computed cell(s) do not have their candidate's exact "
                     "composition (see the composition-error table).")
    if notes:
        parts.append('<div class="note"><ul>' + "".join(f"<li>{_esc(n)}</li>" for n in notes)
                     + "</ul></div>")

    # -- ranking
    parts.append("<h2>Ranking</h2>")
    rows, plot_entries = [], []
    for r in ranking:
        comp = str(r.get("composition"))
        cand = by_comp.get(comp)
        mean, std, dim = _barrier_key(r, cand)
        ok, why = _configs_converged(cand) if cand is not None else (False, "not computed")
        flag = '<span class="ok">converged</span>' if ok else f'<span class="flag">{_esc(why)}</span>'
        rows.append([_esc(r.get("rank")), _esc(comp), _num(r.get("score")),
                     _num(r.get("probability")),
                     f"{_num(mean)} ± {_num(std)}" + (f" ({dim})" if mean is not None else ""),
                     _num(r.get("entropy_R")), flag])
        plot_entries.append((comp, mean, std, dim, ok))
    parts.append(_table(["rank", "composition", "score", "probability",
                         "barrier, eV (mean ± std over orderings)", "entropy (R)",
                         "relaxation"], rows, numeric={0, 2, 3, 4, 5})
                 if rows else "<p>No candidate was ranked.</p>")
    uri = _ranking_plot(plot_entries)
    if uri:
        parts.append(_figure(uri, "BVSE percolation barrier of each ranked candidate; error bars "
                             "are the sample standard deviation over its ordered configurations.",
                             "ranking with barrier error bars"))

    # -- transport validation (read from the computed validation document)
    parts.extend(_transport_validation_html(result.transport_validation or {}))

    # -- descriptor map
    parts.append("<h2>Descriptor map</h2>")
    uri = _descriptor_map(result, ranked)
    parts.append(_figure(uri, "Mean M-site ionic radius and electronegativity of the scored "
                         "compositions, coloured by the gate's probability.", "descriptor map")
                 if uri else "<p>No descriptors were recorded for the scored compositions.</p>")

    # -- BVSE maps
    parts.append("<h2>BVSE section maps</h2>")
    for comp in ranked:
        cand = by_comp.get(comp)
        if cand is None:
            continue
        try:
            uri, source = _section_map(cand, Path(maps_dir) if maps_dir else None,
                                       section_resolution_A)
        except Exception as exc:  # a map that cannot be drawn must not lose the report
            logger.warning("BVSE map of %s failed: %s", comp, exc)
            uri, source = None, f"could not be drawn ({type(exc).__name__}: {exc})"
        parts.append(f"<h3>{_esc(comp)}</h3>")
        parts.append(_figure(uri, f"Na+ BVSE sections (E - E_min, eV), {source}.",
                             f"BVSE sections of {comp}") if uri else f"<p>No map: {_esc(source)}.</p>")

    # -- convergence
    parts.append("<h2>Relaxation convergence</h2>")
    conv_rows = []
    for cand in result.candidates:
        for cfg in cand.configurations:
            fmax = cfg.max_force_eV_per_A
            state = ("–" if not cfg.relaxed else
                     '<span class="ok">yes</span>' if cfg.relax_converged else
                     '<span class="flag">NO</span>' if cfg.relax_converged is False else "unknown")
            conv_rows.append([_esc(cand.composition), _esc(cfg.index), _esc(cfg.n_atoms),
                              "yes" if cfg.relaxed else "no", state,
                              _num(cfg.relax_steps, "d") + (
                                  f" ({cfg.relax_continuations} continued)"
                                  if cfg.relax_continuations else ""),
                              _num(fmax), _num(cfg.volume_A3, ".1f"),
                              _num(cfg.energy_per_atom_eV, ".4f")])
    fmax_setting = result.settings.get("fmax")
    parts.append(f"<p>Criterion: fmax ≤ {_num(fmax_setting, 'g')} eV/Å on atoms and cell "
                 "together.</p>" if fmax_setting is not None else "")
    parts.append(_table(["candidate", "configuration", "atoms", "relaxed", "converged", "steps",
                         "final fmax (eV/Å)", "volume (Å³)", "energy (eV/atom)"], conv_rows,
                        numeric={1, 2, 5, 6, 7, 8}) if conv_rows else "<p>No configuration.</p>")

    # -- composition error
    parts.append("<h2>Composition of the computed cells</h2>")
    comp_rows = []
    for cand in result.candidates:
        for cfg in cand.configurations:
            err = cfg.composition_error
            cls = "flag" if err is not None and err > 1e-6 else "ok"
            comp_rows.append([_esc(cand.composition), _esc(cfg.index), _esc(cfg.n_atoms),
                              _esc(cfg.realised_formula),
                              f'<span class="{cls}">{_num(err, ".4f")}</span>'])
    parts.append("<p>Error: largest |realised − target| amount of any element per formula "
                 "unit (0 = the cell has exactly the candidate's composition).</p>")
    parts.append(_table(["candidate", "configuration", "atoms", "realised formula",
                         "composition error"], comp_rows, numeric={1, 2, 4})
                 if comp_rows else "<p>No configuration.</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_html_report(result: ScreeningResult, path: str | Path, **kwargs: Any) -> Path:
    """Render :func:`render_html_report` and write it atomically to ``path``.

    Parameters
    ----------
    result
        The screen's aggregate document.
    path
        Output file (``report.html``); checked writable before rendering.
    **kwargs
        Passed to :func:`render_html_report`.
    """
    from nasicon_workflows.fileio import atomic_write_text, resolve_output_file

    target = resolve_output_file(path)
    atomic_write_text(target, render_html_report(result, **kwargs))
    return Path(target)
