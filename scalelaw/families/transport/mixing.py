"""Mixing laws: the loss of a model as a function of its training mixture r (fractions per domain).

* ``mixing_law`` (Ye et al. 2024, "Data Mixing Laws"): L(r) = c + k exp(sum_j t_j r_j), residuals
  in log L, Huber loss, fitted by the engine.  Because sum_j r_j = 1, k and a shift common to every
  t_j trade off (k exp(s) with t_j - s gives the same law); predictions are unaffected.
* ``linear``: the regression baseline of RegMix (Liu et al. 2024), L(r) = w0 + sum_j w_j r_j by
  ordinary least squares.

Mixture logs come as two tables, RegMix's layout: mixtures (one column per training domain) and
losses (one column per validation domain), joined on their ``index`` column or, without one, on
row order.  :func:`evaluate` reports the Spearman rank correlation and the mean absolute error on
held-out mixtures; :func:`optimize` finds the best mixture on the simplex (optionally capped).

Examples
--------
>>> law = mixing_law(["a", "b"], "loss")
>>> law.formula
'c + k*exp(t_1*r_1 + t_2*r_2)'
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from scalelaw import engine, extrapolation, protocol
from scalelaw.catalogue.transport import linear_mixing, mixing_law
from scalelaw.errors import FitError, InputError
from scalelaw.families.transport import hull
from scalelaw.families.transport.projection import value_and_input_gradient
from scalelaw.families.transport.selection import RATIO_TOLERANCE, ascend, caps_setting, check_caps
from scalelaw.families.transport.selection import Path as SelectionPath
from scalelaw.io import Table, read_table
from scalelaw.laws import Law
from scalelaw.result import FitGroup, FitResult

LAWS = ("mixing_law", "linear")
INDEX = "index"
#: Floors c tried for the starting points, as fractions of the smallest observed loss.
FLOOR_FRACTIONS = (0.0, 0.5, 0.8, 0.9, 0.95, 0.98)
#: Default bound on every t_j of the mixing law (log-loss units per unit share): excess losses of two
#: pure domains differ by at most exp(20).  It keeps a fit on too few mixtures from the corner where
#: k -> 0 and the t_j grow without bound (the shift common to every t_j trades off with k); a fit
#: that needs more sits at the bound and says so.  The RegMix fits lie well inside (|t_j| < 8).
T_BOUND = 10.0


#: RegMix's linear regression baseline: L(r) = w0 + sum_j w_j r_j (``transport.linear_mixing``).
linear_law = linear_mixing


def domains_of(law: Law) -> tuple[str, ...]:
    """The mixture columns a fitted mixture law reads, in order."""
    return tuple(law.column(s) for s in law.inputs)


# ---------------------------------------------------------------------------------------- reading
def _read(path: str | Path) -> Table:
    return read_table(path, rename=False)


def _numeric(table: Table, columns: Sequence[str]) -> pd.DataFrame:
    frame = table.frame
    out = {}
    for column in columns:
        values = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(values)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise table.error(
                f"{frame[column].iloc[i]!r} is not a finite number", row=int(frame.index[i]), column=column
            )
        out[column] = values
    return pd.DataFrame(out, index=frame.index)


def read_mixtures(
    mixtures: str | Path,
    losses: str | Path,
    *,
    target: str | None = None,
    domains: Sequence[str] | None = None,
    keep: Sequence[str] = (),
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Join a mixtures table and a losses table; returns the joined frame and the domain columns.

    Parameters
    ----------
    mixtures
        One row per training run, one column per training domain (shares that sum to 1), and
        optionally ``index``.
    losses
        One row per training run with the loss columns, and optionally ``index``.
    target
        The loss column to keep; checked to exist.
    domains
        The domain columns a fitted law expects; the mixtures table must have exactly these.
    keep
        Columns of either table kept as they are (the grouping columns of ``by=``); in the mixtures
        table they are not domains.

    Raises
    ------
    InputError
        Naming the file, row and column: a missing target, domain columns that do not match,
        tables that cannot be joined, a negative share or shares that do not sum to 1.
    """
    mt, lt = _read(mixtures), _read(losses)
    for name in keep:
        if name not in mt.frame.columns and name not in lt.frame.columns:
            raise InputError(f"by={name!r}: neither {mt.path} nor {lt.path} has a column {name!r}", field="by")
    columns = [c for c in mt.frame.columns if c != INDEX and c not in keep]
    if not columns:
        raise mt.error("no domain columns; a mixtures table has one column per training domain")
    if domains is not None:
        missing = [d for d in domains if d not in columns]
        extra = [c for c in columns if c not in domains]
        if missing:
            raise mt.error(
                f"missing domain column {missing[0]!r}, which the fit uses; the mixture columns must "
                f"match the fit's {len(domains)} domains"
            )
        if extra:
            raise mt.error(
                f"column {extra[0]!r} is not one of the fit's {len(domains)} domains; the mixture "
                "columns must match the fit's domains",
                column=extra[0],
            )
        columns = list(domains)
    if target is not None and target not in lt.frame.columns:
        shown = ", ".join(repr(c) for c in lt.frame.columns if c != INDEX)
        raise lt.error(f"no column {target!r} (the target= loss); the losses table has {shown}")
    shares = _numeric(mt, columns)
    for i, row in enumerate(shares.to_numpy()):
        j = np.flatnonzero(row < 0)
        if j.size:
            raise mt.error(
                f"share {row[j[0]]:g} is negative; mixture shares must be >= 0",
                row=int(shares.index[i]),
                column=columns[j[0]],
            )
        if abs(row.sum() - 1.0) > RATIO_TOLERANCE:
            raise mt.error(
                f"the shares sum to {row.sum():.6g}, not 1; each row is a mixture of the training domains",
                row=int(shares.index[i]),
            )
    losses_cols = [target] if target is not None else [c for c in lt.frame.columns if c != INDEX]
    loss_values = _numeric(lt, losses_cols)
    order = slice(None)
    if INDEX in mt.frame.columns and INDEX in lt.frame.columns:
        left = mt.frame[INDEX].astype(str).str.strip().to_numpy()
        right = lt.frame[INDEX].astype(str).str.strip().to_numpy()
        for table, keys in ((mt, left), (lt, right)):
            seen = pd.Series(keys).duplicated()
            if seen.any():
                i = int(np.flatnonzero(seen.to_numpy())[0])
                raise table.error(
                    f"index {keys[i]!r} appears twice; each run needs its own index",
                    row=int(table.frame.index[i]),
                    column=INDEX,
                )
        lookup = {k: i for i, k in enumerate(right)}
        for i, key in enumerate(left):
            if key not in lookup:
                raise mt.error(
                    f"index {key!r} has no row in {lt.path}; the two tables must describe the same runs",
                    row=int(mt.frame.index[i]),
                    column=INDEX,
                )
        order = np.array([lookup[k] for k in left])
        loss_values = loss_values.iloc[order]
    elif len(mt.frame) != len(lt.frame):
        raise lt.error(
            f"has {len(lt.frame)} rows but {mt.path} has {len(mt.frame)}; without an 'index' column "
            "in both, rows are joined by order, so the counts must match"
        )
    kept = pd.DataFrame({name: mt.frame[name].to_numpy() if name in mt.frame.columns
                         else lt.frame[name].to_numpy()[order] for name in keep})
    frame = pd.concat([shares.reset_index(drop=True), loss_values.reset_index(drop=True), kept], axis=1)
    frame.index = mt.frame.index
    return frame, tuple(columns)


# ---------------------------------------------------------------------------------------- fitting
def mixing_starts(law: Law, frame: pd.DataFrame) -> np.ndarray:
    """Starting points for the mixing law: for each floor c, log(L - c) regressed on r.

    With sum_j r_j = 1 the regression needs no intercept, so k = 1 and t is the least-squares
    solution.  One start per floor in :data:`FLOOR_FRACTIONS` times the smallest loss.
    """
    R = frame[list(domains_of(law))].to_numpy(dtype=float)
    y = frame[law.target].to_numpy(dtype=float)
    if np.any(y <= 0):
        raise FitError(f"the mixing law needs positive losses; column {law.target!r} has {y.min():g}")
    starts = []
    for fraction in FLOOR_FRACTIONS:
        c = fraction * y.min()
        t, *_ = np.linalg.lstsq(R, np.log(y - c), rcond=None)
        starts.append([max(c, 1e-6 * y.min()), 1.0, *t])
    return np.array(starts)


def fit_mixture(
    frame: pd.DataFrame, domains: Sequence[str], target: str, *, law: str = "mixing_law",
    by: str | Sequence[str] | None = None, strict: bool = False, jobs: int = 1, backend: str = "local",
    scheduler: str | None = None, t_bound: float | None = T_BOUND, **settings
) -> FitResult | FitGroup:
    """Fit a mixing law (``"mixing_law"`` or ``"linear"``) by the engine.

    ``settings`` go to :func:`scalelaw.engine.fit`; by default the mixing law uses the engine's
    Huber loss on log residuals with the starts of :func:`mixing_starts`, and the linear law
    ordinary least squares.  ``t_bound`` bounds every t_j of the mixing law to [-t_bound, t_bound]
    (log-loss units per unit share, default :data:`T_BOUND`; None: unbounded).  With ``by``
    (columns of ``frame``, see ``read_mixtures(keep=)``) one law is fitted per group of rows, as a
    :class:`~scalelaw.result.FitGroup` (:func:`scalelaw.groups.each`, whose ``jobs``, ``backend`` and
    ``scheduler`` these are).
    """
    if by is not None:
        from scalelaw import groups

        return groups.each(functools.partial(fit_mixture, domains=domains, target=target, law=law,
                                             t_bound=t_bound, **settings),
                           frame, by=by, strict=strict, family="transport",
                           settings={"target": target, "law": law} | settings, jobs=jobs, backend=backend,
                           scheduler=scheduler)
    if law == "mixing_law":
        declared = mixing_law(domains, target, t_bound=t_bound)
        settings.setdefault("starts", mixing_starts(declared, frame))
    elif law == "linear":
        declared = linear_law(domains, target)
        settings.setdefault("loss", "squared")
    else:
        raise InputError(f"law={law!r} is not one of {', '.join(LAWS)}")
    fit = engine.fit(declared, frame, **settings)
    if law == "mixing_law":
        fit = _scale_collapsed(fit, frame[target].to_numpy(dtype=float))
    shares = frame[list(domains)].to_numpy(dtype=float).tolist()
    return replace(fit, data=dict(fit.data) | {"mixtures": shares})  # for the hull check of later answers


def _scale_collapsed(fit: FitResult, losses: np.ndarray) -> FitResult:
    """The mixing law's k is the loss scale of exp(sum_j t_j r_j) over shares r_j in [0, 1]: far below the
    smallest loss it has collapsed toward 0 (k -> 0 as the t_j grow without bound), which the engine's
    scale-free check cannot see; it is then recorded as collapsed and warned of."""
    from scalelaw import identifiability

    collapsed = list(fit.diagnostics.get("collapsed") or ())
    if "k" in collapsed or not fit.params["k"] < identifiability.COLLAPSE * float(np.min(np.abs(losses))):
        return fit
    diagnostics = dict(fit.diagnostics) | {"collapsed": [*collapsed, "k"]}
    identifiability.emit(fit.law.name, diagnostics)
    return replace(fit, diagnostics=diagnostics)


# ------------------------------------------------------------------------------------- evaluation
def evaluate(fit: FitResult, frame: pd.DataFrame) -> dict:
    """Spearman rank correlation, MAE (loss units), the predictions on a joined table, and
    ``warnings`` for shares beyond the ranges the law was fitted on (emitted as ExtrapolationWarning)."""
    predicted = fit.predict(frame, warn=False)
    actual = frame[fit.law.target].to_numpy(dtype=float)
    if actual.size < 3:
        raise InputError(f"evaluation needs at least 3 mixtures, got {actual.size}")
    rho = float(spearmanr(predicted, actual).statistic)
    shares = frame[[fit.law.column(s) for s in fit.law.inputs]].to_numpy(dtype=float)
    return {
        "warnings": list(extrapolation.emit((*fit.extrapolation(frame), *hull.warnings(fit, shares)))),
        "spearman": rho,
        "mae": float(np.mean(np.abs(predicted - actual))),
        "n": int(actual.size),
        "target": fit.law.target,
        "law": fit.law.name,
        "predicted": predicted,
        "actual": actual,
    }


@dataclass(frozen=True)
class Optimum(protocol.Result):
    """The best mixture under a fitted law.

    Attributes
    ----------
    mixture
        Domain -> share (fractions summing to 1).
    predicted
        The law's loss (its target) at that mixture.
    path
        The projected gradient steps from the start.
    law, target, maximize
        The law's name, its target column and whether the target was maximised.
    caps
        Most share per domain, or None.
    settings
        The arguments of :func:`optimize` (caps, maximize, start, iterations).
    warnings
        Shares beyond the range the law was fitted on, shares at their caps, an unfinished descent.
    """

    FAMILY = "transport"
    KIND = "optimum"
    TITLE = "best mixture under a fitted mixing law"

    mixture: Mapping[str, float]
    predicted: float
    path: SelectionPath
    law: str = ""
    target: str = "loss"
    maximize: bool = False
    caps: Mapping[str, float] | None = None
    settings: Mapping[str, object] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


    def record(self) -> dict:
        """The numbers as plain values (the command line's JSON)."""
        return {
            "mixture": dict(self.mixture),
            "predicted": self.predicted,
            "iterations": int(len(self.path.values) - 1),
            "message": self.path.message,
        }

    def summary(self) -> pd.DataFrame:
        """One row per domain: the share, the uniform start and the cap."""
        caps = self.caps or {}
        return pd.DataFrame({"share": list(self.mixture.values()), "start": self.path.ratios[0],
                             "cap": [float(caps.get(d, 1.0)) for d in self.mixture]},
                            index=pd.Index(list(self.mixture), name="domain"))

    def plot(self, ax=None):
        """The shares along the descent (on the simplex for three domains) and the predicted loss."""
        from scalelaw.plots.transport import selection_path

        return selection_path(self.path, tuple(self.mixture), metric=self.target, ax=ax)


def _optimum_warnings(fit: FitResult, mixture: Mapping[str, float], caps, path: SelectionPath) -> list[str]:
    ranges = fit.data.get("ranges", {})
    out = list(extrapolation.emit(
        f"extrapolating: the share of {d} is {v:.3g}, beyond the fitted range {ranges[d][0]:.3g}..{ranges[d][1]:.3g}"
        + (f" ({far} fitted share)" if (far := extrapolation.distance(v, *ranges[d])) else "")
        for d, v in mixture.items() if d in ranges and not ranges[d][0] - 1e-12 <= v <= ranges[d][1] + 1e-12))
    if not out:  # every share within its range: the mixture may still lie outside the fitted ones
        out += extrapolation.emit(hull.warnings(fit, [list(mixture.values())], what="chosen mixture"))
    if caps is not None:
        out += [f"the share of {d} is at its cap {c:g}" for d, c in zip(mixture, caps, strict=True)
                if c < 1.0 and mixture[d] >= c - 1e-9]
    if not path.converged:
        out.append(f"the descent stopped: {path.message}")
    return out


def optimize(
    fit: FitResult,
    *,
    caps: Mapping[str, float] | None = None,
    maximize: bool = False,
    start: Sequence[float] | None = None,
    iterations: int = 500,
) -> Optimum:
    """The mixture on the (capped) simplex that minimises (or maximises) the fitted law.

    Projected gradient descent from ``start`` (default: uniform) with the law's exact gradient
    with respect to the shares.  The mixing law with one target is minimised at a vertex (all of
    the domain with the smallest t_j) unless caps say otherwise.
    """
    domains = domains_of(fit.law)
    cap_values = check_caps(caps, domains)
    m = len(domains)

    def objective(r: np.ndarray):
        value, grads = value_and_input_gradient(
            fit.law, fit.params, {f"r_{j}": r[j - 1] for j in range(1, m + 1)}
        )
        return float(value), np.array([float(grads[f"r_{j}"]) for j in range(1, m + 1)])

    first = np.full(m, 1.0 / m) if start is None else np.asarray(start, dtype=float)
    path = ascend(objective, first, caps=cap_values, maximize=maximize, step=0.1, iterations=iterations)
    mixture = dict(zip(domains, np.round(path.ratio, 12).tolist(), strict=True))
    return Optimum(
        mixture, path.value, path, fit.law.name, fit.law.target, bool(maximize),
        None if cap_values is None else dict(zip(domains, cap_values.tolist(), strict=True)),
        settings={"caps": caps_setting(caps), "maximize": maximize,
                  "start": None if start is None else list(map(float, start)), "iterations": iterations},
        warnings=tuple(_optimum_warnings(fit, mixture, cap_values, path)),
    )
