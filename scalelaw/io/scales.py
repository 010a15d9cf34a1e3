"""Units of size columns in a generic table: tokens, parameters and FLOPs that cannot silently be wrong.

A column whose name states a scale (``tokens_b``, ``"tokens (B)"``, ``params_m``, ``model_size_b``) is
read in that scale, with a note; FLOPs named in PF-days (``pf_days``, ``pfdays``) are converted
(1 PF-day = 8.64e19 FLOPs).  A plainly named ``tokens`` or ``params`` column whose values are all below
1e4 stops the read with a message asking for ``tokens_unit=`` or ``params_unit=``; a ``flops`` column
whose values are all below 1e6 is read as PF-days when the table's 6 N D says so, and otherwise stops
with a message asking for ``flops_unit=``.

Examples
--------
>>> named_scale("tokens_b", "tokens"), named_scale("Model Size (M)", "params"), named_scale("pf_days", "flops")
('billions', 'millions', 'pf-days')
>>> named_scale("tokens", "tokens") is None
True
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from scalelaw.errors import InputError

#: Below this, a token or parameter count is not a plausible count of units.
SMALL = 1e4
#: Below this, a FLOPs count is not plausible for a training run (it may be PF-days).
SMALL_FLOPS = 1e6
#: FLOPs in one PF-day (1e15 FLOP/s for a day).
PF_DAY = 8.64e19
FACTORS = {"tokens": 1.0, "params": 1.0, "flops": 1.0, "thousands": 1e3, "millions": 1e6, "billions": 1e9,
           "trillions": 1e12, "pf-days": PF_DAY}
#: The units each role's ``<role>_unit=`` takes.
UNITS = {"tokens": ("auto", "tokens", "millions", "billions", "trillions"),
         "params": ("auto", "params", "millions", "billions"),
         "flops": ("auto", "flops", "pf-days")}
WORDS = {"tokens": "token counts", "params": "parameter counts", "flops": "FLOPs"}

_STEMS = {
    "tokens": r"(?:tokens?|d|traintokens|trainingtokens|ntokens|numtokens|datasize)",
    "params": r"(?:params?|parameters?|n|nparams|numparams|modelsize|paramcount|size|modelparams)",
}
_SCALE = {"k": "thousands", "thousands": "thousands", "m": "millions", "mn": "millions", "millions": "millions",
          "million": "millions", "b": "billions", "bn": "billions", "billions": "billions", "billion": "billions",
          "t": "trillions", "trillions": "trillions", "trillion": "trillions"}
_PF_DAYS = re.compile(r"^(?:(?:training|train|total)?(?:compute|flops?))?(?:in)?pfdays?$|^petaflopdays?$")


def _key(name: str) -> str:
    return re.sub(r"[\s_\-/]+", "", str(name)).lower()


def named_scale(column: str, role: str) -> str | None:
    """The unit a column's name states for a role (``'billions'``, ``'millions'``, ``'pf-days'``), or None."""
    key = _key(column)
    if role == "flops":
        return "pf-days" if _PF_DAYS.match(key) else None
    match = re.match(rf"^{_STEMS[role]}(?:in)?[(\[]?([a-z]+)[)\]]?$", key)
    unit = _SCALE.get(match.group(1)) if match else None
    return unit if unit in UNITS[role] else None


def scaled_source(columns: Iterable[str], role: str) -> tuple[str | None, str | None]:
    """``(column, unit)`` for a role: the role's own column (unit None: decided by value), or the first
    column whose name states a scale (``tokens_b`` -> billions)."""
    columns = list(columns)
    if role in columns:
        return role, None
    for column in columns:
        unit = named_scale(column, role)
        if unit is not None:
            return column, unit
    return None, None


def span(values: np.ndarray) -> str:
    return f"{np.min(values):g}..{np.max(values):g}"


def _stop(table, message: str, column: str) -> InputError:
    return table.error(message, column=column) if table is not None else InputError(message, column=column)


def check_unit(role: str, given: str) -> None:
    if given not in UNITS[role]:
        raise InputError(f"{role}_unit={given!r} is not one of {', '.join(UNITS[role])}")


def decide(role: str, values: np.ndarray, column: str, *, named: str | None, given: str = "auto",
           table=None, small_note: str = "too few for a training run") -> tuple[str, str | None]:
    """The unit of a tokens or params column and the note that says how it was decided (None: nothing).

    ``named`` is the unit the column's name states, ``given`` the ``<role>_unit=`` argument, ``table``
    the file read (named in the error).  Values all below 1e4 under a plain name stop the read.
    """
    check_unit(role, given)
    words, scale = WORDS[role], "billions" if role == "tokens" else "millions"
    if given != "auto":
        return given, (f"{words} in {column!r} read as {given} (x {FACTORS[given]:g})"
                       if FACTORS[given] != 1 else None)
    if named is not None:
        return named, (f"{words} in {column!r} read as {named} (x {FACTORS[named]:g}), as its name says; "
                       f"give {role}_unit={role} if they are {role}")
    if np.all(values < SMALL):
        raise _stop(table, f"the {words} {span(values)} are all below 1e4, {small_note}; give "
                           f"{role}_unit={scale} if they count {scale}, or {role}_unit={role}", column)
    return role, None


def decide_flops(values: np.ndarray, column: str, *, named: str | None, given: str = "auto",
                 expected: np.ndarray | None = None, table=None) -> tuple[str, str | None]:
    """The unit of a FLOPs column (``'flops'`` or ``'pf-days'``) and its note.

    Values all below 1e6 under a plain name are PF-days when ``expected`` (6 N D per row, FLOPs) is
    within 3x of them in PF-days and far from them in FLOPs; without ``expected``, or when it agrees
    with neither, the read stops asking for ``flops_unit=``.
    """
    check_unit("flops", given)
    if given == "pf-days":
        return "pf-days", f"FLOPs in {column!r} read as PF-days (x 8.64e19)"
    if given == "flops":
        return "flops", None
    if named == "pf-days":
        return "pf-days", (f"FLOPs in {column!r} read as PF-days (x 8.64e19), as its name says; "
                           "give flops_unit=flops if they are FLOPs")
    if not np.all(values < SMALL_FLOPS):
        return "flops", None
    if expected is not None:
        ratio = np.median(np.abs(np.log10(values * PF_DAY / expected)))
        if ratio < np.log10(3):
            return "pf-days", (f"FLOPs {span(values)} in {column!r} are all below 1e6 and match 6 N D as "
                               "PF-days: read as PF-days (x 8.64e19); give flops_unit=flops if they are FLOPs")
    raise _stop(table, f"the FLOPs {span(values)} are all below 1e6, too few for a training run; give "
                       "flops_unit=pf-days if they are PF-days, or flops_unit=flops", column)


def _numbers(frame: pd.DataFrame, column: str, table) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(frame[column]) and frame[column].notna().all():
        return frame[column].to_numpy(dtype=float)
    if table is not None:
        from scalelaw.io.table import Table, _numeric_column

        return _numeric_column(Table(frame, table.path, table.renamed), column).to_numpy(dtype=float)
    from scalelaw.io.units import parse_quantity

    try:
        return frame[column].map(parse_quantity).to_numpy(dtype=float)
    except ValueError as err:
        raise InputError(str(err), column=column) from err


def apply_units(frame: pd.DataFrame, *, tokens_unit: str = "auto", params_unit: str = "auto",
                flops_unit: str = "auto", table=None) -> tuple[pd.DataFrame, list[str]]:
    """``params``, ``tokens`` and ``flops`` of a numeric frame in units (parameters, tokens, FLOPs), taken
    from scaled columns when the plain ones are absent; returns the frame and the notes."""
    frame, notes = frame.copy(), []
    given = {"tokens": tokens_unit, "params": params_unit, "flops": flops_unit}
    for role in ("params", "tokens", "flops"):
        check_unit(role, given[role])
        column, named = scaled_source(frame.columns, role)
        if column is None:
            continue
        values = _numbers(frame, column, table)
        if np.any(values <= 0):
            at = int(np.flatnonzero(values <= 0)[0])
            message = f"{values[at]:g} is not a positive size; sizes must be > 0, fix or drop that row"
            if table is None:
                raise InputError(message, column=column, value=values[at])
            raise table.error(message, row=int(frame.index[at]), column=column, value=values[at])
        if role == "flops":
            expected = (6.0 * frame["params"] * frame["tokens"]).to_numpy(dtype=float) if {
                "params", "tokens"} <= set(frame.columns) else None
            unit, note = decide_flops(values, column, named=named, given=given[role], expected=expected,
                                      table=table)
        else:
            unit, note = decide(role, values, column, named=named, given=given[role], table=table)
        if column != role:
            frame = frame.drop(columns=[column])
        frame[role] = values * FACTORS[unit]
        if note:
            notes.append(note)
    return frame, notes
