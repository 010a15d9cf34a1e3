"""Formula laws declared in full: bounds, log scale and starting values given beside the formula.

A formula such as ``"E + B*x**-c"`` gets default parameters by their role
(:meth:`scalelaw.laws.Law.from_expression`); :func:`declare` overrides them with declarations given
as data (``{"B": {"lower": 0, "log": True}}``) or in the inline syntax of :func:`constraints`
(``"B>0,log"``), and with starting values.  The declarations land in the law itself, so a fit's
artifact replays them.

Examples
--------
>>> constraints(["g>=0", "B>0,log", "a<2"])
{'g': {'lower': 0.0}, 'B': {'lower': 0.0, 'log': True}, 'a': {'upper': 2.0}}
>>> law = declare("E + B*x**-c", params={"B": {"lower": 0, "log": True}}, starts={"E": 1.5})
>>> law.param("B").log, law.param("E").starts
(True, (1.5,))
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace

from scalelaw.errors import LawError
from scalelaw.laws import Law, Param

_BOUND = re.compile(r"^([A-Za-z_]\w*)\s*(>=|<=|>|<)\s*(\S+)$")
_FIELDS = ("lower", "upper", "log", "starts", "doc")


def constraints(items: Iterable[str] | str | None, *, name: str = "params") -> dict[str, dict]:
    """Parameter declarations from the inline syntax: ``NAME>=VALUE``, ``NAME<=VALUE`` (``>``, ``<``
    alike: bounds are closed), and ``log`` after a parameter (optimise its logarithm; it is then
    positive).  Items may hold several, comma-separated: ``"B>0,log"`` or ``"g>=0,B>0,log"``.

    ``name`` is the input the items came from, named in the error message.
    """
    out: dict[str, dict] = {}
    current = None
    for item in [items] if isinstance(items, str) else (items or ()):
        for part in (p.strip() for p in str(item).split(",")):
            if part == "log" and current is not None:
                out[current]["log"] = True
                continue
            if part.isidentifier() and part != "log":
                current = part
                out.setdefault(part, {})
                continue
            match = _BOUND.match(part)
            if match is None:
                raise LawError(f"{name}: {part!r} is not NAME>=VALUE, NAME<=VALUE or 'log' after a "
                               "parameter, e.g. 'B>0,log'")
            current, op, text = match.groups()
            try:
                value = float(text)
            except ValueError:
                raise LawError(f"{name}: the bound {text!r} of {current!r} is not a number") from None
            out.setdefault(current, {})["lower" if op.startswith(">") else "upper"] = value
    return out


def declare(formula: str, *, columns: Iterable[str] = (), params: Mapping | None = None,
            starts: Mapping[str, object] | None = None, **options) -> Law:
    """A law from ``formula`` whose parameters carry the given declarations.

    Parameters
    ----------
    params
        Parameter name -> :class:`~scalelaw.laws.Param`, or a mapping of its fields (``lower``,
        ``upper``: bounds in natural units; ``log``: optimise the logarithm; ``starts``; ``doc``).
        Default starts outside the declared bounds are dropped; when none is left, one inside them
        is chosen.
    starts
        Parameter name -> a starting value or several (natural units); they replace that
        parameter's default starts.
    options
        ``inputs``, ``name``, ``space`` and ``target`` of :meth:`~scalelaw.laws.Law.from_expression`.
    """
    law = Law.from_expression(formula, columns=columns, **options)
    params, starts = dict(params or {}), dict(starts or {})
    for label, given in (("bounds", params), ("starting values", starts)):
        unknown = sorted(set(given) - set(law.param_names))
        if unknown:
            raise LawError(f"{label} are given for {', '.join(map(repr, unknown))}, not a parameter of "
                           f"{formula!r}; its parameters are {', '.join(law.param_names)}")
    declared = []
    for p in law.params:
        spec = params.get(p.name, {})
        if not isinstance(spec, Param):
            bad = sorted(set(spec) - set(_FIELDS))
            if bad:
                raise LawError(f"the declaration of {p.name!r} has an unknown field {bad[0]!r}; use "
                               f"{', '.join(_FIELDS)}")
            spec = _within(replace(p, starts=()), p.starts, **spec)
        if p.name in starts:
            values = starts[p.name]
            values = (values,) if isinstance(values, (int, float, str)) else tuple(values)
            try:
                spec = replace(spec, starts=tuple(float(v) for v in values))
            except ValueError:
                raise LawError(f"the starting value {values!r} of {p.name!r} is not a number") from None
        declared.append(spec)
    final = replace(law, params=tuple(declared))
    if any(not p.starts for p in final.params if p.name not in final.linear_params):
        final = replace(final, params=tuple(p if p.starts or p.name in final.linear_params
                                            else replace(p, starts=_inside(p)) for p in final.params))
    return final


def _within(p: Param, defaults: tuple[float, ...], **fields) -> Param:
    """``p`` with ``fields`` and the default starts that lie within its new bounds."""
    if "starts" in fields:
        return replace(p, **fields)
    if fields.get("log") and "lower" not in fields and p.lower < 0:
        fields["lower"] = 0.0
    bounded = replace(p, **fields)
    kept = tuple(s for s in defaults if bounded.lower <= s <= bounded.upper and (s > 0 or not bounded.log))
    return replace(bounded, starts=kept or (_inside(bounded) if defaults else ()))


def _inside(p: Param) -> tuple[float, ...]:
    """One start inside the bounds of ``p``: the midpoint (geometric on a log scale) or a unit away."""
    lo, hi = p.lower, p.upper
    if math.isfinite(lo) and math.isfinite(hi):
        if p.log:
            return (math.sqrt(lo * hi) if lo > 0 else hi / 10.0,)
        return (0.5 * (lo + hi),)
    if math.isfinite(lo):
        return (max(10.0 * lo, 1.0) if p.log else lo + 1.0,)
    if math.isfinite(hi):
        return (hi - 1.0,)
    return (1.0,)
