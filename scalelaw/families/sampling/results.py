"""Fitting every model of a sampling log, and the ``scalelaw.sampling/1`` artifact.

:func:`fit_coverage` fits each model of the tidy count table by one of two methods, ``powerlaw``
(:mod:`.powerlaw`, the engine) or ``beta-binomial`` (:mod:`.distributional`), and returns a frozen
:class:`SamplingFit`.  Both kinds of per-model fit answer the same questions: ``coverage(k)``,
``samples_for(target)`` and ``row()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import pandas as pd

from scalelaw import artifact
from scalelaw.errors import ArtifactError, InputError
from scalelaw.families.sampling import distributional, passk, powerlaw
from scalelaw.families.sampling.curves import models, percentiles, resample
from scalelaw.families.sampling.distributional import BetaBinomialFit
from scalelaw.families.sampling.powerlaw import PowerLawFit

SCHEMA = "scalelaw.sampling/1"
METHODS = ("powerlaw", "beta-binomial")
ModelFit = PowerLawFit | BetaBinomialFit


@dataclass(frozen=True)
class SamplingFit(artifact.JsonArtifact):
    """One coverage fit per model, the settings used, and notes on what was dropped or derived."""

    SCHEMA = SCHEMA

    method: str
    fits: Mapping[str, ModelFit]
    settings: Mapping[str, object] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "fits", MappingProxyType(dict(self.fits)))
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))
        object.__setattr__(self, "notes", tuple(self.notes))

    @property
    def level(self) -> float:
        return float(self.settings.get("level", 0.95))

    def __getitem__(self, model: str) -> ModelFit:
        if model not in self.fits:
            raise InputError(f"no model {model!r} in the fit; it has {', '.join(map(repr, self.fits))}")
        return self.fits[model]

    def summary(self) -> pd.DataFrame:
        """One row per model: the fitted numbers (with intervals) and the error metric."""
        return pd.DataFrame([fit.row() for fit in self.fits.values()]).set_index("model")

    def predict(self, k) -> pd.DataFrame:
        """Predicted coverage per model at each k, with bootstrap percentile intervals."""
        rows = []
        for model, fit in self.fits.items():
            value, lo, hi = fit.coverage(k)
            for kk, v, a, b in zip(np.atleast_1d(k), value, lo, hi, strict=True):
                rows.append({"model": model, "k": float(kk), "coverage": float(v), "lower": float(a),
                             "upper": float(b)})
        return pd.DataFrame(rows)

    # ------------------------------------------------------------------ artifact
    def to_dict(self) -> dict:
        return {**artifact.header("sampling-fit", SCHEMA), "method": self.method,
                "settings": dict(self.settings), "notes": list(self.notes),
                "models": {name: fit.to_dict() for name, fit in self.fits.items()}}


    @classmethod
    def from_dict(cls, payload: Mapping, *, source: str = "artifact") -> SamplingFit:
        payload = artifact.check(dict(payload), schema=SCHEMA, source=source)
        try:
            kinds = {"powerlaw": PowerLawFit, "beta-binomial": BetaBinomialFit}
            fits = {name: kinds[d["method"]].from_dict(d) for name, d in payload["models"].items()}
            return cls(method=payload["method"], fits=fits, settings=payload.get("settings", {}),
                       notes=tuple(payload.get("notes", ())))
        except (KeyError, TypeError, ValueError) as err:
            raise ArtifactError(f"{source}: the sampling fit artifact is incomplete ({err!r})") from err



def fit_coverage(
    tidy: pd.DataFrame,
    *,
    method: str = "powerlaw",
    space: str = "log-coverage",
    grid=None,
    loss: str = "squared",
    scale="fixed",
    window=distributional.WINDOW,
    bootstrap: int = 200,
    seed: int = 0,
    level: float = 0.95,
) -> SamplingFit:
    """Fit a coverage model to every model of a tidy count table (see :mod:`.counts`).

    Parameters
    ----------
    method
        ``powerlaw`` (exp(-A k^-beta) by the engine) or ``beta-binomial`` (the distributional
        estimator).
    space, grid, loss
        For ``powerlaw``: the loss space (``log-coverage``, ``coverage``, ``neglog-loglog``), the
        k grid (``brown``, ``schaeffer`` or values; None = the space's preset) and the residual loss.
    scale, window
        For ``beta-binomial``: the scale rule (``fixed``, ``ml`` or a number) and the k window of
        the finite-window slope.
    bootstrap, seed, level
        Replicates of the bootstrap over problems (0: none), its seed and the interval level.
    """
    if method not in METHODS:
        raise InputError(f"method= must be one of {', '.join(METHODS)}, not {method!r}")
    if not 0 < level < 1:
        raise InputError(f"level={level} must be in (0, 1)")
    settings = {"method": method, "space": space if method == "powerlaw" else None,
                "grid": grid if grid is None or isinstance(grid, str) else [int(k) for k in grid],
                "loss": loss if method == "powerlaw" else None,
                "scale": scale if method == "beta-binomial" else None,
                "window": list(window) if method == "beta-binomial" else None,
                "bootstrap": int(bootstrap), "seed": int(seed), "level": float(level),
                "bootstrap_over": "problems"}
    if method == "powerlaw":
        powerlaw.coverage_law(space)  # refuse a bad space before any work
    fits: dict[str, ModelFit] = {}
    notes: list[str] = []
    for model in models(tidy):
        part = tidy[tidy["model"] == model]
        n, c = part["n_samples"].to_numpy(), part["n_correct"].to_numpy()
        draws = resample(len(n), bootstrap, seed)
        if method == "powerlaw":
            fit = powerlaw.fit_model(model, n, c, space=space, grid=grid, loss=loss, resamples=draws,
                                     level=level)
        else:
            fit = beta_binomial_model(model, n, c, scale=scale, window=window, grid=grid, resamples=draws,
                                      level=level)
        fits[model] = fit
        notes.extend(f"{model}: {text}" for text in fit.info.get("notes", ()))
    return SamplingFit(method, fits, settings, tuple(notes))


def beta_binomial_model(model: str, n, c, *, scale="fixed", window=distributional.WINDOW, grid=None,
                        resamples: np.ndarray | None = None, level: float = 0.95) -> BetaBinomialFit:
    """The distributional estimator for one model, with its observed curve and error metric."""
    n, c = np.asarray(n), np.asarray(c)
    estimate = distributional.maximum_likelihood(n, c, scale=scale, resamples=resamples)
    ks, notes = powerlaw.k_grid(grid, "log-coverage", int(n.min()))
    y = passk.coverage(n, c, ks)
    if resamples is None:
        lo = hi = np.full(ks.size, np.nan)
    else:
        lo, hi = percentiles(passk.coverage(n, c, ks, weights=resamples), level)
    zero = float(np.mean(c == 0))
    if zero >= 0.5:
        notes.append(f"{100 * zero:.0f}% of problems have no correct sample: the left tail of pass@1, "
                     "and so alpha, rests on few problems")
    if estimate["diagnostics"]["at_bound"]:
        notes.append(f"at a bound: {', '.join(estimate['diagnostics']['at_bound'])}")
    info = {"n_problems": int(n.size), "zero_fraction": zero, "level": float(level),
            "scale_rule": scale if isinstance(scale, str) else "given", "window": [int(k) for k in window],
            "k": ks.astype(int).tolist(), "diagnostics": estimate["diagnostics"], "notes": notes}
    fit = BetaBinomialFit(model, estimate["alpha"], estimate["beta"], estimate["scale"], estimate["draws"],
                          pd.DataFrame({"k": ks.astype(int), "coverage": y, "lower": lo, "upper": hi}), info)
    error = powerlaw.brown_error(lambda k: fit.coverage(k)[0], n, c)
    return BetaBinomialFit(fit.model, fit.alpha, fit.beta, fit.scale, fit.draws, fit.curve,
                           dict(info) | {"error": error})
