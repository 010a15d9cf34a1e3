"""Sample budgets: how many samples per problem reach a target coverage, and what they cost.

For a fitted model (either method), the samples per problem k* that reach a target coverage come
from the fit (closed form for the power law, ``k* = (A / -log target)^(1/beta)``; a root of the
simulated curve for the Beta-binomial), with a bootstrap interval.  Drawing whole samples means
``ceil(k*)`` per problem; with a cost per sample, the cost per problem and for all problems
follow, so models can be compared: a cheap model with many samples against a strong model with
one (Brown et al. 2024, Table 1).

Examples
--------
>>> table = cost_table({"DeepSeek": 5, "GPT-4o": 1}, {"DeepSeek": 0.0072, "GPT-4o": 0.13}, problems=300)
>>> table["total_cost"].round(2).tolist()
[10.8, 39.0]
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scalelaw import extrapolation, protocol
from scalelaw.errors import ArtifactError, InputError
from scalelaw.families.sampling.results import coverage_group


def check_target(target: float) -> float:
    target = float(target)
    if not 0 < target < 1:
        raise InputError(f"target={target:g} must be a coverage strictly between 0 and 1")
    return target


def _costs(models, cost_per_sample) -> dict[str, float]:
    """Cost per sample for each model: one number for all, a mapping by model, or None (NaN)."""
    if cost_per_sample is None:
        return {m: math.nan for m in models}
    if isinstance(cost_per_sample, Mapping):
        unknown = sorted(set(cost_per_sample) - set(models))
        if unknown:
            raise InputError(f"the costs name {', '.join(map(repr, unknown))}, not a model of the fit; "
                             f"models: {', '.join(map(repr, models))}")
        out = {m: float(cost_per_sample.get(m, math.nan)) for m in models}
    else:
        out = {m: float(cost_per_sample) for m in models}
    bad = [m for m, v in out.items() if not (math.isnan(v) or (math.isfinite(v) and v >= 0))]
    if bad:
        raise InputError(f"cost per sample of {bad[0]!r} must be a number >= 0, got {out[bad[0]]}")
    return out


def cost_table(samples: Mapping[str, float], cost_per_sample, *, problems) -> pd.DataFrame:
    """Cost per problem and in total for given samples per problem (one row per model)."""
    costs = _costs(list(samples), cost_per_sample)
    counts = problems if isinstance(problems, Mapping) else {m: problems for m in samples}
    rows = []
    for model, k in samples.items():
        rows.append({"model": model, "samples": k, "cost_per_sample": costs[model],
                     "cost_per_problem": k * costs[model], "problems": counts[model],
                     "total_cost": k * costs[model] * counts[model]})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class SamplingPlan(protocol.Result):
    """Samples per problem (and their cost) that reach a target coverage, per model.

    Attributes
    ----------
    table
        One row per model, cheapest first when costs are given (else fewest samples first):
        ``target``, ``k`` (real k*), ``k_lower``/``k_upper``, ``samples`` = ceil(k*), ``coverage``
        predicted at ``samples``, ``cost_per_sample``, ``cost_per_problem`` with its bounds from the
        k* interval, ``problems`` and ``total_cost``.
    method
        The coverage fit's method (``powerlaw`` or ``beta-binomial``).
    level
        The level of the k* interval (the fit's).
    settings
        The keyword arguments of :func:`plan`: ``target``, ``cost_per_sample``, ``problems``.
    warnings
        Models whose target is not reached within 1e15 samples, or needs more samples per problem
        than were drawn (with the factor).
    """

    FAMILY = "sampling"
    KIND = "plan"
    TITLE = "samples per problem for a target coverage"

    table: pd.DataFrame
    method: str
    level: float
    settings: Mapping[str, object] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


    @property
    def target(self) -> float:
        return float(self.settings["target"])

    def summary(self) -> pd.DataFrame:
        """The plan's table, one row per model (index: the model)."""
        return self.table.set_index("model")

    def plot(self, ax=None):
        """Samples per problem for the target, per model, with the k* interval."""
        from scalelaw.plots.sampling import plan_bars

        return plan_bars(self, ax=ax)


def plan(fit, target: float, *, cost_per_sample=None, problems: int | None = None) -> SamplingPlan:
    """Samples per problem for ``target`` coverage, per model of a coverage fit.

    Parameters
    ----------
    fit
        A sampling coverage fit (:func:`.results.fit_coverage`: power law or Beta-binomial per model).
    target
        Coverage to reach, in (0, 1).
    cost_per_sample
        Cost of one sample (any currency or unit): one number, a mapping by model, or None.
    problems
        Number of problems to budget for (default: each model's number of fitted problems).

    Returns
    -------
    A :class:`SamplingPlan` whose ``table`` has one row per model (see there).
    """
    fit = coverage_group(fit, source="the fit")
    target = check_target(target)
    if problems is not None and (problems < 1 or problems != int(problems)):
        raise InputError(f"problems={problems} must be a positive whole number")
    costs = _costs(list(fit.fits), cost_per_sample)
    rows, warnings, beyond = [], [], []
    for model, f in fit.fits.items():
        k, lo, hi = f.samples_for(target)
        count = int(problems) if problems is not None else int(f.info.get("n_problems", 1))
        samples = math.ceil(k - 1e-9) if math.isfinite(k) else math.inf
        reachable = math.isfinite(samples) and samples < 1e15
        if not reachable:
            warnings.append(f"{model}: coverage {target:g} is not reached within 1e15 samples per problem")
        reached = float(f.coverage([samples])[0][0]) if reachable else math.nan
        far = [f"{model}: {text}" for text in beyond_drawn(f, samples)]
        warnings += far
        beyond += far
        price = costs[model]
        rows.append({"model": model, "target": target, "k": k, "k_lower": lo, "k_upper": hi,
                     "samples": samples, "coverage": reached, "cost_per_sample": price,
                     "cost_per_problem": samples * price,
                     "cost_per_problem_lower": math.ceil(lo) * price if math.isfinite(lo) else lo,
                     "cost_per_problem_upper": math.ceil(hi) * price if math.isfinite(hi) else hi,
                     "problems": count, "total_cost": samples * price * count})
    frame = pd.DataFrame(rows)
    order = "total_cost" if cost_per_sample is not None else "samples"
    table = frame.sort_values(order, kind="stable").reset_index(drop=True)
    settings = {"target": target, "cost_per_sample": dict(cost_per_sample) if isinstance(cost_per_sample, Mapping)
                else cost_per_sample, "problems": problems}
    extrapolation.emit(beyond)
    return SamplingPlan(table, str(fit.info.get("method")), fit.level, settings, tuple(warnings))


def beyond_drawn(fit, samples) -> tuple[str, ...]:
    """Samples per problem beyond the most drawn per problem (the largest k of the fitted curve)."""
    ks = fit.info.get("k")
    ks = ks if isinstance(ks, list | tuple) else []
    if not all(isinstance(k, int | float) and not isinstance(k, bool) for k in ks):
        raise ArtifactError("the sampling fit's info.k must list the numbers of samples it was fitted on; "
                            "write it again with this scalelaw")
    drawn = [float(k) for k in ks]
    if not drawn:
        return ()
    return extrapolation.check({"k": [min(drawn), max(drawn)]}, {"k": samples},
                               names={"k": "samples per problem"}, of="drawn")


def coverage_at(fit, samples, *, cost_per_sample=None, problems: int | None = None) -> pd.DataFrame:
    """Predicted coverage (with interval) and cost at given samples per problem, per model.

    Samples beyond those drawn per problem raise an :class:`~scalelaw.ExtrapolationWarning`.
    """
    ks = np.atleast_1d(np.asarray(samples, dtype=float))
    if np.any(~np.isfinite(ks) | (ks < 1) | (ks != np.round(ks))):
        raise InputError(f"samples={ks.tolist()} must be positive whole numbers")
    costs = _costs(list(fit.fits), cost_per_sample)
    rows = []
    for model, f in fit.fits.items():
        extrapolation.emit(f"{model}: {text}" for text in beyond_drawn(f, ks))
        value, lo, hi = f.coverage(ks)
        count = int(problems) if problems is not None else int(f.info.get("n_problems", 1))
        for k, v, a, b in zip(ks, value, lo, hi, strict=True):
            rows.append({"model": model, "samples": int(k), "coverage": float(v), "lower": float(a),
                         "upper": float(b), "cost_per_problem": k * costs[model], "problems": count,
                         "total_cost": k * costs[model] * count})
    return pd.DataFrame(rows)
