"""Symmetry of labelled NASICON supercells: site permutations and symmetry-invariant keys.

Shared by the Ewald ordering (:mod:`~nasicon_workflows.structures.ordering`) and the SQS
ordering (:mod:`~nasicon_workflows.structures.sqs`) to recognise equivalent configurations.
"""

from __future__ import annotations

import numpy as np
import spglib
from pymatgen.core import Structure

__all__ = ["canonical_key", "symmetry_permutations"]


def symmetry_permutations(structure: Structure) -> np.ndarray:
    """Site permutations of a cell's symmetry operations (site labels as site types).

    Parameters
    ----------
    structure
        Labelled (super)cell.

    Returns
    -------
    numpy.ndarray
        ``(n_operations, n_sites)`` integer array; row k maps site i to ``perms[k, i]``.
    """

    labels = [site.label for site in structure]
    kinds = sorted(set(labels))
    types = [kinds.index(lab) for lab in labels]
    frac = structure.frac_coords
    ops = spglib.get_symmetry((structure.lattice.matrix, frac, types), symprec=1e-3)
    perms = []
    for rot, trans in zip(ops["rotations"], ops["translations"]):
        image = frac @ rot.T + trans
        diff = (image[:, None, :] - frac[None, :, :] + 0.5) % 1.0 - 0.5
        match = np.all(np.abs(diff) < 1e-3, axis=2)
        if not np.all(match.sum(axis=1) == 1):
            continue
        perms.append(np.argmax(match, axis=1))
    return np.array(perms)


def canonical_key(values: np.ndarray, perms: np.ndarray) -> bytes:
    """Symmetry-invariant key: the lexicographically smallest image of a site-value vector.

    Parameters
    ----------
    values
        One value per site (e.g. charge or atomic number).
    perms
        Site permutations of :func:`symmetry_permutations`.

    Returns
    -------
    bytes
        Equal for two vectors related by a symmetry operation, different otherwise.
    """
    images = np.empty((len(perms), len(values)), dtype=values.dtype)
    rows = np.arange(len(perms))[:, None]
    images[rows, perms] = values[None, :]  # site i moves to perms[i]
    order = np.lexsort(images.T[::-1])
    return images[order[0]].tobytes()
