"""The HTML report: content from a ScreeningResult, self-contained, rendered by headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from nasicon_workflows.screen.documents import (
    CandidateResult,
    ConfigurationResult,
    GateRecord,
    ScreeningResult,
)
from nasicon_workflows.screen.report_html import render_html_report, write_html_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def nzsp_cell():
    """An ordered 80-atom Na3Zr2Si2PO12 cell (Ewald-ranked, fast settings)."""
    from nasicon_workflows.structures import disordered_structure, order_structure

    cell = order_structure(disordered_structure("Na3Zr2Si2PO12"), k=1, n_restarts=2,
                           n_sweeps=50)[0].structure
    return cell


@pytest.fixture(scope="module")
def result(nzsp_cell):
    from nasicon_workflows.descriptors import compute_descriptors

    comps = ["Na3Zr2Si2PO12", "Na3.5Zr1.5Sc0.5Si2PO12", "Na3.25Zr1.75Ga0.25Si2PO12"]
    scored = []
    for i, comp in enumerate(comps):
        d = compute_descriptors(comp)
        scored.append(GateRecord(composition=comp, probability=0.9 - 0.1 * i, selected=i < 2,
                                 descriptors={"ionic_radius_pm": d.ionic_radius_pm,
                                              "electronegativity": d.electronegativity}))
    good = CandidateResult(
        composition=comps[0], status="finished", probability=0.9,
        configurations=[
            ConfigurationResult(index=k, n_atoms=80, relaxed=True, relax_converged=True,
                                relax_steps=87 + k, realised_formula=comps[0],
                                composition_error=0.0, structure=nzsp_cell, volume_A3=1090.0,
                                energy_per_atom_eV=-7.7, barriers_eV={"3D": 0.73 + 0.02 * k})
            for k in range(2)],
        barrier_mean_eV={"3D": 0.74}, barrier_std_eV={"3D": 0.014},
    )
    flagged = CandidateResult(
        composition=comps[1], status="finished", probability=0.8,
        configurations=[
            ConfigurationResult(index=0, n_atoms=82, relaxed=True, relax_converged=False,
                                relax_steps=25, realised_formula="Na3.5Zr1.5Sc0.5Si2PO12",
                                composition_error=0.0, structure=nzsp_cell,
                                barriers_eV={"3D": 0.9}),
            ConfigurationResult(index=1, n_atoms=83, relaxed=True, relax_converged=True,
                                relax_steps=120, realised_formula="Na3.625Zr1.5Sc0.5Si2PO12",
                                composition_error=0.125, structure=nzsp_cell,
                                barriers_eV={"3D": 0.95}),
        ],
        barrier_mean_eV={"3D": 0.925}, barrier_std_eV={"3D": 0.035},
    )
    ranking = [
        {"rank": 1, "composition": comps[0], "score": 0.8, "probability": 0.9,
         "barrier_3D_mean_eV": 0.74, "barrier_3D_std_eV": 0.014},
        {"rank": 2, "composition": comps[1], "score": 0.6, "probability": 0.8,
         "barrier_3D_mean_eV": 0.925, "barrier_3D_std_eV": 0.035},
    ]
    return ScreeningResult(
        settings={"fmax": 0.05, "selection": {"explanation": "Picked by the tie rule <test>."}},
        scored=scored, candidates=[good, flagged], ranking=ranking,
        enumeration={"n_enumerated": 12047},
    )


#: Coarse grid for the section maps computed in the tests (the report's default is 0.2 Å).
RES = 0.4


@pytest.fixture(scope="module")
def page(result):
    return render_html_report(result, section_resolution_A=RES)


def test_report_holds_every_section_and_flags(page, result):
    for heading in ("How the candidates were picked", "Ranking", "Descriptor map",
                    "BVSE section maps", "Relaxation convergence",
                    "Composition of the computed cells"):
        assert f"<h2>{heading}</h2>" in page
    assert "Picked by the tie rule &lt;test&gt;." in page  # escaped
    # the unconverged configuration is flagged in the ranking and the note
    assert "configuration(s) 0 not converged" in page
    assert '<span class="flag">NO</span>' in page
    # the composition error of the inexact cell is shown and flagged
    assert '<span class="flag">0.1250</span>' in page and "Na3.625Zr1.5Sc0.5Si2PO12" in page
    assert "0.740 ± 0.014 (3D)" in page and "0.925 ± 0.035 (3D)" in page
    # self-contained: images inline, nothing fetched
    images = re.findall(r'<img src="([^"]+)"', page)
    assert len(images) == 4  # ranking, descriptor map, two BVSE maps
    assert all(src.startswith("data:image/png;base64,") for src in images)
    assert not re.search(r'(src|href)="(https?:|//|file:)', page)
    assert "<script" not in page


def test_write_is_atomic_and_checks_the_folder(tmp_path, result):
    from nasicon_workflows.fileio import OutputPathError

    # a maps folder with the screen's section PNG of one candidate: used instead of computing
    from nasicon_workflows.screen.cache import safe_name

    maps = tmp_path / "maps"
    maps.mkdir()
    import base64

    png = base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")
    (maps / f"{safe_name(result.candidates[0].composition)}_0_sections.png").write_bytes(png)
    out = write_html_report(result, tmp_path / "report.html", maps_dir=maps,
                            section_resolution_A=RES)
    assert "_0_sections.png" in out.read_text()
    assert out.read_text().startswith("<!DOCTYPE html>")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(OutputPathError):
        write_html_report(result, blocker / "report.html")


_PROBE = """<script>
window.addEventListener('load', function () {
  var imgs = document.images, ok = 0;
  for (var i = 0; i < imgs.length; i++) { if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++; }
  document.body.setAttribute('data-images-ok', ok + '/' + imgs.length);
});
</script></body>"""


@pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")
def test_headless_chromium_renders_without_console_errors(tmp_path, page):
    # The report has no script; the test adds one that counts the decoded images.
    probe = tmp_path / "report.html"
    probe.write_text(page.replace("</body>", _PROBE))
    run = _chromium(probe, tmp_path / "profile")
    assert run.returncode == 0, run.stderr[-2000:]
    console = [line for line in run.stderr.splitlines()
               if "CONSOLE" in line or "Uncaught" in line or "Failed to load resource" in line]
    assert console == [], console
    assert 'data-images-ok="4/4"' in run.stdout
    assert "<h2>Composition of the computed cells</h2>" in run.stdout
    # control: the same check sees a console error and a broken image when there are some
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><img src='data:image/png;base64,AAAA'>"
                   "<script>console.error('broken report')</script>" + _PROBE + "</html>")
    run = _chromium(bad, tmp_path / "profile2")
    assert any("broken report" in line for line in run.stderr.splitlines())
    assert 'data-images-ok="0/1"' in run.stdout


def _chromium(html_file, profile):
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
           "--virtual-time-budget=5000", "--dump-dom", html_file.as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)
