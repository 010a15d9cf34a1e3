"""Reading logs: files, column aliases, unit suffixes and validation with clear errors.

:func:`read_table` reads a CSV, TSV, JSON or JSON-lines file into a DataFrame whose index is the
1-based data row number of the file (row 1 is the first line after the header), renames known
aliases to canonical columns (``"Model Size"`` -> ``params``) and reports the mapping it used.
Numeric columns accept unit suffixes: ``"7B"``, ``"1.4T"``, ``"350M"``, ``"6e23"``.

Examples
--------
>>> parse_quantity("1.4T")
1400000000000.0
>>> parse_quantity("350M")
350000000.0
>>> canonical_name("Model Size")
'params'
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from scalelaw.errors import InputError

#: Canonical column -> accepted aliases (compared ignoring case, spaces, '-' and '_').
ALIASES: dict[str, tuple[str, ...]] = {
    "params": ("N", "n_params", "num_params", "nparams", "model_size", "Model Size", "parameters",
               "param_count", "non_embedding_params"),
    "tokens": ("D", "train_tokens", "training_tokens", "n_tokens", "num_tokens", "data_size"),
    "flops": ("C", "Training FLOP", "training_flops", "compute", "FLOPs", "flop"),
    "loss": ("final_loss", "train_loss", "eval_loss"),
    "lr": ("learning_rate",),
    "batch_size": ("bs", "batch_tokens"),
    "seq_len": ("sequence_length", "context_length"),
    "datastore_tokens": ("datastore_size", "datastore"),
    "n_samples": ("num_samples", "samples"),
    "n_correct": ("num_correct", "correct"),
    "accuracy": ("acc",),
    "model": ("model_name",),
}

SUFFIXES = {"k": 1e3, "K": 1e3, "M": 1e6, "B": 1e9, "G": 1e9, "T": 1e12, "P": 1e15}
_QUANTITY = re.compile(r"^\s*([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*([kKMBGTP]?)\s*$")


def parse_quantity(value) -> float:
    """A number from ``7e9``, ``"7B"``, ``"1.4T"``, ``"350M"``, ``"12k"`` (K/M/B=G/T/P).

    Raises
    ------
    ValueError
        When the text is not a number with an optional suffix.
    """
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        return float(value)
    match = _QUANTITY.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a number; write it like 7e9 or 7B (suffixes K, M, B, T, P)")
    number, suffix = match.groups()
    return float(number) * (SUFFIXES[suffix] if suffix else 1.0)


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", str(name)).lower()


_ALIAS_INDEX = {_key(alias): canon for canon, aliases in ALIASES.items() for alias in (canon, *aliases)}


def canonical_name(column: str) -> str:
    """The canonical name of a column, or the column itself when it is not a known alias."""
    return _ALIAS_INDEX.get(_key(column), column)


@dataclass(frozen=True)
class Table:
    """A read file: the frame (index = 1-based data row), its path and the renames applied."""

    frame: pd.DataFrame
    path: str
    renamed: Mapping[str, str] = field(default_factory=dict)

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
        if not self.renamed:
            return ""
        return "columns mapped: " + ", ".join(f"{s!r} -> {c}" for s, c in self.renamed.items())


def _load(path: Path) -> pd.DataFrame:
    suffix = path.suffix.lower()
    try:
        if suffix in (".jsonl", ".ndjson"):
            rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            return pd.DataFrame(rows)
        if suffix == ".json":
            data = json.loads(path.read_text(encoding="utf-8"))
            return pd.DataFrame(data if isinstance(data, list) else data.get("rows", data))
        sep = "\t" if suffix == ".tsv" else ","
        return pd.read_csv(path, sep=sep, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError as err:
        raise InputError("the file is empty; it needs a header row and at least one data row",
                         path=str(path)) from err
    except (json.JSONDecodeError, pd.errors.ParserError, UnicodeDecodeError, ValueError) as err:
        raise InputError(f"cannot be read as {suffix.lstrip('.') or 'csv'} ({err}); check the format",
                         path=str(path)) from err


def read_table(
    path: str | Path,
    *,
    required: Iterable[str] = (),
    numeric: Iterable[str] = (),
    positive: Iterable[str] = (),
    rename: bool = True,
) -> Table:
    """Read a log file and validate its columns.

    Parameters
    ----------
    path
        A ``.csv``, ``.tsv``, ``.json`` (a list of records) or ``.jsonl`` file.
    required
        Canonical columns that must be present (after aliases are mapped).
    numeric
        Columns converted to float (unit suffixes allowed); every cell must be a finite number.
    positive
        Numeric columns whose values must be > 0 (sizes, counts of tokens).
    rename
        Map known aliases to canonical names.

    Raises
    ------
    InputError
        Naming the file, row and column: missing or empty file, missing column, a cell that is not
        a number, NaN or inf, a non-positive size.
    """
    p = Path(path)
    if not p.exists():
        raise InputError("no such file; check the path", path=str(path))
    if p.is_dir():
        raise InputError("is a folder; give a file", path=str(path))
    if p.stat().st_size == 0:
        raise InputError("the file is empty; it needs a header row and at least one data row", path=str(path))
    frame = _load(p)
    frame.columns = [str(c).strip() for c in frame.columns]
    renamed: dict[str, str] = {}
    if rename:
        taken = set(frame.columns)
        for column in list(frame.columns):
            canon = canonical_name(column)
            if canon != column and canon not in taken:
                renamed[column] = canon
                taken.add(canon)
        frame = frame.rename(columns=renamed)
    frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")
    table = Table(frame, str(path), renamed)
    if frame.empty:
        raise table.error("the file has a header but no data rows; add at least one row")
    missing = [c for c in required if c not in frame.columns]
    if missing:
        have = ", ".join(map(repr, frame.columns))
        raise table.error(f"missing column {missing[0]!r} (or an alias such as "
                          f"{', '.join(map(repr, ALIASES.get(missing[0], ())[:3])) or 'none'}); "
                          f"the file has {have}; add it or rename a column")
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
            raise table.error(f"{cell!r} is not a finite number; fix or drop that row",
                              row=int(row), column=column, value=cell)
        values.append(number)
    return pd.Series(values, index=table.frame.index, dtype=float)


def filter_rows(table: Table, where: Mapping[str, str]) -> Table:
    """Keep rows whose columns equal the given values (compared as text)."""
    frame = table.frame
    for column, wanted in where.items():
        name = canonical_name(column) if column not in frame.columns else column
        if name not in frame.columns:
            raise table.error(f"where= names column {column!r}, which the file lacks; "
                              f"it has {', '.join(map(repr, frame.columns))}")
        frame = frame[frame[name].astype(str) == str(wanted)]
    if frame.empty:
        shown = ", ".join(f"{k}={v}" for k, v in where.items())
        raise table.error(f"no rows match {shown}; check the values")
    return Table(frame, table.path, table.renamed)


def parse_where(items: Iterable[str]) -> dict[str, str]:
    """``["dataset=rw", "decay=const"]`` -> ``{"dataset": "rw", "decay": "const"}``."""
    out = {}
    for item in items:
        if "=" not in item:
            raise InputError(f"{item!r} is not COLUMN=VALUE")
        key, value = item.split("=", 1)
        out[key.strip()] = value.strip()
    return out
