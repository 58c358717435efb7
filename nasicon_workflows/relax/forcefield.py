"""Local relaxations with universal force fields through atomate2's ``ForceFieldRelaxMaker``.

The same call selects VASP on HPC (:func:`get_relax_maker` with ``"vasp"``), so a flow swaps one
maker for the other and nothing else.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from jobflow import Maker
from pymatgen.core import Structure

from nasicon_workflows.errors import NasiconWorkflowsError
from nasicon_workflows.relax.availability import (
    FORCE_FIELDS,
    check_relax_available,
    normalise_relaxer_name,
)
from nasicon_workflows.relax.errors import RelaxationError, RelaxInputError
from nasicon_workflows.relax.schemas import RelaxationDocument
from nasicon_workflows.relax.settings import (
    DEFAULT_FMAX_EV_PER_A,
    DEFAULT_FORCEFIELD_STEPS,
    PUBLISHED_EDIFFG_EV_PER_A,
    ForceFieldRelaxSettings,
    VaspRelaxSettings,
)
from nasicon_workflows.relax.validation import validate_structure

__all__ = [
    "DEFAULT_FMAX_EV_PER_A",
    "DEFAULT_OPTIMIZER",
    "get_relax_maker",
    "maker_from_settings",
    "relax_structure",
    "run_job_locally",
    "validate_structure",
]

logger = logging.getLogger(__name__)

#: ASE optimizer of force-field relaxations (cell and positions together through atomate2's
#: FrechetCellFilter): the fastest to fmax 0.05 eV/Å on the ordered ME1 and HE1 cells in
#: benchmarks/bench_relax_convergence.py (docs/relax_convergence.md); atomate2's default is FIRE.
DEFAULT_OPTIMIZER = "BFGS"


def _check_settings(fmax: float, steps: int) -> None:
    if not fmax > 0:
        raise RelaxInputError(f"fmax must be a positive force in eV/Å, got {fmax!r}")
    if int(steps) < 1:
        raise RelaxInputError(f"steps must be at least 1, got {steps!r}")


def get_relax_maker(
    name: str = "chgnet",
    fmax: float | None = None,
    relax_cell: bool = True,
    steps: int | None = None,
    check: bool = True,
    optimizer: str | None = None,
    **kwargs: Any,
) -> Maker | None:
    """The relaxation maker for a force field or VASP; ``"none"`` gives None.

    Parameters
    ----------
    name
        "chgnet" (default), "sevennet", "mace", "m3gnet", "vasp" or "none".
    fmax
        Force criterion (eV/Å). None: 0.05 for force fields, the published 0.03 for VASP. For
        VASP any other value is an explicit, logged override of the published EDIFFG.
    relax_cell
        Relax lattice vectors as well as positions (ISIF = 3 for VASP).
    steps
        Maximum number of ionic steps. None: 500 for force fields, NSW 200 for VASP
        (:data:`~nasicon_workflows.relax.settings.DEFAULT_VASP_NSW`).
    check
        Check availability first (:func:`check_relax_available`). Set False only to build a
        VASP flow on a machine that submits to another one where VASP is configured.
    optimizer
        ASE optimizer of force-field relaxations ("BFGS", "FIRE", "LBFGS", ... as named by
        atomate2); default :data:`DEFAULT_OPTIMIZER`. Ignored for VASP.
    **kwargs
        Passed to ``ForceFieldRelaxMaker`` (e.g. ``optimizer_kwargs``, ``fix_symmetry``) or, for
        VASP, to :meth:`~nasicon_workflows.relax.settings.VaspRelaxSettings.from_legacy`
        (``user_incar_settings``, ``pre_relax``, ``run_vasp_kwargs``, ...).

    Returns
    -------
    jobflow.Maker or None
        A maker whose ``make(structure)`` output has ``.structure`` and ``.output.energy``.

    Raises
    ------
    UnknownRelaxerError, ForceFieldUnavailableError, VaspNotConfiguredError
        Before any computation, when the relaxer cannot run here.
    """
    key = normalise_relaxer_name(name)
    if key == "none":
        return None
    if check:
        check_relax_available(key)
    if key == "vasp":
        if steps is not None and int(steps) < 1:
            raise RelaxInputError(f"steps must be at least 1, got {steps!r}")
        settings = VaspRelaxSettings.from_legacy(
            fmax=fmax, relax_cell=relax_cell, nsw=steps, **kwargs
        )
        return maker_from_settings(settings, check=False)

    from atomate2.forcefields.jobs import ForceFieldRelaxMaker

    fmax = DEFAULT_FMAX_EV_PER_A if fmax is None else fmax
    steps = DEFAULT_FORCEFIELD_STEPS if steps is None else steps
    _check_settings(fmax, steps)
    spec = FORCE_FIELDS[key]
    relax_kwargs = {"fmax": float(fmax), **kwargs.pop("relax_kwargs", {})}
    calculator_kwargs = {**spec.calculator_kwargs, **kwargs.pop("calculator_kwargs", {})}
    optimizer_kwargs = {"optimizer": optimizer or DEFAULT_OPTIMIZER,
                        **kwargs.pop("optimizer_kwargs", {})}
    return ForceFieldRelaxMaker(
        name=kwargs.pop("name", f"{key} relax"),
        force_field_name=spec.mlff,
        relax_cell=relax_cell,
        steps=int(steps),
        relax_kwargs=relax_kwargs,
        calculator_kwargs=calculator_kwargs,
        optimizer_kwargs=optimizer_kwargs,
        **kwargs,
    )


def maker_from_settings(
    settings: ForceFieldRelaxSettings | VaspRelaxSettings, check: bool = True
) -> Maker:
    """The relaxation maker of a settings object.

    Parameters
    ----------
    settings
        :class:`~nasicon_workflows.relax.settings.ForceFieldRelaxSettings` (an atomate2
        ``ForceFieldRelaxMaker``) or :class:`~nasicon_workflows.relax.settings.VaspRelaxSettings`
        (a :class:`~nasicon_workflows.relax.vasp.NasiconDoubleRelaxMaker` whose two relaxations
        carry exactly ``settings.incar()``).
    check
        Check that the relaxer can run here first.

    Returns
    -------
    jobflow.Maker
    """
    if isinstance(settings, VaspRelaxSettings):
        # atomate2's VASP package (and emmet) only when VASP is asked for: seconds of imports
        from nasicon_workflows.relax.vasp import NasiconDoubleRelaxMaker

        if check:
            check_relax_available("vasp")
        pre = None
        if settings.pre_relax is not None:
            pre = get_relax_maker(settings.pre_relax, relax_cell=settings.relax_cell, check=check)
        return NasiconDoubleRelaxMaker.from_settings(settings, pre_relax_maker=pre)
    if isinstance(settings, ForceFieldRelaxSettings):
        extra = {} if settings.optimizer is None else {"optimizer": settings.optimizer}
        return get_relax_maker(
            settings.force_field, fmax=settings.fmax_eV_per_A, relax_cell=settings.relax_cell,
            steps=settings.max_steps, check=check, **extra,
        )
    raise RelaxInputError(
        f"expected ForceFieldRelaxSettings or VaspRelaxSettings, got {type(settings).__name__}"
    )


def run_job_locally(job_or_flow: Any, root_dir: str | None = None) -> Any:
    """Run a job or flow with ``jobflow.run_locally`` in memory; return its output.

    Small on purpose: tests monkeypatch it, and the relax CLI and :func:`relax_structure` go
    through it so they run exactly what a workflow manager would.

    Parameters
    ----------
    job_or_flow
        jobflow Job or Flow.
    root_dir
        Folder for the job directories. None: a temporary folder, deleted afterwards (atomate2
        jobs write files such as ``final_atoms_object.xyz`` and phonon plots into their folder,
        never into the caller's working directory).

    Returns
    -------
    Any
        The resolved output of the job or flow.
    """
    import contextlib
    import io
    import tempfile

    from jobflow import JobStore, run_locally
    from maggma.stores import MemoryStore

    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    with tempfile.TemporaryDirectory(prefix="nasicon_relax_") as tmp:
        # Force-field packages print banners ("CHGNet v0.3.0 initialized ...") on stdout; keep
        # stdout for results (the CLI's --json) and pass the text to the log instead.
        captured = io.StringIO()
        try:
            with contextlib.redirect_stdout(captured):
                run_locally(
                    job_or_flow,
                    store=store,
                    log=False,
                    ensure_success=True,
                    create_folders=True,
                    root_dir=root_dir or tmp,
                    raise_immediately=True,
                )
        except NasiconWorkflowsError:
            raise
        except Exception as exc:  # any failure inside a job: name the job's own error
            raise RelaxationError(
                f"{job_or_flow.name!r} failed: {type(exc).__name__}: {exc}"
            ) from exc
        finally:
            if captured.getvalue().strip():
                logger.info("%s", captured.getvalue().strip())
        from jobflow.core.reference import find_and_resolve_references

        # The output is a reference, or a list/dict of references (a Flow of several jobs).
        return find_and_resolve_references(job_or_flow.output, store)


def relax_structure(
    structure: Structure,
    force_field: str = "chgnet",
    fmax: float | None = None,
    relax_cell: bool = True,
    steps: int | None = None,
    **kwargs: Any,
) -> RelaxationDocument:
    """Relax one ordered structure locally and summarise it.

    Parameters
    ----------
    structure
        Ordered pymatgen structure (e.g. an ordered 84-atom ME1-NZSP cell).
    force_field
        "chgnet" (default), "sevennet", ... or "vasp" on a machine where VASP is configured.
    fmax
        Force criterion in eV/Å; None: 0.05 for force fields, the published 0.03 for VASP.
    relax_cell
        Relax the lattice as well as the positions.
    steps
        Maximum number of optimiser steps; None: 500 for force fields, NSW 200 for VASP.
    **kwargs
        Passed to :func:`get_relax_maker`.

    Returns
    -------
    RelaxationDocument
        Energy per atom, final structure and lattice, steps, convergence and settings.
    """
    validate_structure(structure)
    key = normalise_relaxer_name(force_field)
    if key == "none":
        raise RelaxInputError("force_field='none' does not relax anything; pick chgnet or vasp")
    if fmax is None:
        fmax = abs(PUBLISHED_EDIFFG_EV_PER_A) if key == "vasp" else DEFAULT_FMAX_EV_PER_A
    if steps is None:
        steps = VaspRelaxSettings().nsw if key == "vasp" else DEFAULT_FORCEFIELD_STEPS
    maker = get_relax_maker(key, fmax=fmax, relax_cell=relax_cell, steps=steps, **kwargs)
    start = time.perf_counter()
    task_doc = run_job_locally(maker.make(structure))
    elapsed = time.perf_counter() - start
    logger.info("%s relaxation of %d sites took %.1f s", key, len(structure), elapsed)
    settings = {
        "relaxer": key,
        "fmax_eV_per_A": float(fmax),
        "relax_cell": bool(relax_cell),
        "max_steps": int(steps),
        "optimizer": getattr(maker, "optimizer_kwargs", {}).get("optimizer"),
        "model": getattr(task_doc, "forcefield_name", None) or key,
        "model_version": getattr(task_doc, "forcefield_version", None),
        "elapsed_s": round(elapsed, 2),
    }
    return RelaxationDocument.from_task_document(
        task_doc, key, settings=settings, initial_structure=structure, fmax=fmax
    )
