"""Expression laws: the whitelist parser, exact derivatives and the compiled program."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scalelaw import expression as ex
from scalelaw.errors import LawError

FORMULAS = [
    "E + A/N**alpha + B/D**beta",
    "((Nc / N)**(aN / aD) + Dc / D)**aD",
    "a / (1 + exp(-k * (x - x0))) + b",
    "exp(-A * k**-beta)",
    "a + b * log(x) - sqrt(c * x) + tanh(d * x) + log10(x) * e + log2(x) / f + log1p(g * x) + expm1(h / x)",
    "-(A * x)**2 / (1 + x) + 3",
]


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('true')",
        "np.exp(x)",
        "x.real",
        "x[0]",
        "lambda x: x",
        "x if y else z",
        "x < y",
        "'a' + x",
        "open('f')",
        "exp(x, y)",
        "exp",
        "x @ y",
        "x // 2",
        "[x]",
    ],
)
def test_disallowed_syntax_is_a_clear_error(text):
    with pytest.raises(LawError, match="not allowed|not valid syntax|is a function"):
        ex.parse(text)


@pytest.mark.parametrize(
    "text, segment, column, reason",
    [
        ("9**9**9", "9**9**9", 1, "overflows (|value| > 1.8e308)"),
        ("2**10000", "2**10000", 1, "overflows (|value| > 1.8e308)"),
        ("E + A*x**-(10.0**400)", "10.0**400", 12, "overflows (|value| > 1.8e308)"),
        ("x + 1/0", "1/0", 5, "divides by zero"),
        ("0.0**-1 * x", "0.0**-1", 1, "divides by zero"),
        ("(-8)**0.5 * x", "(-8)**0.5", 1, "is not a real number"),
        ("1e400 * x", "1e400", 1, "overflows (|value| > 1.8e308)"),
        ("log(-1) * x", "log(-1)", 1, "is not a number"),
        ("1e308*10*x", "1e308*10", 1, "overflows (|value| > 1.8e308)"),
    ],
)
def test_constants_without_a_finite_real_value_are_refused_with_their_position(text, segment, column, reason):
    with pytest.raises(ex.ConstantError) as caught:
        ex.parse(text)
    message = str(caught.value)
    assert message == (f"in {text!r}: {segment!r} (column {column}) {reason}; write a finite real constant")
    assert "\n" not in message


def test_finite_constants_still_fold():
    assert ex.parse("2**10 * x") == ex.parse("1024 * x")
    assert ex.parse("1e308 * x + 1/4") == ex.parse("x*1e308 + 0.25")
    assert str(ex.parse("(-8)**2 * x")) == "(64*x)"


@pytest.mark.parametrize("text, fragment", [
    ("x + __import__", "the name '__import__' starts with '_'"),
    ("_private * x", "the name '_private' starts with '_'"),
    ("-" * 500 + "x", "nests operations deeper than the limit of 100"),
    ("*".join(["x"] * 150), "nests operations deeper than the limit of 100"),
    ("x + " * 3000 + "x", "more than the limit of 10000"),
])
def test_private_names_and_oversized_formulas_are_refused(text, fragment):
    with pytest.raises(LawError, match=re.escape(fragment)):
        ex.parse(text)


def test_empty_expression_is_an_error():
    with pytest.raises(LawError, match="empty"):
        ex.parse("  ")


@pytest.mark.parametrize("formula", FORMULAS)
def test_derivatives_match_central_differences(formula):
    expr = ex.parse(formula)
    names = sorted(expr.symbols)
    rng = np.random.default_rng(0)
    point = {n: float(rng.uniform(0.3, 1.2)) for n in names}
    program = ex.Program([expr, *(ex.derivative(expr, n) for n in names)], frozenset())
    values = program.bind({})(point)
    for i, name in enumerate(names):
        h = 1e-6 * max(1.0, abs(point[name]))
        up = ex.Program([expr], frozenset()).bind({})(point | {name: point[name] + h})[0]
        down = ex.Program([expr], frozenset()).bind({})(point | {name: point[name] - h})[0]
        assert values[1 + i] == pytest.approx((up - down) / (2 * h), rel=1e-6, abs=1e-8), name


def test_program_hoists_data_and_shares_subexpressions():
    expr = ex.parse("E + A * N**-alpha")
    grads = [ex.derivative(expr, n) for n in ("A", "alpha")]
    program = ex.Program([expr, *grads], frozenset({"N"}))
    n = np.array([1e6, 1e8, 1e10])
    bound = program.bind({"N": n})
    f, dA, dalpha = bound({"E": 1.5, "A": np.array([[400.0], [500.0]]), "alpha": np.array([[0.3], [0.4]])})
    A, alpha = np.array([[400.0], [500.0]]), np.array([[0.3], [0.4]])
    np.testing.assert_allclose(f, 1.5 + A * n**-alpha, rtol=1e-14)
    np.testing.assert_allclose(dA, n**-alpha, rtol=1e-14)
    np.testing.assert_allclose(dalpha, -A * n**-alpha * np.log(n), rtol=1e-13)
    # N**-alpha appears in all three outputs but is one step of the program
    powers = [s for s in program._steps if isinstance(s, ex.Pow) and s.base == ex.Sym("N")]
    assert len(powers) == 1


@settings(max_examples=60, deadline=None)
@given(a=st.floats(0.1, 10), b=st.floats(-3, 3), x=st.floats(0.5, 50))
def test_compiled_value_equals_numpy(a, b, x):
    expr = ex.parse("a * x**b - exp(-b) / (1 + a)")
    value = ex.Program([expr], frozenset({"x"})).bind({"x": np.array([x])})({"a": a, "b": b})[0]
    assert value[0] == pytest.approx(a * x**b - np.exp(-b) / (1 + a), rel=1e-12)


def test_simplification_folds_constants_and_zero_derivatives():
    expr = ex.parse("2 * 3 + x * 1 + 0 * y")
    assert expr == ex.add(ex.Sym("x"), ex.Const(6.0))
    assert ex.derivative(ex.parse("A * x"), "B") == ex.ZERO


@pytest.mark.parametrize("formula", ["E + A/N**alpha + 9**9**9/D**beta", "E + A/N**alpha + B/D**__class__",
                                     "E + A/N**alpha + B/D**beta + 1/0"])
def test_the_cli_refuses_an_exploding_or_private_formula_in_one_line(cli, formula):
    from support import DATA

    run = cli("fit", "loss", DATA / "loss" / "epoch_chinchilla_svg_extracted.csv", "--law", formula)
    assert run.code == 2
    assert run.stderr.count("\n") == 1 and run.stderr.startswith("error: in ") and "Traceback" not in run.stderr
