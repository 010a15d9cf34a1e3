"""Row filters users write: ``State=finished``, ``budget<3e20``, ``params>=1B``, ``model in a,b``.

Operators are ``=``, ``!=``, ``<``, ``<=``, ``>``, ``>=`` and ``in`` (a comma-separated list).  Order
comparisons are on numbers (unit suffixes allowed: ``params<7B``); ``=``, ``!=`` and ``in`` compare
numbers as numbers when both sides are numbers (``params=7B`` keeps a cell ``7e9``) and as text
otherwise.  A row whose cell is not a number never passes an order comparison.

>>> [f.text for f in parse_where(["budget<3e20", "model in a,b", "State=finished"])]
['budget<3e20', 'model in a,b', 'State=finished']
>>> parse_where({"dataset": "rw"})[0].op
'='
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import pandas as pd

from scalelaw.errors import InputError
from scalelaw.io.units import try_quantity

_COMPARE = re.compile(r"^\s*(?P<column>[^<>=!]+?)\s*(?P<op><=|>=|!=|==|=|<|>)\s*(?P<value>.*?)\s*$")
_IN = re.compile(r"^\s*(?P<column>.+?)\s+in\s+(?P<value>.+?)\s*$")
_ORDER = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
SYNTAX = "KEY=VALUE, KEY!=VALUE, KEY<VALUE (or <=, >, >=) or 'KEY in A,B', KEY a column"


@dataclass(frozen=True)
class Filter:
    """One condition on a column: ``op`` is one of ``= != < <= > >= in``; ``values`` the right side."""

    column: str
    op: str
    values: tuple[str, ...]

    @property
    def text(self) -> str:
        if self.op == "in":
            return f"{self.column} in {','.join(self.values)}"
        return f"{self.column}{self.op}{self.values[0]}"

    def mask(self, cells: pd.Series) -> pd.Series:
        """Which cells pass."""
        if self.op in _ORDER:
            bound = try_quantity(self.values[0])
            compare = _ORDER[self.op]
            return cells.map(lambda cell: (x := _number(cell)) is not None and compare(x, bound)).astype(bool)
        hit = cells.map(lambda cell: any(_equal(cell, value) for value in self.values)).astype(bool)
        return ~hit if self.op == "!=" else hit


def _number(cell) -> float | None:
    if cell is None or isinstance(cell, bool):
        return None
    value = try_quantity(cell)
    return None if value is None or value != value else value


def _equal(cell, wanted: str) -> bool:
    a, b = _number(cell), try_quantity(wanted)
    if a is not None and b is not None:
        return a == b
    text = "" if cell is None or (isinstance(cell, float) and cell != cell) else str(cell).strip()
    return text == wanted


def parse_where(where: Mapping[str, object] | Iterable[str] | str | None) -> list[Filter]:
    """Filters from ``{"dataset": "rw"}`` (equality; a list value means ``in``), or from texts such as
    ``"budget<3e20"``, ``"model in a,b"`` (a list, or one text with filters separated by commas).

    Raises
    ------
    InputError
        A filter that is not one of the forms above, naming it.
    """
    if not where:
        return []
    if isinstance(where, Mapping):
        out = []
        for column, wanted in where.items():
            values = tuple(map(str, wanted)) if isinstance(wanted, (list, tuple, set)) else (str(wanted),)
            out.append(Filter(str(column).strip(), "in" if len(values) > 1 else "=", values))
        return out
    if isinstance(where, str):
        items = [where]
    elif isinstance(where, Iterable) and not isinstance(where, bytes):
        items = list(where)
    else:
        raise InputError(f"where= {where!r} is not a filter; write {SYNTAX}")
    filters: list[Filter] = []
    for item in items:
        for part in str(item).split(","):
            part = part.strip()
            match = _IN.match(part)
            if match:
                filters.append(Filter(match["column"], "in", (match["value"],)))
                continue
            match = _COMPARE.match(part)
            if match:
                filters.append(_compare(match, item))
            elif filters and filters[-1].op == "in" and part and not re.search(r"[<>=!]", part):
                last = filters[-1]
                filters[-1] = Filter(last.column, "in", (*last.values, part))
            else:
                raise InputError(f"where= {str(item)!r} is not a filter; write {SYNTAX}")
    return filters


def _compare(match: re.Match, item: str) -> Filter:
    column, op, value = match["column"].strip(), match["op"], match["value"]
    op = "=" if op == "==" else op
    if not column or (not value and op in _ORDER):
        raise InputError(f"where= {str(item)!r} is not a filter; write {SYNTAX}")
    if op in _ORDER and try_quantity(value) is None:
        raise InputError(f"where= {str(item)!r}: {value!r} is not a number; {op} compares numbers "
                         "(write it like 3e20 or 7B)")
    if op in _ORDER and not math.isfinite(try_quantity(value)):
        raise InputError(f"where= {str(item)!r}: {value!r} is beyond the largest number (about 1.8e308); "
                         f"{op} compares finite numbers")
    return Filter(column, op, (value,))
