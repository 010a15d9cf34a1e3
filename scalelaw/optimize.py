"""Batched local optimisers: many starting points advance together as one array computation.

Both optimisers take a batch of starting points ``x0`` of shape (S, p) and return a
:class:`BatchResult`.  Starts that have converged leave the batch, so the work per iteration falls
as the batch settles.  Nothing here knows about laws or tables: the caller passes functions.

* :func:`irls` minimises ``sum_i w_i rho(r_i(x))`` for a robust loss (Huber, squared) by
  iteratively reweighted Gauss-Newton steps with Levenberg-Marquardt damping per start.  Each step
  minimises the loss's quadratic majoriser, so accepted steps never increase the objective.
* :func:`bfgs` minimises any smooth objective with an analytic gradient by BFGS with a
  backtracking Armijo line search, per start.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

ResidualFunction = Callable[[np.ndarray, bool], tuple[np.ndarray, np.ndarray | None]]
ObjectiveFunction = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class BatchResult:
    """Where each start ended: ``x`` (S, p), objective ``fun`` (S,), ``converged`` (S,),
    ``iterations`` (S,), and ``evaluations``, the number of objective evaluations summed over
    starts."""

    x: np.ndarray
    fun: np.ndarray
    converged: np.ndarray
    iterations: np.ndarray
    evaluations: int


def _clip(x: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    return np.minimum(np.maximum(x, lower), upper)


def irls(
    residuals: ResidualFunction,
    x0: np.ndarray,
    *,
    loss,
    weights: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    max_iter: int = 1000,
    ftol: float = 1e-13,
    xtol: float = 1e-11,
    on_iteration: Callable[[int, int], None] | None = None,
    indexed: bool = False,
    window: int | None = None,
    wtol: float = 1e-8,
    groups: np.ndarray | None = None,
    merge: float = 1e-4,
    straggle: int = 200,
    batch: int | None = None,
) -> BatchResult:
    """Minimise ``sum(weights * loss.rho(r(x)))`` from every row of ``x0``.

    Parameters
    ----------
    residuals
        ``residuals(x, jacobian)`` returns r of shape (m, n) and, when ``jacobian`` is true,
        dr/dx of shape (m, n, p), for a batch x of shape (m, p).
    weights
        Point weights, shape (n,) or (S, n) (one row per start, as for bootstrap counts).
    lower, upper
        Bounds on x, shape (p,); steps are projected onto the box, and coordinates held at a
        bound by the gradient are left out of the step.
    on_iteration
        Called as ``on_iteration(iteration, active)`` after each iteration.
    indexed
        Call ``residuals(x, jacobian, rows)`` with the indices of the rows of x in the batch (for
        starts that carry data of their own, as stacked groups do).
    window, wtol
        With ``window``: a start whose objective fell by at most ``wtol`` relative over the last ``window``
        iterations has stalled (it crawls along a flat valley, e.g. towards a parameter of zero)
        and stops as converged.
    groups, merge
        Group label of every row (starts of one problem): an active start that comes within
        ``merge`` (relative, every coordinate) of another active start of its group, with a higher
        objective, leaves the batch and ends where that start ends.
    straggle
        With ``groups`` and the squared loss, the iteration stops after ``straggle`` iterations: a
        start still active there (crawling along a ridge) that holds its group's lowest objective is
        finished by trust-region least squares (``scipy.optimize.least_squares``, kept where it
        lowers the objective); the other active starts stop where they are, not converged.
    batch
        Most starts whose residuals and Jacobian are held at once (default: all).  Only the
        gradient (S, p) and Gauss-Newton matrix (S, p, p) of every start are kept between
        iterations, so memory is bounded by ``batch`` x rows x p; the numbers do not depend on it.
    """
    x = _clip(np.array(x0, dtype=float), lower, upper)
    S, p = x.shape
    w_all = np.broadcast_to(weights, (S, weights.shape[-1]))
    if indexed:
        call = residuals
    else:
        def call(x, jacobian, rows):
            return residuals(x, jacobian)
    size = S if batch is None else max(1, int(batch))
    f, G, C = _moments(call, x, np.arange(S), w_all, loss, size)
    f = np.where(np.isfinite(f), f, np.inf)
    damping = np.full(S, 1e-6)
    converged = np.zeros(S, dtype=bool)
    iterations = np.zeros(S, dtype=int)
    evaluations = S
    active = np.isfinite(f)
    f_window = f.copy()
    twin = np.arange(S)
    pairs = _pairs(groups) if groups is not None else None
    eye = np.eye(p)
    for it in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        gradient, H = G[idx], C[idx]
        with np.errstate(all="ignore"):
            # A coordinate at a bound whose descent direction leaves the box is held there: the
            # step is solved in the free coordinates (a clipped full step would stall the iteration).
            xa = x[idx]
            blocked = ((xa <= lower) & (gradient > 0)) | ((xa >= upper) & (gradient < 0))
            if blocked.any():
                free = ~blocked
                H = H * (free[:, :, None] & free[:, None, :]) + eye * blocked[:, None, :]
                gradient = np.where(blocked, 0.0, gradient)
            diag = np.einsum("spp->sp", H)
            floor = 1e-12 * np.max(diag, axis=1, keepdims=True) + 1e-300
            A = H + eye * (damping[idx, None] * diag + floor)[:, None, :]
            usable = np.isfinite(A).all(axis=(1, 2)) & np.isfinite(gradient).all(axis=1)
            step = np.zeros_like(gradient)
            step[usable] = -np.linalg.solve(A[usable], gradient[usable][..., None])[..., 0]
        stuck = ~(usable & np.isfinite(step).all(axis=1))
        if stuck.any():  # the law's derivatives overflow here: this start cannot move
            active[idx[stuck]] = False
            idx, step = idx[~stuck], step[~stuck]
            if idx.size == 0:
                break
        xa = x[idx]
        xn = _clip(xa + step, lower, upper)
        fn, Gn, Cn = _moments(call, xn, idx, w_all, loss, size)
        evaluations += idx.size
        ok = np.isfinite(fn) & (fn <= f[idx])
        decrease = np.where(ok, f[idx] - fn, 0.0)
        moved = np.max(np.abs(xn - xa) / (1.0 + np.abs(xa)), axis=1)
        acc = idx[ok]
        x[acc], G[acc], C[acc], f[acc] = xn[ok], Gn[ok], Cn[ok], fn[ok]
        damping[idx] = np.clip(np.where(ok, damping[idx] * 0.1, damping[idx] * 10.0), 1e-12, 1e12)
        iterations[idx] += 1
        done = (ok & (decrease <= ftol * np.abs(fn))) | (moved <= xtol) | (damping[idx] >= 1e12)
        if window and (it + 1) % window == 0:
            done |= f_window[idx] - f[idx] <= wtol * np.abs(f[idx])
            f_window[idx] = f[idx]
        if pairs is not None and pairs[0].size:
            _merge(pairs, x, f, active, twin, merge)
        converged[idx[done]] = True
        active[idx[done]] = False
        if on_iteration is not None:
            on_iteration(it + 1, int(active.sum()))
        if it + 1 == straggle and groups is not None and getattr(loss, "name", "") == "squared":
            _finish(call, x, f, converged, _leaders(groups, f, active), w_all, lower, upper)
            active[:] = False
            break
    merged = np.flatnonzero(twin != np.arange(S))
    if merged.size:
        while not np.array_equal(twin[twin], twin):
            twin = twin[twin]
        x[merged], f[merged], converged[merged] = x[twin[merged]], f[twin[merged]], converged[twin[merged]]
    return BatchResult(x, f, converged, iterations, evaluations)


def _moments(call, x: np.ndarray, rows: np.ndarray, w_all: np.ndarray, loss, size: int):
    """Objective (m,), gradient (m, p) and Gauss-Newton matrix (m, p, p) at every row of x, from the
    residuals and Jacobian of at most ``size`` starts at a time."""
    m, p = x.shape
    f, G, C = np.empty(m), np.empty((m, p)), np.empty((m, p, p))
    for i in range(0, m, size):
        part = slice(i, i + size)
        r, J = call(x[part], True, rows[part])
        w = w_all[rows[part]]
        with np.errstate(all="ignore"):
            f[part] = np.sum(w * loss.rho(r), axis=1)
            G[part] = np.einsum("snp,sn->sp", J, w * loss.psi(r))
            curvature = w * loss.irls_weight(r)
            C[part] = np.matmul(np.swapaxes(J * curvature[..., None], 1, 2), J)
        del r, J, curvature
    return f, G, C


def _leaders(groups: np.ndarray, f: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Active starts that hold their group's lowest objective (the first such start of a group)."""
    order = np.lexsort((np.arange(len(f)), f, groups))
    first = np.r_[True, groups[order][1:] != groups[order][:-1]]
    out = np.zeros(len(f), dtype=bool)
    out[order[first]] = True
    return out & active


def _finish(call, x, f, converged, active, w_all, lower, upper) -> None:
    """Least squares from every active start (squared loss), kept where the objective falls."""
    from scipy.optimize import least_squares

    for row in np.flatnonzero(active):
        rows = np.array([row])
        root = np.sqrt(w_all[row])

        def fun(z, rows=rows, root=root):
            return root * call(z[None, :], False, rows)[0][0]

        def jac(z, rows=rows, root=root):
            return root[:, None] * call(z[None, :], True, rows)[1][0]

        with np.errstate(all="ignore"):
            try:
                res = least_squares(fun, x[row], jac=jac, bounds=(lower, upper), method="trf", x_scale="jac",
                                    ftol=1e-14, xtol=1e-14, gtol=1e-14, max_nfev=2000)
            except (ValueError, np.linalg.LinAlgError):
                continue
        value = float(np.sum(res.fun * res.fun))
        if np.isfinite(value) and value <= f[row]:
            x[row], f[row] = res.x, value
        converged[row] = res.status > 0
        active[row] = False


_MERGE_GROUP = 64  # groups with more starts than this are not merged (their pairs would not fit)


def _pairs(groups: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (i < j) of rows with the same label, for groups of at most ``_MERGE_GROUP`` rows."""
    order = np.argsort(groups, kind="stable")
    labels, starts, sizes = np.unique(groups[order], return_index=True, return_counts=True)
    first, second = [], []
    for size in np.unique(sizes[(sizes > 1) & (sizes <= _MERGE_GROUP)]):
        i, j = np.triu_indices(size, 1)
        base = starts[sizes == size]
        members = order[base[:, None] + np.arange(size)]
        members.sort(axis=1)
        first.append(members[:, i].ravel())
        second.append(members[:, j].ravel())
    if not first:
        return np.zeros(0, dtype=int), np.zeros(0, dtype=int)
    return np.concatenate(first), np.concatenate(second)


def _merge(pairs, x, f, active, twin, tol) -> None:
    """Retire the worse start of every active pair that has met (ties: the later row)."""
    i, j = pairs
    live = active[i] & active[j]
    if not live.any():
        return
    i, j = i[live], j[live]
    close = np.all(np.abs(x[i] - x[j]) <= tol * (1.0 + np.abs(x[i])), axis=1)
    if not close.any():
        return
    i, j = i[close], j[close]
    worse_j = f[j] >= f[i]
    keep = np.where(worse_j, i, j)
    drop = np.where(worse_j, j, i)
    for k, d in zip(keep, drop, strict=True):  # pairs met this iteration: few
        if active[d] and active[k]:
            active[d] = False
            twin[d] = k


def in_batches(objective: ObjectiveFunction, size: int) -> ObjectiveFunction:
    """``objective`` evaluated on at most ``size`` starts at a time (same values, bounded memory)."""
    def batched(x: np.ndarray, rows: np.ndarray):
        if len(x) <= size:
            return objective(x, rows)
        parts = [objective(x[i : i + size], rows[i : i + size]) for i in range(0, len(x), size)]
        return np.concatenate([f for f, _ in parts]), np.concatenate([g for _, g in parts])
    return batched


def bfgs(
    objective: ObjectiveFunction,
    x0: np.ndarray,
    *,
    lower: np.ndarray,
    upper: np.ndarray,
    max_iter: int = 1000,
    gtol: float = 1e-9,
    ftol: float = 1e-15,
) -> BatchResult:
    """Minimise a smooth objective from every row of ``x0`` by batched BFGS.

    Parameters
    ----------
    objective
        ``objective(x, rows)`` returns the values (m,) and gradients (m, p) for a batch ``x`` of
        shape (m, p); ``rows`` are the indices of those starts in the batch (for per-start data).
    """
    x = _clip(np.array(x0, dtype=float), lower, upper)
    S, p = x.shape
    all_rows = np.arange(S)
    f, g = objective(x, all_rows)
    f = np.where(np.isfinite(f), f, np.inf)
    Hinv = np.broadcast_to(np.eye(p), (S, p, p)).copy()
    first = np.ones(S, dtype=bool)
    converged = np.zeros(S, dtype=bool)
    iterations = np.zeros(S, dtype=int)
    evaluations = S
    active = np.isfinite(f)
    for _ in range(max_iter):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        ga = g[idx]
        d = -np.einsum("spq,sq->sp", Hinv[idx], ga)
        slope = np.einsum("sp,sp->s", d, ga)
        uphill = ~(slope < 0)
        if uphill.any():
            Hinv[idx[uphill]] = np.eye(p)
            d[uphill] = -ga[uphill]
            slope[uphill] = -np.einsum("sp,sp->s", ga[uphill], ga[uphill])
        t = np.ones(idx.size)
        xn = np.empty_like(x[idx])
        fn = np.full(idx.size, np.inf)
        gn = np.zeros_like(ga)
        todo = np.arange(idx.size)
        for _ in range(60):
            trial = _clip(x[idx[todo]] + t[todo, None] * d[todo], lower, upper)
            ft, gt = objective(trial, idx[todo])
            evaluations += todo.size
            good = np.isfinite(ft) & (ft <= f[idx[todo]] + 1e-4 * t[todo] * slope[todo])
            xn[todo[good]], fn[todo[good]], gn[todo[good]] = trial[good], ft[good], gt[good]
            todo = todo[~good]
            if todo.size == 0:
                break
            t[todo] *= 0.5
        ok = np.isfinite(fn)
        step = xn - x[idx]
        dy = gn - ga
        sy = np.einsum("sp,sp->s", step, dy)
        update = ok & (sy > 1e-12 * np.linalg.norm(step, axis=1) * np.linalg.norm(dy, axis=1))
        if update.any():
            rows, st, yt, syt = idx[update], step[update], dy[update], sy[update]
            fresh = first[rows]
            H = Hinv[rows]
            H[fresh] = np.eye(p) * (syt[fresh] / np.einsum("sp,sp->s", yt[fresh], yt[fresh]))[:, None, None]
            first[rows] = False
            rho = 1.0 / syt
            Hy = np.einsum("spq,sq->sp", H, yt)
            yHy = np.einsum("sp,sp->s", yt, Hy)
            outer = np.einsum("sp,sq->spq", st, Hy)
            Hinv[rows] = (H - rho[:, None, None] * (outer + np.swapaxes(outer, 1, 2))
                          + ((rho * rho * yHy + rho)[:, None, None] * np.einsum("sp,sq->spq", st, st)))
        acc = idx[ok]
        decrease = f[acc] - fn[ok]
        x[acc], f[acc], g[acc] = xn[ok], fn[ok], gn[ok]
        iterations[idx] += 1
        small_grad = np.max(np.abs(g[idx]), axis=1) <= gtol * (1.0 + np.abs(f[idx]))
        stalled = np.zeros(idx.size, dtype=bool)
        stalled[ok] = decrease <= ftol * np.abs(fn[ok])
        stalled[~ok] = True
        done = small_grad | stalled
        converged[idx[done]] = True
        active[idx[done]] = False
    return BatchResult(x, f, converged, iterations, evaluations)
