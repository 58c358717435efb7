"""Periodic percolation: analytic landscapes, wrap-around channels, and two independent algorithms."""

from __future__ import annotations

import numpy as np
import pytest

from nasicon_workflows.bvse import percolation_dimension, percolation_sweep


def frac_grid(shape):
    return np.meshgrid(*(np.arange(n) / n for n in shape), indexing="ij")


def test_separable_cosines_give_exact_barriers():
    # E = A cos 2pi x + B cos 2pi y + C cos 2pi z: the minimum is at (1/2, 1/2, 1/2); crossing x = 0
    # costs 2A, so E_1D = 2A, E_2D = 2B, E_3D = 2C exactly on a grid holding x, y, z = 0 and 1/2.
    x, y, z = frac_grid((20, 24, 28))
    a, b, c = 0.1, 0.25, 0.4
    result = percolation_sweep(a * np.cos(2 * np.pi * x) + b * np.cos(2 * np.pi * y)
                               + c * np.cos(2 * np.pi * z))
    assert result.barriers_eV == pytest.approx((2 * a, 2 * b, 2 * c), abs=1e-12)


def test_diagonal_channel_through_the_boundary():
    # A tube along [1 1 0]: it leaves the cell through a face and returns through the opposite one;
    # the only way to percolate below the wall height is along the diagonal (1D).
    x, y, z = frac_grid((30, 30, 12))
    d = ((x - y + 0.5) % 1.0) - 0.5  # periodic distance to the line x = y (in fractions)
    dz = ((z + 0.5) % 1.0) - 0.5
    energy = 1.0 - np.exp(-(d**2 + dz**2) / 0.01)
    result = percolation_sweep(energy)
    assert result.barriers_eV[0] < 0.05  # along the tube: no barrier on the grid
    assert result.barriers_eV[1] > 0.9 and result.barriers_eV[2] > 0.9


def test_isolated_pockets_never_percolate_below_wall():
    x, y, z = frac_grid((16, 16, 16))
    r2 = (x - 0.5) ** 2 + (y - 0.5) ** 2 + (z - 0.5) ** 2
    energy = np.minimum(r2, 0.09) * 10  # a bowl, flat top at 0.9 eV everywhere r > 0.3
    result = percolation_sweep(energy, encut_eV=0.5)
    assert result.barriers_eV == (np.inf, np.inf, np.inf)
    result = percolation_sweep(energy, encut_eV=2.0)
    assert result.barriers_eV == pytest.approx((0.9, 0.9, 0.9))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sweep_agrees_with_labelling_at_thresholds(seed):
    # Smooth random periodic field; ndimage labelling + quotient-graph rank (independent code)
    # must find dimension < k just below E_kD and >= k at E_kD.
    rng = np.random.default_rng(seed)
    shape = (18, 20, 22)
    freq = np.fft.fftfreq
    kx, ky, kz = np.meshgrid(freq(shape[0]) * shape[0], freq(shape[1]) * shape[1],
                             freq(shape[2]) * shape[2], indexing="ij")
    spectrum = rng.normal(size=shape) * np.exp(-(kx**2 + ky**2 + kz**2) / 4.0)
    field = np.real(np.fft.ifftn(spectrum))
    field = (field - field.min()) / np.ptp(field)
    result = percolation_sweep(field)
    rel = field - field.min()
    for k, barrier in enumerate(result.barriers_eV, start=1):
        assert np.isfinite(barrier)
        assert percolation_dimension(rel <= barrier).max() >= k
        assert percolation_dimension(rel < barrier).max() < k


def test_site_merge_energy_is_the_saddle():
    # Two wells at x = 1/4 and x = 3/4 separated by walls of 0.3 eV (at x = 1/2) and 0.5 eV
    # (at x = 0); high walls along y and z. The sites join at 0.3 eV and percolate (1D) at 0.5 eV.
    shape = (40, 8, 8)
    x, y, z = frac_grid(shape)
    wall = np.where(np.abs(x - 0.5) < 0.03, 0.3, 0.0) + np.where((x < 0.03) | (x > 0.97), 0.5, 0.0)
    energy = wall + 2.0 * ((y > 0.3) | (z > 0.3))
    sites = [np.ravel_multi_index((10, 1, 1), shape), np.ravel_multi_index((30, 1, 1), shape)]
    result = percolation_sweep(energy, sites)
    assert len(result.merges) == 1
    assert result.merges[0, 0] == pytest.approx(0.3)
    assert sorted(result.merges[0, 1:]) == [0.0, 1.0]
    assert result.barriers_eV[0] == pytest.approx(0.5)
    assert result.barriers_eV[1] == pytest.approx(2.0)
    energy_1d, _, rank = result.rank_events[0]
    assert (energy_1d, rank) == (pytest.approx(0.5), 1)


def test_percolation_dimension_of_slab_and_line():
    mask = np.zeros((10, 10, 10), dtype=bool)
    mask[:, :, 4] = True  # a plane spanning a and b
    assert percolation_dimension(mask).max() == 2
    mask[:] = False
    mask[:, 3, 3] = True  # a line along a
    assert percolation_dimension(mask).max() == 1
    mask[:] = False
    mask[2:5, 2:5, 2:5] = True
    assert percolation_dimension(mask).max() == 0
