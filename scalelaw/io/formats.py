"""Loading a table file by its content, then its extension: parquet, Excel, JSON, JSON lines, CSV, TSV.

Binary formats are recognised by their first bytes (parquet ``PAR1``, Excel ``.xlsx`` a zip), so a
parquet file named ``.csv`` is read as parquet.  Text is UTF-8 (a byte-order mark is dropped); a text
file whose first character is ``[`` or ``{`` is JSON (a list of records, or ``{"rows": [...]}``) or
JSON lines; otherwise it is CSV, or TSV when the extension says so or the header has tabs and no
commas.  Text formats keep every cell as a string (empty cells are ``""``); parquet and Excel keep
their types (missing cells are None or NaN).  Text is decoded by :mod:`scalelaw.io.text` (a byte-order
mark honoured: UTF-16 and UTF-32 too) and its shape checked by :mod:`scalelaw.io.shape` (ragged rows,
columns named twice, JSON rows that are not flat objects are refused).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd

from scalelaw.errors import InputError
from scalelaw.io import shape
from scalelaw.io.text import peek, read_bytes, read_text

PARQUET_MAGIC = b"PAR1"
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"


def sniff(path: Path) -> str:
    """The format of a file: ``parquet``, ``excel``, ``json``, ``jsonl``, ``tsv`` or ``csv``."""
    head = read_bytes(path, 4096)
    if head.startswith(PARQUET_MAGIC):
        return "parquet"
    if head.startswith(ZIP_MAGIC):
        return "excel"
    if head.startswith(OLE_MAGIC):
        raise InputError("is an old binary Excel (.xls) file; save it as .xlsx or CSV", path=str(path))
    suffix = path.suffix.lower()
    text = peek(head).lstrip()
    if suffix in (".jsonl", ".ndjson") or (text.startswith("{") and suffix != ".json"
                                            and "\n" in text.strip() and text.splitlines()[0].rstrip().endswith("}")):
        return "jsonl"
    if suffix == ".json" or text.startswith(("[", "{")):
        return "json"
    if suffix in (".parquet", ".pq", ".xlsx", ".xlsm"):
        raise InputError(f"is named {suffix} but holds text, not {suffix.lstrip('.')}; give it its right "
                         "extension", path=str(path))
    header = text.splitlines()[0] if text else ""
    return "tsv" if suffix == ".tsv" or ("\t" in header and "," not in header) else "csv"


def load(path: Path, *, sheet: str | int | None = None, strict: bool = True) -> tuple[pd.DataFrame, list[str]]:
    """The file's rows as a DataFrame and notes (which sheet was read).

    ``sheet`` chooses an Excel sheet by name or 0-based position (default: the first); with ``strict``
    a sheet for a file that is not Excel is an error.
    """
    kind = sniff(path)
    if sheet is not None and kind != "excel" and strict:
        raise InputError(f"sheet={sheet!r} is for Excel files; this file is {kind}", path=str(path))
    try:
        if kind == "parquet":
            return _parquet(path), []
        if kind == "excel":
            return _excel(path, sheet)
        if kind == "jsonl":
            return shape.json_lines(read_text(path, first_row=1), str(path)), []
        if kind == "json":
            return shape.json_table(read_text(path), str(path)), []
        return _delimited(read_text(path, first_row=2), str(path), "\t" if kind == "tsv" else ","), []
    except InputError:
        raise
    except pd.errors.EmptyDataError as err:
        raise InputError("the file is empty; it needs a header row and at least one data row",
                         path=str(path)) from err
    except (json.JSONDecodeError, pd.errors.ParserError, ValueError, AttributeError) as err:
        raise InputError(f"cannot be read as {kind} ({_first_line(err)}); check the format",
                         path=str(path)) from err


def _delimited(text: str, path: str, sep: str) -> pd.DataFrame:
    """A CSV or TSV text as strings, once each row has one cell per column and each column one name."""
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.ParserError:
        shape.check_fields(text, path, sep)
        raise
    # a short row's missing cells are "" in the last column; rows one cell longer shift into an index
    if not isinstance(frame.index, pd.RangeIndex) or (frame.shape[1] and frame.iloc[:, -1].eq("").any()):
        shape.check_fields(text, path, sep)
    shape.check_names(shape.header(text, sep), path)
    return frame


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def _parquet(path: Path) -> pd.DataFrame:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        frame = pq.read_table(path).to_pandas()
    except (pa.ArrowException, OSError) as err:
        raise InputError(f"cannot be read as parquet ({_first_line(err)}); the file may be truncated or "
                         "damaged: write it again", path=str(path)) from err
    return frame if isinstance(frame.index, pd.RangeIndex) else frame.reset_index()


def _excel(path: Path, sheet: str | int | None) -> tuple[pd.DataFrame, list[str]]:
    import zipfile

    try:
        book = pd.ExcelFile(path, engine="openpyxl")
    except (zipfile.BadZipFile, KeyError, OSError) as err:
        raise InputError(f"cannot be read as Excel .xlsx ({_first_line(err)}); the file may be truncated or "
                         "damaged: save it again", path=str(path)) from err
    with book:
        names = book.sheet_names
        if sheet is None:
            chosen = names[0]
        elif isinstance(sheet, int) or str(sheet).isdigit():
            position = int(sheet)
            if not 0 <= position < len(names):
                raise InputError(f"sheet={sheet} is out of range; the workbook has {len(names)} sheets "
                                 f"({', '.join(map(repr, names))})", path=str(path))
            chosen = names[position]
        elif str(sheet) in names:
            chosen = str(sheet)
        else:
            raise InputError(f"has no sheet {sheet!r}; its sheets are {', '.join(map(repr, names))}",
                             path=str(path))
        frame = pd.read_excel(book, sheet_name=chosen)
        first = pd.read_excel(book, sheet_name=chosen, header=None, nrows=1)  # pandas renames a repeated name
        shape.check_names(first.iloc[0].tolist() if len(first) else [], str(path))
    notes = []
    if len(names) > 1:
        others = ", ".join(repr(n) for n in names if n != chosen)
        notes.append(f"read sheet {chosen!r} of {len(names)} (also {others}); sheet= chooses another")
    return frame, notes
