"""Whether the data pin each parameter of a fit down: identifiability diagnostics and their warning.

:func:`diagnose` looks at a fit's optimum in the optimiser's space (log scale for ``log`` parameters):

* ``condition_number``: the ratio of the largest to the smallest singular value of the weighted
  Jacobian of the residuals, and ``weakest``, the parameter that leads the direction of the smallest
  one.  Above ``CONDITION`` the problem is near-collinear and the fit warns; inf is an exact
  redundancy of the law on these data (e.g. a shift common to every t_j of a mixing law, whose
  shares sum to 1), which leaves the predictions unchanged and is reported, not warned about;
* ``collapsed``: log-scale parameters collapsing toward 0, whose every residual derivative
  d r / d log(theta) is below ``COLLAPSE`` (relative units: moving it changes nothing, e.g. a loss floor
  E of 1e-15); a family may add its own (the mixing law's scale k far below the smallest loss);
* ``start_spread``: per parameter, the spread (max - min, optimiser space) among the polished starts
  within 1e-6 (relative) of the best objective, and ``disagree``, those spread by more than
  ``SPREAD`` x (1 + |value|).

:func:`message` turns them (and a fit stopped on the iteration limit) into one warning line naming the
parameters; :func:`emit` raises it as :class:`~scalelaw.errors.DegeneracyWarning`, which :func:`strict`
turns into a :class:`~scalelaw.errors.FitError`.  :func:`profile` gives profile-likelihood intervals.

Examples
--------
>>> import numpy as np
>>> J = np.array([[1.0, 1.0], [1.0, 1.0 + 1e-9], [1.0, 1.0]])
>>> f"{condition(J)[0]:.1e}"
'4.2e+09'
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import numpy as np

from scalelaw.errors import DegeneracyWarning, FitError

#: A log-scale parameter whose residual derivatives d r / d log(theta) all lie below this (relative
#: residual units) has collapsed toward 0: its term no longer changes any prediction (E -> 0 in
#: E + A/N^alpha), whereas a coefficient of an input's power (k in k C^a) never collapses by its size.
COLLAPSE = 1e-6
#: Starts at the optimum disagree on a parameter spread by more than this x (1 + |value|) (optimiser space).
SPREAD = 1e-3
#: A condition number above this is reported as a near-collinear (degenerate) problem.
CONDITION = 1e12
#: Starts within this (relative) of the best objective are at the optimum.
AT_OPTIMUM = 1e-6


def condition(J: np.ndarray) -> tuple[float, int]:
    """Condition number of a Jacobian (n, p) and the column that leads its weakest direction."""
    cond, weakest = conditions(np.asarray(J, dtype=float)[None], np.array([len(J)]))
    return float(cond[0]), int(weakest[0])


def conditions(J: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`condition` of G Jacobians (G, n, p) at once, the first ``rows`` (G,) of each in use (the
    rest zero): infinite with fewer rows than parameters, a non-finite entry or an exact redundancy."""
    G, _, p = J.shape
    cond, weakest = np.full(G, np.inf), np.full(G, p - 1)
    ok = (rows >= p) & np.all(np.isfinite(J), axis=(1, 2))
    if ok.any():
        _, sv, vt = np.linalg.svd(J[ok], full_matrices=False)
        weakest[ok] = np.argmax(np.abs(vt[:, -1, :]), axis=1)
        singular = (sv[:, -1] <= sv[:, 0] * np.finfo(float).eps) | (sv[:, 0] == 0)
        with np.errstate(all="ignore"):
            cond[ok] = np.where(singular, np.inf, sv[:, 0] / sv[:, -1])
    return cond, weakest


def diagnose(problem, u_best: np.ndarray, X: np.ndarray, fun: np.ndarray) -> dict:
    """Identifiability of the optimum ``u_best`` of ``problem`` (a :class:`scalelaw.engine.Problem`),
    given where every polished start ended (``X`` (S, p), objectives ``fun`` (S,))."""
    p = len(problem.law.params)
    u = np.asarray(u_best[:p], dtype=float)
    _, J = problem.residuals(u[None, :], jacobian=True)
    keep = problem.weights > 0
    return diagnose_many(problem.law, J[:, keep], problem.weights[None, keep], problem.y[None], u[None],
                         np.asarray(X)[None, :, :p], np.asarray(fun)[None])[0]


def diagnose_many(law, J: np.ndarray, weights: np.ndarray, y: np.ndarray, u_best: np.ndarray, X: np.ndarray,
                  fun: np.ndarray) -> list[dict]:
    """:func:`diagnose` of G problems of one law at once (the groups of a batched fit): ``J`` (G, n, p) the
    residual Jacobians at the optima ``u_best`` (G, p), point ``weights`` (G, n) (0 on padding), targets
    ``y`` (G, m) (NaN on padding), polished ends ``X`` (G, S, p) with objectives ``fun`` (G, S)."""
    G, _, p = J.shape
    names = law.param_names
    Jw = J * np.sqrt(weights)[..., None]
    cond, weakest = conditions(Jw, np.sum(weights > 0, axis=1))
    # residuals in a log-type space are relative already; in target units, relative to the typical target
    relative = law.space in ("log", "logit", "loglog")
    unit = np.ones(G) if relative else np.nanmean(np.abs(y), axis=1)
    with np.errstate(all="ignore"):
        influence = np.max(np.abs(Jw), axis=1) if Jw.shape[1] else np.zeros((G, p))
    logged = np.array([par.log for par in law.params])
    collapsed = logged & (influence < COLLAPSE * unit[:, None])
    finite = np.isfinite(fun)
    f_best = np.min(np.where(finite, fun, np.inf), axis=1, keepdims=True)
    near = finite & (fun <= f_best + AT_OPTIMUM * np.abs(f_best) + 1e-300)
    with np.errstate(all="ignore"):
        spread = (np.max(np.where(near[..., None], X, -np.inf), axis=1)
                  - np.min(np.where(near[..., None], X, np.inf), axis=1))
    spread = np.where((near.sum(axis=1) > 1)[:, None], spread, 0.0)
    disagree = spread > SPREAD * (1 + np.abs(u_best))
    return [{"condition_number": float(cond[g]), "weakest": names[weakest[g]],
             "collapsed": [names[j] for j in range(p) if collapsed[g, j]],
             "start_spread": {n: float(v) for n, v in zip(names, spread[g], strict=True)},
             "disagree": [names[j] for j in range(p) if disagree[g, j]]} for g in range(G)]


def findings(diagnostics: Mapping[str, object]) -> list[str]:
    """What makes a fit degenerate, as phrases naming the parameters (empty for a healthy fit or for
    diagnostics written before these were recorded)."""
    out = []
    collapsed: Sequence[str] = diagnostics.get("collapsed") or ()
    if collapsed:
        out.append(f"{', '.join(collapsed)} collapsed toward 0 (no longer identified by the data)")
    disagree: Sequence[str] = diagnostics.get("disagree") or ()
    if disagree:
        out.append(f"starts at the optimum disagree on {', '.join(disagree)}")
    cond = diagnostics.get("condition_number")
    if cond is not None and CONDITION < cond < np.inf:
        out.append(f"condition number {cond:.3g} (near-collinear; weakest {diagnostics.get('weakest')})")
    return out


def message(law_name: str, diagnostics: Mapping[str, object]) -> str | None:
    """The one warning line of a fit: degenerate, stopped on the iteration limit, or both (None: healthy)."""
    parts = findings(diagnostics)
    if diagnostics.get("converged") is False:
        parts.insert(0, str(diagnostics.get("message", "did not converge")))
    if not parts:
        return None
    head = "degenerate fit: " if len(parts) > (diagnostics.get("converged") is False) else ""
    return f"law {law_name}: {head}{'; '.join(parts)}"


def emit(law_name: str, diagnostics: Mapping[str, object]) -> None:
    """Raise the fit's warning line (if any) as a :class:`~scalelaw.errors.DegeneracyWarning`."""
    text = message(law_name, diagnostics)
    if text is not None:
        warnings.warn(text, DegeneracyWarning, stacklevel=3)



@contextmanager
def strict(enabled: bool = True) -> Iterator[None]:
    """Within this block (when ``enabled``) a fit's :class:`~scalelaw.errors.DegeneracyWarning` is a
    :class:`~scalelaw.errors.FitError` with the warning as its message, raised before the fit returns."""
    if not enabled:
        yield
        return
    with warnings.catch_warnings():
        warnings.simplefilter("error", DegeneracyWarning)
        try:
            yield
        except DegeneracyWarning as warning:
            raise FitError(str(warning)) from None


#: Offsets of a profile, in units of the parameter's quadratic half-width (negative and positive sides).
PROFILE_STEPS = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0, 8.0)


def profile(problem, loss_fn, u_best: np.ndarray, level: float = 0.95) -> dict[str, dict[str, float]]:
    """Profile-likelihood interval of every parameter, natural units: ``{name: {lower, upper, width}}``.

    Each parameter is held at values on both sides of the optimum while the others are refitted (one
    batch per parameter, warm-started at the optimum); the interval is where the objective rises by
    less than chi2_1(level) / 2 (likelihood loss, its scale held at the optimum) or chi2_1(level)
    times objective / (rows - parameters) (Huber and squared losses, the F-profile).  A side that
    never rises that far is infinite (or 0 for a log-scale parameter): the data do not bound it.
    """
    from scipy.stats import chi2

    from scalelaw import optimize
    from scalelaw.losses import HuberLikelihood
    from scalelaw.starts import to_natural

    law = problem.law
    p = len(law.params)
    u = np.asarray(u_best[:p], dtype=float)
    likelihood = isinstance(loss_fn, HuberLikelihood)
    sigma = float(np.exp(u_best[-1])) if likelihood else 1.0
    unit = loss_fn.unit() if likelihood else loss_fn
    q = float(chi2.ppf(level, 1))

    def objective(U: np.ndarray) -> np.ndarray:
        r, _ = problem.residuals(U, jacobian=False)
        return np.sum(problem.weights * unit.rho(r / sigma), axis=1)

    f0 = float(objective(u[None, :])[0])
    dof = problem.n - p
    rise = q / 2 if likelihood else (q * f0 / dof if dof > 0 else np.inf)
    _, J = problem.residuals(u[None, :], jacobian=True)
    Jw = J[0] * np.sqrt(problem.weights)[:, None] / sigma
    with np.errstate(all="ignore"):
        curvature = np.diag(np.linalg.pinv(Jw.T @ Jw))
    offsets = np.array([-s for s in PROFILE_STEPS[::-1]] + list(PROFILE_STEPS))
    out = {}
    for j, name in enumerate(law.param_names):
        half = np.sqrt(rise * curvature[j]) if np.isfinite(rise) and curvature[j] > 0 else 1.0
        half = half if np.isfinite(half) and half > 0 else 1.0
        held = np.clip(u[j] + half * offsets, problem.lower[j], problem.upper[j])
        others = [k for k in range(p) if k != j]

        def residuals(x, jacobian, rows, j=j, held=held, others=others):
            full = np.empty((len(x), p))
            full[:, others], full[:, j] = x, held[rows]
            r, Jf = problem.residuals(full, jacobian=jacobian)
            return r / sigma, None if Jf is None else Jf[:, :, others] / sigma

        X0 = np.broadcast_to(u[others], (len(held), p - 1)).copy()
        if others:
            batch = optimize.irls(residuals, X0, loss=unit, weights=problem.weights, lower=problem.lower[others],
                                  upper=problem.upper[others], indexed=True,
                                  batch=problem.starts_per_batch())
            values = batch.fun
        else:
            values = objective(held[:, None])
        delta = np.where(np.isfinite(values), values - f0, np.inf)
        lo = _crossing(held[: len(held) // 2][::-1], delta[: len(held) // 2][::-1], u[j], rise, -1)
        hi = _crossing(held[len(held) // 2 :], delta[len(held) // 2 :], u[j], rise, 1)
        ends = np.tile(u, (2, 1))
        ends[:, j] = [lo, hi]
        with np.errstate(all="ignore"):
            lower, upper = (float(v) for v in to_natural(law, ends)[:, j])
        out[name] = {"lower": lower, "upper": upper, "width": upper - lower}
    return out


def _crossing(held: np.ndarray, delta: np.ndarray, centre: float, rise: float, side: int) -> float:
    """Where the objective's rise first passes ``rise`` along ``held`` (moving away from ``centre`` to
    the ``side`` -1 or +1), interpolating its square root linearly (exact where the rise is quadratic);
    -inf or +inf when it never does."""
    previous_u, previous_d, target = centre, 0.0, np.sqrt(rise)
    for value, d in zip(held, np.sqrt(np.maximum(delta, 0.0)), strict=True):
        if d > target:
            t = (target - previous_d) / (d - previous_d) if np.isfinite(d) else 0.0
            return float(previous_u + t * (value - previous_u))
        previous_u, previous_d = value, max(previous_d, d)
    return float(side * np.inf)
