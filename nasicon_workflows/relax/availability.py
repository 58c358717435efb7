"""Which relaxers can run on this machine, checked before any computation starts.

A force field needs its Python package *and* its weights on disk: CHGNet and SevenNet ship their
weights in the wheel, MACE and MatGL models are downloaded on first use, which on a compute node
without network hangs or fails deep inside a job. VASP needs an executable and a POTCAR directory.
Every check here is a cheap file-system look-up, never an import of torch or a model load.
"""

from __future__ import annotations

import importlib.util
import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from nasicon_workflows.relax.errors import (
    ForceFieldUnavailableError,
    UnknownRelaxerError,
    VaspNotConfiguredError,
)

__all__ = [
    "FORCE_FIELDS",
    "RELAXERS",
    "ForceFieldSpec",
    "check_relax_available",
    "check_vasp_configured",
    "normalise_relaxer_name",
]


def _package_dir(package: str) -> Path | None:
    """Directory of an installed package without importing it (None if not installed)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _chgnet_weights() -> Path | None:
    root = _package_dir("chgnet")
    # CHGNet() loads the 0.3.0 MPtrj model by default; it is part of the wheel.
    path = root / "pretrained" / "0.3.0" if root else None
    return next(iter(sorted(path.glob("*.pth.tar"))), None) if path and path.is_dir() else None


def _sevennet_weights() -> Path | None:
    root = _package_dir("sevenn")
    path = root / "pretrained_potentials" / "SevenNet_0__11Jul2024" if root else None
    return next(iter(sorted(path.glob("*.pth"))), None) if path and path.is_dir() else None


def _cached_file(folder: Path, pattern: str) -> Path | None:
    return next(iter(sorted(folder.glob(pattern))), None) if folder.is_dir() else None


def _mace_weights() -> Path | None:
    # mace_mp() downloads "medium" MACE-MP-0 into ~/.cache/mace on first use.
    return _cached_file(Path.home() / ".cache" / "mace", "*medium*")


def _matgl_weights() -> Path | None:
    return _cached_file(Path.home() / ".cache" / "matgl", "M3GNet-*PES*")


@dataclass(frozen=True)
class ForceFieldSpec:
    """A universal force field that atomate2's ``ForceFieldRelaxMaker`` can drive.

    Parameters
    ----------
    name
        Name used by this package and the CLI (lower case).
    mlff
        atomate2 ``MLFF`` value passed as ``force_field_name``.
    package
        Import name of the Python package that provides the calculator.
    install_hint
        What to run to install it.
    find_weights
        Returns the local weight file, or None when the model would be downloaded.
    calculator_kwargs
        Keyword arguments for the ASE calculator (atomate2 adds its own defaults).
    note
        Caveat shown in the unavailability error.
    """

    name: str
    mlff: str
    package: str
    install_hint: str
    find_weights: Callable[[], Path | None]
    calculator_kwargs: dict = field(default_factory=dict)
    note: str = ""


#: Force fields known to the relax stage, keyed by their CLI name.
FORCE_FIELDS: dict[str, ForceFieldSpec] = {
    "chgnet": ForceFieldSpec(
        "chgnet", "CHGNet", "chgnet", "pip install chgnet", _chgnet_weights,
        note="CHGNet 0.3.0 (MPtrj, PBE/PBE+U) weights ship in the chgnet wheel.",
    ),
    "sevennet": ForceFieldSpec(
        "sevennet", "SevenNet", "sevenn", "pip install 'nasicon-workflows[sevennet]' (sevenn)",
        _sevennet_weights, calculator_kwargs={"model": "7net-0"},
        note="SevenNet-0 (11Jul2024) weights ship in the sevenn wheel.",
    ),
    "mace": ForceFieldSpec(
        "mace", "MACE-MP-0", "mace", "pip install mace-torch", _mace_weights,
        note=(
            "MACE-MP-0 weights are downloaded on first use (~/.cache/mace); mace-torch also "
            "downgrades e3nn and breaks SevenNet, so it is kept out of every extra."
        ),
    ),
    "m3gnet": ForceFieldSpec(
        "m3gnet", "M3GNet", "matgl", "pip install matgl", _matgl_weights,
        note="MatGL models are downloaded on first use (~/.cache/matgl).",
    ),
}

#: Every name ``get_relax_maker`` accepts.
RELAXERS = ("none", "vasp", *FORCE_FIELDS)


def normalise_relaxer_name(name: str) -> str:
    """Lower-case relaxer name, checked against :data:`RELAXERS`.

    Parameters
    ----------
    name
        "chgnet", "sevennet", "mace", "m3gnet", "vasp" or "none" (any case).

    Returns
    -------
    str
        The canonical name.
    """
    key = str(name).strip().lower().replace("-", "").replace("_", "")
    aliases = {"7net0": "sevennet", "sevenn": "sevennet", "macemp0": "mace", "matgl": "m3gnet"}
    key = aliases.get(key, key)
    if key not in RELAXERS:
        raise UnknownRelaxerError(
            f"unknown relaxer {name!r}; expected one of {', '.join(RELAXERS)}"
        )
    return key


def _vasp_command() -> str:
    from atomate2 import SETTINGS

    return str(SETTINGS.VASP_CMD)


def _potcar_dir() -> str | None:
    from pymatgen.core import SETTINGS

    return SETTINGS.get("PMG_VASP_PSP_DIR")


def check_vasp_configured() -> None:
    """Raise :class:`VaspNotConfiguredError` unless VASP and its POTCARs are set up here.

    Checks that one word of atomate2's ``VASP_CMD`` is an executable on ``PATH`` (a launcher
    such as ``srun vasp_std`` is fine) and that pymatgen's ``PMG_VASP_PSP_DIR`` is a directory.
    """
    problems = []
    command = _vasp_command()
    words = shlex.split(command) or [""]
    if not any(shutil.which(word) for word in words if "vasp" in word.lower()):
        problems.append(f"no VASP executable found for VASP_CMD={command!r}")
    psp_dir = _potcar_dir()
    if not psp_dir or not Path(psp_dir).expanduser().is_dir():
        problems.append(f"PMG_VASP_PSP_DIR is {psp_dir!r}, not a POTCAR directory")
    if problems:
        raise VaspNotConfiguredError(
            "VASP is not configured on this machine: " + "; ".join(problems) + ". Set VASP_CMD "
            "(ATOMATE2_VASP_CMD or ~/.atomate2.yaml) and PMG_VASP_PSP_DIR (~/.config/.pmgrc.yaml) "
            "on the machine that runs the jobs, use a force field (--force-field chgnet) locally, "
            "or write the inputs for inspection with `nasicon-workflows vasp-inputs CIF --out DIR`"
        )


def check_relax_available(name: str) -> None:
    """Fail fast when a relaxer cannot run here; return None when it can.

    Parameters
    ----------
    name
        "chgnet", "sevennet", "mace", "m3gnet", "vasp" or "none".

    Raises
    ------
    UnknownRelaxerError
        The name is not a known relaxer.
    ForceFieldUnavailableError
        The force-field package is not installed, or its weights are not on disk (they would
        have to be downloaded).
    VaspNotConfiguredError
        ``name="vasp"`` without a VASP executable or POTCAR directory.
    """
    key = normalise_relaxer_name(name)
    if key == "none":
        return None
    if key == "vasp":
        check_vasp_configured()
        return None
    spec = FORCE_FIELDS[key]
    if _package_dir(spec.package) is None:
        raise ForceFieldUnavailableError(
            f"force field {key!r} is not installed (Python package {spec.package!r} missing); "
            f"install it with `{spec.install_hint}` or use --force-field chgnet. {spec.note}"
        )
    if spec.find_weights() is None:
        raise ForceFieldUnavailableError(
            f"force field {key!r} has no weights on this machine and would download them at run "
            f"time; fetch the model once on a machine with network access or use --force-field "
            f"chgnet. {spec.note}"
        )
    return None
