"""Reading a log file into a validated :class:`Table`: roles, filters, W&B run states, numbers.

The steps, in order: load the file (:mod:`scalelaw.io.formats`), give columns their roles
(:mod:`scalelaw.io.columns`), keep the rows the filters pass (:mod:`scalelaw.io.filters`), drop the
crashed, failed and killed runs of a W&B export, then check the required columns and the cells of
the numeric ones, so that an empty cell of a run the filters drop is never an error.
"""

from __future__ import annotations

import contextvars
import math
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from scalelaw.errors import InputError
from scalelaw.io.columns import ALIASES, find_column, map_columns
from scalelaw.io.filters import Filter, parse_where
from scalelaw.io.formats import load
from scalelaw.io.shape import check_names
from scalelaw.io.text import check_file
from scalelaw.io.units import parse_quantity

#: W&B run states whose rows are dropped.
DROPPED_STATES = ("crashed", "failed", "killed")
WANDB_STATES = frozenset({"running", "finished", "preempting", "preempted", "pending", *DROPPED_STATES})


@dataclass(frozen=True)
class Table:
    """A read file: the frame (index = 1-based data row), its path, the renames applied and notes."""

    frame: pd.DataFrame
    path: str
    renamed: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    given: tuple[str, ...] = ()

    def error(self, message: str, *, row: int | None = None, column: str | None = None, value=None) -> InputError:
        """An :class:`InputError` that names this file, the row (and its line) and the column."""
        line = row + 1 if row is not None and self.path.endswith((".csv", ".tsv", ".txt")) else None
        shown = self.renamed_from(column) if column else None
        return InputError(message, path=self.path, row=row, column=shown, value=value, line=line)

    def renamed_from(self, column: str) -> str:
        """The file's own name of a canonical column."""
        for source, canon in self.renamed.items():
            if canon == column:
                return source
        return column

    def describe_mapping(self) -> str:
        """The mapping used (``columns=`` marks the ones given) and the reading notes, as one text."""
        parts = []
        if self.renamed:
            parts.append("columns mapped: " + ", ".join(
                f"{s!r} -> {c}" + (" (columns=)" if s in self.given else "") for s, c in self.renamed.items()))
        return "; ".join([*parts, *self.notes])


_READING: contextvars.ContextVar[dict | None] = contextvars.ContextVar("scalelaw_reading", default=None)


@contextmanager
def reading(*, columns: Mapping[str, str] | None = None, sheet: str | int | None = None,
            where: Mapping[str, object] | Iterable[str] | str | None = None,
            max_rows: int | None = None) -> Iterator[None]:
    """Defaults for every :func:`read_table` inside the block: a column mapping, an Excel sheet,
    a row filter and the most data rows a file may have (``max_rows``, see :func:`check_rows`).

    The mapping is checked against the first table read (the main file); later files (a manifest,
    a second sample set) take the mappings whose columns they have.  ``where`` filters the first
    table read (when its reader is given no filter of its own).

    >>> with reading(columns={"loss": "eval/loss"}):
    ...     pass
    """
    token = _READING.set({"columns": dict(columns or {}), "sheet": sheet, "where": where, "reads": 0,
                          "max_rows": max_rows})
    try:
        yield
    finally:
        _READING.reset(token)


def read_table(
    path: str | Path,
    *,
    required: Iterable[str] = (),
    numeric: Iterable[str] = (),
    positive: Iterable[str] = (),
    rename: bool = True,
    columns: Mapping[str, str] | None = None,
    sheet: str | int | None = None,
    where: Mapping[str, object] | Iterable[str] | str | None = None,
    family: str | None = None,
) -> Table:
    """Read a log file, keep the rows ``where`` passes and validate its columns.

    Parameters
    ----------
    path
        A CSV, TSV, JSON (a list of records), JSON lines, parquet or Excel (.xlsx) file, recognised by
        its content first.
    required
        Canonical columns that must be present (after aliases and ``columns`` are mapped).
    numeric
        Columns converted to float (unit suffixes allowed); every kept cell must be a finite number.
    positive
        Numeric columns whose values must be > 0 (sizes, counts of tokens).
    rename
        Map known aliases to canonical names.
    columns
        Role -> the file's column, e.g. ``{"loss": "eval/loss", "params": "model/params"}``; wins over
        aliases and is said in the notes.
    sheet
        The Excel sheet (name or 0-based position); default the first, with a note when there are more.
    where
        Filters applied before the cells are checked: ``["State=finished", "budget<3e20"]`` or
        ``{"dataset": "rw"}`` (see :mod:`scalelaw.io.filters`).
    family
        A family whose short names apply (``"sampling"``: ``n``, ``c`` are sample and correct counts).

    Raises
    ------
    InputError
        Naming the file, row and column: missing or empty file, a folder, pipe or device, permission
        denied, bytes that are not UTF-8 (or of the encoding a byte-order mark declares), a ragged row,
        two columns of one name or tied aliases of one role, a JSON cell that is an object or a list, a
        number beyond the largest float, unreadable or truncated file, missing
        column, an unknown role or a mapping to a missing column, a malformed filter or one that leaves
        no rows, a cell that is not a number, NaN or inf, a non-positive size.
    """
    context = _READING.get()
    strict = True
    if context is not None:
        strict = context["reads"] == 0 or columns is not None
        if context["reads"] == 0 and where is None:
            where = context["where"]
        context["reads"] += 1
        columns = {**context["columns"], **(columns or {})} if context["columns"] or columns else None
        sheet = context["sheet"] if sheet is None else sheet
    p = check_file(path)
    filters = parse_where(where)
    required, numeric, positive = list(required), list(numeric), list(positive)
    frame, notes = load(p, sheet=sheet, strict=strict)
    check_rows(len(frame), str(path), None if context is None else context["max_rows"])
    check_names(frame.columns, str(path))
    frame.columns = [str(c).strip() for c in frame.columns]
    frame, renamed, mapping_notes = map_columns(frame, path=str(path), columns=columns, rename=rename,
                                                family=family, roles=(*required, *numeric), strict=strict)
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")
    given = tuple(s for s, c in renamed.items() if columns and c in columns)
    table = Table(frame, str(path), renamed, (*notes, *mapping_notes), given)
    if frame.empty:
        raise table.error("the file has a header but no data rows; add at least one row")
    missing = [c for c in required if c not in frame.columns]
    if missing:
        have = ", ".join(map(repr, frame.columns))
        raise table.error(f"missing column {missing[0]!r} (or an alias such as "
                          f"{', '.join(map(repr, ALIASES.get(missing[0], ())[:3])) or 'none'}); "
                          f"the file has {have}; add it or map a column to it with columns=")
    table = _apply(table, filters)
    table = _drop_failed_runs(table, filters)
    frame = table.frame
    for column in numeric:
        if column in frame.columns:
            frame[column] = _numeric_column(table, column)
    for column in positive:
        if column in frame.columns:
            values = frame[column].to_numpy(dtype=float)
            bad = np.flatnonzero(values <= 0)
            if bad.size:
                row = int(frame.index[bad[0]])
                raise table.error(f"{values[bad[0]]:g} is not a positive size; sizes must be > 0, "
                                  "fix or drop that row", row=row, column=column, value=values[bad[0]])
    return table


def check_rows(rows: int, path: str, max_rows: int | None) -> None:
    """Refuse a file of more than ``max_rows`` data rows (None: no limit), in one line naming the file
    and its row count."""
    if max_rows is not None and rows > max_rows:
        raise InputError(f"the file has {rows:,} data rows, more than max_rows={max_rows:,}; filter it "
                         "(where=), split it, or raise max_rows=", path=path)


def _numeric_column(table: Table, column: str) -> pd.Series:
    values = []
    for row, cell in table.frame[column].items():
        if cell is None or (isinstance(cell, float) and math.isnan(cell)) or str(cell).strip() == "":
            raise table.error("the cell is empty; fill it or drop the row", row=int(row), column=column)
        if str(cell).strip().lower().lstrip("+-") in ("nan", "inf", "infinity"):
            raise table.error(f"{cell!r} is not a finite number; fix or drop that row",
                              row=int(row), column=column, value=cell)
        try:
            number = parse_quantity(cell)
        except ValueError as err:
            raise table.error(f"{err}", row=int(row), column=column, value=cell) from err
        if not math.isfinite(number):
            raise table.error(f"{cell!r} is beyond the largest number (about 1.8e308); fix or drop that row",
                              row=int(row), column=column, value=cell)
        values.append(number)
    return pd.Series(values, index=table.frame.index, dtype=float)


def _column_of(table: Table, name: str) -> str | None:
    """The frame column a filter names: the file's own name, its role, or a case-insensitive match."""
    frame = table.frame
    if name in frame.columns:
        return name
    if name in table.renamed:
        return table.renamed[name]
    from scalelaw.io.columns import canonical_name

    canon = canonical_name(name)
    return canon if canon in frame.columns else find_column(frame, name)


def _apply(table: Table, filters: list[Filter]) -> Table:
    frame = table.frame
    for i, condition in enumerate(filters):
        column = _column_of(table, condition.column)
        if column is None:
            raise table.error(f"where= names column {condition.column!r}, which the file lacks; "
                              f"it has {', '.join(map(repr, (table.renamed_from(c) for c in frame.columns)))}")
        before = frame
        frame = frame[condition.mask(frame[column]).to_numpy()]
        if frame.empty:
            seen = list(dict.fromkeys(str(v).strip() for v in before[column].tolist()))
            shown = ", ".join(map(repr, seen[:6])) + (", ..." if len(seen) > 6 else "")
            after = (f" (after {', '.join(f.text for f in filters[:i])}, {len(before)} rows were left)"
                     if i else "")
            raise table.error(f"no rows match {condition.text}{after}; column {condition.column!r} has "
                              f"{shown}; check the values")
    return Table(frame, table.path, table.renamed, table.notes, table.given)


def filter_rows(table: Table, where: Mapping[str, object] | Iterable[str] | str) -> Table:
    """Keep the rows that pass every filter (``{"dataset": "rw"}`` or ``["budget<3e20", ...]``);
    the error for a filter that leaves no rows names it."""
    return _apply(table, parse_where(where))


def _drop_failed_runs(table: Table, filters: list[Filter]) -> Table:
    """A W&B export's crashed, failed and killed runs dropped (unless a filter names the state column);
    ``Name`` becomes the ``run`` column."""
    frame = table.frame
    state = find_column(frame, "state")
    if state is None:
        return table
    states = frame[state].astype(str).str.strip().str.lower()
    if not states.isin(WANDB_STATES).all():
        return table
    renamed, notes = dict(table.renamed), list(table.notes)
    name = find_column(frame, "name")
    if name is not None and "run" not in frame.columns:
        frame = frame.rename(columns={name: "run"})
        renamed[name] = "run"
    if any(_column_of(table, f.column) == state for f in filters):
        return Table(frame, table.path, renamed, tuple(notes), table.given)
    dropped = states.isin(DROPPED_STATES).to_numpy()
    if dropped.all():
        raise table.error(f"every run's {state} is {', '.join(sorted(set(states)))}; there are no finished "
                          f"runs to read (where= {state}=crashed keeps them on purpose)")
    if dropped.any():
        runs = frame["run"].astype(str).tolist() if "run" in frame.columns else [str(r) for r in frame.index]
        names = [r for r, d in zip(runs, dropped, strict=True) if d]
        kinds = "/".join(s for s in DROPPED_STATES if s in set(states[dropped]))
        notes.append(f"dropped {len(names)} {kinds} run{'s' if len(names) > 1 else ''} of {len(frame)} "
                     f"({', '.join(map(repr, names[:3]))}{', ...' if len(names) > 3 else ''}; {state} column)")
        frame = frame[~dropped]
    running = int(states[~dropped].eq("running").sum())
    if running:
        notes.append(f"{running} run{'s are' if running > 1 else ' is'} still running: the last logged values are "
                     "read")
    return Table(frame, table.path, renamed, tuple(notes), table.given)
