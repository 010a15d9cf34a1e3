"""Integrals of a scaled Beta density against binomial kernels, by composite Gauss-Legendre.

The marginal probability of x correct samples out of n when a problem's pass@1 is p = s u with
u ~ Beta(alpha, beta) is, in t = logit(u) (so that du = u (1 - u) dt),

    P(x | n) = (1 / B(alpha, beta)) * integral over t of u^alpha (1 - u)^beta K(s u) dt,
    K(p) = C(n, x) p^x (1 - p)^(n - x).

With n = k and x = 0 the same integral is E[(1 - p)^k] = 1 - pass_D@k.  The kernels do not depend
on (alpha, beta), so they are evaluated once at shared nodes and every likelihood evaluation is
three matrix products.  Panel boundaries are placed where each kernel crosses fixed levels below
its maximum (K is unimodal in t), so sharp kernels (large x) get panels a fraction of their width
wide; a background of 0.25-wide panels over t in [-60, 60] resolves the Beta factor.  Beyond the
ends, u ~ e^t (left) and 1 - u ~ e^-t (right), so the tails are K(end) e^(alpha t_lo) / alpha and
K(end) e^(-beta t_hi) / beta in closed form.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.special import expit, gammaln, log_expit, xlog1py, xlogy

T_EDGE = 60.0
#: Widest panel anywhere (resolves the Beta factor, whose log-slope is at most max(alpha, beta)).
_WIDEST = 0.5
#: Levels (log units below a kernel's maximum) at which a kernel's own panels end: for a Gaussian
#: core these are 1, 2, ..., 10 standard deviations and then where the kernel is e^-60 of its peak.
_LEVELS = np.array([0.5, 2.0, 4.5, 8.0, 12.5, 18.0, 24.5, 32.0, 40.5, 50.0, 60.0])
_GL_X, _GL_W = np.polynomial.legendre.leggauss(8)


def log_kernel(n, x, s, t) -> np.ndarray:
    """log K(s u) with u = expit(t): log C(n, x) + x log p + (n - x) log(1 - p); broadcasts."""
    p = s * expit(t)
    return (gammaln(n + 1.0) - gammaln(x + 1.0) - gammaln(n - x + 1.0)
            + xlogy(x, p) + xlog1py(n - x, -p))


def _panels(own: np.ndarray) -> np.ndarray:
    """Panel boundaries over [-T_EDGE, T_EDGE] no wider, anywhere, than the panel of any kernel
    covering that point (``own``: each kernel's sorted boundaries, (U, m)) nor than _WIDEST.

    The required width w(t) is piecewise constant between the union of all boundaries; panels are
    placed at equal steps of the integral of 1/w, so overlapping kernels share panels.
    """
    background = np.linspace(-T_EDGE, T_EDGE, int(2 * T_EDGE / _WIDEST) + 1)
    cuts = np.unique(np.concatenate([background, own.ravel()]))
    cuts = cuts[(cuts >= -T_EDGE) & (cuts <= T_EDGE)]
    mids = 0.5 * (cuts[1:] + cuts[:-1])
    width = np.full(mids.size, _WIDEST)
    gaps = np.diff(own, axis=1)
    for start in range(0, own.shape[0], 256):
        block, block_gaps = own[start : start + 256], gaps[start : start + 256]
        inside = (mids[None, :] > block[:, :1]) & (mids[None, :] < block[:, -1:])
        index = np.clip(np.sum(mids[None, :, None] >= block[:, None, :], axis=2) - 1, 0, gaps.shape[1] - 1)
        local = np.take_along_axis(block_gaps, index, axis=1)
        width = np.minimum(width, np.where(inside & (local > 0), local, np.inf).min(axis=0))
    count = np.concatenate([[0.0], np.cumsum(np.diff(cuts) / width)])
    panels = max(1, int(np.ceil(count[-1])))
    return np.interp(np.linspace(0.0, count[-1], panels + 1), count, cuts)


def _crossings(n, x, s, start, stop, levels) -> np.ndarray:
    """t in [start, stop] where log K reaches each level, K monotone there (bisection)."""
    lo = np.broadcast_to(start[:, None], levels.shape).copy()
    hi = np.broadcast_to(stop[:, None], levels.shape).copy()
    rising = log_kernel(n[:, None], x[:, None], s[:, None], hi) >= log_kernel(n[:, None], x[:, None],
                                                                             s[:, None], lo)
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        below = log_kernel(n[:, None], x[:, None], s[:, None], mid) < levels
        move_lo = below == rising
        lo = np.where(move_lo, mid, lo)
        hi = np.where(move_lo, hi, mid)
    return 0.5 * (lo + hi)


@dataclass(frozen=True)
class Quadrature:
    """Nodes (G,) and kernel weights (G, U) for U kernels (n, x) at scale s (each column its s).

    ``weights[g, u] = w_g K_u(t_g) / exp(shift_u)``; ``tail_lo``/``tail_hi`` are K_u at the ends
    over exp(shift_u); the integral over t of E(t) K_u is then
    ``exp(shift_u) * (E @ weights + tails)``.
    """

    a: np.ndarray        # log u at the nodes
    b: np.ndarray        # log (1 - u) at the nodes
    weights: np.ndarray  # (G, U)
    tail_lo: np.ndarray  # (U,)
    tail_hi: np.ndarray  # (U,)
    shift: np.ndarray    # (U,)

    @classmethod
    def build(cls, n, x, s) -> Quadrature:
        n, x, s = (np.asarray(v, dtype=float) for v in np.broadcast_arrays(n, x, s))
        n, x, s = n.ravel(), x.ravel(), s.ravel()
        u_star = x / (n * s)  # the kernel's mode in u (x = 0: at u = 0; u_star >= 1: at u = 1)
        interior = (x > 0) & (u_star < 1)
        safe = np.where(interior, u_star, 0.5)
        t_star = np.where(interior, np.log(safe) - np.log1p(-safe), np.where(x > 0, T_EDGE, -T_EDGE))
        t_star = np.clip(t_star, -T_EDGE, T_EDGE)
        peak = log_kernel(n, x, s, t_star)
        levels = peak[:, None] - _LEVELS[None, :]
        edge_lo, edge_hi = np.full(n.size, -T_EDGE), np.full(n.size, T_EDGE)
        left = _crossings(n, x, s, edge_lo, t_star, levels)
        right = _crossings(n, x, s, t_star, edge_hi, levels)
        own = np.sort(np.column_stack([left, t_star, right]), axis=1)
        bounds = _panels(own)
        half = 0.5 * np.diff(bounds)
        mid = 0.5 * (bounds[1:] + bounds[:-1])
        t = (mid[:, None] + half[:, None] * _GL_X[None, :]).ravel()
        w = (half[:, None] * _GL_W[None, :]).ravel()
        logk = log_kernel(n[None, :], x[None, :], s[None, :], t[:, None])
        shift = np.maximum(peak, logk.max(axis=0))
        with np.errstate(under="ignore"):
            weights = w[:, None] * np.exp(logk - shift[None, :])
            tail_lo = np.exp(log_kernel(n, x, s, -T_EDGE) - shift)
            tail_hi = np.exp(log_kernel(n, x, s, T_EDGE) - shift)
        return cls(log_expit(t), log_expit(-t), weights, tail_lo, tail_hi, shift)

    @cached_property
    def _stacked(self) -> np.ndarray:
        """[weights, log u * weights, log(1 - u) * weights]: one product gives value and gradient."""
        return np.hstack([self.weights, self.a[:, None] * self.weights, self.b[:, None] * self.weights])

    def log_integrals(self, alpha: np.ndarray, beta: np.ndarray, gradient: bool = False):
        """log of the integral of u^alpha (1 - u)^beta K_u dt for each (alpha, beta) row and u.

        ``alpha``, ``beta`` have shape (S,); returns (S, U) and, with ``gradient``, the partial
        derivatives in alpha and beta, each (S, U).
        """
        alpha = np.asarray(alpha, dtype=float)[:, None]
        beta = np.asarray(beta, dtype=float)[:, None]
        U = self.shift.size
        with np.errstate(under="ignore"):
            E = np.exp(alpha * self.a[None, :] + beta * self.b[None, :])
            lo = np.exp(-alpha * T_EDGE) / alpha
            hi = np.exp(-beta * T_EDGE) / beta
        if gradient:
            products = E @ self._stacked
            plain, by_a, by_b = products[:, :U], products[:, U : 2 * U], products[:, 2 * U :]
        else:
            plain = E @ self.weights
        total = plain + lo * self.tail_lo[None, :] + hi * self.tail_hi[None, :]
        with np.errstate(divide="ignore"):
            value = np.log(total) + self.shift[None, :]
        if not gradient:
            return value
        safe = np.where(total > 0, total, 1.0)  # total underflows only for far-off (alpha, beta)
        d_alpha = (by_a + lo * (-T_EDGE - 1.0 / alpha) * self.tail_lo[None, :]) / safe
        d_beta = (by_b + hi * (-T_EDGE - 1.0 / beta) * self.tail_hi[None, :]) / safe
        return value, d_alpha, d_beta
