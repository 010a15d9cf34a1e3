"""Residuals in excess-loss space: log(y - E) - log(f - E), with the floor E kept below min y."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalelaw import engine, get_law
from scalelaw.engine import Problem
from scalelaw.errors import FitError, LawError
from scalelaw.losses import make_loss

from support import DATA


@pytest.fixture(scope="module")
def curve() -> pd.DataFrame:
    """OLMo-7B-Twin-2T's mC4 validation loss against tokens seen, every 4th checkpoint."""
    frame = pd.read_csv(DATA / "loss" / "colpret_olmo_checkpoint_losses.csv")
    rows = frame[frame["model_name"] == "OLMo-7B-Twin-2T"].dropna(subset=["mc4_en-validation/CrossEntropyLoss"])
    return pd.DataFrame({"x": rows["tokens"].to_numpy(),
                         "loss": rows["mc4_en-validation/CrossEntropyLoss"].to_numpy()}).iloc[::4]


def test_the_excess_jacobian_matches_central_differences(curve):
    problem = Problem(get_law("saturating_power_law").in_space("excess"), curve)
    u = np.array([[np.log(1.9), np.log(3e4), 0.4], [np.log(1.0), np.log(1e3), 0.3]])
    r, J = problem.residuals(u)
    y = curve["loss"].to_numpy()
    f = np.exp(u[:, :1]) + np.exp(u[:, 1:2]) * curve["x"].to_numpy() ** -u[:, 2:]
    np.testing.assert_allclose(r, np.log(y - np.exp(u[:, :1])) - np.log(f - np.exp(u[:, :1])), rtol=1e-12)
    for j in range(3):
        step = np.zeros(3)
        step[j] = 1e-6
        numeric = (problem.residuals(u + step, False)[0] - problem.residuals(u - step, False)[0]) / 2e-6
        np.testing.assert_allclose(J[:, :, j], numeric, rtol=1e-6, atol=1e-8)


def test_noiseless_data_give_back_the_law_in_excess_space():
    x = np.geomspace(1e3, 1e7, 30)
    table = pd.DataFrame({"x": x, "loss": 1.7 + 40.0 * x ** -0.35})
    fit = engine.fit(get_law("saturating_power_law").in_space("excess"), table, loss="squared")
    assert fit.params["E"] == pytest.approx(1.7, rel=1e-7)
    assert fit.params["A"] == pytest.approx(40.0, rel=1e-6)
    assert fit.params["alpha"] == pytest.approx(0.35, rel=1e-7)


def test_a_learning_curve_fit_in_excess_space_keeps_E_below_the_smallest_loss(curve):
    law = get_law("saturating_power_law").in_space("excess")
    fit = engine.fit(law, curve)
    assert fit.diagnostics["converged"]
    assert fit.params["E"] < curve["loss"].min()
    # the objective is the summed Huber loss of log(y - E) - log(f - E) at the reported parameters
    E = fit.params["E"]
    r = np.log(curve["loss"] - E) - np.log(fit.predict(curve) - E)
    assert fit.diagnostics["objective"] == pytest.approx(float(np.sum(make_loss("huber", 1e-3).rho(r))), rel=1e-9)
    # the same law in log space reaches a different optimum: the space is a choice, recorded in the law
    log_fit = engine.fit(get_law("saturating_power_law"), curve)
    assert abs(log_fit.params["alpha"] - fit.params["alpha"]) > 0.1
    assert fit.to_dict()["law"]["space"] == "excess"


def test_the_floor_is_bounded_below_the_smallest_loss_at_fit_time():
    x = np.geomspace(1e3, 1e7, 20)
    table = pd.DataFrame({"x": x, "loss": 1.7 + 40.0 * x ** -0.35})
    law = get_law("saturating_power_law").in_space("excess")
    problem = Problem(law, table)
    assert np.exp(problem.upper[law.param_names.index("E")]) == pytest.approx(table["loss"].min() * (1 - 1e-9),
                                                                             rel=1e-15)
    fit = engine.fit(law, table, starts={"E": 5.0, "A": 40.0, "alpha": 0.35}, loss="squared")  # a start above
    assert fit.params["E"] == pytest.approx(1.7, rel=1e-6)


def test_excess_space_needs_a_floor_and_is_not_for_group_fits():
    with pytest.raises(LawError, match="need a floor parameter named E"):
        get_law("power_law").in_space("excess")
    table = pd.DataFrame({"x": [1.0, 2.0, 4.0, 8.0] * 2, "loss": [3.0, 2.5, 2.2, 2.1] * 2, "g": [0] * 4 + [1] * 4})
    with pytest.raises(FitError, match="fit each group apart"):
        engine.fit(get_law("saturating_power_law").in_space("excess"), table, by="g")
