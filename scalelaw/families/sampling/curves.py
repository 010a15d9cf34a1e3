"""Coverage curves per model, with percentile intervals from a bootstrap over problems.

A replicate draws the model's P problems with replacement; its curve is the weighted mean of the
problems' pass@k (:func:`.passk.coverage` with the draw counts as weights), so B replicates cost
one matrix product.  Every model's problem positions are resampled with the same seed, so when
the models list the same problems in the same order, the replicates are paired across models.

Examples
--------
>>> import pandas as pd
>>> tidy = pd.DataFrame({"model": ["m", "m"], "problem": ["1", "2"], "n_samples": [10, 10],
...                      "n_correct": [0, 5]})
>>> coverage_table(tidy, [1, 2])[["model", "k", "coverage"]].round(6).to_dict("list")
{'model': ['m', 'm'], 'k': [1, 2], 'coverage': [0.25, 0.388889]}
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from scalelaw.errors import InputError
from scalelaw.families.sampling import passk


def resample(problems: int, replicates: int, seed: int) -> np.ndarray | None:
    """(B, P) counts of each problem in B draws of P problems with replacement (None for B = 0)."""
    if replicates < 0:
        raise InputError(f"bootstrap={replicates} must be >= 0")
    if replicates == 0:
        return None
    rng = np.random.default_rng(seed)
    return rng.multinomial(problems, np.full(problems, 1.0 / problems), size=replicates)


def percentiles(samples: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper percentile bounds over the first axis, ignoring NaN draws."""
    if not 0 < level < 1:
        raise InputError(f"the interval level must be in (0, 1), got {level}")
    tail = 50 * (1 - level)
    samples = np.asarray(samples, dtype=float)
    lo = np.full(samples.shape[1:], np.nan)
    hi = lo.copy()
    some = np.any(np.isfinite(samples), axis=0)  # columns of only failed draws stay NaN
    if np.any(some):
        bounds = np.nanpercentile(samples[:, some], [tail, 100 - tail], axis=0)
        lo[some], hi[some] = bounds[0], bounds[1]
    return lo, hi


@dataclass(frozen=True)
class Curve:
    """One model's curve at ``k``: value, interval bounds and the replicate curves (B, K) or None."""

    k: np.ndarray
    value: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    replicates: np.ndarray | None


def curve(n, c, k, *, bootstrap: int = 0, seed: int = 0, level: float = 0.95, complement: bool = False,
          undefined: str = "raise") -> Curve:
    """Coverage (mean pass@k, or pass^k with ``complement``) of one model at ``k``, with intervals."""
    ks = passk.check_k(k)
    value = passk.coverage(n, c, ks, undefined=undefined, complement=complement)
    draws = resample(len(n), bootstrap, seed)
    if draws is None:
        nan = np.full(ks.size, np.nan)
        return Curve(ks, value, nan, nan.copy(), None)
    reps = passk.coverage(n, c, ks, weights=draws, undefined="nan" if undefined == "nan" else "raise",
                          complement=complement)
    lo, hi = percentiles(reps, level)
    return Curve(ks, value, lo, hi, reps)


def models(tidy: pd.DataFrame) -> list[str]:
    """Model labels in the order they first appear."""
    return list(dict.fromkeys(tidy["model"]))


def coverage_table(tidy: pd.DataFrame, k, *, bootstrap: int = 0, seed: int = 0, level: float = 0.95,
                   undefined: str = "raise") -> pd.DataFrame:
    """pass@k and pass^k per model and k, with bootstrap-over-problems percentile intervals.

    Returns one row per (model, k): ``coverage`` (mean pass@k) and its ``lower``/``upper``,
    ``pass_all`` (mean pass^k) and its bounds, and ``problems``.
    """
    rows = []
    for model in models(tidy):
        part = tidy[tidy["model"] == model]
        n, c = part["n_samples"].to_numpy(), part["n_correct"].to_numpy()
        try:
            at = curve(n, c, k, bootstrap=bootstrap, seed=seed, level=level, undefined=undefined)
        except InputError as err:
            raise InputError(f"model {model!r}: {err}") from err
        every = curve(n, c, k, bootstrap=bootstrap, seed=seed, level=level, undefined=undefined,
                      complement=True)
        for j, kk in enumerate(at.k):
            rows.append({"model": model, "k": int(kk), "coverage": at.value[j], "lower": at.lower[j],
                         "upper": at.upper[j], "pass_all": every.value[j], "pass_all_lower": every.lower[j],
                         "pass_all_upper": every.upper[j], "problems": int(len(part))})
    return pd.DataFrame(rows)


class ModelCoverage:
    """What the coverage fits of one model (power law, Beta-binomial) share: their text and figure."""

    def report(self) -> str:
        """The fit as text: its title, one line per number, its warnings."""
        numbers = self.summary().iloc[0]
        lines = [f"{self.TITLE}: model {self.model}"]
        lines += [f"  {name:<22} {value:.6g}" if isinstance(value, float) else f"  {name:<22} {value}"
                  for name, value in numbers.items()]
        lines += [f"warning: {w}" for w in self.warnings]
        return "\n".join(lines)

    def plot(self, ax=None):
        """The observed coverage curve with its band and the fitted curve, extrapolated dashed."""
        from scalelaw.plots.sampling import coverage_curves

        return coverage_curves({self.model: self}, ax=ax)
