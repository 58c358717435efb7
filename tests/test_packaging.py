"""Packaging: one source of truth for the shipped data, every import declared, no machine paths,
and a wheel that works when installed normally (not editable)."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import site
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "nasicon_workflows"


def test_repository_structures_equal_the_package_data_byte_for_byte():
    """``structures/`` is the user-facing copy of ``nasicon_workflows/data/structures/`` (which the
    package reads): every CIF and JSON must be identical, and none may be missing on either side."""
    repo = {p.name: p for p in (ROOT / "structures").iterdir() if p.suffix in (".cif", ".json")}
    data = {p.name: p for p in (PACKAGE / "data" / "structures").iterdir()
            if p.suffix in (".cif", ".json") and not p.name.startswith("refined_structures")}
    assert sorted(repo) == sorted(data)
    assert {p.suffix for p in repo.values()} == {".cif", ".json"}
    for name, path in repo.items():
        assert path.read_bytes() == data[name].read_bytes(), name


def test_shipped_stability_metrics_equal_the_documented_ones_byte_for_byte():
    """The library quotes the stability model's skill from its shipped copy of the evaluation's
    metrics; it must be the file docs/stability.md cites."""
    shipped = PACKAGE / "data" / "stability_metrics.json"
    documented = ROOT / "docs" / "stability_evaluation" / "metrics.json"
    assert shipped.read_bytes() == documented.read_bytes()


def _third_party_imports() -> set[str]:
    stdlib = set(sys.stdlib_module_names)
    names = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return {n for n in names if n not in stdlib and n != "nasicon_workflows"}


def _declared() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += extra
    return {re.split(r"[<>=\[;! ]", r, maxsplit=1)[0].lower().replace("_", "-")
            for r in requirements}


def test_every_imported_third_party_package_is_declared():
    distributions = metadata.packages_distributions()
    declared = _declared()
    missing = {}
    for name in sorted(_third_party_imports()):
        dists = {d.lower().replace("_", "-") for d in distributions.get(name, [name])}
        if not dists & declared:
            missing[name] = sorted(dists)
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_no_machine_paths_or_internal_issue_numbers():
    texts = [*PACKAGE.rglob("*.py"), *PACKAGE.rglob("*.md"), *PACKAGE.rglob("*.yaml"),
             *PACKAGE.rglob("*.json"), *(ROOT / "docs").rglob("*.md"),
             *(ROOT / "flows").glob("*.py"), *(ROOT / "tests").rglob("*.py"),
             *(ROOT / "structures").iterdir(), ROOT / "README.md"]
    # The forbidden fragments are assembled from parts so that this file does not itself carry a
    # machine path: the development machine's work folder and its shared data folder.
    forbidden = ["/" + "work" + "/", "shared" + "/data", "data" + " README"]
    machine = re.compile("|".join(re.escape(f) for f in forbidden))
    issue = re.compile(r"\bissue \d+|\bissue #\d+", re.IGNORECASE)
    for path in texts:
        if path.name == Path(__file__).name or path.suffix not in (".py", ".md", ".yaml",
                                                                   ".json", ".cif"):
            continue
        text = path.read_text(encoding="utf-8")
        assert not machine.search(text), f"{path}: {machine.search(text).group(0)}"
        if path.is_relative_to(PACKAGE) and path.suffix == ".py":
            # user-facing text: messages and docstrings (string literals), not comments
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    found = issue.search(node.value)
                    assert not found, f"{path}:{node.lineno}: {found.group(0)}"


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_the_checkout(tmp_path):
    """Build a wheel, install it (not editable) into a fresh venv that sees the shared
    environment's third-party packages, and run the documented template command, a submission
    and a ``descriptors`` call from a folder outside the repository."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(PACKAGE, source / "nasicon_workflows",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.nbi", "*.nbc"))
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--no-index", "-q", "-w", str(wheels), str(source)], check=True)
    (wheel,) = wheels.glob("nasicon_workflows-*.whl")

    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    venv_site = Path(subprocess.run(
        [python, "-c", "import site; print(site.getsitepackages()[0])"],
        check=True, capture_output=True, text=True).stdout.strip())
    # third-party packages from the environment running the tests; nasicon_workflows from the
    # wheel only (a path in a .pth does not run that folder's own .pth files, i.e. no editable
    # finder of the shared environment)
    (venv_site / "_shared_environment.pth").write_text(
        "\n".join(p for p in site.getsitepackages()) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                    "--no-deps", "--no-index", "-q", str(wheel)], check=True)

    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(JFREMOTE_PROJECTS_FOLDER=str(tmp_path / "projects"),
               JFREMOTE_CONFIG_FILE=str(tmp_path / "no-config.yaml"))
    work = tmp_path / "elsewhere"
    work.mkdir()

    def run(*args):
        return subprocess.run([str(a) for a in args], cwd=work, env=env, check=True,
                              capture_output=True, text=True).stdout

    where = run(python, "-c", "import nasicon_workflows; print(nasicon_workflows.__file__)")
    assert Path(where.strip()).is_relative_to(venv_site), where
    # the documented template command (docs/hpc.md) and a submission from the installed package
    assert "queue:" in run(python, "-m", "nasicon_workflows.remote", "template", "mongodb")
    written = run(python, "-m", "nasicon_workflows.remote", "write-project", "wheeltest",
                  "--template", "embedded", "--set", f"base_dir={tmp_path / 'proj'}")
    assert Path(written.strip()) == tmp_path / "projects" / "wheeltest.yaml"
    assert "2 jobs" in run(python, "-m", "nasicon_workflows.remote", "check", "wheeltest",
                           "Na3Zr2Si2PO12")
    # the preloaded executor's client is the installed package's file
    written = run(python, "-m", "nasicon_workflows.remote", "write-project", "wheelexec",
                  "--executor", "--set", f"base_dir={tmp_path / 'exec'}")
    client = venv_site / "nasicon_workflows" / "remote" / "executor_client.py"
    assert client.is_file() and str(client) in Path(written.strip()).read_text()
    # the console script and the packaged data (descriptor tables, reference structures)
    out = json.loads(run(venv / "bin" / "nasicon-workflows", "descriptors",
                         "Na3.5Zr1.0Ti0.5Lu0.5Si2PO12", "--json"))
    row = out[0] if isinstance(out, list) else out
    assert row["ionic_radius_pm"] == pytest.approx(78.65, abs=0.01)  # README / Table S2
    assert row["entropy_R"] == pytest.approx(1.040, abs=0.001)
    n_sites = run(python, "-c", "from nasicon_workflows.structures import "
                  "load_reference_structure as f; print(len(f('ME1-NZSP')))")
    assert int(n_sites) == 84
