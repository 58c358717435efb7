"""Write the mock VASP reference folders of tests/test_relax_vasp.py (run once, by hand).

NOTHING HERE COMES FROM VASP. The "outputs" (vasprun.xml, OUTCAR, CONTCAR) are written by this
script from a CHGNet relaxation (chgnet 0.3.0 weights) of the input cell, in just enough of the
VASP file formats for pymatgen/emmet to parse them. They exercise the plumbing of the VASP flow
(input writing, input checks, restart chaining, output parsing, documents), never VASP's physics.

    .venv/bin/python tests/test_data/vasp/make_mock_outputs.py

The "inputs" folders are what NasiconRelaxSetGenerator writes (POTCAR.spec, no licensed POTCARs).
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
from pymatgen.core import Structure
from pymatgen.io.vasp import Incar, Kpoints, Poscar

HERE = Path(__file__).parent
FLOW_DIR = HERE / "ME1-NZSP_double_relax"
INPUT_STRUCTURE = HERE / "ME1-NZSP_ordered.POSCAR"


def _v(values, fmt: str = "{:16.8f}") -> str:
    return "<v>" + " ".join(fmt.format(float(x)) for x in values) + " </v>"


def _structure_xml(structure: Structure, name: str | None = None) -> str:
    head = f'<structure name="{name}" >' if name else "<structure>"
    lattice = structure.lattice
    rows = [head, "<crystal>", '<varray name="basis" >']
    rows += [_v(vec) for vec in lattice.matrix]
    rows += ["</varray>", f'<i name="volume">{lattice.volume:16.8f} </i>', '<varray name="rec_basis" >']
    rows += [_v(vec) for vec in lattice.reciprocal_lattice_crystallographic.matrix]
    rows += ["</varray>", "</crystal>", '<varray name="positions" >']
    rows += [_v(site.frac_coords) for site in structure]
    rows += ["</varray>", "</structure>"]
    return "\n".join(rows)


def _energy_xml(energy: float) -> str:
    return (
        f'<energy><i name="e_fr_energy">{energy:16.8f} </i>'
        f'<i name="e_wo_entrp">{energy:16.8f} </i><i name="e_0_energy">{energy:16.8f} </i></energy>'
    )


def _value_xml(key: str, value) -> str:
    if isinstance(value, bool):
        return f'<i type="logical" name="{key}"> {"T" if value else "F"}  </i>'
    if isinstance(value, int):
        return f'<i type="int" name="{key}">{value:6d}</i>'
    if isinstance(value, float):
        return f'<i name="{key}">{value:16.8f}</i>'
    if isinstance(value, list):
        return f'<v name="{key}">' + " ".join(f"{float(x):12.8f}" for x in value) + "</v>"
    return f'<i type="string" name="{key}">{escape(str(value))}</i>'


#: PLACEHOLDER band energies (eV) and occupations at Gamma, not computed by anything: pymatgen
#: needs eigenvalues and a Fermi level to restart the second relaxation from the first. They
#: describe a 5 eV gap insulator so that the restart keeps Gaussian smearing.
_PLACEHOLDER_BANDS = ((-2.0, 1.0), (-1.0, 1.0), (4.0, 0.0), (5.0, 0.0))


def _placeholder_eigenvalues_xml(ispin: int) -> list[str]:
    rows = ["<eigenvalues>", "<array>", '<dimension dim="1">band</dimension>',
            '<dimension dim="2">kpoint</dimension>', '<dimension dim="3">spin</dimension>',
            "<field>eigene</field>", "<field>occ</field>", "<set>"]
    for spin in range(1, ispin + 1):
        rows += [f'<set comment="spin {spin}">', '<set comment="kpoint 1">']
        rows += [f"<r>{e:10.4f} {occ:8.4f} </r>" for e, occ in _PLACEHOLDER_BANDS]
        rows += ["</set>", "</set>"]
    rows += ["</set>", "</array>", "</eigenvalues>",
             '<dos><i name="efermi">      0.00000000 </i></dos>']
    return rows


def write_vasprun(path: Path, incar: Incar, kpoints: Kpoints, potcar_symbols: list[str],
                  steps: list[dict]) -> None:
    """Write a minimal vasprun.xml with one <calculation> per ionic step."""
    first = steps[0]["structure"]
    symbols = [site.specie.symbol for site in first]
    types = list(dict.fromkeys(symbols))
    parameters = {
        "PREC": "accurate", "ENCUT": float(incar["ENCUT"]), "EDIFF": float(incar["EDIFF"]),
        "EDIFFG": float(incar["EDIFFG"]), "ISPIN": int(incar.get("ISPIN", 1)),
        "ISMEAR": int(incar["ISMEAR"]), "SIGMA": float(incar["SIGMA"]), "NELM": int(incar["NELM"]),
        "NSW": int(incar["NSW"]), "IBRION": int(incar["IBRION"]), "ISIF": int(incar["ISIF"]),
        "LORBIT": 0, "GGA": "PE", "LASPH": True, "LDAU": False, "LHFCALC": False,
        "LEPSILON": False, "LOPTICS": False, "LCALCEPS": False, "LSORBIT": False,
        "LNONCOLLINEAR": False, "METAGGA": "--", "NBANDS": 400, "NELECT": 600.0,
        "KSPACING": 0.5, "LREAL": False,
    }
    out = ['<?xml version="1.0" encoding="ISO-8859-1"?>', "<modeling>", "<generator>",
           '<i name="program" type="string">vasp </i>',
           '<i name="version" type="string">6.4.2  </i>',
           '<i name="subversion" type="string">MOCK: written by make_mock_outputs.py from CHGNet</i>',
           '<i name="platform" type="string">mock </i>',
           '<i name="date" type="string">2026 11 22 </i>',
           '<i name="time" type="string">00:00:00 </i>', "</generator>", "<incar>"]
    out += [_value_xml(k, v) for k, v in incar.items() if not isinstance(v, dict)]
    out += ["</incar>", "<kpoints>", '<generation param="Gamma">',
            '<v type="int" name="divisions">' + " ".join(str(int(k)) for k in kpoints.kpts[0]) + " </v>",
            '<v name="usershift">0.0 0.0 0.0 </v>', "</generation>",
            '<varray name="kpointlist" >', _v([0, 0, 0]), "</varray>",
            '<varray name="weights" >', _v([1.0]), "</varray>", "</kpoints>", "<parameters>"]
    out += [_value_xml(k, v) for k, v in parameters.items()]
    out += ["</parameters>", "<atominfo>", f"<atoms>{len(first):8d} </atoms>",
            f"<types>{len(types):8d} </types>", '<array name="atoms" >',
            '<dimension dim="1">ion</dimension>', '<field type="string">element</field>',
            '<field type="int">atomtype</field>', "<set>"]
    out += [f"<rc><c>{s:2s}</c><c>{types.index(s) + 1:4d}</c></rc>" for s in symbols]
    out += ["</set>", "</array>", '<array name="atomtypes" >', '<dimension dim="1">type</dimension>',
            '<field type="int">atomspertype</field>', '<field type="string">element</field>',
            "<field>mass</field>", "<field>valence</field>",
            '<field type="string">pseudopotential</field>', "<set>"]
    for t, psp in zip(types, potcar_symbols, strict=True):
        mass = float(first.composition.elements[[e.symbol for e in first.composition.elements].index(t)].atomic_mass)
        out.append(f"<rc><c>{symbols.count(t):4d}</c><c>{t:2s}</c><c>{mass:16.8f}</c>"
                   f"<c>{1.0:16.8f}</c><c>  PAW_PBE {psp} MOCK</c></rc>")
    out += ["</set>", "</array>", "</atominfo>", _structure_xml(first, "initialpos")]
    for step in steps:
        out += ["<calculation>", "<scstep>", _energy_xml(step["energy"]), "</scstep>",
                _structure_xml(step["structure"]), '<varray name="forces" >']
        out += [_v(f) for f in step["forces"]]
        out += ["</varray>", '<varray name="stress" >']
        out += [_v(row) for row in step["stress_kbar"]]
        out += ["</varray>", _energy_xml(step["energy"])]
        if step is steps[-1]:
            out += _placeholder_eigenvalues_xml(ispin=int(incar.get("ISPIN", 1)))
        out += ["</calculation>"]
    out += [_structure_xml(steps[-1]["structure"], "finalpos"), "</modeling>"]
    path.write_text("\n".join(out) + "\n")


def write_outcar(path: Path, steps: list[dict]) -> None:
    """A minimal OUTCAR: header, final energy, timing (what pymatgen's Outcar reads)."""
    final = steps[-1]
    path.write_text(
        " vasp.6.4.2 MOCK (written by make_mock_outputs.py from a CHGNet relaxation)\n"
        "   number of dos      NEDOS =    301   number of ions     NIONS =    "
        f"{len(final['structure'])}\n"
        "   number of bands    NBANDS=    400   (PLACEHOLDER)\n"
        "   total plane-waves  NPLWV = ******\n"
        "   IBRION =      2    ionic relax: 0-MD 1-quasi-New 2-CG\n"
        " E-fermi :   0.0000     XC(G=0):  -0.0000     alpha+bet : -0.0000   (PLACEHOLDER)\n"
        " number of electron     600.0000000 magnetization       0.0000000   (PLACEHOLDER)\n"
        " total drift:     " + " ".join(f"{x:12.6f}" for x in np.sum(final["forces"], axis=0))
        + "\n"
        f"  free  energy   TOTEN  = {final['energy']:18.8f} eV\n"
        f"  energy  without entropy= {final['energy']:18.8f}  energy(sigma->0) = "
        f"{final['energy']:18.8f}\n\n"
        " General timing and accounting informations for this job:\n"
        " ========================================================\n\n"
        "                  Total CPU time used (sec):        0.000\n"
        "                            User time (sec):        0.000\n"
        "                          System time (sec):        0.000\n"
        "                         Elapsed time (sec):        0.000\n\n"
        "                   Maximum memory used (kb):            0.\n"
        "                   Average memory used (kb):          N/A\n\n"
        "                          Minor page faults:            0\n"
        "                          Major page faults:            0\n"
        " Voluntary context switches:            0\n"
    )


def _full_stress(stress) -> np.ndarray:
    """3x3 tensor from a 3x3 or Voigt (xx, yy, zz, yz, xz, xy) stress."""
    s = np.asarray(stress, dtype=float)
    if s.shape == (3, 3):
        return s
    xx, yy, zz, yz, xz, xy = s
    return np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])


def chgnet_steps(structure: Structure, fmax: float, keep: int = 3) -> list[dict]:
    """CHGNet cell relaxation; returns the first and last ``keep`` - 1 ionic steps."""
    from chgnet.model import StructOptimizer

    result = StructOptimizer().relax(structure, fmax=fmax, relax_cell=True, verbose=False)
    traj = result["trajectory"]
    n = len(traj.energies)
    picks = sorted({0, *range(max(n - keep + 1, 1), n)})
    steps = []
    for i in picks:
        s = Structure(traj.cells[i], [site.specie for site in structure], traj.atom_positions[i],
                      coords_are_cartesian=True)
        steps.append({
            "structure": s,
            "energy": float(traj.energies[i]),
            "forces": np.asarray(traj.forces[i]),
            # CHGNet's trajectory holds ASE stresses (eV/Å^3, tensile positive); VASP prints kbar
            # with the opposite sign: 1 eV/Å^3 = 1602.1766 kbar.
            "stress_kbar": -1602.1766208 * _full_stress(traj.stresses[i]),
        })
    return steps


def write_reference(step_dir: Path, structure: Structure, fmax: float) -> Structure:
    """Inputs from the generator, outputs from CHGNet; returns the relaxed structure."""
    from nasicon_workflows.relax.vasp import NasiconRelaxSetGenerator, write_vasp_inputs

    inputs = step_dir / "inputs"
    outputs = step_dir / "outputs"
    shutil.rmtree(step_dir, ignore_errors=True)
    write_vasp_inputs(structure, inputs, NasiconRelaxSetGenerator())
    outputs.mkdir(parents=True)
    for f in inputs.iterdir():
        shutil.copy(f, outputs / f.name)
    poscar = Poscar.from_file(inputs / "POSCAR")
    steps = chgnet_steps(poscar.structure, fmax)
    write_vasprun(outputs / "vasprun.xml", Incar.from_file(inputs / "INCAR"),
                  Kpoints.from_file(inputs / "KPOINTS"),
                  (inputs / "POTCAR.spec").read_text().split(), steps)
    write_outcar(outputs / "OUTCAR", steps)
    Poscar(steps[-1]["structure"]).write_file(outputs / "CONTCAR")
    return steps[-1]["structure"]


def main() -> int:
    import torch

    torch.set_num_threads(1)
    structure = Poscar.from_file(INPUT_STRUCTURE).structure
    relaxed = write_reference(FLOW_DIR / "relax_1", structure, fmax=0.05)
    write_reference(FLOW_DIR / "relax_2", relaxed, fmax=0.03)
    for path in FLOW_DIR.rglob("*"):
        if path.is_file() and path.name in ("vasprun.xml", "OUTCAR"):
            import gzip

            path.with_suffix(path.suffix + ".gz").write_bytes(gzip.compress(path.read_bytes(), mtime=0))
            path.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
