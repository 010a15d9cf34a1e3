"""Law declarations: constraints checked when declared, the catalogue, expression laws."""

from __future__ import annotations

import numpy as np
import pytest

from scalelaw import Law, LawError, Param, get_law
from scalelaw.expression import derivative


def test_chinchilla_value_matches_the_formula():
    law = get_law("chinchilla")
    p = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
    n, d = np.array([1e8, 7e10]), np.array([2e9, 1.4e12])
    expected = 1.69 + 406.4 * n**-0.34 + 410.7 * d**-0.28
    np.testing.assert_allclose(law.evaluate({"N": n, "D": d}, p), expected, rtol=1e-14)


def test_kaplan_value_matches_the_formula():
    law = get_law("kaplan")
    p = {"Nc": 6.4e13, "Dc": 1.8e13, "alpha_N": 0.076, "alpha_D": 0.103}
    n, d = 1e9, 2e10
    expected = ((6.4e13 / n) ** (0.076 / 0.103) + 1.8e13 / d) ** 0.103
    assert law.evaluate({"N": n, "D": d}, p) == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "A", "lower": 2.0, "upper": 1.0}, "not below"),
        ({"name": "A", "log": True, "lower": -1.0}, "log scale"),
        ({"name": "A", "lower": 0.0, "upper": 1.0, "starts": (2.0,)}, "outside its bounds"),
        ({"name": "A", "log": True, "lower": 0.0, "starts": (0.0,)}, "outside its bounds"),
        ({"name": "not valid"}, "identifier"),
    ],
)
def test_bad_parameter_declarations_raise_at_once(kwargs, message):
    with pytest.raises(LawError, match=message):
        Param(**kwargs)


def test_bad_law_declarations_raise_at_once():
    with pytest.raises(LawError, match="neither inputs nor declared"):
        Law("l", "A * x**b", inputs=("x",), params=(Param("A"),))
    with pytest.raises(LawError, match="not in the formula"):
        Law("l", "A * x", inputs=("x",), params=(Param("A"), Param("B")))
    with pytest.raises(LawError, match="space"):
        Law("l", "A * x", inputs=("x",), params=(Param("A"),), space="sqrt")
    with pytest.raises(LawError, match="both inputs and parameters"):
        Law("l", "A * x", inputs=("x", "A"), params=(Param("A"),))


def test_expression_law_infers_inputs_roles_and_linear_parameters():
    law = Law.from_expression("E + A/N**alpha + B/D**beta")
    assert law.inputs == ("D", "N")
    assert set(law.param_names) == {"A", "B", "E", "alpha", "beta"}
    assert set(law.linear_params) == {"A", "B", "E"}
    assert law.param("alpha").starts and not law.param("A").starts
    assert law.column("N") == "params" and law.column("D") == "tokens"


def test_expression_law_takes_input_columns_from_the_table():
    law = Law.from_expression("a + b * log(steps)", columns=["steps", "loss"], space="linear")
    assert law.inputs == ("steps",) and law.column("steps") == "steps"


def test_unknown_law_name_is_a_clear_error():
    with pytest.raises(LawError, match="unknown law 'chinchila'"):
        get_law("chinchila")


def test_linear_parameters_exclude_those_in_nonlinear_positions():
    law = get_law("sigmoid")
    assert set(law.linear_params) == {"a", "b"}
    assert "k" not in law.linear_params
    assert derivative(law.expression, "b").symbols == frozenset()


def test_a_nonlinear_parameter_without_starts_is_refused_when_fitting():
    import pandas as pd

    from scalelaw import fit

    law = Law("l", "c * x**a", inputs=("x",), params=(Param("c", log=True, lower=0.0), Param("a")))
    table = pd.DataFrame({"x": [1.0, 2.0, 4.0], "loss": [1.0, 0.5, 0.25]})
    with pytest.raises(LawError, match="no starting values for a"):
        fit(law, table)
    assert fit(law, table, starts={"c": 1.0, "a": -0.5}).params["a"] == pytest.approx(-1.0, abs=1e-9)
