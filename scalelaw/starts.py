"""Named sets of starting points for the multi-start fit.

Points are returned in the optimiser's space (log value for log-scale parameters), one row per
start, columns in the law's parameter order.

* ``hoffmann``: Hoffmann et al.'s grid for E + A N^-alpha + B D^-beta, endpoints included:
  alpha, beta in {0, 0.5, ..., 2}, e = log E in {-1, -0.5, ..., 1}, a = log A and b = log B in
  {0, 5, ..., 25}: 4,500 starts.
* ``hoffmann-estimate``: one start at Hoffmann et al.'s unrounded estimate (as Besiroglu et al.
  started their likelihood fit).
* ``default``: the grid of each parameter's declared ``starts``; parameters the law is linear in
  are solved by least squares for every point of that grid, so they need no guesses.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping

import numpy as np

from scalelaw.errors import LawError
from scalelaw.laws import Law

START_SETS = ("default", "hoffmann", "hoffmann-estimate")
MAX_STARTS = 50_000

HOFFMANN_GRID = {
    "A": np.arange(0.0, 26.0, 5.0),  # log A
    "B": np.arange(0.0, 26.0, 5.0),  # log B
    "E": np.arange(-1.0, 1.01, 0.5),  # log E
    "alpha": np.arange(0.0, 2.01, 0.5),
    "beta": np.arange(0.0, 2.01, 0.5),
}
#: Hoffmann et al. (2022), Approach 3, unrounded (log A, log B, log E, alpha, beta).
HOFFMANN_ESTIMATE = {"A": 6.0073404, "B": 6.0179186, "E": 0.5267228, "alpha": 0.33917084,
                     "beta": 0.2849083}


def to_optimizer(law: Law, natural: np.ndarray) -> np.ndarray:
    """Natural parameter values (S, p) -> optimiser space."""
    out = np.array(natural, dtype=float)
    for j, p in enumerate(law.params):
        if p.log:
            with np.errstate(divide="ignore"):
                out[:, j] = np.log(out[:, j])
    return out


def to_natural(law: Law, u: np.ndarray) -> np.ndarray:
    """Optimiser-space values (..., p) -> natural parameter values."""
    out = np.array(u, dtype=float)
    with np.errstate(over="ignore"):
        for j, p in enumerate(law.params):
            if p.log:
                out[..., j] = np.exp(out[..., j])
    return out


def _chinchilla_shaped(law: Law, name: str) -> None:
    need = {"E", "A", "B", "alpha", "beta"}
    if set(law.param_names) != need or not all(law.param(n).log for n in ("E", "A", "B")):
        raise LawError(f"the start set {name!r} is for laws with parameters E, A, B (log scale), alpha, "
                       f"beta such as 'chinchilla'; law {law.name!r} has {', '.join(law.param_names)}. "
                       "Use starts='default'")


def hoffmann(law: Law) -> np.ndarray:
    _chinchilla_shaped(law, "hoffmann")
    grids = [HOFFMANN_GRID[n] for n in law.param_names]
    return np.array(list(itertools.product(*grids)), dtype=float)


def hoffmann_estimate(law: Law) -> np.ndarray:
    _chinchilla_shaped(law, "hoffmann-estimate")
    return np.array([[HOFFMANN_ESTIMATE[n] for n in law.param_names]])


def default(law: Law, data: Mapping[str, np.ndarray], y: np.ndarray, batch: int | None = None) -> np.ndarray:
    """Grid over declared starts, with the law's linear parameters solved by least squares (for at most
    ``batch`` starts at a time; default all)."""
    names = law.param_names
    linear = set(law.linear_params)
    unstarted = [p.name for p in law.params if not p.starts and p.name not in linear]
    if unstarted:
        raise LawError(f"law {law.name!r} declares no starting values for {', '.join(unstarted)}; only "
                       "parameters the law is linear in are solved without them. Declare Param(starts=...) "
                       "or pass starting points")
    grids = [law.param(n).starts if n not in linear else (0.0,) for n in names]
    size = int(np.prod([len(g) for g in grids]))
    if size > MAX_STARTS:
        raise LawError(f"the default start grid of law {law.name!r} has {size} points; "
                       f"declare fewer starts (at most {MAX_STARTS})")
    natural = np.array(list(itertools.product(*grids)), dtype=float)
    if linear:
        natural = _solve_linear(law, data, y, natural, batch or len(natural))
    return to_optimizer(law, natural)


def residual_weights(law: Law, y: np.ndarray) -> np.ndarray:
    """First-order weights that turn the law's residual space into y units: 1/y for log (and excess), 1/(y(1-y)) for
    logit, 1 otherwise (the linear parameters are solved by least squares under these weights)."""
    if law.space in ("log", "excess"):
        return 1.0 / y
    if law.space == "logit":
        return 1.0 / np.clip(y * (1 - y), 1e-6, None)
    return np.ones_like(y)


def _solve_linear(law: Law, data: Mapping[str, np.ndarray], y: np.ndarray, natural: np.ndarray,
                  batch: int) -> np.ndarray:
    names = law.param_names
    cols = [j for j, n in enumerate(names) if n in law.linear_params]
    bound = law.program.bind(data)
    w = residual_weights(law, y)
    solution = np.empty((len(natural), len(cols)))
    size = sum_abs = 0.0
    for i in range(0, len(natural), batch):
        part = natural[i : i + batch]
        outs = bound({n: part[:, j : j + 1] for j, n in enumerate(names)})
        h = np.broadcast_to(outs[0], (part.shape[0], y.shape[0]))
        G = np.stack([np.broadcast_to(outs[1 + j], h.shape) for j in cols], axis=-1)
        with np.errstate(all="ignore"):  # a start where the law overflows: no finite solution, dropped later
            Gw = G * w[None, :, None]
            rhs = np.einsum("snq,sn->sq", Gw, (y - h) * w)
            M = np.matmul(np.swapaxes(Gw, 1, 2), Gw)
            ridge = 1e-10 * np.einsum("sqq->sq", M).max(axis=1)[:, None, None] * np.eye(len(cols)) + 1e-300
            solution[i : i + batch] = np.linalg.solve(M + ridge, rhs[..., None])[..., 0]
        # mean |G| per linear parameter over every start and row (one batch: as np.mean over all)
        means = np.array([np.mean(np.abs(G[..., k])) for k in range(len(cols))])
        sum_abs = sum_abs + means * G.shape[0] * G.shape[1] if batch < len(natural) else means
        size += G.shape[0] * G.shape[1]
        del outs, h, G, Gw
    typical_abs = sum_abs / size if batch < len(natural) else sum_abs
    out = natural.copy()
    scale = np.mean(np.abs(y))
    for k, j in enumerate(cols):
        p = law.params[j]
        value = solution[:, k]
        typical = scale / max(typical_abs[k], 1e-300)
        floor = p.lower if not p.log else 1e-6 * typical
        value = np.where(np.isfinite(value), value, floor)
        out[:, j] = np.clip(value, max(floor, p.lower) if p.log else p.lower, p.upper)
    return out


def start_points(law: Law, starts, data: Mapping[str, np.ndarray], y: np.ndarray,
                 batch: int | None = None) -> np.ndarray:
    """Starting points in the optimiser's space for a named set, a mapping or an array.

    ``starts`` is a name from :data:`START_SETS`, a mapping of parameter values (one start), or an
    array of shape (S, p) of natural values in the law's parameter order; ``batch`` bounds the starts
    evaluated on the data at once.
    """
    if isinstance(starts, str):
        if starts == "hoffmann":
            return hoffmann(law)
        if starts == "hoffmann-estimate":
            return hoffmann_estimate(law)
        if starts == "default":
            return default(law, data, y, batch)
        raise LawError(f"unknown start set {starts!r}; choose one of {', '.join(START_SETS)}")
    if isinstance(starts, Mapping):
        missing = set(law.param_names) - set(starts)
        if missing:
            raise LawError(f"the starting point lacks {sorted(missing)}")
        return to_optimizer(law, np.array([[float(starts[n]) for n in law.param_names]]))
    arr = np.atleast_2d(np.asarray(starts, dtype=float))
    if arr.shape[1] != len(law.param_names):
        raise LawError(f"starting points have {arr.shape[1]} columns; law {law.name!r} has "
                       f"{len(law.param_names)} parameters")
    return to_optimizer(law, arr)
