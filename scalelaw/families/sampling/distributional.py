"""The distributional estimator (Schaeffer et al. 2025): a scaled Beta-binomial fitted by maximum
likelihood to the per-problem counts, and pass_D@k simulated from it at any k.

Each problem's pass@1 is p = s u with u ~ Beta(alpha, beta) on (0, 1) and scale s; its correct
count is binomial given p.  The marginal likelihood of the counts is computed by quadrature
(:mod:`.quadrature`, exact to about 1e-12) and maximised in (log alpha, log beta) by the batched
BFGS of :mod:`scalelaw.optimize`: every starting point, and every bootstrap replicate over
problems, is one row of one batch.  The scale is

* ``"fixed"`` (default): ``min(1, (P + 1) / P * max_i c_i / n_i)``, the rule of Schaeffer et al.'s
  code, which leaves a three-parameter distribution with two free parameters;
* ``"ml"``: profiled by maximum likelihood over a grid in [max c/n / 2, 1], in two rounds (all
  three parameters ML).  On real data the profile is often flat towards s = 1, with beta growing
  (a scaled Beta with s -> 1 and large beta approaches a Gamma shape), so the scale is weakly
  identified and ends at the bound; alpha stays close to the fixed-scale value;
* a number in (0, 1].

Then ``1 - pass_D@k = E[(1 - p)^k]`` (the same integral with n = k, x = 0) and, as k grows,
``-log pass_D@k ~ A k^-alpha`` with ``A = Gamma(alpha + beta) / (Gamma(beta) s^alpha)``
(Theorem 3.1).  ``alpha`` is the *asymptotic* exponent; the least-squares slope of
``log(-log pass_D@k)`` on ``log k`` over a finite window (default ``k = 1..10^4``, 20 log-spaced
points as in the authors' code) is the *window* exponent, which is what a power-law fit to the
observed range estimates.  The two differ at finite k and are reported as two labelled numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import betaln, digamma, gammaln

from scalelaw import optimize, protocol
from scalelaw.errors import FitError, InputError
from scalelaw.families.sampling.curves import ModelCoverage, percentiles
from scalelaw.families.sampling.quadrature import Quadrature
from scalelaw.protocol import frozen

SCALES = ("fixed", "ml")
WINDOW = tuple(int(k) for k in np.unique(np.logspace(0, 4, 20).astype(int)))
#: Largest k at which the quadrature's tails stay exact (n s e^-60 << 1).
K_LIMIT = 1e15
_BOUNDS = (1e-3, 1e3)
_ALPHA_STARTS = (0.05, 0.1, 0.2, 0.4, 0.8, 1.6)
_BETA_STARTS = (0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
_POLISH = 6


def fixed_scale(n: np.ndarray, c: np.ndarray) -> float:
    """Schaeffer et al.'s scale: ``min(1, (P + 1) / P * max(c / n))``."""
    P = len(n)
    return float(min(1.0, (P + 1) / P * np.max(c / n)))


def _pairs(n: np.ndarray, c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    keys, inverse = np.unique(np.stack([n, c], axis=1), axis=0, return_inverse=True)
    return keys[:, 0].astype(float), keys[:, 1].astype(float), inverse.ravel()


def _objective(quads: list[Quadrature], which: np.ndarray, weights: np.ndarray):
    """Negative log-likelihood (summed over problems) and its gradient in (log alpha, log beta)."""
    def objective(x: np.ndarray, rows: np.ndarray):
        alpha, beta = np.exp(x[:, 0]), np.exp(x[:, 1])
        f = np.empty(len(rows))
        g = np.empty((len(rows), 2))
        for q in np.unique(which[rows]):
            sel = which[rows] == q
            a, b = alpha[sel], beta[sel]
            value, da, db = quads[q].log_integrals(a, b, gradient=True)
            W = weights[rows[sel]]
            norm = betaln(a, b)
            both = digamma(a + b)
            finite = np.isfinite(value)
            f[sel] = -np.sum(W * np.where(finite, value, 0.0), axis=1) + W.sum(axis=1) * norm
            f[sel] = np.where(np.any(~finite & (W > 0), axis=1), np.inf, f[sel])
            g[sel, 0] = -a * (np.sum(W * da, axis=1) - W.sum(axis=1) * (digamma(a) - both))
            g[sel, 1] = -b * (np.sum(W * db, axis=1) - W.sum(axis=1) * (digamma(b) - both))
        return np.where(np.isfinite(f), f, np.inf), g
    return objective


def _solve(quads: list[Quadrature], which: np.ndarray, weights: np.ndarray, x0: np.ndarray):
    lower = np.log(np.full(2, _BOUNDS[0]))
    upper = np.log(np.full(2, _BOUNDS[1]))
    return optimize.bfgs(_objective(quads, which, weights), x0, lower=lower, upper=upper)


def _fit_at_scales(n_u, c_u, counts, scales: np.ndarray, polish: int = _POLISH):
    """Best (log alpha, log beta) and NLL at each scale: every scale x start is one batch row."""
    quads = [Quadrature.build(n_u, c_u, s) for s in scales]
    grid = np.log(np.array([(a, b) for a in _ALPHA_STARTS for b in _BETA_STARTS]))
    which = np.repeat(np.arange(len(scales)), len(grid))
    starts = np.tile(grid, (len(scales), 1))
    W = np.broadcast_to(counts, (len(starts), counts.size))
    f0, _ = _objective(quads, which, W)(starts, np.arange(len(starts)))
    keep = np.concatenate([np.flatnonzero(which == q)[np.argsort(f0[which == q], kind="stable")[:polish]]
                           for q in range(len(scales))])
    batch = _solve(quads, which[keep], W[keep], starts[keep])
    out = []
    for q in range(len(scales)):
        rows = np.flatnonzero(which[keep] == q)
        best = rows[np.argmin(batch.fun[rows])]
        reached = int(np.sum(batch.fun[rows] <= batch.fun[best] + 1e-7 * abs(batch.fun[best])))
        out.append((batch.x[best], float(batch.fun[best]), bool(batch.converged[best]), reached,
                    int(batch.iterations[best])))
    return quads, out, int(len(starts) + batch.evaluations)


def check_scale(scale) -> None:
    """Refuse a scale rule that is neither ``"fixed"``, ``"ml"`` nor a number in (0, 1]."""
    if isinstance(scale, str):
        if scale not in SCALES:
            raise InputError(f"scale must be one of {', '.join(SCALES)} or a number in (0, 1], not {scale!r}")
    elif not 0 < float(scale) <= 1:
        raise InputError(f"scale must be in (0, 1], got {float(scale)}")


def maximum_likelihood(n, c, *, scale="fixed", resamples: np.ndarray | None = None, progress=None) -> dict:
    """Fit the scaled Beta-binomial to counts; returns the estimate, draws and diagnostics.

    Parameters
    ----------
    n, c
        Samples and correct samples per problem, shape (P,).
    scale
        ``"fixed"``, ``"ml"`` or a number in (0, 1] (see the module docstring).
    resamples
        Optional (B, P) counts of each problem in B bootstrap replicates over problems; each is
        refitted as one row of a batch warm-started at the estimate (the scale held at its value).
    progress
        Called as ``progress(done, total)`` after each stage: the fit over scales, its refinement
        (``scale="ml"``) and the bootstrap batch.
    """
    n, c = np.asarray(n, dtype=float), np.asarray(c, dtype=float)
    if not np.any(c > 0):
        raise FitError("no problem has a correct sample, so the distribution of pass@1 cannot be "
                       "estimated; sample more or choose a stronger model")
    n_u, c_u, inverse = _pairs(n, c)
    counts = np.bincount(inverse, minlength=n_u.size).astype(float)
    top = float(np.max(c / n))
    check_scale(scale)
    if isinstance(scale, str):
        if scale == "fixed":
            scales = np.array([fixed_scale(n, c)])
        else:
            scales = np.geomspace(max(0.5 * top, 1e-9), 1.0, 16)
    else:
        scales = np.array([float(scale)])
    stages = 1 + (scale == "ml") + (resamples is not None)

    def stage(done: int) -> None:
        if progress is not None:
            progress(done, stages)

    evaluations = 0
    quads, results, evals = _fit_at_scales(n_u, c_u, counts, scales, _POLISH if len(scales) == 1 else 2)
    evaluations += evals
    stage(1)
    profile = {float(s): r[1] for s, r in zip(scales, results, strict=True)}
    if scale == "ml":
        best = int(np.argmin([r[1] for r in results]))
        lo, hi = scales[max(best - 1, 0)], scales[min(best + 1, len(scales) - 1)]
        fine = np.geomspace(lo, hi, 17)[1:-1]
        quads2, results2, evals = _fit_at_scales(n_u, c_u, counts, fine, 2)
        evaluations += evals
        profile.update({float(s): r[1] for s, r in zip(fine, results2, strict=True)})
        scales, quads, results = (np.concatenate([scales, fine]), quads + quads2, results + results2)
        stage(2)
    best = int(np.argmin([r[1] for r in results]))
    x, nll, converged, reached, iterations = results[best]
    s_hat = float(scales[best])
    draws = None
    failed = 0
    if resamples is not None:
        bootstrap = len(resamples)
        W = np.zeros((bootstrap, n_u.size))
        np.add.at(W.T, inverse, np.asarray(resamples, dtype=float).T)
        batch = _solve([quads[best]], np.zeros(bootstrap, dtype=int), W, np.tile(x, (bootstrap, 1)))
        ok = np.isfinite(batch.fun)
        failed = int(np.sum(~ok | ~batch.converged))
        draws = np.column_stack([np.exp(batch.x), np.full(bootstrap, s_hat)])
        draws[~ok] = np.nan
        evaluations += batch.evaluations
        stage(stages)
    alpha, beta = (float(v) for v in np.exp(x))
    at_bound = [name for name, v in (("alpha", alpha), ("beta", beta))
                if np.isclose(v, _BOUNDS[0], rtol=1e-6) or np.isclose(v, _BOUNDS[1], rtol=1e-6)]
    if scale == "ml" and s_hat in (scales.min(), scales.max()):
        at_bound.append("scale")
    diagnostics = {"nll": nll, "nll_per_problem": nll / len(n), "converged": converged,
                   "n_at_optimum": reached, "iterations": iterations, "evaluations": evaluations,
                   "at_bound": at_bound, "bootstrap_failed": failed,
                   "profile": {str(k): v for k, v in sorted(profile.items())} if scale == "ml" else {}}
    return {"alpha": alpha, "beta": beta, "scale": s_hat, "draws": draws, "diagnostics": diagnostics}


# ------------------------------------------------------------------------------------- simulation
def survival(alpha, beta, scale, k) -> np.ndarray:
    """``E[(1 - p)^k] = 1 - pass_D@k`` for each (alpha, beta, scale) row and k: shape (S, K)."""
    alpha, beta, scale = (np.atleast_1d(np.asarray(v, dtype=float))
                          for v in np.broadcast_arrays(alpha, beta, scale))
    ks = np.atleast_1d(np.asarray(k, dtype=float))
    out = np.full((alpha.size, ks.size), np.nan)
    ok = np.isfinite(alpha) & np.isfinite(beta) & np.isfinite(scale)
    for s in np.unique(scale[ok]):
        rows = np.flatnonzero(ok & (scale == s))
        quad = Quadrature.build(ks, np.zeros_like(ks), s)
        log_value = quad.log_integrals(alpha[rows], beta[rows]) - betaln(alpha[rows], beta[rows])[:, None]
        out[rows] = np.exp(np.minimum(log_value, 0.0))
    return out


def prefactor(alpha, beta, scale):
    """A in ``-log pass_D@k ~ A k^-alpha`` (Theorem 3.1): ``Gamma(alpha+beta) / (Gamma(beta) s^alpha)``."""
    return np.exp(gammaln(alpha + beta) - gammaln(beta) - alpha * np.log(scale))


def window_slope(alpha, beta, scale, window=WINDOW) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares (slope b, prefactor A) of ``log(-log pass_D@k) = log A - b log k`` over ``window``."""
    ks = np.asarray(window, dtype=float)
    q = survival(alpha, beta, scale, ks)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log(-np.log1p(-q))
    x = np.log(ks)
    xc = x - x.mean()
    slope = -(y - y.mean(axis=1, keepdims=True)) @ xc / (xc @ xc)
    intercept = y.mean(axis=1) + slope * x.mean()
    return slope, np.exp(intercept)


# ----------------------------------------------------------------------------------------- result
@dataclass(frozen=True)
class BetaBinomialFit(ModelCoverage, protocol.Result):
    """A scaled Beta-binomial fitted to one model's counts.

    Attributes
    ----------
    model
        The model's label.
    alpha, beta, scale
        Shape parameters of the Beta and its scale s (pass@1 = s u, u ~ Beta(alpha, beta)).
    draws
        Bootstrap-over-problems draws (B, 3) of (alpha, beta, scale), or ``None``.
    curve
        The observed coverage curve (k, coverage, lower, upper) the fit is compared with.
    info
        ``n_problems``, ``zero_fraction``, ``scale_rule``, ``window``, ``level``, ``k``, ``error``
        (Brown et al.'s |fit - coverage| mean and std) and the optimiser's diagnostics.
    settings
        The keyword arguments of the call that made the fit
        (:func:`scalelaw.families.sampling.results.beta_binomial_model`).
    warnings
        What the estimate rests on that the data may contradict (few problems solved, a bound).
    """

    FAMILY = "sampling"
    KIND = "beta-binomial"
    TITLE = "scaled Beta-binomial (pass@1 = s u, u ~ Beta(alpha, beta))"

    model: str
    alpha: float
    beta: float
    scale: float
    draws: np.ndarray | None = None
    curve: pd.DataFrame | None = None
    info: Mapping[str, object] = field(default_factory=dict)
    settings: Mapping[str, object] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "info", frozen(self.info))
        if self.draws is not None:
            draws = np.array(self.draws, dtype=float)
            draws.setflags(write=False)
            object.__setattr__(self, "draws", draws)

    @property
    def level(self) -> float:
        return float(self.info.get("level", 0.95))

    def _theta(self, draws: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if draws:
            return self.draws[:, 0], self.draws[:, 1], self.draws[:, 2]
        return np.array([self.alpha]), np.array([self.beta]), np.array([self.scale])

    def _interval(self, fn):
        value = fn(*self._theta(False))[0]
        if self.draws is None:
            return value, np.full_like(value, np.nan), np.full_like(value, np.nan)
        lo, hi = percentiles(fn(*self._theta(True)), self.level)
        return value, lo, hi

    def coverage(self, k) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Simulated pass_D@k at ``k`` samples, with its bootstrap percentile interval."""
        ks = _k_array(k)
        return self._interval(lambda a, b, s: -np.expm1(np.log(survival(a, b, s, ks))))

    def samples_for(self, target: float) -> tuple[float, float, float]:
        """Samples per problem k (real) at which the simulated coverage reaches ``target``, with
        its interval; ``inf`` beyond ``K_LIMIT`` samples."""
        a, b, sc = self._theta(False)
        value = float(_solve_k(a, b, sc, target)[0])
        if self.draws is None:
            return value, math.nan, math.nan
        lo, hi = percentiles(_grid_k(*self._theta(True), target)[:, None], self.level)
        return value, float(lo[0]), float(hi[0])

    def exponents(self) -> pd.DataFrame:
        """alpha (asymptotic exponent), the Theorem 3.1 prefactor, and the least-squares slope and
        prefactor of the simulated curve over the window, each with its bootstrap interval."""
        def quantities(a, b, s):
            slope, window_prefactor = window_slope(a, b, s, self.window)
            return np.column_stack([a, prefactor(a, b, s), slope, window_prefactor])

        value, lo, hi = self._interval(quantities)
        names = ("alpha (asymptotic exponent)", "A (asymptotic prefactor)", "b (window slope)",
                 "A (window prefactor)")
        index = pd.Index(names, name="quantity")
        return pd.DataFrame({"value": value, "lower": lo, "upper": hi}, index=index)

    @property
    def window(self) -> tuple[int, ...]:
        return tuple(self.info.get("window", WINDOW))

    def summary(self) -> pd.DataFrame:
        """One row (index: the method) of labelled numbers: the estimate, the exponents, the fit."""
        e = self.exponents().to_numpy()
        error = self.info.get("error", {})
        row = {"alpha": self.alpha, "alpha_lower": e[0, 1], "alpha_upper": e[0, 2],
               "beta": self.beta, "scale": self.scale, "asymptotic_exponent": e[0, 0],
               "asymptotic_prefactor": e[1, 0], "window_slope": e[2, 0], "window_slope_lower": e[2, 1],
               "window_slope_upper": e[2, 2], "window_prefactor": e[3, 0],
               "nll_per_problem": self.info.get("diagnostics", {}).get("nll_per_problem"),
               "error_mean": error.get("mean"), "error_std": error.get("std"),
               "n_problems": self.info.get("n_problems"), "zero_fraction": self.info.get("zero_fraction")}
        return pd.DataFrame([row], index=pd.Index([self.KIND], name="method"))



def _k_array(k) -> np.ndarray:
    ks = np.atleast_1d(np.asarray(k, dtype=float))
    if np.any(~np.isfinite(ks) | (ks < 1)) or np.any(ks > K_LIMIT):
        raise InputError(f"k must be between 1 and {K_LIMIT:g} samples, got {ks.tolist()}")
    return ks


def _solve_k(alpha, beta, scale, target: float) -> np.ndarray:
    """k with pass_D@k = target for each row, by bisection in log k (inf beyond K_LIMIT)."""
    goal = math.log1p(-target)
    out = np.full(alpha.size, np.inf)
    for i in range(alpha.size):
        theta = (alpha[i : i + 1], beta[i : i + 1], scale[i : i + 1])
        if not np.all(np.isfinite(theta)):
            out[i] = np.nan
            continue
        if math.log(survival(*theta, [K_LIMIT])[0, 0]) > goal:
            continue
        lo, hi = 0.0, math.log(K_LIMIT)
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            lo, hi = (lo, mid) if math.log(survival(*theta, [math.exp(mid)])[0, 0]) <= goal else (mid, hi)
        out[i] = math.exp(0.5 * (lo + hi))
    return out


def _grid_k(alpha, beta, scale, target: float) -> np.ndarray:
    """k reaching ``target`` for many rows: interpolation of log(-log(1 - pass_D@k)) on log k."""
    grid = np.geomspace(1.0, K_LIMIT, 121)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log(-np.log(survival(alpha, beta, scale, grid)))
    goal = math.log(-math.log1p(-target))
    out = np.full(alpha.size, np.inf)
    for i in range(alpha.size):
        if not np.all(np.isfinite(y[i])):
            out[i] = np.nan
        elif y[i, 0] >= goal:
            out[i] = 1.0
        elif y[i, -1] >= goal:
            out[i] = math.exp(np.interp(goal, y[i], np.log(grid)))
    return out
