"""The loss family: closed-form and numeric allocation, isoFLOP analysis, hold-out validation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalelaw import fit, get_law
from scalelaw.families import loss as family
from scalelaw.result import FitResult

UNROUNDED = {"E": 1.69337, "A": 406.401, "B": 410.723, "alpha": 0.33917084, "beta": 0.2849083}
ROUNDED = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}


def _fixed_fit(law_name: str, params: dict) -> FitResult:
    return FitResult(law=get_law(law_name), params=params)


@pytest.mark.parametrize("params, n_opt, d_opt", [(UNROUNDED, 4.036e10, 2.379e12), (ROUNDED, 3.219e10, 2.982e12)])
def test_hoffmann_allocation_at_chinchilla_compute(params, n_opt, d_opt):
    """Hoffmann et al.'s constants, unrounded and rounded: the rounding moves N_opt by 25%."""
    a = family.allocate(_fixed_fit("chinchilla", params), [5.76e23])
    assert a.params[0] == pytest.approx(n_opt, rel=5e-4)
    assert a.tokens[0] == pytest.approx(d_opt, rel=5e-4)
    assert 6 * a.params[0] * a.tokens[0] == pytest.approx(5.76e23, rel=1e-12)
    assert np.isnan(a.params_lower[0])


def test_closed_form_matches_a_brute_force_search():
    fit_ = _fixed_fit("chinchilla", UNROUNDED)
    c = 1e22
    n = np.geomspace(1e8, 1e12, 400_001)
    loss = fit_.predict({"params": n, "tokens": c / (6 * n)})
    a = family.allocate(fit_, [c])
    assert a.params[0] == pytest.approx(n[np.argmin(loss)], rel=1e-4)
    assert a.loss[0] == pytest.approx(loss.min(), rel=1e-12)


def test_numeric_allocation_for_a_law_without_closed_form():
    """The numeric search along C = 6 N D agrees with the closed form on the Chinchilla law."""
    law = get_law("E + A/N**alpha + B/D**beta")
    numeric = family.allocate(FitResult(law=law, params=UNROUNDED), [1e21, 5.76e23])
    closed = family.allocate(_fixed_fit("chinchilla", UNROUNDED), [1e21, 5.76e23])
    assert numeric.method.startswith("numeric") and closed.method == "closed form"
    np.testing.assert_allclose(numeric.params, closed.params, rtol=1e-6)
    np.testing.assert_allclose(numeric.loss, closed.loss, rtol=1e-12)


def test_allocation_intervals_come_from_the_bootstrap_draws():
    law = get_law("chinchilla")
    rng = np.random.default_rng(1)
    draws = np.array([[UNROUNDED[n] * (1 + 0.01 * rng.standard_normal()) for n in law.param_names]
                      for _ in range(200)])
    fit_ = FitResult(law=law, params=UNROUNDED, bootstrap=draws, settings={"level": 0.9})
    a = family.allocate(fit_, [5.76e23])
    n_draws, _ = family.chinchilla_allocation(5.76e23, **{n: draws[:, j] for j, n in enumerate(law.param_names)})
    assert a.params_lower[0] == pytest.approx(np.percentile(n_draws, 5), rel=1e-12)
    assert a.params_upper[0] == pytest.approx(np.percentile(n_draws, 95), rel=1e-12)


def test_exponents_follow_from_alpha_and_beta():
    ex = family.exponents(_fixed_fit("chinchilla", UNROUNDED))
    assert ex.loc["a", "value"] == pytest.approx(0.45652, abs=1e-5)
    assert ex.loc["b", "value"] == pytest.approx(1 - 0.45652, abs=1e-5)
    assert ex.loc["G", "value"] == pytest.approx(1.3000, abs=1e-4)


def _synthetic_isoflops(a_true: float, b_true: float):
    """Exact parabolas in ln N whose minima lie on N_opt = 0.1 C^a."""
    rows = []
    for c in np.geomspace(1e18, 1e21, 7):
        n_opt = 0.1 * c**a_true
        for offset in np.linspace(-1.2, 1.2, 9):
            n = n_opt * np.exp(offset)
            rows.append({"params": n, "tokens": c / (6 * n), "flops": c, "loss": 2.0 + 0.05 * offset**2 + b_true})
    return pd.DataFrame(rows)


def test_isoflop_recovers_the_allocation_exponent_exactly():
    frame = _synthetic_isoflops(0.52, 0.0)
    result = family.isoflop(frame)
    assert result.params_fit.params["a"] == pytest.approx(0.52, abs=1e-9)
    assert result.tokens_fit.params["a"] == pytest.approx(0.48, abs=1e-9)
    assert result.minima["loss"].to_numpy() == pytest.approx(2.0, abs=1e-12)


def test_isoflop_needs_two_budgets():
    frame = _synthetic_isoflops(0.5, 0.0)
    one = frame[frame["flops"] == frame["flops"].min()]
    with pytest.raises(family.FitError, match="2 or more budgets"):
        family.isoflop(one)


def test_isoflop_on_porian_tuned_runs_is_near_the_published_exponent():
    """Porian et al.: tuned hyperparameters, constant LR, RefinedWeb, val loss: a = 0.497 [0.492, 0.504]."""
    from support import DATA

    frame = pd.read_csv(DATA / "loss" / "porian_isoflop_points.csv")
    sel = frame[(frame.dataset == "rw") & (frame.hparams == "tuned") & (frame.param_count == "standard")]
    result = family.isoflop(sel)
    assert result.params_fit.params["a"] == pytest.approx(0.497, abs=0.03)
    kaplan = frame[(frame.dataset == "rw") & (frame.hparams == "base") & (frame.warmup == "long")
                   & (frame.param_count == "kaplan")]
    assert family.isoflop(kaplan).params_fit.params["a"] == pytest.approx(0.834, abs=0.05)


def test_holdout_by_top_fraction_and_by_column():
    frame = pd.DataFrame({"flops": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10.0], "flag": ["0"] * 8 + ["1", "true"]})
    assert family.holdout_mask(frame, top_frac=0.2).tolist() == [False] * 8 + [True, True]
    assert family.holdout_mask(frame, column="flag").tolist() == [False] * 8 + [True, True]
    with pytest.raises(family.InputError, match="true/false"):
        family.holdout_mask(frame.assign(flag=["maybe"] * 10), column="flag")


def test_prepare_derives_tokens_and_drops_the_highest_losses():
    frame = pd.DataFrame({"params": [1e9, 2e9, 4e9], "flops": [6e19, 2.4e20, 9.6e20], "loss": [3.0, 2.5, 9.0]})
    out, notes = family.prepare(frame, exclude_highest=1)
    assert out["tokens"].tolist() == [1e10, 2e10]
    assert notes == ["tokens computed as flops / (6 params)", "dropped the 1 rows with the highest loss"]


def test_kaplan_fit_on_chinchilla_points_allocates_numerically():
    rng = np.random.default_rng(0)
    n, d = 10 ** rng.uniform(8, 10, 40), 10 ** rng.uniform(9, 11.5, 40)
    truth = {"Nc": 6.4e13, "Dc": 1.8e13, "alpha_N": 0.076, "alpha_D": 0.103}
    law = get_law("kaplan")
    table = pd.DataFrame({"params": n, "tokens": d, "loss": law.evaluate({"N": n, "D": d}, truth)})
    result = fit(law, table)
    assert result.params["alpha_N"] == pytest.approx(0.076, rel=1e-5)
    a = family.allocate(result, [1e22])
    grid = np.geomspace(1e6, 1e14, 200_001)
    brute = grid[np.argmin(result.predict({"params": grid, "tokens": 1e22 / (6 * grid)}))]
    assert a.params[0] == pytest.approx(brute, rel=1e-3)
