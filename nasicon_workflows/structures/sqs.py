"""Special quasirandom structures of the M site (and Na/vacancy) through sqsgenerator.

Only the sites of the chosen pools enter sqsgenerator (Gehringer et al., sqsgenerator 0.5): the
objective is its weighted mismatch of Warren-Cowley pair short-range-order parameters from the
random alloy over the coordination shells (default shells, weights 1/i); with two pools
(M and Na/vacancy) they are separate sublattices (split mode) and the objectives are summed.
The other pools are then ordered by Ewald energy (see
:func:`nasicon_workflows.structures.order_structure`).
"""

from __future__ import annotations

import logging

import numpy as np
from pymatgen.core import Element, Structure

from nasicon_workflows.structures.exceptions import OrderingError
from nasicon_workflows.structures.parent import pool_of_site
from nasicon_workflows.structures.symmetry import canonical_key

__all__ = ["run_sqsgenerator", "sqs_orderings"]

logger = logging.getLogger(__name__)


def run_sqsgenerator(config: dict):
    """Call :func:`sqsgenerator.optimize`; its C++ log (stderr) goes to this module's logger."""
    import os
    import sys
    import tempfile

    import sqsgenerator
    from sqsgenerator.core import LogLevel

    # sqsgenerator's C++ core writes shell-detection warnings straight to file descriptor 2; the
    # library must not print, so the descriptor is redirected for the call and logged instead.
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        os.dup2(sink.fileno(), 2)
        try:
            result = sqsgenerator.optimize(config, level=LogLevel.error)
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        sink.seek(0)
        for line in sink.read().decode(errors="replace").splitlines():
            logger.debug("sqsgenerator: %s", line)
    return result


#: Placeholder species marking each pool's sites for sqsgenerator; "0" is its vacancy.
_PLACEHOLDER = {"M": "Zr", "Na": "Na"}
_VACANCY = "0"


def sqs_orderings(
    supercell: Structure,
    choice,
    k: int,
    seed: int,
    iterations: int = 1_000_000,
    permutations: np.ndarray | None = None,
    pools: tuple[str, ...] = ("M",),
) -> list[tuple[dict[int, str | None], float]]:
    """The k best SQS occupations of the M (and optionally Na/vacancy) sites of a supercell.

    Parameters
    ----------
    supercell
        Disordered supercell with framework labels.
    choice
        The :class:`~nasicon_workflows.structures.ordering.SupercellChoice` (pool counts).
    k
        Number of configurations.
    seed
        sqsgenerator seed (runs are deterministic for a seed, single thread).
    iterations
        Random-mode Monte Carlo iterations.
    permutations
        Site permutations of the supercell symmetry; configurations equal under them are
        returned once.
    pools
        ``("M",)`` or ``("M", "Na")``; several pools are separate sublattices (split mode).

    Returns
    -------
    list of (occupation, objective)
        occupation: supercell site index -> element (None = vacancy); best objective first.

    Raises
    ------
    OrderingError
        When a requested pool holds a single species (nothing to make quasirandom).
    """
    indices: list[int] = []
    placeholders: list[str] = []
    composition = []
    for pool in pools:
        idx = [i for i, s in enumerate(supercell) if pool_of_site(s) == pool]
        counts = {(_VACANCY if el is None else el): c for el, c in choice.counts.get(pool, {}).items()
                  if c > 0}
        if len(counts) < 2:
            raise OrderingError(
                f"SQS needs at least two species on the {pool} sublattice; this structure has "
                f"{', '.join(counts) or 'none'}. Use method='ewald'."
            )
        indices += idx
        placeholders += [_PLACEHOLDER[pool]] * len(idx)
        composition.append({"sites": _PLACEHOLDER[pool], **counts})
    config = {
        "iterations": int(iterations),
        "seed": int(seed),
        "thread_config": [1],  # one thread: deterministic for a seed
        "max_results_per_objective": max(1, k),
        "sublattice_mode": "split" if len(pools) > 1 else "interact",
        "structure": {
            "lattice": supercell.lattice.matrix.tolist(),
            "coords": supercell.frac_coords[indices].tolist(),
            "species": placeholders,
        },
        "composition": composition,
    }
    pack = run_sqsgenerator(config)
    results: list[tuple[dict[int, str | None], float]] = []
    seen: set[bytes] = set()
    for objective, configurations in sorted(pack, key=lambda t: float(np.sum(t[0]))):
        for conf in configurations:
            occupation = {
                i: (None if int(z) == 0 else Element.from_Z(int(z)).symbol)
                for i, z in zip(indices, conf.species)
            }
            key = _key(occupation, len(supercell), permutations)
            if key in seen:
                continue
            seen.add(key)
            results.append((occupation, float(np.sum(objective))))
            if len(results) == k:
                return results
    logger.info("sqsgenerator returned %d distinct configurations (asked %d)", len(results), k)
    return results


def _key(occupation: dict[int, str | None], n_sites: int, perms: np.ndarray | None) -> bytes:
    values = np.full(n_sites, -1, dtype=np.int16)
    for i, el in occupation.items():
        values[i] = 0 if el is None else Element(el).Z
    if perms is None or len(perms) == 0:
        return values.tobytes()
    return canonical_key(values, perms)
