"""Law averaging judged by extrapolation: candidate fits weighted by their rolling-origin error.

A candidate is a law fitted with one of the engine's losses (``chinchilla`` with ``huber``, ``kaplan``
with ``asymmetric``, ...).  The rows are ordered by a scale column (``order_by``, FLOPs by default, the
order :func:`scalelaw.families.loss.validate_loss` holds out by).  A *scale* is a distinct value of that
column at 3 significant digits (an isoFLOP budget, a model size); when there are more than
``max_scales``, consecutive ones are pooled into ``max_scales`` groups of about equal row counts.

Rolling origin: for each of the last ``origins`` scales in turn, every candidate is fitted on the
smaller scales and scored on that scale (MAPE, percent).  The weights minimise the mixture's mean
squared relative error on those held-out rows, every origin counting equally (stacking: weights >= 0
that sum to 1), or with ``weighting="inverse"`` are proportional to 1 / score^2.  The candidates are
then refitted on every row, and the mixture predicts sum_k w_k f_k(x).

Intervals are bootstrap confidence intervals of the mixture: draw b takes candidate k with
probability w_k and that candidate's bootstrap draw b, so they hold parameter and law-form
uncertainty, not the scatter of one run about the law.

Examples
--------
>>> import numpy as np, pandas as pd
>>> x = np.repeat([1.0, 2.0, 4.0, 8.0, 16.0], 2)
>>> t = pd.DataFrame({"x": x, "loss": 1.0 + 2.0 * x**-0.5})
>>> avg = average(t, laws=["saturating_power_law", "power_law"], losses=["squared"], order_by="x")
>>> avg.weights.round(3).tolist(), round(float(avg.predict(x=32.0)[0]), 4)
([1.0, 0.0], 1.3536)
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scalelaw import engine, extrapolation, intervals, protocol
from scalelaw.errors import FitError, InputError, LawError
from scalelaw.laws import Law, get_law
from scalelaw.result import INTERVALS, FitResult

#: The engine losses every candidate law is fitted with, unless told otherwise.
LOSSES = ("huber", "squared", "asymmetric")
WEIGHTINGS = ("stacking", "inverse")
#: Scales a candidate is fitted on, at the least, before it is scored.
MIN_FIT_SCALES = 2
#: what each kind of interval of a mixture holds
INTERVAL_WORDS = {"confidence": "bootstrap confidence interval of the mixture (parameters and law form; no "
                                "run-to-run scatter)",
                  "prediction": "prediction interval of the mixture (parameters, law form and each law's "
                                "residual scatter)"}


def scale_labels(values: np.ndarray, max_scales: int = 8) -> np.ndarray:
    """Scale index of each row (0 = smallest): distinct values at 3 significant digits, pooled into
    ``max_scales`` consecutive groups of about equal row counts when there are more."""
    values = np.asarray(values, dtype=float)
    rounded = np.array([float(f"{v:.3g}") for v in values])
    distinct, labels = np.unique(rounded, return_inverse=True)
    if distinct.size <= max_scales:
        return labels
    counts = np.bincount(labels)
    edges = np.cumsum(counts) / counts.sum()
    group = np.minimum((edges - counts / counts.sum() / 2) * max_scales, max_scales - 1).astype(int)
    return np.unique(group, return_inverse=True)[1][labels]


def _resolve(laws: Sequence[str | Law], columns) -> list[Law]:
    out = [law if isinstance(law, Law) else get_law(law, columns=columns) for law in laws]
    if not out:
        raise InputError("laws= is empty; give at least one candidate law", field="laws")
    targets = {law.target for law in out}
    if len(targets) > 1:
        raise InputError(f"the candidate laws predict different targets ({', '.join(sorted(targets))}); "
                         "give laws of one target", field="laws")
    return out


def _starts(law: Law, starts, notes: list[str]):
    """``starts`` when it applies to ``law``; a named set made for another law shape gives way to
    ``"default"``, with a note."""
    from scalelaw.starts import start_points

    if not isinstance(starts, str) or starts == "default":
        return starts
    try:
        start_points(law, starts, {s: np.ones(2) for s in law.inputs}, np.ones(2))
    except LawError:
        text = f"{law.name}: starts={starts!r} does not apply to this law; it was fitted from starts='default'"
        if text not in notes:
            notes.append(text)
        return "default"
    return starts


def _stack(errors: list[np.ndarray]) -> np.ndarray:
    """Simplex weights minimising sum_o mean_i (w . e_oi)^2 (e: relative errors, candidates x rows)."""
    from scipy.optimize import nnls

    A = np.vstack([e.T / np.sqrt(e.shape[1]) for e in errors])
    big = 1e3 * max(1.0, float(np.abs(A).max()))
    w, _ = nnls(np.vstack([A, np.full((1, A.shape[1]), big)]), np.r_[np.zeros(len(A)), big])
    return w / w.sum() if w.sum() > 0 else np.full(A.shape[1], 1.0 / A.shape[1])


def average(table: pd.DataFrame, *, laws: Sequence[str | Law], losses: Sequence[str] = LOSSES,
            order_by: str = "flops", origins: int = 2, max_scales: int = 8, weighting: str = "stacking",
            bootstrap: int = 0, seed: int = 0, level: float = 0.95, starts="default", delta: float = 1e-3,
            polish: int = 64) -> AveragedFit:
    """Fit every (law, loss) candidate and weight them by rolling-origin extrapolation error.

    Parameters
    ----------
    laws
        Candidate laws (catalogue names, formulas or Laws) of one target.
    losses
        Engine losses each law is fitted with (``huber``, ``squared``, ``asymmetric``, ...).
    order_by
        Numeric column whose scales order the rows (FLOPs, params, tokens, any size).
    origins
        How many of the largest scales are each scored, fitted on the scales below them; the table
        needs ``origins + 2`` scales.
    max_scales
        Scales are pooled into this many groups when there are more.
    weighting
        ``"stacking"`` (simplex weights minimising the mixture's held-out squared relative error) or
        ``"inverse"`` (w proportional to 1 / MAPE^2).
    bootstrap, seed, level, starts, delta, polish
        Those of :func:`scalelaw.engine.fit` for every candidate's fit on all rows; ``seed`` also
        draws the candidate of each mixture draw.
    """
    settings = {"laws": [law.to_dict() if isinstance(law, Law) else law for law in laws], "losses": list(losses),
                "order_by": order_by, "origins": int(origins), "max_scales": int(max_scales),
                "weighting": weighting, "bootstrap": int(bootstrap), "seed": int(seed), "level": float(level),
                "starts": starts, "delta": float(delta), "polish": int(polish)}
    if weighting not in WEIGHTINGS:
        raise InputError(f"weighting={weighting!r}; choose one of {', '.join(WEIGHTINGS)}", field="weighting")
    if origins < 1 or max_scales < origins + MIN_FIT_SCALES:
        raise InputError(f"origins={origins} must be >= 1 and max_scales={max_scales} >= origins + "
                         f"{MIN_FIT_SCALES}", field="origins")
    if not losses:
        raise InputError("losses= is empty; give at least one engine loss", field="losses")
    candidates = [(law, loss) for law in _resolve(laws, table.columns) for loss in losses]
    if order_by not in table.columns:
        raise InputError(f"order_by={order_by!r} is not a column; the table has "
                         f"{', '.join(map(repr, table.columns))}", column=order_by)
    values = pd.to_numeric(table[order_by], errors="coerce").to_numpy(dtype=float)
    if not np.all(np.isfinite(values)):
        row = int(np.flatnonzero(~np.isfinite(values))[0]) + 1
        raise InputError(f"order_by={order_by!r} must be numeric; found {table[order_by].iloc[row - 1]!r}",
                         row=row, column=order_by)
    labels = scale_labels(values, max_scales)
    n_scales = int(labels.max()) + 1
    needed = origins + MIN_FIT_SCALES
    if n_scales < needed:
        raise FitError(f"rolling-origin averaging needs at least {needed} scales of {order_by!r} "
                       f"({MIN_FIT_SCALES} to fit and origins={origins} to score); the table has {n_scales}")
    fit_settings = {"delta": delta, "polish": polish, "level": level}
    errors, mapes, notes = [], [], []
    begin = {law.name: _starts(law, starts, notes) for law, _ in candidates}
    origin_scales = []
    for scale in range(n_scales - origins, n_scales):
        train, test = table.loc[labels < scale], table.loc[labels == scale]
        y = test[candidates[0][0].target].to_numpy(dtype=float)
        origin_scales.append(float(np.exp(np.mean(np.log(np.abs(values[labels == scale]))))))
        rel = np.full((len(candidates), len(test)), np.inf)
        for k, (law, loss) in enumerate(candidates):
            try:
                result = engine.fit(law, train, loss=loss, starts=begin[law.name], **fit_settings)
            except FitError as err:
                notes.append(f"{law.name}/{loss} at origin {order_by} = {origin_scales[-1]:.3g}: {err}")
                continue
            rel[k] = result.predict(test, warn=False) / y - 1.0
        errors.append(rel)
        mapes.append(100 * np.mean(np.abs(rel), axis=1))
    mape = np.array(mapes).T  # candidates x origins
    score = mape.mean(axis=1)
    usable = np.isfinite(score)
    if not usable.any():
        raise FitError(f"no candidate law could be fitted at every rolling origin ({len(notes)} fits failed; "
                       f"the first: {notes[0]})")
    weights = np.zeros(len(candidates))
    if weighting == "stacking":
        weights[usable] = _stack([e[usable] for e in errors])
    else:
        inverse = score[usable] ** -2.0
        weights[usable] = inverse / inverse.sum()
    fits = tuple(engine.fit(law, table, loss=loss, starts=begin[law.name], bootstrap=bootstrap, seed=seed,
                            **fit_settings) for law, loss in candidates)
    names = tuple(f"{law.name}/{loss}" for law, loss in candidates)
    frame = pd.DataFrame({"law": [law.name for law, _ in candidates], "loss": [loss for _, loss in candidates],
                          "score_mape": score, "weight": weights}, index=pd.Index(names, name="candidate"))
    for j, s in enumerate(origin_scales):
        frame[f"mape_at_{s:.3g}"] = mape[:, j]
    warned = [*notes, *(f"{name}: {w}" for name, f, wk in zip(names, fits, weights, strict=True) if wk > 0
                        for w in f.warnings)]
    return AveragedFit(fits, names, weights, frame, order_by, tuple(origin_scales), settings=settings,
                       warnings=tuple(warned))


@dataclass(frozen=True)
class AveragedFit(protocol.Result):
    """A mixture of fitted laws weighted by rolling-origin extrapolation error (:func:`average`).

    Attributes
    ----------
    candidates
        Every candidate fitted on all rows, in the order of ``names`` (``law/loss``).
    weights
        Mixture weight of each candidate (>= 0, sum 1).
    scores
        One row per candidate: law, loss, ``score_mape`` (mean rolling-origin held-out MAPE,
        percent), weight, and the MAPE at each origin (``mape_at_<scale>``).
    order_by, origins
        The scale column and the scale (geometric mean of ``order_by``) of each scored origin.
    """

    FAMILY = "loss"
    KIND = "average"
    TITLE = "law averaging judged by rolling-origin extrapolation"

    candidates: tuple[FitResult, ...]
    names: tuple[str, ...]
    weights: np.ndarray
    scores: pd.DataFrame
    order_by: str = "flops"
    origins: tuple[float, ...] = ()
    settings: Mapping[str, object] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("candidates", "names", "origins"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        weights = np.array(self.weights, dtype=float)
        weights.setflags(write=False)
        object.__setattr__(self, "weights", weights)

    @property
    def law(self) -> Law:
        """The law of the heaviest candidate (every candidate shares its target and input columns)."""
        return self.candidates[int(np.argmax(self.weights))].law

    @property
    def level(self) -> float:
        return float(self.settings.get("level", 0.95))

    @property
    def data(self) -> Mapping[str, object]:
        return self.candidates[0].data

    def interval_kind(self, interval: str | None = None) -> str:
        """The interval asked for, as :meth:`FitResult.interval_kind`: ``prediction`` needs every
        candidate's noise model; ``None`` is ``prediction`` when they all have one."""
        noisy = all(c.noise is not None for c in self.candidates)
        if interval is None:
            return "prediction" if noisy else "confidence"
        if interval not in INTERVALS:
            raise InputError(f"interval={interval!r}: give prediction or confidence", field="interval")
        if interval == "prediction" and not noisy:
            raise InputError("refit this law average for interval=prediction: it was saved without its "
                             "candidates' noise models; or give interval=confidence", field="interval")
        return interval

    def interval_notes(self, kind: str) -> tuple[str, ...]:
        """What an interval of ``kind`` leaves out, as warnings."""
        if kind == "prediction" and any(c.bootstrap is None for c in self.candidates):
            return ("law average fitted without bootstrap: its prediction interval holds the law form and the "
                    "residual scatter, not the parameter uncertainty; refit with bootstrap= for all three",)
        return ()

    def extrapolation(self, data=None, derived: Mapping[str, object] | None = None, **values) -> tuple[str, ...]:
        return self.candidates[0].extrapolation(data, derived, **values)

    def predict(self, data=None, *, warn: bool = True, **values) -> np.ndarray:
        """The mixture's prediction sum_k w_k f_k (target units); inputs as for :meth:`FitResult.predict`."""
        if warn:
            extrapolation.emit(self.extrapolation(data, **values))
        used = np.flatnonzero(self.weights > 0)
        return sum(self.weights[k] * self.candidates[k].predict(data, warn=False, **values) for k in used)

    def mixture_draws(self, data=None, **values) -> tuple[np.ndarray, np.ndarray] | None:
        """Bootstrap draws of the mixture's prediction, (B, points), each of the candidate drawn by weight,
        and those candidates (B,); None without a bootstrap."""
        boots = [c.bootstrap for c in self.candidates]
        if any(b is None for b in boots):
            return None
        B = min(len(b) for b in boots)
        pick = np.random.default_rng(self.settings.get("seed", 0)).choice(len(boots), size=B, p=self.weights)
        rows = []
        for b, k in enumerate(pick):
            fit = self.candidates[k]
            inputs = fit._inputs(data, **values)
            rows.append(fit.law.evaluate_draws(inputs, fit.bootstrap[b : b + 1])[0])
        return np.array(rows), pick

    def predict_interval(self, data=None, level: float | None = None, *, interval: str = "confidence",
                         warn: bool = True, **values) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The mixture's prediction and its interval at ``level`` (target units).

        ``confidence``: percentiles of the mixture's bootstrap draws (NaN without a bootstrap).
        ``prediction``: the mixture over those draws (or, without a bootstrap, over the candidates'
        fitted values, by weight) of each draw's law with its own residual scatter.
        """
        kind = self.interval_kind(interval)
        value = self.predict(data, warn=warn, **values)
        if warn:
            for text in self.interval_notes(kind):
                warnings.warn(text, UserWarning, stacklevel=2)
        level = level if level is not None else self.level
        drawn = self.mixture_draws(data, **values)
        if kind == "confidence":
            if drawn is None:
                return value, np.full_like(value, np.nan), np.full_like(value, np.nan)
            lo, hi = self.candidates[0].percentiles(drawn[0], level)
            return value, lo, hi
        if drawn is None:
            pick = np.flatnonzero(self.weights > 0)
            rows = np.array([np.ravel(self.candidates[k].predict(data, warn=False, **values)) for k in pick])
            weights = self.weights[pick]
        else:
            rows, pick = drawn
            weights = None
        inputs = [self.candidates[k]._inputs(data, **values) for k in pick]
        scale = np.array([np.ravel(np.broadcast_to(intervals.sigma(self.candidates[k].noise, x), np.shape(value)))
                          for k, x in zip(pick, inputs, strict=True)])
        space = self.law.space
        tail = 0.5 * (1 - level)
        lo, hi = intervals.quantiles(intervals.transform(space, np.reshape(rows, scale.shape)), scale,
                                     (tail, 1 - tail), weights=weights)
        lo, hi = intervals.inverse(space, lo), intervals.inverse(space, hi)
        lo, hi = (hi, lo) if space == "loglog" else (lo, hi)
        return value, lo.reshape(np.shape(value)), hi.reshape(np.shape(value))

    def summary(self) -> pd.DataFrame:
        """One row per candidate: its rolling-origin score (MAPE, %) beside its weight."""
        return self.scores

    def report(self) -> str:
        lines = super().report().split("\n")
        words = INTERVAL_WORDS[self.interval_kind()]
        return "\n".join([lines[0], f"scales by {self.order_by}; intervals: {words}", *lines[1:]])

    def plot(self, ax=None):
        """Each candidate's rolling-origin MAPE and its weight."""
        from scalelaw.plots.averaging import scores

        return scores(self, ax=ax)
