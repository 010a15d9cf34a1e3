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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from scalelaw import engine, protocol
from scalelaw.catalogue.downstream import LADDER_SIGMOID, LADDER_TASK_LOSS
from scalelaw.errors import ArtifactError, FitError, InputError
from scalelaw.families.downstream import olmo_ladder
from scalelaw.families.downstream.common import evaluate_paired
from scalelaw.families.downstream.olmo_ladder import LadderLogs
from scalelaw.result import FitResult

STEP1_LAW = LADDER_TASK_LOSS
STEP2_LAW = LADDER_SIGMOID


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


def target_actuals(logs: LadderLogs | None, *, last_n: int = 5) -> pd.DataFrame:
    """Per target run: params, tokens at its last evaluation, and its actual task loss and accuracy
    (mean of the last ``last_n`` evaluations); no rows without logs."""
    rows = []
    for run, part in (() if logs is None else logs.targets.groupby("run", sort=False)):
        rows.append({"target": run, "params": part["params"].iloc[-1], "tokens": part["tokens"].iloc[-1],
                     "task_loss": part["task_loss"].iloc[-last_n:].mean(),
                     "accuracy": part["accuracy"].iloc[-last_n:].mean()})
    return pd.DataFrame(rows, columns=["target", "params", "tokens", "task_loss", "accuracy"])


# ------------------------------------------------------------------------------------------ fitting
@dataclass(frozen=True)
class LadderFit(protocol.Result):
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
        The keyword arguments of :func:`fit_ladder`: skip, moving_avg, last_n, anchor, delta,
        bootstrap, seed, level.
    loss_name
        What the task loss is (units).
    source, format
        The logs that were read and their layout.
    targets
        The target runs of the logs (:func:`target_actuals`), empty when there were none.
    """

    FAMILY = "downstream"
    KIND = "ladder-fit"
    TITLE = "ladder fit: task loss L(N, D), then accuracy(L)"

    task: str
    step1: FitResult
    step2: FitResult
    points1: pd.DataFrame
    points2: pd.DataFrame
    settings: Mapping[str, object] = field(default_factory=dict)
    loss_name: str = "task loss (bits per byte)"
    source: str = ""
    format: str = "tidy"
    targets: pd.DataFrame = field(default_factory=lambda: target_actuals(None))


    @property
    def warnings(self) -> tuple[str, ...]:
        """The two steps' own warnings (no convergence, parameters at a bound)."""
        return tuple(f"{self.task} step {i}: {w}" for i, fit in ((1, self.step1), (2, self.step2))
                     for w in fit.warnings)

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

    def summary(self) -> pd.DataFrame:
        """Both steps' parameters: value, se, lower, upper, at_bound, indexed by (step, parameter)."""
        return pd.concat({"step1": self.step1.summary(), "step2": self.step2.summary()}, names=["step"])

    def plot(self, ax=None):
        """Step 1, step 2 and the chain with the target runs (on ``ax``: the chain alone)."""
        from scalelaw.plots.downstream import ladder_figure

        return ladder_figure(self, targets=self.targets if len(self.targets) else None, ax=ax)


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
    return LadderFit(logs.task, step1, step2, points1, points2, settings, logs.loss_name, logs.path,
                     logs.format, target_actuals(logs, last_n=last_n))


# ------------------------------------------------------------------------------------- comparison
def compare_targets(fit: LadderFit, logs: LadderLogs | None = None) -> pd.DataFrame:
    """For every target run in ``logs`` (default: the fit's own): actual and predicted task loss and
    accuracy.

    Columns: ``task, target, params, tokens, task_loss, task_loss_pred, accuracy,
    accuracy_step2`` (step 2 at the actual task loss), ``accuracy_pred`` (chained) and its
    interval, ``abs_error`` (accuracy points, x100) and ``rel_error`` (fraction).
    """
    actual = fit.targets if logs is None else target_actuals(logs, last_n=int(fit.settings.get("last_n", 5)))
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


# ------------------------------------------------------------------------------- predictions by task
#: Columns of :attr:`LadderPrediction.predictions` that hold a target run's actual values.
ACTUAL = {"task_loss": "actual_task_loss", "accuracy": "actual_accuracy",
          "accuracy_from_actual_loss": "accuracy_step2", "abs_error_points": "abs_error",
          "rel_error": "rel_error"}


@dataclass(frozen=True)
class LadderPrediction(protocol.Result):
    """Ladder fits of one or more tasks and their chained predictions at the targets.

    Attributes
    ----------
    source, format
        The ladder logs that were read and their layout.
    fits
        Task -> :class:`LadderFit`.
    predictions
        One row per (task, target): ``task, target`` (the target run, or None for a requested
        (N, D) that no run matches), ``params, tokens``, the chained ``task_loss`` and
        ``accuracy`` with their intervals (``*_lower``, ``*_upper``) and, for a target run,
        ``actual_task_loss, actual_accuracy, accuracy_step2`` (step 2 at the actual loss),
        ``abs_error`` (accuracy points) and ``rel_error`` (NaN otherwise).
    settings
        The keyword arguments of :func:`predict_ladder`.
    warnings
        Targets outside the ladder (extrapolation) and the fits' own warnings.
    """

    FAMILY = "downstream"
    KIND = "ladder"
    TITLE = "ladder predictions: (N, D) -> task loss -> accuracy"

    source: str
    format: str
    fits: Mapping[str, LadderFit]
    predictions: pd.DataFrame
    settings: Mapping[str, object] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "fits", protocol.frozen(self.fits))

    @property
    def level(self) -> float:
        return float(self.settings.get("level", 0.95))

    @classmethod
    def from_fields(cls, payload: Mapping, *, source: str = "artifact") -> LadderPrediction:
        result = super().from_fields(payload, source=source)
        if not isinstance(result.predictions, pd.DataFrame) or \
                not all(isinstance(fit, LadderFit) for fit in result.fits.values()):
            raise ArtifactError(f"{source}: a ladder artifact written before the result protocol (its fits lack "
                                "the fitted points); write it again with this scalelaw")
        return result

    @property
    def loss_name(self) -> str:
        return next(iter(self.fits.values())).loss_name

    def predict(self, params, tokens) -> pd.DataFrame:
        """Every task's chained prediction at (N, D) (:meth:`LadderFit.predict` with a task column)."""
        parts = [fit.predict(params, tokens).assign(task=task) for task, fit in self.fits.items()]
        out = pd.concat(parts, ignore_index=True)
        return out[["task", *(c for c in out.columns if c != "task")]]

    def records(self) -> list[dict]:
        """One JSON-ready record per prediction, with the actual values of a target run (or None),
        its extrapolation warnings and both steps' parameters."""
        out = []
        for row in self.predictions.to_dict(orient="records"):
            fit = self.fits[row["task"]]
            actual = None if row["target"] is None or not np.isfinite(row["actual_accuracy"]) else \
                {key: float(row[column]) for key, column in ACTUAL.items()}
            out.append({"task": row["task"], "target": row["target"],
                        **{k: float(row[k]) for k in PREDICTED},
                        "actual": actual, "warnings": fit.extrapolation(row["params"], row["tokens"]),
                        "step1": dict(fit.step1.params), "step2": dict(fit.step2.params)})
        return out

    def summary(self) -> pd.DataFrame:
        """The predictions, one row per (task, target)."""
        return self.predictions

    def plot(self, ax=None):
        """One task: its two steps and the chain; several (or ``ax``): the chain of each task."""
        from scalelaw.plots.downstream import ladder_figure, ladder_tasks_figure

        if len(self.fits) == 1 and ax is None:
            task, fit = next(iter(self.fits.items()))
            return ladder_figure(fit, targets=self.targets(task))
        return ladder_tasks_figure(self, ax=ax)

    def targets(self, task: str) -> pd.DataFrame:
        """The predicted points of ``task``: params, tokens and the actual task_loss and accuracy."""
        part = self.predictions[self.predictions["task"] == task]
        return pd.DataFrame({"params": part["params"].to_numpy(dtype=float),
                             "tokens": part["tokens"].to_numpy(dtype=float),
                             "task_loss": part["actual_task_loss"].to_numpy(dtype=float),
                             "accuracy": part["actual_accuracy"].to_numpy(dtype=float)})


#: Actual-value columns of the predictions -> the columns of :func:`compare_targets` they copy.
FROM_COMPARED = {"actual_task_loss": "task_loss", "actual_accuracy": "accuracy",
                 "accuracy_step2": "accuracy_step2", "abs_error": "abs_error", "rel_error": "rel_error"}
PREDICTED = ("params", "tokens", "task_loss", "task_loss_lower", "task_loss_upper", "accuracy",
             "accuracy_lower", "accuracy_upper")


def _predictions(fit: LadderFit, params: float | None, tokens: float | None) -> pd.DataFrame:
    """The fit's rows of :attr:`LadderPrediction.predictions`: at (params, tokens), or at every target
    run; a target run at the requested (N, D) (relative 1e-6 in N, 1e-3 in D) gives the actuals."""
    compared = compare_targets(fit)
    if params is None:
        chosen = compared
        points = compared[["target", "params", "tokens"]]
    else:
        same = compared[np.isclose(compared["params"], params, rtol=1e-6)
                        & np.isclose(compared["tokens"], tokens, rtol=1e-3)] if len(compared) else compared
        chosen = same.iloc[:1]
        points = pd.DataFrame({"target": [chosen["target"].iloc[0] if len(chosen) else None],
                               "params": [float(params)], "tokens": [float(tokens)]})
    pred = fit.predict(points["params"].to_numpy(dtype=float), points["tokens"].to_numpy(dtype=float))
    out = pd.DataFrame({"task": fit.task, "target": list(points["target"]), **{k: pred[k] for k in PREDICTED}})
    for column, compared_column in FROM_COMPARED.items():
        out[column] = chosen[compared_column].to_numpy(dtype=float) if len(chosen) else np.nan
    return out


def predict_ladder(source: str | Path, *, task: str | Sequence[str] = "mmlu", format: str = "olmo-ladder",
                   intermediate: str = "task-loss", params: float | None = None, tokens: float | None = None,
                   skip: float = 0.1, moving_avg: int = 5, last_n: int = 5, anchor: bool = True,
                   delta: float = 1e-3, bootstrap: int = 0, seed: int = 0,
                   level: float = 0.95) -> LadderPrediction:
    """Read ladder logs, fit both steps per task and predict the targets.

    Parameters
    ----------
    source
        The ladder logs: an OLMo-ladder folder or a tidy table (see
        :func:`~scalelaw.families.downstream.olmo_ladder.read_ladder`).
    task
        A task name, several, or ``main`` for the OLMo ladder paper's eight.
    format, intermediate
        The layout of ``source`` and the step-1 quantity (``task-loss`` or ``c4``).
    params, tokens
        A target (N non-embedding parameters, D tokens); default: every target run of the logs.
    skip, moving_avg, last_n, anchor, delta, bootstrap, seed, level
        As :func:`fit_ladder`.
    """
    if (params is None) != (tokens is None):
        raise InputError("give both params= and tokens= (or neither, to predict the target runs in the logs)")
    names = [task] if isinstance(task, str) else list(task)
    if [n.strip().lower() for n in names] == ["main"]:
        names = list(olmo_ladder.MAIN_TASKS)
    settings = {"task": task, "format": format, "intermediate": intermediate, "params": params,
                "tokens": tokens, "skip": skip, "moving_avg": moving_avg, "last_n": last_n, "anchor": anchor,
                "delta": delta, "bootstrap": bootstrap, "seed": seed, "level": level}
    fits, rows, warned = {}, [], []
    for name in names:
        logs = olmo_ladder.read_ladder(source, name, format=format, intermediate=intermediate)
        if params is None and logs.targets.empty:
            raise InputError(f"{logs.path} has no target runs (mode eval/target); give params= and tokens=")
        fit = fit_ladder(logs, skip=skip, moving_avg=moving_avg, last_n=last_n, anchor=anchor, delta=delta,
                         bootstrap=bootstrap, seed=seed, level=level)
        part = _predictions(fit, params, tokens)
        fits[fit.task] = fit
        rows.append(part)
        warned += [f"{target or 'target'} ({fit.task}): {text}"
                   for target, n, d in zip(part["target"], part["params"], part["tokens"], strict=True)
                   for text in fit.extrapolation(float(n), float(d))]
        warned += list(fit.warnings)
    first = next(iter(fits.values()))
    return LadderPrediction(first.source, format, fits, pd.concat(rows, ignore_index=True), settings,
                            tuple(warned))
