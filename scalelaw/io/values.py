"""Values of named inputs as people and JSON give them: numbers with units, lists, ``KEY=VALUE`` pairs.

One value is a number (``7e10``) or a text with a unit suffix (``"70B"``, ``"1.4T"``, ``"6e23"``); a list
input takes a list of those, comma-separated text (``"1.4T,2.8T"``) or both.  ``name`` labels the input
in messages, written ``params=`` (the command line spells it as its option).

>>> numbers("flops=", ["1e21,1e22", 2e9])
[1e+21, 1e+22, 2000000000.0]
>>> rows(params=[7e9, 7e10], tokens=[1.4e12])
[{'params': 7000000000.0, 'tokens': 1400000000000.0}, {'params': 70000000000.0, 'tokens': 1400000000000.0}]
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from scalelaw.errors import InputError
from scalelaw.io.units import parse_quantity

Items = Iterable[object] | str | float | None


def _field(name: str) -> str:
    """The input a label names: ``params=`` -> ``params``, ``set=n_layers`` -> ``set``; an option's
    label (the command line's) -> its name."""
    return name.lstrip("-").split("=")[0].split(" ")[0].replace("-", "_")


def _items(items: Items) -> list[object]:
    if items is None:
        return []
    if isinstance(items, (str, bytes, int, float)) or not isinstance(items, Iterable):
        return [items]
    return list(items)


def split(name: str, items: Items) -> list:
    """The values of a list input in order: each item split at commas (numbers are kept as they are)."""
    values: list = []
    for item in _items(items):
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            values.append(item)
            continue
        parts = [part.strip() for part in str(item).split(",")]
        if not all(parts):
            raise InputError(f"{name}: {item!r} has an empty value; separate values with single commas",
                             field=_field(name))
        values += parts
    return values


def pairs(name: str, items: Mapping | Items) -> dict[str, object]:
    """``KEY=VALUE`` values of a list input (``"a=1,b=2"``, a list of those, or a mapping)."""
    if isinstance(items, Mapping):
        return {str(k).strip(): v for k, v in items.items()}
    out: dict[str, object] = {}
    for item in split(name, items):
        if not isinstance(item, str) or "=" not in item:
            raise InputError(f"{name} {item!r} is not KEY=VALUE", field=_field(name))
        key, value = item.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def number(name: str, value: object, *, positive: bool = True) -> float:
    """One value such as ``"7B"``, ``"5.76e23"`` or ``7e9``, naming the input when it is wrong."""
    try:
        parsed = parse_quantity(value)
    except ValueError as err:
        raise InputError(f"{name}: {err}", field=_field(name)) from err
    if positive and (not math.isfinite(parsed) or parsed <= 0):
        raise InputError(f"{name}: {value!r} must be a positive number", field=_field(name))
    return parsed


def numbers(name: str, items: Items, *, positive: bool = True) -> list[float]:
    """Every value of a list input as a number (suffixes such as 7B allowed)."""
    return [number(name, item, positive=positive) for item in split(name, items)]


def one(name: str, items: Items, *, positive: bool = True) -> float | None:
    """The single value of an input that answers for one point (None when not given)."""
    values = numbers(name, items, positive=positive)
    if len(values) > 1:
        raise InputError(f"{name}: this command takes one value, not {len(values)}", field=_field(name))
    return values[0] if values else None


def shares(name: str, items: Mapping | Items) -> dict[str, float] | None:
    """``NAME=SHARE`` caps as numbers; None when none are given."""
    out = {}
    for key, value in pairs(name, items).items():
        try:
            out[key] = float(value)
        except (TypeError, ValueError) as err:
            raise InputError(f"{name} {key}={value}: the cap must be a number in [0, 1]",
                             field=_field(name)) from err
    return out or None


def rows(**columns: list[float]) -> list[dict[str, float]]:
    """Points from list inputs: each input gives one value (used for every row) or one per row."""
    given = {name: values for name, values in columns.items() if values}
    sizes = {len(values) for values in given.values()} - {1}
    if len(sizes) > 1:
        counts = ", ".join(f"{name}= {len(values)}" for name, values in given.items())
        raise InputError(f"give one value or the same number of values to each option ({counts})",
                         field=next(iter(given)))
    n = sizes.pop() if sizes else 1
    return [{name: values[i if len(values) > 1 else 0] for name, values in given.items()} for i in range(n)]
