"""Extrapolation check: fit on a small sampling budget, predict coverage at a large one.

Three predictions of coverage at ``target_k`` samples per model, each compared with the coverage
observed there on the full data:

* ``powerlaw (k <= m)``: the power law fitted to the full-data curve restricted to k <= m;
* ``powerlaw (m per problem)``: the power law fitted to the curve of a subsample of m samples
  per problem (drawn without replacement, so each count is hypergeometric);
* ``beta-binomial (m per problem)``: the distributional estimator on the same subsample.

A scaling law is judged by how it extrapolates; this is the held-out test of Brown et al.'s and
Schaeffer et al.'s laws on a user's own data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scalelaw.errors import InputError
from scalelaw.families.sampling import passk, powerlaw
from scalelaw.families.sampling.curves import models
from scalelaw.families.sampling.results import beta_binomial_model


def subsample(n, c, m: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Counts of correct samples among m of each problem's n, drawn without replacement."""
    n, c = np.asarray(n), np.asarray(c)
    rng = np.random.default_rng(seed)
    return np.full(n.size, m), rng.hypergeometric(c, n - c, m)


def extrapolation_check(tidy: pd.DataFrame, *, samples: int = 100, target_k: int = 10_000,
                        space: str = "log-coverage", scale="fixed", seed: int = 0) -> pd.DataFrame:
    """Per model, the observed coverage at ``target_k`` and three predictions from ``samples``.

    Returns one row per (model, estimator) with ``observed``, ``predicted``, ``error``
    (predicted - observed) and ``abs_error``.
    """
    samples, target_k = int(samples), int(target_k)
    if samples < 3 or samples >= target_k:
        raise InputError(f"samples={samples} must be at least 3 and below target_k={target_k}")
    rows = []
    grid = [k for k in powerlaw.BROWN_GRID if k <= samples] or None
    for model in models(tidy):
        part = tidy[tidy["model"] == model]
        n, c = part["n_samples"].to_numpy(), part["n_correct"].to_numpy()
        if n.min() < target_k:
            raise InputError(f"model {model!r}: a problem has only {n.min()} samples, so coverage at "
                             f"target_k={target_k} is not observed; choose a smaller target_k=")
        observed = float(passk.coverage(n, c, [target_k])[0])
        small_grid = np.unique(np.concatenate([grid or [], np.geomspace(1, samples, 12).astype(int)]))
        n_sub, c_sub = subsample(n, c, samples, seed)
        predictions = {
            f"powerlaw (k <= {samples})": powerlaw.fit_model(model, n, c, space=space, grid=small_grid),
            f"powerlaw ({samples} per problem)": powerlaw.fit_model(model, n_sub, c_sub, space=space,
                                                                    grid=small_grid),
            f"beta-binomial ({samples} per problem)": beta_binomial_model(model, n_sub, c_sub, scale=scale,
                                                                          grid=small_grid),
        }
        for name, fit in predictions.items():
            value = float(fit.coverage([target_k])[0][0])
            rows.append({"model": model, "estimator": name, "observed": observed, "predicted": value,
                         "error": value - observed, "abs_error": abs(value - observed)})
    return pd.DataFrame(rows)


def exponent_check(tidy: pd.DataFrame, *, samples: int = 100, target_k: int = 10_000, scale="fixed",
                   seed: int = 0) -> pd.DataFrame:
    """Exponents from ``samples`` per problem against the full-data least-squares exponent.

    The reference is the slope b of ``log(-log coverage) = log A - b log k`` fitted to the full data
    on Schaeffer et al.'s grid up to ``target_k``.  From the subsample: the same least-squares slope
    on k <= ``samples``, and the Beta-binomial's window slope over ``1..target_k`` (simulated) and
    its asymptotic alpha (Schaeffer et al.'s Fig. 7 compares such estimates).  Returns one row per
    (model, estimator) with ``reference``, ``estimate`` and ``relative_error``.
    """
    samples, target_k = int(samples), int(target_k)
    if samples < 3 or samples >= target_k:
        raise InputError(f"samples={samples} must be at least 3 and below target_k={target_k}")
    full_grid = [k for k in powerlaw.SCHAEFFER_GRID if k <= target_k]
    small_grid = [k for k in powerlaw.SCHAEFFER_GRID if k <= samples]
    window = tuple(int(k) for k in np.unique(np.logspace(0, np.log10(target_k), 20).astype(int)))
    rows = []
    for model in models(tidy):
        part = tidy[tidy["model"] == model]
        n, c = part["n_samples"].to_numpy(), part["n_correct"].to_numpy()
        reference = powerlaw.fit_model(model, n, c, space="neglog-loglog", grid=full_grid).beta
        n_sub, c_sub = subsample(n, c, samples, seed)
        fit = beta_binomial_model(model, n_sub, c_sub, scale=scale, window=window, grid=small_grid)
        estimates = {
            f"least squares ({samples} per problem)":
                powerlaw.fit_model(model, n_sub, c_sub, space="neglog-loglog", grid=small_grid).beta,
            f"beta-binomial window slope ({samples} per problem)": fit.summary()["window_slope"].iloc[0],
            f"beta-binomial alpha ({samples} per problem)": fit.alpha,
        }
        for name, value in estimates.items():
            rows.append({"model": model, "estimator": name, "reference": reference, "estimate": float(value),
                         "relative_error": abs(float(value) - reference) / reference})
    return pd.DataFrame(rows)
