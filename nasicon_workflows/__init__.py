"""nasicon-workflows: screening of entropy-stabilised NASICON solid electrolytes.

Stages: composition -> descriptors -> synthesizability gate -> structures -> relaxation -> BVSE ->
ranking. Source paper: Zuo et al., Energy Environ. Sci. 2026, 19, 860 (DOI 10.1039/d5ee06594a).
"""

from nasicon_workflows.composition import NasiconComposition
from nasicon_workflows.descriptors import compute_descriptors

__version__ = "0.1.0"

__all__ = ["NasiconComposition", "__version__", "compute_descriptors"]
