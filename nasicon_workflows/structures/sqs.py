"""Special quasirandom structures of the M site through sqsgenerator (Gehringer et al.).

Only the M sites of the supercell enter sqsgenerator: the objective is its weighted mismatch of
Warren-Cowley pair short-range-order parameters from the random alloy over the M-M coordination
shells (default shells and weights 1/i of sqsgenerator 0.5). Si/P and Na/vacancy are then
ordered by Ewald energy at fixed M (see :func:`nasicon_workflows.structures.order_structure`).
"""

from __future__ import annotations

import logging

import numpy as np
from pymatgen.core import Element, Structure

from nasicon_workflows.structures.exceptions import OrderingError
from nasicon_workflows.structures.parent import sublattice_of

__all__ = ["sqs_m_site_orderings"]

logger = logging.getLogger(__name__)


def run_sqsgenerator(config: dict):
    """Call :func:`sqsgenerator.optimize` (kept separate so tests can monkeypatch it)."""
    import sqsgenerator

    return sqsgenerator.optimize(config)


def sqs_m_site_orderings(
    supercell: Structure,
    choice,
    oxidation_states: dict[str, int],
    k: int,
    seed: int,
    iterations: int = 1_000_000,
    permutations: np.ndarray | None = None,
) -> list[tuple[list[str], float]]:
    """The k best SQS occupations of the M sites of a supercell.

    Parameters
    ----------
    supercell
        Disordered supercell with framework labels.
    choice
        The :class:`~nasicon_workflows.structures.ordering.SupercellChoice` (M counts).
    oxidation_states
        Element -> oxidation state (unused by the SQS objective; kept for a uniform call).
    k
        Number of configurations.
    seed
        sqsgenerator seed (runs are deterministic for a seed, single thread).
    iterations
        Random-mode Monte Carlo iterations.
    permutations
        Site permutations of the supercell symmetry; configurations equal under them are
        returned once.

    Returns
    -------
    list of (species, objective)
        M-site elements in the supercell's M-site order, best objective first.
    """
    m_idx = [i for i, s in enumerate(supercell) if sublattice_of(s.label) == "M"]
    counts = {el: c for el, c in choice.counts["M"].items() if c > 0}
    if len(counts) < 2:
        raise OrderingError(
            "SQS needs at least two cations on the M site; this structure has "
            f"{', '.join(counts) or 'none'}. Use method='ewald'."
        )
    placeholder = next(iter(counts))
    config = {
        "iterations": int(iterations),
        "seed": int(seed),
        "thread_config": [1],  # one thread: deterministic for a seed
        "max_results_per_objective": max(1, k),
        "structure": {
            "lattice": supercell.lattice.matrix.tolist(),
            "coords": supercell.frac_coords[m_idx].tolist(),
            "species": [placeholder] * len(m_idx),
        },
        "composition": [{"sites": placeholder, **counts}],
    }
    pack = run_sqsgenerator(config)
    results: list[tuple[list[str], float]] = []
    seen: set[bytes] = set()
    for objective, configurations in sorted(pack, key=lambda t: t[0]):
        for conf in configurations:
            species = [Element.from_Z(int(z)).symbol for z in conf.species]
            key = _key(species, m_idx, len(supercell), permutations)
            if key in seen:
                continue
            seen.add(key)
            results.append((species, float(objective)))
            if len(results) == k:
                return results
    logger.info("sqsgenerator returned %d distinct configurations (asked %d)", len(results), k)
    return results


def _key(species: list[str], m_idx: list[int], n_sites: int, perms: np.ndarray | None) -> bytes:
    values = np.zeros(n_sites, dtype=np.int16)
    values[m_idx] = [Element(el).Z for el in species]
    if perms is None or len(perms) == 0:
        return values.tobytes()
    from nasicon_workflows.structures.ordering import _canonical

    return _canonical(values, perms)
