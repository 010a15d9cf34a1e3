"""Implicit laws: a law given as an equation in y, solved for y at every point.

``"(y - E)/(e0 - y)**alpha = B*x**-c"`` defines y(x; theta) as the root of
G(y) = lhs - rhs on the bracket where G is monotone, here (E, e0), read from the terms ``(y - E)``
and ``(e0 - y)`` of the equation (or declared with ``bracket=``).  The root is found for every point
and every parameter draw at once by a safeguarded Newton iteration (a Newton step when it stays
inside the current bracket, else bisection), to machine precision.  Derivatives come by implicit
differentiation, dy/dtheta = -(dG/dtheta) / (dG/dy), from the symbolic derivatives of G, so the
engine fits an implicit law like any other: :class:`~scalelaw.laws.ImplicitLaw` offers the same
``program`` and ``value_program`` as :class:`~scalelaw.laws.Law`.  This module holds the solver and
imports no law.

Examples
--------
>>> from scalelaw.laws import ImplicitLaw
>>> law = ImplicitLaw.from_expression("(y - E)/(e0 - y)**alpha = B*x**-c")
>>> law.bracket, law.param_names
(('E', 'e0'), ('B', 'E', 'alpha', 'c', 'e0'))
>>> y = law.evaluate({"x": 4.0}, {"E": 1.0, "e0": 5.0, "alpha": 1.0, "B": 2.0, "c": 0.5})
>>> round(float(y), 12)  # (y - 1)/(5 - y) = 1
3.0
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from scalelaw import expression as ex
from scalelaw.errors import LawError

if TYPE_CHECKING:
    from scalelaw.laws import ImplicitLaw

#: The symbol an implicit law solves for.
SOLVED = "y"
_EQUALS = re.compile(r"(?<![<>=!])=(?!=)")
_ITERATIONS = 200


def is_equation(formula: str) -> bool:
    """Whether a formula is an equation (one ``=``, not ``==``, ``<=`` or ``>=``)."""
    return isinstance(formula, str) and len(_EQUALS.findall(formula)) == 1


def parse_equation(formula: str) -> ex.Node:
    """G = lhs - rhs of ``"lhs = rhs"``."""
    if not is_equation(formula):
        raise LawError(f"the implicit law {formula!r} must be one equation 'lhs = rhs' in {SOLVED}")
    lhs, rhs = _EQUALS.split(formula)
    node = ex.add(ex.parse(lhs), ex.neg(ex.parse(rhs)))
    if SOLVED not in node.symbols:
        raise LawError(f"the equation {formula!r} does not contain {SOLVED}; write it as an equation in {SOLVED} "
                       "or give the law as a formula")
    return node


def infer_bracket(node: ex.Node) -> tuple[str, str] | None:
    """The bracket (lower, upper) of y read from terms ``(y - P)`` and ``(P - y)`` of G."""
    lower = upper = None
    y, minus_y = ex.Sym(SOLVED), ex.neg(ex.Sym(SOLVED))
    stack = [node]
    while stack:
        item = stack.pop()
        stack.extend(item.children)
        if isinstance(item, ex.Add) and len(item.terms) == 2:
            for a, b in (item.terms, item.terms[::-1]):
                if a == y and SOLVED not in b.symbols:
                    lower = lower or str(ex.neg(b))
                if a == minus_y and SOLVED not in b.symbols:
                    upper = upper or str(b)
    return (lower, upper) if lower and upper else None


class ImplicitProgram:
    """The root y of G and, with ``derivatives``, dy/dtheta for each parameter (a Program's interface)."""

    def __init__(self, law: ImplicitLaw, *, derivatives: bool) -> None:
        G, inputs = law.expression, frozenset(law.inputs)
        self.step = ex.Program([G, ex.derivative(G, SOLVED)], inputs)
        self.ends = ex.Program([ex.parse(b) for b in law.bracket], inputs)
        self.grads = ex.Program([ex.derivative(G, n) for n in law.param_names], inputs) if derivatives else None

    def bind(self, data: dict[str, np.ndarray]) -> BoundImplicit:
        return BoundImplicit(self, data)


class BoundImplicit:
    """An :class:`ImplicitProgram` with its data fixed; call it with parameter values."""

    def __init__(self, program: ImplicitProgram, data: dict[str, np.ndarray]) -> None:
        self.step = program.step.bind(data)
        self.ends = program.ends.bind(data)
        self.grads = None if program.grads is None else program.grads.bind(data)
        self.shape = np.broadcast_shapes(*(np.shape(v) for v in data.values()))

    def __call__(self, params: dict[str, object]) -> list[np.ndarray]:
        shape = np.broadcast_shapes(self.shape, *(np.shape(v) for v in params.values()))
        lo, hi = (np.broadcast_to(np.asarray(v, dtype=float), shape) for v in self.ends(params))
        y = solve(lambda y: self.step(params | {SOLVED: y}), lo, hi)
        if self.grads is None:
            return [y]
        with np.errstate(all="ignore"):
            at = params | {SOLVED: y}
            slope = np.broadcast_to(self.step(at)[1], shape)
            return [y, *(-np.broadcast_to(g, shape) / slope for g in self.grads(at))]


def solve(step, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Roots of G on [lo, hi] elementwise; ``step(y)`` returns (G, dG/dy).  NaN where G does not
    change sign on the bracket (no root there).

    G is first evaluated on :data:`_GRID` (fractions of the bracket, dense near both ends) in one
    call; the sub-interval where it changes sign is then narrowed by safeguarded Newton steps.
    """
    eps = np.finfo(float).eps
    with np.errstate(all="ignore"):
        width = hi - lo
        points = lo + width * _GRID.reshape(-1, *([1] * lo.ndim))
        points[0], points[-1] = lo, hi
        values = np.broadcast_to(step(points)[0], points.shape)
        rising = values[-1] > values[0]
        below = np.where(rising, values < 0, values > 0)  # the root lies above these points
        ok = (lo < hi) & ~np.isnan(values[0]) & ~np.isnan(values[-1]) & below[0] & ~below[-1]
        exact = values == 0
        k = np.clip(np.sum(below, axis=0) - 1, 0, len(_GRID) - 2)
        a = np.take_along_axis(points, k[None], axis=0)[0]
        b = np.take_along_axis(points, k[None] + 1, axis=0)[0]
        ok |= exact[0] | exact[-1]
        y = 0.5 * (a + b)
        finished = ~ok
        moved = np.full(lo.shape, np.inf)
        for _ in range(_ITERATIONS):
            g, slope = (np.broadcast_to(v, lo.shape) for v in step(y))
            above = (g < 0) == rising  # the root lies above y
            a, b = np.where(above & ~finished, y, a), np.where(above | finished, b, y)
            newton = y - g / slope
            slack = 4 * eps * np.abs(y)  # a Newton step that leaves the bracket by rounding only stays
            slow = np.abs(newton - y) > 0.5 * moved  # Newton steps that shrink slowly (linearly): bisect
            newton_step = (newton >= a - slack) & (newton <= b + slack) & ~slow
            new = np.where(g == 0, y, np.where(newton_step, np.clip(newton, a, b), 0.5 * (a + b)))
            size = np.abs(new - y)
            # converged: a step within rounding, a Newton step that contracts quadratically to 1e-13,
            # or a bracket a few ulps wide
            done = ((size <= 4 * eps * np.abs(y)) | (newton_step & (size <= 1e-13 * np.abs(y)) & (size <= 1e-3 * moved))
                    | (b - a <= 4 * eps * np.maximum(np.abs(a), np.abs(b))))
            y = np.where(finished, y, new)
            moved = np.where(newton_step, size, np.inf)
            finished |= done
            if np.all(finished):
                break
        y = np.where(exact[0], lo, np.where(exact[-1], hi, y))
    return np.where(ok, y, np.nan)


#: Fractions of the bracket where G is first evaluated: logistic spacing, dense near both ends.
_GRID = 1.0 / (1.0 + np.exp(-np.linspace(-24.0, 24.0, 33)))
_GRID[0], _GRID[-1] = 0.0, 1.0
