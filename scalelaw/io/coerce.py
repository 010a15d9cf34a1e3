"""DataFrames given in Python, checked as a read file is: unit strings in numeric columns
(``"125M"``, ``"1.4T"``), and argument values that are numbers, unit strings or lists of them.

>>> coerce_numeric(pd.DataFrame({"params": ["125M", 7e9]}), ["params"]).frame["params"].tolist()
[125000000.0, 7000000000.0]
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from scalelaw.errors import InputError
from scalelaw.io.table import Table, _numeric_column
from scalelaw.io.units import parse_quantity


def as_table(data: Table | pd.DataFrame, name: str = "table") -> Table:
    """A :class:`Table` from a read file or a DataFrame (copied; rows numbered from 1)."""
    if isinstance(data, Table):
        return data
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"{name}: give a pandas DataFrame or a read table, not {type(data).__name__}")
    frame = data.copy()
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")
    return Table(frame, name)


def coerce_numeric(data: Table | pd.DataFrame, numeric: Iterable[str], *, positive: Iterable[str] = (),
                   allow_empty: Iterable[str] = (), name: str = "table") -> Table:
    """The table with ``numeric`` columns as floats: unit strings (``"125M"``, ``"1.4T"``) parsed,
    the same checks and errors as :func:`read_table` (empty, not a number, NaN/inf, not > 0).

    A DataFrame is copied; a column already of a numeric dtype is only checked.  Empty cells of
    the ``allow_empty`` columns become NaN (a diverged run's loss).
    """
    table = as_table(data, name)
    frame = table.frame.copy()
    table = Table(frame, table.path, table.renamed)
    allow_empty = set(allow_empty)
    for column in numeric:
        if column not in frame.columns:
            continue
        cells = frame[column]
        if cells.dtype.kind in "fiub" and (column in allow_empty or np.all(np.isfinite(cells.to_numpy(float)))):
            frame[column] = cells.astype(float)
            continue
        empty = cells.isna() | (cells.astype(str).str.strip() == "") if column in allow_empty else None
        if empty is None or not empty.any():
            frame[column] = _numeric_column(table, column)
            continue
        filled = Table(frame[~empty], table.path, table.renamed)
        values = pd.Series(np.nan, index=frame.index)
        values[~empty] = _numeric_column(filled, column)
        frame[column] = values
    for column in positive:
        if column in frame.columns:
            values = frame[column].to_numpy(dtype=float)
            bad = np.flatnonzero(values <= 0)
            if bad.size:
                raise table.error(f"{values[bad[0]]:g} is not a positive size; sizes must be > 0, "
                                  "fix or drop that row", row=int(frame.index[bad[0]]), column=column,
                                  value=values[bad[0]])
    return table


def quantities(values, name: str) -> np.ndarray:
    """A float array (at least 1-d, shape kept) from a number, a unit string (``"7B"``) or a list
    or array of them; ``name`` is the argument named in the error.

    >>> quantities(["7B", "70B", 1e11], "params").tolist()
    [7000000000.0, 70000000000.0, 100000000000.0]
    """
    if isinstance(values, (pd.Series, pd.Index)):
        values = values.to_numpy()
    array = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    if array.dtype.kind in "fiub":
        return np.atleast_1d(array.astype(float))
    out = np.empty(array.shape, dtype=float)
    for index, cell in np.ndenumerate(array):
        try:
            out[index] = parse_quantity(cell)
        except (ValueError, TypeError) as err:
            raise InputError(f"{name}={cell!r} is not a number; write it like 7e9 or 7B "
                             "(suffixes K, M, B, T, P)", value=cell) from err
    return np.atleast_1d(out)
