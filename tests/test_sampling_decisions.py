"""Budgets, costs, imperfect verifiers and the extrapolation check."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from scalelaw.errors import InputError
from scalelaw.families import sampling

from support import DATA

PER_PROBLEM = DATA / "sampling" / "llmonkeys_pythia_math_per_problem.csv"


@pytest.fixture(scope="module")
def tidy():
    return sampling.read_counts(PER_PROBLEM)[0]


# Stroebl et al. (FLaws), the notebook's parameters; U_max exact (research/sampling.md 2.2)
@pytest.mark.parametrize("fp_cost, k_opt, u_max, u_limit", [
    (0.7, 3, 0.5246, 0.5176), (1.0, 2, 0.4724, 0.4325), (2.0, 1, 0.3388, 0.1487),
])
def test_flaws_optimal_k_and_utility(fp_cost, k_opt, u_max, u_limit):
    p = sampling.verifier_from_rates([0.87, 0.13], [0.58, 0.42], completeness=1, soundness=0.75,
                                     fp_cost=fp_cost)
    assert p.k_opt == k_opt
    assert round(p.utility, 4) == u_max and round(p.utility_limit, 4) == u_limit
    assert round(p.ceiling, 3) == 0.716
    assert p.detail["ceiling"].round(3).tolist() == [0.964, 0.374]
    assert p.detail["p_reject"].tolist() == pytest.approx([0.0975, 0.6525])


def test_verifier_abstains_when_no_k_pays_and_flags_monotone_utility():
    p = sampling.verifier_from_rates([0.1], [1.0], completeness=1, soundness=0.5, fp_cost=5)
    assert p.k_opt == 0 and p.utility == 0.0 and p.utility_limit < 0
    free = sampling.verifier_from_rates([0.87, 0.13], [0.58, 0.42], completeness=1, soundness=0.75, fp_cost=0)
    assert free.increasing and free.utility == pytest.approx(free.ceiling, abs=1e-8)


def _enumerate(labels, fp_cost, K):
    """Exact expected reward of 'first accepted sample within K' over all orders of the samples."""
    total = 0.0
    orders = list(itertools.permutations(range(len(labels))))
    for order in orders:
        for i in order[:K]:
            accepted, correct = labels[i]
            if accepted:
                total += 1.0 if correct else -fp_cost
                break
    return total / len(orders)


def test_verifier_from_counts_equals_enumerating_every_sampling_order():
    problems = [[(1, 1), (1, 0), (0, 1), (0, 0), (0, 0)],   # labels: (accepted, correct)
                [(1, 0), (0, 0), (0, 1), (0, 0), (1, 1)],
                [(0, 0), (0, 1), (0, 0), (0, 0), (0, 0)],
                [(1, 1), (1, 1), (1, 0), (0, 0), (0, 1)]]
    tidy = pd.DataFrame({"model": "m", "problem": [str(i) for i in range(4)], "n_samples": 5,
                         "n_correct": [sum(c for _, c in p) for p in problems],
                         "n_accepted": [sum(a for a, _ in p) for p in problems],
                         "n_accepted_correct": [sum(a * c for a, c in p) for p in problems]})
    for fp in (0.5, 2.0):
        plan = sampling.verifier_from_counts(tidy, fp_cost=fp)["m"]
        expected = [np.mean([_enumerate(p, fp, K) for p in problems]) for K in range(1, 6)]
        assert plan.curve["utility"].tolist() == pytest.approx(expected, abs=1e-12)
        assert plan.k_opt == (int(np.argmax(expected)) + 1 if max(expected) > 0 else 0)
    assert plan.ceiling == pytest.approx(np.mean([1 / 2, 1 / 2, 0.0, 2 / 3]))
    assert plan.estimates["completeness"] == pytest.approx(4 / 8)  # 4 of 8 correct samples accepted
    assert plan.estimates["soundness"] == pytest.approx(1 - 3 / 12)  # 3 of 12 wrong ones accepted


def test_verifier_inputs_are_checked():
    with pytest.raises(InputError, match="sum to 1"):
        sampling.verifier_from_rates([0.5, 0.5], [0.5, 0.6], completeness=1, soundness=1, fp_cost=1)
    with pytest.raises(InputError, match=r"rates=1.2 must be in \[0, 1\]"):
        sampling.verifier_from_rates([1.2], [1], completeness=1, soundness=1, fp_cost=1)
    with pytest.raises(InputError, match="soundness=-0.1"):
        sampling.verifier_from_rates([0.2], [1], completeness=1, soundness=-0.1, fp_cost=1)


def test_brown_swe_bench_cost_table():
    # Brown et al. Table 1: $ per attempt x attempts x 300 problems
    table = sampling.cost_table({"DeepSeek-Coder-V2": 5, "GPT-4o": 1, "Claude 3.5 Sonnet": 1},
                                {"DeepSeek-Coder-V2": 0.0072, "GPT-4o": 0.13, "Claude 3.5 Sonnet": 0.17},
                                problems=300)
    assert table["total_cost"].round(2).tolist() == [10.8, 39.0, 51.0]


def test_plan_orders_models_by_cost_and_meets_the_target(tidy):
    fit = sampling.fit_coverage(tidy[tidy["model"].isin(["Pythia 160M", "Pythia 12B"])], bootstrap=50)
    cheap = sampling.plan(fit, 0.5, cost_per_sample={"Pythia 160M": 0.001, "Pythia 12B": 0.05}).table
    assert cheap["model"].tolist() == ["Pythia 160M", "Pythia 12B"]
    for row in cheap.itertuples():
        f = fit[row.model]
        assert row.samples == math.ceil(row.k) and row.coverage >= 0.5
        assert f.coverage([row.samples - 1])[0][0] < 0.5
        assert row.total_cost == pytest.approx(row.samples * row.cost_per_sample * 128)
        assert row.k_lower < row.k < row.k_upper
    by_samples = sampling.plan(fit, 0.5).table
    assert by_samples["model"].tolist() == ["Pythia 12B", "Pythia 160M"]
    with pytest.raises(InputError, match="strictly between 0 and 1"):
        sampling.plan(fit, 1.0)
    with pytest.raises(InputError, match="not a model"):
        sampling.plan(fit, 0.5, cost_per_sample={"Pythia 7B": 1.0})


def test_beta_binomial_plan_inverts_the_simulated_curve(tidy):
    fit = sampling.fit_coverage(tidy[tidy["model"] == "Pythia 12B"], method="beta-binomial", bootstrap=30)
    row = sampling.plan(fit, 0.8).table.iloc[0]
    assert fit["Pythia 12B"].coverage([row.k])[0][0] == pytest.approx(0.8, abs=1e-9)
    assert row.k_lower < row.k < row.k_upper


def test_extrapolation_check_from_100_samples(tidy):
    small = tidy[tidy["model"].isin(["Pythia 2.8B", "Pythia 12B"])]
    cov = sampling.extrapolation_check(small, samples=100, target_k=10000)
    assert cov["observed"].round(4).tolist()[::3] == [0.8125, 0.875]  # research notes: coverage at 1e4
    assert set(cov["estimator"]) == {"powerlaw (k <= 100)", "powerlaw (100 per problem)",
                                     "beta-binomial (100 per problem)"}
    assert (cov["abs_error"] < 0.15).all()
    truncated = cov[cov["estimator"] == "powerlaw (k <= 100)"]
    assert (truncated["abs_error"] < 0.04).all()
    exp = sampling.exponent_check(small, samples=100, target_k=10000)
    assert exp["reference"].round(3).tolist()[::3] == [0.336, 0.370]  # full-data least squares


def test_subsample_draws_without_replacement():
    n, c = np.array([10000, 10000, 50]), np.array([0, 10000, 25])
    n_sub, c_sub = sampling.subsample(n, c, 50, seed=0)
    assert n_sub.tolist() == [50, 50, 50] and c_sub.tolist() == [0, 50, 25]


def test_questions_of_a_coverage_fit_refuse_other_results():
    plan = sampling.verifier_from_rates([0.87, 0.13], [0.58, 0.42], completeness=1, soundness=0.75, fp_cost=1)
    with pytest.raises(InputError, match="sampling verifier-plan, not a sampling coverage fit"):
        sampling.plan(plan, 0.5)
    with pytest.raises(InputError, match="not a sampling coverage fit"):
        sampling.predict(plan, [10])
