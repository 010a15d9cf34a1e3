"""Reading logs: formats, column roles, filters, units and validation with clear errors.

:func:`read_table` reads a CSV, TSV, JSON, JSON-lines, parquet or Excel file (recognised by content,
then extension; :mod:`~scalelaw.io.formats`) into a DataFrame whose index is the 1-based data row
number of the file (row 1 is the first line after the header), gives columns their roles by alias,
W&B path or an explicit ``columns=`` mapping (:mod:`~scalelaw.io.columns`), keeps the rows that
``where=`` filters pass (:mod:`~scalelaw.io.filters`), drops crashed runs of a W&B export, and checks
the cells (:mod:`~scalelaw.io.table`).  Every text file is decoded once, by :mod:`~scalelaw.io.text`
(a byte-order mark honoured, other non-UTF-8 bytes refused by offset), and its shape checked by
:mod:`~scalelaw.io.shape` (ragged rows, columns named twice, JSON rows that are not flat).
Numeric columns accept unit suffixes: ``"7B"``, ``"1.4T"``,
``"350M"``, ``"6e23"`` (:mod:`~scalelaw.io.units`), in files and in DataFrames given in Python
(:mod:`~scalelaw.io.coerce`).

Examples
--------
>>> parse_quantity("1.4T")
1400000000000.0
>>> canonical_name("Model Size"), canonical_name("train/tokens")
('params', 'tokens')
"""

from __future__ import annotations

from scalelaw.io.coerce import as_table, coerce_numeric, quantities
from scalelaw.io.columns import ALIASES, FAMILY_ALIASES, ROLES, canonical_name
from scalelaw.io.filters import Filter, parse_where
from scalelaw.io.table import Table, filter_rows, read_table, reading
from scalelaw.io.units import SUFFIXES, format_quantity, parse_quantity, try_quantity

__all__ = ["ALIASES", "FAMILY_ALIASES", "ROLES", "SUFFIXES", "Filter", "Table", "as_table", "canonical_name",
           "coerce_numeric", "filter_rows", "format_quantity", "parse_quantity", "parse_where", "quantities",
           "read_table", "reading", "try_quantity"]
