"""Optimal-transport distances between sample sets, and from a mixture of sources to a target.

The ground cost between two labelled samples z = (x, y) and z' = (x', y') is OTDD's
(Alvarez-Melis and Fusi 2020) with p = 2:

    c(z, z') = ||x - x'||^2 + label_weight * W2^2(P_y, P'_y')

where P_y is the distribution of the features of class y (its samples, uniform weights) and W2^2 is
the exact optimal-transport cost between two such classes under the squared-Euclidean cost,
computed once per pair of classes.  Without labels the cost is ||x - x'||^2 alone.

Three solvers, all from POT:

* ``"exact"``: the linear program (``ot.emd``); ``cost`` is the optimal transport cost and
  ``distance`` its square root (W2 when there are no labels).
* ``"sinkhorn"``: entropic OT, log-domain Sinkhorn with epsilon = ``reg`` times the mean ground
  cost; ``cost`` is OT_eps(a, b) = min_pi <pi, C> + eps KL(pi | a x b) = <a, f> + <b, g>.
* ``"divergence"``: the debiased Sinkhorn divergence
  S_eps(a, b) = OT_eps(a, b) - OT_eps(a, a)/2 - OT_eps(b, b)/2 (Feydy et al. 2019), which is what
  projektor computes (geomloss ``SamplesLoss("sinkhorn", debias=True)``).

Each solution carries the dual potentials f (one per point of the first set), which give the
derivative of the cost with respect to the first set's weights: d cost / d a_j = f_j, up to a
constant common to every j that does not matter for weights that keep summing to 1.
:class:`MixtureTransport` uses them for the gradient with respect to the mixing ratio.

Examples
--------
>>> import numpy as np
>>> a = Samples(np.array([[0.0], [1.0]]))
>>> b = Samples(np.array([[2.0], [3.0]]))
>>> d = distance(a, b)
>>> float(d.cost), float(d.distance)
(4.0, 2.0)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import ot
import pandas as pd
from scipy.special import logsumexp

from scalelaw import protocol
from scalelaw.errors import InputError
from scalelaw.io import read_table

METHODS = ("exact", "sinkhorn", "divergence")
_MAX_LP_ITERATIONS = 10_000_000
_SINKHORN_ITERATIONS = 5_000
_SINKHORN_TOLERANCE = 1e-9


# ------------------------------------------------------------------------------------ sample sets
@dataclass(frozen=True)
class Samples:
    """A set of samples: ``features`` (n, d) and optional ``labels`` (n,), compared as text.

    ``name`` says where the set came from, for messages.
    """

    features: np.ndarray
    labels: np.ndarray | None = None
    name: str = "samples"

    def __post_init__(self) -> None:
        x = np.asarray(self.features, dtype=float)
        if x.ndim != 2 or x.shape[0] == 0 or x.shape[1] == 0:
            raise InputError(
                f"{self.name}: features must be a non-empty (samples, features) array, got shape {x.shape}"
            )
        if not np.all(np.isfinite(x)):
            raise InputError(f"{self.name}: features contain NaN or inf; fix or drop those rows")
        object.__setattr__(self, "features", x)
        if self.labels is not None:
            y = np.asarray(self.labels).astype(str).ravel()
            if y.size != x.shape[0]:
                raise InputError(f"{self.name}: {y.size} labels for {x.shape[0]} samples")
            object.__setattr__(self, "labels", y)

    @property
    def n(self) -> int:
        return int(self.features.shape[0])

    @property
    def dim(self) -> int:
        return int(self.features.shape[1])

    def subsample(self, max_samples: int | None, rng: np.random.Generator) -> Samples:
        """At most ``max_samples`` samples drawn without replacement (kept in file order)."""
        if max_samples is None or self.n <= max_samples:
            return self
        keep = np.sort(rng.choice(self.n, size=int(max_samples), replace=False))
        return replace(
            self, features=self.features[keep], labels=None if self.labels is None else self.labels[keep]
        )


def read_samples(path: str | Path, *, label_column: str | None = None, name: str | None = None) -> Samples:
    """Samples from a CSV/TSV/JSON file: every column but ``label_column`` is a numeric feature.

    Raises
    ------
    InputError
        Naming the file, row and column of a cell that is not a finite number, or a missing label
        column.
    """
    table = read_table(path, rename=False)
    frame = table.frame
    if label_column is not None and label_column not in frame.columns:
        raise table.error(
            f"no label column {label_column!r}; the file has "
            f"{', '.join(map(repr, frame.columns[:8]))}{'...' if frame.shape[1] > 8 else ''}; "
            "give label_column= the column that holds the class"
        )
    columns = [c for c in frame.columns if c != label_column]
    if not columns:
        raise table.error("no feature columns besides the label; add numeric feature columns")
    try:
        values = frame[columns].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    except OverflowError:  # a JSON integer beyond the largest float: refused below as not finite
        values = frame[columns].map(lambda cell: pd.to_numeric(str(cell), errors="coerce")).to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        i, j = (int(k[0]) for k in np.nonzero(bad))
        raise table.error(
            f"{frame.iloc[i][columns[j]]!r} is not a finite number; features must be numbers "
            f"(name the class column with label_column=)",
            row=int(frame.index[i]),
            column=columns[j],
        )
    labels = frame[label_column].astype(str).to_numpy() if label_column is not None else None
    return Samples(values, labels, name or str(path))


def read_sources(sources: str | Path, *, label_column: str | None = None) -> list[Samples]:
    """The revealed samples of every source: one CSV per source in the folder ``sources``, named
    by its file name without ``.csv``, in name order."""
    folder = Path(sources)
    if not folder.is_dir():
        raise InputError(f"sources={str(folder)!r}: not a folder; give the folder with one CSV per source")
    files = sorted(folder.glob("*.csv"))
    if not files:
        raise InputError(
            f"sources={str(folder)!r}: no .csv files; put one CSV of revealed samples per source there"
        )
    return [read_samples(f, label_column=label_column, name=f.stem) for f in files]


def check_compatible(a: Samples, b: Samples) -> None:
    """Refuse two sets whose features differ in dimension, or of which only one has labels."""
    if a.dim != b.dim:
        raise InputError(
            f"{a.name} has {a.dim} features per sample but {b.name} has {b.dim}; OT needs "
            "features of the same dimension (the same embedding) on both sides"
        )
    if (a.labels is None) != (b.labels is None):
        missing = a.name if a.labels is None else b.name
        raise InputError(f"{missing} has no labels but the other set has; give labels to both or to neither")


# ------------------------------------------------------------------------------------- ground cost
def feature_cost(xa: np.ndarray, xb: np.ndarray) -> np.ndarray:
    """Squared-Euclidean cost matrix ||x_i - x'_j||^2, shape (n_a, n_b)."""
    return np.maximum(ot.dist(xa, xb, metric="sqeuclidean"), 0.0)


def class_distances(groups_a: Sequence[np.ndarray], groups_b: Sequence[np.ndarray]) -> np.ndarray:
    """W2^2 between every pair of class-conditional feature sets (exact OT, uniform weights)."""
    out = np.empty((len(groups_a), len(groups_b)))
    for i, xa in enumerate(groups_a):
        for j, xb in enumerate(groups_b):
            cost = feature_cost(xa, xb)
            out[i, j] = ot.emd2(
                np.full(len(xa), 1.0 / len(xa)),
                np.full(len(xb), 1.0 / len(xb)),
                cost,
                numItermax=_MAX_LP_ITERATIONS,
            )
    return out


def _groups(features: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Group index per sample and the feature rows of each group (groups in sorted key order)."""
    names, index = np.unique(keys, return_inverse=True)
    return index, [features[index == g] for g in range(names.size)]


# --------------------------------------------------------------------------------------- solutions
@dataclass(frozen=True)
class Solution:
    """An OT solve: ``cost`` and the potentials ``f`` (first set) and ``g`` (second set)."""

    cost: float
    f: np.ndarray
    g: np.ndarray
    iterations: int = 0


def _exact(a: np.ndarray, b: np.ndarray, M: np.ndarray) -> Solution:
    rows, cols = a > 0, b > 0
    _, log = ot.emd(
        a[rows], b[cols], np.ascontiguousarray(M[np.ix_(rows, cols)]), log=True, numItermax=_MAX_LP_ITERATIONS
    )
    if log["result_code"] != 1:
        raise RuntimeError(f"the exact OT solver stopped: {log['warning']}")
    g = np.empty(b.size)
    g[cols] = log["v"]
    # c-transforms: f_i = min_j (M_ij - g_j) is the optimal potential of every row with mass and
    # the right derivative for a row without; likewise g for columns without mass.
    f = np.min(M[:, cols] - g[cols][None, :], axis=1)
    g[~cols] = np.min(M[rows][:, ~cols] - f[rows][:, None], axis=0)
    return Solution(float(log["cost"]), f, g)


def _entropic(a: np.ndarray, b: np.ndarray, M: np.ndarray, epsilon: float) -> Solution:
    rows, cols = a > 0, b > 0
    Msub = M[np.ix_(rows, cols)]
    _, log = ot.sinkhorn(
        a[rows],
        b[cols],
        Msub,
        epsilon,
        method="sinkhorn_log",
        log=True,
        numItermax=_SINKHORN_ITERATIONS,
        stopThr=_SINKHORN_TOLERANCE,
    )
    # POT's plan is exp(log_u + log_v - M/eps); with potentials relative to a x b it is
    # a_i b_j exp((f_i + g_j - M_ij)/eps), so g_j = eps (log_v_j - log b_j).
    g = np.zeros(b.size)
    g[cols] = epsilon * (np.asarray(log["log_v"]) - np.log(b[cols]))
    with np.errstate(divide="ignore"):
        log_b, log_a = np.log(b), np.log(a)
    f = -epsilon * logsumexp(log_b[None, cols] + (g[None, cols] - M[:, cols]) / epsilon, axis=1)
    g = -epsilon * logsumexp(log_a[rows, None] + (f[rows, None] - M[rows]) / epsilon, axis=0)
    cost = float(a @ f + b @ g)
    return Solution(cost, f, g, int(log.get("niter", 0)))


def _symmetric(a: np.ndarray, M: np.ndarray, epsilon: float) -> Solution:
    """OT_eps(a, a) by the symmetric fixed point f <- (f + T(f)) / 2 (Feydy et al. 2019)."""
    rows = a > 0
    with np.errstate(divide="ignore"):
        log_a = np.log(a)

    def transform(f: np.ndarray) -> np.ndarray:
        return -epsilon * logsumexp(log_a[None, rows] + (f[None, rows] - M[:, rows]) / epsilon, axis=1)

    f = transform(np.zeros(a.size))
    for iteration in range(1, _SINKHORN_ITERATIONS + 1):  # noqa: B007 (reported below)
        new = 0.5 * (f + transform(f))
        done = np.max(np.abs(new - f)) <= _SINKHORN_TOLERANCE * max(epsilon, 1e-300) * 1e3
        f = new
        if done:
            break
    f = transform(f)
    return Solution(float(2.0 * (a @ f)), f, f, iteration)


def solve(
    a: np.ndarray,
    b: np.ndarray,
    M: np.ndarray,
    *,
    method: str = "exact",
    epsilon: float = 0.0,
    M_aa: np.ndarray | None = None,
    M_bb: np.ndarray | None = None,
    self_b: Solution | None = None,
) -> Solution:
    """Solve OT between weights ``a`` and ``b`` (each summing to 1) under cost ``M``.

    Zero weights are allowed: those points are left out of the solve and get the potential that
    gives the one-sided derivative of the cost when their weight grows from 0.  For
    ``"divergence"``, ``M_aa`` and ``M_bb`` are the costs within each set; ``self_b`` may pass a
    precomputed OT_eps(b, b).
    """
    if method == "exact":
        return _exact(a, b, M)
    if method == "sinkhorn":
        return _entropic(a, b, M, epsilon)
    if method == "divergence":
        ab = _entropic(a, b, M, epsilon)
        aa = _symmetric(a, M_aa, epsilon)
        bb = self_b if self_b is not None else _symmetric(b, M_bb, epsilon)
        cost = ab.cost - 0.5 * aa.cost - 0.5 * bb.cost
        return Solution(cost, ab.f - 0.5 * (aa.f + aa.g), ab.g - 0.5 * (bb.f + bb.g), ab.iterations)
    raise InputError(f"unknown OT method {method!r}; choose one of {', '.join(METHODS)}")


# ---------------------------------------------------------------------------------- two sample sets
@dataclass(frozen=True)
class Distance(protocol.Result):
    """OT between two sample sets.

    Attributes
    ----------
    cost
        Optimal cost (squared feature units, plus the label term); for ``"sinkhorn"`` the entropic
        value and for ``"divergence"`` the debiased divergence.
    distance
        sqrt(max(cost, 0)): W2 for exact OT without labels, in feature units.
    method, epsilon
        The solver and its entropic regularisation (0 for exact), in cost units.
    n_a, n_b, dim
        Samples used on each side (after subsampling) and the feature dimension.
    labelled
        Whether the label term was included.
    f, g
        Dual potentials on each side (cost units).
    settings
        The arguments of :func:`distance` (solver, regularisation, label weight, subsampling).
    warnings
        Which sets were subsampled.
    """

    FAMILY = "transport"
    KIND = "distance"
    TITLE = "optimal-transport distance between two sample sets"

    cost: float
    distance: float
    method: str
    epsilon: float
    n_a: int
    n_b: int
    dim: int
    labelled: bool
    label_weight: float
    f: np.ndarray = field(repr=False)
    g: np.ndarray = field(repr=False)
    settings: Mapping[str, object] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()


    def record(self) -> dict:
        """The numbers as plain values (the command line's JSON)."""
        return {
            "distance": self.distance,
            "cost": self.cost,
            "method": self.method,
            "epsilon": self.epsilon,
            "n_a": self.n_a,
            "n_b": self.n_b,
            "dim": self.dim,
            "labels": self.labelled,
            "label_weight": self.label_weight,
        }

    def summary(self) -> pd.DataFrame:
        """One row: cost, distance, solver, epsilon, samples per side, dimension, label term."""
        return pd.DataFrame([self.record()])

    def plot(self, ax=None):
        """The dual potentials of each side: which samples are far from the other set."""
        from scalelaw.plots.transport import potentials

        return potentials(self, ax=ax)


def _check_method(method: str, reg: float, label_weight: float) -> None:
    if method not in METHODS:
        raise InputError(f"unknown OT method {method!r}; choose one of {', '.join(METHODS)}")
    if method != "exact" and not (math.isfinite(reg) and reg > 0):
        raise InputError(f"reg={reg} must be a positive fraction of the mean cost")
    if not (math.isfinite(label_weight) and label_weight >= 0):
        raise InputError(f"label_weight={label_weight} must be >= 0")


def _check_max(max_samples: int | None) -> None:
    if max_samples is not None and max_samples < 1:
        raise InputError(f"max_samples={max_samples} must be at least 1")


def _check_size(na: int, nb: int, method: str) -> None:
    """Refuse a cost matrix that the memory bound cannot hold (see :mod:`scalelaw.memory`)."""
    from scalelaw import memory

    memory.check_matrix(na, nb, copies=8 if method == "divergence" else 4,
                        what=f"{method} OT of {na:,} and {nb:,} samples",
                        advice="give max_samples={side} (a subsample of each set) or raise the bound")


def _label_cost(a: Samples, b: Samples, label_weight: float) -> np.ndarray | float:
    if a.labels is None or label_weight == 0:
        return 0.0
    ia, ga = _groups(a.features, a.labels)
    ib, gb = _groups(b.features, b.labels)
    return label_weight * class_distances(ga, gb)[np.ix_(ia, ib)]


def distance(
    a: Samples,
    b: Samples,
    *,
    method: str = "exact",
    reg: float = 0.05,
    label_weight: float = 1.0,
    max_samples: int | None = None,
    seed: int = 0,
) -> Distance:
    """OT distance between two sample sets (uniform weights).

    Parameters
    ----------
    a, b
        Sample sets with features of the same dimension, both labelled or both not.
    method
        ``"exact"``, ``"sinkhorn"`` or ``"divergence"`` (see the module docstring).
    reg
        Entropic regularisation as a fraction of the mean ground cost (entropic methods).
    label_weight
        Weight of OTDD's label-to-label term (0 drops it).
    max_samples
        Use at most this many samples from each set, drawn without replacement with ``seed``.
    seed
        Seed of the subsampling; the same seed gives the same result.
    """
    _check_method(method, reg, label_weight)
    _check_max(max_samples)
    check_compatible(a, b)
    rng = np.random.default_rng(seed)
    given = (a.n, b.n)
    a, b = a.subsample(max_samples, rng), b.subsample(max_samples, rng)
    warned = [f"{s.name}: {s.n} of its {n} samples used (max_samples={max_samples}, seed={seed})"
              for s, n in zip((a, b), given, strict=True) if s.n < n]
    _check_size(a.n, b.n, method)
    M = feature_cost(a.features, b.features) + _label_cost(a, b, label_weight)
    wa, wb = np.full(a.n, 1.0 / a.n), np.full(b.n, 1.0 / b.n)
    epsilon = 0.0 if method == "exact" else reg * float(M.mean())
    extra = {}
    if method == "divergence":
        extra = {
            "M_aa": feature_cost(a.features, a.features) + _label_cost(a, a, label_weight),
            "M_bb": feature_cost(b.features, b.features) + _label_cost(b, b, label_weight),
        }
    sol = solve(wa, wb, M, method=method, epsilon=epsilon, **extra)
    return Distance(
        sol.cost,
        math.sqrt(max(sol.cost, 0.0)),
        method,
        epsilon,
        a.n,
        b.n,
        a.dim,
        a.labels is not None and label_weight > 0,
        float(label_weight),
        sol.f,
        sol.g,
        settings={"method": method, "reg": reg, "label_weight": label_weight, "max_samples": max_samples,
                  "seed": seed},
        warnings=warned,
    )


# ------------------------------------------------------------------------------ mixture to target
@dataclass(frozen=True)
class MixtureDistance:
    """OT(p) between the mixture at ratio ``ratio`` and the target, with ``gradient`` d OT / d p.

    A step of a computation (one per ratio the selection tries), not a result to keep.  The
    gradient is the mean potential of each source's samples; it is defined up to a constant added
    to every entry, which does not change any derivative along the simplex.
    """

    ratio: np.ndarray
    cost: float
    gradient: np.ndarray


class MixtureTransport:
    """OT between a mixture of sources and a target, with weights p_i / n_i and no resampling.

    Every sample of source i (n_i samples) gets weight p_i / n_i, so the mixture at ratio p is the
    pooled samples with those weights; the ground cost (features plus label term) is computed once
    and each ratio costs one OT solve.  Labels are kept per source: class y of source i is its own
    label distribution, so the cost does not depend on p and the gradient from the potentials is
    exact: d OT / d p_i = (1/n_i) sum_{j in source i} f_j.

    Parameters
    ----------
    sources
        The sources' revealed samples.
    target
        Samples representing the target (e.g. the validation set).
    method, reg, label_weight, max_samples, seed
        As for :func:`distance`; ``max_samples`` applies to each source and to the target.
    """

    def __init__(
        self,
        sources: Sequence[Samples],
        target: Samples,
        *,
        method: str = "exact",
        reg: float = 0.05,
        label_weight: float = 1.0,
        max_samples: int | None = None,
        seed: int = 0,
    ) -> None:
        _check_method(method, reg, label_weight)
        _check_max(max_samples)
        if not sources:
            raise InputError("give at least one source")
        for s in sources:
            check_compatible(s, target)
        rng = np.random.default_rng(seed)
        sources = [s.subsample(max_samples, rng) for s in sources]
        target = target.subsample(max_samples, rng)
        _check_size(sum(s.n for s in sources), target.n, method)
        self.names = tuple(s.name for s in sources)
        self.sizes = np.array([s.n for s in sources])
        self.owner = np.repeat(np.arange(len(sources)), self.sizes)
        self.method, self.reg, self.label_weight = method, float(reg), float(label_weight)
        self.max_samples, self.seed = max_samples, int(seed)
        pooled = np.vstack([s.features for s in sources])
        labelled = target.labels is not None and label_weight > 0
        M = feature_cost(pooled, target.features)
        if labelled:
            keys = np.concatenate([np.char.add(f"{i}\x1f", s.labels) for i, s in enumerate(sources)])
            ia, ga = _groups(pooled, keys)
            ib, gb = _groups(target.features, target.labels)
            M += label_weight * class_distances(ga, gb)[np.ix_(ia, ib)]
        self.cost_matrix = M
        self.target_weights = np.full(target.n, 1.0 / target.n)
        self.epsilon = 0.0 if method == "exact" else reg * float(M.mean())
        self._M_aa = None
        self._self_b = None
        if method == "divergence":
            M_aa = feature_cost(pooled, pooled)
            M_bb = feature_cost(target.features, target.features)
            if labelled:
                M_aa += label_weight * class_distances(ga, ga)[np.ix_(ia, ia)]
                M_bb += label_weight * class_distances(gb, gb)[np.ix_(ib, ib)]
            self._M_aa = M_aa
            self._self_b = _symmetric(self.target_weights, M_bb, self.epsilon)
        self.labelled = labelled
        self.dim = target.dim
        self.n_target = target.n

    @property
    def n_sources(self) -> int:
        return len(self.names)

    def weights(self, ratio) -> np.ndarray:
        """Sample weights p_i / n_i of the pooled source samples."""
        p = np.asarray(ratio, dtype=float)
        return (p / self.sizes)[self.owner]

    def __call__(self, ratio) -> MixtureDistance:
        """OT(p) and its gradient with respect to p (one OT solve)."""
        p = np.asarray(ratio, dtype=float).ravel()
        if p.size != self.n_sources:
            raise InputError(f"a ratio needs {self.n_sources} weights, got {p.size}")
        a = self.weights(p)
        a = a / a.sum()
        sol = solve(
            a,
            self.target_weights,
            self.cost_matrix,
            method=self.method,
            epsilon=self.epsilon,
            M_aa=self._M_aa,
            self_b=self._self_b,
        )
        gradient = np.bincount(self.owner, weights=sol.f, minlength=self.n_sources) / self.sizes
        return MixtureDistance(p, float(sol.cost), gradient)

    def settings(self) -> dict:
        return {
            "method": self.method,
            "reg": self.reg,
            "epsilon": self.epsilon,
            "label_weight": self.label_weight,
            "labels": self.labelled,
            "max_samples": self.max_samples,
            "seed": self.seed,
            "sources": dict(zip(self.names, self.sizes.tolist(), strict=True)),
            "target_samples": self.n_target,
            "dim": self.dim,
        }
