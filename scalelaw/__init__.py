"""scalelaw: fit scaling laws to training logs and turn them into decisions.

The public names are loaded on first use (PEP 562), so ``import scalelaw`` and the command line stay
fast: ``scalelaw.fit`` imports the engine (scipy, pandas) only when it is first looked up.
"""

from __future__ import annotations

import importlib

from scalelaw._version import __version__ as __version__

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "ArtifactError": "scalelaw.errors",
    "ArtifactWarning": "scalelaw.errors",
    "CATALOGUE": "scalelaw.laws",
    "DegeneracyWarning": "scalelaw.errors",
    "ExtrapolationWarning": "scalelaw.errors",
    "FitError": "scalelaw.errors",
    "FitGroup": "scalelaw.result",
    "FitResult": "scalelaw.result",
    "InputError": "scalelaw.errors",
    "Law": "scalelaw.laws",
    "LawError": "scalelaw.errors",
    "Param": "scalelaw.laws",
    "Result": "scalelaw.protocol",
    "ScalelawError": "scalelaw.errors",
    "fit": "scalelaw.engine",
    "get_law": "scalelaw.laws",
    "load": "scalelaw.protocol",
    "validate": "scalelaw.engine",
}

__all__ = sorted([*_EXPORTS, "__version__"])
# submodules reachable as attributes: scalelaw.data.path("loss/porian_isoflop_points.csv")
_SUBMODULES = ("data",)


def __getattr__(name: str):
    """Import the module of a public name on first use and cache the name here."""
    if name in _SUBMODULES:
        return importlib.import_module(f"scalelaw.{name}")
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'scalelaw' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
