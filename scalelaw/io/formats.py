"""Loading a table file by its content, then its extension: parquet, Excel, JSON, JSON lines, CSV, TSV.

Binary formats are recognised by their first bytes (parquet ``PAR1``, Excel ``.xlsx`` a zip), so a
parquet file named ``.csv`` is read as parquet.  Text is UTF-8 (a byte-order mark is dropped); a text
file whose first character is ``[`` or ``{`` is JSON (a list of records, or ``{"rows": [...]}``) or
JSON lines; otherwise it is CSV, or TSV when the extension says so or the header has tabs and no
commas.  Text formats keep every cell as a string (empty cells are ``""``); parquet and Excel keep
their types (missing cells are None or NaN).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from scalelaw.errors import InputError

PARQUET_MAGIC = b"PAR1"
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"


def sniff(path: Path) -> str:
    """The format of a file: ``parquet``, ``excel``, ``json``, ``jsonl``, ``tsv`` or ``csv``."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    if head.startswith(PARQUET_MAGIC):
        return "parquet"
    if head.startswith(ZIP_MAGIC):
        return "excel"
    if head.startswith(OLE_MAGIC):
        raise InputError("is an old binary Excel (.xls) file; save it as .xlsx or CSV", path=str(path))
    suffix = path.suffix.lower()
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff").lstrip()
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
        text = path.read_text(encoding="utf-8-sig")
        if kind == "jsonl":
            return pd.DataFrame([json.loads(line) for line in text.splitlines() if line.strip()]), []
        if kind == "json":
            data = json.loads(text)
            return pd.DataFrame(data if isinstance(data, list) else data.get("rows", data)), []
        return pd.read_csv(path, sep="\t" if kind == "tsv" else ",", dtype=str, keep_default_na=False,
                           skipinitialspace=True, encoding="utf-8-sig"), []
    except pd.errors.EmptyDataError as err:
        raise InputError("the file is empty; it needs a header row and at least one data row",
                         path=str(path)) from err
    except UnicodeDecodeError as err:
        raise InputError(f"is not UTF-8 text, parquet or Excel (byte {err.object[err.start]:#04x} at "
                         f"{err.start}); export it as CSV, parquet or .xlsx", path=str(path)) from err
    except (json.JSONDecodeError, pd.errors.ParserError, ValueError, AttributeError) as err:
        raise InputError(f"cannot be read as {kind} ({_first_line(err)}); check the format",
                         path=str(path)) from err


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
    notes = []
    if len(names) > 1:
        others = ", ".join(repr(n) for n in names if n != chosen)
        notes.append(f"read sheet {chosen!r} of {len(names)} (also {others}); sheet= chooses another")
    return frame, notes
