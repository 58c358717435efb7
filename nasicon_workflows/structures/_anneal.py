"""Numba kernel of the Ewald-ranked ordering: swap Monte Carlo on a fixed quadratic form.

The electrostatic energy of a cell whose site charges are ``q`` is ``E = q^T A q`` with ``A`` the
Ewald matrix of unit charges (pymatgen ``EwaldSummation.total_energy_matrix``; the charged-cell
term vanishes because every configuration is neutral). Swapping the charges of sites a and b
(``d = q_b - q_a``) changes it by ``2 d (phi_a - phi_b) + d^2 (A_aa + A_bb - 2 A_ab)`` with the
site potentials ``phi = A q``, so a move costs O(1) and an accepted move O(N).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def anneal(
    matrix: np.ndarray,
    charges: np.ndarray,
    group_sites: np.ndarray,
    group_offsets: np.ndarray,
    n_sweeps: int,
    t_start: float,
    t_end: float,
    seed: int,
) -> tuple[np.ndarray, float]:
    """Simulated annealing by charge swaps inside each group, then a greedy quench.

    Parameters
    ----------
    matrix
        (N, N) unit-charge Ewald matrix (eV).
    charges
        (N,) starting site charges (vacancy = 0); permuted within groups only.
    group_sites, group_offsets
        Sites of group g are ``group_sites[group_offsets[g]:group_offsets[g + 1]]``.
    n_sweeps
        Annealing length in sweeps (one sweep = as many attempted swaps as mixed sites).
    t_start, t_end
        Temperatures (eV) of the geometric schedule.
    seed
        Random seed of this run.

    Returns
    -------
    charges, energy
        The lowest-energy charges reached and their energy (eV).
    """
    np.random.seed(seed)
    q = charges.copy()
    phi = matrix @ q
    energy = q @ phi
    n_groups = group_offsets.shape[0] - 1
    n_mixed = group_offsets[n_groups]
    n_steps = max(1, n_sweeps * n_mixed)
    ratio = (t_end / t_start) ** (1.0 / n_steps)
    temp = t_start
    best_q = q.copy()
    best_e = energy
    for _ in range(n_steps):
        g = np.random.randint(n_groups)
        lo = group_offsets[g]
        size = group_offsets[g + 1] - lo
        a = group_sites[lo + np.random.randint(size)]
        b = group_sites[lo + np.random.randint(size)]
        d = q[b] - q[a]
        if d != 0.0:
            delta = 2.0 * d * (phi[a] - phi[b]) + d * d * (
                matrix[a, a] + matrix[b, b] - 2.0 * matrix[a, b]
            )
            if delta <= 0.0 or np.random.random() < np.exp(-delta / temp):
                phi += d * (matrix[:, a] - matrix[:, b])
                q[a], q[b] = q[b], q[a]
                energy += delta
                if energy < best_e:
                    best_e = energy
                    best_q[:] = q
        temp *= ratio
    # Greedy quench from the best state: apply the best improving swap until none is left.
    q = best_q.copy()
    phi = matrix @ q
    energy = q @ phi
    improved = True
    while improved:
        improved = False
        best_delta = -1e-10
        best_a = -1
        best_b = -1
        for g in range(n_groups):
            lo = group_offsets[g]
            hi = group_offsets[g + 1]
            for i in range(lo, hi):
                a = group_sites[i]
                for j in range(i + 1, hi):
                    b = group_sites[j]
                    d = q[b] - q[a]
                    if d == 0.0:
                        continue
                    delta = 2.0 * d * (phi[a] - phi[b]) + d * d * (
                        matrix[a, a] + matrix[b, b] - 2.0 * matrix[a, b]
                    )
                    if delta < best_delta:
                        best_delta = delta
                        best_a = a
                        best_b = b
        if best_a >= 0:
            d = q[best_b] - q[best_a]
            phi += d * (matrix[:, best_a] - matrix[:, best_b])
            q[best_a], q[best_b] = q[best_b], q[best_a]
            energy += best_delta
            improved = True
    return q, energy
