"""Prediction intervals: a noise model of a fit's residuals, and predictive quantiles.

A fit measures residuals r = T(y) - T(f) in its law's space T (log, linear, logit, loglog).  The
noise model treats a new observation as T(y) = T(f) + e with e ~ Normal(0, sigma(x)^2), where

* ``constant``: sigma is one number;
* ``scale``: log sigma = a + b z, z = (s - centre) / spread and s the sum of the logs of the law's
  inputs (log x for a law of x, log N + log D = log(C / 6) for a law of N and D), so that the
  scatter may grow or shrink with scale (offered when every input is positive).

Both are fitted by maximum likelihood to the fit's residuals (row weights as frequencies) and the one
with the lower AIC (2 k - 2 log L; k = 1 or 2) is kept.  The variance is then multiplied by
n / (n - p) (p the law's parameter count) for the degrees of freedom the fit used.

A prediction interval mixes the parameter draws (the bootstrap) with this noise: the predictive
distribution of T(y) at x is the equal mixture over draws b of Normal(T f_b(x), sigma(x)^2); its
quantiles are found by bisection and mapped back by the inverse of T.  Nothing here is random.

Examples
--------
>>> import numpy as np
>>> centres = np.zeros((1, 1))  # one draw, one point, residual space
>>> lo, hi = quantiles(centres, np.array([1.0]), (0.025, 0.975))
>>> round(float(lo[0]), 4), round(float(hi[0]), 4)
(-1.96, 1.96)
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from scalelaw.errors import FitError

__all__ = ["MODELS", "fit_noise", "inverse", "prediction_interval", "quantiles", "sigma", "transform"]

#: The noise models, in the order they are tried.
MODELS = ("constant", "scale")
_COVARIATE = "sum of log inputs"


def transform(space: str, y):
    """T(y): the law's residual space (``log``, ``logit``, ``loglog`` or ``linear``)."""
    with np.errstate(all="ignore"):
        if space == "log":
            return np.log(y)
        if space == "logit":
            return np.log(y) - np.log1p(-y)
        if space == "loglog":
            return np.log(-np.log(y))
        return np.asarray(y, dtype=float)


def inverse(space: str, t):
    """T^-1(t), back to target units (decreasing for ``loglog``, increasing otherwise)."""
    with np.errstate(all="ignore"):
        if space == "log":
            return np.exp(t)
        if space == "logit":
            return 1.0 / (1.0 + np.exp(-t))
        if space == "loglog":
            return np.exp(-np.exp(t))
        return np.asarray(t, dtype=float)


def _scale_of(inputs: Mapping[str, np.ndarray]) -> np.ndarray | None:
    """s = sum of log inputs, or None when an input is not positive."""
    columns = [np.asarray(v, dtype=float) for v in inputs.values()]
    if not columns or any(np.any(~(c > 0)) for c in columns):
        return None
    with np.errstate(all="ignore"):
        return np.sum(np.broadcast_arrays(*(np.log(c) for c in columns)), axis=0)


def fit_noise(space: str, inputs: Mapping[str, np.ndarray], y: np.ndarray, prediction: np.ndarray,
              weights: np.ndarray | None = None, *, n_params: int = 0) -> dict:
    """The noise model of residuals T(y) - T(prediction) at ``inputs`` (arrays by input symbol).

    Returns a plain mapping (as stored in ``FitResult.noise``): ``model`` (``constant`` or ``scale``),
    ``sigma`` (constant) or ``log_sigma`` ([a, b]) with ``centre`` and ``spread`` of the covariate,
    ``covariate``, ``aic`` per model tried, ``rows`` and ``dof_factor`` (n / (n - p)).
    """
    y = np.asarray(y, dtype=float)
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    inputs = {k: np.broadcast_to(np.asarray(v, dtype=float), y.shape)[None] for k, v in inputs.items()}
    return fit_noise_many(space, inputs, y[None], np.asarray(prediction, dtype=float)[None], w[None],
                          n_params=n_params)[0]


def fit_noise_many(space: str, inputs: Mapping[str, np.ndarray], y: np.ndarray, prediction: np.ndarray,
                   weights: np.ndarray, *, n_params: int = 0, live: np.ndarray | None = None) -> list[dict]:
    """:func:`fit_noise` of G problems at once (the groups of a batched fit): ``inputs`` symbol -> (G, n),
    ``y``, ``prediction`` and ``weights`` (G, n); ``live`` (G, n) marks each group's own rows (default:
    all), the rest being padding of zero weight."""
    live = np.ones(y.shape, dtype=bool) if live is None else live
    with np.errstate(all="ignore"):
        r = transform(space, y) - transform(space, prediction)
    keep = live & (weights > 0) & np.isfinite(r)
    r, w = np.where(keep, r, 0.0), np.where(keep, weights, 0.0)
    n, rows = np.sum(w, axis=1), np.sum(keep, axis=1)
    with np.errstate(all="ignore"):
        factor = np.where(n > n_params + 1, n / (n - n_params), 1.0)
        ss = np.sum(w * r * r, axis=1)
        log_sigma0 = 0.5 * np.log(ss / n)
        columns = list(inputs.values())
        positive = np.all([np.all(~live | (c > 0), axis=1) for c in columns], axis=0) if columns else \
            np.zeros(len(y), dtype=bool)
        cov = np.sum([np.log(np.where(live, c, 1.0)) for c in columns], axis=0) if columns else np.zeros(y.shape)
        centre = np.sum(w * cov, axis=1) / n
        spread = np.sqrt(np.sum(w * (cov - centre[:, None]) ** 2, axis=1) / n)
        z = (cov - centre[:, None]) / spread[:, None]
    tried = (n > 0) & (ss > 0) & positive & (rows >= 4) & (spread > 0)
    a, b, fitted = _fit_scales(r, w, np.where(tried[:, None], z, 0.0), log_sigma0, tried)
    out = []
    for g in range(len(y)):
        head = {"space": space, "rows": int(rows[g]), "dof_factor": float(factor[g])}
        if n[g] == 0 or ss[g] == 0:
            out.append(head | {"model": "constant", "sigma": 0.0, "aic": {}})
            continue
        aic = {"constant": 2 - 2 * _log_likelihood(r[g], w[g], np.full(r.shape[1], log_sigma0[g]))}
        if fitted[g]:
            aic["scale"] = 4 - 2 * _log_likelihood(r[g], w[g], a[g] + b[g] * z[g])
        if fitted[g] and aic["scale"] < aic["constant"]:
            out.append(head | {"model": "scale", "log_sigma": [float(a[g] + 0.5 * np.log(factor[g])), float(b[g])],
                               "centre": float(centre[g]), "spread": float(spread[g]), "covariate": _COVARIATE,
                               "aic": aic})
        else:
            out.append(head | {"model": "constant", "sigma": float(np.exp(log_sigma0[g]) * np.sqrt(factor[g])),
                               "aic": aic})
    return out


def _log_likelihood(r: np.ndarray, w: np.ndarray, log_sigma: np.ndarray) -> float:
    with np.errstate(all="ignore"):
        terms = w * (-log_sigma - 0.5 * np.log(2 * np.pi) - 0.5 * r * r * np.exp(-2 * log_sigma))
    return float(np.sum(np.where(w > 0, terms, 0.0)))


def _fit_scales(r: np.ndarray, w: np.ndarray, z: np.ndarray, a0: np.ndarray, tried: np.ndarray):
    """(a, b) of log sigma = a + b z per row by Newton's method (the likelihood is convex in (a, b)), and
    whether it converged (not for rows not ``tried``, nor where residuals are exactly 0)."""
    a, b = np.where(tried, a0, 0.0), np.zeros(len(a0))
    active, done = tried.copy(), np.zeros(len(a0), dtype=bool)
    with np.errstate(all="ignore"):
        for _ in range(100):
            if not active.any():
                break
            q = r * r * np.exp(-2 * (a[:, None] + b[:, None] * z))
            g0, g1 = np.sum(w * (1 - q), axis=1), np.sum(w * (1 - q) * z, axis=1)
            h00, h01, h11 = (np.sum(2 * w * q, axis=1), np.sum(2 * w * q * z, axis=1),
                             np.sum(2 * w * q * z * z, axis=1))
            det = h00 * h11 - h01 * h01
            bad = active & ~(np.isfinite(det) & np.isfinite(h00) & np.isfinite(h11) & (det > 0))
            active &= ~bad
            s0, s1 = (h11 * g0 - h01 * g1) / det, (h00 * g1 - h01 * g0) / det
            a, b = np.where(active, a - s0, a), np.where(active, b - s1, b)
            active &= np.isfinite(a) & np.isfinite(b)
            finished = active & (np.maximum(np.abs(s0), np.abs(s1)) < 1e-10)
            done |= finished
            active &= ~finished
    return a, b, done


def sigma(noise: Mapping, inputs: Mapping[str, np.ndarray]) -> np.ndarray:
    """The noise model's standard deviation (residual units) at ``inputs`` (arrays by input symbol)."""
    shape = np.broadcast_shapes(*(np.shape(v) for v in inputs.values())) if inputs else ()
    if noise["model"] == "constant":
        return np.full(shape, float(noise["sigma"]))
    s = _scale_of(inputs)
    if s is None:
        raise FitError("the noise model grows with the logs of the inputs, which must be positive here")
    a, b = noise["log_sigma"]
    return np.exp(a + b * (s - noise["centre"]) / noise["spread"])


def quantiles(centres: np.ndarray, scale: np.ndarray, probs, weights: np.ndarray | None = None) -> list[np.ndarray]:
    """Quantiles ``probs`` of the mixture over rows b of Normal(centres[b], scale^2), per column.

    ``centres`` (B, n) in residual space (non-finite rows of a column are left out), ``scale`` (n,), or
    (B, n) when each row has its own (the draws of several laws, each with its noise model; 0: the
    quantiles of the centres themselves), ``weights`` (B,) the mixture weights (equal by default).
    Returns one array (n,) per probability.  Safeguarded Newton steps on the mixture's distribution
    function, from the normal with the mixture's mean and variance, to 1e-12 of the scale.
    """
    from scipy.special import ndtr, ndtri

    centres = np.atleast_2d(np.asarray(centres, dtype=float))
    scale = np.asarray(scale, dtype=float)
    per_row = scale.ndim == 2
    scale = np.array(np.broadcast_to(scale, centres.shape if per_row else centres.shape[1:]))
    w = np.ones(centres.shape[0]) if weights is None else np.asarray(weights, dtype=float)
    ok = np.isfinite(centres)
    W = np.where(ok, w[:, None], 0.0)
    total = W.sum(axis=0)
    W = W / np.where(total > 0, total, 1.0)
    C = np.where(ok, centres, 0.0)
    mean = np.sum(W * C, axis=0)
    noise = np.sum(W * scale**2, axis=0) if per_row else scale**2
    spread = np.sqrt(np.sum(W * (C - mean) ** 2, axis=0) + noise)
    s = np.where(scale <= 0, np.maximum(spread, 1.0) * 1e-9, scale)  # a point mass: a very narrow normal
    wide, narrow = (np.max(s, axis=0), np.min(s, axis=0)) if per_row else (s, s)
    p = np.asarray(probs, dtype=float)[:, None]
    with np.errstate(all="ignore"):
        lo = np.min(np.where(ok, centres, np.inf), axis=0) - 40 * wide
        hi = np.max(np.where(ok, centres, -np.inf), axis=0) + 40 * wide
        lo, hi = np.broadcast_to(lo, (p.size, lo.size)).copy(), np.broadcast_to(hi, (p.size, hi.size)).copy()
        q = np.clip(mean + ndtri(p) * spread, lo, hi)
        for _ in range(200):
            z = (q[:, None, :] - C[None]) / s
            f = np.sum(W * ndtr(z), axis=1) - p
            if np.all(np.abs(f) <= 1e-13):
                break
            if per_row:
                density = np.sum(W * np.exp(-0.5 * z * z) / s, axis=1) / np.sqrt(2 * np.pi)
            else:
                density = np.sum(W * np.exp(-0.5 * z * z), axis=1) / (np.sqrt(2 * np.pi) * s)
            lo, hi = np.where(f < 0, q, lo), np.where(f < 0, hi, q)
            step = q - f / density
            inside = np.isfinite(step) & (step >= lo) & (step <= hi)
            new = np.where(inside, step, 0.5 * (lo + hi))
            if np.all(np.abs(new - q) <= 1e-12 * narrow) or np.all(hi - lo <= 1e-12 * narrow):
                q = new
                break
            q = new
    return [np.where(total > 0, row, np.nan) for row in q]


def prediction_interval(space: str, noise: Mapping, inputs: Mapping[str, np.ndarray], draws: np.ndarray,
                        level: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds (target units) of the ``level`` prediction interval at ``inputs``.

    ``draws`` (B, n) are the law's predictions for each parameter draw (one row: the fitted values
    alone, the noise-only interval).
    """
    centres = transform(space, np.atleast_2d(draws))
    tail = 0.5 * (1 - level)
    lo, hi = quantiles(centres, sigma(noise, inputs).reshape(-1), (tail, 1 - tail))
    lo, hi = inverse(space, lo), inverse(space, hi)
    return (hi, lo) if space == "loglog" else (lo, hi)
