"""Contract cases of the sampling family: coverage groups, their members, verifier plans, sample plans.

Built on the vendored Pythia MATH counts (two or one models, small bootstraps) and, for the
verifier from counts, a small synthetic log.
"""

from __future__ import annotations

import functools

import pandas as pd
from contract import case

from scalelaw.families import sampling
from scalelaw.families.sampling import powerlaw
from scalelaw.families.sampling.results import beta_binomial_model

from support import DATA

PER_PROBLEM = DATA / "sampling" / "llmonkeys_pythia_math_per_problem.csv"
GRID = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000, 2000, 5000, 10000]
VERIFIED = pd.DataFrame({"model": ["m"] * 4 + ["n"] * 4, "problem": ["a", "b", "c", "d"] * 2,
                         "n_samples": 10, "n_correct": [6, 1, 0, 9, 3, 3, 0, 10],
                         "n_accepted": [7, 4, 0, 9, 2, 5, 1, 10], "n_accepted_correct": [5, 1, 0, 8, 2, 3, 0, 10]})


@functools.cache
def tidy(*models: str) -> pd.DataFrame:
    table = sampling.read_counts(PER_PROBLEM)[0]
    return table[table["model"].isin(models)].reset_index(drop=True)


def counts(model: str):
    part = tidy(model)
    return part["n_samples"].to_numpy(), part["n_correct"].to_numpy()


def _powerlaw(**settings):
    return powerlaw.fit_model("Pythia 12B", *counts("Pythia 12B"), **settings)


def _beta_binomial(**settings):
    return beta_binomial_model("Pythia 160M", *counts("Pythia 160M"), **settings)


@functools.cache
def _group():
    return sampling.fit_coverage(tidy("Pythia 70M", "Pythia 12B"), bootstrap=10, seed=4)


case("sampling.coverage.powerlaw", lambda **s: sampling.fit_coverage(tidy("Pythia 70M", "Pythia 12B"), **s),
     method="powerlaw", space="neglog-loglog", grid="schaeffer", loss="squared", bootstrap=10, seed=1, level=0.9,
     bad=lambda: sampling.fit_coverage(tidy("Pythia 12B"), method="kumaraswamy"))
case("sampling.coverage.beta-binomial", lambda **s: sampling.fit_coverage(tidy("Pythia 12B"), **s),
     method="beta-binomial", scale="fixed", window=[1, 10, 100, 1000, 10000], grid="brown", bootstrap=5, seed=2,
     level=0.95, bad=lambda: sampling.fit_coverage(tidy("Pythia 12B"), method="beta-binomial", scale=2.0))
case("sampling.powerlaw", _powerlaw, space="coverage", grid=GRID, loss="huber", bootstrap=8, seed=3, level=0.9,
     bad=lambda: _powerlaw(space="logit"))
case("sampling.beta-binomial", _beta_binomial, scale=0.05, window=[1, 100, 10000], grid=GRID, bootstrap=4,
     seed=5, level=0.8, bad=lambda: _beta_binomial(scale=1.5))
case("sampling.verifier-plan", sampling.verifier_from_rates, rates=[0.87, 0.13], weights=[0.58, 0.42],
     completeness=1.0, soundness=0.75, fp_cost=1.0, max_k=200,
     bad=lambda: sampling.verifier_from_rates([0.5, 0.5], [0.5, 0.6], completeness=1, soundness=1, fp_cost=1))
case("sampling.verifier", lambda **s: sampling.verifier_from_counts(VERIFIED, **s), fp_cost=0.5, max_k=8,
     bad=lambda: sampling.verifier_from_counts(VERIFIED.drop(columns="n_accepted"), fp_cost=1))
case("sampling.plan", lambda **s: sampling.plan(_group(), **s), target=0.5,
     cost_per_sample={"Pythia 70M": 0.001, "Pythia 12B": 0.05}, problems=300,
     bad=lambda: sampling.plan(_group(), 1.5))
