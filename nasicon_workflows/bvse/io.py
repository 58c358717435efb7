"""Volumetric files of a BVSE landscape that VESTA opens: Gaussian cube and .grd."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nasicon_workflows.bvse.engine import BVSELandscape

__all__ = ["periodic_energies", "write_cube", "write_grd"]


def periodic_energies(landscape: BVSELandscape, relative: bool = True) -> np.ndarray:
    """Energies on the periodic grid (points k/n_i), relative to the minimum by default.

    A "bvlain"-convention grid repeats the plane at fractional coordinate 1; it is dropped here,
    since cube and .grd files are periodic grids.
    """
    data = landscape.energies_eV
    if landscape.grid_convention == "bvlain":
        data = data[:-1, :-1, :-1]
    return data - landscape.energies_eV.min() if relative else data.copy()


def _with_suffix(path: str | Path, suffix: str) -> Path:
    """``path`` with ``suffix`` appended unless it already ends so (``map.1`` -> ``map.1.cube``)."""
    path = Path(path)
    return path if path.suffix == suffix else path.with_name(path.name + suffix)


def write_cube(landscape: BVSELandscape, path: str | Path, relative: bool = True) -> Path:
    """Write the landscape as a Gaussian cube file (atoms in Bohr, energies in eV).

    Parameters
    ----------
    landscape
        The BVSE landscape.
    path
        Output file; ".cube" is appended if missing.
    relative
        Energies relative to the global minimum (default) or absolute.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    from ase.io.cube import write_cube as ase_write_cube
    from pymatgen.io.ase import AseAtomsAdaptor

    path = _with_suffix(path, ".cube")
    atoms = AseAtomsAdaptor.get_atoms(_plain(landscape.structure))
    with path.open("w") as handle:
        ase_write_cube(handle, atoms, data=periodic_energies(landscape, relative),
                       comment=f"BVSE of {landscape.ion.symbol}+ in eV (nasicon-workflows)")
    return path


def _plain(structure):
    plain = structure.copy()
    plain.remove_oxidation_states()
    return plain


def write_grd(landscape: BVSELandscape, path: str | Path, relative: bool = True) -> Path:
    """Write the landscape as a VESTA .grd file.

    Layout (VESTA "general grid" text format): a title line, the cell parameters
    a b c alpha beta gamma (Å, degrees), the numbers of voxels along a, b and c, then one value per
    line with the a index running fastest (VESTA's volumetric convention, as in CHGCAR).

    Parameters
    ----------
    landscape
        The BVSE landscape.
    path
        Output file; ".grd" is appended if missing.
    relative
        Energies relative to the global minimum (default) or absolute.

    Returns
    -------
    pathlib.Path
    """
    path = _with_suffix(path, ".grd")
    data = periodic_energies(landscape, relative)
    lattice = landscape.structure.lattice
    with path.open("w") as handle:
        handle.write(f"BVSE of {landscape.ion.symbol}+ in eV, "
                     f"{landscape.structure.composition.reduced_formula} (nasicon-workflows)\n")
        handle.write(" ".join(f"{x:.6f}" for x in (*lattice.abc, *lattice.angles)) + "\n")
        handle.write(" ".join(str(n) for n in data.shape) + "\n")
        np.savetxt(handle, data.ravel(order="F"), fmt="%.6f")
    return path
