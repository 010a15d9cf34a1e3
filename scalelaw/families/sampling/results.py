"""Fitting every model of a sampling log: one coverage fit per model, as a :class:`~scalelaw.FitGroup`.

:func:`fit_coverage` fits each model of the tidy count table by one of two methods, ``powerlaw``
(:mod:`.powerlaw`, the engine) or ``beta-binomial`` (:mod:`.distributional`), and returns a
``FitGroup(family="sampling", kind="coverage", key="model")`` whose ``info["method"]`` names the
method.  Both kinds of member answer the same questions: ``coverage(k)``, ``samples_for(target)``
and ``summary()``; :func:`predict` and :func:`summary` ask them of every model.  Files written as
``scalelaw.sampling/1`` still load (through :func:`scalelaw.load`).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import numpy as np
import pandas as pd

from scalelaw import artifact, protocol
from scalelaw.errors import ArtifactError, InputError
from scalelaw.families.sampling import distributional, passk, powerlaw
from scalelaw.families.sampling.curves import models, percentiles
from scalelaw.families.sampling.distributional import BetaBinomialFit
from scalelaw.families.sampling.powerlaw import PowerLawFit
from scalelaw.result import FitGroup, FitResult

#: The schema sampling fits were written with before the result protocol.
LEGACY_SCHEMA = "scalelaw.sampling/1"
KIND = "coverage"
METHODS = ("powerlaw", "beta-binomial")
#: The settings each method takes (besides ``bootstrap``, ``seed`` and ``level``).
METHOD_SETTINGS = {"powerlaw": ("space", "grid", "loss"), "beta-binomial": ("scale", "window", "grid")}
ModelFit = PowerLawFit | BetaBinomialFit


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
    progress=None,
    strict: bool = False,
    jobs: int = 1,
    backend: str = "local",
    scheduler: str | None = None,
) -> FitGroup:
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
        the finite-window slope (the k grid applies too).
    bootstrap, seed, level
        Replicates of the bootstrap over problems (0: none), its seed and the interval level.
    progress
        Called as ``progress(done, total)`` as models (and the Beta-binomial's stages) are fitted in
        this process (``jobs=1``, local).
    strict, jobs, backend, scheduler
        Those of :func:`scalelaw.groups.each`, which fits the models: a model that cannot be fitted
        is skipped with a warning naming it (refused with ``strict``); ``jobs`` local processes or
        a Dask cluster fit models at once, with the numbers of one process.

    Returns
    -------
    A :class:`~scalelaw.FitGroup` of one :class:`.PowerLawFit` or :class:`.BetaBinomialFit` per
    model; ``settings`` holds the arguments the method uses, ``info`` the method.
    """
    if method not in METHODS:
        raise InputError(f"method= must be one of {', '.join(METHODS)}, not {method!r}")
    if not 0 < level < 1:
        raise InputError(f"level={level} must be in (0, 1)")
    given = {"space": space, "grid": powerlaw.grid_setting(grid), "loss": loss, "scale": scale,
             "window": [int(k) for k in window]}
    common = {"bootstrap": int(bootstrap), "seed": int(seed), "level": float(level)}
    each = {name: given[name] for name in METHOD_SETTINGS[method]} | common
    if method == "powerlaw":
        powerlaw.coverage_law(space)  # refuse a bad space before any work
    else:
        distributional.check_scale(scale)
    from scalelaw import groups, parallel

    here = parallel.in_process(jobs, backend)
    one = functools.partial(_fit_model, method=method, settings=each, names=models(tidy),
                            progress=progress if here else None)
    fitted = groups.each(one, tidy, by="model", strict=strict, jobs=jobs, backend=backend, scheduler=scheduler,
                         label="model")
    return _group(method, fitted.fits, {"method": method, **each}, skipped=fitted.info["skipped"])


def _fit_model(part: pd.DataFrame, *, method: str, settings: Mapping, names: list[str], progress) -> ModelFit:
    """The coverage fit of one model's rows (``names``: every model, for the progress of the whole run)."""
    model = str(part["model"].iloc[0])
    index = names.index(model)
    n, c = part["n_samples"].to_numpy(), part["n_correct"].to_numpy()
    if method == "beta-binomial":
        return beta_binomial_model(model, n, c, **settings, progress=_share(progress, index, len(names)))
    fit = powerlaw.fit_model(model, n, c, **settings)
    if progress is not None:
        progress(index + 1, len(names))
    return fit


def _share(progress, index: int, count: int):
    """Model ``index`` of ``count``'s own ``progress(done, total)`` mapped onto the whole run."""
    if progress is None:
        return None
    return lambda done, total: progress(index * total + done, count * total)


def _group(method: str, fits: Mapping[str, ModelFit], settings: Mapping, skipped: Mapping | None = None) -> FitGroup:
    warnings = [f"{reason}; skipped" for reason in (skipped or {}).values()]
    warnings += [f"{model}: {text}" for model, fit in fits.items() for text in fit.warnings]
    info = {"method": method, "bootstrap_over": "problems"} | ({"skipped": dict(skipped)} if skipped else {})
    return FitGroup("sampling", KIND, fits, key="model", settings=settings, info=info, warnings=warnings)


def beta_binomial_model(model: str, n, c, *, scale="fixed", window=distributional.WINDOW, grid=None,
                        bootstrap: int = 0, seed: int = 0, resamples: np.ndarray | None = None,
                        level: float = 0.95, progress=None) -> BetaBinomialFit:
    """The distributional estimator for one model, with its observed curve and error metric.

    ``bootstrap`` replicates over problems drawn with ``seed`` (or given ``resamples``, (B, P)
    counts) are refitted for the intervals; ``grid`` gives the k of the observed curve.
    """
    n, c = np.asarray(n), np.asarray(c)
    draws, drawn = powerlaw.draws_for(len(n), bootstrap, seed, resamples)
    settings = {"scale": scale, "window": [int(k) for k in window], "grid": powerlaw.grid_setting(grid),
                **drawn, "level": float(level)}
    estimate = distributional.maximum_likelihood(n, c, scale=scale, resamples=draws, progress=progress)
    ks, notes = powerlaw.k_grid(grid, "log-coverage", int(n.min()))
    y = passk.coverage(n, c, ks)
    if draws is None:
        lo = hi = np.full(ks.size, np.nan)
    else:
        lo, hi = percentiles(passk.coverage(n, c, ks, weights=draws), level)
    zero = float(np.mean(c == 0))
    if zero >= 0.5:
        notes.append(f"{100 * zero:.0f}% of problems have no correct sample: the left tail of pass@1, "
                     "and so alpha, rests on few problems")
    if estimate["diagnostics"]["at_bound"]:
        notes.append(f"at a bound: {', '.join(estimate['diagnostics']['at_bound'])}")
    info = {"n_problems": int(n.size), "zero_fraction": zero, "level": float(level),
            "scale_rule": scale if isinstance(scale, str) else "given", "window": [int(k) for k in window],
            "k": ks.astype(int).tolist(), "diagnostics": estimate["diagnostics"]}
    curve = pd.DataFrame({"k": ks.astype(int), "coverage": y, "lower": lo, "upper": hi})
    fit = BetaBinomialFit(model, estimate["alpha"], estimate["beta"], estimate["scale"], estimate["draws"],
                          curve, info)
    error = powerlaw.brown_error(lambda k: fit.coverage(k)[0], n, c)
    return BetaBinomialFit(fit.model, fit.alpha, fit.beta, fit.scale, fit.draws, fit.curve,
                           dict(info) | {"error": error}, settings, tuple(notes))


# ------------------------------------------------------------------------------------ questions
def coverage_group(result, *, source: str = "the result") -> FitGroup:
    """``result`` when it is a sampling coverage fit (a :class:`~scalelaw.FitGroup` of this family)."""
    if not (isinstance(result, FitGroup) and result.family == "sampling" and result.kind == KIND):
        what = (f"a {result.family} {result.kind} group" if isinstance(result, FitGroup)
                else f"a {getattr(result, 'FAMILY', type(result).__name__)} {getattr(result, 'KIND', '')}".rstrip())
        raise InputError(f"{source} is {what}, not a sampling coverage fit; give the result of "
                         "sampling.fit_coverage, or the fit artifact it saved")
    return result


def predict(group: FitGroup, k) -> pd.DataFrame:
    """Predicted coverage per model at each k, with bootstrap percentile intervals.

    One row per (model, k): ``model``, ``k``, ``coverage``, ``lower``, ``upper``.
    """
    rows = []
    for model, fit in coverage_group(group).items():
        value, lo, hi = fit.coverage(k)
        for kk, v, a, b in zip(np.atleast_1d(k), value, lo, hi, strict=True):
            rows.append({"model": model, "k": float(kk), "coverage": float(v), "lower": float(a),
                         "upper": float(b)})
    return pd.DataFrame(rows)


def summary(group: FitGroup) -> pd.DataFrame:
    """One row per model: the fitted numbers (with intervals) and the error metric."""
    return coverage_group(group).summary().droplevel("method")


# ------------------------------------------------------------------------------- older artifacts
@protocol.legacy(LEGACY_SCHEMA)
def _read_legacy(payload: dict, source: str) -> FitGroup:
    """A ``scalelaw.sampling/1`` file (one fit per model, its notes) as the coverage group."""
    payload = artifact.check(payload, schema=LEGACY_SCHEMA, source=source)
    try:
        method = payload["method"]
        old = payload.get("settings", {})
        each = {k: old[k] for k in (*METHOD_SETTINGS[method], "bootstrap", "seed", "level") if k in old}
        fits = {}
        for name, d in payload["models"].items():
            info = {k: v for k, v in d.get("info", {}).items() if k != "notes"}
            notes = tuple(d.get("info", {}).get("notes", ()))
            curve = None if d.get("curve") is None else pd.DataFrame(d["curve"])
            if method == "powerlaw":
                fits[name] = PowerLawFit(str(d["model"]), FitResult.from_dict(d["fit"], source=source), curve,
                                         info, each, notes)
            else:
                draws = None if d.get("draws") is None else np.asarray(d["draws"], dtype=float)
                fits[name] = BetaBinomialFit(str(d["model"]), float(d["alpha"]), float(d["beta"]),
                                             float(d["scale"]), draws, curve, info, each, notes)
        return _group(method, fits, {"method": method, **each})
    except (KeyError, TypeError, ValueError) as err:
        raise ArtifactError(f"{source}: the sampling fit artifact is incomplete ({err!r})") from err
