"""Numbers with unit suffixes: ``"7B"``, ``"1.4T"``, ``"350M"``, ``"6e23"``.

>>> parse_quantity("1.4T")
1400000000000.0
>>> parse_quantity("350M")
350000000.0
"""

from __future__ import annotations

import math
import re

import numpy as np

SUFFIXES = {"k": 1e3, "K": 1e3, "M": 1e6, "B": 1e9, "G": 1e9, "T": 1e12, "P": 1e15}
_QUANTITY = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([kKMBGTP]?)\s*$")


def parse_quantity(value) -> float:
    """A number from ``7e9``, ``"7B"``, ``"1.4T"``, ``"350M"``, ``"12k"`` (K/M/B=G/T/P).

    A text beyond the largest float (``"1e999"``, ``"1e300T"``) gives inf, which callers refuse as not
    finite; an integer beyond it (a JSON ``10**400``) cannot be a float and raises.

    Raises
    ------
    ValueError
        When the text is not a number with an optional suffix, or an integer is too large for a float.
    """
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            raise ValueError(f"a whole number of {len(str(abs(int(value))))} digits is beyond the largest "
                             "number (about 1.8e308); fix the cell") from None
    match = _QUANTITY.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a number; write it like 7e9 or 7B (suffixes K, M, B, T, P)")
    number, suffix = match.groups()
    return float(number) * (SUFFIXES[suffix] if suffix else 1.0)


def try_quantity(value) -> float | None:
    """:func:`parse_quantity`, or None when the value is not a number (an empty cell, a word)."""
    try:
        return parse_quantity(value)
    except ValueError:
        return None


def format_quantity(value, digits: int = 4) -> str:
    """A number for people: ``digits`` significant digits, with M/B/T for large magnitudes (``"70.00B"``);
    ``"-"`` for None or NaN."""
    if value is None:
        return "-"
    value = float(value)
    if not math.isfinite(value):
        return "-" if math.isnan(value) else str(value)
    for suffix, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6)):
        if abs(value) >= scale and abs(value) < 1e3 * scale:
            return f"{value / scale:#.{digits}g}".rstrip(".") + suffix
    if abs(value) >= 1e15 or (value != 0 and abs(value) < 1e-3):
        return f"{value:.{digits - 1}e}"
    return f"{value:#.{digits}g}".rstrip(".")
