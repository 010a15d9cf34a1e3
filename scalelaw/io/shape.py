"""The shape of a table in a file: one cell per column in every row, each column named once, and in
JSON one flat object per row.

Refused, with the file, the row (and line) and the column: a CSV row with more or fewer cells than
the header (pandas would fill the missing cells or shift the row into an index), two columns of one
name (pandas would rename the copy ``loss.1``), a JSON key given twice in one object (the last one
would win), a JSON row that is not an object, and a cell that is an object or a list where a number
or a text belongs.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence

import pandas as pd

from scalelaw.errors import InputError


def _records(text: str, sep: str):
    """(record, line of its end) for each non-blank record of a delimited text, header first."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, skipinitialspace=True)
    try:
        for record in reader:
            if record and any(cell.strip() for cell in record):
                yield record, reader.line_num
    except csv.Error:
        return


def check_fields(text: str, path: str, sep: str) -> None:
    """Refuse the first data row whose number of cells differs from the header's."""
    records = _records(text, sep)
    header = next(records, None)
    if header is None:
        return
    width = len(header[0])
    for row, (record, line) in enumerate(records, start=1):
        if len(record) != width:
            name = "tab" if sep == "\t" else repr(sep)
            raise InputError(f"{len(record)} cells, but the header names {width} columns; give each row one "
                             f"cell per column (quote a cell that holds a {name})", path=path, row=row,
                             line=line)


def header(text: str, sep: str) -> list[str]:
    """The column names of a delimited text's header line, as written."""
    return next(_records(text, sep), ([], 0))[0]


def check_names(names: Sequence[object], path: str) -> None:
    """Refuse two columns of one name (compared after stripping spaces; unnamed columns aside)."""
    seen: dict[str, int] = {}
    for position, name in enumerate(names, start=1):
        text = "" if name is None or (isinstance(name, float) and name != name) else str(name).strip()
        if not text:
            continue
        if text in seen:
            raise InputError(f"columns {seen[text]} and {position} are both named {text!r}; rename or drop "
                             "one (which one is meant cannot be told)", path=path)
        seen[text] = position


class _Twice(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _unique(pairs: list[tuple[str, object]]) -> dict:
    keys = [key for key, _ in pairs]
    if len(set(keys)) < len(keys):
        raise _Twice(next(k for k in keys if keys.count(k) > 1))
    return dict(pairs)


def _kind(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a text", bool: "true or false",
            type(None): "null"}.get(type(value), "a number")


def parse_json(text: str, path: str, *, row: int | None = None, line: int | None = None):
    """A JSON value with every key once; its errors name the file (and the row and line given)."""
    try:
        return json.loads(text, object_pairs_hook=_unique)
    except json.JSONDecodeError as err:
        where = "" if row is not None or line is not None else f" at line {err.lineno} column {err.colno}"
        raise InputError(f"not JSON ({err.msg}{where})", path=path, row=row, line=line) from None
    except _Twice as twice:
        raise InputError(f"the key {twice.key!r} appears twice in one object; keep one", path=path, row=row,
                         line=line) from None
    except RecursionError:
        raise InputError("nests objects or lists too deeply to read; a table in JSON is flat", path=path,
                         row=row, line=line) from None


def json_lines(text: str, path: str) -> pd.DataFrame:
    """The rows of a JSON lines text: one flat object per non-blank line."""
    records, lines = [], []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        value = parse_json(line, path, row=len(records) + 1, line=number)
        if not isinstance(value, dict):
            raise InputError(f"holds {_kind(value)}, not an object; a JSON lines file holds one object per "
                             "line", path=path, row=len(records) + 1, line=number)
        records.append(value)
        lines.append(number)
    frame = pd.DataFrame(records)
    check_cells(frame, path, lines)
    return frame


def json_table(text: str, path: str) -> pd.DataFrame:
    """The rows of a JSON text: a list of flat objects, ``{"rows": [...]}``, or an object of columns."""
    data = parse_json(text, path)
    if isinstance(data, dict) and "rows" in data:
        data = data["rows"]
    if isinstance(data, list):
        for row, value in enumerate(data, start=1):
            if not isinstance(value, dict):
                raise InputError(f"holds {_kind(value)}, not an object; a table in JSON is a list of objects, "
                                 "one per row", path=path, row=row)
    elif not isinstance(data, dict):
        raise InputError(f"holds {_kind(data)}; a table in JSON is a list of objects, one per row, or "
                         '{"rows": [...]}', path=path)
    frame = pd.DataFrame(data)
    check_cells(frame, path)
    return frame


def check_cells(frame: pd.DataFrame, path: str, lines: Sequence[int] | None = None) -> None:
    """Refuse the first cell that is an object or a list (row = position + 1; ``lines`` the rows' lines)."""
    for position, column in enumerate(frame.columns):
        cells = frame.iloc[:, position]
        if cells.dtype != object:
            continue
        nested = cells.map(lambda cell: isinstance(cell, (dict, list))).to_numpy(dtype=bool)
        if nested.any():
            i = int(nested.argmax())
            raise InputError(f"the cell is {_kind(cells.iloc[i])}; a cell holds a number or a text", path=path,
                             row=i + 1, column=str(column), line=None if lines is None else lines[i])
