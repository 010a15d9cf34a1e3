"""Per (reader, metric) laws in datastore size, chosen by their error on held-out large sizes.

For each reader and metric, :func:`fit_readers` fits ``log_linear`` (a + b ln S) and the
``saturating`` law anchored at the LM-only value (see :mod:`.laws`) to the seed rows (weighted
1 / seeds, which is the least-squares fit to the seed means).  The model choice is made, and
reported, by extrapolation: both laws are fitted without the ``holdout`` largest datastore sizes
and judged by their mean absolute error on those sizes; the law with the smaller error is chosen.
The final fits use every size.  Intervals come from a two-stage bootstrap (datastore sizes, then
seeds within each size).

Two points (the LM-only value and one datastore size) determine a log-linear law but cannot
test it.  Since ln 0 is undefined, the LM-only point is then placed at ``lm_only_at`` tokens, an
assumption on which the slope depends; the fit says so in its notes.

Examples
--------
>>> import pandas as pd
>>> from scalelaw.families.datastore.data import prepare
>>> log = pd.DataFrame({"model": "llama-2-7b", "params": 6.74e9, "tokens": 2e12,
...                     "datastore_tokens": [0, 1.4e12], "metric": "tqa_em", "value": [64.1, 77.0]})
>>> fits = fit_readers(prepare(log))
>>> one = get_reader(fits, "llama-2-7b", "tqa_em")
>>> one.choice.chosen, [round(float(v), 2) for v in one.predict([1e9, 1.4e12])[0]]
('log_linear', [64.1, 77.0])
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from scalelaw import engine, extrapolation, protocol
from scalelaw.errors import FitError, InputError
from scalelaw.families.datastore.data import Measurements, Metric, bootstrap_weights, tokens_label
from scalelaw.families.datastore.laws import LOG_LINEAR, saturating
from scalelaw.laws import Law
from scalelaw.result import FitGroup, FitResult, error_metrics

LAWS = ("log_linear", "saturating")
#: Distinct datastore sizes (S > 0) each law needs in its fit.
MIN_SIZES = {"log_linear": 2, "saturating": 3}
#: Where the LM-only point sits on the log axis in the two-point case (tokens).
LM_ONLY_AT = 1e9


@protocol.value_kind("datastore.choice")
@dataclass(frozen=True)
class Choice:
    """How the law of one (reader, metric) was chosen.

    Attributes
    ----------
    chosen
        ``"log_linear"`` or ``"saturating"``.
    how
        ``"held-out error"``, ``"law given"`` (forced by ``law=``) or the reason no comparison was possible.
    held_out
        The datastore sizes (tokens) held out for the comparison.
    errors
        Law -> errors on the held-out seed means (``n``, ``mae``, ``max_abs_error``, ``rmse`` in
        metric units, ``mape`` in percent) of the law fitted without them.
    reasons
        Law -> why it was not fitted or not compared.
    """

    chosen: str
    how: str
    held_out: tuple[float, ...] = ()
    errors: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    reasons: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"chosen": self.chosen, "how": self.how, "held_out": list(self.held_out),
                "errors": {k: dict(v) for k, v in self.errors.items()}, "reasons": dict(self.reasons)}

    @classmethod
    def from_dict(cls, d: Mapping) -> Choice:
        return cls(d["chosen"], d["how"], tuple(d.get("held_out", ())), dict(d.get("errors", {})),
                   dict(d.get("reasons", {})))


@dataclass(frozen=True)
class ReaderFit(protocol.Result):
    """The laws of one (reader, metric) in datastore size.

    Attributes
    ----------
    reader, model, params, tokens
        The reader's label, model name, parameters N and pretraining tokens D.
    metric
        The metric, with its direction and ceiling.
    lm_only
        The LM-only value (seed mean), or None when the log has none.
    sizes
        The measured datastore sizes (tokens, S > 0).
    fits
        Law name -> fit (``log_linear``, ``saturating``).
    choice
        Which law is used, and how it was chosen.
    notes
        What the laws rest on: stalled bootstrap replicates, bounds, two-point fits.
    points
        The seed means the laws were fitted to (``datastore_tokens``, ``value``, ``sd``,
        ``n_seeds``), LM-only included, for figures.
    settings
        The settings of :func:`fit_readers`.
    """

    FAMILY = "datastore"
    KIND = "reader"

    reader: str
    model: str
    params: float
    tokens: float
    metric: Metric
    lm_only: float | None
    sizes: tuple[float, ...]
    fits: Mapping[str, FitResult]
    choice: Choice
    notes: tuple[str, ...] = ()
    points: pd.DataFrame | None = None
    settings: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "fits", protocol.frozen(self.fits))
        object.__setattr__(self, "sizes", tuple(float(v) for v in self.sizes))
        object.__setattr__(self, "notes", tuple(self.notes))

    @property
    def TITLE(self) -> str:  # noqa: N802 (the protocol's class-level name)
        return f"{self.reader}, {self.metric.label}: chosen law {self.choice.chosen} ({self.choice.how})"

    @property
    def warnings(self) -> tuple[str, ...]:
        return self.notes

    @property
    def chosen(self) -> FitResult:
        return self.fits[self.choice.chosen]

    def extrapolation(self, datastore_tokens, law: str | None = None) -> tuple[str, ...]:
        """Datastore sizes (tokens > 0) outside those the chosen (or named) law was fitted on."""
        fit = self.fits.get(law or self.choice.chosen)
        S = np.atleast_1d(np.asarray(datastore_tokens, dtype=float))
        if fit is None or not (S > 0).any():
            return ()
        return tuple(f"{self.reader}, {self.metric.name}: {text}"
                     for text in fit.extrapolation({"datastore_tokens": S[S > 0]}))

    def predict(self, datastore_tokens, law: str | None = None, *,
                warn: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Metric at datastore sizes (tokens) by the chosen (or named) law: value, lower, upper.

        Size 0 gives the measured LM-only value.
        """
        name = law or self.choice.chosen
        if name not in self.fits:
            reason = self.choice.reasons.get(name, "")
            raise FitError(f"{self.reader}, {self.metric.name}: no {name} fit ({reason})")
        S = np.atleast_1d(np.asarray(datastore_tokens, dtype=float))
        if warn:
            extrapolation.emit(self.extrapolation(S, name))
        value, lo, hi = self.fits[name].predict_interval({"datastore_tokens": np.where(S > 0, S, 1.0)}, warn=False)
        if self.lm_only is None:
            return value, lo, hi
        retrieval = S > 0
        return (np.where(retrieval, value, self.lm_only), np.where(retrieval, lo, np.nan),
                np.where(retrieval, hi, np.nan))

    def summary(self) -> pd.DataFrame:
        """One row per law: whether it was chosen, its held-out and in-sample errors, its parameters."""
        return pd.DataFrame(_rows(self)).set_index("law")

    def plot(self, ax=None):
        """The seed means against datastore size, the chosen law (solid) and the other (dotted)."""
        from scalelaw.plots.datastore import reader_curves

        return reader_curves(self, ax=ax)


def _rows(f: ReaderFit) -> list[dict]:
    rows = []
    for name in LAWS:
        error = f.choice.errors.get(name)
        chosen = name == f.choice.chosen
        row = {"reader": f.reader, "metric": f.metric.name, "law": name, "chosen": chosen,
               "how": f.choice.how if chosen else "",
               "held_out_mae": np.nan if error is None else error["mae"],
               "held_out_max": np.nan if error is None else error["max_abs_error"],
               "lm_only": np.nan if f.lm_only is None else f.lm_only,
               "fitted": name in f.fits, "reason": f.choice.reasons.get(name, "")}
        if name in f.fits:
            row |= {f"param_{k}": v for k, v in f.fits[name].params.items()}
            row["in_sample_mae"] = f.fits[name].metrics["mae"]
        rows.append(row)
    return rows


def reader_table(readers: FitGroup) -> pd.DataFrame:
    """One row per (reader, metric, law): parameters, held-out error and whether it was chosen."""
    return pd.DataFrame([row for f in readers.values() for row in _rows(f)])


def get_reader(readers: FitGroup, reader: str, metric: str) -> ReaderFit:
    """The fit of one reader (its label or model name) and metric."""
    for f in readers.values():
        if metric == f.metric.name and reader in (f.reader, f.model):
            return f
    raise InputError(f"no fit for reader {reader!r} and metric {metric!r}")


def reader_key(f: ReaderFit) -> str:
    """The group key of a reader's fit: ``'<reader>:<metric>'``."""
    return f"{f.reader}:{f.metric.name}"


def legacy_readers(d: Mapping) -> FitGroup:
    """Per-reader fits as the ``scalelaw.datastore/1`` artifact stored them."""
    settings = dict(d.get("settings", {}))
    fits = []
    for r in d["fits"]:
        lm_only = None if r.get("lm_only") is None else float(r["lm_only"])
        fits.append(ReaderFit(r["reader"], r["model"], float(r["params"]), float(r["tokens"]),
                              Metric.from_dict(r["metric"]), lm_only, tuple(r["sizes"]),
                              {k: FitResult.from_dict(v) for k, v in r["fits"].items()},
                              Choice.from_dict(r["choice"]), tuple(r.get("notes", ())), settings=settings))
    return _group(fits, settings)


def _group(fits: list[ReaderFit], settings: Mapping) -> FitGroup:
    warnings = [f"{f.reader}, {f.metric.name}: {text}" for f in fits for text in f.notes]
    return FitGroup("datastore", "readers", {reader_key(f): f for f in fits}, key="reader",
                    settings=settings, warnings=warnings)


# ----------------------------------------------------------------------------------------- fitting
def fit_readers(
    measurements: Measurements,
    *,
    law: str = "auto",
    holdout: int = 2,
    lm_only_at: float = LM_ONLY_AT,
    loss: str = "squared",
    bootstrap: int = 0,
    seed: int = 0,
    level: float = 0.95,
    progress=None,
) -> FitGroup:
    """Fit the per (reader, metric) laws in datastore size and choose between them.

    Returns a :class:`~scalelaw.result.FitGroup` of :class:`ReaderFit`, keyed ``'<reader>:<metric>'``.

    Parameters
    ----------
    law
        ``"auto"`` (choose by held-out error), ``"log_linear"`` or ``"saturating"`` (forced; the
        held-out comparison is still computed and reported).
    holdout
        How many of the largest datastore sizes are held out for the model choice (0: none).
    lm_only_at
        Datastore tokens at which the LM-only point is placed in the two-point case.
    loss
        Engine loss; ``"squared"`` makes the fit to the seed rows the fit to their means.
    bootstrap
        Two-stage bootstrap replicates for intervals (0: none).
    seed, level
        Bootstrap seed and interval level.
    progress
        Called as ``progress(done, total)`` after each (reader, metric) is fitted.

    Raises
    ------
    InputError
        When a (reader, metric) has a single datastore size (LM-only counts as one), or the forced
        law cannot be fitted to it.
    """
    if law not in ("auto", *LAWS):
        raise InputError(f"law={law!r} is not one of auto, {', '.join(LAWS)} (the joint law is fit_joint)")
    if holdout < 0:
        raise InputError(f"holdout={holdout} must be >= 0")
    if not lm_only_at > 0:
        raise InputError(f"lm_only_at={lm_only_at:g} must be a positive number of tokens")
    settings = {"law": law, "holdout": int(holdout), "lm_only_at": float(lm_only_at), "loss": loss,
                "bootstrap": int(bootstrap), "seed": int(seed), "level": float(level)}
    fit_settings = {"loss": loss, "level": level, "weight_column": "weight"}
    out = []
    groups = measurements.points.groupby(["reader", "metric"], sort=False)
    for (reader, metric), points in groups:
        every = measurements.rows
        rows = every[(every["reader"] == reader) & (every["metric"] == metric)]
        out.append(_fit_one(measurements, rows, points, measurements.metrics[metric], law, holdout,
                            lm_only_at, fit_settings, bootstrap, seed))
        if progress is not None:
            progress(len(out), groups.ngroups)
    return _group([replace(f, settings=settings) for f in out], settings)


def _fit_one(measurements: Measurements, rows: pd.DataFrame, points: pd.DataFrame, metric: Metric, law: str,
             holdout: int, lm_only_at: float, fit_settings: dict, bootstrap: int, seed: int) -> ReaderFit:
    reader = points["reader"].iloc[0]
    lm_points = points[points["datastore_tokens"] == 0]
    lm_only = float(lm_points["value"].mean()) if len(lm_points) else None
    retrieval = rows[rows["datastore_tokens"] > 0]
    sizes = tuple(sorted(retrieval["datastore_tokens"].unique()))
    where = f"reader {reader!r}, metric {metric.name!r}"
    if len(sizes) + (lm_only is not None) < 2:
        only = "LM-only" if not sizes else f"{tokens_label(sizes[0])} tokens"
        raise measurements.error(f"{where} has a single datastore size ({only}); a law in datastore size "
                                 "needs two or more (the LM-only baseline counts as one); measure another "
                                 "size or leave this reader or metric out with readers= or metric=",
                                 row=int(points["row"].iloc[0]), column="datastore_tokens")
    base = dict(reader=reader, model=points["model"].iloc[0], params=float(points["params"].iloc[0]),
                tokens=float(points["tokens"].iloc[0]), metric=metric, lm_only=lm_only, sizes=sizes,
                points=points[["datastore_tokens", "value", "sd", "n_seeds"]].reset_index(drop=True))
    if len(sizes) == 1:
        return _two_points(measurements, retrieval, points, base, law, lm_only_at, fit_settings, where)

    laws: dict[str, Law] = {}
    reasons: dict[str, str] = {}
    for name in LAWS:
        if len(sizes) < MIN_SIZES[name]:
            reasons[name] = f"needs {MIN_SIZES[name]} datastore sizes, the log has {len(sizes)}"
        elif name == "saturating" and lm_only is None:
            reasons[name] = "needs the LM-only value to anchor it; the log has no row with datastore_tokens 0"
        elif name == "saturating":
            try:
                laws[name] = saturating(lm_only, metric.kind, metric.ceiling)
            except FitError as err:
                reasons[name] = str(err)
        else:
            laws[name] = LOG_LINEAR
    if law != "auto" and law not in laws:
        raise measurements.error(f"{where}: the {law} law cannot be fitted: {reasons[law]}",
                                 row=int(points["row"].iloc[0]), column="datastore_tokens")

    held = sizes[len(sizes) - holdout:] if 0 < holdout < len(sizes) else ()
    errors: dict[str, dict] = {}
    if held:
        train = retrieval[retrieval["datastore_tokens"] < held[0]]
        test = points[points["datastore_tokens"].isin(held)]
        n_train = len(sizes) - len(held)
        for name, candidate in laws.items():
            if n_train < MIN_SIZES[name]:
                reasons[name] = (f"not compared: {n_train} sizes remain below the {len(held)} held out, it "
                                 f"needs {MIN_SIZES[name]}")
                continue
            small = engine.fit(candidate, train, **fit_settings)
            errors[name] = error_metrics(test["value"].to_numpy(), small.predict(test, warn=False))
    elif holdout:
        reasons |= {name: "not compared: too few sizes to hold any out" for name in laws}

    if law != "auto":
        chosen, how = law, "law given"
    elif errors:
        chosen = min(errors, key=lambda name: errors[name]["mae"])
        how = "held-out error" if len(errors) > 1 else "the only law compared"
    else:
        chosen, how = next(iter(laws)), "no held-out comparison was possible"

    weights = bootstrap_weights(retrieval, bootstrap, seed) if bootstrap else None
    fits = {name: engine.fit(candidate, retrieval, bootstrap_weights=weights, seed=seed, **fit_settings)
            for name, candidate in laws.items()}
    notes = []
    for name, result in fits.items():
        stalled = result.diagnostics["bootstrap_failed"]
        if stalled:
            notes.append(f"{name}: {stalled} of {bootstrap} bootstrap replicates did not converge (resamples "
                         "with few distinct sizes barely identify it); the finite ones are kept")
        if len(sizes) == len(result.law.params):
            notes.append(f"{name}: {len(sizes)} sizes for {len(sizes)} parameters: the law passes through "
                         "every point and is not tested by them")
        if result.diagnostics["at_bound"]:
            notes.append(f"{name}: {', '.join(result.diagnostics['at_bound'])} at a bound"
                         + (" (no saturation within the measured sizes)" if name == "saturating" else ""))
    choice = Choice(chosen, how, tuple(float(s) for s in held), errors, reasons)
    return ReaderFit(**base, fits=fits, choice=choice, notes=tuple(notes))


def _two_points(measurements: Measurements, retrieval: pd.DataFrame, points: pd.DataFrame, base: dict,
                law: str, lm_only_at: float, fit_settings: dict, where: str) -> ReaderFit:
    """The log-linear law through the LM-only point (placed at ``lm_only_at``) and one size."""
    size = base["sizes"][0]
    row = int(points["row"].iloc[0])
    if law == "saturating":
        raise measurements.error(f"{where}: the saturating law needs 3 datastore sizes besides the LM-only "
                                 "value; the log has one; use law='log_linear'", row=row,
                                 column="datastore_tokens")
    if lm_only_at >= size:
        raise measurements.error(f"{where}: lm_only_at={tokens_label(lm_only_at)} must be below the one "
                                 f"measured datastore size {tokens_label(size)}", row=row,
                                 column="datastore_tokens")
    anchor = pd.DataFrame({"datastore_tokens": [lm_only_at], "value": [base["lm_only"]], "weight": [1.0]})
    table = pd.concat([anchor, retrieval[["datastore_tokens", "value", "weight"]]], ignore_index=True)
    result = engine.fit(LOG_LINEAR, table, **fit_settings)
    note = (f"two points cannot test a law: the log-linear law passes through the LM-only value and the "
            f"{tokens_label(size)}-token datastore exactly; the LM-only point is placed at "
            f"{tokens_label(lm_only_at)} tokens (ln 0 is undefined) and the slope depends on that choice")
    reasons = {"saturating": "needs 3 datastore sizes besides the LM-only value"}
    choice = Choice("log_linear", "the only law two points determine", (), {}, reasons)
    return ReaderFit(**base, fits={"log_linear": result}, choice=choice, notes=(note,))
