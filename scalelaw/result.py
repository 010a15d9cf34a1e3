"""FitResult, one frozen value per fit, and FitGroup, one fit per model, reader or form.

A fit predicts, computes percentile intervals for any derived quantity from its bootstrap draws,
summarises itself as a DataFrame (:meth:`FitResult.summary`) or text (:meth:`FitResult.report`),
plots itself and round-trips through the ``scalelaw.core.fit/1`` artifact (files written as
``scalelaw.fit/1`` still load).  Both follow the result protocol of :mod:`scalelaw.protocol`.

Examples
--------
>>> import pandas as pd
>>> from scalelaw import engine, get_law
>>> fits = {m: engine.fit(get_law("power_law"), pd.DataFrame({"x": [1.0, 4.0, 16.0], "loss": [a, a / 2, a / 4]}),
...                       loss="squared") for m, a in (("small", 3.0), ("large", 2.0))}
>>> group = FitGroup("core", "example", fits, key="model")
>>> round(float(group["large"].predict(x=8.0)[0]), 6), list(group.summary().index.names)
(0.707107, ['model', 'parameter'])
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scalelaw import artifact, extrapolation, protocol, schema
from scalelaw.errors import ArtifactError, InputError
from scalelaw.io import coerce_numeric, quantities
from scalelaw.laws import Law
from scalelaw.protocol import FrozenDict, frozen

#: The kinds of interval a prediction carries.
INTERVALS = ("prediction", "confidence")
#: The schema FitResult artifacts were written with before the result protocol.
LEGACY_SCHEMA = "scalelaw.fit/1"


def error_metrics(y: np.ndarray, prediction: np.ndarray) -> dict:
    """MAE and max absolute error (target units), MAPE (percent) and RMSE of predictions."""
    y, prediction = np.asarray(y, dtype=float), np.asarray(prediction, dtype=float)
    err = prediction - y
    with np.errstate(all="ignore"):
        return {
            "n": int(y.size),
            "mae": float(np.mean(np.abs(err))) if y.size else float("nan"),
            "mape": float(100 * np.mean(np.abs(err / y))) if y.size else float("nan"),
            "max_abs_error": float(np.max(np.abs(err))) if y.size else float("nan"),
            "rmse": float(np.sqrt(np.mean(err * err))) if y.size else float("nan"),
        }


__all__ = ["FitGroup", "FitResult", "FrozenDict", "error_metrics"]


@dataclass(frozen=True)
class FitResult(protocol.Result):
    """The outcome of :func:`scalelaw.engine.fit`.

    Attributes
    ----------
    law
        The fitted :class:`~scalelaw.laws.Law`.
    params
        Parameter name -> fitted value (natural units).
    diagnostics
        ``objective``, ``converged``, ``message``, ``at_bound`` (parameters at a bound),
        ``n_starts``, ``n_polished``, ``n_at_optimum`` (polished starts that reached the best
        objective within 1e-6 relative), ``evaluations``, ``iterations``, ``wall_time`` (s), for
        the likelihood loss ``sigma``, the identifiability of the optimum (``condition_number``,
        ``weakest``, ``collapsed``, ``start_spread``, ``disagree``: :mod:`scalelaw.identifiability`;
        absent from fits stored before them) and, when asked, ``profile``.
    settings
        Every setting of the fit, verbatim.
    data
        Row count, sha256 of the fitted columns, column mapping and input ranges.
    metrics
        In-sample errors of the predictions (:func:`error_metrics`).
    bootstrap
        Bootstrap parameter draws, shape (B, p), or ``None``.
    noise
        The noise model of the residuals (:func:`scalelaw.intervals.fit_noise`), behind prediction
        intervals; ``None`` for parameters given and for fits saved before it existed.
    """

    FAMILY = "core"
    KIND = "fit"
    HASHED = ("law", "params", "bootstrap", "noise")
    DERIVED = ("level", "intervals", "notes", "warnings")

    law: Law
    params: Mapping[str, float]
    diagnostics: Mapping[str, object] = field(default_factory=dict)
    settings: Mapping[str, object] = field(default_factory=dict)
    data: Mapping[str, object] = field(default_factory=dict)
    metrics: Mapping[str, object] = field(default_factory=dict)
    bootstrap: np.ndarray | None = None
    noise: Mapping[str, object] | None = None

    def __post_init__(self) -> None:
        for name in ("params", "diagnostics", "settings", "data", "metrics"):
            object.__setattr__(self, name, frozen(getattr(self, name)))
        if self.noise is not None:
            object.__setattr__(self, "noise", frozen(self.noise))
        if self.bootstrap is not None:
            draws = np.array(self.bootstrap, dtype=float)
            draws.setflags(write=False)
            object.__setattr__(self, "bootstrap", draws)

    # ------------------------------------------------------------------ prediction and intervals
    @property
    def warnings(self) -> tuple[str, ...]:
        """What the fit rests on that may not hold: no convergence or a degenerate optimum (one line,
        :func:`scalelaw.identifiability.message`), parameters at a bound, failed bootstrap replicates."""
        from scalelaw import identifiability

        d = self.diagnostics
        out = [line] if (line := identifiability.message(self.law.name, d)) else []
        if d.get("at_bound"):
            out.append(f"law {self.law.name}: at a bound: {', '.join(d['at_bound'])}")
        if d.get("bootstrap_failed"):
            out.append(f"law {self.law.name}: {d['bootstrap_failed']} bootstrap replicates did not converge")
        return tuple(out)

    @property
    def level(self) -> float:
        return float(self.settings.get("level", 0.95))

    def _inputs(self, data=None, **values) -> dict[str, np.ndarray]:
        """Map a DataFrame or mapping (by symbol or by column name; numbers, unit strings such as
        ``"7B"``, or lists of them) to the law's inputs."""
        if data is None or values:
            data = {**(data or {}), **values}
        out = {}
        for symbol in self.law.inputs:
            column = self.law.column(symbol)
            if isinstance(data, pd.DataFrame):
                source = column if column in data.columns else symbol
                if source not in data.columns:
                    raise InputError(f"the table has no column {column!r} for the law's input {symbol}",
                                     column=column)
                cells = data[source]
                if cells.dtype.kind not in "fiub":
                    cells = coerce_numeric(data, [source]).frame[source]
                out[symbol] = cells.to_numpy(dtype=float)
            else:
                key = symbol if symbol in data else column
                if key not in data:
                    raise InputError(f"give a value for {column!r} (the law's input {symbol})")
                out[symbol] = quantities(data[key], key)
        return out

    def extrapolation(self, data=None, derived: Mapping[str, object] | None = None, **values) -> tuple[str, ...]:
        """Where inputs (and quantities ``derived`` from the fit, by column) leave the fitted ranges.

        Sentences with the factor, e.g. ``"params = 70B is 4.3x the largest fitted (16.2B)"``;
        empty inside the ranges (:func:`scalelaw.extrapolation.for_fit`).
        """
        return extrapolation.for_fit(self, self._inputs(data, **values), derived)

    def predict(self, data=None, *, interval: str | None = None, level: float | None = None, warn: bool = True,
                **values):
        """Predicted target (target units) at inputs given as a DataFrame, a mapping or keywords:
        ``predict({"params": "7B", "tokens": "1.4T"})``, ``predict(params=["7B", "70B"], tokens=1.4e12)``.

        With ``interval="prediction"`` or ``"confidence"``: ``(value, lower, upper)`` as
        :meth:`predict_interval` gives.  Inputs outside the fitted ranges emit an
        :class:`~scalelaw.ExtrapolationWarning` (``warn=False``: silently, for callers that report
        :meth:`extrapolation` themselves).
        """
        if interval is not None:
            return self.predict_interval(data, level, interval=interval, warn=warn, **values)
        inputs = self._inputs(data, **values)
        if warn:
            extrapolation.emit(extrapolation.for_fit(self, inputs))
        return self.law.evaluate(inputs, self.params)

    def draws(self) -> dict[str, np.ndarray]:
        """Bootstrap draws by parameter name (empty when the fit has no bootstrap)."""
        if self.bootstrap is None:
            return {}
        return {n: self.bootstrap[:, j] for j, n in enumerate(self.law.param_names)}

    def percentiles(self, samples: np.ndarray, level: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper percentile bounds along the first axis, ignoring failed draws."""
        level = self.level if level is None else level
        tail = 50 * (1 - level)
        with np.errstate(all="ignore"):
            lo, hi = np.nanpercentile(samples, [tail, 100 - tail], axis=0)
        return lo, hi

    def derive(self, quantity: Callable[[Mapping[str, np.ndarray]], object], level: float | None = None):
        """Value and percentile interval of any function of the parameters.

        ``quantity`` receives a mapping of parameter arrays and must be vectorised.  Returns
        ``(value, lower, upper)``; the bounds are NaN when the fit has no bootstrap.
        """
        value = np.asarray(quantity({k: np.asarray(v) for k, v in self.params.items()}), dtype=float)
        if self.bootstrap is None:
            nan = np.full_like(value, np.nan)
            return value, nan, nan.copy()
        draws = np.asarray(quantity({k: v[:, None] for k, v in self.draws().items()}), dtype=float)
        draws = draws.reshape(self.bootstrap.shape[0], *value.shape) if value.shape else draws.reshape(-1)
        lo, hi = self.percentiles(draws, level)
        return value, lo, hi

    def predict_interval(self, data=None, level: float | None = None, *, interval: str = "confidence",
                         warn: bool = True, **values) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Prediction and its interval at ``level``: ``(value, lower, upper)``, target units.

        ``interval="confidence"``: the bootstrap percentile interval of the law's value (NaN without a
        bootstrap).  ``interval="prediction"``: where a new run would land, the bootstrap draws mixed
        with the residual scatter of the noise model (:mod:`scalelaw.intervals`); without a bootstrap
        the scatter alone (said in :meth:`interval_notes`).  Inputs as for :meth:`predict`; warns as
        :meth:`predict` does outside the fitted ranges.
        """
        kind = self.interval_kind(interval)
        inputs = self._inputs(data, **values)
        if warn:
            extrapolation.emit(extrapolation.for_fit(self, inputs))
            for text in self.interval_notes(kind):
                warnings.warn(text, UserWarning, stacklevel=2)
        value = self.law.evaluate(inputs, self.params)
        level = self.level if level is None else level
        if kind == "prediction":
            from scalelaw import intervals

            draws = value[None] if self.bootstrap is None else self.law.evaluate_draws(inputs, self.bootstrap)
            lo, hi = intervals.prediction_interval(self.law.space, self.noise, inputs, draws, level)
            return value, lo.reshape(value.shape), hi.reshape(value.shape)
        if self.bootstrap is None:
            return value, np.full_like(value, np.nan), np.full_like(value, np.nan)
        samples = self.law.evaluate_draws(inputs, self.bootstrap)
        lo, hi = self.percentiles(samples, level)
        return value, lo, hi

    def interval_kind(self, interval: str | None = None) -> str:
        """The interval asked for: ``prediction`` or ``confidence``; ``None`` is ``prediction`` when the
        fit holds a noise model and ``confidence`` otherwise (parameters given, an older artifact)."""
        if interval is None:
            return "prediction" if self.noise is not None else "confidence"
        if interval not in INTERVALS:
            raise InputError(f"interval={interval!r}: give prediction or confidence", field="interval")
        if interval == "prediction" and self.noise is None:
            why = ("its parameters were given, not fitted" if self.diagnostics.get("objective") is None
                   else "it was saved without a noise model, before prediction intervals")
            raise InputError(f"refit law {self.law.name!r} for interval=prediction: {why}; or give "
                             "interval=confidence (parameter uncertainty only)", field="interval")
        return interval

    def interval_notes(self, kind: str) -> tuple[str, ...]:
        """What an interval of ``kind`` leaves out, as warnings (empty when it holds all it claims)."""
        if kind == "prediction" and self.bootstrap is None:
            return (f"law {self.law.name}: fitted without bootstrap, so the prediction interval holds the "
                    "residual scatter only, not the parameter uncertainty; refit with bootstrap= for both",)
        return ()

    # ------------------------------------------------------------------ presentation
    def intervals(self, level: float | None = None) -> dict[str, tuple[float, float]]:
        if self.bootstrap is None:
            return {}
        lo, hi = self.percentiles(self.bootstrap, level)
        return {n: (float(lo[j]), float(hi[j])) for j, n in enumerate(self.law.param_names)}

    def summary(self) -> pd.DataFrame:
        """One row per parameter: value, bootstrap se, lower, upper, at_bound."""
        rows = []
        intervals = self.intervals()
        for j, name in enumerate(self.law.param_names):
            se = float(np.nanstd(self.bootstrap[:, j], ddof=1)) if self.bootstrap is not None else np.nan
            lo, hi = intervals.get(name, (np.nan, np.nan))
            rows.append({"parameter": name, "value": self.params[name], "se": se, "lower": lo,
                         "upper": hi, "at_bound": name in self.diagnostics.get("at_bound", ())})
        return pd.DataFrame(rows).set_index("parameter")

    def report(self) -> str:
        """A plain-text report: the law, the parameter table and the diagnostics."""
        d = self.diagnostics
        fitted = d.get("objective") is not None
        lines = [f"law {self.law.name}: {self.law.formula}  (residuals in {self.law.space} space)",
                 f"fitted on {self.data.get('rows')} rows with loss {self.settings.get('loss')}" if fitted
                 else f"parameters given ({self.settings.get('source', 'not fitted')}), not fitted"]
        table = self.summary()
        lines.append(table.to_string(float_format=lambda v: f"{v:.6g}"))
        if fitted:
            lines.append(f"objective {d.get('objective'):.10g}; {d.get('message')}; "
                         f"{d.get('n_at_optimum')} of {d.get('n_polished')} polished starts "
                         f"({d.get('n_starts')} evaluated) reached the optimum; "
                         f"{d.get('wall_time', 0):.3f} s")
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def plot(self, ax=None, *, data: pd.DataFrame | None = None):
        """The fitted law over its input ranges, with its bootstrap band and, given, the data."""
        from scalelaw.plots.law import law_curves

        return law_curves(self, ax=ax, data=data)

    def _repr_html_(self) -> str:
        head = f"<b>{self.law.name}</b>: <code>{self.law.formula}</code>"
        return head + self.summary().to_html(float_format=lambda v: f"{v:.6g}")

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v:.6g}" for k, v in self.params.items())
        return f"<FitResult {self.law.name}: {shown}>"

    # ------------------------------------------------------------------ artifact
    def to_dict(self) -> dict:
        """The ``scalelaw.core.fit/1`` artifact as a dict."""
        law = self.law.to_dict()
        bootstrap = None if self.bootstrap is None else self.bootstrap.tolist()
        noise = None if self.noise is None else dict(self.noise)
        return {
            **artifact.header(self.KIND, self.SCHEMA),
            "family": self.FAMILY,
            artifact.DIGEST: self.digest({"law": law, "params": dict(self.params), "bootstrap": bootstrap,
                                          "noise": noise}),
            "law": law,
            "params": dict(self.params),
            "level": self.level,
            "intervals": {k: list(v) for k, v in self.intervals().items()},
            "settings": dict(self.settings),
            "data": dict(self.data),
            "metrics": dict(self.metrics),
            "diagnostics": dict(self.diagnostics),
            "bootstrap": bootstrap,
            "warnings": list(self.warnings),
            "noise": noise,
        }

    @classmethod
    def check_payload(cls, payload: Mapping) -> None:
        """Refuse what the types cannot: a law that does not build, parameters that are not one finite
        value within its bounds per law parameter, a bootstrap that is not 2-D with one column per
        parameter, a level outside (0, 1) or an interval whose lower end lies above its upper end."""
        try:
            law = Law.from_dict(payload["law"])
        except Exception as err:  # noqa: BLE001 (any failure to build the declaration is the artifact's)
            schema.refuse("law", f"is not a law declaration ({err})")
        params = payload["params"]
        for p in law.params:
            at = f"params.{p.name}"
            if p.name not in params:
                schema.refuse(at, f"is missing (law {law.name} has {', '.join(law.param_names)})")
            value = schema.number(params[p.name], at)
            if not _within(value, p.lower, p.upper):
                schema.refuse(at, f"is {value!r}, outside the law's bounds [{p.lower:g}, {p.upper:g}]")
        for name in params:
            if name not in law.param_names:
                schema.refuse(f"params.{name}", f"is not a parameter of law {law.name}")
        if payload.get("bootstrap") is not None:
            draws = schema.array(payload["bootstrap"], "bootstrap", ndim=2, columns=len(law.params))
            if np.isinf(draws).any():
                schema.refuse("bootstrap", "holds an infinite draw")
        schema.fields_of(payload.get("diagnostics", {}), _DIAGNOSTICS, "diagnostics")
        _check_level(payload)
        schema.check_type(payload.get("intervals"), Mapping[str, tuple[float, float]] | None, "intervals")
        for name, (lower, upper) in (payload.get("intervals") or {}).items():
            if lower > upper:
                schema.refuse(f"intervals.{name}", f"is inverted (lower {lower:g} above upper {upper:g})")
        ranges = payload.get("data", {}).get("ranges")
        schema.check_type(ranges, Mapping[str, list] | None, "data.ranges")
        for column, bounds in (ranges or {}).items():
            if len(bounds) != 2:
                schema.refuse(f"data.ranges.{column}", "must be a list [min, max]")
            for j, v in enumerate(bounds):
                schema.number(v, f"data.ranges.{column}[{j}]", finite=False)
        _check_noise(payload.get("noise"))


    @classmethod
    def from_fields(cls, payload: Mapping, *, source: str = "artifact") -> FitResult:
        try:
            law = Law.from_dict(payload["law"])
            params = {n: float(payload["params"][n]) for n in law.param_names}
            boot = payload.get("bootstrap")
            return cls(law=law, params=params, diagnostics=payload.get("diagnostics", {}),
                       settings=payload.get("settings", {}), data=payload.get("data", {}),
                       metrics=payload.get("metrics", {}),
                       bootstrap=None if boot is None else np.asarray(boot, dtype=float),
                       noise=payload.get("noise"))
        except (KeyError, TypeError, ValueError) as err:
            raise ArtifactError(f"{source}: the fit artifact is incomplete ({err!r})") from err


#: the diagnostics a fit's summary and report read, and their JSON types.
_DIAGNOSTICS = {"at_bound": tuple[str, ...], "objective": float | None, "wall_time": float,
                "converged": bool, "message": str, "n_starts": int, "n_polished": int, "n_at_optimum": int,
                "condition_number": float, "weakest": str, "collapsed": tuple[str, ...],
                "disagree": tuple[str, ...], "start_spread": Mapping[str, float]}


def _within(value: float, lower: float, upper: float, rtol: float = 1e-9) -> bool:
    """``value`` in [lower, upper] up to a relative ``rtol`` (a fit may end a rounding past a bound)."""
    return lower - rtol * max(1.0, abs(lower)) <= value <= upper + rtol * max(1.0, abs(upper))


def _check_noise(noise) -> None:
    """Refuse a noise model whose numbers (what prediction intervals are drawn from) are missing or wrong."""
    if noise is None:
        return
    schema.fields_of(noise, {"model": str}, "noise", required=True)
    if noise["model"] == "constant":
        if schema.number(noise.get("sigma"), "noise.sigma") < 0:
            schema.refuse("noise.sigma", "must be >= 0")
    elif noise["model"] == "scale":
        log_sigma = noise.get("log_sigma")
        if not isinstance(log_sigma, list) or len(log_sigma) != 2:
            schema.refuse("noise.log_sigma", "must be a list [a, b]")
        for j, v in enumerate(log_sigma):
            schema.number(v, f"noise.log_sigma[{j}]")
        schema.number(noise.get("centre"), "noise.centre")
        schema.number(noise.get("spread"), "noise.spread", positive=True)
    else:
        schema.refuse("noise.model", f"must be constant or scale, not {noise['model']!r}")


def _check_level(payload: Mapping) -> None:
    """Refuse a ``level`` or ``settings.level`` outside (0, 1), or the two disagreeing."""
    settings = payload.get("settings") if isinstance(payload.get("settings"), dict) else {}
    found = {}
    for at, value in (("level", payload.get("level")), ("settings.level", settings.get("level"))):
        if value is not None or (at == "settings.level" and "level" in settings):
            found[at] = schema.number(value, at)
            if not 0 < found[at] < 1:
                schema.refuse(at, f"must lie in (0, 1), got {found[at]!r}")
    if len(found) == 2 and found["level"] != found["settings.level"]:
        schema.refuse("level", f"is {found['level']!r} but settings.level is {found['settings.level']!r}")


@protocol.legacy(LEGACY_SCHEMA)
def _read_legacy_fit(payload: dict, source: str) -> FitResult:
    payload = artifact.check(payload, schema=LEGACY_SCHEMA, source=source)
    schema.validate(FitResult, payload, source=source, at=protocol.AT.get())
    return FitResult.from_fields(payload, source=source)


# ------------------------------------------------------------------------------------------ groups
@dataclass(frozen=True)
class FitGroup(protocol.Result, Mapping):
    """One result per group (model, reader, law form, ...), answered and stored as one value.

    A read-only mapping from group key to its result (a :class:`FitResult` or any other result).

    Attributes
    ----------
    family
        The family whose question the group answers (``sampling``, ``datastore``, ...).
    kind
        What the group is within that family (``coverage``, ``readers``, ``law``, ...).
    fits
        Group key -> result, in the order fitted.
    key
        What a group key names (``model``, ``reader``, ``form``), for messages and tables.
    settings
        Every setting of the family call that made the group, verbatim.
    info
        Family facts about the group as a whole (JSON values, tables or declared values).
    warnings
        What the answers rest on that the data may contradict.
    """

    FAMILY = "core"
    KIND = "group"

    family: str
    kind: str
    fits: Mapping[str, protocol.Result]
    key: str = "group"
    settings: Mapping[str, object] = field(default_factory=dict)
    info: Mapping[str, object] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @classmethod
    def check_payload(cls, payload: Mapping) -> None:
        """Refuse a group fit (``info.by``) whose ``info.groups`` does not give each member's values."""
        info = payload.get("info", {})
        if "use" in info:  # the fits a hyperparameter law predicts with, by role
            schema.fields_of(info, {"use": Mapping[str, str]}, "info")
            for role, name in info["use"].items():
                if name not in payload["fits"]:
                    schema.refuse(f"info.use.{role}", f"names {name!r}, which is not one of its fits")
        if "by" not in info:
            return
        schema.fields_of(info, {"by": tuple[str, ...], "groups": Mapping[str, list]}, "info", required=True)
        for name in payload["fits"]:
            if name not in info["groups"] or len(info["groups"][name]) != len(info["by"]):
                schema.refuse(f"info.groups.{name}", f"must list the values of {', '.join(info['by'])}")

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "fits", frozen(self.fits))
        object.__setattr__(self, "info", frozen(self.info))

    @property
    def TITLE(self) -> str:  # noqa: N802 (the protocol's class-level name)
        return f"{self.family} {self.kind}: {len(self.fits)} {self.key}s"

    # ------------------------------------------------------------------ the mapping
    def __getitem__(self, name: str) -> protocol.Result:
        if name not in self.fits:
            raise InputError(f"no {self.key} {name!r} in the {self.family} {self.kind}; it has "
                             f"{', '.join(map(repr, self.fits))}")
        return self.fits[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.fits)

    def __len__(self) -> int:
        return len(self.fits)

    def __contains__(self, name: object) -> bool:
        return name in self.fits

    def get(self, name: str, default=None):
        return self.fits.get(name, default)

    __hash__ = object.__hash__

    @property
    def level(self) -> float:
        return float(self.settings.get("level", 0.95))

    # ------------------------------------------------------------------ the protocol
    def summary(self) -> pd.DataFrame:
        """Every member's summary, stacked, with the group key as the first index level; a group fit
        (``by=``) has one index level per grouping column and each fit's ``converged``, ``objective``
        and ``rows`` in its rows."""
        by = list(self.info.get("by", ()))
        parts = {name: fit.summary() for name, fit in self.fits.items()}
        if not parts:
            return pd.DataFrame()
        if not by:
            return pd.concat(parts, names=[self.key])
        first = next(iter(parts.values()))
        if first.index.names == [None] or not isinstance(self.fits[next(iter(parts))], FitResult):
            frames = []
            for name, part in parts.items():
                part = part.reset_index()
                for column, value in zip(by, self.info["groups"][name], strict=True):
                    part.insert(0, column, value)
                frames.append(part)
            return pd.concat(frames, ignore_index=True).set_index(by)
        frames = []
        for name, part in parts.items():
            fit = self.fits[name]
            part = part.assign(converged=bool(fit.diagnostics.get("converged")),
                               objective=fit.diagnostics.get("objective"), rows=fit.data.get("rows"))
            for column, value in zip(by, self.info["groups"][name], strict=True):
                part.insert(0, column, value)
            frames.append(part.reset_index())
        table = pd.concat(frames, ignore_index=True)
        return table.set_index([*by, "parameter"])

    def _member_digest(self) -> str:
        """``params_sha256`` as :meth:`to_dict` gives it, holding one member's artifact at a time (a member
        counts by its own digest)."""
        body = {f.name: protocol.encode(getattr(self, f.name)) for f in dataclasses.fields(self)
                if f.init and f.name != "fits"}
        body["fits"] = {str(k): {artifact.DIGEST: v.to_dict()[artifact.DIGEST]} for k, v in self.fits.items()}
        return self.digest(body)

    def json_chunks(self) -> Iterator[str]:
        """The artifact's text one member at a time (``"".join`` of it is :meth:`to_json`), so that writing
        a group of 10^5 members never holds its whole text."""
        payload = {**artifact.header(self.KIND, self.SCHEMA), "family": self.FAMILY,
                   artifact.DIGEST: self._member_digest()}
        for f in dataclasses.fields(self):
            if f.init:
                payload[f.name] = protocol.encode(getattr(self, f.name)) if f.name != "fits" else artifact.Streamed(
                    lambda: ((str(k), protocol.encode(v)) for k, v in self.fits.items()), len(self.fits))
        return artifact.chunks(payload)

    def report(self) -> str:
        lines = [self.TITLE]
        for name, fit in self.fits.items():
            lines.append(f"\n[{self.key} {name}]")
            lines.append(fit.report())
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def plot(self, ax=None):
        """One panel per member (or every member on ``ax`` when given); a sampling coverage fit draws
        its models' curves on one panel."""
        if self.family == "sampling" and self.kind == "coverage":
            from scalelaw.plots.sampling import coverage_curves

            return coverage_curves(self, ax=ax)
        from scalelaw.plots.law import group_panels

        return group_panels(self, ax=ax)
