"""Atomic file writes and the per-step result cache that makes a local screen resumable.

jobflow's ``run_locally`` re-runs every job of a flow it is given. The screen therefore keys each
expensive step (ordered configurations, one relaxation, one BVSE landscape, one finished
candidate) by composition + the settings that change its result, and stores the result as JSON
written to a temporary file and moved into place with :func:`os.replace`. A process killed at any
instant leaves either the old file or the new one, never half a file, so a resumed run trusts
every file it finds.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from monty.json import MontyDecoder, MontyEncoder

from nasicon_workflows.fileio import apply_umask, atomic_write_text

__all__ = [
    "ResultCache",
    "as_mapping",
    "atomic_write_text",
    "canonical",
    "code_identity",
    "package_version",
    "safe_name",
    "settings_key",
]

logger = logging.getLogger(__name__)


def safe_name(formula: str) -> str:
    """A file-name-safe version of a formula (``Na3.4Zr1.8Mg0.2Si2PO12`` stays as is)."""
    return re.sub(r"[^A-Za-z0-9.]+", "_", formula)


#: Significant digits kept of every float before hashing: last-bit differences between CPUs and
#: BLAS builds (9.069999999999999 vs 9.07) must not change a cache key.
KEY_SIGNIFICANT_DIGITS = 10


def canonical(obj: Any) -> Any:
    """A JSON-ready copy of ``obj`` whose floats (also inside numpy arrays, pymatgen and pydantic
    objects) are rounded to :data:`KEY_SIGNIFICANT_DIGITS` significant digits, -0.0 made 0.0 and
    non-finite values spelled out, so that equal settings give equal text on every machine."""
    import math

    import numpy as np

    if isinstance(obj, (bool, str, type(None))):
        return obj
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        value = float(obj)
        if not math.isfinite(value):
            return repr(value)
        return float(f"{value:.{KEY_SIGNIFICANT_DIGITS}g}") + 0.0
    if isinstance(obj, np.ndarray):
        return canonical(obj.tolist())
    if isinstance(obj, Mapping):
        return {str(k): canonical(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, set, frozenset)):
        items = [canonical(v) for v in obj]
        return sorted(items, key=repr) if isinstance(obj, (set, frozenset)) else items
    if hasattr(obj, "model_dump"):
        return canonical(obj.model_dump())
    if hasattr(obj, "as_dict"):
        return canonical(obj.as_dict())
    return canonical(json.loads(json.dumps(obj, cls=MontyEncoder, default=str)))


def settings_key(*parts: Any) -> str:
    """A short stable hash of parts (composition, settings, structures...), floats rounded by
    :func:`canonical` so that the key is the same on every machine."""
    text = json.dumps(canonical(parts), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def package_version(distribution: str = "nasicon-workflows") -> str | None:
    """Installed version of a distribution (None when it is not installed)."""
    from importlib import metadata

    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def code_identity(relaxer: str | None = None) -> dict[str, Any]:
    """What, besides the settings, changes a cached result: the code and the model.

    Every cache key of the screen includes this, so a result computed by another package version,
    another force field or another version of the force field's model is never reused.

    Parameters
    ----------
    relaxer
        Relaxation engine (``"chgnet"``, ``"sevennet"``, ``"vasp"``, ``"none"``) or None for
        steps that do not depend on it.

    Returns
    -------
    dict
        ``package_version`` (nasicon-workflows), and with a relaxer ``relaxer`` and
        ``model_version``: the version of the force field's package (its weights ship with it),
        or atomate2's for VASP (which writes the inputs; the VASP binary is the cluster's).
    """
    identity: dict[str, Any] = {"package_version": package_version()}
    if relaxer is None:
        return identity
    key = relaxer.lower()
    identity["relaxer"] = key
    if key == "none":
        identity["model_version"] = None
    elif key == "vasp":
        identity["model_version"] = f"atomate2 {package_version('atomate2')}"
    else:
        from nasicon_workflows.relax.availability import FORCE_FIELDS

        spec = FORCE_FIELDS.get(key)
        package = spec.package if spec is not None else key
        identity["model_version"] = f"{package} {package_version(package)}"
    return identity


class ResultCache:
    """A folder of JSON results keyed by ``kind`` and a settings hash.

    Parameters
    ----------
    root
        Folder of the cache (created on first write).
    """

    def __init__(self, root: str | Path):
        self.root = Path(root)

    def path(self, kind: str, key: str) -> Path:
        """File holding the result ``kind``/``key``."""
        return self.root / kind / f"{key}.json"

    def get(self, kind: str, key: str) -> Any | None:
        """The cached result (monty-decoded), or None when absent or unreadable."""
        path = self.path(kind, key)
        if not path.exists():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"), cls=MontyDecoder)
        except (OSError, ValueError) as exc:
            # Atomic writes make this unexpected; recompute rather than trust a damaged file.
            logger.warning("Ignoring unreadable cache file %s (%s); recomputing.", path, exc)
            return None

    def put(self, kind: str, key: str, value: Any) -> Path:
        """Store ``value`` (monty-encoded JSON) atomically."""
        return atomic_write_text(self.path(kind, key), json.dumps(value, cls=MontyEncoder))

    @classmethod
    def from_dir(cls, root: str | Path | None) -> ResultCache | None:
        """A cache over ``root``, or None when caching is off."""
        return None if root is None else cls(root)


def as_mapping(obj: Any) -> Mapping:
    """A document as a mapping (pydantic model, MSONable or dict)."""
    if obj is None:
        return {}
    if isinstance(obj, Mapping):
        return obj
    if hasattr(obj, "model_dump"):
        return obj.model_dump()
    if hasattr(obj, "as_dict"):
        return obj.as_dict()
    return vars(obj)
