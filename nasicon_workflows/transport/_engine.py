"""Rejection-free (BKL / Gillespie) kinetic Monte Carlo on a lattice gas, compiled with numba.

Model (Bortz, Kalos & Lebowitz, *J. Comput. Phys.* 1975, 17, 10; Gillespie, *J. Comput. Phys.*
1976, 22, 403): occupied sites hop to vacant neighbours with rate
nu exp(-E_a / k_B T), where the barrier follows the kinetically-resolved-activation form
(Van der Ven, Ceder, Asta & Tepesch, *Phys. Rev. B* 2001, 64, 184307):

    E_a = max(E_KRA + dE / 2, dE, 0),   E_KRA = E_saddle - (E_i + E_j) / 2,

with dE the change of the total energy (site energies plus Na-Na pair energies) by the hop. Both
clamps keep detailed balance (E_a(i->j) - E_a(j->i) = dE). After each hop only the sites within
the interaction range of the two end sites change energy; their outgoing rates (and those of
their hop neighbours) are recomputed, the total rate is re-summed (O(N), no drift) and the next
event is chosen by a linear search over per-site rate sums.

Diffusion is sampled in blocks of equal simulated time tau: per block, the tracer sum
sum_p |dr_p|^2 and the collective |sum_p dr_p|^2 of the unwrapped displacements.

The same functions run uncompiled through ``.py_func`` (the pure-python reference of the
benchmark and of the tests).
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["kmc_blocks"]


@numba.njit(cache=True)
def _site_rates(k, occ, site_e, field, hop_ptr, hop_dst, hop_kra, hop_v, beta, nu, rates):
    """Recompute the rates of the hops leaving site k; returns their sum."""
    total = 0.0
    for h in range(hop_ptr[k], hop_ptr[k + 1]):
        j = hop_dst[h]
        if occ[k] == 0 or occ[j] == 1:
            rates[h] = 0.0
            continue
        de = (site_e[j] + field[j] - hop_v[h]) - (site_e[k] + field[k])
        ea = hop_kra[h] + 0.5 * de
        if ea < de:
            ea = de
        if ea < 0.0:
            ea = 0.0
        r = nu * math.exp(-beta * ea)
        rates[h] = r
        total += r
    return total


@numba.njit(cache=True)
def kmc_blocks(occ0, site_e, hop_ptr, hop_dst, hop_vec, hop_kra, hop_v, int_ptr, int_nbr, int_v,
               temperature_K, nu_Hz, n_equil, n_blocks, block_time_s, max_hops, seed):
    """Run rejection-free KMC: equilibration hops, then ``n_blocks`` blocks of simulated time.

    Parameters
    ----------
    occ0
        Initial occupation (int8, 0/1), length N.
    site_e
        Site energies in eV.
    hop_ptr, hop_dst, hop_vec, hop_kra, hop_v
        Directed hops in CSR order of the source site: destination, Cartesian vector (Å), KRA
        energy (eV) and the pair energy between the two end sites (eV).
    int_ptr, int_nbr, int_v
        Interaction neighbours of each site (CSR) and pair energies (eV).
    temperature_K, nu_Hz
        Temperature and attempt frequency.
    n_equil
        Hops before sampling.
    n_blocks
        Number of sampling blocks.
    block_time_s
        Simulated time per block; if <= 0 it is the equilibration's mean time per hop times
        ``max_hops / n_blocks``.
    max_hops
        Upper bound of the production hops (sampling stops at the first full block past it).
    seed
        Random seed.

    Returns
    -------
    tuple
        (tracer sums per block (Å^2), collective sums per block (Å^2), block time (s),
        production hops, production time (s), number of mobile ions, final occupation)
    """
    np.random.seed(seed)
    kb = 8.617333262e-5
    beta = 1.0 / (kb * temperature_K)
    n = occ0.shape[0]
    occ = occ0.copy()
    n_part = 0
    pid = np.full(n, -1, dtype=np.int64)
    for k in range(n):
        if occ[k] == 1:
            pid[k] = n_part
            n_part += 1
    disp = np.zeros((max(n_part, 1), 3))
    field = np.zeros(n)
    for k in range(n):
        if occ[k] == 1:
            for q in range(int_ptr[k], int_ptr[k + 1]):
                field[int_nbr[q]] += int_v[q]
    rates = np.zeros(hop_dst.shape[0])
    site_rate = np.zeros(n)
    for k in range(n):
        site_rate[k] = _site_rates(k, occ, site_e, field, hop_ptr, hop_dst, hop_kra, hop_v, beta,
                                   nu_Hz, rates)
    mark = np.zeros(n, dtype=np.int64)
    touched = np.zeros(n, dtype=np.int64)
    stamp = 0
    tracer = np.zeros(n_blocks)
    collective = np.zeros(n_blocks)
    block_start = np.zeros((max(n_part, 1), 3))
    t = 0.0
    hops = 0
    t_equil = 0.0
    prod_hops = 0
    block = -1
    next_boundary = 0.0
    tau = block_time_s
    while True:
        total = 0.0
        for k in range(n):
            total += site_rate[k]
        if total <= 0.0:
            break  # no possible hop (full or empty lattice): nothing moves
        dt = -math.log(1.0 - np.random.random()) / total
        if hops >= n_equil:
            if block < 0:
                t_equil = t
                if tau <= 0.0:
                    # Block length from the mean time per equilibration hop (or, with no
                    # equilibration, from the current total rate).
                    mean_dt = t / hops if hops > 0 else 1.0 / total
                    tau = mean_dt * max_hops / n_blocks
                block = 0
                next_boundary = t + tau
                for p in range(n_part):
                    for d in range(3):
                        block_start[p, d] = disp[p, d]
            # Close every block boundary passed before this event (state is constant until then).
            while t + dt >= next_boundary:
                s1 = 0.0
                cx = 0.0
                cy = 0.0
                cz = 0.0
                for p in range(n_part):
                    dx = disp[p, 0] - block_start[p, 0]
                    dy = disp[p, 1] - block_start[p, 1]
                    dz = disp[p, 2] - block_start[p, 2]
                    s1 += dx * dx + dy * dy + dz * dz
                    cx += dx
                    cy += dy
                    cz += dz
                    block_start[p, 0] = disp[p, 0]
                    block_start[p, 1] = disp[p, 1]
                    block_start[p, 2] = disp[p, 2]
                tracer[block] = s1
                collective[block] = cx * cx + cy * cy + cz * cz
                block += 1
                next_boundary += tau
                if block >= n_blocks:
                    break
            if block >= n_blocks:
                break
        # Choose the event: a site by its rate sum, then one of its hops.
        u = np.random.random() * total
        acc = 0.0
        src = n - 1
        for k in range(n):
            acc += site_rate[k]
            if u < acc:
                src = k
                break
        while site_rate[src] <= 0.0:  # floating-point edge: fall back to a site that can hop
            src -= 1
        u2 = (u - (acc - site_rate[src])) if u < acc else np.random.random() * site_rate[src]
        h = hop_ptr[src + 1] - 1
        acc2 = 0.0
        for q in range(hop_ptr[src], hop_ptr[src + 1]):
            acc2 += rates[q]
            if u2 < acc2:
                h = q
                break
        while rates[h] <= 0.0:
            h -= 1
        dst = hop_dst[h]
        p = pid[src]
        disp[p, 0] += hop_vec[h, 0]
        disp[p, 1] += hop_vec[h, 1]
        disp[p, 2] += hop_vec[h, 2]
        pid[dst] = p
        pid[src] = -1
        occ[src] = 0
        occ[dst] = 1
        for q in range(int_ptr[src], int_ptr[src + 1]):
            field[int_nbr[q]] -= int_v[q]
        for q in range(int_ptr[dst], int_ptr[dst + 1]):
            field[int_nbr[q]] += int_v[q]
        # Sites whose energy or occupation changed, then their hop neighbours.
        stamp += 1
        nt = 0
        for c in (src, dst):
            if mark[c] != stamp:
                mark[c] = stamp
                touched[nt] = c
                nt += 1
            for q in range(int_ptr[c], int_ptr[c + 1]):
                m = int_nbr[q]
                if mark[m] != stamp:
                    mark[m] = stamp
                    touched[nt] = m
                    nt += 1
        n_changed = nt
        for a in range(n_changed):
            c = touched[a]
            for q in range(hop_ptr[c], hop_ptr[c + 1]):
                m = hop_dst[q]
                if mark[m] != stamp:
                    mark[m] = stamp
                    touched[nt] = m
                    nt += 1
        for a in range(nt):
            c = touched[a]
            site_rate[c] = _site_rates(c, occ, site_e, field, hop_ptr, hop_dst, hop_kra, hop_v,
                                       beta, nu_Hz, rates)
        t += dt
        hops += 1
        if block >= 0:
            prod_hops += 1
    if block < 0:
        t_equil = t
    return tracer, collective, tau, prod_hops, t - t_equil, n_part, occ
