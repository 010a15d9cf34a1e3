"""Loss to error (Gadre et al. 2024): Err(L) = epsilon - k exp(-gamma L), chained with a loss law.

The law links a model's loss L (e.g. C4 validation loss, nats per token) to its average top-1
error on a set of downstream tasks: the error tends to epsilon (near chance) as the loss grows and
falls exponentially as the loss drops.  It is fitted on (loss, error) pairs by the engine (squared
error, as ``scipy.optimize.curve_fit``; epsilon and k are solved by least squares for every start
of gamma).  Chained with a loss law L(N, D) fitted by the loss family, it predicts the error of a
model that was never trained: Err(L(N, D)), with an interval that pairs the two fits' bootstrap
replicates.

:data:`GADRE_LOSS_LAW` is the paper's loss law in parameters N and token multiplier M = D / N,
L(N, M) = alpha N^eta + beta 6^(eta/2) (M N)^eta + E (eta < 0), fitted like theirs by squared
error; any loss law of the loss family chains the same way.

Examples
--------
>>> import numpy as np, pandas as pd
>>> loss = np.linspace(2.2, 4.0, 8)
>>> error = 0.857 - 2.206 * np.exp(-0.7146 * loss)
>>> fit = fit_error_law(pd.DataFrame({"loss": loss, "error": error}))
>>> {k: round(v, 4) for k, v in fit.params.items()}
{'epsilon': 0.857, 'gamma': 0.7146, 'k': 2.206}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from scalelaw import artifact, engine, extrapolation, protocol
from scalelaw.catalogue.downstream import ERROR_LAW, GADRE_LOSS_LAW  # noqa: F401 (the family's loss law)
from scalelaw.errors import FitError, InputError
from scalelaw.families.downstream.common import evaluate_paired
from scalelaw.io import Table, as_table, filter_rows, read_table
from scalelaw.result import FitResult


def prepare(table: Table | pd.DataFrame, *, loss_column: str = "loss", error_column: str = "error",
            from_accuracy: bool = False) -> pd.DataFrame:
    """The (loss, error) table from a read file or a DataFrame; with ``from_accuracy`` the column
    holds accuracy and error = 1 - accuracy.  Errors must lie in [0, 1] and losses be positive."""
    table = as_table(table)
    frame = table.frame
    for argument, column in (("loss_column", loss_column), ("error_column", error_column)):
        if column not in frame.columns:
            raise table.error(f"{argument}={column!r} is not a column; the file has "
                              f"{', '.join(map(repr, frame.columns))}")
    out = pd.DataFrame({"loss": _finite(table, loss_column), "error": _finite(table, error_column)},
                       index=frame.index)
    if from_accuracy:
        out["error"] = 1.0 - out["error"]
    out.attrs["source"] = table.path
    checks = ((out["loss"] <= 0, loss_column, "a loss must be > 0"),
              ((out["error"] < 0) | (out["error"] > 1), error_column,
               "an error (or accuracy) is a fraction in [0, 1]"))
    for bad, column, text in checks:
        if bad.any():
            row = int(out.index[np.flatnonzero(bad.to_numpy())[0]])
            raise table.error(f"{table.frame.loc[row, column]!r}: {text}", row=row, column=column)
    return out


def read_errors(path: str | Path, *, loss_column: str = "loss", error_column: str = "error",
                from_accuracy: bool = False, where: Mapping[str, str] | Iterable[str] | None = None,
                format: str | None = None, metric: str = "acc", **harness_options) -> pd.DataFrame:
    """The (loss, error) table of :func:`prepare` from a file with one row per model; ``where``
    keeps the rows its filters pass (``{"family": "gpt"}`` or ``["params<7B"]``).

    A folder of lm-evaluation-harness v0.4 results (or ``format="lm-eval"``) gives one row per model
    with one column per task (its ``metric``) and the manifest's columns (the loss among them);
    ``error_column="error"``, when no such column exists, is the average top-1 error 1 - mean
    ``metric`` over the tasks.  ``harness_options`` (``manifest``, ``params``, ``tokens``,
    ``columns``) go to :func:`~scalelaw.families.downstream.harness.read_results`.
    """
    from scalelaw.families.downstream import harness

    if format not in (None, "table", harness.FORMAT):
        raise InputError(f"format={format!r} is not 'table' or {harness.FORMAT!r}")
    if format == harness.FORMAT or (format is None and harness.is_results(path)):
        table = _harness_table(harness.read_results(path, require=(), **harness_options), metric,
                               error_column)
    elif harness_options:
        raise InputError(f"{', '.join(f'{k}=' for k in harness_options)} apply to lm-evaluation-harness "
                         "results; a table carries its sizes in its columns")
    else:
        table = read_table(path, rename=False)
    if where:
        table = filter_rows(table, where)
    return prepare(table, loss_column=loss_column, error_column=error_column, from_accuracy=from_accuracy)


def _harness_table(results, metric: str, error_column: str) -> Table:
    """One row per model; with no ``error_column`` among its columns, the average error over tasks."""
    table = results.table(metric)
    frame = table.frame
    if error_column == "error" and "error" not in frame.columns:
        _, tasks, _ = results.matrix(metric)
        scores = frame[list(tasks)].astype(float)
        if scores.isna().any().any():
            row, task = next((r, t) for r in frame.index for t in tasks if np.isnan(scores.loc[r, t]))
            raise InputError(f"model {frame.loc[row, 'model']!r} has no {metric!r} for task {task!r}; the "
                             "average error needs every task for every model: evaluate them on the same tasks, or give "
                             "error_column= one task (with from_accuracy=True)", path=results.path)
        frame = frame.assign(error=1.0 - scores.mean(axis=1))
    return Table(frame, table.path, {})


def _finite(table: Table, column: str) -> pd.Series:
    values = pd.to_numeric(table.frame[column].astype(str).str.strip(), errors="coerce")
    bad = np.flatnonzero(~np.isfinite(values.to_numpy(dtype=float)))
    if bad.size:
        row = int(table.frame.index[bad[0]])
        raise table.error(f"{table.frame[column].iloc[bad[0]]!r} is not a finite number; fix or drop "
                          "that row", row=row, column=column)
    return values.astype(float)


def fit_error_law(frame: pd.DataFrame, *, loss: str = "squared", **settings) -> FitResult:
    """Fit Err(L) = epsilon - k exp(-gamma L) to a (loss, error) table; settings go to the engine."""
    if frame["loss"].nunique() < 3:
        raise FitError(f"the table has {frame['loss'].nunique()} distinct loss value(s); the 3 parameters "
                       "(epsilon, k, gamma) need models at 3 or more losses")
    return engine.fit(ERROR_LAW, frame, loss=loss, **settings)


@protocol.value_kind("downstream.chained-error")
@dataclass(frozen=True)
class ChainedError:
    """A predicted loss and the error it implies, with percentile intervals (NaN without draws)."""

    loss: float
    loss_lower: float
    loss_upper: float
    error: float
    error_lower: float
    error_upper: float

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def predict_error(error_fit: FitResult, *, loss: float | None = None, loss_fit: FitResult | None = None,
                  inputs: dict | None = None) -> ChainedError:
    """The error at a loss, or at the loss a loss law predicts for ``inputs`` (e.g. params, tokens).

    With both fits bootstrapped, replicate i of the error law is evaluated at the loss replicate i
    of the loss law predicts.
    """
    nan = float("nan")
    if loss is not None:
        value, lo, hi = (float(np.ravel(v)[0]) for v in error_fit.predict_interval({"loss": [loss]}))
        return ChainedError(float(loss), nan, nan, value, lo, hi)
    if loss_fit is None or inputs is None:
        raise InputError("give loss=, or loss_fit= and the inputs= it needs (e.g. params and "
                         "tokens)")
    predicted, l_lo, l_hi = (float(np.ravel(v)[0]) for v in loss_fit.predict_interval(inputs))
    error = float(np.ravel(error_fit.predict({"loss": [predicted]}))[0])
    e_lo = e_hi = nan
    if loss_fit.bootstrap is not None and error_fit.bootstrap is not None:
        draws = min(len(loss_fit.bootstrap), len(error_fit.bootstrap))
        values = {sym: np.atleast_1d(np.asarray(inputs.get(sym, inputs.get(loss_fit.law.column(sym))),
                                                dtype=float)) for sym in loss_fit.law.inputs}
        loss_draws = loss_fit.law.evaluate_draws(values, loss_fit.bootstrap[:draws]).reshape(draws, -1)[:, 0]
        error_draws = evaluate_paired(error_fit.law, {"L": loss_draws}, error_fit.bootstrap[:draws])
        e_lo, e_hi = (float(v) for v in error_fit.percentiles(error_draws))
    return ChainedError(predicted, l_lo, l_hi, error, e_lo, e_hi)


# ------------------------------------------------------------------------------------------ result
#: The schema the command line wrote error-law artifacts with before the result protocol.
LEGACY_SCHEMA = "scalelaw.downstream.error_law/1"


@dataclass(frozen=True)
class ErrorLaw(protocol.Result):
    """A fitted error law Err(L), the loss law it is chained with, and a prediction.

    Attributes
    ----------
    fit
        The :class:`~scalelaw.result.FitResult` of Err(L) = epsilon - k exp(-gamma L).
    points
        The (loss, error) table it was fitted to (empty when read from an older artifact).
    source
        Where the table came from.
    loss_fit
        The loss law chained with it (a fit of the loss family), or None.
    prediction
        The :class:`ChainedError` at ``at_loss`` or at the loss ``loss_fit`` predicts for
        ``inputs``, or None.
    settings
        The keyword arguments of :func:`analyse`.
    warnings
        The fits' own warnings and a prediction outside the fitted losses.
    """

    FAMILY = "downstream"
    KIND = "error-law"
    TITLE = "loss to error: Err(L) = epsilon - k exp(-gamma L)"

    fit: FitResult
    points: pd.DataFrame
    source: str = "table"
    loss_fit: FitResult | None = None
    prediction: ChainedError | None = None
    settings: Mapping[str, object] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


    @property
    def loss_range(self) -> tuple[float, float]:
        """The smallest and largest fitted loss."""
        if len(self.points):
            return float(self.points["loss"].min()), float(self.points["loss"].max())
        return tuple(float(v) for v in self.fit.data["ranges"]["loss"])

    def predict(self, *, loss: float | None = None, inputs: dict | None = None) -> ChainedError:
        """The error at ``loss``, or at the loss the chained loss law predicts for ``inputs``."""
        return predict_error(self.fit, loss=loss, loss_fit=self.loss_fit, inputs=inputs)

    def summary(self) -> pd.DataFrame:
        """The error law's parameters: value, se, lower, upper, at_bound."""
        return self.fit.summary()

    def report(self) -> str:
        lines = [self.TITLE, self.summary().to_string(float_format=lambda v: f"{v:.6g}")]
        p = self.prediction
        if p is not None:
            lines.append(f"loss {p.loss:.4f} [{p.loss_lower:.4f}, {p.loss_upper:.4f}] -> error {p.error:.4f} "
                         f"[{p.error_lower:.4f}, {p.error_upper:.4f}]")
        return "\n".join(lines + [f"warning: {w}" for w in self.warnings])

    def plot(self, ax=None):
        """Error against loss: the models, the fitted law and its band, and the prediction."""
        from scalelaw.plots.downstream import error_law_figure

        return error_law_figure(self.fit, self.points, chained=self.prediction, ax=ax)


def _warnings(error_fit: FitResult, loss_fit: FitResult | None, prediction: ChainedError | None,
              loss_range: tuple[float, float], inputs: Mapping[str, float] | None = None) -> tuple[str, ...]:
    out = [f"error law: {w}" for w in error_fit.warnings]
    out += [f"loss law: {w}" for w in (loss_fit.warnings if loss_fit is not None else ())]
    lo, hi = loss_range
    if prediction is not None and not lo <= prediction.loss <= hi:
        far = extrapolation.distance(prediction.loss, lo, hi)
        out.append(f"the loss {prediction.loss:.4f} is outside the fitted range {lo:.4f}..{hi:.4f}: "
                   "the error law extrapolates" + (f" ({far} fitted loss)" if far else ""))
    if loss_fit is not None and inputs:
        out += [f"loss law: {text}" for text in loss_fit.extrapolation(inputs)]
    return tuple(out)


def analyse(points: pd.DataFrame, loss_fit: FitResult | None = None, *, at_loss: float | None = None,
            inputs: Mapping[str, float] | None = None, loss: str = "squared", bootstrap: int = 0, seed: int = 0,
            level: float = 0.95) -> ErrorLaw:
    """Fit the error law to a (loss, error) table and predict the error at a loss or at a model.

    Parameters
    ----------
    points
        Columns ``loss`` and ``error`` (:func:`prepare` gives them from a read file).
    loss_fit
        A loss law to chain with (e.g. :data:`GADRE_LOSS_LAW` fitted by the engine).
    at_loss
        Predict the error at this loss.
    inputs
        Predict at the loss ``loss_fit`` gives for these inputs (by column, e.g. params, tokens).
    loss, bootstrap, seed, level
        The engine's loss for the error law, its bootstrap replicates, their seed and the interval
        level.
    """
    if inputs is not None and loss_fit is None:
        raise InputError("inputs= needs loss_fit=, the loss law that turns them into a loss")
    if inputs is not None and at_loss is not None:
        raise InputError("give at_loss= or inputs=, not both")
    fit = fit_error_law(points, loss=loss, bootstrap=bootstrap, seed=seed, level=level)
    prediction = None
    if inputs is not None:
        prediction = predict_error(fit, loss_fit=loss_fit, inputs=dict(inputs))
    elif at_loss is not None:
        prediction = predict_error(fit, loss=at_loss)
    frame = points[["loss", "error"]].reset_index(drop=True)
    settings = {"at_loss": at_loss, "inputs": None if inputs is None else dict(inputs), "loss": loss,
                "bootstrap": bootstrap, "seed": seed, "level": level}
    lo, hi = float(frame["loss"].min()), float(frame["loss"].max())
    return ErrorLaw(fit, frame, str(points.attrs.get("source", "table")), loss_fit, prediction, settings,
                    _warnings(fit, loss_fit, prediction, (lo, hi), inputs))


@protocol.legacy(LEGACY_SCHEMA)
def _read_legacy(payload: dict, source: str) -> ErrorLaw:
    """An error-law artifact of the command line before the result protocol (no table, no loss law)."""
    payload = artifact.check(payload, schema=LEGACY_SCHEMA, source=source)
    fit = protocol.from_payload(payload["fit"], source=source)
    prediction = None if payload.get("prediction") is None else ChainedError(**payload["prediction"])
    settings = {k: fit.settings[k] for k in ("loss", "bootstrap", "seed", "level") if k in fit.settings}
    lo, hi = (float(v) for v in fit.data["ranges"]["loss"])
    return ErrorLaw(fit, pd.DataFrame({"loss": [], "error": []}), source, None, prediction, settings,
                    _warnings(fit, None, prediction, (lo, hi)))
