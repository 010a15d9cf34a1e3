"""FitResult: one frozen value per fit, with diagnostics, intervals and a JSON artifact.

A result predicts, computes percentile intervals for any derived quantity from its bootstrap
draws, summarises itself as a DataFrame (:meth:`FitResult.summary`) or text
(:meth:`FitResult.report`), and round-trips through the ``scalelaw.fit/1`` JSON artifact.

Examples
--------
>>> import pandas as pd
>>> from scalelaw import engine, get_law
>>> t = pd.DataFrame({"x": [1.0, 4.0, 16.0, 64.0], "loss": [3.0, 1.5, 0.75, 0.375]})
>>> r = engine.fit(get_law("power_law"), t, loss="squared")
>>> FitResult.from_json(r.to_json()).predict({"x": 16.0}) == r.predict({"x": 16.0})
array([ True])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scalelaw import artifact
from scalelaw.errors import ArtifactError, InputError
from scalelaw.laws import Law

SCHEMA = "scalelaw.fit/1"


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


class FrozenDict(dict):
    """A dict that refuses changes (a result's fields are values, not state)."""

    def _refuse(self, *args, **kwargs):
        raise TypeError("fit results are frozen; build a new result instead of changing this one")

    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = __ior__ = _refuse

    def __reduce__(self):
        return (FrozenDict, (dict(self),))


def _frozen(mapping: Mapping | None) -> FrozenDict:
    return FrozenDict(mapping or {})


@dataclass(frozen=True)
class FitResult(artifact.JsonArtifact):
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
        objective within 1e-6 relative), ``evaluations``, ``iterations``, ``wall_time`` (s), and
        for the likelihood loss ``sigma``.
    settings
        Every setting of the fit, verbatim.
    data
        Row count, sha256 of the fitted columns, column mapping and input ranges.
    metrics
        In-sample errors of the predictions (:func:`error_metrics`).
    bootstrap
        Bootstrap parameter draws, shape (B, p), or ``None``.
    """

    SCHEMA = SCHEMA

    law: Law
    params: Mapping[str, float]
    diagnostics: Mapping[str, object] = field(default_factory=dict)
    settings: Mapping[str, object] = field(default_factory=dict)
    data: Mapping[str, object] = field(default_factory=dict)
    metrics: Mapping[str, object] = field(default_factory=dict)
    bootstrap: np.ndarray | None = None

    def __post_init__(self) -> None:
        for name in ("params", "diagnostics", "settings", "data", "metrics"):
            object.__setattr__(self, name, _frozen(getattr(self, name)))
        if self.bootstrap is not None:
            draws = np.array(self.bootstrap, dtype=float)
            draws.setflags(write=False)
            object.__setattr__(self, "bootstrap", draws)

    # ------------------------------------------------------------------ prediction and intervals
    @property
    def level(self) -> float:
        return float(self.settings.get("level", 0.95))

    def _inputs(self, data) -> dict[str, np.ndarray]:
        """Map a DataFrame or mapping (by symbol or by column name) to the law's inputs."""
        out = {}
        for symbol in self.law.inputs:
            column = self.law.column(symbol)
            if isinstance(data, pd.DataFrame):
                source = column if column in data.columns else symbol
                if source not in data.columns:
                    raise InputError(f"the table has no column {column!r} for the law's input {symbol}",
                                     column=column)
                out[symbol] = pd.to_numeric(data[source], errors="coerce").to_numpy(dtype=float)
            else:
                key = symbol if symbol in data else column
                if key not in data:
                    raise InputError(f"give a value for {column!r} (the law's input {symbol})")
                out[symbol] = np.atleast_1d(np.asarray(data[key], dtype=float))
        return out

    def predict(self, data) -> np.ndarray:
        """Predicted target (target units) at inputs given as a DataFrame or a mapping."""
        return self.law.evaluate(self._inputs(data), self.params)

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

    def predict_interval(self, data, level: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Prediction and its bootstrap percentile interval: ``(value, lower, upper)``."""
        inputs = self._inputs(data)
        value = self.law.evaluate(inputs, self.params)
        if self.bootstrap is None:
            return value, np.full_like(value, np.nan), np.full_like(value, np.nan)
        samples = self.law.evaluate_draws(inputs, self.bootstrap)
        lo, hi = self.percentiles(samples, level)
        return value, lo, hi

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
        lines = [f"law {self.law.name}: {self.law.formula}  (residuals in {self.law.space} space)",
                 f"fitted on {self.data.get('rows')} rows with loss {self.settings.get('loss')}"]
        table = self.summary()
        lines.append(table.to_string(float_format=lambda v: f"{v:.6g}"))
        lines.append(f"objective {d.get('objective'):.10g}; {d.get('message')}; "
                     f"{d.get('n_at_optimum')} of {d.get('n_polished')} polished starts "
                     f"({d.get('n_starts')} evaluated) reached the optimum; "
                     f"{d.get('wall_time', 0):.3f} s")
        if d.get("at_bound"):
            lines.append(f"warning: at a bound: {', '.join(d['at_bound'])}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head = f"<b>{self.law.name}</b>: <code>{self.law.formula}</code>"
        return head + self.summary().to_html(float_format=lambda v: f"{v:.6g}")

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v:.6g}" for k, v in self.params.items())
        return f"<FitResult {self.law.name}: {shown}>"

    # ------------------------------------------------------------------ artifact
    def to_dict(self) -> dict:
        """The ``scalelaw.fit/1`` artifact as a dict."""
        return {
            **artifact.header("fit", SCHEMA),
            "law": self.law.to_dict(),
            "params": dict(self.params),
            "level": self.level,
            "intervals": {k: list(v) for k, v in self.intervals().items()},
            "settings": dict(self.settings),
            "data": dict(self.data),
            "metrics": dict(self.metrics),
            "diagnostics": dict(self.diagnostics),
            "bootstrap": None if self.bootstrap is None else self.bootstrap.tolist(),
        }


    @classmethod
    def from_dict(cls, payload: Mapping, *, source: str = "artifact") -> FitResult:
        payload = artifact.check(dict(payload), schema=SCHEMA, source=source)
        try:
            law = Law.from_dict(payload["law"])
            params = {n: float(payload["params"][n]) for n in law.param_names}
            boot = payload.get("bootstrap")
            return cls(law=law, params=params, diagnostics=payload.get("diagnostics", {}),
                       settings=payload.get("settings", {}), data=payload.get("data", {}),
                       metrics=payload.get("metrics", {}),
                       bootstrap=None if boot is None else np.asarray(boot, dtype=float))
        except (KeyError, TypeError, ValueError) as err:
            raise ArtifactError(f"{source}: the fit artifact is incomplete ({err!r})") from err

