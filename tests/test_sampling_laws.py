"""Coverage laws and the distributional estimator, against published and independently computed numbers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, special

import scalelaw
from scalelaw import engine
from scalelaw.families import sampling
from scalelaw.families.sampling import distributional, powerlaw
from scalelaw.families.sampling.quadrature import Quadrature

from support import DATA

PER_PROBLEM = DATA / "sampling" / "llmonkeys_pythia_math_per_problem.csv"


@pytest.fixture(scope="module")
def tidy():
    return sampling.read_counts(PER_PROBLEM)[0]


def counts(tidy, model):
    part = tidy[tidy["model"] == model]
    return part["n_samples"].to_numpy(), part["n_correct"].to_numpy()


def test_brown_grid_has_37_points():
    assert len(sampling.BROWN_GRID) == 37 and sampling.BROWN_GRID[0] == 1 and sampling.BROWN_GRID[-1] == 10000


# Brown et al. (2024) Fig. 5 (paper) and our recomputation on the same data (research/sampling.md 1.2)
@pytest.mark.parametrize("model, ours, paper, err", [
    ("Pythia 70M", (-7.674, -0.1843), (-7.59, -0.18), (0.0053, 0.0063)),
    ("Pythia 12B", (-3.986, -0.3519), (-3.92, -0.35), (0.0184, 0.0100)),
])
def test_log_coverage_fit_reproduces_brown(tidy, model, ours, paper, err):
    fit = powerlaw.fit_model(model, *counts(tidy, model), space="log-coverage")
    row = fit.summary().iloc[0]
    assert row["a"] == pytest.approx(ours[0], abs=5e-4) and row["b"] == pytest.approx(ours[1], abs=5e-5)
    assert abs(row["a"] - paper[0]) < 0.1 and abs(row["b"] - paper[1]) < 0.01
    assert row["error_mean"] == pytest.approx(err[0], abs=5e-5)
    assert row["error_std"] == pytest.approx(err[1], abs=5e-5)
    assert fit.fit.law.space == "log" and fit.info["grid"] == "brown"


def test_coverage_and_neglog_loglog_spaces(tidy):
    n, c = counts(tidy, "Pythia 70M")
    linear = powerlaw.fit_model("m", n, c, space="coverage")
    assert (-linear.A, -linear.beta) == pytest.approx((-8.2887, -0.19924), abs=2e-4)
    assert linear.info["error"]["mean"] == pytest.approx(0.00082, abs=1e-5)  # about 6x tighter in coverage
    ls = powerlaw.fit_model("m", n, c, space="neglog-loglog")
    assert (ls.A, ls.beta) == pytest.approx((8.02596, 0.19425), abs=2e-4)  # Schaeffer's least squares
    n, c = counts(tidy, "Pythia 12B")
    ls = powerlaw.fit_model("m", n, c, space="neglog-loglog")
    assert (ls.A, ls.beta) == pytest.approx((4.11289, 0.37016), abs=2e-4)


def test_neglog_loglog_fit_is_ordinary_least_squares_in_log_log(tidy):
    n, c = counts(tidy, "Pythia 1B")
    fit = powerlaw.fit_model("m", n, c, space="neglog-loglog")
    ks = np.asarray(sampling.SCHAEFFER_GRID, dtype=float)
    y = np.log(-np.log(sampling.coverage(n, c, ks.astype(int))))
    slope, intercept = np.polyfit(np.log(ks), y, 1)
    assert fit.beta == pytest.approx(-slope, abs=1e-8)
    assert fit.A == pytest.approx(math.exp(intercept), rel=1e-8)


def test_samples_for_target_is_the_closed_form_and_inverts_the_law(tidy):
    draws = sampling.curves.resample(128, 100, 0)
    fit = powerlaw.fit_model("m", *counts(tidy, "Pythia 12B"), resamples=draws)
    k, lo, hi = fit.samples_for(0.5)
    assert k == pytest.approx((fit.A / math.log(2)) ** (1 / fit.beta), rel=1e-12)
    assert fit.coverage([k])[0][0] == pytest.approx(0.5, abs=1e-12)
    assert lo < k < hi


def test_bootstrap_over_problems_refits_each_replicate_curve(tidy):
    n, c = counts(tidy, "Pythia 2.8B")
    draws = sampling.curves.resample(len(n), 8, 3)
    fit = powerlaw.fit_model("m", n, c, resamples=draws)
    assert np.shape(fit.fit.settings["bootstrap_targets"])[0] == 8 and fit.fit.diagnostics["bootstrap_failed"] == 0
    for b in (0, 5):  # each draw equals a plain fit of that replicate's curve
        weights = np.repeat(np.arange(len(n)), draws[b])
        alone = powerlaw.fit_model("m", n[weights], c[weights])
        assert fit.fit.bootstrap[b] == pytest.approx([alone.A, alone.beta], rel=1e-6)


def test_engine_loglog_space_jacobian_matches_finite_differences():
    law = powerlaw.coverage_law("neglog-loglog")
    table = pd.DataFrame({"k": [1.0, 10.0, 100.0], "coverage": [0.1, 0.3, 0.6]})
    problem = engine.Problem(law, table)
    u = np.array([[math.log(2.0), 0.3]])
    _, J = problem.residuals(u)
    eps = 1e-7
    for j in range(2):
        step = np.zeros_like(u)
        step[0, j] = eps
        numeric = (problem.residuals(u + step, False)[0] - problem.residuals(u - step, False)[0]) / (2 * eps)
        assert J[0, :, j] == pytest.approx(numeric[0], abs=1e-7)


# ------------------------------------------------------------------------------------- distributional
@pytest.mark.parametrize("n, x, s, a, b", [
    (10000, 0, 0.035, 0.0636, 2.31), (10000, 8, 0.035, 0.0636, 2.31), (10000, 340, 0.035, 0.0636, 2.31),
    (10000, 3000, 0.3, 0.25, 1.8), (10000, 9999, 1.0, 0.5, 0.5), (10000, 20, 0.2, 3.0, 40.0),
    (100, 0, 0.05, 0.1, 3.0),
])
def test_quadrature_matches_adaptive_integration(n, x, s, a, b):
    log_c = special.gammaln(n + 1) - special.gammaln(x + 1) - special.gammaln(n - x + 1)

    def density(u):
        p = s * u
        return np.exp(log_c + special.xlogy(x, p) + special.xlog1py(n - x, -p) + (a - 1) * np.log(u)
                      + (b - 1) * np.log1p(-u) - special.betaln(a, b))

    mode = x / (n * s)
    points = [mode * q for q in (0.5, 0.9, 1.0, 1.1, 1.5) if 0 < mode * q < 1] or None
    expected, _ = integrate.quad(density, 0, 1, points=points, limit=2000, epsabs=0, epsrel=1e-12)
    quad = Quadrature.build([n], [x], [s])
    got = quad.log_integrals(np.array([a]), np.array([b]))[0, 0] - special.betaln(a, b)
    assert got == pytest.approx(math.log(expected), abs=1e-11)


def test_likelihood_gradient_matches_finite_differences():
    quad = Quadrature.build([10000] * 4, [0, 3, 50, 400], [0.035] * 4)
    a, b = np.array([0.07]), np.array([2.2])
    _, da, db = quad.log_integrals(a, b, gradient=True)
    eps = 1e-6
    fd_a = (quad.log_integrals(a + eps, b) - quad.log_integrals(a - eps, b)) / (2 * eps)
    fd_b = (quad.log_integrals(a, b + eps) - quad.log_integrals(a, b - eps)) / (2 * eps)
    assert da == pytest.approx(fd_a, abs=1e-7) and db == pytest.approx(fd_b, abs=1e-7)


def test_simulated_survival_equals_the_beta_closed_form_at_scale_one():
    for k in (1, 10, 1000, 1e6):
        expected = math.exp(special.betaln(0.3, 2.0 + k) - special.betaln(0.3, 2.0))
        assert distributional.survival(0.3, 2.0, 1.0, [k])[0, 0] == pytest.approx(expected, rel=1e-10)


def test_asymptotic_exponent_and_prefactor_theorem_3_1():
    a, b, s = 0.25, 1.82, 0.2346
    q = distributional.survival(a, b, s, [1e12])[0, 0]
    assert -math.log1p(-q) / (distributional.prefactor(a, b, s) * 1e12**-a) == pytest.approx(1.0, abs=2e-3)


# Our exact marginal likelihood with the scale fixed as in Schaeffer et al.'s code (research notes:
# llmonkeys_pythia_math_distributional_fits.csv and ..._simulated_slopes.csv)
@pytest.mark.parametrize("model, alpha, beta, scale, nll, slope", [
    ("Pythia 160M", 0.15030, 1.68492, 0.03679, 3.38059, 0.27079),
    ("Pythia 12B", 0.24999, 1.82123, 0.23462, 5.83686, 0.33685),
])
def test_beta_binomial_reproduces_the_maximum_likelihood_fit(tidy, model, alpha, beta, scale, nll, slope):
    est = distributional.maximum_likelihood(*counts(tidy, model))
    assert est["scale"] == pytest.approx(scale, abs=1e-5)
    assert est["alpha"] == pytest.approx(alpha, abs=2e-4) and est["beta"] == pytest.approx(beta, abs=2e-3)
    assert est["diagnostics"]["nll_per_problem"] == pytest.approx(nll, abs=2e-5)
    assert est["diagnostics"]["n_at_optimum"] >= 3
    b, _ = distributional.window_slope(est["alpha"], est["beta"], est["scale"])
    assert b[0] == pytest.approx(slope, abs=2e-4)
    assert est["alpha"] < b[0]  # the asymptotic exponent is below the slope seen over k <= 1e4


def test_beta_binomial_70m_finds_a_higher_likelihood_than_the_research_fit(tidy):
    n, c = counts(tidy, "Pythia 70M")
    est = distributional.maximum_likelihood(n, c)
    n_u, c_u, inverse = distributional._pairs(n, c)
    quad = Quadrature.build(n_u, c_u, est["scale"])
    w = np.bincount(inverse)
    at_research = -np.sum(w * (quad.log_integrals(np.array([0.06357]), np.array([2.30835]))[0]
                               - special.betaln(0.06357, 2.30835))) / len(n)
    # mpmath, 40 digits, C(n,x) s^x B(x+a,b)/B(a,b) 2F1(-(n-x), x+a; x+a+b; s) at the research estimate
    assert at_research == pytest.approx(1.5397732550165718, abs=1e-9)
    assert est["diagnostics"]["nll_per_problem"] < at_research - 1e-3
    assert est["alpha"] == pytest.approx(0.05464, abs=2e-4)


def test_sampling_fit_artifact_round_trips(tidy, tmp_path):
    two = tidy[tidy["model"].isin(["Pythia 1B", "Pythia 12B"])]
    for method in ("powerlaw", "beta-binomial"):
        fit = sampling.fit_coverage(two, method=method, bootstrap=20, seed=1)
        path = tmp_path / f"{method}.json"
        fit.to_json(path)
        back = scalelaw.load(path)
        assert back.info["method"] == method and list(back.fits) == ["Pythia 1B", "Pythia 12B"]
        pd.testing.assert_frame_equal(sampling.predict(back, [10, 5000]), sampling.predict(fit, [10, 5000]))
        expected = fit["Pythia 12B"].samples_for(0.8)
        assert back["Pythia 12B"].samples_for(0.8) == pytest.approx(expected, rel=1e-9)


def test_beta_binomial_all_models_match_research_except_70m(tidy):
    research = {"Pythia 410M": 0.15341, "Pythia 1B": 0.18615, "Pythia 2.8B": 0.21744, "Pythia 6.9B": 0.23236}
    for model, alpha in research.items():
        estimate = distributional.maximum_likelihood(*counts(tidy, model))
        assert estimate["alpha"] == pytest.approx(alpha, abs=2e-4)


@pytest.mark.slow
def test_profiled_scale_keeps_alpha_and_reaches_the_bound(tidy):
    est = distributional.maximum_likelihood(*counts(tidy, "Pythia 12B"), scale="ml")
    fixed = distributional.maximum_likelihood(*counts(tidy, "Pythia 12B"))
    assert est["diagnostics"]["nll"] <= fixed["diagnostics"]["nll"]
    assert "scale" in est["diagnostics"]["at_bound"] and abs(est["alpha"] - fixed["alpha"]) < 0.06
