"""Formula laws fitted on standardised inputs: x / x_ref inside, parameters in the user's units outside.

A formula such as ``"E + B*x**-c"`` fitted to raw x (examples seen, 1e4 to 1e9) needs B near
x^c, far from any default start; fitted to z = x / x_ref (x_ref the power of two nearest the
geometric mean of x, so that the division is exact) it needs B near 1.  The conversion back is
exact when every occurrence of x sits in a product with a coefficient: a parameter that appears
nowhere else, has no finite bound other than 0 and its role's default starts, e.g. B in
``B*x**-c`` or k in ``exp(-k*x)``.  Then f(z x_ref; theta_raw) = f(z; theta_z) with
``B_raw = B_z * x_ref**-e`` for the term ``B * x**e``, so the scaled optimum is the raw optimum,
with the same residuals and objective.  An input with any other occurrence (``log(x)``, ``x - x0``)
is left as it is.

Examples
--------
>>> from scalelaw.laws import get_law
>>> plan = Plan.of(get_law("E + B*x**-c"), {"x": np.array([1e4, 1e6, 1e8])})
>>> plan.refs, [(c, s) for c, s, _ in plan.terms]
({'x': 1048576.0}, [('B', 'x')])
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from scalelaw import expression as ex
from scalelaw.laws import Law

if TYPE_CHECKING:
    from scalelaw.result import FitResult

#: The role starts that a coefficient gets by default; declared starts (in user units) turn scaling off.
_ROLE_STARTS = ((), (0.1, 1.0, 10.0))


@dataclass(frozen=True)
class Plan:
    """How a law's inputs are scaled: ``refs`` (symbol -> x_ref) and ``terms`` (coefficient, symbol,
    exponent expression): coefficient_raw = coefficient_z * x_ref ** -exponent."""

    law: Law
    refs: dict
    terms: tuple

    @classmethod
    def of(cls, law: Law, data: Mapping[str, np.ndarray]) -> Plan | None:
        """The plan for ``law`` on ``data`` (inputs by symbol), or None when no input can be scaled."""
        found: dict[str, list] = {s: [] for s in law.inputs}
        failed: set[str] = set()
        counts = Counter(_symbols(law.expression))
        _collect(law.expression, law, counts, found, failed)
        for end in getattr(law, "bracket", ()):  # an implicit law's bracket must not move with x
            failed.update(ex.parse(end).symbols & set(law.inputs))
        refs, terms = {}, []
        for symbol in law.inputs:
            values = np.asarray(data[symbol], dtype=float)
            if symbol in failed or not found[symbol] or np.any(values <= 0):
                continue
            ref = float(2.0 ** np.round(np.mean(np.log2(values))))
            if ref == 1.0 or not math.isfinite(ref):
                continue
            refs[symbol] = ref
            terms += [(coefficient, symbol, exponent) for coefficient, exponent in found[symbol]]
        return cls(law, refs, tuple(terms)) if refs else None

    def scale(self, data: Mapping[str, np.ndarray]) -> dict:
        """The inputs divided by their reference (the others as they are)."""
        return {s: np.asarray(v, dtype=float) / self.refs[s] if s in self.refs else v for s, v in data.items()}

    def scale_table(self, table: pd.DataFrame) -> pd.DataFrame:
        """A copy of ``table`` whose input columns are divided by their reference."""
        out = table.copy()
        for symbol, ref in self.refs.items():
            column = self.law.column(symbol)
            out[column] = pd.to_numeric(out[column], errors="coerce") / ref
        return out

    def in_user_units(self, scaled: FitResult, problem) -> FitResult:
        """The fit ``scaled`` (made on :meth:`scale_table`) with its parameters, bootstrap draws, data
        record, errors and noise model in the units of ``problem``'s table: same objective, same residuals."""
        from scalelaw.engine import data_record, noise_of
        from scalelaw.result import error_metrics

        names = self.law.param_names
        theta = self.to_user(np.array([[scaled.params[n] for n in names]]))[0]
        params = dict(zip(names, map(float, theta), strict=True))
        boot = None if scaled.bootstrap is None else self.to_user(scaled.bootstrap)
        prediction = self.law.evaluate(problem.data, params)
        return replace(scaled, params=params, bootstrap=boot, metrics=error_metrics(problem.y, prediction),
                       data=data_record(problem), noise=noise_of(problem, prediction))

    def to_user(self, natural: np.ndarray) -> np.ndarray:
        """Parameters fitted on the scaled inputs (..., p, natural values) -> the user's units."""
        natural = np.asarray(natural, dtype=float)
        out = natural.copy()
        names = self.law.param_names
        theta = {n: natural[..., j] for j, n in enumerate(names)}
        for coefficient, symbol, exponent in self.terms:
            e = ex.Program([exponent], frozenset()).bind({})(theta)[0]
            j = names.index(coefficient)
            out[..., j] = out[..., j] * np.exp(-np.asarray(e, dtype=float) * math.log(self.refs[symbol]))
        return out


def _symbols(node: ex.Node):
    if isinstance(node, ex.Sym):
        yield node.name
    for child in node.children:
        yield from _symbols(child)


def _power_of(node: ex.Node, inputs: frozenset) -> tuple[str, ex.Node] | None:
    """(symbol, exponent) when ``node`` is an input raised to a parameter expression (x, x**e, (x**a)**b)."""
    if isinstance(node, ex.Sym) and node.name in inputs:
        return node.name, ex.ONE
    if isinstance(node, ex.Pow) and not (node.exponent.symbols & inputs):
        inner = _power_of(node.base, inputs)
        if inner is not None:
            return inner[0], ex.mul(inner[1], node.exponent)
    return None


def _collect(node: ex.Node, law: Law, counts: Counter, found: dict, failed: set) -> None:
    """Fill ``found`` with (coefficient, exponent) per input; inputs used any other way go to ``failed``."""
    inputs = frozenset(law.inputs)
    if not (node.symbols & inputs):
        return
    if isinstance(node, ex.Mul):
        powers = [_power_of(f, inputs) for f in node.factors]
        coefficient = next((f.name for f in node.factors if isinstance(f, ex.Sym) and _absorbs(law, f.name, counts)),
                           None)
        if coefficient is not None and all(p is not None or not (f.symbols & inputs)
                                           for f, p in zip(node.factors, powers, strict=True)):
            by_symbol: dict[str, ex.Node] = {}
            for p in powers:
                if p is not None:
                    by_symbol[p[0]] = ex.add(by_symbol.get(p[0], ex.ZERO), p[1])
            for symbol, exponent in by_symbol.items():
                found[symbol].append((coefficient, exponent))
            return
    if isinstance(node, ex.Sym) or _power_of(node, inputs) is not None:
        failed.update(node.symbols & inputs)
        return
    for child in node.children:
        _collect(child, law, counts, found, failed)


def _absorbs(law: Law, name: str, counts: Counter) -> bool:
    """Whether the parameter ``name`` can take up an input's scale: used once, bounds of 0 or none,
    and starts that are its role's defaults."""
    if name not in law.param_names or counts[name] != 1:
        return False
    p = law.param(name)
    return (p.lower in (0.0, -math.inf) and p.upper in (0.0, math.inf) and p.starts in _ROLE_STARTS)
