"""The joint law L(N, D, S) across readers and pretraining lengths, and its comparison with the
per-reader laws.

:func:`fit_joint` fits E + A/N^alpha + B/D^beta + C/S^gamma (N parameters, D pretraining tokens,
S datastore tokens; see :mod:`.laws`) by the engine, with its multi-start over the three exponents
(the amplitudes are solved by least squares at each start) and a two-stage bootstrap.  It is
fitted to one metric: to a perplexity directly, to an accuracy through its error
(ceiling - accuracy), in log space.  LM-only rows are left out (the law is infinite at S = 0).
With ``holdout`` > 0 it is also fitted without the largest datastore sizes and judged on them,
per reader, as the per-reader laws are.

Examples
--------
>>> from scalelaw.families.datastore.data import prepare
>>> from scalelaw.families.datastore.simulate import simulate
>>> joint = fit_joint(prepare(simulate(seed=0)), metric="redpajama_ppl", holdout=0)
>>> {k: round(v, 2) for k, v in joint.fit.params.items() if k in ("alpha", "beta", "gamma")}
{'alpha': 0.34, 'beta': 0.28, 'gamma': 0.17}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from scalelaw import engine, protocol
from scalelaw.errors import InputError
from scalelaw.families.datastore.data import Measurements, Metric, bootstrap_weights
from scalelaw.families.datastore.laws import joint_law
from scalelaw.result import FitGroup, FitResult, error_metrics

#: Columns of a joint fit's configurations table.
CONFIG_COLUMNS = ("reader", "model", "params", "tokens", "datastore_tokens", "value", "sd", "n_seeds")


@dataclass(frozen=True)
class JointFit(protocol.Result):
    """A fitted joint law for one metric.

    Attributes
    ----------
    fit
        The engine's result; its target is the metric (perplexity) or ``error`` (accuracy).
    metric
        The metric, with its direction and ceiling.
    configurations
        The measured configurations (seed means), LM-only ones included, for compute accounting.
    validation
        ``in_sample``: errors (metric units) on the seed means with a datastore; with a hold-out,
        ``held_out`` sizes, per-reader ``errors`` and ``overall`` errors of the law fitted
        without them.
    notes
        What was left out and why.
    settings
        The settings of :func:`fit_joint`.
    """

    FAMILY = "datastore"
    KIND = "joint"

    fit: FitResult
    metric: Metric
    configurations: pd.DataFrame
    validation: Mapping[str, object] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    settings: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "notes", tuple(self.notes))

    @property
    def TITLE(self) -> str:  # noqa: N802 (the protocol's class-level name)
        return f"joint law L(N, D, S) for {self.metric.label}: {self.fit.law.formula}"

    @property
    def warnings(self) -> tuple[str, ...]:
        """The fit's warnings (bounds, convergence, stalled bootstrap replicates)."""
        return self.fit.warnings

    def summary(self) -> pd.DataFrame:
        """The joint law's parameter table (value, se, lower, upper, at_bound)."""
        return self.fit.summary()

    def plot(self, ax=None):
        """Each measured reader's seed means against datastore size, with the joint law's curve."""
        from scalelaw.plots.datastore import joint_curves

        return joint_curves(self, ax=ax)

    def to_metric(self, law_value):
        """Law value -> metric value (accuracy = ceiling - error)."""
        law_value = np.asarray(law_value, dtype=float)
        return law_value if self.metric.kind == "lower" else self.metric.ceiling - law_value

    def predict(self, params, tokens, datastore_tokens) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Metric at (N parameters, D pretraining tokens, S datastore tokens > 0): value, lower, upper."""
        value, lo, hi = self.fit.predict_interval({"N": params, "D": tokens, "S": datastore_tokens})
        value, lo, hi = (self.to_metric(v) for v in (value, lo, hi))
        return (value, lo, hi) if self.metric.kind == "lower" else (value, hi, lo)


def _one_metric(measurements: Measurements, metric: str | None) -> Metric:
    if metric is not None:
        return measurements.select(metric=metric).metrics[metric]
    if len(measurements.metrics) == 1:
        return next(iter(measurements.metrics.values()))
    kinds = {m.kind for m in measurements.metrics.values()}
    names = ", ".join(map(repr, measurements.metrics))
    if len(kinds) > 1:
        lower = [n for n, m in measurements.metrics.items() if m.kind == "lower"]
        higher = [n for n, m in measurements.metrics.items() if m.kind == "higher"]
        raise measurements.error(f"the joint law is fitted to one metric, and the file mixes perplexity "
                                 f"({', '.join(lower)}) and accuracy ({', '.join(higher)}); choose one with "
                                 "metric=", column="metric")
    raise measurements.error(f"the joint law is fitted to one metric; the file has {names}; choose one with "
                             "metric=", column="metric")


def _table(measurements: Measurements, metric: Metric) -> pd.DataFrame:
    rows = measurements.rows
    rows = rows[(rows["metric"] == metric.name) & (rows["datastore_tokens"] > 0)].copy()
    if rows.empty:
        raise measurements.error(f"metric {metric.name!r} has no rows with a datastore (datastore_tokens "
                                 "> 0); the joint law needs retrieval measurements",
                                 column="datastore_tokens")
    for column, what in (("datastore_tokens", "datastore sizes"), ("params", "reader sizes"),
                         ("tokens", "pretraining lengths")):
        if rows[column].nunique() < 2:
            raise measurements.error(f"metric {metric.name!r} has a single value of {column} "
                                     f"({rows[column].iloc[0]:g}); the joint law needs two or more {what}",
                                     row=int(rows["row"].iloc[0]), column=column)
    if metric.kind == "higher":
        rows["error"] = metric.ceiling - rows["value"]
        perfect = np.flatnonzero(rows["error"].to_numpy() <= 0)
        if perfect.size:
            value = rows["value"].iloc[perfect[0]]
            raise measurements.error(f"an accuracy of {value:g} leaves no error for the joint law (fitted to "
                                     "ceiling - accuracy in log space); drop that row",
                                     row=int(rows["row"].iloc[perfect[0]]), column="value")
    return rows


def fit_joint(
    measurements: Measurements,
    *,
    metric: str | None = None,
    holdout: int = 2,
    loss: str = "squared",
    starts="default",
    bootstrap: int = 0,
    seed: int = 0,
    level: float = 0.95,
    progress=None,
) -> JointFit:
    """Fit L(N, D, S) = E + A/N^alpha + B/D^beta + C/S^gamma to one metric across readers.

    Parameters
    ----------
    metric
        The metric; may be omitted when the log has one.
    holdout
        Also fit without the ``holdout`` largest datastore sizes and report the error on them.
    loss, starts
        Engine settings (``"squared"``: the fit to the seed rows is the fit to their means).
    bootstrap, seed, level
        Two-stage bootstrap replicates (sizes, then seeds), its seed and the interval level.

    Raises
    ------
    InputError
        When no metric is chosen among several (saying so when perplexity and accuracy are
        mixed), or the metric has one reader size, one pretraining length or one datastore size.
    """
    call = {"metric": metric, "holdout": int(holdout), "loss": loss, "starts": starts,
            "bootstrap": int(bootstrap), "seed": int(seed), "level": float(level)}
    info = _one_metric(measurements, metric)
    rows = _table(measurements, info)
    law = joint_law(info.kind)
    settings = {"loss": loss, "starts": starts, "level": level, "weight_column": "weight"}
    weights = bootstrap_weights(rows, bootstrap, seed) if bootstrap else None
    result = engine.fit(law, rows, bootstrap_weights=weights, seed=seed, progress=progress, **settings)
    points = measurements.points[measurements.points["metric"] == info.name]
    n_lm = int((points["datastore_tokens"] == 0).sum())
    notes = [f"{n_lm} LM-only rows are not part of the fit: C/S^gamma is infinite at S = 0"] if n_lm else []
    if info.kind == "higher":
        notes.append(f"fitted to the error {info.ceiling:g} - {info.name} in log space")
    validation = _validate(law, rows, points, info, holdout, settings) if holdout else {}
    if holdout and not validation:
        notes.append("no held-out check: too few datastore sizes")
    joint = JointFit(result, info, points[list(CONFIG_COLUMNS)].reset_index(drop=True), {}, tuple(notes), call)
    fitted = points[points["datastore_tokens"] > 0]
    predicted = joint.predict(*(fitted[c].to_numpy() for c in ("params", "tokens", "datastore_tokens")))[0]
    validation = {"in_sample": error_metrics(fitted["value"].to_numpy(), predicted)} | validation
    return replace(joint, validation=validation)


def _validate(law, rows: pd.DataFrame, points: pd.DataFrame, metric: Metric, holdout: int,
              settings: dict) -> dict:
    sizes = np.sort(rows["datastore_tokens"].unique())
    if holdout >= sizes.size - 1:
        return {}
    held = sizes[sizes.size - holdout:]
    small = engine.fit(law, rows[rows["datastore_tokens"] < held[0]], **settings)
    test = points[points["datastore_tokens"].isin(held)]
    predicted = small.predict(test)
    if metric.kind == "higher":
        predicted = metric.ceiling - predicted
    readers = test["reader"].to_numpy()
    errors = {reader: error_metrics(part["value"].to_numpy(), predicted[readers == reader])
              for reader, part in test.groupby("reader", sort=False)}
    return {"held_out": [float(s) for s in held], "errors": errors,
            "overall": error_metrics(test["value"].to_numpy(), predicted)}


def compare(joint: JointFit, readers: FitGroup) -> pd.DataFrame:
    """Per reader: the errors (metric units) of the joint law and of the chosen per-reader law.

    ``*_mae`` are in-sample mean absolute errors on the seed means with a datastore;
    ``*_held_out_mae`` are the errors on the held-out largest sizes of each law fitted without
    them (NaN where no check was run).
    """
    rows = []
    held = joint.validation.get("errors", {})
    for f in readers.values():
        if f.metric.name != joint.metric.name:
            continue
        points = joint.configurations[(joint.configurations["reader"] == f.reader)
                                      & (joint.configurations["datastore_tokens"] > 0)]
        if points.empty:
            continue
        y = points["value"].to_numpy()
        S = points["datastore_tokens"].to_numpy()
        joint_pred = joint.predict(points["params"].to_numpy(), points["tokens"].to_numpy(), S)[0]
        own = f.predict(S)[0]
        chosen_error = f.choice.errors.get(f.choice.chosen)
        rows.append({"reader": f.reader, "points": int(len(points)), "per_reader_law": f.choice.chosen,
                     "per_reader_mae": error_metrics(y, own)["mae"],
                     "joint_mae": error_metrics(y, joint_pred)["mae"],
                     "per_reader_held_out_mae": np.nan if chosen_error is None else chosen_error["mae"],
                     "joint_held_out_mae": held[f.reader]["mae"] if f.reader in held else np.nan})
    if not rows:
        raise InputError(f"no per-reader fits of metric {joint.metric.name!r} to compare with")
    return pd.DataFrame(rows)


def legacy_joint(d: Mapping) -> JointFit:
    """A joint fit as the ``scalelaw.datastore/1`` artifact stored it."""
    return JointFit(FitResult.from_dict(d["fit"]), Metric.from_dict(d["metric"]), pd.DataFrame(d["configurations"]),
                    dict(d.get("validation", {})), tuple(d.get("notes", ())))
