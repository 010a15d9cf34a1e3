"""Imperfect verifiers (Stroebl, Kapoor and Narayanan, "Inference Scaling fLaws"): the accuracy
ceiling of resampling and the number of samples worth drawing when false positives cost something.

Strategy: draw samples one at a time, stop at the first the verifier accepts, give up after K.  A
correct accepted answer is worth +1, a wrong accepted answer (a false positive) -fp_cost, no
answer 0.  Per task type j with single-sample correctness r_j, verifier completeness c
(P(accept | correct)) and soundness s (P(reject | wrong)):

    p_c = c r_j,   p_f = (1 - s)(1 - r_j),   beta_j = 1 - p_c - p_f  (rejection),
    U(K) = sum_j w_j (1 - beta_j^K) / (1 - beta_j) (p_c - fp_cost p_f).

The accepted answer is correct with probability p_c / (p_c + p_f) whatever K, so even unlimited
samples cannot push accuracy above ``sum_j w_j c r_j / (c r_j + (1 - s)(1 - r_j))``: the ceiling.
K_opt is the smallest K in 1..max_k whose U is within 1e-9 (relative) of the largest; when no K
has positive utility the answer is 0 (abstain).  When no task type loses from resampling (e.g.
fp_cost = 0), U only rises towards its limit: ``increasing`` is then true and K_opt is where U
has reached that limit to 1e-9.

From per-problem counts (n samples, a accepted, ac accepted and correct), drawing without
replacement in a random order, the first accepted sample comes within K with probability
pass@K(n, a, K) (the unbiased estimator with "accepted" as success) and is uniformly one of the a
accepted ones, so ``U_i(K) = pass@K(n, a, K) (ac - fp_cost (a - ac)) / a``: the expectation of
the authors' permutation simulation, exactly.

Examples
--------
>>> p = from_rates([0.87, 0.13], [0.58, 0.42], completeness=1, soundness=0.75, fp_cost=1)
>>> p.k_opt, round(p.utility, 4), round(p.ceiling, 3)
(2, 0.4724, 0.716)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from scalelaw import protocol
from scalelaw.errors import InputError
from scalelaw.families.sampling import passk
from scalelaw.families.sampling.curves import models as model_labels
from scalelaw.protocol import frozen
from scalelaw.result import FitGroup

DEFAULT_MAX_K = 1000


@dataclass(frozen=True)
class VerifierPlan(protocol.Result):
    """The best number of samples under an imperfect verifier.

    Attributes
    ----------
    fp_cost
        Cost of a false positive, in units of the reward of a correct answer.
    k_opt
        Samples per problem that maximise expected utility (0: abstain, no K has U > 0).
    utility
        U(k_opt) (0 when abstaining).
    utility_limit
        U as K grows without bound.
    ceiling
        Accuracy of the accepted answer with unlimited samples (conditional pass@1).
    increasing
        True when U never falls with K (more samples never hurt; K_opt is where U reaches its
        limit to 1e-9, or ``max_k``).
    curve
        ``K`` and ``utility`` for K = 1..max_k.
    detail
        Per task type (or per problem): rates, acceptance probabilities and ceilings.
    estimates
        From counts: the verifier's pooled ``completeness`` and ``soundness`` and the share of
        problems it never accepts (``never_accepted``).
    settings
        The keyword arguments of the call that made the plan (:func:`from_rates`, or
        :func:`from_counts` for each model's plan).
    warnings
        When the best K is the largest considered (U may rise further with more samples).
    """

    FAMILY = "sampling"
    KIND = "verifier-plan"
    TITLE = "imperfect verifier: sample until accepted, at most K"

    fp_cost: float
    k_opt: int
    utility: float
    utility_limit: float
    ceiling: float
    increasing: bool
    curve: pd.DataFrame
    detail: pd.DataFrame
    estimates: Mapping[str, float] = field(default_factory=dict)
    settings: Mapping[str, object] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "estimates", frozen(self.estimates))

    def numbers(self) -> dict:
        """The plan's headline numbers: fp_cost, k_opt, utility, utility_limit, ceiling, increasing
        and, from counts, the verifier's estimates."""
        return {"fp_cost": self.fp_cost, "k_opt": self.k_opt, "utility": self.utility,
                "utility_limit": self.utility_limit, "ceiling": self.ceiling, "increasing": self.increasing,
                **dict(self.estimates)}

    def summary(self) -> pd.DataFrame:
        """One row (index: the false-positive cost) of :meth:`numbers`."""
        row = {k: v for k, v in self.numbers().items() if k != "fp_cost"}
        return pd.DataFrame([row], index=pd.Index([self.fp_cost], name="fp_cost"))

    def plot(self, ax=None):
        """The expected utility U(K) against K, with K_opt marked."""
        from scalelaw.plots.sampling import utility_curves

        return utility_curves({f"fp cost {self.fp_cost:g}": self}, ax=ax)


def _unit(name: str, value: float) -> float:
    value = float(value)
    if not (math.isfinite(value) and 0 <= value <= 1):
        raise InputError(f"{name}={value:g} must be in [0, 1]")
    return value


def _fp_cost(value: float) -> float:
    value = float(value)
    if not (math.isfinite(value) and value >= 0):
        raise InputError(f"fp_cost={value:g} must be a number >= 0 (the cost of a false positive relative to "
                         "the reward of a correct answer)")
    return value


def _max_k(value: int) -> int:
    if value < 1 or value != int(value):
        raise InputError(f"max_k={value} must be a positive whole number")
    return int(value)


def _choose(utility: np.ndarray, fp_cost: float, limit: float, ceiling: float, detail: pd.DataFrame,
            settings: Mapping[str, object], estimates: Mapping[str, float] | None = None) -> VerifierPlan:
    K = np.arange(1, utility.size + 1)
    top = float(np.max(utility))
    best = int(np.flatnonzero(utility >= top - 1e-9 * max(1.0, abs(top)))[0])
    increasing = bool(np.all(np.diff(utility) >= -1e-12 * max(1.0, abs(top))))
    k_opt, value = (best + 1, float(utility[best])) if top > 0 else (0, 0.0)
    warnings = []
    if k_opt == utility.size and utility.size > 1:
        warnings.append(f"the best K is the largest considered ({utility.size}); U may rise further with more "
                        "samples")
    return VerifierPlan(fp_cost, k_opt, value, float(limit), float(ceiling), increasing,
                        pd.DataFrame({"K": K, "utility": utility}), detail, estimates or {}, settings, warnings)


def from_rates(rates: Sequence[float], weights: Sequence[float], *, completeness: float, soundness: float,
               fp_cost: float, max_k: int = DEFAULT_MAX_K) -> VerifierPlan:
    """K_opt, U(K_opt) and the ceiling for task types with correctness ``rates`` and ``weights``.

    Parameters
    ----------
    rates
        Per task type, the probability that one sample is correct, in [0, 1].
    weights
        Share of each task type among problems, in [0, 1], summing to 1.
    completeness, soundness
        P(verifier accepts | correct) and P(verifier rejects | wrong), in [0, 1].
    fp_cost
        Cost of a false positive relative to the +1 of a correct answer (>= 0).
    max_k
        Largest number of samples considered.
    """
    r = np.asarray([_unit("rates", v) for v in np.atleast_1d(rates)], dtype=float)
    w = np.asarray([_unit("weights", v) for v in np.atleast_1d(weights)], dtype=float)
    if r.size != w.size:
        raise InputError(f"rates= has {r.size} values but weights= has {w.size}; give one weight per rate")
    if abs(w.sum() - 1.0) > 1e-6:
        raise InputError(f"weights= must sum to 1, they sum to {w.sum():g}")
    c, s = _unit("completeness", completeness), _unit("soundness", soundness)
    fp, max_k = _fp_cost(fp_cost), _max_k(max_k)
    p_c, p_f = c * r, (1 - s) * (1 - r)
    reject = 1.0 - p_c - p_f
    value = p_c - fp * p_f
    K = np.arange(1, max_k + 1, dtype=float)
    with np.errstate(divide="ignore"):
        log_reject = np.log(reject)
    # (1 - beta^K) / (1 - beta), the expected number of tries, times the value of stopping
    tries = np.where(reject[:, None] < 1, -np.expm1(K[None, :] * log_reject[:, None])
                     / np.where(reject < 1, 1 - reject, 1.0)[:, None], 0.0)
    utility = (w[:, None] * tries * value[:, None]).sum(axis=0)
    accepted = p_c + p_f
    limit = float(np.sum(np.where(accepted > 0, w * value / np.where(accepted > 0, 1 - reject, 1.0), 0.0)))
    type_ceiling = np.where(accepted > 0, p_c / np.where(accepted > 0, accepted, 1.0), 0.0)
    detail = pd.DataFrame({"rate": r, "weight": w, "p_correct_accept": p_c, "p_false_accept": p_f,
                           "p_reject": reject, "ceiling": type_ceiling})
    settings = {"rates": r.tolist(), "weights": w.tolist(), "completeness": c, "soundness": s, "fp_cost": fp,
                "max_k": max_k}
    return _choose(utility, fp, limit, float(np.sum(w * type_ceiling)), detail, settings)


def from_counts(tidy: pd.DataFrame, *, fp_cost: float, max_k: int | None = None) -> FitGroup:
    """Per model, K_opt, U and the ceiling from per-problem counts with verifier columns.

    Returns a ``FitGroup(family="sampling", kind="verifier", key="model")`` of one
    :class:`VerifierPlan` per model.

    ``tidy`` needs ``n_samples``, ``n_accepted`` and ``n_accepted_correct`` (see :mod:`.counts`);
    ``max_k`` defaults to the fewest samples of a problem (pass@K is undefined beyond).
    """
    missing = [c for c in ("n_accepted", "n_accepted_correct") if c not in tidy.columns]
    if missing:
        raise InputError(f"the counts need the verifier columns 'n_accepted' and 'n_accepted_correct' "
                         f"(samples the verifier passed, and passed and correct); missing {missing[0]!r}")
    fp = _fp_cost(fp_cost)
    settings = {"fp_cost": fp, "max_k": None if max_k is None else _max_k(max_k)}
    out = {}
    for model in model_labels(tidy):
        part = tidy[tidy["model"] == model]
        n = part["n_samples"].to_numpy()
        a = part["n_accepted"].to_numpy()
        ac = part["n_accepted_correct"].to_numpy()
        top = int(n.min())
        limit_k = top if max_k is None else _max_k(max_k)
        if limit_k > top:
            raise InputError(f"max_k={limit_k} exceeds the {top} samples of a problem of {model!r}; "
                             "the utility is not defined beyond the samples drawn")
        safe = np.where(a > 0, a, 1)
        value = np.where(a > 0, (ac - fp * (a - ac)) / safe, 0.0)
        utility = passk.weighted_pass(n, a, np.arange(1, limit_k + 1), value[None, :])[0] / n.size
        ceiling = np.where(a > 0, ac / safe, 0.0)
        correct = part["n_correct"].to_numpy()
        detail = pd.DataFrame({"problem": part["problem"].to_numpy(), "n_samples": n, "n_accepted": a,
                               "n_accepted_correct": ac, "ceiling": ceiling, "value": value})
        wrong = (n - correct).sum()
        estimates = {"completeness": float(ac.sum() / correct.sum()) if correct.sum() else math.nan,
                     "soundness": float(1 - (a - ac).sum() / wrong) if wrong else math.nan,
                     "never_accepted": float(np.mean(a == 0))}
        out[model] = _choose(utility, fp, float(np.mean(value)), float(np.mean(ceiling)), detail, settings,
                             estimates)
    return FitGroup("sampling", "verifier", out, key="model", settings=settings)
