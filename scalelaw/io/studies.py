"""Studies that hide in a column: a non-numeric column whose values each cover several of a fit's sizes.

One file can hold two studies side by side (two loss conditions, two datasets); fitted as one law,
they give a law of neither.  A candidate column is non-numeric, not a known id, name or state column,
and not unique per row; it hides studies when it takes two or more values and each value's rows span
two or more of the fit's sizes.

Examples
--------
>>> import pandas as pd
>>> runs = pd.DataFrame({"params": [1e8, 1e9, 1e8, 1e9], "condition": ["a", "a", "b", "b"]})
>>> hidden(runs, runs["params"])
{'condition': {'a': 2, 'b': 2}}
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pandas as pd

from scalelaw.io.units import parse_quantity

#: Names (compared ignoring case, spaces, '-', '_') of non-numeric columns that identify a run or its
#: status, not a study.
IGNORED = frozenset(
    {"name", "runname", "run", "runid", "id", "expname", "experiment", "state", "status", "notes",
     "tags", "user", "created", "createdat", "updated", "updatedat", "host", "hostname", "commit",
     "sweep", "path", "url", "runtime", "date", "time", "timestamp"}
)


def key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", str(name)).lower()


def numeric(values: pd.Series) -> bool:
    """Whether every non-empty cell is a number (unit suffixes allowed)."""
    if pd.api.types.is_numeric_dtype(values):
        return True
    for cell in values:
        text = str(cell).strip()
        if text and text.lower() not in ("nan", "none", "null"):
            try:
                parse_quantity(text)
            except ValueError:
                return False
    return True


def candidates(frame: pd.DataFrame, reserved=()) -> list[str]:
    """The non-numeric columns, not ignored or reserved, whose every value repeats."""
    out = []
    for column in frame.columns:
        if column in reserved or key(column) in IGNORED or numeric(frame[column]):
            continue
        counts = frame[column].astype(str).str.strip().value_counts()
        if len(counts) > 1 and counts.min() > 1:
            out.append(column)
    return out


def spans(values: pd.Series, sizes: pd.Series) -> pd.Series | None:
    """How many distinct sizes each value of a column covers, or None unless every value covers two or more."""
    counts = sizes.groupby(values.to_numpy()).nunique()
    return counts if len(counts) > 1 and counts.min() > 1 else None


def hidden(frame: pd.DataFrame, sizes: pd.Series, reserved=()) -> dict[str, dict[str, int]]:
    """Column -> {value: sizes covered} for each candidate column that hides separate studies."""
    out = {}
    for column in candidates(frame, reserved):
        found = spans(frame[column].astype(str).str.strip(), sizes)
        if found is not None:
            out[column] = {str(v): int(n) for v, n in found.items()}
    return out


def warning(column: str, counts: dict[str, int], *, what: str = "runs", sizes: str = "model sizes") -> str:
    """The warning for a column that hides studies, suggesting ``where=``."""
    shown = ", ".join(f"{v!r} ({n} {sizes})" for v, n in counts.items())
    first = next(iter(counts))
    return (f"column {column!r} splits the {what} into {len(counts)} studies that each cover several {sizes} "
            f"({shown}); they are fitted as one law; to fit one of them, give where={column}={first}")


def without(warnings, by: str | Iterable[str]) -> list[str]:
    """The reading warnings less those about columns that ``by`` (grouping columns, a list or
    comma-separated) fits apart."""
    columns = [c.strip() for c in (by.split(",") if isinstance(by, str) else by)]
    return [text for text in warnings if not any(text.startswith(f"column {c!r} splits") for c in columns)]
