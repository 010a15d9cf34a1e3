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

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from scalelaw import engine
from scalelaw.errors import FitError, InputError
from scalelaw.families.downstream.common import evaluate_paired
from scalelaw.io import Table, filter_rows, read_table
from scalelaw.laws import Law, Param
from scalelaw.result import FitResult

ERROR_LAW = Law(
    name="loss_to_error",
    formula="epsilon - k * exp(-gamma * L)",
    inputs=("L",),
    params=(Param("epsilon", doc="error as the loss grows without bound (near chance), fraction"),
            Param("gamma", lower=0.0, starts=(0.05, 0.1, 0.2, 0.4, 0.7, 1.0, 1.5, 2.5, 4.0),
                  doc="decay rate per unit of loss"),
            Param("k", lower=0.0, doc="amplitude, fraction")),
    space="linear",
    columns=(("L", "loss"),),
    target="error",
    doc="Gadre et al. (2024): average top-1 error Err(L) = epsilon - k exp(-gamma L), L the loss.",
)


GADRE_LOSS_LAW = Law(
    name="gadre_loss",
    formula="alpha * N**eta + beta * 6**(eta / 2) * (M * N)**eta + E",
    inputs=("N", "M"),
    params=(Param("E", doc="irreducible loss, nats per token"),
            Param("alpha", doc="model-size term amplitude"),
            Param("beta", doc="over-training term amplitude"),
            Param("eta", upper=0.0, starts=(-0.05, -0.1, -0.2, -0.3, -0.5), doc="exponent (negative)")),
    space="linear",
    columns=(("N", "params"), ("M", "tokens_per_param")),
    target="loss",
    doc="Gadre et al. (2024): L(N, M) = alpha N^eta + beta 6^(eta/2) (M N)^eta + E, M = D / N tokens "
        "per parameter (equivalently E + (a M^eta' + b M^-eta') C^eta' with C = 6 N D).",
)


def prepare(table: Table, *, loss_column: str = "loss", error_column: str = "error",
            from_accuracy: bool = False) -> pd.DataFrame:
    """The (loss, error) table from a read file; with ``from_accuracy`` the column holds accuracy
    and error = 1 - accuracy.  Errors must lie in [0, 1] and losses be positive."""
    frame = table.frame
    for argument, column in (("loss_column", loss_column), ("error_column", error_column)):
        if column not in frame.columns:
            raise table.error(f"{argument}={column!r} is not a column; the file has "
                              f"{', '.join(map(repr, frame.columns))}")
    out = pd.DataFrame({"loss": _finite(table, loss_column), "error": _finite(table, error_column)},
                       index=frame.index)
    if from_accuracy:
        out["error"] = 1.0 - out["error"]
    checks = ((out["loss"] <= 0, loss_column, "a loss must be > 0"),
              ((out["error"] < 0) | (out["error"] > 1), error_column,
               "an error (or accuracy) is a fraction in [0, 1]"))
    for bad, column, text in checks:
        if bad.any():
            row = int(out.index[np.flatnonzero(bad.to_numpy())[0]])
            raise table.error(f"{table.frame.loc[row, column]!r}: {text}", row=row, column=column)
    return out


def read_errors(path: str | Path, *, loss_column: str = "loss", error_column: str = "error",
                from_accuracy: bool = False, where: Mapping[str, str] | None = None) -> pd.DataFrame:
    """The (loss, error) table of :func:`prepare` from a file with one row per model; ``where``
    keeps the rows whose columns equal the given values."""
    table = read_table(path, rename=False)
    if where:
        table = filter_rows(table, where)
    return prepare(table, loss_column=loss_column, error_column=error_column, from_accuracy=from_accuracy)


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
