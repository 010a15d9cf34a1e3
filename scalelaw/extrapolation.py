"""Extrapolation warnings: where a prediction leaves the ranges a law was fitted on, and by how much.

Every prediction or derived quantity computed from a fit goes through :func:`check` (ranges and
values) or :func:`for_fit` (a fit's ``data["ranges"]``), which return sentences that state the
factor, e.g. ``"params = 70B is 4.3x the largest fitted (16.2B)"``; :func:`emit` raises them as
:class:`scalelaw.ExtrapolationWarning`.  Results carry the same sentences in ``.warnings``.

>>> check({"params": [5.7e7, 1.62e10]}, {"params": 7e10})
('params = 70B is 4.3x the largest fitted (16.2B)',)
>>> check({"params": [5.7e7, 1.62e10]}, {"params": 1e9})
()
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping

import numpy as np

from scalelaw.errors import ExtrapolationWarning

#: relative slack at the range ends, so a fitted value itself never warns
TOLERANCE = 1e-6


def number(value: float) -> str:
    """A number for people: 3 significant digits, K/M/B/T suffixes for large magnitudes."""
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    for suffix, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if scale <= abs(value) < 1e3 * scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.3g}".replace("e+", "e")


def factor(ratio: float) -> str:
    """A ratio to two significant digits with thousands separators: ``4.3x``, ``1,900x``."""
    if ratio >= 1e6:
        return f"{ratio:.2g}x".replace("e+", "e")
    if ratio < 9.95:
        return f"{ratio:.1f}x"
    rounded = float(f"{ratio:.2g}")
    return f"{rounded:,.0f}x"


def distance(value: float, low: float, high: float) -> str | None:
    """How far a positive value lies outside ``[low, high]``: ``"4.3x the largest"``,
    ``"10x below the smallest"``; None inside (or when a ratio does not apply)."""
    value, low, high = float(value), float(low), float(high)
    if not all(map(math.isfinite, (value, low, high))):
        return None
    if value > high * (1 + TOLERANCE) and high > 0:
        return f"{factor(value / high)} the largest"
    if value < low * (1 - TOLERANCE) and value > 0:
        return f"{factor(low / value)} below the smallest"
    return None


def beyond(name: str, value: float, low: float, high: float, *, of: str = "fitted") -> str | None:
    """The sentence for one value outside ``[low, high]``, or None inside.

    ``of`` says what the range is of: ``"... is 4.3x the largest fitted (16.2B)"``.
    """
    value, low, high = float(value), float(low), float(high)
    if not all(map(math.isfinite, (value, low, high))):
        return None
    if value > high * (1 + TOLERANCE) and high > 0:
        return f"{name} = {number(value)} is {factor(value / high)} the largest {of} ({number(high)})"
    if value < low * (1 - TOLERANCE) and value > 0 and low > 0:
        return f"{name} = {number(value)} is {factor(low / value)} below the smallest {of} ({number(low)})"
    if (value > high or value < low) and not (value > 0 and low > 0):
        return f"{name} = {number(value)} is outside the {of} range {number(low)}..{number(high)}"
    return None


def check(ranges: Mapping[str, Iterable[float]], values: Mapping[str, object], *,
          names: Mapping[str, str] | None = None, of: str = "fitted") -> tuple[str, ...]:
    """Warnings for ``values`` (name -> number or array) outside ``ranges`` (name -> [min, max]).

    ``names`` relabels a key in the sentence (e.g. ``{"params": "N_opt"}``); an array warns once,
    at its farthest value, saying how many of its values are outside.  Keys without a range are
    skipped.
    """
    out = []
    for key, given in values.items():
        if key not in ranges or given is None:
            continue
        low, high = (float(v) for v in ranges[key])
        array = np.ravel(np.asarray(given, dtype=float))
        array = array[np.isfinite(array)]
        if not array.size:
            continue
        outside = (array > high * (1 + TOLERANCE)) | (array < low * (1 - TOLERANCE))
        if not outside.any():
            continue
        with np.errstate(all="ignore"):
            far = np.where(array > high, array / high, low / array) if low > 0 and high > 0 else np.abs(array)
        worst = array[int(np.nanargmax(np.where(outside, far, -np.inf)))]
        text = beyond((names or {}).get(key, key), worst, low, high, of=of)
        if text is not None:
            if array.size > 1:
                text += f" ({int(outside.sum())} of {array.size} values outside)"
            out.append(text)
    return tuple(out)


def for_fit(fit, inputs: Mapping[str, object], derived: Mapping[str, object] | None = None, *,
            names: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Warnings for a fit's inputs (by column or symbol) and derived quantities (by column).

    ``fit`` is a :class:`~scalelaw.result.FitResult`; its ``data["ranges"]`` holds column ->
    [min, max].  ``derived`` are quantities computed from the fit and named by the column they
    are compared with (e.g. ``{"params": n_opt}``); ``names`` labels them (``{"params": "N_opt"}``).
    """
    ranges = fit.data.get("ranges", {}) or {}
    by_column = {}
    for key, value in inputs.items():
        column = fit.law.column(key) if key in getattr(fit.law, "inputs", ()) else key
        by_column[column] = value
    out = check(ranges, by_column)
    if derived:
        out += check(ranges, derived, names=names)
    return out


def emit(messages: Iterable[str], stacklevel: int = 3) -> tuple[str, ...]:
    """Raise each message as an :class:`~scalelaw.ExtrapolationWarning`; return them."""
    messages = tuple(messages)
    for text in messages:
        warnings.warn(text, ExtrapolationWarning, stacklevel=stacklevel)
    return messages
