"""Implicit laws: an equation in y solved per point, checked against a brute-force root solve, with
implicit-differentiation gradients against finite differences, fitted like any other law."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import brentq

from scalelaw import artifact, engine, get_law
from scalelaw.errors import LawError
from scalelaw.laws import ImplicitLaw, Law
from scalelaw.result import FitResult

M4 = {"E": 1.8, "e0": 6.0, "alpha": 0.7, "B": 2.0, "c": 0.4}
X = np.geomspace(1e-2, 1e3, 60)


def brute(p: dict, x: float) -> float:
    """The root of (y - E)/(e0 - y)^alpha - B x^-c on (E, e0) by Brent's method."""
    def G(y):
        return (y - p["E"]) / (p["e0"] - y) ** p["alpha"] - p["B"] * x ** -p["c"]
    return brentq(G, p["E"], np.nextafter(p["e0"], 0.0), xtol=1e-15, rtol=4 * np.finfo(float).eps)


def test_the_catalogue_ships_m4_as_an_implicit_law():
    law = get_law("implicit_m4")
    assert isinstance(law, ImplicitLaw) and law.bracket == ("E", "e0")
    assert law.formula == "(y - E)/(e0 - y)**alpha = B*x**-c"
    assert Law.from_dict(artifact.loads(artifact.dumps(law.to_dict()))) == law


@pytest.mark.parametrize("point", [M4, M4 | {"alpha": 0.05}, M4 | {"alpha": 2.5, "c": 1.2},
                                   M4 | {"E": 0.01, "B": 50.0}])
def test_the_solve_matches_a_brute_force_root_solve(point):
    y = get_law("implicit_m4").evaluate({"x": X}, point)
    expected = np.array([brute(point, x) for x in X])
    np.testing.assert_allclose(y, expected, rtol=0, atol=1e-10)
    assert np.all((y > point["E"]) & (y < point["e0"]))


def test_alpha_zero_is_the_saturating_power_law_and_no_root_is_nan():
    y = get_law("implicit_m4").evaluate({"x": X}, M4 | {"alpha": 0.0})
    saturating = 1.8 + 2.0 * X ** -0.4
    inside = saturating < M4["e0"]  # at alpha = 0 the root leaves (E, e0) for small x
    np.testing.assert_allclose(y[inside], saturating[inside], rtol=1e-14)
    assert np.all(np.isnan(y[~inside])) and (~inside).sum() == 15


def test_the_jacobian_by_implicit_differentiation_matches_finite_differences():
    law = get_law("implicit_m4")
    outs = law.program.bind({"x": X})({n: np.array([[v]]) for n, v in M4.items()})
    for j, name in enumerate(law.param_names):
        h = 1e-6 * M4[name]
        up = law.evaluate({"x": X}, M4 | {name: M4[name] + h})
        down = law.evaluate({"x": X}, M4 | {name: M4[name] - h})
        np.testing.assert_allclose(outs[1 + j][0], (up - down) / (2 * h), rtol=1e-6, atol=1e-9, err_msg=name)


def test_a_fit_recovers_the_law_it_was_simulated_from_on_raw_tokens():
    law = get_law("implicit_m4")
    tokens = X * 1e9  # examples seen in raw units: B in those units is 2 * 1e9**0.4
    truth = M4 | {"B": 2.0 * 1e9 ** 0.4}
    table = pd.DataFrame({"x": tokens, "loss": law.evaluate({"x": tokens}, truth)})
    fit = engine.fit(law, table, loss="squared")
    assert fit.diagnostics["converged"]
    for name, value in truth.items():
        assert fit.params[name] == pytest.approx(value, rel=1e-6), name
    again = FitResult.from_json(fit.to_json())
    assert isinstance(again.law, ImplicitLaw)
    np.testing.assert_array_equal(again.predict(table), fit.predict(table))


def test_a_learning_curve_fit_reaches_the_saturating_optimum_when_alpha_goes_to_zero():
    """OLMo-7B-Twin-2T's mC4 loss against tokens (every 8th checkpoint): M4 nests y = E + B x^-c at
    alpha = 0, and on this curve its best fit is there, with the saturating law's objective."""
    from support import DATA

    frame = pd.read_csv(DATA / "loss" / "colpret_olmo_checkpoint_losses.csv")
    rows = frame[frame["model_name"] == "OLMo-7B-Twin-2T"].dropna(subset=["mc4_en-validation/CrossEntropyLoss"])
    table = pd.DataFrame({"x": rows["tokens"].to_numpy(),
                          "loss": rows["mc4_en-validation/CrossEntropyLoss"].to_numpy()}).iloc[::8]
    m4 = engine.fit(get_law("implicit_m4"), table)
    saturating = engine.fit(get_law("saturating_power_law"), table)
    assert m4.diagnostics["converged"]
    assert m4.diagnostics["objective"] <= saturating.diagnostics["objective"] * (1 + 1e-9)
    assert m4.params["E"] == pytest.approx(saturating.params["E"], rel=1e-3)


def test_an_equation_is_an_implicit_law_with_its_bracket_read_from_the_formula():
    law = get_law("(y - E)/(F - y)**a = B*x**-c")
    assert isinstance(law, ImplicitLaw) and law.bracket == ("E", "F")
    with pytest.raises(LawError, match="needs the interval of y where it is monotone"):
        get_law("y**2 = B*x**-c")
    with pytest.raises(LawError, match="does not contain y"):
        get_law("E = B*x**-c")
