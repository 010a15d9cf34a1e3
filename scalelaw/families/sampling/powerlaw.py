"""The exponentiated power law of coverage, fitted by the engine in a chosen loss space.

``coverage = exp(-A k^-beta)`` with A, beta > 0 (the catalogue law ``sampling.exp_power_law``).  Brown et
al. (2024) write ``log c = a k^b`` with a = -A and b = -beta; both are reported.  The loss space is
an explicit choice, because it changes the answer:

* ``log-coverage`` (default): squared residuals of log coverage on Brown et al.'s 37-point k grid,
  ``unique(int(logspace(0, 4, 40)))``; this is what reproduces their published fits;
* ``coverage``: squared residuals of coverage itself (closer in coverage, about twice tighter);
* ``neglog-loglog``: least squares of ``log(-log coverage)`` on ``log k`` (Schaeffer et al. 2025),
  on their 101-point k grid.

The fit's bootstrap resamples problems, not k points: each replicate curve is refitted
(:func:`scalelaw.engine.fit` with ``bootstrap_targets``).  Brown et al.'s error metric, the mean
and standard deviation of |fit - coverage| at ``unique(int(logspace(0, 4, 100)))``, is recorded.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from scalelaw import engine, protocol
from scalelaw.catalogue.sampling import EXP_POWER_LAW
from scalelaw.errors import FitError, InputError
from scalelaw.families.sampling import passk
from scalelaw.families.sampling.curves import ModelCoverage, percentiles, resample
from scalelaw.laws import Law
from scalelaw.protocol import frozen
from scalelaw.result import FitResult

#: Loss space option -> the engine's residual space.
SPACES = {"log-coverage": "log", "coverage": "linear", "neglog-loglog": "loglog"}
#: Brown et al. (2024), App. C.1: 40 log-spaced points from 1 to 10,000, as integers, deduplicated.
BROWN_GRID = tuple(int(k) for k in np.unique(np.logspace(0, 4, 40).astype(int)))
#: Brown et al.'s evaluation points for the |fit - coverage| error (Fig. 5).
ERROR_GRID = tuple(int(k) for k in np.unique(np.logspace(0, 4, 100).astype(int)))
#: Schaeffer et al. (2025): the 101 k values of their pass@k curves (1 to 10,000).
SCHAEFFER_GRID = (
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 14, 16, 18, 20, 24, 28, 32, 36, 40, 44, 48, 52, 56, 64, 68, 72, 76,
    80, 84, 88, 92, 96, 100, 105, 110, 115, 120, 125, 130, 135, 140, 145, 150, 156, 162, 168, 175, 182,
    189, 193, 200, 216, 233, 267, 300, 333, 367, 400, 433, 467, 500, 550, 600, 650, 700, 750, 800, 850,
    900, 950, 1000, 1067, 1133, 1200, 1367, 1500, 1750, 2000, 2333, 2667, 3000, 3333, 3667, 4000, 4333,
    4667, 5000, 5333, 5667, 6000, 6333, 6667, 7000, 7333, 7667, 8000, 8500, 9000, 9500, 10000,
)
GRIDS = {"brown": BROWN_GRID, "schaeffer": SCHAEFFER_GRID}
DEFAULT_GRID = {"log-coverage": "brown", "coverage": "brown", "neglog-loglog": "schaeffer"}


def coverage_law(space: str = "log-coverage") -> Law:
    """The ``sampling.exp_power_law`` with residuals in the given loss space."""
    if space not in SPACES:
        raise InputError(f"the loss space must be one of {', '.join(SPACES)}, not {space!r}")
    return replace(EXP_POWER_LAW, space=SPACES[space])


def k_grid(grid, space: str, n_min: int) -> tuple[np.ndarray, list[str]]:
    """The k values to fit: a grid name (``brown``, ``schaeffer``; None = the space's preset) or
    values; those above the fewest samples any problem has are dropped (pass@k is undefined)."""
    notes = []
    if grid is None:
        grid = DEFAULT_GRID[space]
    if isinstance(grid, str):
        if grid not in GRIDS:
            raise InputError(f"the k grid must be one of {', '.join(GRIDS)} or a list of k, not {grid!r}")
        ks = np.asarray(GRIDS[grid], dtype=np.int64)
    else:
        ks = np.unique(passk.check_k(grid, name="the k grid"))
    if ks[-1] > n_min:
        notes.append(f"k above {n_min} (the fewest samples of a problem) dropped from the grid")
        ks = ks[ks <= n_min]
    if ks.size < 3:
        raise FitError(f"only {ks.size} grid points have k <= {n_min} samples; a coverage law needs at "
                       "least 3; sample more per problem or give grid= with smaller k")
    return ks, notes


@dataclass(frozen=True)
class PowerLawFit(ModelCoverage, protocol.Result):
    """coverage = exp(-A k^-beta) fitted to one model's coverage curve.

    Attributes
    ----------
    model
        The model's label.
    fit
        The engine's :class:`~scalelaw.result.FitResult` (bootstrap draws over problems).
    curve
        The observed curve the law was fitted to: ``k``, ``coverage``, ``lower``, ``upper``.
    info
        ``space``, ``grid`` (its name, or ``custom``), ``k``, ``n_problems``, ``zero_fraction``
        and ``error`` (Brown's |fit - coverage| ``mean`` and ``std``).
    settings
        The keyword arguments of :func:`fit_model` that made the fit.
    warnings
        Grid points dropped, and what the engine's fit rests on.
    """

    FAMILY = "sampling"
    KIND = "powerlaw"
    TITLE = "coverage = exp(-A k^-beta)"

    model: str
    fit: FitResult
    curve: pd.DataFrame
    info: Mapping[str, object] = field(default_factory=dict)
    settings: Mapping[str, object] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "info", frozen(self.info))

    @property
    def level(self) -> float:
        return self.fit.level

    @property
    def A(self) -> float:
        return float(self.fit.params["A"])

    @property
    def beta(self) -> float:
        return float(self.fit.params["beta"])

    def coverage(self, k) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Predicted coverage at ``k`` samples and its bootstrap percentile interval."""
        ks = np.atleast_1d(np.asarray(k, dtype=float))
        if np.any(~np.isfinite(ks) | (ks < 1)):
            raise InputError(f"k must be >= 1 sample, got {ks.tolist()}")
        return self.fit.predict_interval({"k": ks}, warn=False)

    def samples_for(self, target: float) -> tuple[float, float, float]:
        """k (real) with exp(-A k^-beta) = target: ``(A / -log target)^(1/beta)``, with interval."""
        goal = -math.log(target)
        value, lo, hi = self.fit.derive(lambda p: (p["A"] / goal) ** (1.0 / p["beta"]))
        return float(value), float(np.ravel(lo)[0]), float(np.ravel(hi)[0])

    def summary(self) -> pd.DataFrame:
        """One row (index: the method) of labelled numbers; Brown's a = -A and b = -beta included."""
        iv = self.fit.intervals()
        A_lo, A_hi = iv.get("A", (math.nan, math.nan))
        b_lo, b_hi = iv.get("beta", (math.nan, math.nan))
        error = self.info.get("error", {})
        row = {"A": self.A, "A_lower": A_lo, "A_upper": A_hi, "beta": self.beta,
               "beta_lower": b_lo, "beta_upper": b_hi, "a": -self.A, "b": -self.beta,
               "error_mean": error.get("mean"), "error_std": error.get("std"),
               "n_problems": self.info.get("n_problems"), "zero_fraction": self.info.get("zero_fraction")}
        return pd.DataFrame([row], index=pd.Index([self.KIND], name="method"))



def brown_error(predict, n, c) -> dict:
    """Brown et al.'s metric: mean and std of |predicted - observed coverage| at ERROR_GRID (k <= n)."""
    ks = np.asarray([k for k in ERROR_GRID if k <= int(np.min(n))], dtype=np.int64)
    if ks.size == 0:
        return {"mean": math.nan, "std": math.nan, "points": 0}
    err = np.abs(np.asarray(predict(ks.astype(float)), dtype=float).ravel() - passk.coverage(n, c, ks))
    return {"mean": float(err.mean()), "std": float(err.std()), "points": int(ks.size)}


def _usable(space: str, y: np.ndarray) -> np.ndarray:
    """Coverage values whose residual transform is finite in the loss space."""
    if space == "coverage":
        return np.isfinite(y)
    if space == "log-coverage":
        return y > 0
    return (y > 0) & (y < 1)


def grid_setting(grid):
    """A k grid as a setting: None, a grid name, or a list of int."""
    return grid if grid is None or isinstance(grid, str) else [int(k) for k in np.ravel(grid)]


def draws_for(problems: int, bootstrap: int, seed: int, resamples) -> tuple[np.ndarray | None, dict]:
    """The (B, P) bootstrap counts and the settings that make them again.

    Given ``resamples`` are used (and stored) as they are; otherwise ``bootstrap`` replicates over
    problems are drawn with ``seed``.
    """
    if resamples is None:
        return resample(problems, bootstrap, seed), {"bootstrap": int(bootstrap), "seed": int(seed)}
    if bootstrap:
        raise InputError("give either bootstrap= or resamples=, not both")
    resamples = np.asarray(resamples, dtype=np.int64)
    if resamples.ndim != 2 or resamples.shape[1] != problems:
        raise InputError(f"resamples must have shape (B, {problems}), one count per problem; got "
                         f"{resamples.shape}")
    return resamples, {"resamples": resamples}


def fit_model(model: str, n, c, *, space: str = "log-coverage", grid=None, loss: str = "squared",
              bootstrap: int = 0, seed: int = 0, resamples: np.ndarray | None = None,
              level: float = 0.95) -> PowerLawFit:
    """Fit the coverage law to one model's counts.

    Parameters
    ----------
    n, c
        Samples and correct samples per problem, shape (P,).
    space, grid
        Loss space and k grid (see the module docstring; ``grid=None`` takes the space's preset).
    loss
        The engine's loss on the residuals: ``squared`` (as Brown and Schaeffer) or ``huber``.
    bootstrap, seed
        Replicates of the bootstrap over problems (0: none) and its seed; each replicate curve is
        refitted.
    resamples
        Instead of ``bootstrap``: given (B, P) bootstrap counts of the problems.
    level
        Interval level.
    """
    n, c = np.asarray(n), np.asarray(c)
    law = coverage_law(space)
    draws, drawn = draws_for(len(n), bootstrap, seed, resamples)
    settings = {"space": space, "grid": grid_setting(grid), "loss": loss, **drawn, "level": float(level)}
    ks, notes = k_grid(grid, space, int(n.min()))
    y = passk.coverage(n, c, ks)
    reps = None if draws is None else passk.coverage(n, c, ks, weights=draws)
    usable = _usable(space, y)
    if not usable.all():
        what = "0 or 1" if space == "neglog-loglog" else "0"
        notes.append(f"{int((~usable).sum())} grid points with coverage {what} dropped (not finite in "
                     f"{space} space)")
    if usable.sum() < 3:
        raise FitError(f"model {model!r}: only {int(usable.sum())} grid points have a usable coverage in "
                       f"{space} space; the coverage law needs 3 (is coverage 0 at every k?)")
    table = pd.DataFrame({"k": ks[usable].astype(float), "coverage": y[usable]})
    fit = engine.fit(law, table, loss=loss, level=level,
                     bootstrap_targets=None if reps is None else reps[:, usable])
    if reps is None:
        lo = hi = np.full(ks.size, np.nan)
    else:
        lo, hi = percentiles(reps, level)
    frame = pd.DataFrame({"k": ks.astype(int), "coverage": y, "lower": lo, "upper": hi})
    name = grid if isinstance(grid, str) else (DEFAULT_GRID[space] if grid is None else "custom")
    info = {"space": space, "grid": name, "k": ks.astype(int).tolist(), "n_problems": int(n.size),
            "zero_fraction": float(np.mean(c == 0)),
            "error": brown_error(lambda k: fit.predict({"k": k}), n, c)}
    return PowerLawFit(model, fit, frame, info, settings, (*notes, *fit.warnings))
