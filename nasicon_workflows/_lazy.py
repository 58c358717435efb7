"""Lazy public names of a package (PEP 562 module ``__getattr__``).

A package that re-exports names from heavy submodules (atomate2's VASP makers pull in emmet,
about 5 s of imports) lists them here instead of importing them, so that importing the package,
or one light submodule of it, costs only what is used: the command line's ``--help`` and every
jobflow-remote job process (which imports the module of its function) stay fast.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping

__all__ = ["lazy_exports"]


def lazy_exports(
    package: str, names: Mapping[str, str]
) -> tuple[list[str], Callable[[str], object], Callable[[], list[str]]]:
    """``__all__``, ``__getattr__`` and ``__dir__`` of a package whose public names live in
    submodules.

    Parameters
    ----------
    package
        Dotted name of the package (its ``__name__``).
    names
        Public name -> submodule (relative to ``package``) that defines it, in the order of
        ``__all__``.

    Returns
    -------
    tuple
        ``(__all__, __getattr__, __dir__)`` to assign at module level. A name is imported from
        its submodule on first access and cached in the package's namespace.
    """

    def __getattr__(name: str) -> object:
        submodule = names.get(name)
        if submodule is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{submodule}"), name)
        setattr(importlib.import_module(package), name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*names, *vars(importlib.import_module(package))})

    return list(names), __getattr__, __dir__
