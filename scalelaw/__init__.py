"""scalelaw: fit scaling laws to training logs and turn them into decisions."""

from scalelaw._version import __version__
from scalelaw.engine import fit, validate
from scalelaw.errors import ArtifactError, FitError, InputError, LawError, ScalelawError
from scalelaw.laws import CATALOGUE, Law, Param, get_law
from scalelaw.protocol import Result, load
from scalelaw.result import FitGroup, FitResult

__all__ = [
    "CATALOGUE",
    "ArtifactError",
    "FitError",
    "FitGroup",
    "FitResult",
    "InputError",
    "Law",
    "LawError",
    "Param",
    "Result",
    "ScalelawError",
    "__version__",
    "fit",
    "get_law",
    "load",
    "validate",
]
