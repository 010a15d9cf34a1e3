"""scalelaw: fit scaling laws to training logs and turn them into decisions."""

from scalelaw._version import __version__
from scalelaw.engine import fit, validate
from scalelaw.errors import ArtifactError, FitError, InputError, LawError, ScalelawError
from scalelaw.laws import CATALOGUE, Law, Param, get_law
from scalelaw.result import FitResult

__all__ = [
    "CATALOGUE",
    "ArtifactError",
    "FitError",
    "FitResult",
    "InputError",
    "Law",
    "LawError",
    "Param",
    "ScalelawError",
    "__version__",
    "fit",
    "get_law",
    "validate",
]
