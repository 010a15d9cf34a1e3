"""Observational scaling (Ruan et al. 2024): capabilities from public benchmark scores.

Public models of many families are placed in one low-dimensional capability space: the principal
components (PCs) of their scores on a standard set of benchmarks.  A target benchmark is then a
sigmoid of a linear function of the PCs,

    y = (1 - b) sigmoid(c + w . PC) + b        with b in [0, 0.2] (a floor such as chance),

fitted on the models trained with less compute than a cutoff and judged on the models above it.

The pipeline follows the paper's code: missing scores are filled by an iterative rank-1 PCA
reconstruction in standardised units (standardised with the training models, iterated until no
filled cell moves by more than 1e-4, then clipped to [0, 1]); the PCA itself is fitted on the
filled training scores, unstandardised; models above the cutoff are filled and projected with
what the training models gave.  Each component's sign is chosen so that its loadings sum to a
positive number (PC1 grows with capability).  The link is fitted by the engine (squared error,
as ``curve_fit``), and so is the same link on log10 compute alone, the baseline the PCs must beat.

Examples
--------
>>> link_law(2).formula
'(1 - b) / (1 + exp(-(c + w1 * PC1 + w2 * PC2))) + b'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from scalelaw import engine, protocol
from scalelaw.catalogue.downstream import FLOOR_MAX, observational_sigmoid
from scalelaw.errors import FitError, InputError
from scalelaw.io import Table, canonical_name, read_table
from scalelaw.result import FitResult, error_metrics

#: ObsScaling metadata headers -> (canonical column, scale to natural units).
UNIT_COLUMNS = {"model size (b)": ("params", 1e9), "pretraining data size (t)": ("tokens", 1e12),
                "flops (1e21)": ("flops", 1e21), "model family": ("family", None), "model": ("model", None)}
_UNIT = re.compile(r"^(?P<name>.*?)\s*\((?P<unit>[0-9.]+[eE][+-]?[0-9]+|[kKMBGTP])\)\s*$")
_SUFFIX = {"k": 1e3, "K": 1e3, "M": 1e6, "B": 1e9, "G": 1e9, "T": 1e12, "P": 1e15}
FAMILY_CORRELATION = 0.9


# -------------------------------------------------------------------------------------- reading
@dataclass(frozen=True)
class Benchmarks:
    """A model x benchmark matrix: ``frame`` has ``model``, ``family``, ``flops`` (NaN when
    unknown) and one column per benchmark (scores, NaN when missing); ``metrics`` names those."""

    frame: pd.DataFrame
    metrics: tuple[str, ...]
    path: str
    notes: tuple[str, ...] = field(default_factory=tuple)


def _meta_name(column: str) -> tuple[str | None, float | None]:
    key = column.strip().lower()
    if key in UNIT_COLUMNS:
        return UNIT_COLUMNS[key]
    match = _UNIT.match(column)
    if match:
        canon = canonical_name(match["name"])
        unit = match["unit"]
        scale = _SUFFIX[unit] if unit in _SUFFIX else float(unit)
        if canon in ("params", "tokens", "flops"):
            return canon, scale
    canon = canonical_name(column)
    if canon in ("params", "tokens", "flops", "model"):
        return canon, 1.0 if canon != "model" else None
    if key == "family":
        return "family", None
    return None, None


def _cells(table: Table, column: str) -> np.ndarray:
    """Numbers of a column; empty cells are NaN (missing), any other text is an error."""
    raw = table.frame[column].astype(str).str.strip()
    values = pd.to_numeric(raw.where(raw != "", None), errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero((np.isnan(values) & (raw != "").to_numpy()) | np.isinf(values))
    if bad.size:
        row = int(table.frame.index[bad[0]])
        raise table.error(f"{table.frame[column].iloc[bad[0]]!r} is not a score; leave missing scores empty",
                          row=row, column=column)
    return values


def read_benchmarks(path: str | Path, *, target_file: str | Path | None = None, format: str | None = None,
                    metric: str = "acc", **harness_options) -> Benchmarks:
    """Read a benchmark matrix (one row per model), optionally joining target scores by model.

    Metadata columns are recognised by name: ``Model``/``model``, ``Model Family``/``family``,
    and compute as ``flops``, ``FLOPs (1E21)`` (a unit in parentheses scales the values),
    or ``params`` and ``tokens`` (FLOPs = 6 N D), e.g. ``Model Size (B)`` and
    ``Pretraining Data Size (T)``.  Every other column is a benchmark score.

    A folder of lm-evaluation-harness v0.4 results (or ``format="lm-eval"``) gives one column per
    task holding ``metric``; ``harness_options`` (``manifest``, ``params``, ``tokens``, ``columns``)
    go to :func:`~scalelaw.families.downstream.harness.read_results`.
    """
    from scalelaw.families.downstream import harness

    if format not in (None, "table", harness.FORMAT):
        raise InputError(f"format={format!r} is not 'table' or {harness.FORMAT!r}")
    if format == harness.FORMAT or (format is None and harness.is_results(path)):
        frame, metrics, notes = _harness_matrix(harness.read_results(path, **harness_options), metric)
    elif harness_options:
        raise InputError(f"{', '.join(f'{k}=' for k in harness_options)} apply to lm-evaluation-harness "
                         "results; a benchmark table carries its sizes in its columns")
    else:
        frame, metrics, notes = _matrix(read_table(path, rename=False))
    if target_file is not None:
        extra = read_table(target_file, rename=False)
        other, other_metrics, _ = _matrix(extra)
        duplicated = other["model"].duplicated()
        if duplicated.any():
            row = int(other.index[np.flatnonzero(duplicated.to_numpy())[0]])
            raise extra.error(f"model {other.loc[row, 'model']!r} appears twice", row=row, column="model")
        joined = other.set_index("model")[list(other_metrics)]
        clash = [m for m in other_metrics if m in metrics]
        if clash:
            raise extra.error(f"benchmark {clash[0]!r} is in both files; rename one")
        frame = frame.join(joined, on="model")
        missing = int(frame[list(other_metrics)].isna().all(axis=1).sum())
        notes.append(f"joined {len(other_metrics)} target benchmark(s) from {target_file} by model "
                     f"({missing} model(s) have none)")
        metrics = metrics + tuple(other_metrics)
    return Benchmarks(frame, metrics, str(path), tuple(notes))


def _harness_matrix(results, metric: str) -> tuple[pd.DataFrame, tuple[str, ...], list[str]]:
    wide, tasks, skipped = results.matrix(metric)
    frame = wide[["model", "family", "flops", *tasks]].copy()
    frame["flops"] = frame["flops"].astype(float)
    notes = [*results.notes, f"scores: {metric!r} of each task"]
    if skipped:
        notes.append(f"{len(skipped)} task(s) without {metric!r} left out: {', '.join(skipped)}")
    return frame, tasks, notes


def _matrix(table: Table) -> tuple[pd.DataFrame, tuple[str, ...], list[str]]:
    meta: dict[str, tuple[str, float | None]] = {}
    for column in table.frame.columns:
        canon, scale = _meta_name(column)
        if canon is not None and canon not in {c for c, _ in meta.values()}:
            meta[column] = (canon, scale)
    by_canon = {canon: (column, scale) for column, (canon, scale) in meta.items()}
    if "model" not in by_canon:
        raise table.error("needs a 'Model' (or 'model') column naming each model")
    frame = pd.DataFrame({"model": table.frame[by_canon["model"][0]].astype(str).str.strip()},
                         index=table.frame.index)
    duplicated = frame["model"].duplicated()
    if duplicated.any():
        row = int(frame.index[np.flatnonzero(duplicated.to_numpy())[0]])
        raise table.error(f"model {frame.loc[row, 'model']!r} appears twice; one row per model", row=row,
                          column=by_canon["model"][0])
    frame["family"] = (table.frame[by_canon["family"][0]].astype(str).str.strip() if "family" in by_canon
                       else frame["model"])
    notes = []
    if "flops" in by_canon:
        column, scale = by_canon["flops"]
        frame["flops"] = _cells(table, column) * (scale or 1.0)
    elif "params" in by_canon and "tokens" in by_canon:
        (pc, ps), (tc, ts) = by_canon["params"], by_canon["tokens"]
        frame["flops"] = 6.0 * _cells(table, pc) * (ps or 1.0) * _cells(table, tc) * (ts or 1.0)
        notes.append("compute = 6 params tokens")
    else:
        frame["flops"] = np.nan
    bad = np.flatnonzero(frame["flops"].to_numpy() <= 0)
    if bad.size:
        raise table.error("compute must be positive (leave it empty when unknown)",
                          row=int(frame.index[bad[0]]), column=by_canon.get("flops", ("flops",))[0])
    metrics = tuple(c for c in table.frame.columns if c not in meta)
    for column in metrics:
        frame[column] = _cells(table, column)
    if not metrics:
        raise table.error("has no benchmark columns besides the model's name, family and compute")
    return frame, metrics, notes


# -------------------------------------------------------------------------------------- the PCA
@protocol.value_kind("downstream.pca")
@dataclass(frozen=True)
class PCA:
    """Principal components of filled benchmark scores (unstandardised).

    ``mean`` (p,), ``components`` (k, p) with unit rows, ``explained`` (k,) variance ratios and
    ``metrics`` the benchmark order."""

    mean: np.ndarray
    components: np.ndarray
    explained: np.ndarray
    metrics: tuple[str, ...]

    def scores(self, X: np.ndarray) -> np.ndarray:
        return (np.asarray(X, dtype=float) - self.mean) @ self.components.T

    def loadings(self) -> pd.DataFrame:
        return pd.DataFrame(self.components.T, index=list(self.metrics),
                            columns=[f"PC{i + 1}" for i in range(len(self.components))])


def fit_pca(X: np.ndarray, n_components: int, metrics=()) -> PCA:
    """PCA of a complete matrix (rows = models) by SVD; signs make each loading vector sum > 0."""
    X = np.asarray(X, dtype=float)
    mean = X.mean(axis=0)
    _, s, vt = np.linalg.svd(X - mean, full_matrices=False)
    k = min(n_components, vt.shape[0])
    signs = np.where(vt[:k].sum(axis=1) < 0, -1.0, 1.0)
    variance = s**2
    return PCA(mean, vt[:k] * signs[:, None], variance[:k] / variance.sum(), tuple(metrics))


def impute(train: np.ndarray, test: np.ndarray | None = None, *, rank: int = 1, tol: float = 1e-4,
           max_iter: int = 1000, clip: tuple[float, float] | None = (0.0, 1.0)):
    """Fill missing scores (NaN) by iterated rank-``rank`` PCA reconstruction.

    Standardised with the training rows' means and standard deviations; missing cells start at the
    column mean and are replaced by the reconstruction until none moves by more than ``tol``.  Test
    rows are filled with the final training PCA.  Returns (train, test) filled, clipped to ``clip``.
    """
    train = np.asarray(train, dtype=float)
    mu, sd = np.nanmean(train, axis=0), np.nanstd(train, axis=0)
    sd = np.where(sd > 0, sd, 1.0)
    Z = (train - mu) / sd
    missing = np.isnan(Z)
    filled = np.where(missing, 0.0, Z)
    pca = fit_pca(filled, rank)
    for _ in range(max_iter):
        pca = fit_pca(filled, rank)
        rebuilt = pca.scores(filled) @ pca.components + pca.mean
        new = np.where(missing, rebuilt, Z)
        done = np.allclose(new, filled, atol=tol)
        filled = new
        if done:
            break
    out_test = None
    if test is not None and len(test):
        Zt = (np.asarray(test, dtype=float) - mu) / sd
        gaps = np.isnan(Zt)
        ft = np.where(gaps, 0.0, Zt)
        for _ in range(max_iter):
            rebuilt = pca.scores(ft) @ pca.components + pca.mean
            new = np.where(gaps, rebuilt, Zt)
            done = np.allclose(new, ft, atol=tol)
            ft = new
            if done:
                break
        out_test = ft * sd + mu
    out_train = filled * sd + mu
    if clip is not None:
        out_train = np.clip(out_train, *clip)
        out_test = None if out_test is None else np.clip(out_test, *clip)
    return out_train, out_test


# ------------------------------------------------------------------------------------- the link
#: The sigmoid link y = (1 - b) sigmoid(c + sum_j w_j x_j) + b (``downstream.observational_sigmoid``).
link_law = observational_sigmoid


# ------------------------------------------------------------------------------------ the analysis
@dataclass(frozen=True)
class ObservationalResult(protocol.Result):
    """A fitted observational law and its check above the compute cutoff.

    Attributes
    ----------
    target, cutoff_flops, predictors, chance
        What was predicted, the split (train: FLOPs <= cutoff), the benchmarks used and the
        target's chance score.
    pca
        The :class:`PCA` fitted on the training models.
    fit, baseline
        The link on the PCs, and the same link on log10(FLOPs / 1e21) alone.
    models
        One row per model with a target score: model, family, flops, split (train, test or
        unknown compute), the target, the PCs, ``predicted`` and ``baseline``.
    errors
        Per split and predictor: n, MSE, MAE (target units, or normalised units with a chance
        score).
    family_checks
        Per family with 3+ models of known compute: corr(PC1, log10 FLOPs), and whether it is
        below 0.9 (a family whose models do not lie on one log-linear trend).
    notes
        What was read, joined or left out.
    source
        The benchmark file that was read.
    settings
        The keyword arguments of :func:`fit_observational` (the target included).
    warnings
        The fits' own warnings and the families whose models break the log-linear trend.
    """

    FAMILY = "downstream"
    KIND = "observational"
    TITLE = "observational scaling: a sigmoid of the benchmark PCs"

    target: str
    cutoff_flops: float
    predictors: tuple[str, ...]
    chance: float
    pca: PCA
    fit: FitResult
    baseline: FitResult
    models: pd.DataFrame
    errors: pd.DataFrame
    family_checks: pd.DataFrame
    notes: tuple[str, ...] = field(default_factory=tuple)
    source: str = ""
    settings: Mapping[str, object] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("predictors", "notes", "warnings"):
            object.__setattr__(self, name, tuple(getattr(self, name)))

    def error(self, split: str = "test", predictor: str = "PCs", statistic: str = "mse") -> float:
        row = self.errors[(self.errors["split"] == split) & (self.errors["predictor"] == predictor)]
        return float(row[statistic].iloc[0]) if len(row) else float("nan")

    def predict(self, scores: pd.DataFrame) -> np.ndarray:
        """The target (its own units) for models with every predictor benchmark scored.

        ``scores`` has one column per predictor; the PCs are projected with the training PCA.
        """
        missing = [p for p in self.predictors if p not in scores.columns]
        if missing:
            raise InputError(f"the scores have no column {missing[0]!r}; the law uses "
                             f"{', '.join(map(repr, self.predictors))}")
        X = scores[list(self.predictors)].to_numpy(dtype=float)
        if np.isnan(X).any():
            row = int(np.flatnonzero(np.isnan(X).any(axis=1))[0])
            raise InputError(f"row {row} lacks a predictor score; the PCs need every predictor benchmark")
        pcs = self.pca.scores(X)
        names = self.fit.law.inputs
        normalised = self.fit.predict({name: pcs[:, j] for j, name in enumerate(names)})
        return self.chance + (1.0 - self.chance) * normalised

    def summary(self) -> pd.DataFrame:
        """Per split and predictor (PCs, log compute): models, MSE and MAE."""
        return self.errors

    def plot(self, ax=None):
        """The link on the fitted capability and the held-out predictions (on ``ax``: the link)."""
        from scalelaw.plots.downstream import observational_figure

        return observational_figure(self, ax=ax)


def fit_observational(bench: Benchmarks, target: str, *, cutoff_flops: float, components: int = 3,
                      predictors: tuple[str, ...] | None = None, chance: float = 0.0,
                      floor_max: float = FLOOR_MAX, loss: str = "squared",
                      delta: float = 0.1) -> ObservationalResult:
    """Fit the observational law for ``target`` on models at or below ``cutoff_flops``.

    Parameters
    ----------
    bench
        :class:`Benchmarks`.
    target
        The benchmark to predict (scores in [0, 1]).
    cutoff_flops
        Training compute (FLOPs) that splits fitted models (<=) from held-out ones (>).
    components
        Number of PCs in the link.
    predictors
        Benchmarks whose PCs are used; default: every benchmark of the file but the target.
    chance
        The target's chance score: the link is fitted to (y - chance) / (1 - chance) (the paper's
        normalisation); errors are in those normalised units and ``predicted`` in the target's.
    loss, delta
        The engine's loss (``squared`` as ``curve_fit``, or ``huber`` with ``delta`` in score units).
    """
    if target not in bench.metrics:
        raise InputError(f"target={target!r} is not a benchmark of {bench.path}; it has "
                         f"{', '.join(bench.metrics)}")
    given = None if predictors is None else list(predictors)
    predictors = tuple(predictors) if predictors else tuple(m for m in bench.metrics if m != target)
    unknown = [p for p in predictors if p not in bench.metrics]
    if unknown or target in predictors:
        raise InputError(f"predictor {(unknown or [target])[0]!r} is not usable: choose benchmarks of "
                         f"{bench.path} other than the target")
    if not 1 <= components <= len(predictors):
        raise InputError(f"components={components} must be between 1 and the {len(predictors)} predictor benchmarks")
    frame = bench.frame[bench.frame[target].notna()].copy()
    y = frame[target].to_numpy(dtype=float)
    if np.any((y < 0) | (y > 1)):
        raise InputError(f"scores of {target!r} must lie in [0, 1] for the sigmoid link", path=bench.path,
                         column=target)
    if not 0 <= chance < 1:
        raise InputError(f"chance={chance} must be in [0, 1)")
    flops = frame["flops"].to_numpy(dtype=float)
    split = np.where(np.isnan(flops), "unknown compute", np.where(flops <= cutoff_flops, "train", "test"))
    frame["split"] = split
    train = split == "train"
    if train.sum() < components + 2:
        raise FitError(f"{int(train.sum())} models with {target!r} have compute <= {cutoff_flops:.3g} "
                       f"FLOPs; the link has {components + 2} parameters; raise cutoff_flops= or use fewer "
                       "components")
    if not (split == "test").any():
        raise FitError(f"no model with {target!r} has compute above {cutoff_flops:.3g} FLOPs; lower "
                       "cutoff_flops= to hold some out")
    X = frame[list(predictors)].to_numpy(dtype=float)
    X_train, X_rest = impute(X[train], X[~train])
    pca = fit_pca(X_train, components, predictors)
    filled = np.empty_like(X)
    filled[train], filled[~train] = X_train, X_rest
    pcs = pca.scores(filled)
    names = tuple(f"PC{j + 1}" for j in range(components))
    for j, name in enumerate(names):
        frame[name] = pcs[:, j]
    frame["log_compute"] = np.log10(frame["flops"] / 1e21)
    frame["normalised"] = (y - chance) / (1.0 - chance)
    link_settings = {"loss": loss, "delta": delta}
    link = link_law(components, names=names, floor_max=floor_max, target="normalised")
    fit = engine.fit(link, frame[train], **link_settings)
    base_law = link_law(1, names=("log_compute",), floor_max=floor_max, target="normalised")
    known = ~np.isnan(flops)
    baseline = engine.fit(base_law, frame[train], **link_settings)
    fitted = fit.predict(frame)
    fitted_base = np.where(known, baseline.predict(frame.fillna({"log_compute": 0.0})), np.nan)
    frame["predicted"] = chance + (1.0 - chance) * fitted
    frame["baseline"] = chance + (1.0 - chance) * fitted_base
    errors = []
    for part in ("train", "test"):
        rows = (frame["split"] == part).to_numpy()
        for predictor, values in (("PCs", fitted), ("log compute", fitted_base)):
            m = error_metrics(frame["normalised"].to_numpy()[rows], values[rows])
            errors.append({"split": part, "predictor": predictor, "n": m["n"], "mse": m["rmse"] ** 2,
                           "mae": m["mae"]})
    checks = family_checks(frame)
    notes = list(bench.notes)
    if (split == "unknown compute").any():
        notes.append(f"{int((split == 'unknown compute').sum())} model(s) without compute are predicted "
                     "but in neither split")
    keep = ["model", "family", "flops", "split", target, *names, "predicted", "baseline"]
    warnings = [f"{name}: {w}" for name, f in (("PC link", fit), ("log-compute link", baseline))
                for w in f.warnings]
    warnings += [f"family {r['family']}: corr(PC1, log10 compute) = {r['correlation']:.2f} over {r['models']} "
                 f"models (< {FAMILY_CORRELATION}): its models do not follow one log-linear trend"
                 for _, r in checks[~checks["log_linear"].astype(bool)].iterrows()]
    settings = {"target": target, "cutoff_flops": cutoff_flops, "components": components,
                "predictors": given, "chance": chance, "floor_max": floor_max, "loss": loss, "delta": delta}
    return ObservationalResult(target, float(cutoff_flops), predictors, float(chance), pca, fit, baseline,
                               frame[keep].reset_index(drop=True), pd.DataFrame(errors), checks, tuple(notes),
                               bench.path, settings, tuple(warnings))


def family_checks(frame: pd.DataFrame, *, min_models: int = 3) -> pd.DataFrame:
    """corr(PC1, log10 FLOPs) within each family of ``min_models`` or more models of known compute."""
    rows = []
    known = frame[frame["flops"].notna()]
    for family, part in known.groupby("family", sort=True):
        if len(part) < min_models or part["flops"].nunique() < 2:
            continue
        r = float(np.corrcoef(part["PC1"], np.log10(part["flops"]))[0, 1])
        rows.append({"family": family, "models": len(part), "correlation": r,
                     "log_linear": bool(r >= FAMILY_CORRELATION)})
    return pd.DataFrame(rows, columns=["family", "models", "correlation", "log_linear"])
