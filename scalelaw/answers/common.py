"""What every answer shares: its shape and the checks of inputs that are not sizes."""

from __future__ import annotations

import math
from typing import NamedTuple

from scalelaw.errors import InputError
from scalelaw.io import values


class Answer(NamedTuple):
    """A JSON-ready ``payload`` and the ``result`` it was read from (for tables, artifacts and figures)."""

    payload: dict
    result: object = None


def flag(name: str, value: object) -> bool:
    """A boolean input (``moe=``, ``maximize=``): true or false, nothing else."""
    if not isinstance(value, bool):
        raise InputError(f"{name}: give true or false, not {value!r}", field=name.rstrip("="))
    return value


def integer(name: str, value: object, *, low: int = 0) -> int:
    """A whole number >= ``low`` (``problems=``, ``bootstrap=``, ``seed=``)."""
    number = values.number(name, value, positive=False)
    if not math.isfinite(number) or number != round(number) or number < low:
        raise InputError(f"{name}: {value!r} must be a whole number >= {low}", field=name.rstrip("="))
    return int(number)


def real(name: str, value: object, *, positive: bool = False) -> float | None:
    """A number (units allowed), or None when not given."""
    return None if value is None else values.number(name, value, positive=positive)
