"""Hypothesis strategies for table files: a clean table written many equivalent ways (encodings with their
byte-order marks, delimiters, line endings, column order, aliases, unit suffixes such as 7B and 1.4T, JSON)
and hostile variants (NaN/inf, huge numbers, texts, missing and duplicated columns, ragged rows, bad bytes,
cut files, nested JSON cells).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass

from hypothesis import strategies as st

from scalelaw.io.units import parse_quantity

from support import DATA

COLUMNS = ("params", "tokens", "loss")
ALIASES = {"params": ("N", "model_size", "Model Size"), "tokens": ("D", "n_tokens"), "loss": ("loss",)}
SUFFIXES = {"T": 1e12, "B": 1e9, "M": 1e6, "K": 1e3}


def clean_rows(count: int = 16) -> list[tuple[float, float, float]]:
    """``count`` rows (params, tokens, loss) of the Chinchilla points, spread over the sizes."""
    lines = (DATA / "loss" / "epoch_chinchilla_svg_extracted.csv").read_text().splitlines()
    records = list(csv.DictReader(lines))
    step = max(1, len(records) // count)
    rows = []
    for record in records[::step][:count]:
        params, flops = float(record["Model Size"]), float(record["Training FLOP"])
        rows.append((float(f"{params:.3g}"), float(f"{flops / (6 * params):.3g}"), float(record["loss"])))
    return rows


CLEAN = clean_rows()


@dataclass(frozen=True)
class TableFile:
    """A generated file: its ``name`` (the extension matters), its exact bytes, and whether it holds the clean
    table's numbers exactly (``same``: it must read, and fit, as the clean file does)."""

    name: str
    data: bytes
    same: bool
    how: str

    def __repr__(self) -> str:
        return f"TableFile({self.name!r}, {self.how}, same={self.same}, {self.data[:300]!r})"


def with_unit(value: float, suffix: str) -> str:
    """``value`` written with a unit suffix when that reads back exactly (70M, 1.4T), else as it is."""
    text = f"{value / SUFFIXES[suffix]:.12g}{suffix}"
    return text if parse_quantity(text) == value else repr(value)


@st.composite
def layouts(draw):
    """How the clean table is written: names, order, the cells' text, the format, encoding and line ending."""
    names = {c: draw(st.sampled_from((c, *ALIASES[c]))) for c in COLUMNS}
    order = draw(st.permutations(COLUMNS))
    suffix = {c: draw(st.sampled_from((None, *SUFFIXES))) for c in ("params", "tokens")}
    fmt = draw(st.sampled_from(("csv", "tsv", "jsonl", "json")))
    encoding = draw(st.sampled_from(("utf-8", "utf-8-sig", "utf-16", "utf-32")))
    newline = draw(st.sampled_from(("\n", "\r\n")))
    extra = draw(st.booleans())
    return names, list(order), suffix, fmt, encoding, newline, extra


def cell_text(column: str, value: float, suffix) -> str:
    return with_unit(value, suffix[column]) if column in suffix and suffix[column] else repr(value)


def render(rows, names, order, suffix, fmt, newline, extra) -> tuple[str, str]:
    """The text and the extension of ``rows`` laid out as drawn."""
    header = [names[c] for c in order] + (["note"] if extra else [])
    cells = [[cell_text(c, row[COLUMNS.index(c)], suffix) for c in order] + (["a, \"b\""] if extra else [])
             for row in rows]
    if fmt in ("jsonl", "json"):
        records = [dict(zip(header, line, strict=False)) for line in cells]
        if fmt == "jsonl":
            return newline.join(json.dumps(r) for r in records) + newline, ".jsonl"
        return json.dumps(records), ".json"
    delimiter = "\t" if fmt == "tsv" else ","
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline)
    writer.writerow(header)
    writer.writerows(cells)
    return buffer.getvalue(), ".tsv" if fmt == "tsv" else ".csv"


@st.composite
def same_tables(draw) -> TableFile:
    """The clean table, written one of many equivalent ways."""
    names, order, suffix, fmt, encoding, newline, extra = draw(layouts())
    text, ext = render(CLEAN, names, order, suffix, fmt, newline, extra)
    how = f"{fmt} {encoding} {newline!r} {order} {names} {suffix} extra={extra}"
    return TableFile("runs" + ext, text.encode(encoding), True, how)


HOSTILE_CELLS = ("nan", "NaN", "inf", "-inf", "", " ", "1e999", "-1e999", "1e-400", "0", "-7", "abc", "7X",
                 "1.4TT", "9" * 400, "1e308T", "0x1F", "1_000", "١٢", "\x00", "\"", "'1e9'", "None", "null",
                 "true", "[1]", "{}", "1e9\n2")
JSON_CELLS = (None, True, [], [1.0], {}, {"v": 1}, 10**400, -(10**30), "1e9", float("1e308"), "", [[[[[]]]]])


@st.composite
def hostile_tables(draw) -> TableFile:
    """The clean table with one to three damages: odd cells, dropped, duplicated or renamed columns, ragged
    rows, too few rows, bad bytes, a cut or empty file, nested JSON cells."""
    names, order, suffix, fmt, encoding, newline, extra = draw(layouts())
    rows = [list(map(repr, row)) for row in CLEAN]
    header = [names[c] for c in order]
    cells = [[row[COLUMNS.index(c)] for c in order] for row in rows]
    damages = draw(st.lists(st.sampled_from(("cell", "drop", "twice", "rename", "ragged", "rows", "bytes", "cut",
                                             "empty", "json", "blank", "header")), min_size=1, max_size=3))
    json_cells: dict[tuple[int, int], object] = {}
    for damage in damages:
        if damage == "cell" and any(cells):
            i = draw(st.sampled_from([i for i, line in enumerate(cells) if line]))
            j = draw(st.integers(0, len(cells[i]) - 1))
            cells[i][j] = draw(st.sampled_from(HOSTILE_CELLS) | st.text(max_size=8))
        elif damage == "drop" and len(header) > 1:
            j = draw(st.integers(0, len(header) - 1))
            header.pop(j)
            for line in cells:
                del line[j:j + 1]
        elif damage == "twice":
            j = draw(st.integers(0, len(header) - 1))
            header.append(draw(st.sampled_from((header[j], header[j] + " ", header[j].upper(),
                                                *ALIASES.get(header[j], ())))))
            for line in cells:
                line.extend(line[j:j + 1])
        elif damage == "rename":
            j = draw(st.integers(0, len(header) - 1))
            header[j] = draw(st.sampled_from(("", " ", "x", "\ufeffparams", "params\x00", "loss,", "1e9")))
        elif damage == "ragged" and cells:
            i = draw(st.integers(0, len(cells) - 1))
            cells[i] = cells[i][:-1] if draw(st.booleans()) else [*cells[i], "1"]
        elif damage == "rows":
            cells = cells[:draw(st.integers(0, 3))]
        elif damage == "json" and cells:
            i, j = draw(st.integers(0, len(cells) - 1)), draw(st.integers(0, len(header) - 1))
            json_cells[i, j] = draw(st.sampled_from(JSON_CELLS))
        elif damage == "blank" and cells:
            cells.insert(draw(st.integers(0, len(cells))), [])
        elif damage == "header":
            cells.insert(0, list(header))
    if fmt in ("jsonl", "json"):
        records = []
        for i, line in enumerate(cells):
            record = dict(zip(header, line, strict=False))
            for (ci, cj), value in json_cells.items():
                if ci == i and cj < len(header):
                    record[header[cj]] = value
            records.append(record)
        try:
            text = (newline.join(json.dumps(r) for r in records) + newline if fmt == "jsonl"
                    else json.dumps(records))
        except ValueError:
            text = json.dumps(records, allow_nan=True)
        ext = "." + fmt
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter="\t" if fmt == "tsv" else ",", lineterminator=newline)
        writer.writerow(header)
        writer.writerows(cells)
        text, ext = buffer.getvalue(), ".tsv" if fmt == "tsv" else ".csv"
    data = text.encode(encoding, errors="surrogatepass")
    if "bytes" in damages:
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.sampled_from((b"\xff", b"\xe9", b"\x00", b"\xc3", b"\xef\xbb\xbf", b"\r",
                                                 b"\xfe\xff", b"\x80\x80"))) + data[at:]
    if "cut" in damages:
        data = data[:draw(st.integers(0, len(data)))]
    if "empty" in damages:
        data = draw(st.sampled_from((b"", b"\n", b"\xef\xbb\xbf", b"\xff\xfe", b" \n\n", b"[]", b"{}", b"null")))
    return TableFile("runs" + ext, data, False, f"{fmt} {encoding} {damages}")


def binary_files() -> st.SearchStrategy[TableFile]:
    """Random bytes and files that start like parquet, Excel or old Excel but are not."""
    heads = st.sampled_from((b"", b"PAR1", b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"\xef\xbb\xbf", b"\xff\xfe",
                             b"\x00\x00\xfe\xff", b"params,tokens,loss\n"))
    names = st.sampled_from(("runs.csv", "runs.tsv", "runs.json", "runs.jsonl", "runs.parquet", "runs.xlsx",
                             "runs"))
    return st.builds(lambda head, body, name: TableFile(name, head + body, False, "binary"),
                     heads, st.binary(max_size=200), names)


def table_files() -> st.SearchStrategy[TableFile]:
    """Every kind of generated table file, the clean equivalents a quarter of the time."""
    return st.one_of(same_tables(), hostile_tables(), hostile_tables(), binary_files())
