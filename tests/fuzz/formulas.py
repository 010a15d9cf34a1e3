"""Hypothesis strategies for law formulas: random expression trees within the whitelist (names, numbers,
``+ - * / **``, unary minus, the allowed functions) and outside it (attributes, subscripts, calls of other
names, dunder and private names, comparisons, lambdas, strings), with constants that overflow or divide
by zero (``9**9**9``, ``10.0**400``, ``1/0``, ``(-8)**0.5``).
"""

from __future__ import annotations

from hypothesis import strategies as st

from scalelaw.expression import FUNCTIONS

NAMES = ("N", "D", "E", "A", "B", "alpha", "beta", "params", "tokens")
HOSTILE_NAMES = ("x", "loss", "__class__", "_private", "__import__", "eval", "open", "os", "self", "None", "True",
                 "lambda_", "nan", "inf", "e", "pi")
NUMBERS = ("0", "1", "2", "0.5", "9", "10", "10.0", "400", "1e308", "1e-320", "2", "0.0", "-1", "1j", "1_0",
           "0x10", "9" * 400)


def leaves(hostile: bool) -> st.SearchStrategy[str]:
    names = NAMES + (HOSTILE_NAMES if hostile else ())
    return st.sampled_from(names) | st.sampled_from(NUMBERS[:14] if not hostile else NUMBERS)


def expressions(hostile: bool) -> st.SearchStrategy[str]:
    """Formula texts; with ``hostile`` the nodes may leave the whitelist."""
    functions = FUNCTIONS + (("abs", "getattr", "__import__", "max", "exec") if hostile else ())

    def extend(inner):
        binary = st.tuples(inner, st.sampled_from(("+", "-", "*", "/", "**")), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})")
        unary = inner.map(lambda a: f"-{a}")
        call = st.tuples(st.sampled_from(functions), inner).map(lambda t: f"{t[0]}({t[1]})")
        options = [binary, binary, unary, call]
        if hostile:
            options += [
                inner.map(lambda a: f"{a}.__class__"), inner.map(lambda a: f"{a}[0]"),
                st.tuples(inner, inner).map(lambda t: f"{t[0]} < {t[1]}"), inner.map(lambda a: f"lambda: {a}"),
                inner.map(lambda a: f"'{a}'"), st.tuples(inner, inner).map(lambda t: f"({t[0]}, {t[1]})"),
                st.tuples(inner, inner).map(lambda t: f"{t[0]} if {t[1]} else 1"),
                st.tuples(inner, inner).map(lambda t: f"{t[0]} // {t[1]}"), inner.map(lambda a: f"({a}"),
            ]
        return st.one_of(options)

    tree = st.recursive(leaves(hostile), extend, max_leaves=12)
    if not hostile:
        return tree
    towers = st.sampled_from(("9**9**9", "10.0**400", "2**10000", "1/0", "0.0 ** -1", "(-8)**0.5", "1e308*10",
                              "exp(1000)", "log(0)", "sqrt(-1)", "(" * 200 + "N" + ")" * 200, "N+" * 6000 + "N",
                              "-" * 500 + "N", "E + A/N**alpha\x00", "E +\n A", ""))
    return st.one_of(tree, towers)


def laws() -> st.SearchStrategy[str]:
    """Law-shaped formulas: a Chinchilla-like law with a random term added or multiplied in."""
    return st.tuples(st.sampled_from(("+", "*", "-")), expressions(False)).map(
        lambda t: f"E + A/N**alpha {t[0]} {t[1]}")


def formulas() -> st.SearchStrategy[str]:
    return st.one_of(expressions(False), laws(), expressions(True))
