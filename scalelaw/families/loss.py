"""The loss family: L(N, D) laws, compute-optimal allocation, isoFLOP analysis and validation.

Logs are one row per training run: ``params`` (N), ``tokens`` (D) or ``flops`` (C), and the final
``loss``.  With FLOPs and no tokens, tokens are D = C / (6 N) (the usual C = 6 N D accounting).

* Approach 3 (parametric): :func:`fit_loss` fits a law such as ``chinchilla`` by the engine, and
  :func:`allocate` gives the compute-optimal N and D for a budget, in closed form for the
  Chinchilla law (a = beta/(alpha+beta), G = (alpha A / (beta B))^(1/(alpha+beta)),
  N_opt = G (C/6)^a, D_opt = (C/6)^b / G) and by a one-dimensional search along C = 6 N D for any
  other law of N and D.  Intervals come from the fit's bootstrap draws.
* Approach 2 (isoFLOP): :func:`isoflop` fits a parabola of loss in log N per budget, takes its
  minimum, and fits N_opt = k C^a and D_opt = k' C^b by the engine.

Examples
--------
>>> from scalelaw.families.loss import chinchilla_allocation
>>> n, d = chinchilla_allocation(5.76e23, E=1.69337, A=406.401, B=410.723, alpha=0.33917084,
...                              beta=0.2849083)
>>> f"{n:.4g} {d:.4g}"
'4.036e+10 2.379e+12'
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from scalelaw import engine, extrapolation, protocol
from scalelaw.averaging import AveragedFit, average
from scalelaw.catalogue.loss import ALLOCATION_POWER_LAW
from scalelaw.errors import FitError, InputError
from scalelaw.io import Table, coerce_numeric, quantities, read_table, scales, studies
from scalelaw.laws import Law, get_law
from scalelaw.result import FitResult, error_metrics

#: Power law for allocation exponents: y = k C^a (y is N_opt or D_opt), residuals in log space.
ALLOCATION_LAW = ALLOCATION_POWER_LAW
#: Columns of a run log that hold sizes or losses (unit strings such as "125M" accepted).
NUMERIC = ("params", "tokens", "flops", "loss")


# ------------------------------------------------------------------------------ preparing the table
def prepare(table: Table | pd.DataFrame, *, exclude_highest: int = 0) -> tuple[pd.DataFrame, list[str]]:
    """The tidy (params, tokens, flops, loss) table and notes on what was derived or dropped.

    Parameters
    ----------
    table
        Runs with ``params``, ``loss`` and ``tokens`` or ``flops`` (a read file or a DataFrame;
        cells may carry units, ``"125M"``, ``"1.4T"``).
    exclude_highest
        Drop the rows with the k highest losses (Besiroglu et al. drop 5 of Hoffmann's 245 points).
    """
    src = coerce_numeric(table, NUMERIC, positive=NUMERIC)
    frame = src.frame.copy()
    notes: list[str] = []
    for column in ("params", "loss"):
        if column not in frame.columns:
            raise src.error(f"missing column {column!r}; the file has "
                            f"{', '.join(map(repr, frame.columns))}; add it or rename a column")
    if "tokens" not in frame.columns:
        if "flops" not in frame.columns:
            raise src.error("needs a 'tokens' column or a 'flops' column (tokens = flops / (6 params)); "
                            f"the file has {', '.join(map(repr, frame.columns))}")
        frame["tokens"] = frame["flops"] / (6.0 * frame["params"])
        notes.append("tokens computed as flops / (6 params)")
    if "flops" not in frame.columns:
        frame["flops"] = 6.0 * frame["params"] * frame["tokens"]
        notes.append("flops computed as 6 params tokens")
    if exclude_highest:
        if exclude_highest >= len(frame):
            raise src.error(f"exclude_highest={exclude_highest} would drop every one of the "
                            f"{len(frame)} rows")
        order = np.argsort(frame["loss"].to_numpy(), kind="stable")
        frame = frame.iloc[np.sort(order[: len(frame) - exclude_highest])]
        notes.append(f"dropped the {exclude_highest} rows with the highest loss")
    return frame, notes


def read_runs(path: str | Path, *, where: Mapping[str, str] | Iterable[str] | str | None = None,
              exclude_highest: int = 0, columns: Mapping[str, str] | None = None,
              sheet: str | int | None = None, tokens_unit: str = "auto", params_unit: str = "auto",
              flops_unit: str = "auto") -> tuple[pd.DataFrame, list[str]]:
    """Read a log of runs (CSV/TSV/JSON(L)/parquet/Excel) into the table of :func:`prepare`; returns it
    and the notes (column mapping, sheet, dropped runs, derived columns, dropped rows).

    ``where`` keeps the rows the filters pass before any cell is checked (``["State=finished",
    "budget<3e20"]`` or ``{"dataset": "rw"}``); ``columns`` maps roles to the file's columns
    (``{"loss": "eval/loss", "params": "model/params"}``); ``sheet`` chooses an Excel sheet;
    ``exclude_highest`` is that of :func:`prepare`.  Size columns named in a scale (``tokens_b``,
    ``params_m``, ``pf_days``) are converted with a note, and ``tokens_unit``, ``params_unit``,
    ``flops_unit`` say the unit of plain ones (:mod:`scalelaw.io.scales`).  A non-numeric column whose
    values each cover several model sizes (two loss conditions in one file) is warned about: the
    warnings are emitted as :class:`UserWarning` and kept in ``frame.attrs["warnings"]``.
    """
    table = read_table(path, required=["loss"], numeric=["params", "tokens", "flops", "loss"],
                       positive=["params", "tokens", "flops", "loss"], columns=columns, sheet=sheet, where=where)
    frame, unit_notes = scales.apply_units(table.frame, tokens_unit=tokens_unit, params_unit=params_unit,
                                           flops_unit=flops_unit, table=table)
    table = Table(frame, table.path, table.renamed, table.notes, table.given)
    if "params" not in frame.columns:
        raise table.error(f"missing column 'params' (or an alias such as 'N', 'n_params', 'model_size', or a "
                          f"scaled one such as 'params_m'); the file has "
                          f"{', '.join(map(repr, (table.renamed_from(c) for c in frame.columns)))}; add it or "
                          "map a column to it with columns=")
    frame, notes = prepare(table, exclude_highest=exclude_highest)
    found = studies.hidden(frame, frame["params"], reserved=("params", "tokens", "flops", "loss"))
    warned = [studies.warning(table.renamed_from(c), counts) for c, counts in found.items()]
    for text in warned:
        warnings.warn(text, UserWarning, stacklevel=2)
    frame.attrs["warnings"] = warned
    return frame, [text for text in (table.describe_mapping(), *unit_notes, *notes) if text]


# ----------------------------------------------------------------------------------------- fitting
def fit_loss(frame: pd.DataFrame, law: str | Law = "chinchilla", **settings) -> FitResult | AveragedFit:
    """Fit a loss law L(N, D) to a prepared table; settings go to :func:`scalelaw.engine.fit`.

    ``law="auto"``: the catalogue's loss laws (:func:`scalelaw.families.averaged.auto_laws`), each with
    the huber, squared and asymmetric losses, averaged by rolling-origin extrapolation error; settings
    go to :func:`scalelaw.averaging.average`.
    """
    if isinstance(law, str) and law.strip() == "auto":
        if settings.get("by") is not None:
            raise FitError("law='auto' averages laws over one table; give a law by name with by=")
        from scalelaw.families.averaged import auto_laws

        return average(frame, laws=auto_laws(), **settings)
    law = get_law(law, columns=frame.columns) if isinstance(law, str) else law
    return engine.fit(law, frame, **settings)


def is_chinchilla_shaped(law: Law) -> bool:
    return law.formula.replace(" ", "") == "E+A*N**-alpha+B*D**-beta"


def chinchilla_allocation(flops, *, E, A, B, alpha, beta):
    """Closed-form compute-optimal (N_opt, D_opt) for a FLOPs budget under C = 6 N D."""
    with np.errstate(all="ignore"):  # exponents of 0 (a law given by hand): NaN, which the answer reports
        a = beta / (alpha + beta)
        b = alpha / (alpha + beta)
        G = (alpha * A / (beta * B)) ** (1.0 / (alpha + beta))
        c6 = np.asarray(flops, dtype=float) / 6.0
        return G * c6**a, c6**b / G


def _law_at(law: Law, inputs: dict[str, np.ndarray], draws: np.ndarray) -> np.ndarray:
    """f with per-draw inputs: ``inputs`` arrays have draws on their first axis."""
    extra = (1,) * (np.ndim(next(iter(inputs.values()))) - 1)
    theta = {n: draws[:, j].reshape(-1, *extra) for j, n in enumerate(law.param_names)}
    value = law.value_program.bind(inputs)(theta)[0]
    shape = np.broadcast_shapes(*(np.shape(v) for v in inputs.values()))
    return np.where(np.isfinite(value), np.broadcast_to(value, shape), np.inf)


def _numeric_optimum(law: Law, flops: np.ndarray, draws: np.ndarray) -> np.ndarray:
    """ln N minimising L(N, C/(6N)) per draw and budget: a log grid, then golden-section search."""
    return minimise_along_budget(lambda n, d: _law_at(law, {"N": n, "D": d}, draws), flops, draws.shape[0])


def minimise_along_budget(loss, flops: np.ndarray, count: int = 1) -> np.ndarray:
    """ln N minimising ``loss(N, D)`` along D = C / (6 N), shape (count, budgets): a log grid, then
    golden-section search.  ``loss`` takes arrays N, D of shape (count, budgets[, grid]) and returns
    the loss there."""
    top = np.log(flops / 6.0)
    grid = np.linspace(0.0, 1.0, 241)[None, None, :] * top[None, :, None]
    grid = np.broadcast_to(grid, (count, flops.size, grid.shape[-1]))
    values = loss(np.exp(grid), flops[None, :, None] / (6 * np.exp(grid)))
    k = np.clip(np.argmin(values, axis=-1), 1, grid.shape[-1] - 2)
    step = top / 240.0
    lo = np.take_along_axis(grid, k[..., None], -1)[..., 0] - step
    hi = lo + 2 * step
    ratio = (np.sqrt(5.0) - 1.0) / 2.0

    def f(log_n):
        return loss(np.exp(log_n), flops[None, :] / (6 * np.exp(log_n)))

    for _ in range(80):
        x1, x2 = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        left = f(x1) < f(x2)
        hi, lo = np.where(left, x2, hi), np.where(left, lo, x1)
    return 0.5 * (lo + hi)


#: The columns of an allocation table, in order.
ALLOCATION_COLUMNS = ("flops", "params", "tokens", "loss", "params_lower", "params_upper", "tokens_lower",
                      "tokens_upper", "loss_lower", "loss_upper")


@dataclass(frozen=True)
class Allocation(protocol.Result):
    """Compute-optimal allocation for FLOPs budgets, with percentile intervals.

    Every array is over budgets: ``flops`` (FLOPs), ``params`` (N_opt, parameters), ``tokens``
    (D_opt), ``loss`` (the law's target there); ``*_lower``/``*_upper`` are NaN without a
    bootstrap.  ``settings`` are the arguments of :func:`allocate` (the budgets); ``warnings``
    name the budgets whose N_opt or D_opt lies outside the fitted ranges, and the fit's own.
    """

    FAMILY = "loss"
    KIND = "allocation"
    SAME_LENGTH = ALLOCATION_COLUMNS
    TITLE = "compute-optimal allocation (C = 6 N D)"

    flops: np.ndarray
    params: np.ndarray
    tokens: np.ndarray
    loss: np.ndarray
    params_lower: np.ndarray
    params_upper: np.ndarray
    tokens_lower: np.ndarray
    tokens_upper: np.ndarray
    loss_lower: np.ndarray
    loss_upper: np.ndarray
    method: str
    law: str = ""
    target: str = "loss"
    level: float = 0.95
    settings: Mapping[str, object] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ALLOCATION_COLUMNS:
            object.__setattr__(self, name, np.atleast_1d(np.asarray(getattr(self, name), dtype=float)))

    def to_frame(self) -> pd.DataFrame:
        """One row per budget: the allocation, its intervals and tokens per parameter."""
        frame = pd.DataFrame({k: getattr(self, k) for k in ALLOCATION_COLUMNS})
        frame["tokens_per_param"] = frame["tokens"] / frame["params"]
        return frame

    def summary(self) -> pd.DataFrame:
        return self.to_frame()

    def plot(self, ax=None):
        """N_opt and D_opt against compute, with their bootstrap bands."""
        from scalelaw.plots.loss import allocation_curves

        return allocation_curves(self, ax=ax)


def beyond_fitted(fit: FitResult, flops: np.ndarray, n: np.ndarray, d: np.ndarray) -> tuple[str, ...]:
    """Budgets past the fitted compute, and N_opt or D_opt outside the fitted ranges, with factors.

    Without a fitted ``flops`` range the budgets are compared with 6 N D at the fitted extremes.
    """
    ranges = fit.data.get("ranges", {}) or {}
    n_col, d_col = fit.law.column("N"), fit.law.column("D")
    compute = {}
    if "flops" in ranges:
        compute = {"flops": ranges["flops"]}
    elif n_col in ranges and d_col in ranges:
        compute = {"flops": [6 * ranges[n_col][0] * ranges[d_col][0], 6 * ranges[n_col][1] * ranges[d_col][1]]}
    of = "fitted" if "flops" in ranges else "fitted 6 N D"
    return (extrapolation.check(compute, {"flops": flops}, names={"flops": "C (FLOPs)"}, of=of)
            + extrapolation.check(ranges, {n_col: n, d_col: d}, names={n_col: "N_opt", d_col: "D_opt"}))


def allocate(fit: FitResult | AveragedFit, flops) -> Allocation:
    """Compute-optimal params and tokens (and the loss there) for FLOPs budgets under C = 6 N D.

    For a law average (:class:`~scalelaw.averaging.AveragedFit`) only the mixture's numeric optimum is
    given: sum_k w_k L_k(N, C / 6N) minimised over N, without an interval.
    """
    if isinstance(fit, AveragedFit):
        from scalelaw.families.averaged import allocate_mixture

        return allocate_mixture(fit, flops)
    law = fit.law
    if set(law.inputs) != {"N", "D"}:
        raise FitError(f"allocation needs a law of N and D; {law.name!r} has inputs {law.inputs}")
    flops = quantities(flops, "flops")
    if np.any(~np.isfinite(flops) | (flops <= 0)):
        raise InputError(f"FLOPs budgets must be positive numbers, got {flops.tolist()}")
    closed = is_chinchilla_shaped(law)

    def optimum(p) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(N_opt, D_opt, L_opt), each (draws, budgets), or (budgets,) for the point estimate."""
        point = np.ndim(p[law.param_names[0]]) == 0
        draws = np.column_stack([np.ravel(p[n]) for n in law.param_names])
        if closed:
            n, _ = chinchilla_allocation(flops[None, :], **{k: draws[:, [j]] for j, k in
                                                             enumerate(law.param_names)})
        else:
            n = np.exp(_numeric_optimum(law, flops, draws))
        d = flops[None, :] / (6.0 * n)
        loss = _law_at(law, {"N": n, "D": d}, draws)
        return (n[0], d[0], loss[0]) if point else (n, d, loss)

    (n, n_lo, n_hi), (d, d_lo, d_hi), (loss, l_lo, l_hi) = (
        fit.derive(lambda p, i=i: optimum(p)[i]) for i in range(3))
    return Allocation(flops, n, d, loss, n_lo, n_hi, d_lo, d_hi, l_lo, l_hi,
                      "closed form" if closed else "numeric search along C = 6 N D", law=law.name,
                      target=law.target, level=fit.level, settings={"flops": flops.tolist()},
                      warnings=(*fit.warnings, *extrapolation.emit(beyond_fitted(fit, flops, n, d))))


def exponents(fit: FitResult) -> pd.DataFrame:
    """Allocation exponents a (N_opt ~ C^a), b (D_opt ~ C^b) and G, with intervals (Chinchilla law)."""
    if not is_chinchilla_shaped(fit.law):
        raise FitError(f"closed-form exponents need the chinchilla law; {fit.law.name!r} is not")
    rows = {
        "a": lambda p: p["beta"] / (p["alpha"] + p["beta"]),
        "b": lambda p: p["alpha"] / (p["alpha"] + p["beta"]),
        "G": lambda p: (p["alpha"] * p["A"] / (p["beta"] * p["B"])) ** (1.0 / (p["alpha"] + p["beta"])),
    }
    out = []
    for name, fn in rows.items():
        value, lo, hi = fit.derive(fn)
        out.append({"quantity": name, "value": float(value), "lower": float(np.ravel(lo)[0]),
                    "upper": float(np.ravel(hi)[0])})
    return pd.DataFrame(out).set_index("quantity")


# -------------------------------------------------------------------------------------- validation
def scale_column(frame: pd.DataFrame, order_by: str) -> np.ndarray:
    """The values of the numeric column ``order_by`` that orders runs by scale (any numeric column)."""
    if order_by not in frame.columns:
        raise InputError(f"order_by={order_by!r} is not a column; the table has "
                         f"{', '.join(map(repr, frame.columns))}", column=order_by)
    values = pd.to_numeric(frame[order_by], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(f"order_by={order_by!r} must be a numeric column; it holds "
                         f"{frame[order_by].iloc[row]!r}", row=row + 1, column=order_by)
    return values


def held_out_interval(fit: FitResult, test: pd.DataFrame) -> dict[str, list[float]]:
    """Percentile intervals (the fit's level) of the held-out error metrics over the fit's bootstrap
    draws: metric -> [lower, upper] (MAE, max |error| and RMSE in target units, MAPE in percent)."""
    y = test[fit.law.target].to_numpy(dtype=float)
    draws = fit.law.evaluate_draws(fit._inputs(test), fit.bootstrap)
    per_draw = [error_metrics(y, d) for d in draws]
    out = {}
    for name in ("mae", "mape", "max_abs_error", "rmse"):
        lo, hi = fit.percentiles(np.array([m[name] for m in per_draw]))
        out[name] = [float(lo), float(hi)]
    return out


def holdout_mask(frame: pd.DataFrame, *, top_frac: float | None = None, column: str | None = None,
                 order_by: str = "flops") -> np.ndarray:
    """Rows to hold out: the top fraction by ``order_by``, or those where ``column`` is true."""
    if column is not None:
        if column not in frame.columns:
            raise InputError(f"column={column!r} is not a column; the table has "
                             f"{', '.join(map(repr, frame.columns))}")
        values = frame[column].astype(str).str.strip().str.lower()
        allowed = {"1", "0", "true", "false", "yes", "no", "1.0", "0.0"}
        bad = ~values.isin(allowed)
        if bad.any():
            row = frame.index[np.flatnonzero(bad.to_numpy())[0]]
            raise InputError(f"column={column!r} must hold true/false or 1/0, found "
                             f"{frame.loc[row, column]!r}", row=int(row), column=column)
        return values.isin({"1", "true", "yes", "1.0"}).to_numpy()
    if top_frac is None or not 0 < top_frac < 1:
        raise InputError(f"top_frac={top_frac} must be between 0 and 1")
    scale = scale_column(frame, order_by)
    cut = np.quantile(scale, 1 - top_frac)
    return scale > cut


def _law(law: str | Law | Mapping, columns) -> Law:
    """A law from a catalogue name or formula, a Law, or a law's ``to_dict()``."""
    if isinstance(law, Law):
        return law
    if isinstance(law, Mapping):
        return Law.from_dict(law)
    return get_law(law, columns=columns)


@dataclass(frozen=True)
class Validation(protocol.Result):
    """A law fitted on the smaller runs and checked on the held-out larger ones.

    Attributes
    ----------
    fit
        The fit on the rows that were not held out.
    in_sample, held_out
        Error metrics (:func:`scalelaw.result.error_metrics`: ``n``, ``mae``, ``mape`` in percent,
        ``max_abs_error``, ``rmse``; target units) on the fitted and on the held-out rows.
    n_train, n_held_out
        Row counts of the two parts.
    rows
        One row per run: ``scale`` (the ``order_by`` column), ``actual``, ``predicted`` and
        ``held_out``; with a bootstrap also the prediction's percentile interval ``lower``, ``upper``.
    order_by
        The numeric column that orders the runs by scale (flops, params, tokens or any other).
    settings
        The arguments of :func:`validate_loss` (law, hold-out rule, fit settings).
    held_out_interval
        With a bootstrap (``bootstrap=``): metric -> [lower, upper], the percentile interval of each
        held-out error metric over the bootstrap fits (:func:`held_out_interval`); else empty.
    """

    FAMILY = "loss"
    KIND = "validation"
    TITLE = "hold-out validation: fitted on the smaller runs, checked on the larger"

    fit: FitResult
    in_sample: Mapping[str, float]
    held_out: Mapping[str, float]
    n_train: int
    n_held_out: int
    rows: pd.DataFrame
    order_by: str = "flops"
    settings: Mapping[str, object] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    held_out_interval: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("in_sample", "held_out", "settings", "held_out_interval"):
            object.__setattr__(self, name, protocol.frozen(getattr(self, name)))

    def summary(self) -> pd.DataFrame:
        """One row per part (in-sample, held out): n, MAE, MAPE (%), max |error|, RMSE."""
        frame = pd.DataFrame([dict(self.in_sample), dict(self.held_out)], index=["in-sample", "held out"])
        for side, j in (("lower", 0), ("upper", 1)):
            if self.held_out_interval:
                frame.loc[f"held out ({side})"] = {k: v[j] for k, v in self.held_out_interval.items()} | {
                    "n": self.held_out["n"]}
        frame.index.name = "rows"
        return frame

    def report(self) -> str:
        return "\n".join([self.TITLE, self.fit.report(), "", super().report().split("\n", 1)[1]])

    def plot(self, ax=None):
        """Relative error of the law against the run's scale, fitted and held-out runs apart."""
        from scalelaw.plots.loss import validation_errors

        return validation_errors(self, ax=ax)


def validate_loss(frame: pd.DataFrame, law: str | Law | Mapping = "chinchilla", *, top_frac: float | None = 0.2,
                  column: str | None = None, order_by: str = "flops", **settings) -> Validation:
    """Fit on the smaller scales and report the error on the held-out larger ones.

    ``law`` is a catalogue name, a formula, a Law or a law's ``to_dict()``; ``order_by`` any numeric
    column; ``settings`` go to :func:`scalelaw.engine.fit` (with ``bootstrap=``, the held-out errors get
    percentile intervals over the bootstrap fits and each run's prediction its interval).
    """
    spec = law.to_dict() if isinstance(law, Law) else law
    law = _law(law, frame.columns)
    mask = holdout_mask(frame, top_frac=top_frac, column=column, order_by=order_by)
    out = engine.validate(law, frame, mask, **settings)
    fit = out["fit"]
    rows = pd.DataFrame({"scale": scale_column(frame, order_by),
                         "actual": frame[law.target].to_numpy(dtype=float),
                         "predicted": fit.predict(frame, warn=False), "held_out": np.asarray(mask, dtype=bool)})
    interval = {}
    if fit.bootstrap is not None:
        _, rows["lower"], rows["upper"] = fit.predict_interval(frame, warn=False)
        interval = held_out_interval(fit, frame.loc[np.asarray(mask, dtype=bool)])
    return Validation(fit, out["in_sample"], out["held_out"], out["n_train"], out["n_held_out"], rows,
                      order_by=order_by, warnings=fit.warnings, held_out_interval=interval,
                      settings={"law": spec, "top_frac": top_frac, "column": column, "order_by": order_by,
                                **settings})


# ------------------------------------------------------------------------------ isoFLOP (Approach 2)
@dataclass(frozen=True)
class IsoflopResult(protocol.Result):
    """Approach 2: per-budget minima and the power laws of the optimum in compute.

    Attributes
    ----------
    minima
        One row per usable budget: flops, params (N_opt), tokens (D_opt), loss at N_opt,
        curvature (of the parabola in ln N) and points.
    params_fit, tokens_fit
        N_opt = k C^a and D_opt = k C^b fitted to the minima.
    skipped
        The budgets left out, and why.
    points
        The runs the parabolas were fitted to (params, flops, loss, budget).
    settings
        The arguments of :func:`isoflop`.
    """

    FAMILY = "loss"
    KIND = "isoflop"
    TITLE = "isoFLOP analysis (Approach 2): N_opt = k C^a, D_opt = k C^b"

    minima: pd.DataFrame
    params_fit: FitResult
    tokens_fit: FitResult
    skipped: tuple[str, ...]
    points: pd.DataFrame | None = None
    settings: Mapping[str, object] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "skipped", tuple(self.skipped))

    def exponents(self) -> pd.DataFrame:
        rows = []
        for name, result in (("a (params)", self.params_fit), ("b (tokens)", self.tokens_fit)):
            lo, hi = result.intervals().get("a", (np.nan, np.nan))
            rows.append({"quantity": name, "value": result.params["a"], "lower": lo, "upper": hi})
        return pd.DataFrame(rows).set_index("quantity")

    def extrapolation(self, flops) -> tuple[str, ...]:
        """Budgets (FLOPs) outside the range of the isoFLOP budgets fitted, with the factor."""
        return self.params_fit.extrapolation({"C": quantities(flops, "flops")})

    def predict(self, flops, *, interval: str = "confidence", warn: bool = True) -> pd.DataFrame:
        """N_opt and D_opt with intervals at budgets (FLOPs); warns outside the fitted budgets.

        ``interval="confidence"``: where the power law puts the optimum (its bootstrap);
        ``"prediction"``: where a new budget's vertex would land (adding the scatter of the vertices
        about the power law).
        """
        flops = quantities(flops, "flops")
        if warn:
            extrapolation.emit(self.extrapolation(flops))
        n, n_lo, n_hi = self.params_fit.predict_interval({"C": flops}, interval=interval, warn=False)
        d, d_lo, d_hi = self.tokens_fit.predict_interval({"C": flops}, interval=interval, warn=False)
        return pd.DataFrame({"flops": flops, "params": n, "params_lower": n_lo, "params_upper": n_hi,
                             "tokens": d, "tokens_lower": d_lo, "tokens_upper": d_hi})

    def summary(self) -> pd.DataFrame:
        """The allocation exponents a (N_opt) and b (D_opt) with their intervals."""
        return self.exponents()

    def report(self) -> str:
        table = self.minima.to_string(index=False, float_format=lambda v: f"{v:.6g}")
        head, rest = super().report().split("\n", 1)
        return "\n".join([head, table, rest])

    def plot(self, ax=None):
        """The parabolas per budget (left) and N_opt, D_opt against compute (right)."""
        from scalelaw.plots.loss import isoflop_curves

        points = self.points if self.points is not None else self.minima.assign(budget=self.minima["flops"])
        return isoflop_curves(self, points, points["budget"], ax=ax)


def budgets(frame: pd.DataFrame, budget_column: str | None = None) -> pd.Series:
    """Budget label per row: the given column, or FLOPs rounded to 3 significant digits (runs whose
    FLOPs agree to 3 digits share a budget; the budget's value is then their geometric mean)."""
    if budget_column is not None:
        if budget_column not in frame.columns:
            raise InputError(f"budget_column={budget_column!r} is not a column")
        return frame[budget_column].astype(float)
    return frame["flops"].map(lambda c: float(f"{c:.3g}"))


#: How the isoFLOP bootstrap resamples: the budgets' minima, or the points within each budget.
RESAMPLING = ("budgets", "points")


def isoflop(frame: pd.DataFrame, *, budget_column: str | None = None, min_points: int = 3,
            bootstrap: int = 0, seed: int = 0, level: float = 0.95, resample: str = "budgets") -> IsoflopResult:
    """Approach 2: parabola of loss in ln N per budget, minima, then power laws in compute.

    ``resample`` says what the ``bootstrap`` replicates draw again: ``"budgets"`` (the minima, as rows
    of the power-law fits) or ``"points"`` (the runs within each budget, refitting every parabola, so
    that the intervals of N_opt(C) carry each vertex's uncertainty and its curvature; see
    :mod:`scalelaw.families.vertices`).
    """
    if resample not in RESAMPLING:
        raise InputError(f"resample={resample!r}: give budgets or points", field="resample")
    labels = budgets(frame, budget_column)
    rows, skipped, used = [], [], []
    for budget, group in frame.groupby(labels, sort=True):
        x = np.log(group["params"].to_numpy(dtype=float))
        y = group["loss"].to_numpy(dtype=float)
        if np.unique(x).size < min_points:
            skipped.append(f"{budget:.3g} FLOPs: {np.unique(x).size} model sizes (< {min_points})")
            continue
        c2, c1, c0 = np.polyfit(x, y, 2)
        if c2 <= 0:
            skipped.append(f"{budget:.3g} FLOPs: loss is not convex in log N")
            continue
        x_opt = -c1 / (2 * c2)
        if not x.min() <= x_opt <= x.max():
            skipped.append(f"{budget:.3g} FLOPs: the minimum lies outside the sampled sizes")
            continue
        n_opt = float(np.exp(x_opt))
        c = float(budget) if budget_column else float(np.exp(np.mean(np.log(group["flops"]))))
        used.append((x, y))
        rows.append({"flops": c, "params": n_opt, "tokens": c / (6 * n_opt),
                     "loss": float(c0 + c1 * x_opt + c2 * x_opt**2), "curvature": float(c2),
                     "points": int(len(group))})
    if len(rows) < 2:
        raise FitError(f"isoFLOP analysis needs at least {min_points} model sizes at each of 2 or more "
                       f"budgets; usable budgets: {len(rows)}" + (f" (skipped {'; '.join(skipped)})"
                                                                   if skipped else ""))
    minima = pd.DataFrame(rows)
    settings = {"loss": "squared", "bootstrap": bootstrap, "seed": seed, "level": level}
    targets, dropped = {"params": None, "tokens": None}, []
    if resample == "points" and bootstrap:
        from scalelaw.families.vertices import replicate_vertices

        n_opt = np.exp(replicate_vertices(used, replicates=bootstrap, seed=seed))
        keep = np.all(np.isfinite(n_opt), axis=1)
        if keep.sum() < 2:
            raise FitError(f"resample=points: {bootstrap - keep.sum()} of {bootstrap} resamples left a budget "
                           "whose parabola is not convex; add runs per budget or resample=budgets")
        if not keep.all():
            dropped.append(f"{bootstrap - keep.sum()} of {bootstrap} point resamples left out: a budget's "
                           "resampled parabola was not convex")
        targets = {"params": n_opt[keep], "tokens": minima["flops"].to_numpy() / (6 * n_opt[keep])}
        settings["bootstrap"] = 0
    params_fit = engine.fit(ALLOCATION_LAW, minima.assign(y=minima["params"]), **settings,
                            bootstrap_targets=targets["params"])
    tokens_fit = engine.fit(ALLOCATION_LAW, minima.assign(y=minima["tokens"]), **settings,
                            bootstrap_targets=targets["tokens"])
    points = pd.DataFrame({"params": frame["params"].to_numpy(dtype=float),
                           "flops": frame["flops"].to_numpy(dtype=float),
                           "loss": frame["loss"].to_numpy(dtype=float),
                           "budget": labels.to_numpy(dtype=float)})
    warned = [f"skipped {text}" for text in skipped] + dropped
    warned += [f"{name}: {w}" for name, f in (("N_opt fit", params_fit), ("D_opt fit", tokens_fit))
               for w in f.warnings]
    return IsoflopResult(minima, params_fit, tokens_fit, tuple(skipped), points, warnings=warned,
                         settings={"budget_column": budget_column, "min_points": min_points,
                                   "bootstrap": bootstrap, "seed": seed, "level": level}
                         | ({"resample": resample} if resample != "budgets" else {}))
