"""Thermodynamic stability of NASICON compositions: DFT data and an E_hull(1000 K) regressor.

Typical use::

    from nasicon_workflows.stability import load_default_stability_model
    model = load_default_stability_model()
    model.predict(["Na3Zr2Si2PO12", "NaZr2(PO4)3"])   # meV/atom

Data: Ouyang et al., Nat. Commun. 2021, 12, 5752 (DOI 10.1038/s41467-021-26006-3), MIT licence.
"""

from __future__ import annotations

from nasicon_workflows.stability.data import (
    STABILITY_CITATION,
    RejectedRow,
    StabilityData,
    load_stability_data,
    stability_data_sha256,
)
from nasicon_workflows.stability.model import (
    STABILITY_FEATURES,
    StabilityModel,
    load_default_stability_model,
    stability_feature_arrays,
    train_stability_model,
)

__all__ = [
    "STABILITY_CITATION",
    "STABILITY_FEATURES",
    "RejectedRow",
    "StabilityData",
    "StabilityModel",
    "load_default_stability_model",
    "load_stability_data",
    "stability_data_sha256",
    "stability_feature_arrays",
    "train_stability_model",
]
