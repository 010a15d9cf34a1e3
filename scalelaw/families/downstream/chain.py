"""The predictability chain (Schaeffer et al. 2024): from choice log-likelihoods to accuracy.

For each model and question, with LL_i the summed log-likelihood of choice i and t the correct
choice, the chain of metrics is

* ``logp_correct`` = LL_t (nats), ``p_vocab_correct`` = exp(LL_t): the probability the model puts
  on the correct continuation over its whole vocabulary;
* ``p_choices_correct`` = softmax(LL)_t: the same mass renormalised over the choices only;
* ``brier`` = mean_i (softmax(LL)_i - 1[i = t])^2 (the mean over choices; lower is better);
* ``accuracy`` = 1[argmax_i LL_i = t], a tie for the maximum counting as wrong (ties are counted
  and reported); ``accuracy_norm`` does the same with LL_i / length_i when choice lengths (in
  characters) are known, as lm-evaluation-harness's ``acc_norm``.

The mass on the incorrect choices, ``p_vocab_incorrect`` = sum_{i != t} exp(LL_i), drives the loss
of predictability along the chain: p_choices_correct = p / (p + q) falls whenever q rises faster
than p.  :func:`analyse` correlates each metric with log10 compute across the models of a family,
question by question (Pearson, Spearman, Kendall tau-b), summarises those correlations per metric,
and measures how the incorrect mass co-varies with the correct mass and with compute.

Examples
--------
>>> import pandas as pd
>>> rows = pd.DataFrame({"model": "m", "family": "f", "flops": 1e20, "question": "q",
...                      "choice": ["a", "b"], "logprob": [-1.0, -2.0],
...                      "is_correct": [True, False]})
>>> m = question_metrics(rows).iloc[0]
>>> [round(float(m[k]), 6) for k in ("p_choices_correct", "brier", "accuracy")]
[0.731059, 0.072329, 1.0]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from scalelaw import protocol
from scalelaw.errors import InputError
from scalelaw.families.downstream.readers import Choices, check_choices

#: The chain in order, from the most to the least continuous metric.
CHAIN = ("logp_correct", "p_vocab_correct", "p_choices_correct", "brier", "accuracy")
#: Correlation methods, each computed for every question at once.
METHODS = ("pearson", "spearman", "kendall")
#: Metrics where lower is better: their correlations are taken with the negated metric.
LOWER_IS_BETTER = frozenset({"brier"})
MIN_MODELS = 3
#: Columns a tidy choices frame needs (``length`` is optional).
COLUMNS = ("model", "family", "flops", "question", "choice", "logprob", "is_correct")


# --------------------------------------------------------------------------------- per question
def question_metrics(choices: Choices | pd.DataFrame) -> pd.DataFrame:
    """One row per (model, question) with every metric of the chain.

    Columns: ``model, family, flops, question, n_choices, logp_correct, p_vocab_correct,
    logp_incorrect, p_vocab_incorrect, p_choices_correct, brier, accuracy, tie`` and, with choice
    lengths, ``accuracy_norm`` and ``tie_norm``.  ``tie`` is true when the largest log-likelihood
    is shared by several choices (the question then counts as wrong).
    """
    frame = choices.frame if isinstance(choices, Choices) else choices
    frame = frame.sort_values(["model", "question", "choice"], kind="stable")
    keys = frame["model"].astype(str) + "\x00" + frame["question"].astype(str)
    boundary = np.r_[True, keys.to_numpy()[1:] != keys.to_numpy()[:-1]]
    starts = np.flatnonzero(boundary)
    segment = np.cumsum(boundary) - 1
    ll = frame["logprob"].to_numpy(dtype=float)
    correct = frame["is_correct"].to_numpy(dtype=bool)
    n = np.add.reduceat(np.ones_like(ll), starts)
    top = np.maximum.reduceat(ll, starts)
    e = np.exp(ll - top[segment])
    p = e / np.add.reduceat(e, starts)[segment]
    logp_correct = np.add.reduceat(np.where(correct, ll, 0.0), starts)
    wrong = np.where(correct, -np.inf, ll)
    wrong_top = np.maximum.reduceat(wrong, starts)
    logp_incorrect = wrong_top + np.log(np.add.reduceat(np.exp(wrong - wrong_top[segment]), starts))
    out = frame.iloc[starts][["model", "family", "flops", "question"]].reset_index(drop=True)
    out["n_choices"] = n.astype(int)
    out["logp_correct"] = logp_correct
    out["p_vocab_correct"] = np.exp(logp_correct)
    out["logp_incorrect"] = logp_incorrect
    out["p_vocab_incorrect"] = np.exp(logp_incorrect)
    out["p_choices_correct"] = np.add.reduceat(np.where(correct, p, 0.0), starts)
    out["brier"] = np.add.reduceat((p - correct) ** 2, starts) / n
    out["accuracy"], out["tie"] = _argmax_correct(ll, correct, starts, segment)
    if "length" in frame.columns:
        normed = ll / frame["length"].to_numpy(dtype=float)
        out["accuracy_norm"], out["tie_norm"] = _argmax_correct(normed, correct, starts, segment)
    return out


def _argmax_correct(score: np.ndarray, correct: np.ndarray, starts: np.ndarray, segment: np.ndarray):
    """1.0 when the correct choice alone has the top score; and whether the top score is shared."""
    top = np.maximum.reduceat(score, starts)
    at_top = score == top[segment]
    shared = np.add.reduceat(at_top.astype(int), starts) > 1
    hit = np.add.reduceat((at_top & correct).astype(int), starts) > 0
    return (hit & ~shared).astype(float), shared


def chain_metrics(metrics: pd.DataFrame) -> tuple[str, ...]:
    """The chain's metrics present in ``metrics`` (``accuracy_norm`` when lengths were given)."""
    return CHAIN + (("accuracy_norm",) if "accuracy_norm" in metrics.columns else ())


def per_model(metrics: pd.DataFrame) -> pd.DataFrame:
    """Per model: compute, number of questions, the mean of each metric, ties."""
    names = [*chain_metrics(metrics), "p_vocab_incorrect"]
    grouped = metrics.groupby("model", sort=False)
    out = grouped[names].mean()
    out.insert(0, "n_questions", grouped.size())
    out.insert(0, "flops", grouped["flops"].first())
    out.insert(0, "family", grouped["family"].first())
    out["ties"] = grouped["tie"].sum().astype(int)
    if "tie_norm" in metrics.columns:
        out["ties_norm"] = grouped["tie_norm"].sum().astype(int)
    return out.sort_values(["family", "flops"], kind="stable")


# ----------------------------------------------------------------------------------- correlations
def correlate(x: np.ndarray, Y: np.ndarray, method: str) -> np.ndarray:
    """Correlation of ``x`` (m,) with every column of ``Y`` (m, q); NaN where a column is constant.

    ``method`` is ``pearson``, ``spearman`` (Pearson of average ranks) or ``kendall`` (tau-b:
    sum sgn(dx) sgn(dy) / sqrt(sum sgn(dx)^2 sum sgn(dy)^2) over pairs).
    """
    x = np.asarray(x, dtype=float)
    Y = np.asarray(Y, dtype=float)
    if method == "pearson":
        return _pearson(x[:, None], Y)
    if method == "spearman":
        return _pearson(rankdata(x)[:, None], rankdata(Y, axis=0))
    if method == "kendall":
        i, j = np.triu_indices(x.size, k=1)
        sx = np.sign(x[i] - x[j])
        out = np.empty(Y.shape[1])
        step = max(1, 2_000_000 // max(i.size, 1))
        for a in range(0, Y.shape[1], step):
            sy = np.sign(Y[i, a : a + step] - Y[j, a : a + step])
            with np.errstate(invalid="ignore", divide="ignore"):
                out[a : a + step] = (sx @ sy) / np.sqrt(np.sum(sx * sx) * np.sum(sy * sy, axis=0))
        return out
    raise InputError(f"unknown correlation {method!r}; choose one of {', '.join(METHODS)}")


def _pearson(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Column-wise Pearson correlation of X (m, 1 or q) with Y (m, q)."""
    xc = X - X.mean(axis=0)
    yc = Y - Y.mean(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.sum(xc * yc, axis=0) / np.sqrt(np.sum(xc * xc, axis=0) * np.sum(yc * yc, axis=0))
    # a constant column has no spread: its correlation is undefined, not a rounding residue
    flat = (np.ptp(Y, axis=0) == 0) | (np.ptp(X, axis=0) == 0)
    return np.where(flat, np.nan, np.clip(r, -1.0, 1.0))


def _covariation(A: np.ndarray, B: np.ndarray, method: str) -> np.ndarray:
    """Per column q, the correlation of A[:, q] with B[:, q] across models."""
    if method == "pearson":
        return _pearson(A, B)
    if method == "spearman":
        return _pearson(rankdata(A, axis=0), rankdata(B, axis=0))
    i, j = np.triu_indices(A.shape[0], k=1)
    sa, sb = np.sign(A[i] - A[j]), np.sign(B[i] - B[j])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sum(sa * sb, axis=0) / np.sqrt(np.sum(sa * sa, axis=0) * np.sum(sb * sb, axis=0))


def _family_matrix(metrics: pd.DataFrame, family: str, names: list[str]):
    """log10 compute (m,), one (m, q) matrix per metric over the questions every model answered,
    those questions, and how many questions were left out."""
    part = metrics[metrics["family"] == family]
    models = part.groupby("model", sort=False)["flops"].first().sort_values(kind="stable")
    count = part.groupby("question", sort=False)["model"].nunique()
    common = count.index[count == len(models)]
    part = part[part["question"].isin(common)]
    matrices = {}
    questions = pd.Index([])
    for name in names:
        wide = part.pivot(index="model", columns="question", values=name).loc[models.index]
        matrices[name] = wide.to_numpy(dtype=float)
        questions = wide.columns
    return np.log10(models.to_numpy(dtype=float)), matrices, questions, int((count < len(models)).sum())


def correlations(metrics: pd.DataFrame, *, min_models: int = MIN_MODELS) -> tuple[pd.DataFrame, list[str]]:
    """Per family, question, metric and method: the correlation of the metric with log10 compute.

    Metrics where lower is better (Brier) are negated first, so +1 always means "improves with
    compute".  Also ``logp_incorrect`` against compute and ``covariation``: log incorrect mass
    against log correct mass across the family's models.  Families with fewer than
    ``min_models`` distinct computes are skipped, with a note.
    """
    names = [*chain_metrics(metrics), "logp_incorrect"]
    rows, notes = [], []
    for family in sorted(metrics["family"].unique()):
        distinct = metrics.loc[metrics["family"] == family, "flops"].nunique()
        if distinct < min_models:
            notes.append(f"family {family!r}: {distinct} distinct compute value(s); correlations need "
                         f"at least {min_models} models")
            continue
        x, mats, questions, dropped = _family_matrix(metrics, family, names)
        if dropped:
            notes.append(f"family {family!r}: {dropped} question(s) not answered by every model were "
                         "left out")
        for name in names:
            Y = -mats[name] if name in LOWER_IS_BETTER else mats[name]
            for method in METHODS:
                rows.append(pd.DataFrame({"family": family, "metric": name, "method": method,
                                          "question": questions, "correlation": correlate(x, Y, method)}))
        for method in METHODS:
            r = _covariation(mats["logp_correct"], mats["logp_incorrect"], method)
            rows.append(pd.DataFrame({"family": family, "metric": "covariation", "method": method,
                                      "question": questions, "correlation": r}))
    if not rows:
        return pd.DataFrame(columns=["family", "metric", "method", "question", "correlation"]), notes
    return pd.concat(rows, ignore_index=True), notes


def summarise(table: pd.DataFrame) -> pd.DataFrame:
    """Per (family, metric, method): questions, mean, median, std, quartiles and NaN fraction."""
    columns = ["family", "metric", "method", "n_questions", "mean", "median", "std", "q25", "q75",
               "nan_fraction"]
    if table.empty:
        return pd.DataFrame(columns=columns)
    grouped = table.groupby(["family", "metric", "method"], sort=False)["correlation"]
    out = pd.DataFrame({
        "n_questions": grouped.size(),
        "mean": grouped.mean(),
        "median": grouped.median(),
        "std": grouped.std(),
        "q25": grouped.quantile(0.25),
        "q75": grouped.quantile(0.75),
        "nan_fraction": grouped.apply(lambda s: float(s.isna().mean())),
    }).reset_index()
    return out[columns]


# ----------------------------------------------------------------------------------------- result
@dataclass(frozen=True)
class ChainResult(protocol.Result):
    """What :func:`analyse` found.

    Attributes
    ----------
    per_question
        :func:`question_metrics`: one row per (model, question).
    per_model
        :func:`per_model`: means per model.
    correlations
        Long table: family, metric, method, question, correlation (with log10 compute, or for
        ``covariation`` between log incorrect and log correct mass).
    correlation_summary
        :func:`summarise` of the chain's metrics, in chain order (also ``summary()``).
    incorrect
        :func:`summarise` of ``logp_incorrect`` (vs compute) and ``covariation``.
    notes
        What was read, skipped or assumed.
    source
        The choices file that was read.
    settings
        The keyword arguments of :func:`analyse` (``min_models``).
    warnings
        Families skipped or questions left out, and ties counted as wrong.
    """

    FAMILY = "downstream"
    KIND = "chain"
    TITLE = "predictability chain: per-question correlations with log10 compute"

    per_question: pd.DataFrame
    per_model: pd.DataFrame
    correlations: pd.DataFrame
    correlation_summary: pd.DataFrame
    incorrect: pd.DataFrame
    notes: tuple[str, ...] = field(default_factory=tuple)
    source: str = "table"
    settings: Mapping[str, object] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "notes", tuple(self.notes))

    def degradation(self, method: str = "pearson", statistic: str = "mean") -> pd.DataFrame:
        """A family x metric table of one summary statistic, columns in chain order."""
        part = self.correlation_summary[self.correlation_summary["method"] == method]
        table = part.pivot(index="family", columns="metric", values=statistic)
        return table[[m for m in chain_metrics(self.per_question) if m in table.columns]]

    def summary(self) -> pd.DataFrame:
        """Per (family, metric, method): the distribution of per-question correlations."""
        return self.correlation_summary

    def plot(self, ax=None):
        """The chain's metrics against compute and their correlations (on ``ax``: the histogram)."""
        from scalelaw.plots.downstream import chain_figure

        return chain_figure(self, ax=ax)


def analyse(choices: Choices | pd.DataFrame, *, min_models: int = MIN_MODELS) -> ChainResult:
    """Per-question metrics, per-model means and per-question correlations with compute.

    Parameters
    ----------
    choices
        :class:`~scalelaw.families.downstream.readers.Choices` (or its tidy frame, checked as
        the readers check a file).
    min_models
        Fewest distinct computes in a family for its correlations (at least 2).
    """
    if min_models < 2:
        raise InputError(f"min_models={min_models}: a correlation with compute needs at least 2 models")
    if not isinstance(choices, Choices):
        missing = [c for c in COLUMNS if c not in choices.columns]
        if missing:
            raise InputError(f"the choices table has no column {missing[0]!r}; it needs {', '.join(COLUMNS)}")
        check_choices(choices)
    metrics = question_metrics(choices)
    corr, notes = correlations(metrics, min_models=min_models)
    summary = summarise(corr)
    chain = list(chain_metrics(metrics))
    is_chain = summary["metric"].isin(chain)
    part = summary[is_chain]
    ordered = part.assign(_m=part["method"].map(METHODS.index), _k=part["metric"].map(chain.index))
    ordered = ordered.sort_values(["family", "_m", "_k"], kind="stable").drop(columns=["_m", "_k"])
    base = tuple(choices.notes) if isinstance(choices, Choices) else ()
    source = choices.path if isinstance(choices, Choices) else "table"
    models = per_model(metrics)
    warnings = list(notes)
    ties = int(models["ties"].sum())
    if ties:
        warnings.append(f"{ties} (model, question) pair(s) share the top log-likelihood between choices; "
                        "they count as wrong")
    return ChainResult(metrics, models, corr, ordered.reset_index(drop=True),
                       summary[~is_chain].reset_index(drop=True), base + tuple(notes), source,
                       {"min_models": min_models}, tuple(warnings))
