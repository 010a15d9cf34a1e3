"""The sampling family: pass@k, coverage laws, the distributional estimator, sample budgets and
imperfect verifiers, for logs of problems sampled n times with c correct samples each.

* :mod:`.counts` reads per-problem counts (or one row per sample) into the tidy table;
* :mod:`.passk` is the exact, vectorised unbiased estimator (pass@k, pass^k, coverage);
* :mod:`.curves` gives coverage curves per model with bootstrap-over-problems intervals;
* :mod:`.powerlaw` fits coverage = exp(-A k^-beta) by the engine in a chosen loss space;
* :mod:`.distributional` fits a scaled Beta-binomial by maximum likelihood (Schaeffer et al.);
* :mod:`.results` fits every model into one :class:`~scalelaw.FitGroup` (``predict``, ``summary``)
  and reads the older ``scalelaw.sampling/1`` files;
* :mod:`.grouped` fits every model per group of rows (``by="dataset"``);
* :mod:`.budget` turns a fit into samples and cost for a target coverage (a :class:`SamplingPlan`);
* :mod:`.verifier` gives the accuracy ceiling and the best K under an imperfect verifier
  (a :class:`VerifierPlan`, or a group of them from counts);
* :mod:`.check` measures how well each estimator extrapolates from a small budget.

Examples
--------
>>> import pandas as pd
>>> from scalelaw.families import sampling
>>> float(sampling.pass_at_k(10000, 37, 2000))
0.99974468363...
>>> tidy = pd.DataFrame({"model": ["m"] * 3, "problem": ["1", "2", "3"], "n_samples": [100] * 3,
...                      "n_correct": [0, 2, 30]})
>>> sampling.coverage_table(tidy, [1, 10])["coverage"].round(4).tolist()
[0.1067, 0.3893]
"""

from scalelaw.families.sampling.budget import SamplingPlan, cost_table, coverage_at, plan
from scalelaw.families.sampling.check import exponent_check, extrapolation_check, subsample
from scalelaw.families.sampling.counts import prepare, read_counts
from scalelaw.families.sampling.curves import coverage_table, curve
from scalelaw.families.sampling.distributional import BetaBinomialFit, maximum_likelihood
from scalelaw.families.sampling.grouped import fit_groups
from scalelaw.families.sampling.passk import coverage, pass_at_k, pass_hat_k, weighted_pass
from scalelaw.families.sampling.powerlaw import (
    BROWN_GRID,
    SCHAEFFER_GRID,
    SPACES,
    PowerLawFit,
    coverage_law,
)
from scalelaw.families.sampling.results import METHODS, coverage_group, fit_coverage, predict, summary
from scalelaw.families.sampling.verifier import VerifierPlan
from scalelaw.families.sampling.verifier import from_counts as verifier_from_counts
from scalelaw.families.sampling.verifier import from_rates as verifier_from_rates

__all__ = [
    "BROWN_GRID",
    "METHODS",
    "SCHAEFFER_GRID",
    "SPACES",
    "BetaBinomialFit",
    "PowerLawFit",
    "SamplingPlan",
    "VerifierPlan",
    "cost_table",
    "coverage",
    "coverage_at",
    "coverage_group",
    "coverage_law",
    "coverage_table",
    "curve",
    "exponent_check",
    "extrapolation_check",
    "fit_coverage",
    "fit_groups",
    "maximum_likelihood",
    "pass_at_k",
    "pass_hat_k",
    "plan",
    "predict",
    "prepare",
    "read_counts",
    "subsample",
    "summary",
    "verifier_from_counts",
    "verifier_from_rates",
    "weighted_pass",
]
