"""Two-step ladder prediction (Bhagia et al. 2024): (N, D) -> task loss -> accuracy.

Step 1 fits the task loss of the ladder's final checkpoints,

    L(N, D) = E + A N^-alpha + B D^-beta        (N non-embedding parameters, D tokens),

one point per ladder run: L is the mean over the run's last ``last_n`` evaluations and D the
tokens at its last one; Huber loss (delta 1e-3) on log residuals, summed, with E >= 0 and
A, B >= 1 (the paper's bounds on E, log A and log B).

Step 2 fits accuracy against task loss over the ladder's intermediate checkpoints,

    acc(L) = a / (1 + exp(-k (L - L0))) + b     with a in [-1, 0], k >= 0, L0 >= 0, b in [0, 1],

after the documented preprocessing: drop the first ``skip`` fraction (10%) of each run's
checkpoints, smooth task loss and accuracy with a trailing moving average of ``moving_avg`` (5;
its first entries are partial means), pool the runs and add the anchor point (0, 1): zero loss
means a perfect score.  Squared error, as ``scipy.optimize.curve_fit``.

The prediction for a target (N, D) is acc(L(N, D)).  Both steps are fitted by the engine from
many starting points; bootstrap replicates of the two steps are paired to give intervals of the
chained prediction.  A target whose actual logs are present (``mode`` = target) is compared: the
actual task loss and accuracy are the mean of its last ``last_n`` evaluations.

Examples
--------
>>> moving_average([1.0, 2.0, 3.0, 4.0], 2).tolist()
[1.0, 1.5, 2.5, 3.5]
>>> STEP1_LAW.param_names
('E', 'A', 'B', 'alpha', 'beta')
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from scalelaw import engine
from scalelaw.errors import FitError, InputError
from scalelaw.families.downstream.common import evaluate_paired
from scalelaw.families.downstream.olmo_ladder import LadderLogs
from scalelaw.laws import EXPONENT_STARTS, Law, Param, get_law
from scalelaw.result import FitResult

STEP1_LAW = Law(
    name="ladder_task_loss",
    formula="E + A * N**-alpha + B * D**-beta",
    inputs=("N", "D"),
    params=(Param("E", lower=0.0, doc="irreducible task loss, bits per byte"),
            Param("A", log=True, lower=1.0, doc="model-size term amplitude, bits per byte"),
            Param("B", log=True, lower=1.0, doc="data term amplitude, bits per byte"),
            Param("alpha", lower=0.0, starts=EXPONENT_STARTS, doc="exponent of non-embedding parameters"),
            Param("beta", lower=0.0, starts=EXPONENT_STARTS, doc="exponent of training tokens")),
    columns=(("N", "params"), ("D", "tokens")),
    target="task_loss",
    doc="OLMo ladder step 1: task loss L(N, D) = E + A N^-alpha + B D^-beta (log residuals).",
)
STEP2_LAW = replace(
    get_law("sigmoid"),
    name="ladder_sigmoid",
    params=(Param("a", lower=-1.0, upper=0.0, doc="height (negative: accuracy falls with loss)"),
            Param("b", lower=0.0, upper=1.0, doc="accuracy at zero loss"),
            Param("k", lower=0.0, starts=(1.0, 3.0, 10.0, 30.0), doc="steepness per unit of task loss"),
            Param("x0", lower=0.0, starts=(0.25, 0.5, 0.75, 1.0, 1.5, 2.0), doc="midpoint, task-loss units")),
    columns=(("x", "task_loss"),),
    target="accuracy",
    doc="OLMo ladder step 2: accuracy = a / (1 + exp(-k (L - x0))) + b, a in [-1, 0], b in [0, 1].",
)


def moving_average(values, n: int) -> np.ndarray:
    """Trailing moving average of window ``n``; the first n-1 entries average what there is."""
    values = np.asarray(values, dtype=float)
    total = np.cumsum(values)
    out = total / np.arange(1, values.size + 1)
    if values.size >= n:
        out[n:] = (total[n:] - total[:-n]) / n
    return out


# -------------------------------------------------------------------------------- preprocessing
def step1_points(logs: LadderLogs, *, last_n: int = 5) -> pd.DataFrame:
    """One point per training run: params, tokens at its last checkpoint, mean of its last task losses."""
    rows = []
    for run, part in logs.train.groupby("run", sort=False):
        rows.append({"run": run, "params": part["params"].iloc[-1], "tokens": part["tokens"].iloc[-1],
                     "task_loss": part["task_loss"].iloc[-last_n:].mean(),
                     "accuracy": part["accuracy"].iloc[-last_n:].mean()})
    return pd.DataFrame(rows)


def step2_points(logs: LadderLogs, *, skip: float = 0.1, moving_avg: int = 5,
                 anchor: tuple[float, float] | None = (0.0, 1.0)) -> pd.DataFrame:
    """Pooled (task_loss, accuracy) checkpoints: first ``skip`` of each run dropped, smoothed, anchored."""
    parts = []
    for run, part in logs.train.groupby("run", sort=False):
        start = int(math.ceil(skip * len(part)))
        kept = part.iloc[start:]
        parts.append(pd.DataFrame({"run": run, "params": kept["params"].to_numpy(),
                                   "tokens": kept["tokens"].to_numpy(),
                                   "task_loss": moving_average(kept["task_loss"], moving_avg),
                                   "accuracy": moving_average(kept["accuracy"], moving_avg)}))
    if anchor is not None:
        parts.append(pd.DataFrame({"run": ["anchor"], "params": [np.nan], "tokens": [np.nan],
                                   "task_loss": [float(anchor[0])], "accuracy": [float(anchor[1])]}))
    return pd.concat(parts, ignore_index=True)


def target_actuals(logs: LadderLogs, *, last_n: int = 5) -> pd.DataFrame:
    """Per target run: params, tokens at its last evaluation, and its actual task loss and accuracy
    (mean of the last ``last_n`` evaluations)."""
    rows = []
    for run, part in logs.targets.groupby("run", sort=False):
        rows.append({"target": run, "params": part["params"].iloc[-1], "tokens": part["tokens"].iloc[-1],
                     "task_loss": part["task_loss"].iloc[-last_n:].mean(),
                     "accuracy": part["accuracy"].iloc[-last_n:].mean()})
    return pd.DataFrame(rows, columns=["target", "params", "tokens", "task_loss", "accuracy"])


# ------------------------------------------------------------------------------------------ fitting
@dataclass(frozen=True)
class LadderFit:
    """Both steps of a ladder fit for one task.

    Attributes
    ----------
    task
        Task name.
    step1, step2
        :class:`~scalelaw.result.FitResult` of the task-loss law and of the sigmoid.
    points1, points2
        The tables they were fitted to (:func:`step1_points`, :func:`step2_points`).
    settings
        skip, moving_avg, last_n, anchor, delta, bootstrap, seed, level.
    """

    task: str
    step1: FitResult
    step2: FitResult
    points1: pd.DataFrame
    points2: pd.DataFrame
    settings: dict = field(default_factory=dict)
    loss_name: str = "task loss (bits per byte)"

    def predict(self, params, tokens) -> pd.DataFrame:
        """Chained prediction at (N, D): task loss and accuracy with their bootstrap intervals."""
        n = np.atleast_1d(np.asarray(params, dtype=float))
        d = np.atleast_1d(np.asarray(tokens, dtype=float))
        loss, loss_lo, loss_hi = self.step1.predict_interval({"params": n, "tokens": d})
        acc = self.step2.predict({"task_loss": loss})
        acc_lo = acc_hi = np.full_like(acc, np.nan)
        if self.step1.bootstrap is not None and self.step2.bootstrap is not None:
            draws = min(len(self.step1.bootstrap), len(self.step2.bootstrap))
            loss_draws = self.step1.law.evaluate_draws({"N": n, "D": d}, self.step1.bootstrap[:draws])
            acc_draws = np.column_stack([evaluate_paired(self.step2.law, {"x": loss_draws[:, i]},
                                                         self.step2.bootstrap[:draws])
                                         for i in range(n.size)])
            acc_lo, acc_hi = self.step1.percentiles(acc_draws)
        return pd.DataFrame({"params": n, "tokens": d, "task_loss": loss, "task_loss_lower": loss_lo,
                             "task_loss_upper": loss_hi, "accuracy": acc, "accuracy_lower": acc_lo,
                             "accuracy_upper": acc_hi})

    def accuracy_at(self, task_loss) -> np.ndarray:
        """Step 2 alone: accuracy at given task losses."""
        return self.step2.predict({"task_loss": np.atleast_1d(np.asarray(task_loss, dtype=float))})

    def extrapolation(self, params: float, tokens: float) -> list[str]:
        """Warnings when (N, D) lies outside the ladder's range of N or D (one line)."""
        parts = []
        for name, value, column in (("N", params, "params"), ("D", tokens, "tokens")):
            lo, hi = float(self.points1[column].min()), float(self.points1[column].max())
            if value > hi:
                parts.append(f"{name} = {value:.4g} is {value / hi:.3g}x the ladder's largest ({hi:.4g})")
            elif value < lo:
                parts.append(f"{name} = {value:.4g} is below the ladder's smallest ({lo:.4g})")
        return [f"{'; '.join(parts)}: the prediction extrapolates"] if parts else []

    def to_dict(self) -> dict:
        return {"task": self.task, "loss_name": self.loss_name, "settings": dict(self.settings),
                "step1": self.step1.to_dict(), "step2": self.step2.to_dict()}


def fit_ladder(logs: LadderLogs, *, skip: float = 0.1, moving_avg: int = 5, last_n: int = 5,
               anchor: bool = True, delta: float = 1e-3, bootstrap: int = 0, seed: int = 0,
               level: float = 0.95) -> LadderFit:
    """Fit both steps of the ladder on its training runs.

    Parameters
    ----------
    logs
        :class:`~scalelaw.families.downstream.olmo_ladder.LadderLogs` of one task.
    skip
        Fraction of each run's first checkpoints left out of step 2 (0 <= skip < 1).
    moving_avg
        Window of the trailing moving average of step 2's checkpoints (1: none).
    last_n
        Evaluations averaged for a run's final task loss (step 1) and a target's actual values.
    anchor
        Add the point (task loss 0, accuracy 1) to step 2.
    delta
        Huber threshold of step 1, in log units.
    bootstrap
        Replicates of each step (runs for step 1, checkpoints for step 2) for intervals.
    """
    if not 0 <= skip < 1:
        raise InputError(f"skip={skip} must be in [0, 1)")
    if moving_avg < 1 or last_n < 1:
        raise InputError(f"moving_avg={moving_avg} and last_n={last_n} must be at least 1")
    points1 = step1_points(logs, last_n=last_n)
    n_params = len(STEP1_LAW.params)
    if len(points1) < n_params:
        raise FitError(f"{logs.path}: {len(points1)} ladder run(s) for the {n_params} parameters of step 1 "
                       f"({', '.join(STEP1_LAW.param_names)}); add runs (the OLMo ladder has 16: 4 sizes x "
                       "4 token multiples)")
    for column in ("params", "tokens"):
        if points1[column].nunique() < 2:
            raise FitError(f"{logs.path}: every ladder run has the same {column} "
                           f"({points1[column].iloc[0]:.4g}); step 1 needs runs at several sizes and "
                           "token counts")
    points2 = step2_points(logs, skip=skip, moving_avg=moving_avg, anchor=(0.0, 1.0) if anchor else None)
    common = {"bootstrap": bootstrap, "seed": seed, "level": level}
    step1 = engine.fit(STEP1_LAW, points1, loss="huber", delta=delta, **common)
    step2 = engine.fit(STEP2_LAW, points2, loss="squared", **common)
    settings = {"skip": skip, "moving_avg": moving_avg, "last_n": last_n, "anchor": anchor, "delta": delta,
                **common}
    return LadderFit(logs.task, step1, step2, points1, points2, settings, logs.loss_name)


# ------------------------------------------------------------------------------------- comparison
def compare_targets(fit: LadderFit, logs: LadderLogs) -> pd.DataFrame:
    """For every target run in ``logs``: actual and predicted task loss and accuracy.

    Columns: ``task, target, params, tokens, task_loss, task_loss_pred, accuracy,
    accuracy_step2`` (step 2 at the actual task loss), ``accuracy_pred`` (chained) and its
    interval, ``abs_error`` (accuracy points, x100) and ``rel_error`` (fraction).
    """
    actual = target_actuals(logs, last_n=int(fit.settings.get("last_n", 5)))
    if actual.empty:
        return actual
    pred = fit.predict(actual["params"], actual["tokens"])
    out = pd.DataFrame({"task": fit.task, "target": actual["target"], "params": actual["params"],
                        "tokens": actual["tokens"], "task_loss": actual["task_loss"],
                        "task_loss_pred": pred["task_loss"].to_numpy(), "accuracy": actual["accuracy"],
                        "accuracy_step2": fit.accuracy_at(actual["task_loss"]),
                        "accuracy_pred": pred["accuracy"].to_numpy(),
                        "accuracy_lower": pred["accuracy_lower"].to_numpy(),
                        "accuracy_upper": pred["accuracy_upper"].to_numpy()})
    out["abs_error"] = 100 * (out["accuracy_pred"] - out["accuracy"])
    out["rel_error"] = (out["accuracy_pred"] - out["accuracy"]) / out["accuracy"]
    return out
