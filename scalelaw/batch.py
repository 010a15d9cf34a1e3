"""Many groups that share a law, fitted as one batch: one engine run for a whole chunk of groups.

A :class:`Chunk` holds the groups' rows laid out as padded arrays (group, row): rows past a group's
own count repeat its first row and carry zero weight, so they add exactly nothing to its objective.
Every starting point and bootstrap replicate of every group is one row of the optimiser's batch and
reads its own group's data (:func:`scalelaw.optimize.irls` with ``indexed=True``).  Rows of the
batch never interact, so each group's numbers are those of fitting it alone
(:func:`scalelaw.engine.fit`), to rounding.  A chunk and its outcome are plain arrays, so they travel
to other processes or machines as they are (:mod:`scalelaw.parallel`).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from scalelaw import identifiability, intervals, optimize
from scalelaw.engine import _transform, _transform_slope
from scalelaw.expression import BoundProgram
from scalelaw.laws import Law
from scalelaw.losses import make_loss
from scalelaw.starts import residual_weights, start_points, to_natural, to_optimizer

_ELEMENTS = 4_000_000  # batch rows x points x parameters held at once


@dataclass(frozen=True)
class Chunk:
    """Groups' rows as padded arrays: ``data`` symbol -> (G, n), ``y`` (G, n), ``weights`` (G, n)
    (zero on padding), ``counts`` (G,) rows per group and ``seeds`` (G,) bootstrap seeds."""

    data: dict
    y: np.ndarray
    weights: np.ndarray
    counts: np.ndarray
    seeds: np.ndarray


class Stack:
    """A law bound to a chunk: residuals and Jacobians of batch rows that each name their group."""

    def __init__(self, law: Law, chunk: Chunk) -> None:
        self.law = law
        self.chunk = chunk
        self.y_t = _transform(law.space, chunk.y)
        self._values = law.program.bind(chunk.data)._data_values
        self._log = np.array([p.log for p in law.params])
        self.lower = np.array([np.log(p.lower) if p.log and p.lower > 0 else (-np.inf if p.log else p.lower)
                               for p in law.params])
        self.upper = np.array([np.log(p.upper) if p.log else p.upper for p in law.params])
        self.n = chunk.y.shape[1]

    def outputs(self, u: np.ndarray, owner: np.ndarray) -> list:
        theta = to_natural(self.law, u)
        values = {i: v[owner] if np.ndim(v) == 2 else v for i, v in self._values.items()}
        with np.errstate(all="ignore"):
            outs = BoundProgram(self.law.program, values)(
                {n: theta[:, j : j + 1] for j, n in enumerate(self.law.param_names)})
        return theta, outs

    def residuals(self, u: np.ndarray, jacobian: bool, owner: np.ndarray):
        """r (S, n) and, optionally, dr/du (S, n, p) for batch rows ``u`` of groups ``owner``."""
        theta, outs = self.outputs(u, owner)
        space = self.law.space
        with np.errstate(all="ignore"):
            f = np.broadcast_to(outs[0], (u.shape[0], self.n))
            r = self.y_t[owner] - _transform(space, f)
            if not jacobian:
                return r, None
            scale = -_transform_slope(space, f)
            J = np.empty((u.shape[0], self.n, len(theta[0])))
            for j in range(J.shape[2]):
                d = outs[1 + j] * theta[:, j : j + 1] if self._log[j] else outs[1 + j]
                J[:, :, j] = scale * d
        return r, J


def _default_starts(law: Law, chunk: Chunk) -> np.ndarray:
    """The ``default`` start set of every group, (G, S, p): the declared grid with the law's linear
    parameters solved by least squares on each group's own rows (as :func:`scalelaw.starts.default`)."""
    names = law.param_names
    linear = set(law.linear_params)
    grids = [law.param(n).starts if n not in linear else (0.0,) for n in names]
    natural = np.array(list(itertools.product(*grids)), dtype=float)
    G = chunk.y.shape[0]
    out = np.broadcast_to(natural, (G, *natural.shape)).copy()
    if linear:
        cols = [j for j, n in enumerate(names) if n in linear]
        data = {s: v[:, None, :] for s, v in chunk.data.items()}
        with np.errstate(all="ignore"):
            outs = law.program.bind(data)({n: natural[:, j : j + 1] for j, n in enumerate(names)})
        y, mask = chunk.y, np.arange(chunk.y.shape[1]) < chunk.counts[:, None]
        shape = (G, len(natural), y.shape[1])
        h = np.broadcast_to(outs[0], shape)
        Gm = np.stack([np.broadcast_to(outs[1 + j], shape) for j in cols], axis=-1)
        w = np.where(mask, residual_weights(law, y), 0.0)[:, None, :]
        Gw = Gm * w[..., None]
        rhs = np.einsum("gsnq,gsn->gsq", Gw, (y[:, None, :] - h) * w)
        M = np.matmul(np.swapaxes(Gw, 2, 3), Gw)
        ridge = (1e-10 * np.einsum("gsqq->gsq", M).max(axis=2)[..., None, None] * np.eye(len(cols)) + 1e-300)
        with np.errstate(all="ignore"):
            solution = np.linalg.solve(M + ridge, rhs[..., None])[..., 0]
        counts = chunk.counts.astype(float)
        scale = np.sum(np.abs(y) * mask, axis=1) / counts
        for k, j in enumerate(cols):
            p = law.params[j]
            value = solution[..., k]
            typical = scale / np.maximum(np.sum(np.abs(Gm[..., k]) * mask[:, None, :], axis=(1, 2))
                                         / (counts * len(natural)), 1e-300)
            floor = (np.full(G, p.lower) if not p.log else 1e-6 * typical)[:, None]
            value = np.where(np.isfinite(value), value, floor)
            low = np.maximum(floor, p.lower) if p.log else np.full_like(floor, p.lower)
            out[..., j] = np.clip(value, low, p.upper)
    return to_optimizer(law, out.reshape(-1, len(names))).reshape(out.shape)


def _starts(law: Law, chunk: Chunk, starts) -> np.ndarray:
    if isinstance(starts, str) and starts == "default":
        return _default_starts(law, chunk)
    U = start_points(law, starts, {}, None)
    return np.broadcast_to(U, (chunk.y.shape[0], *U.shape)).copy()


def fit_chunk(law: Law, chunk: Chunk, *, loss: str = "huber", delta: float = 1e-3, starts="default",
              polish: int = 64, bootstrap: int = 0, finish: bool = False, **_) -> dict:
    """Fit every group of ``chunk`` in one batch; plain arrays per group (G leading).

    Returns ``u`` (G, p) optimiser-space optimum, ``objective``, ``converged``, ``iterations``,
    ``evaluations``, ``n_starts``, ``n_polished``, ``n_at_optimum``, ``prediction`` (G, n), each group's
    ``identifiability`` diagnostics (:func:`scalelaw.identifiability.diagnose_many`), its ``noise`` model
    (:func:`scalelaw.intervals.fit_noise_many`) and, with
    ``bootstrap``, ``draws`` (G, B, p) natural values (NaN where a replicate failed) and
    ``bootstrap_failed`` (G,).
    """
    loss_fn = make_loss(loss, delta)
    stack = Stack(law, chunk)
    G, n, p = chunk.y.shape[0], stack.n, len(law.params)
    U = np.minimum(np.maximum(_starts(law, chunk, starts), stack.lower), stack.upper)
    S0 = U.shape[1]
    flat = U.reshape(-1, p)
    owner0 = np.repeat(np.arange(G), S0)
    objective0 = np.empty(len(flat))
    step = max(1, _ELEMENTS // max(n, 1))
    for i in range(0, len(flat), step):
        rows = slice(i, i + step)
        r, _ = stack.residuals(flat[rows], False, owner0[rows])
        objective0[rows] = np.sum(chunk.weights[owner0[rows]] * loss_fn.rho(r), axis=1)
    objective0 = np.where(np.isfinite(objective0), objective0, np.inf).reshape(G, S0)
    P = min(polish, S0)
    order = np.argsort(objective0, axis=1, kind="stable")[:, :P]
    usable = np.isfinite(np.take_along_axis(objective0, order, axis=1))
    g_idx, s_idx = np.nonzero(usable)
    chosen = U[g_idx, order[g_idx, s_idx]]
    fun = np.full((G, P), np.inf)
    xs = np.zeros((G, P, p))
    conv = np.zeros((G, P), dtype=bool)
    its = np.zeros((G, P), dtype=int)
    rows_per = max(1, _ELEMENTS // max(n * (p + 1), 1))
    for sl in _whole_groups(g_idx, rows_per):
        owner = g_idx[sl]
        batch = optimize.irls(lambda x, jac, rows, owner=owner: stack.residuals(x, jac, owner[rows]),
                              chosen[sl], loss=loss_fn, weights=chunk.weights[owner], lower=stack.lower,
                              upper=stack.upper, indexed=True, groups=owner if finish else None,
                              window=25 if finish else None)
        fun[owner, s_idx[sl]] = batch.fun
        xs[owner, s_idx[sl]] = batch.x
        conv[owner, s_idx[sl]] = batch.converged
        its[owner, s_idx[sl]] = batch.iterations
    best = np.argmin(fun, axis=1)
    at = np.arange(G)
    f_best = fun[at, best]
    u_best = xs[at, best]
    reached = np.sum(usable & (fun <= (f_best + 1e-6 * np.abs(f_best) + 1e-300)[:, None]), axis=1)
    _, outs = stack.outputs(u_best, at)
    out = {"u": u_best, "objective": f_best, "converged": conv[at, best], "iterations": its[at, best],
           "evaluations": S0 + usable.sum(axis=1) + np.where(usable, its, 0).sum(axis=1),
           "at_bound": np.isclose(u_best, stack.lower, rtol=1e-6, atol=1e-9)
           | np.isclose(u_best, stack.upper, rtol=1e-6, atol=1e-9),
           "n_starts": np.full(G, S0), "n_polished": usable.sum(axis=1), "n_at_optimum": reached,
           "prediction": np.array(np.broadcast_to(outs[0], (G, n)))}
    out["metrics"] = _metrics(chunk, out["prediction"])
    _, J = stack.residuals(u_best, True, at)
    live = np.arange(n) < chunk.counts[:, None]
    out["identifiability"] = identifiability.diagnose_many(law, J, chunk.weights, np.where(live, chunk.y, np.nan),
                                                           u_best, xs, fun)
    out["noise"] = intervals.fit_noise_many(law.space, chunk.data, chunk.y, out["prediction"], chunk.weights,
                                            n_params=p, live=live)
    if bootstrap:
        out |= _bootstrap(stack, loss_fn, u_best, bootstrap)
    return out


def _whole_groups(owner: np.ndarray, rows: int) -> list[slice]:
    """Slices of about ``rows`` rows of the sorted ``owner`` that never split a group's starts."""
    firsts = np.r_[0, np.flatnonzero(np.diff(owner)) + 1, len(owner)]
    out, i = [], 0
    while i < len(owner):
        k = np.searchsorted(firsts, i + rows, side="right") - 1
        end = int(firsts[k]) if firsts[k] > i else int(firsts[np.searchsorted(firsts, i, side="right")])
        out.append(slice(i, end))
        i = end
    return out


def _metrics(chunk: Chunk, prediction: np.ndarray) -> np.ndarray:
    """MAE, MAPE (percent), max |error| and RMSE of every group, (G, 4), as ``error_metrics`` gives."""
    live = np.arange(chunk.y.shape[1]) < chunk.counts[:, None]
    err = np.where(live, prediction - chunk.y, 0.0)
    with np.errstate(all="ignore"):
        return np.column_stack([np.sum(np.abs(err), axis=1) / chunk.counts,
                                100 * np.sum(np.abs(err / chunk.y), axis=1) / chunk.counts,
                                np.max(np.abs(err), axis=1), np.sqrt(np.sum(err * err, axis=1) / chunk.counts)])


def _bootstrap(stack: Stack, loss_fn, u_best: np.ndarray, replicates: int) -> dict:
    """Row resamples of every group (its own seed), fitted in one batch warm-started at its optimum."""
    chunk = stack.chunk
    G, n, p = chunk.y.shape[0], stack.n, u_best.shape[1]
    counts = np.zeros((G, replicates, n))
    for g in range(G):
        m = int(chunk.counts[g])
        rng = np.random.default_rng(int(chunk.seeds[g]))
        counts[g, :, :m] = rng.multinomial(m, np.full(m, 1.0 / m), size=replicates)
    weights = (counts * chunk.weights[:, None, :]).reshape(G * replicates, n)
    owner_all = np.repeat(np.arange(G), replicates)
    draws = np.empty((G * replicates, p))
    failed = np.zeros(G * replicates, dtype=bool)
    rows_per = max(1, _ELEMENTS // max(n * (p + 1), 1))
    for i in range(0, G * replicates, rows_per):
        sl = slice(i, i + rows_per)
        owner = owner_all[sl]
        batch = optimize.irls(lambda x, jac, rows, owner=owner: stack.residuals(x, jac, owner[rows]),
                              u_best[owner], loss=loss_fn, weights=weights[sl], lower=stack.lower,
                              upper=stack.upper, indexed=True)
        ok = np.isfinite(batch.fun)
        failed[sl] = ~ok | ~batch.converged
        draws[sl] = to_natural(stack.law, batch.x)
        draws[sl][~ok] = np.nan
    return {"draws": draws.reshape(G, replicates, p), "bootstrap_failed": failed.reshape(G, replicates).sum(axis=1)}
