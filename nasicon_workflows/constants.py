"""Physical constants and the framework limits that every stage shares (one home for each).

Sources
-------
* Boltzmann constant, elementary charge, Faraday and gas constants: CODATA 2018 exact values.
* Na sites per formula unit: the NASICON framework Na1 (6b) + Na2 (18e) sites of the R-3c cell
  (Hagman & Kierkegaard, *Acta Chem. Scand.* 1968, **22**, 1822) give 1 + 3 = 4 Na sites per
  formula unit A_xM2(XO4)3, so 0 <= Na <= 4 (Na4Zr2Si3O12 is the filled end member).
* Entropy classes (M-site configurational entropy, units of R): low < 1.0 <= medium < 1.5 <= high,
  the convention of Zuo et al., *Energy Environ. Sci.* 2026, **19**, 860.
"""

from __future__ import annotations

__all__ = [
    "BOLTZMANN_eV_PER_K",
    "ELEMENTARY_CHARGE_C",
    "ENTROPY_CLASS_BOUNDS",
    "FARADAY_C_PER_MOL",
    "GAS_CONSTANT_J_PER_MOL_K",
    "NA_SITES_PER_FU",
]

#: Boltzmann constant k_B in eV/K (CODATA 2018, exact).
BOLTZMANN_eV_PER_K = 8.617333262e-5
#: Elementary charge in C (CODATA 2018, exact).
ELEMENTARY_CHARGE_C = 1.602176634e-19
#: Faraday constant in C/mol (CODATA 2018, exact).
FARADAY_C_PER_MOL = 96485.33212
#: Molar gas constant in J/(mol K) (CODATA 2018, exact).
GAS_CONSTANT_J_PER_MOL_K = 8.314462618

#: Na sites per NASICON formula unit (Na1 + 3 Na2): the physical upper limit of the Na content.
NA_SITES_PER_FU = 4.0

#: Entropy-class bounds of the M-site entropy in units of R: low < 1.0 <= medium < 1.5 <= high.
ENTROPY_CLASS_BOUNDS = (1.0, 1.5)
