"""Choosing a mixture: exact Euclidean projection onto the (capped) simplex and projected ascent.

A mixing ratio p lies on the simplex {p : p_i >= 0, sum_i p_i = 1}; per-source caps u_i (the most
of a source one can buy, as a fraction of the training set) shrink it to
{p : 0 <= p_i <= u_i, sum_i p_i = 1}.  :func:`project_simplex` returns the nearest such point in
Euclidean distance, exactly: the projection is ``clip(v - tau, 0, u)`` for the unique ``tau``
that makes it sum to 1, and ``tau`` is found on the sorted breakpoints of that piecewise-linear
sum (Duchi et al. 2008 without caps), not by bisection.

:func:`ascend` maximises (or minimises) a smooth function of p on that set by projected gradient
steps with a backtracking step size: a step is taken only when the objective improves.

Examples
--------
>>> project_simplex([0.5, 0.5, 0.5]).round(6).tolist()
[0.333333, 0.333333, 0.333333]
>>> project_simplex([2.0, 0.0, -1.0]).tolist()
[1.0, 0.0, 0.0]
>>> project_simplex([2.0, 0.0, -1.0], caps=[0.6, 1.0, 1.0]).tolist()
[0.6, 0.4, 0.0]
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from scalelaw import protocol
from scalelaw.errors import InputError

#: How far from 1 the entries of a logged ratio may sum (logs round weights to a few decimals).
RATIO_TOLERANCE = 0.01

Objective = Callable[[np.ndarray], tuple[float, np.ndarray]]


def check_ratio(ratio, names: Sequence[str], *, where: str = "ratio") -> np.ndarray:
    """A mixing ratio as an array over ``names``, checked and renormalised to sum exactly to 1.

    Parameters
    ----------
    ratio
        A mapping name -> weight, or a sequence in the order of ``names``.
    names
        The sources (or domains), in order.
    where
        How the error names the input, e.g. ``"ratio"`` or ``"pilots.csv, row 3"``.

    Raises
    ------
    InputError
        For a missing or unknown name, a negative or non-finite entry, or a sum more than
        :data:`RATIO_TOLERANCE` away from 1.
    """
    names = list(names)
    if isinstance(ratio, Mapping):
        unknown = sorted(set(ratio) - set(names))
        if unknown:
            raise InputError(f"{where}: unknown source {unknown[0]!r}; the sources are {', '.join(names)}")
        values = np.array([float(ratio.get(n, 0.0)) for n in names])
    else:
        values = np.asarray(ratio, dtype=float).ravel()
        if values.size != len(names):
            raise InputError(
                f"{where}: {values.size} weights given for {len(names)} sources "
                f"({', '.join(names)}); give one weight per source"
            )
    if not np.all(np.isfinite(values)):
        raise InputError(f"{where}: the weights {values.tolist()} are not all finite numbers")
    if np.any(values < 0):
        j = int(np.flatnonzero(values < 0)[0])
        raise InputError(f"{where}: the weight of {names[j]!r} is {values[j]:g}; mixing weights must be >= 0")
    total = float(values.sum())
    if abs(total - 1.0) > RATIO_TOLERANCE:
        raise InputError(
            f"{where}: the weights sum to {total:.6g}, not 1; give fractions of the "
            "training set that add up to 1"
        )
    return values / total


def check_caps(caps: Mapping[str, float] | Sequence[float] | None, names: Sequence[str]) -> np.ndarray | None:
    """Per-source caps in [0, 1] as an array over ``names`` (1 where not given), or ``None``.

    Raises
    ------
    InputError
        For an unknown source, a cap outside [0, 1], or caps that sum below 1 (no mixture fits).
    """
    if caps is None or (isinstance(caps, Mapping) and not caps):
        return None
    names = list(names)
    if isinstance(caps, Mapping):
        unknown = sorted(set(caps) - set(names))
        if unknown:
            raise InputError(f"caps= names an unknown source {unknown[0]!r}; the sources are {', '.join(names)}")
        values = np.array([float(caps.get(n, 1.0)) for n in names])
    else:
        values = np.asarray(caps, dtype=float).ravel()
        if values.size != len(names):
            raise InputError(f"caps= gives {values.size} caps for {len(names)} sources")
    if not np.all(np.isfinite(values)) or np.any((values < 0) | (values > 1)):
        raise InputError(f"caps={values.tolist()} must lie in [0, 1]")
    if values.sum() < 1.0 - 1e-12:
        raise InputError(
            f"the caps sum to {values.sum():.4g} < 1, so no mixture satisfies them; raise some caps"
        )
    return values


def caps_setting(caps) -> dict | list | None:
    """Caps as given (a mapping or a sequence), in a form a result's settings can store."""
    if caps is None:
        return None
    return dict(caps) if isinstance(caps, Mapping) else [float(c) for c in caps]


def project_simplex(v, caps=None) -> np.ndarray:
    """Exact Euclidean projection of ``v`` (shape (m,)) onto the simplex, optionally capped.

    Parameters
    ----------
    v
        Any point of R^m.
    caps
        Upper bounds u (m,) with sum(u) >= 1, or ``None`` for the plain simplex.

    Returns
    -------
    numpy.ndarray
        argmin_p ||p - v|| over {0 <= p_i <= u_i, sum p = 1}.
    """
    v = np.asarray(v, dtype=float).ravel()
    if caps is None:
        s = np.sort(v)[::-1]
        cumulative = np.cumsum(s) - 1.0
        k = np.arange(1, v.size + 1)
        rho = int(np.flatnonzero(s - cumulative / k > 0)[-1])
        tau = cumulative[rho] / (rho + 1)
        return np.maximum(v - tau, 0.0)
    u = np.asarray(caps, dtype=float).ravel()
    # g(tau) = sum_i clip(v_i - tau, 0, u_i) falls piecewise linearly from sum(u) to 0; its kinks
    # are at v_i - u_i (entry i leaves its cap) and v_i (entry i reaches 0).
    knots = np.unique(np.concatenate([v - u, v]))

    def total(tau: float) -> float:
        return float(np.clip(v - tau, 0.0, u).sum())

    values = np.array([total(t) for t in knots])
    # values decrease with the knot; find the segment [knots[j], knots[j+1]] where g crosses 1.
    j = int(np.searchsorted(-values, -1.0, side="right")) - 1
    j = min(max(j, 0), knots.size - 2) if knots.size > 1 else 0
    if knots.size == 1:
        tau = knots[0]
    else:
        t0, t1 = knots[j], knots[j + 1]
        g0, g1 = values[j], values[j + 1]
        tau = t0 if g0 == g1 else t0 + (g0 - 1.0) * (t1 - t0) / (g0 - g1)
    p = np.clip(v - tau, 0.0, u)
    # Remove the last rounding error so that the ratio sums to 1 to machine precision.
    free = (p > 0) & (p < u)
    if free.any():
        p[free] += (1.0 - p.sum()) / free.sum()
    return p


@protocol.value_kind("transport.path")
@dataclass(frozen=True)
class Path:
    """The iterates of :func:`ascend`: ``ratios`` (T, m), ``values`` (T,), ``steps`` (T,).

    Part of the results that keep a choice (a selection, a mixing optimum), stored with them.
    """

    ratios: np.ndarray
    values: np.ndarray
    steps: np.ndarray
    converged: bool
    message: str
    evaluations: int = field(default=0)

    @property
    def ratio(self) -> np.ndarray:
        """The last (best) iterate."""
        return self.ratios[-1]

    @property
    def value(self) -> float:
        return float(self.values[-1])


def ascend(
    objective: Objective,
    start,
    *,
    caps=None,
    maximize: bool = True,
    step: float = 1.0,
    iterations: int = 100,
    tol: float = 1e-9,
) -> Path:
    """Projected gradient ascent (or descent) of ``objective`` on the (capped) simplex.

    Parameters
    ----------
    objective
        ``objective(p) -> (value, gradient (m,))``.  A gradient that is defined only up to a
        constant added to every entry (as an OT gradient from dual potentials) is fine: the
        projection removes such a constant.
    start
        The first ratio (it is projected first).
    caps
        Per-source upper bounds, or ``None``.
    maximize
        Ascend (accuracy) when true, descend (loss) when false.
    step
        Initial step length in units of ratio per unit of gradient; halved until the objective
        improves and doubled (up to its initial value times 1e3) after an accepted step.
    iterations
        Most accepted steps.
    tol
        Stop when a step moves p by less than this (Euclidean norm), or no step improves.
    """
    sign = 1.0 if maximize else -1.0
    p = project_simplex(start, caps)
    value, grad = objective(p)
    evaluations = 1
    ratios, values, steps = [p], [value], [0.0]
    length = float(step)
    converged, message = False, "iteration limit reached"
    for _ in range(iterations):
        accepted = False
        for _halving in range(40):
            candidate = project_simplex(p + sign * length * np.asarray(grad, dtype=float), caps)
            move = float(np.linalg.norm(candidate - p))
            if move < tol:
                break
            new_value, new_grad = objective(candidate)
            evaluations += 1
            if sign * (new_value - value) > 0:
                accepted = True
                break
            length *= 0.5
        if not accepted:
            converged, message = True, "no projected step improves the objective (stationary point)"
            break
        p, value, grad = candidate, new_value, new_grad
        ratios.append(p)
        values.append(value)
        steps.append(length)
        length = min(2.0 * length, 1e3 * step)
        if move < tol:
            converged, message = True, "converged"
            break
    return Path(
        np.array(ratios), np.array(values, dtype=float), np.array(steps), converged, message, evaluations
    )
