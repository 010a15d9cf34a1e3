"""The fitting engine: one vectorised multi-start fit, a batched bootstrap, and validation.

:func:`fit` evaluates the objective at every starting point as one array computation, polishes the
best ``polish`` of them together with analytic gradients (:mod:`scalelaw.optimize`), and returns a
frozen :class:`~scalelaw.result.FitResult`.  Bootstrap replicates are row-resampling weights,
fitted as one batch warm-started at the optimum.  Nothing here knows about files or families.

Examples
--------
>>> import pandas as pd
>>> from scalelaw.laws import get_law
>>> t = pd.DataFrame({"x": [1.0, 4.0, 16.0, 64.0], "loss": [3.0, 1.5, 0.75, 0.375]})
>>> r = fit(get_law("power_law"), t, loss="squared")
>>> round(r.params["A"], 6), round(r.params["alpha"], 6)
(3.0, 0.5)
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from scalelaw import identifiability, memory, optimize
from scalelaw.errors import FitError, InputError
from scalelaw.expression import derivative
from scalelaw.intervals import fit_noise
from scalelaw.intervals import transform as _transform
from scalelaw.laws import Law
from scalelaw.losses import HuberLikelihood, make_loss
from scalelaw.result import FitGroup, FitResult, error_metrics
from scalelaw.starts import start_points, to_natural

Progress = Callable[[int, int], None]


# ------------------------------------------------------------------------------------- the problem
class Problem:
    """A law bound to one table: residuals and Jacobians in the optimiser's space."""

    max_memory_mb: float | None = None  # bound on the batches built for this table (see scalelaw.memory)

    def __init__(self, law: Law, table: pd.DataFrame, weight_column: str | None = None) -> None:
        self.law = law
        self.table = table
        self.data = {s: _column(table, law.column(s)) for s in law.inputs}
        self.y = _column(table, law.target)
        self.n = len(self.y)
        self.weights = np.ones(self.n) if weight_column is None else _column(table, weight_column)
        if np.any(self.weights < 0):
            raise InputError("weights must be >= 0", column=weight_column)
        self.y_t = _transform("log" if law.space == "excess" else law.space, self.y)
        if not np.all(np.isfinite(self.y_t)):
            raise InputError(f"the target must be {'positive' if law.space == 'log' else 'in (0, 1)'} "
                             f"for residuals in {law.space} space", column=law.target)
        self._bound = law.program.bind(self.data)
        self._log = np.array([p.log for p in law.params])
        self.lower = np.array([np.log(p.lower) if p.log and p.lower > 0 else (-np.inf if p.log else p.lower)
                               for p in law.params])
        self.upper = np.array([np.log(p.upper) if p.log else p.upper for p in law.params])
        if law.space == "excess":  # the floor E stays below the smallest target: log(y - E) is defined
            self.floor = law.param_names.index("E")
            ceiling = float(self.y.min()) * (1.0 - 1e-9)
            self.upper[self.floor] = min(self.upper[self.floor], np.log(ceiling) if self._log[self.floor] else ceiling)

    def residuals(self, u: np.ndarray, jacobian: bool = True):
        """r = T(y) - T(f) of shape (S, n) and, optionally, dr/du of shape (S, n, p)."""
        theta = to_natural(self.law, u)
        names = self.law.param_names
        with np.errstate(all="ignore"):
            outs = self._bound({n: theta[:, j : j + 1] for j, n in enumerate(names)})
            f = np.broadcast_to(outs[0], (u.shape[0], self.n))
            if self.law.space == "excess":
                return self._excess(theta, outs, f, jacobian)
            r = self.y_t - _transform(self.law.space, f)
            if not jacobian:
                return r, None
            scale = -_transform_slope(self.law.space, f)
            J = np.empty((u.shape[0], self.n, len(names)))
            for j in range(len(names)):
                d = outs[1 + j] * theta[:, j : j + 1] if self._log[j] else outs[1 + j]
                J[:, :, j] = scale * d
        return r, J

    def _excess(self, theta: np.ndarray, outs: list, f: np.ndarray, jacobian: bool):
        """Residuals in excess space, r = log(y - E) - log(f - E), and dr/du (E is a parameter too)."""
        k = self.floor
        E = theta[:, k : k + 1]
        gap = f - E
        r = np.log(self.y - E) - np.log(gap)
        if not jacobian:
            return r, None
        J = np.empty((theta.shape[0], self.n, theta.shape[1]))
        for j in range(theta.shape[1]):
            d = -(outs[1 + j] - 1.0) / gap - 1.0 / (self.y - E) if j == k else -outs[1 + j] / gap
            J[:, :, j] = d * theta[:, j : j + 1] if self._log[j] else d
        return r, J

    def starts_per_batch(self, jacobian: bool = True) -> int:
        """How many starts may be evaluated at once on this table within the memory bound."""
        p = len(self.law.params) + 1
        return memory.starts_per_batch(self.n, floats_per_row=memory.jacobian_floats(p) if jacobian else p + 4,
                                       max_memory_mb=self.max_memory_mb)

    def fingerprint(self) -> str:
        """sha256 of the fitted columns (names and float64 bytes, in row order)."""
        h = hashlib.sha256()
        for name, values in [*((self.law.column(s), self.data[s]) for s in self.law.inputs),
                             (self.law.target, self.y), ("weight", self.weights)]:
            h.update(name.encode())
            h.update(np.ascontiguousarray(values, dtype="<f8").tobytes())
        return h.hexdigest()


def _column(table: pd.DataFrame, name: str) -> np.ndarray:
    if name not in table.columns:
        raise InputError(f"the table has no column {name!r}; it has {', '.join(map(str, table.columns))}",
                         column=name)
    values = pd.to_numeric(table[name], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0]) + 1
        raise InputError(f"value {table[name].iloc[row - 1]!r} is not a finite number; "
                         "fix or drop that row", row=row, column=name)
    return values


def _transform_slope(space: str, f):
    if space == "log":
        return 1.0 / f
    if space == "logit":
        return 1.0 / (f * (1.0 - f))
    if space == "loglog":
        with np.errstate(all="ignore"):
            return 1.0 / (f * np.log(f))
    return np.ones_like(f)


def _check_identifiable(problem: Problem) -> None:
    law, n = problem.law, problem.n
    p = len(law.params)
    if n < p:
        raise FitError(f"the table has {n} rows but law {law.name!r} has {p} parameters "
                       f"({', '.join(law.param_names)}); add runs or choose a smaller law")
    for symbol in law.inputs:
        values = problem.data[symbol]
        if np.unique(values).size < 2:
            dependent = [q for q in law.param_names
                         if symbol in derivative(law.expression, q).symbols]
            raise FitError(f"column {law.column(symbol)!r} has a single value ({values[0]:g}), so "
                           f"{', '.join(dependent) or 'the law'} cannot be identified; add runs at "
                           f"other values of {law.column(symbol)!r}")


# ----------------------------------------------------------------------------------------- fitting
def fit(
    law: Law,
    table: pd.DataFrame,
    *,
    loss: str = "huber",
    delta: float = 1e-3,
    starts="default",
    polish: int = 64,
    bootstrap: int = 0,
    seed: int = 0,
    level: float = 0.95,
    bootstrap_targets: np.ndarray | None = None,
    weight_column: str | None = None,
    progress: Progress | None = None,
    bootstrap_weights: np.ndarray | None = None,
    by: str | Sequence[str] | None = None,
    finish: bool | None = None,
    max_iter: int | None = None,
    profile: bool = False,
    _raw: bool = False,
    max_memory_mb: float | None = None,
    **group_options,
) -> FitResult | FitGroup:
    """Fit ``law`` to ``table`` by a vectorised multi-start robust fit.

    Parameters
    ----------
    law
        The law; its ``inputs`` are read from the columns ``law.column(symbol)`` and y from
        ``law.target``.
    loss
        ``"huber"`` (sum of Huber(delta) on residuals in the law's space, the default),
        ``"squared"`` (residual sum of squares) or ``"huber-likelihood"`` (Huber density with a
        free scale; the scale is reported as ``sigma`` in the diagnostics) or ``"asymmetric"`` (the
        lower-envelope loss of the ``chinchilla`` package: a run below the law costs 10 times a run
        above it; :class:`scalelaw.losses.Asymmetric`).
    delta
        Huber threshold, in residual units (log units for log-space laws).
    starts
        A start set name (``"default"``, ``"hoffmann"``, ``"hoffmann-estimate"``), a mapping of
        parameter values, or an array (S, p) of natural values.
    polish
        How many of the best starting points are polished by the batched optimiser.
    finish
        Polish as group fits do (default with ``by=``, recorded in the settings): a start stops when
        its objective stalls, starts that meet merge, and with the squared loss the leading start
        still running after 200 iterations is finished by least squares (see
        :func:`scalelaw.optimize.irls`).
        A formula law (``Law.from_expression``) or an implicit law is fitted on its inputs divided
        by a power of two near their geometric mean where the parameters convert back exactly
        (:mod:`scalelaw.standardise`), so that its fit does not depend on the units of the inputs;
        the parameters are reported in the units given (not with ``profile``, whose intervals are
        computed in the units given).
    max_iter
        Most iterations of the optimiser per start (default 1000; recorded when given).  A fit that
        stops there is not converged and says so (:class:`~scalelaw.errors.DegeneracyWarning`).
    profile
        Also compute the profile-likelihood interval of every parameter at ``level``
        (``diagnostics["profile"]``, see :func:`scalelaw.identifiability.profile`; recorded when true).
    max_memory_mb
        Most megabytes of (starts x rows) arrays held at once (default ``$SCALELAW_MAX_MEMORY_MB``,
        else 1024; recorded when given): starts, polish and bootstrap run in batches of starts that
        fit, so memory is bounded by this setting, not by the table.  The numbers do not depend on it.
    bootstrap
        Number of row-resampling replicates for percentile intervals (0: none).
    seed
        Seed for the bootstrap; the same seed gives the same numbers.
    level
        Interval level, e.g. 0.95 for 2.5-97.5% percentiles.
    bootstrap_targets
        Instead of row resamples, replicates given as other targets for the same inputs, shape
        (B, rows): for a target that aggregates units behind each row (e.g. a coverage curve
        averaged over problems, resampled by problem).  Fitted as one batch warm-started at the
        optimum; ``bootstrap`` is then 0 or B.
    progress
        Called as ``progress(done, total)`` while bootstrap replicates are fitted.
    bootstrap_weights
        Replicate row weights, shape (B, rows), used instead of multinomial row resampling (e.g. a
        two-stage bootstrap over groups of rows); ``bootstrap`` is then 0 or B.

    Returns
    -------
    FitResult
        Its ``settings`` hold the keyword arguments of this call that decide the numbers (all but
        ``progress``) as plain values, so that ``fit(law, table, **result.settings)`` gives the
        same parameters and bootstrap draws bit for bit, also after a JSON round trip: custom
        starts as their natural values (a mapping of floats, or nested lists (S, p)), and the
        given ``bootstrap_weights`` or ``bootstrap_targets`` as nested lists (B, rows), only when
        given; ``bootstrap`` is the number of replicates fitted.
    by
        Fit one law per group of rows sharing the values of these columns (``"dataset"``,
        ``"dataset,task"``), all groups in one batched run, and return a
        :class:`~scalelaw.result.FitGroup`; ``strict=``, ``jobs=``, ``backend=`` and ``scheduler=``
        are then those of :func:`scalelaw.groups.fit`.
    """
    settings = fit_settings(loss=loss, delta=delta, starts=starts, polish=polish, bootstrap=bootstrap,
                            seed=seed, level=level, weight_column=weight_column,
                            finish=(by is not None) if finish is None else finish, max_iter=max_iter,
                            profile=profile, max_memory_mb=max_memory_mb)
    if by is not None:
        from scalelaw import groups

        if law.space == "excess" or law.solved:
            raise FitError(f"law {law.name!r} ({'an implicit law' if law.solved else 'residuals in excess space'}) "
                           "is fitted one table at a time; fit each group apart instead of by=")

        if bootstrap_weights is not None or bootstrap_targets is not None:
            raise FitError("bootstrap_weights and bootstrap_targets are per table; fit groups without them")
        if max_iter is not None or profile or max_memory_mb is not None:
            raise FitError("max_iter=, profile= and max_memory_mb= apply to single fits; fit without by= to "
                           "use them")
        return groups.fit(law, table, by=by, **group_options, **settings)
    if group_options:
        raise FitError(f"{sorted(group_options)[0]}= applies to group fits only; give by= as well")
    if (law.name == "expression" or law.solved) and not (_raw or profile):
        from scalelaw import standardise

        plan = standardise.Plan.of(law, {s: _column(table, law.column(s)) for s in law.inputs})
        if plan is not None:
            scaled = fit(law, plan.scale_table(table), loss=loss, delta=delta, starts=starts, polish=polish,
                         bootstrap=bootstrap, seed=seed, level=level, bootstrap_targets=bootstrap_targets,
                         weight_column=weight_column, progress=progress, bootstrap_weights=bootstrap_weights,
                         finish=finish, max_iter=max_iter, _raw=True)
            return plan.in_user_units(scaled, Problem(law, table, weight_column))
    given = {"bootstrap_weights": bootstrap_weights, "bootstrap_targets": bootstrap_targets}
    given = {k: np.asarray(v, dtype=float) for k, v in given.items() if v is not None}
    if len(given) == 2:
        raise FitError("give bootstrap_weights or bootstrap_targets, not both")
    if "bootstrap_targets" in given:
        given["bootstrap_targets"] = np.atleast_2d(given["bootstrap_targets"])
    if "bootstrap_weights" in given:
        w = given["bootstrap_weights"]
        if w.ndim != 2 or not np.all(np.isfinite(w)) or np.any(w < 0):
            raise FitError(f"bootstrap_weights must be finite, >= 0 and of shape (replicates, {len(table)})")
    for name, replicates in given.items():
        if replicates.shape[1] != len(table):
            raise FitError(f"{name} must have shape (replicates, {len(table)}); got {replicates.shape}")
        if bootstrap not in (0, len(replicates)):
            raise FitError(f"bootstrap={bootstrap} but {name} holds {len(replicates)} replicates; give "
                           "bootstrap=0 or the same number")
        settings |= {"bootstrap": len(replicates), name: _plain(replicates)}
    bootstrap_weights, bootstrap_targets = given.get("bootstrap_weights"), given.get("bootstrap_targets")
    bootstrap = 0 if bootstrap_targets is not None else settings["bootstrap"]
    if not 0 < level < 1:
        raise FitError(f"the interval level must be in (0, 1), got {level}")
    if bootstrap < 0 or polish < 1:
        raise FitError("bootstrap must be >= 0 and polish >= 1")
    if max_iter is not None and max_iter < 1:
        raise FitError(f"max_iter must be >= 1, got {max_iter}")
    clock = time.perf_counter()
    loss_fn = make_loss(loss, delta)
    problem = Problem(law, table, weight_column)
    if bootstrap_targets is not None and law.space == "excess":
        raise FitError("bootstrap_targets need residuals in the law's fixed space; excess space moves with E")
    problem.max_memory_mb = memory.limit_mb(max_memory_mb)
    if bootstrap_targets is not None and isinstance(loss_fn, HuberLikelihood):
        raise FitError(f"bootstrap_targets need the huber or squared loss, not {loss!r}")
    _check_identifiable(problem)
    U = start_points(law, starts, problem.data, problem.y, problem.starts_per_batch())
    U = np.minimum(np.maximum(U, problem.lower), problem.upper)
    objective0 = _objectives(problem, loss_fn, U)
    finite = np.flatnonzero(np.isfinite(objective0))
    if finite.size == 0:
        raise FitError(f"law {law.name!r} gives no finite prediction at any of the {len(U)} starting "
                       "points; check the units of the inputs or give starting values")
    chosen = finite[np.argsort(objective0[finite], kind="stable")[:polish]]
    batch = _minimise(problem, loss_fn, U[chosen], problem.weights, starts_of_one=bool(finish),
                      max_iter=max_iter or 1000)
    best = int(np.nanargmin(np.where(np.isfinite(batch.fun), batch.fun, np.inf)))
    u_best, f_best = batch.x[best], float(batch.fun[best])
    reached = int(np.sum(batch.fun <= f_best + 1e-6 * abs(f_best) + 1e-300))
    boot = None
    boot_failed = 0
    if bootstrap_targets is not None:
        boot, boot_failed = _bootstrap_targets(problem, loss_fn, u_best, bootstrap_targets, progress)
    if bootstrap:
        boot, boot_failed = _bootstrap(problem, loss_fn, u_best, bootstrap, seed, progress, bootstrap_weights)
    theta = to_natural(law, u_best[: len(law.params)])
    params = dict(zip(law.param_names, map(float, theta), strict=True))
    at_bound = tuple(
        p.name for j, p in enumerate(law.params)
        if np.isclose(u_best[j], problem.lower[j], rtol=1e-6, atol=1e-9)
        or np.isclose(u_best[j], problem.upper[j], rtol=1e-6, atol=1e-9)
    )
    prediction = law.evaluate(problem.data, params)
    diagnostics = {
        "objective": f_best,
        "converged": bool(batch.converged[best]),
        "message": "converged" if batch.converged[best] else "iteration limit reached before convergence",
        "at_bound": list(at_bound),
        "n_starts": int(len(U)),
        "n_polished": int(len(chosen)),
        "n_at_optimum": reached,
        "evaluations": int(len(U) + batch.evaluations),
        "iterations": int(batch.iterations[best]),
        "bootstrap_failed": int(boot_failed),
        "wall_time": time.perf_counter() - clock,
    }
    if isinstance(loss_fn, HuberLikelihood):
        diagnostics["sigma"] = float(np.exp(u_best[-1]))
    diagnostics |= identifiability.diagnose(problem, u_best, batch.x, batch.fun)
    if profile:
        diagnostics["profile"] = identifiability.profile(problem, loss_fn, u_best, level)
    identifiability.emit(law.name, diagnostics)
    metrics = error_metrics(problem.y, prediction)
    return FitResult(law=law, params=params, diagnostics=diagnostics, settings=settings,
                     data=data_record(problem), metrics=metrics, bootstrap=boot, noise=noise_of(problem, prediction))


def data_record(problem: Problem) -> dict:
    """What a fit records of its table: rows, fingerprint, the columns used and their ranges."""
    law = problem.law
    return {"rows": problem.n, "sha256": problem.fingerprint(),
            "columns": {s: law.column(s) for s in law.inputs} | {"target": law.target},
            "ranges": {law.column(s): [float(problem.data[s].min()), float(problem.data[s].max())]
                       for s in law.inputs}}


def noise_of(problem: Problem, prediction: np.ndarray) -> dict:
    """The noise model of a fit's residuals (:func:`scalelaw.intervals.fit_noise`), after the fit."""
    return fit_noise(problem.law.space, problem.data, problem.y, prediction, problem.weights,
                     n_params=len(problem.law.params))


def fit_settings(*, loss: str = "huber", delta: float = 1e-3, starts="default", polish: int = 64,
                 bootstrap: int = 0, seed: int = 0, level: float = 0.95, weight_column: str | None = None,
                 finish: bool = False, max_iter: int | None = None, profile: bool = False,
                 max_memory_mb: float | None = None) -> dict:
    """The settings of :func:`fit` as they are recorded: plain values, custom starts as natural values
    (``finish``, ``max_iter``, ``profile`` and ``max_memory_mb`` only when set, so that fits recorded
    without them replay as they were)."""
    return ({"loss": loss, "delta": float(delta), "starts": _plain_starts(starts), "polish": int(polish),
             "bootstrap": int(bootstrap), "seed": int(seed), "level": float(level),
             "weight_column": weight_column} | ({"finish": True} if finish else {})
            | ({"max_iter": int(max_iter)} if max_iter is not None else {}) | ({"profile": True} if profile else {})
            | ({"max_memory_mb": memory.limit_mb(max_memory_mb)} if max_memory_mb is not None else {}))


def _plain(values: np.ndarray) -> list:
    """Nested lists of an array: ints when every value is a whole number (counts), else floats."""
    if np.all(np.abs(values) < 2**53) and np.array_equal(values, np.round(values)):
        return values.astype(np.int64).tolist()
    return values.tolist()


def _plain_starts(starts):
    """A start set as it replays: its name, a mapping of floats, or nested lists of natural values."""
    if isinstance(starts, str):
        return starts
    if isinstance(starts, Mapping):
        return {str(k): float(v) for k, v in starts.items()}
    return np.atleast_2d(np.asarray(starts, dtype=float)).tolist()


def _objectives(problem: Problem, loss_fn, U: np.ndarray) -> np.ndarray:
    """Objective at every row of U, in chunks that bound memory."""
    unit = loss_fn.unit() if isinstance(loss_fn, HuberLikelihood) else loss_fn
    out = np.empty(len(U))
    step = problem.starts_per_batch(jacobian=False)
    for i in range(0, len(U), step):
        r, _ = problem.residuals(U[i : i + step], jacobian=False)
        out[i : i + step] = np.sum(problem.weights * unit.rho(r), axis=1)
    return np.where(np.isfinite(out), out, np.inf)


def _minimise(problem: Problem, loss_fn, U: np.ndarray, weights: np.ndarray, progress=None,
              starts_of_one: bool = False, max_iter: int = 1000):
    """Polish every row of U; ``starts_of_one``: the rows are starts of one problem (they may merge)."""
    if isinstance(loss_fn, HuberLikelihood):
        return _minimise_likelihood(problem, loss_fn, U, weights, max_iter)
    return optimize.irls(problem.residuals, U, loss=loss_fn, weights=weights, lower=problem.lower,
                         upper=problem.upper, on_iteration=progress, window=25 if starts_of_one else None,
                         max_iter=max_iter, batch=problem.starts_per_batch(),
                         groups=np.zeros(len(U), dtype=int) if starts_of_one else None)


def _minimise_likelihood(problem: Problem, loss_fn: HuberLikelihood, U: np.ndarray, weights: np.ndarray,
                         max_iter: int = 1000):
    """BFGS on (u, log sigma); sigma starts at its profile value delta * mean|r|."""
    unit = loss_fn.unit()
    W = np.broadcast_to(weights, (len(U), problem.n))
    size = problem.starts_per_batch()
    if U.shape[1] == len(problem.law.params):
        s0 = np.empty(len(U))
        for i in range(0, len(U), size):
            r, _ = problem.residuals(U[i : i + size], jacobian=False)
            w = W[i : i + size]
            s0[i : i + size] = np.log(loss_fn.delta * np.nansum(w * np.abs(r), axis=1) / w.sum(axis=1))
        U = np.column_stack([U, s0])
    log_z = loss_fn.log_normaliser

    def objective(x: np.ndarray, rows: np.ndarray):
        w = W[rows]
        r, J = problem.residuals(x[:, :-1], jacobian=True)
        sigma = np.exp(x[:, -1:])
        z = r / sigma
        total = w.sum(axis=1)
        f = np.sum(w * unit.rho(z), axis=1) + total * (x[:, -1] + log_z)
        psi = w * unit.psi(z)
        g = np.empty_like(x)
        g[:, :-1] = np.einsum("snp,sn->sp", J, psi) / sigma
        g[:, -1] = -np.sum(psi * z, axis=1) + total
        return np.where(np.isfinite(f), f, np.inf), g

    lower = np.append(problem.lower, -np.inf)
    upper = np.append(problem.upper, np.inf)
    return optimize.bfgs(optimize.in_batches(objective, size), U, lower=lower, upper=upper, max_iter=max_iter)


def _bootstrap(problem: Problem, loss_fn, u_best: np.ndarray, replicates: int, seed: int,
               progress: Progress | None, given: np.ndarray | None = None):
    """Fit ``replicates`` row resamples (or the ``given`` replicate weights), warm-started at the
    optimum; returns natural params."""
    rng = np.random.default_rng(seed) if given is None else None
    chunk = max(1, min(replicates, 2_000_000 // max(problem.n * len(u_best), 1), problem.starts_per_batch()))
    params = np.empty((replicates, len(problem.law.params)))
    failed = 0
    for start in range(0, replicates, chunk):
        stop = min(start + chunk, replicates)
        # row counts drawn batch by batch: the same stream as one draw of every replicate
        counts = (given[start:stop] if rng is None
                  else rng.multinomial(problem.n, np.full(problem.n, 1.0 / problem.n), size=stop - start))
        U0 = np.broadcast_to(u_best, (stop - start, len(u_best))).copy()
        batch = _minimise(problem, loss_fn, U0, counts * problem.weights)
        ok = np.isfinite(batch.fun)
        failed += int(np.sum(~ok | ~batch.converged))
        params[start:stop] = to_natural(problem.law, batch.x[:, : len(problem.law.params)])
        params[start:stop][~ok] = np.nan
        if progress is not None:
            progress(stop, replicates)
    return params, failed


def _bootstrap_targets(problem: Problem, loss_fn, u_best: np.ndarray, targets: np.ndarray,
                       progress: Progress | None):
    """Refit to each row of ``targets`` (same inputs), warm-started at the optimum, by batched BFGS.

    The residuals of replicate b are ``r + T(targets[b]) - T(y)``; the Jacobian is the fit's own.
    Replicates whose targets cannot be transformed (e.g. 0 in log space) are NaN and counted failed.
    """
    with np.errstate(all="ignore"):
        offset = _transform(problem.law.space, targets) - problem.y_t
    usable = np.flatnonzero(np.all(np.isfinite(offset), axis=1))
    params = np.full((len(targets), len(problem.law.params)), np.nan)
    failed = len(targets) - usable.size
    w = problem.weights
    chunk = max(1, min(2_000_000 // max(problem.n * len(u_best), 1), problem.starts_per_batch()))
    for start in range(0, usable.size, chunk):
        rows_b = usable[start : start + chunk]

        def objective(x: np.ndarray, rows: np.ndarray, rows_b=rows_b):
            r, J = problem.residuals(x, jacobian=True)
            r = r + offset[rows_b[rows]]
            f = np.sum(w * loss_fn.rho(r), axis=1)
            g = np.einsum("snp,sn->sp", J, w * loss_fn.psi(r))
            return np.where(np.isfinite(f), f, np.inf), g

        U0 = np.broadcast_to(u_best, (rows_b.size, len(u_best))).copy()
        batch = optimize.bfgs(objective, U0, lower=problem.lower, upper=problem.upper)
        ok = np.isfinite(batch.fun)
        failed += int(np.sum(~ok | ~batch.converged))
        params[rows_b[ok]] = to_natural(problem.law, batch.x[ok])
        if progress is not None:
            progress(min(start + chunk, usable.size), usable.size)
    return params, failed


# -------------------------------------------------------------------------------------- validation
def validate(law: Law, table: pd.DataFrame, holdout: np.ndarray, **settings) -> dict:
    """Fit on the rows where ``holdout`` is false and report errors on both parts.

    Returns a mapping with the fit (``fit``), and ``in_sample`` and ``held_out`` error metrics
    (MAE, MAPE in percent, max absolute error, in target units) and the held-out row count.
    """
    holdout = np.asarray(holdout, dtype=bool)
    if holdout.all() or not holdout.any():
        raise FitError("the hold-out split leaves no rows to fit or none to test; "
                       "choose a fraction between 0 and 1 or a column with both values")
    train, test = table.loc[~holdout], table.loc[holdout]
    result = fit(law, train, **settings)
    test_pred = result.predict(test, warn=False)
    y_test = _column(test, law.target)
    return {"fit": result, "in_sample": result.metrics, "held_out": error_metrics(y_test, test_pred),
            "n_train": int((~holdout).sum()), "n_held_out": int(holdout.sum())}
