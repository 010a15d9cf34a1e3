"""Compute accounting, the Pareto frontier of measured configurations, and the compute-optimal
(N, D, S) for a FLOPs budget under the joint law.

Training compute of a retrieval-based LM, as in MassiveDS (Shao et al. 2024, section 4.3):

* pretraining the reader: 6 N D FLOPs (N parameters, D tokens);
* building the datastore: 2 N_r S FLOPs, one forward pass of the retriever (N_r parameters) over
  the S datastore tokens; a flat inner-product index adds nothing;
* optionally, serving Q queries: Q (2 N_r q + 2 d S / p) FLOPs, encoding a q-token query and
  scoring it against the S / p passage embeddings of dimension d (flat search).

The default retriever is Contriever-MSMARCO, the retriever MassiveDS uses: a BERT-base encoder of
about 110M parameters (a figure of 177M in a secondary summary does not match BERT-base).

Under the joint law L = E + A/N^alpha + B/D^beta + C/S^gamma and a budget F, the pretraining part
F_pre = 6 N D is split between N and D in closed form (Hoffmann et al.'s allocation) and the rest
buys the datastore; the split is found by a grid and golden-section search on ln S, for every
bootstrap draw at once.

Examples
--------
>>> cost = RetrievalCost()
>>> f"{cost.datastore(1.4e12):.3g}", f"{cost.pretraining(1e9, 3e11):.3g}"
('3.08e+20', '1.8e+21')
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from scalelaw import protocol
from scalelaw.errors import InputError
from scalelaw.families.datastore.data import Measurements, tokens_label
from scalelaw.families.datastore.joint import JointFit
from scalelaw.families.loss import chinchilla_allocation
from scalelaw.io import quantities

#: Contriever-MSMARCO (BERT-base), the retriever of MassiveDS, in parameters.
RETRIEVER_PARAMS = 1.1e8


@protocol.value_kind("datastore.cost")
@dataclass(frozen=True)
class RetrievalCost:
    """How FLOPs are counted.

    Parameters
    ----------
    retriever_params
        N_r, parameters of the retriever that embeds the datastore (default: Contriever, 110M).
    queries
        Q, queries served (0: count training compute only, as the paper does).
    query_tokens
        q, tokens per query.
    embedding_dim
        d, size of a passage embedding (768 for BERT-base).
    passage_tokens
        p, tokens per indexed passage (MassiveDS chunks passages of 256 words).
    """

    retriever_params: float = RETRIEVER_PARAMS
    queries: float = 0.0
    query_tokens: float = 512.0
    embedding_dim: float = 768.0
    passage_tokens: float = 256.0

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not np.isfinite(value) or value < 0 or (value == 0 and name != "queries"):
                raise InputError(f"{name.replace('_', '-')} must be a positive number, got {value:g}")

    def pretraining(self, params, tokens):
        """6 N D, FLOPs."""
        return 6.0 * np.asarray(params, dtype=float) * np.asarray(tokens, dtype=float)

    def datastore(self, datastore_tokens):
        """2 N_r S, FLOPs."""
        return 2.0 * self.retriever_params * np.asarray(datastore_tokens, dtype=float)

    def serving(self, datastore_tokens):
        """Q (2 N_r q + 2 d S / p), FLOPs (zero for an LM-only model)."""
        S = np.asarray(datastore_tokens, dtype=float)
        encode = 2.0 * self.retriever_params * self.query_tokens
        per_query = encode + 2.0 * self.embedding_dim * S / self.passage_tokens
        return np.where(S > 0, self.queries * per_query, 0.0)

    def total(self, params, tokens, datastore_tokens):
        """Pretraining + datastore + serving FLOPs."""
        S = datastore_tokens
        return self.pretraining(params, tokens) + self.datastore(S) + self.serving(S)

    @property
    def per_datastore_token(self) -> float:
        """FLOPs per datastore token (building, plus searching it for every query)."""
        return 2.0 * self.retriever_params + self.queries * 2.0 * self.embedding_dim / self.passage_tokens

    @property
    def fixed(self) -> float:
        """FLOPs of a retrieval model that do not depend on N, D or S (encoding the queries)."""
        return self.queries * 2.0 * self.retriever_params * self.query_tokens

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping) -> RetrievalCost:
        return cls(**{k: float(v) for k, v in d.items()})


# --------------------------------------------------------------------------------- Pareto frontier
def frontier(measurements: Measurements, cost: RetrievalCost = RetrievalCost()) -> pd.DataFrame:
    """Every measured configuration (seed means) with its FLOPs, and which are Pareto-optimal.

    Returns one row per (reader, metric, datastore size): ``pretraining_flops``,
    ``datastore_flops``, ``serving_flops``, ``flops`` (their sum), ``retrieval`` (S > 0),
    ``pareto`` (no configuration of the metric with at most its FLOPs is better) and
    ``lm_only_pareto`` (the same among LM-only configurations), sorted by metric and FLOPs.
    """
    points = measurements.points.copy()
    points["pretraining_flops"] = cost.pretraining(points["params"], points["tokens"])
    points["datastore_flops"] = cost.datastore(points["datastore_tokens"])
    points["serving_flops"] = cost.serving(points["datastore_tokens"])
    points["flops"] = points["pretraining_flops"] + points["datastore_flops"] + points["serving_flops"]
    points["retrieval"] = points["datastore_tokens"] > 0
    points["pareto"] = False
    points["lm_only_pareto"] = False
    parts = []
    for name, part in points.groupby("metric", sort=False):
        metric = measurements.metrics[name]
        sign = 1.0 if metric.kind == "lower" else -1.0
        part = part.assign(_score=sign * part["value"]).sort_values(["flops", "_score"], kind="stable")
        part["pareto"] = _pareto(part["_score"].to_numpy())
        lm = ~part["retrieval"].to_numpy()
        flags = np.zeros(len(part), dtype=bool)
        flags[lm] = _pareto(part["_score"].to_numpy()[lm])
        part["lm_only_pareto"] = flags
        parts.append(part.drop(columns="_score"))
    columns = ["metric", "reader", "model", "params", "tokens", "datastore_tokens", "value", "sd", "n_seeds",
               "pretraining_flops", "datastore_flops", "serving_flops", "flops", "retrieval", "pareto",
               "lm_only_pareto"]
    return pd.concat(parts)[columns].reset_index(drop=True)


def _pareto(score: np.ndarray) -> np.ndarray:
    """Points (sorted by cost) whose score (lower is better) beats every cheaper point."""
    best = np.minimum.accumulate(score)
    previous = np.concatenate([[np.inf], best[:-1]])
    return score < previous


# ---------------------------------------------------------------------------- compute-optimal point
@dataclass(frozen=True)
class Optimum(protocol.Result):
    """Compute-optimal reader size, pretraining tokens and datastore size for FLOPs budgets.

    Every array field is over budgets; ``*_lower``/``*_upper`` are bootstrap percentile
    bounds (NaN for a fit without bootstrap); ``value`` is the predicted metric.  ``warnings``
    say where the answer extrapolates; ``settings`` are those of :func:`optimal`.
    """

    FAMILY = "datastore"
    KIND = "optimum"

    flops: np.ndarray
    params: np.ndarray
    tokens: np.ndarray
    datastore_tokens: np.ndarray
    value: np.ndarray
    params_lower: np.ndarray
    params_upper: np.ndarray
    tokens_lower: np.ndarray
    tokens_upper: np.ndarray
    datastore_tokens_lower: np.ndarray
    datastore_tokens_upper: np.ndarray
    value_lower: np.ndarray
    value_upper: np.ndarray
    pretraining_flops: np.ndarray
    datastore_flops: np.ndarray
    serving_flops: np.ndarray
    at_cap: np.ndarray
    level: float
    metric: str
    warnings: tuple[str, ...] = ()
    settings: Mapping[str, object] = field(default_factory=dict)


    @property
    def TITLE(self) -> str:  # noqa: N802 (the protocol's class-level name)
        return f"compute-optimal (N, D, S) for {self.metric} ({100 * self.level:g}% intervals)"

    def to_frame(self) -> pd.DataFrame:
        skip = ("level", "metric", "warnings", "settings")
        return pd.DataFrame({k: v for k, v in self.__dict__.items() if k not in skip})

    def summary(self) -> pd.DataFrame:
        """One row per budget (FLOPs): N, D, S and the metric, their intervals, the FLOPs split."""
        return self.to_frame()

    def plot(self, ax=None):
        """N, D and S against the budget (log-log), with their intervals."""
        from scalelaw.plots.datastore import optimum_figure

        return optimum_figure(self, ax=ax)


def _search(draws: np.ndarray, names: tuple[str, ...], budget: np.ndarray, cost: RetrievalCost,
            cap: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(N, D, S, L) at the optimum per draw (rows) and budget (columns): a grid on ln S, then a
    golden-section search in the best grid cell; the largest affordable S when L still falls there."""
    available = budget[None, :] - cost.fixed
    top = np.broadcast_to(np.log(np.minimum(cap, available / cost.per_datastore_token * (1.0 - 1e-9))),
                          (draws.shape[0], budget.size))
    bottom = np.maximum(top - 46.0, 0.0)

    def split(log_s):
        extra = (1,) * (log_s.ndim - 2)
        p = {n: draws[:, j].reshape(-1, 1, *extra) for j, n in enumerate(names)}
        S = np.exp(log_s)
        N, D = chinchilla_allocation(available.reshape(1, -1, *extra) - cost.per_datastore_token * S,
                                     E=p["E"], A=p["A"], B=p["B"], alpha=p["alpha"], beta=p["beta"])
        with np.errstate(all="ignore"):
            L = p["E"] + p["A"] / N ** p["alpha"] + p["B"] / D ** p["beta"] + p["C"] / S ** p["gamma"]
        return N, D, S, np.where(np.isfinite(L), L, np.inf)

    grid = bottom[..., None] + (top - bottom)[..., None] * np.linspace(0.0, 1.0, 401)
    values = split(grid)[3]
    k = np.clip(np.argmin(values, axis=-1), 1, grid.shape[-1] - 2)
    lo = np.take_along_axis(grid, (k - 1)[..., None], -1)[..., 0]
    hi = np.take_along_axis(grid, (k + 1)[..., None], -1)[..., 0]
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    for _ in range(80):
        x1, x2 = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        left = split(x1)[3] < split(x2)[3]
        hi, lo = np.where(left, x2, hi), np.where(left, lo, x1)
    middle = 0.5 * (lo + hi)
    best = np.where(values[..., -1] < split(middle)[3], top, middle)
    return split(best)


def optimal(joint: JointFit, flops, *, cost: RetrievalCost = RetrievalCost(),
            max_datastore: float | None = None) -> Optimum:
    """The (N, D, S) that minimises the joint law's loss for each FLOPs budget, with intervals.

    Parameters
    ----------
    joint
        A fitted joint law (its bootstrap gives the intervals).
    flops
        Budgets, FLOPs: pretraining + datastore (+ serving when ``cost.queries`` > 0).
    cost
        The compute accounting.
    max_datastore
        Tokens available for the datastore (e.g. 1.4e12 for MassiveDS); None for no limit.

    Raises
    ------
    InputError
        When a budget is below the smallest measured retrieval configuration, where the law was
        not fitted, or ``max_datastore`` is not positive.
    """
    settings = {"flops": [float(f) for f in quantities(flops, "flops")], "cost": cost,
                "max_datastore": None if max_datastore is None else float(max_datastore)}
    budget = quantities(flops, "flops")
    if np.any(~np.isfinite(budget) | (budget <= 0)):
        raise InputError(f"flops={budget.tolist()} must be positive numbers of FLOPs")
    if max_datastore is not None and not max_datastore > 0:
        raise InputError(f"max_datastore={max_datastore:g} must be a positive number of tokens")
    cap = np.inf if max_datastore is None else float(max_datastore)
    configs = joint.configurations[joint.configurations["datastore_tokens"] > 0]
    spent = cost.total(*(configs[c].to_numpy(dtype=float) for c in ("params", "tokens", "datastore_tokens")))
    smallest = int(np.argmin(spent))
    if budget.min() < spent[smallest]:
        c = configs.iloc[smallest]
        raise InputError(f"flops={budget.min():.3g} is below the smallest measured configuration "
                         f"({c['reader']} with a {tokens_label(c['datastore_tokens'])}-token datastore, "
                         f"{spent[smallest]:.3g} FLOPs); the law was not fitted there; give a budget of at "
                         "least that")
    fit = joint.fit
    names = fit.law.param_names
    point = np.array([[fit.params[n] for n in names]])
    N, D, S, L = (v[0] for v in _search(point, names, budget, cost, cap))
    intervals = {}
    if fit.bootstrap is not None:
        for name, draws in zip(("params", "tokens", "datastore_tokens", "value"),
                               _search(fit.bootstrap, names, budget, cost, cap), strict=True):
            lo, hi = fit.percentiles(np.where(np.isfinite(draws), draws, np.nan))
            intervals[name] = (lo, hi)
    nan = np.full(budget.shape, np.nan)
    value = joint.to_metric(L)
    v_lo, v_hi = (joint.to_metric(b) for b in intervals.get("value", (nan, nan)))
    if joint.metric.kind == "higher":
        v_lo, v_hi = v_hi, v_lo
    warnings = _warnings(fit, budget, spent.max(), N, D, S, cap)
    bounds = {f"{name}_{side}": intervals.get(name, (nan, nan))[k]
              for name in ("params", "tokens", "datastore_tokens")
              for k, side in enumerate(("lower", "upper"))}
    return Optimum(
        flops=budget, params=N, tokens=D, datastore_tokens=S, value=value, **bounds, value_lower=v_lo,
        value_upper=v_hi, pretraining_flops=cost.pretraining(N, D), datastore_flops=cost.datastore(S),
        serving_flops=cost.serving(S), at_cap=S >= cap * (1 - 1e-6), level=fit.level,
        metric=joint.metric.name, warnings=warnings, settings=settings)


def _warnings(fit, budget, largest, N, D, S, cap) -> tuple[str, ...]:
    out = []
    if budget.max() > largest:
        out.append(f"flops={budget.max():.3g} is above the largest measured configuration "
                   f"({largest:.3g} FLOPs): the answer extrapolates the law")
    ranges = fit.data.get("ranges", {})
    for label, column, values in (("reader size", "params", N), ("pretraining tokens", "tokens", D),
                                  ("datastore", "datastore_tokens", S)):
        low, high = ranges.get(column, (np.nan, np.nan))
        beyond = values[(values > high * 1.0001) | (values < low * 0.9999)]
        if beyond.size:
            out.append(f"the optimal {label} {tokens_label(beyond[0])} lies outside the fitted range "
                       f"{tokens_label(low)}..{tokens_label(high)}")
    if np.isfinite(cap) and np.any(S >= cap * (1 - 1e-6)):
        out.append(f"the datastore is capped at {tokens_label(cap)} tokens (max_datastore=)")
    return tuple(out)
