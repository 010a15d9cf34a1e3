"""projektor's performance projection: OT distance -> performance at the pilot sizes -> any size.

Kang, Just, Sahu and Jia (NeurIPS 2023), "Performance Scaling via Optimal Transport".  Pilot runs
train a fixed learner on mixtures of m sources at ratio p and at a few small training-set sizes N_k,
and log a metric (accuracy, or a loss).

Stage 1 (per pilot size, fitted by least squares through the engine):

    L(N_k, p) = sum_i (b2_i p_i^2 + b1_i p_i + b0) OT(p) + sum_i (c2_i p_i^2 + c1_i p_i + c0)

with OT(p) the distance from the mixture at ratio p to the target (:class:`MixtureTransport`).
Because sum_i p_i = 1 some of these terms are collinear; the fitted predictions on the simplex are
unique all the same (the engine's least squares returns the minimum-norm coefficients).

Stage 2 (from the pilot sizes to a target size N), both reported:

* the log mapping (projektor's "parameter-free" map) between the two largest pilot sizes
  N0 < N1: L(N) = L(N0) + (L(N1) - L(N0)) ln(N/N0) / ln(N1/N0), linear in ln N with no floor;
* with three or more sizes, a saturating power law L(N) = E(p) + A(p) N^-alpha: alpha is fitted
  by the engine to the mean pilot metric per size, and E(p), A(p) by least squares on the stage-1
  predictions at the pilot sizes.

Both maps are fixed weights over the pilot sizes, L(N, p) = sum_k w_k(N) L(N_k, p), so the gradient
with respect to p follows by the chain rule.  The log mapping is the alpha -> 0 limit of the power
law between two sizes: it never saturates, so it overshoots a metric that approaches a ceiling
(accuracy) and undershoots one that approaches a floor (loss) when N is far beyond N1.

Examples
--------
>>> w = log_mapping_weights([1000.0, 1500.0], 10000.0)
>>> [round(float(v), 4) for v in w]
[-4.6789, 5.6789]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from scalelaw import engine, protocol
from scalelaw import expression as ex
from scalelaw.catalogue.transport import SIZE_LAW, projektor_stage1
from scalelaw.errors import FitError, InputError
from scalelaw.families.transport.distance import MixtureTransport, check_compatible, read_samples, read_sources
from scalelaw.families.transport.selection import check_ratio
from scalelaw.io import Table, read_table
from scalelaw.laws import Law
from scalelaw.result import FitGroup, FitResult

MAPPINGS = ("auto", "log", "power")

# ---------------------------------------------------------------------------------------- stage 1
#: projektor's stage-1 law for these sources: inputs ``ot`` and one ratio ``p_i`` per source.
stage1_law = projektor_stage1


@lru_cache(maxsize=64)
def _input_program(law: Law) -> ex.Program:
    """The law's value and its derivative with respect to every input, compiled once."""
    f = law.expression
    return ex.Program([f, *(ex.derivative(f, s) for s in law.inputs)], frozenset())


def value_and_input_gradient(law: Law, params: Mapping[str, float], data: Mapping[str, object]):
    """f and df/d(input) for each input symbol at ``data`` (arrays broadcast together)."""
    env = {k: np.asarray(v, dtype=float) for k, v in data.items()} | {k: float(v) for k, v in params.items()}
    outs = _input_program(law).bind({})(env)
    shape = np.broadcast_shapes(*(np.shape(env[s]) for s in law.inputs))
    value = np.broadcast_to(outs[0], shape).astype(float)
    return value, {
        s: np.broadcast_to(o, shape).astype(float) for s, o in zip(law.inputs, outs[1:], strict=True)
    }


# ---------------------------------------------------------------------------------------- stage 2
def log_mapping_weights(sizes: Sequence[float], size: float) -> np.ndarray:
    """Weights over ``sizes`` of projektor's log mapping between the two largest sizes."""
    sizes = np.asarray(sizes, dtype=float)
    order = np.argsort(sizes)
    n0, n1 = sizes[order[-2]], sizes[order[-1]]
    w = np.zeros(sizes.size)
    w[order[-2]] = np.log(n1 / size) / np.log(n1 / n0)
    w[order[-1]] = np.log(size / n0) / np.log(n1 / n0)
    return w


def power_law_weights(sizes: Sequence[float], size: float, alpha: float) -> np.ndarray:
    """Weights over ``sizes`` of the least-squares fit of E + A N^-alpha, evaluated at ``size``."""
    sizes = np.asarray(sizes, dtype=float)
    if alpha <= 1e-9:  # the alpha -> 0 limit: a line in ln N
        X, x = np.column_stack([np.ones_like(sizes), np.log(sizes)]), np.array([1.0, np.log(size)])
    else:
        X, x = np.column_stack([np.ones_like(sizes), sizes**-alpha]), np.array([1.0, size**-alpha])
    return x @ np.linalg.pinv(X)


# ------------------------------------------------------------------------------------------ pilots
def prepare_pilots(
    table: Table | pd.DataFrame,
    sources: Sequence[str],
    *,
    metric: str = "accuracy",
    size_column: str = "size",
) -> pd.DataFrame:
    """The tidy pilot table: one row per (size, mixture) with the median metric over repeats.

    Parameters
    ----------
    table
        Pilot runs: a ``size`` column (training-set size, samples), one column per source (the
        share of the training set drawn from it), and the ``metric`` column.
    sources
        Source names, which are also the ratio columns.

    Raises
    ------
    InputError
        Naming the file, row and column: a missing column, a non-numeric cell, a ratio that does
        not sum to 1 or has a negative entry, a non-positive size, or pilots at a single size.
    """
    src = table if isinstance(table, Table) else Table(table, "pilots")
    frame = src.frame
    need = [size_column, *sources, metric]
    for column in need:
        if column not in frame.columns:
            raise src.error(
                f"missing column {column!r}; the pilot table needs {', '.join(map(repr, need))} "
                f"(one ratio column per source file); it has {', '.join(map(repr, frame.columns))}"
            )
    values = {}
    for column in need:
        numbers = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
        bad = ~np.isfinite(numbers)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise src.error(
                f"{frame[column].iloc[i]!r} is not a finite number", row=int(frame.index[i]), column=column
            )
        values[column] = numbers
    sizes = values[size_column]
    if np.any(sizes <= 0):
        i = int(np.flatnonzero(sizes <= 0)[0])
        raise src.error(
            f"{sizes[i]:g} is not a positive training-set size", row=int(frame.index[i]), column=size_column
        )
    ratios = np.column_stack([values[s] for s in sources])
    for i, row in enumerate(ratios):
        check_ratio(row, sources, where=f"{src.path}, row {int(frame.index[i])}")
    ratios = ratios / ratios.sum(axis=1, keepdims=True)
    if np.unique(sizes).size < 2:
        raise src.error(
            f"every pilot has size {sizes[0]:g}; stage 2 needs pilots at two or more training-set "
            "sizes (projektor uses N0 and N1 = 1.5 N0)",
            column=size_column,
        )
    tidy = pd.DataFrame(
        {
            "size": sizes,
            **{s: np.round(ratios[:, j], 9) for j, s in enumerate(sources)},
            "metric": values[metric],
        }
    )
    grouped = tidy.groupby(["size", *sources], sort=True)["metric"]
    out = grouped.median().rename(metric).reset_index()
    out["repeats"] = grouped.size().to_numpy()
    return out


# ---------------------------------------------------------------------------------------- projector
@dataclass(frozen=True)
class Projector:
    """The fitted two-stage projector.

    Attributes
    ----------
    sources, metric
        Source names (ratio order) and the metric's column name.
    sizes
        Pilot training-set sizes (samples), ascending.
    stage1
        Stage-1 fit per pilot size.
    size_fit
        Saturating power law fitted to the mean pilot metric per size (three or more sizes), or
        ``None``.
    maximize
        Whether a higher metric is better (accuracy) or lower (loss).
    pilots
        The tidy pilot table with the OT distance of each mixture (``ot``).
    transport
        Settings of the OT distance.
    """

    sources: tuple[str, ...]
    metric: str
    sizes: tuple[float, ...]
    stage1: Mapping[float, FitResult]
    size_fit: FitResult | None
    maximize: bool
    pilots: pd.DataFrame = field(repr=False)
    transport: Mapping[str, object] = field(default_factory=dict)

    @property
    def alpha(self) -> float | None:
        return None if self.size_fit is None else float(self.size_fit.params["alpha"])

    def resolve(self, mapping: str) -> str:
        """``"auto"`` -> ``"power"`` with three or more sizes, else ``"log"``."""
        if mapping not in MAPPINGS:
            raise InputError(f"mapping={mapping!r} is not one of {', '.join(MAPPINGS)}")
        if mapping == "auto":
            return "power" if self.size_fit is not None else "log"
        if mapping == "power" and self.size_fit is None:
            raise InputError(
                f"the saturating power law needs pilots at three or more sizes; these are at "
                f"{', '.join(f'{s:g}' for s in self.sizes)}; use mapping='log'"
            )
        return mapping

    def weights(self, size: float, mapping: str) -> np.ndarray:
        mapping = self.resolve(mapping)
        if mapping == "log":
            return log_mapping_weights(self.sizes, size)
        return power_law_weights(self.sizes, size, self.alpha)

    def at_sizes(self, ratio: np.ndarray, ot: float, ot_gradient: np.ndarray | None = None):
        """Stage-1 predictions at every pilot size (K,) and, given d OT / dp, their gradients (K, m)."""
        data = {"ot": ot, **{f"p_{i}": ratio[i - 1] for i in range(1, len(self.sources) + 1)}}
        values, grads = [], []
        for size in self.sizes:
            fit = self.stage1[size]
            value, d = value_and_input_gradient(fit.law, fit.params, data)
            values.append(float(value))
            if ot_gradient is not None:
                grads.append(
                    float(d["ot"]) * ot_gradient
                    + np.array([float(d[f"p_{i}"]) for i in range(1, len(self.sources) + 1)])
                )
        return np.array(values), (np.array(grads) if ot_gradient is not None else None)


@dataclass(frozen=True)
class Projection(protocol.Result):
    """Projected metric of one mixture at a target size.

    ``at_sizes`` are the stage-1 predictions at the pilot sizes ``sizes``; ``log_mapping`` and
    ``power_law`` the two stage-2 maps (``power_law`` is NaN with fewer than three sizes, and
    ``alpha`` is then None); ``projected`` the one chosen by ``mapping``; ``gradient`` its
    derivative with respect to the ratio.  ``settings`` are the arguments of :func:`project`
    (ratio, size, mapping); ``warnings`` say how far the size lies beyond the pilots.
    """

    FAMILY = "transport"
    KIND = "projection"
    TITLE = "projected metric of a mixture (projektor)"

    ratio: np.ndarray
    size: float
    ot: float
    at_sizes: np.ndarray
    log_mapping: float
    power_law: float
    mapping: str
    projected: float
    gradient: np.ndarray
    sources: tuple[str, ...] = ()
    sizes: tuple[float, ...] = ()
    alpha: float | None = None
    metric: str = "metric"
    settings: Mapping[str, object] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "sources", tuple(self.sources))
        object.__setattr__(self, "sizes", tuple(float(s) for s in self.sizes))

    def along(self, sizes, mapping: str) -> np.ndarray:
        """The ``"log"`` or ``"power"`` map of this mixture at any training-set sizes (samples)."""
        if mapping == "log":
            return np.array([log_mapping_weights(self.sizes, n) @ self.at_sizes for n in np.ravel(sizes)])
        return np.array([power_law_weights(self.sizes, n, self.alpha) @ self.at_sizes for n in np.ravel(sizes)])

    def summary(self) -> pd.DataFrame:
        """One row: the ratio per source, OT, the metric at each pilot size and both maps."""
        names = self.sources or tuple(f"p_{i}" for i in range(1, self.ratio.size + 1))
        row = {**dict(zip(names, self.ratio.tolist(), strict=True)), "size": self.size, "ot": self.ot,
               **{f"at {s:g}": float(v) for s, v in zip(self.sizes, self.at_sizes, strict=True)},
               "log_mapping": self.log_mapping, "power_law": self.power_law, "projected": self.projected}
        return pd.DataFrame([row])

    def plot(self, ax=None):
        """The metric against training-set size: the pilot-size predictions and both maps to ``size``."""
        from scalelaw.plots.transport import projection_curve

        return projection_curve(self, ax=ax)


def fit_projector(
    pilots: pd.DataFrame,
    transport: MixtureTransport,
    *,
    metric: str = "accuracy",
    maximize: bool | None = None,
    loss: str = "squared",
) -> Projector:
    """Fit stage 1 at every pilot size and, with three or more sizes, the size law of stage 2.

    Parameters
    ----------
    pilots
        The tidy table of :func:`prepare_pilots` (ratio columns named as ``transport.names``).
    transport
        The mixture-to-target OT, built from the sources' revealed samples and the target.
    metric
        The metric column.
    maximize
        Whether higher is better; by default true unless the metric's name says loss or error.
    loss
        The engine's loss for stage 1: ``"squared"`` is ordinary least squares, as in projektor.
    """
    sources = tuple(transport.names)
    if maximize is None:
        maximize = not any(word in metric.lower() for word in ("loss", "error", "perplexity"))
    ratios = pilots[list(sources)].to_numpy(dtype=float)
    unique, index = np.unique(np.round(ratios, 9), axis=0, return_inverse=True)
    ot_values = np.array([transport(r).cost for r in unique])
    frame = pilots.assign(ot=ot_values[np.ravel(index)])
    sizes = tuple(float(s) for s in np.unique(frame["size"]))
    law = stage1_law(sources, metric)
    stage1 = {}
    for size in sizes:
        rows = frame[frame["size"] == size]
        try:
            stage1[size] = engine.fit(law, rows, loss=loss, polish=1)
        except FitError as err:
            raise FitError(f"stage 1 at size {size:g}: {err}") from err
    size_fit = None
    if len(sizes) >= 3:
        common = frame.groupby(list(sources))["size"].transform("nunique") == len(sizes)
        use = frame[common] if common.any() else frame
        curve = use.groupby("size")[metric].mean().reset_index().rename(columns={metric: "metric"})
        size_fit = engine.fit(SIZE_LAW, curve, loss="squared")
    return Projector(sources, metric, sizes, stage1, size_fit, bool(maximize), frame, transport.settings())


def load_projector(
    pilots: str | Path,
    sources: str | Path,
    target: str | Path,
    *,
    metric: str = "accuracy",
    maximize: bool | None = None,
    label_column: str | None = None,
    method: str = "exact",
    reg: float = 0.05,
    label_weight: float = 1.0,
    max_samples: int | None = None,
    seed: int = 0,
) -> tuple[Projector, MixtureTransport]:
    """The projector and its transport from files: the pilot table ``pilots`` (``size``, one
    ratio column per source, the metric), the folder ``sources`` of one CSV of revealed samples
    per source (see :func:`~.distance.read_sources`) and the target's samples ``target``.

    ``method``, ``reg``, ``label_weight``, ``max_samples`` and ``seed`` are those of
    :class:`~.distance.MixtureTransport`; ``metric`` and ``maximize`` those of :func:`fit_projector`.
    """
    source_sets = read_sources(sources, label_column=label_column)
    target_set = read_samples(target, label_column=label_column, name=str(target))
    for s in source_sets:
        check_compatible(s, target_set)
    tidy = prepare_pilots(read_table(pilots, rename=False), [s.name for s in source_sets], metric=metric)
    transport = MixtureTransport(source_sets, target_set, method=method, reg=reg, label_weight=label_weight,
                                 max_samples=max_samples, seed=seed)
    return fit_projector(tidy, transport, metric=metric, maximize=maximize), transport


def _beyond(projector: Projector, size: float) -> list[str]:
    largest = max(projector.sizes)
    out = []
    if size > largest:
        out.append(f"extrapolating: N = {size:g} is {size / largest:.3g}x the largest pilot size {largest:g}")
    elif size < min(projector.sizes):
        out.append(f"N = {size:g} is below the smallest pilot size {min(projector.sizes):g}")
    if projector.size_fit is not None:
        out += [f"size law: {w}" for w in projector.size_fit.warnings]
    return out


def project(
    projector: Projector, transport: MixtureTransport, ratio, size: float, *, mapping: str = "auto"
) -> Projection:
    """Projected metric at training-set size ``size`` for the mixture at ``ratio`` (one OT solve)."""
    p = check_ratio(ratio, projector.sources)
    if not np.isfinite(size) or size <= 0:
        raise InputError(f"size={size} must be a positive number of training samples")
    chosen = projector.resolve(mapping)
    ot = transport(p)
    values, grads = projector.at_sizes(p, ot.cost, ot.gradient)
    w_log = log_mapping_weights(projector.sizes, size)
    log_value = float(w_log @ values)
    power = np.nan
    w = w_log
    if projector.size_fit is not None:
        w_pow = power_law_weights(projector.sizes, size, projector.alpha)
        power = float(w_pow @ values)
        if chosen == "power":
            w = w_pow
    projected = log_value if chosen == "log" else power
    settings = {"ratio": np.asarray(ratio, dtype=float).tolist() if not isinstance(ratio, Mapping)
                else dict(ratio), "size": float(size), "mapping": mapping}
    return Projection(p, float(size), ot.cost, values, log_value, power, chosen, projected, w @ grads,
                      projector.sources, projector.sizes, projector.alpha, projector.metric, settings,
                      tuple(_beyond(projector, size)))


def ratio_label(ratio, digits: int = 3) -> str:
    """A mixture as text, its shares joined by commas (``0.4,0.4,0.2``)."""
    return ",".join(f"{v:.{digits}g}" for v in np.ravel(ratio))


def stage_table(projector: Projector) -> pd.DataFrame:
    """One row per pilot size: the rows and in-sample errors of its stage-1 fit."""
    return pd.DataFrame([{"size": s, "rows": f.data["rows"], "mae": f.metrics["mae"], "rmse": f.metrics["rmse"]}
                         for s, f in projector.stage1.items()])


def project_mixtures(
    projector: Projector, transport: MixtureTransport, ratios=None, *, size: float, mapping: str = "auto"
) -> FitGroup:
    """The projection of several mixtures (default: every pilot mixture) at ``size``, as one group.

    A :class:`~scalelaw.result.FitGroup` of :class:`Projection` keyed by the ratio as text; its
    ``info`` holds the stage-1 errors (``stage1``), ``alpha``, the pilot sizes, the metric, whether
    higher is better (``maximize``) and the OT settings (``transport``).
    """
    chosen = [np.asarray(r, dtype=float) if not isinstance(r, Mapping) else r for r in ratios] if ratios \
        else list(np.unique(projector.pilots[list(projector.sources)].to_numpy(dtype=float), axis=0))
    members = [project(projector, transport, r, size, mapping=mapping) for r in chosen]
    info = {"stage1": stage_table(projector), "alpha": projector.alpha, "pilot_sizes": list(projector.sizes),
            "metric": projector.metric, "maximize": projector.maximize, "sources": list(projector.sources),
            "transport": dict(projector.transport)}
    settings = {"ratios": None if not ratios else [m.settings["ratio"] for m in members], "size": float(size),
                "mapping": mapping}
    warned = dict.fromkeys(w for m in members for w in m.warnings)
    return FitGroup("transport", "projections", {ratio_label(m.ratio): m for m in members}, key="mixture",
                    settings=settings, info=info, warnings=tuple(warned))


__all__ = [
    "MAPPINGS",
    "SIZE_LAW",
    "Projection",
    "Projector",
    "fit_projector",
    "log_mapping_weights",
    "power_law_weights",
    "prepare_pilots",
    "project",
    "project_mixtures",
    "ratio_label",
    "stage1_law",
    "stage_table",
    "value_and_input_gradient",
]
