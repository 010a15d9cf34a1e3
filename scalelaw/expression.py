"""Symbolic expressions: a safe parser, exact derivatives and a compiled numpy program.

A law's formula is a string such as ``"E + A/N**alpha + B/D**beta"``.  It is parsed with
:mod:`ast` and a whitelist of node types (names, numbers, ``+ - * / **``, unary minus and the
functions in :data:`FUNCTIONS`); anything else raises :class:`~scalelaw.errors.LawError`.  It is
never passed to ``eval``.

The parsed tree is differentiated symbolically, so every law has an exact gradient.  The value and
all partial derivatives are compiled together into one straight-line :class:`Program` in which
equal sub-expressions are computed once, and sub-expressions of the inputs alone are computed once
per data set (:meth:`Program.bind`).

Examples
--------
>>> expr = parse("E + A/N**alpha")
>>> sorted(expr.symbols)
['A', 'E', 'N', 'alpha']
>>> str(derivative(expr, "E"))
'1'
"""

from __future__ import annotations

import ast
import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from scalelaw.errors import LawError

#: numpy functions allowed in expressions, with their derivative in terms of the argument ``u``.
FUNCTIONS = ("exp", "log", "log10", "log2", "log1p", "expm1", "sqrt", "tanh")
MAX_CHARACTERS = 10_000  #: longest formula accepted
MAX_DEPTH = 100  #: deepest nesting of operations in a formula


class ConstantError(LawError):
    """A constant sub-expression that has no finite real value (``1/0``, ``2**10000``, ``(-8)**0.5``);
    ``reason`` says why ("divides by zero", ...)."""

    def __init__(self, what: str, reason: str) -> None:
        super().__init__(f"{what} {reason}")
        self.reason = reason


def _constant(value, what: str) -> Const:
    """``Const(value)``, or :class:`ConstantError` when ``value`` is not a finite real number."""
    if isinstance(value, complex):
        raise ConstantError(what, "is not a real number")
    if not math.isfinite(value):
        raise ConstantError(what, "overflows (|value| > 1.8e308)" if not math.isnan(value) else "is not a number")
    return Const(float(value))


class Node:
    """A node of an expression tree (immutable, compared and hashed by structure)."""

    __slots__ = ()

    @cached_property
    def symbols(self) -> frozenset[str]:
        """Names of the symbols the node depends on."""
        return frozenset().union(*(child.symbols for child in self.children))

    @property
    def children(self) -> tuple[Node, ...]:
        return ()


@dataclass(frozen=True, eq=True)
class Const(Node):
    value: float

    @cached_property
    def symbols(self) -> frozenset[str]:
        return frozenset()

    def __str__(self) -> str:
        v = float(self.value)
        return str(int(v)) if v.is_integer() else repr(v)


@dataclass(frozen=True, eq=True)
class Sym(Node):
    name: str

    @cached_property
    def symbols(self) -> frozenset[str]:
        return frozenset({self.name})

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, eq=True)
class Add(Node):
    terms: tuple[Node, ...]

    @property
    def children(self) -> tuple[Node, ...]:
        return self.terms

    def __str__(self) -> str:
        return "(" + " + ".join(map(str, self.terms)) + ")"


@dataclass(frozen=True, eq=True)
class Mul(Node):
    factors: tuple[Node, ...]

    @property
    def children(self) -> tuple[Node, ...]:
        return self.factors

    def __str__(self) -> str:
        return "(" + "*".join(map(str, self.factors)) + ")"


@dataclass(frozen=True, eq=True)
class Pow(Node):
    base: Node
    exponent: Node

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.base, self.exponent)

    def __str__(self) -> str:
        return f"{self.base}**{self.exponent}"


@dataclass(frozen=True, eq=True)
class Call(Node):
    function: str
    argument: Node

    @property
    def children(self) -> tuple[Node, ...]:
        return (self.argument,)

    def __str__(self) -> str:
        return f"{self.function}({self.argument})"


ZERO, ONE = Const(0.0), Const(1.0)


# ----------------------------------------------------------------------------- simplifying builders
def add(*terms: Node) -> Node:
    """Sum with flattening and constant folding."""
    flat: list[Node] = []
    constant = 0.0
    for term in terms:
        for t in term.terms if isinstance(term, Add) else (term,):
            if isinstance(t, Const):
                constant += t.value
            else:
                flat.append(t)
    if constant != 0.0:
        flat.append(_constant(constant, "a sum of constants"))
    if not flat:
        return ZERO
    return flat[0] if len(flat) == 1 else Add(tuple(flat))


def mul(*factors: Node) -> Node:
    """Product with flattening and constant folding."""
    flat: list[Node] = []
    constant = 1.0
    for factor in factors:
        for f in factor.factors if isinstance(factor, Mul) else (factor,):
            if isinstance(f, Const):
                constant *= f.value
            else:
                flat.append(f)
    if constant == 0.0:
        return ZERO
    if constant != 1.0:
        flat.insert(0, _constant(constant, "a product of constants"))
    if not flat:
        return ONE
    return flat[0] if len(flat) == 1 else Mul(tuple(flat))


def power(base: Node, exponent: Node) -> Node:
    """``base ** exponent`` with the trivial cases folded."""
    if isinstance(exponent, Const):
        if exponent.value == 0.0:
            return ONE
        if exponent.value == 1.0:
            return base
        if isinstance(base, Const):
            if base.value == 0.0 and exponent.value < 0:
                raise ConstantError(f"({base})**({exponent})", "divides by zero")
            try:
                value = base.value**exponent.value
            except OverflowError:
                value = math.inf
            return _constant(value, f"({base})**({exponent})")
    if isinstance(base, Pow) and isinstance(base.exponent, Const) and isinstance(exponent, Const):
        return power(base.base, Const(base.exponent.value * exponent.value))
    return Pow(base, exponent)


def call(function: str, argument: Node) -> Node:
    if isinstance(argument, Const):
        with np.errstate(all="ignore"):
            return _constant(float(getattr(np, function)(argument.value)), f"{function}({argument})")
    return Call(function, argument)


def neg(node: Node) -> Node:
    return mul(Const(-1.0), node)


# ----------------------------------------------------------------------------------------- parsing
_BINARY = {
    ast.Add: lambda a, b: add(a, b),
    ast.Sub: lambda a, b: add(a, neg(b)),
    ast.Mult: lambda a, b: mul(a, b),
    ast.Div: lambda a, b: mul(a, power(b, Const(-1.0))),
    ast.Pow: lambda a, b: power(a, b),
}


def parse(text: str) -> Node:
    """Parse a formula into an expression tree, allowing only whitelisted syntax.

    Raises
    ------
    LawError
        On a syntax error, or any construct other than names, numbers, ``+ - * / **``, unary
        minus and calls of the functions in :data:`FUNCTIONS`.
    """
    if not isinstance(text, str) or not text.strip():
        raise LawError("the law expression is empty; give a formula such as 'E + A/N**alpha'")
    if len(text) > MAX_CHARACTERS:
        raise LawError(f"the law expression has {len(text)} characters, more than the limit of {MAX_CHARACTERS}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        raise LawError(f"the law expression {_shown(text)} is not valid syntax: {err.msg}") from None
    except (RecursionError, MemoryError):
        raise LawError(f"the law expression {_shown(text)} nests too deeply to parse") from None
    if _depth(tree.body) > MAX_DEPTH:
        raise LawError(f"the law expression {_shown(text)} nests operations deeper than the limit of {MAX_DEPTH}")
    return _convert(tree.body, text)


def _shown(text: str) -> str:
    return repr(text) if len(text) <= 80 else repr(text[:77] + "...")


def _depth(node: ast.AST) -> int:
    """Nesting depth of an expression tree (iterative: a deep tree cannot exhaust the stack)."""
    deepest, stack = 0, [(node, 1)]
    while stack:
        current, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth <= MAX_DEPTH:
            stack.extend((child, depth + 1) for child in ast.iter_child_nodes(current))
    return deepest


def _convert(node: ast.AST, text: str) -> Node:
    try:
        return _convert_node(node, text)
    except ConstantError as err:
        if str(err).startswith("in "):
            raise
        segment = ast.get_source_segment(text.strip(), node) or ast.unparse(node)
        raise ConstantError(f"in {_shown(text)}: {segment!r} (column {node.col_offset + 1})",
                            f"{err.reason}; write a finite real constant") from None


def _convert_node(node: ast.AST, text: str) -> Node:
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        try:
            value = float(node.value)
        except OverflowError:  # an integer literal beyond the largest float
            value = math.inf
        return _constant(value, "the number")
    if isinstance(node, ast.Name):
        if node.id in FUNCTIONS:
            raise LawError(f"in {text!r}: {node.id!r} is a function; call it, e.g. {node.id}(x)")
        if node.id.startswith("_"):
            raise LawError(f"in {_shown(text)}: the name {node.id!r} starts with '_'; name parameters and "
                           "columns with a letter")
        return Sym(node.id)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        return _BINARY[type(node.op)](_convert(node.left, text), _convert(node.right, text))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        operand = _convert(node.operand, text)
        return neg(operand) if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.Call):
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name in FUNCTIONS and len(node.args) == 1 and not node.keywords:
            return call(name, _convert(node.args[0], text))
        shown = ast.unparse(node.func)
        raise LawError(
            f"in {text!r}: calling {shown!r} is not allowed; "
            f"only {', '.join(FUNCTIONS)} with one argument are"
        )
    shown = ast.unparse(node) if hasattr(ast, "unparse") else type(node).__name__
    raise LawError(
        f"in {text!r}: {shown!r} ({type(node).__name__}) is not allowed; use names, numbers, "
        f"+ - * / **, unary minus and {', '.join(FUNCTIONS)}"
    )


# ------------------------------------------------------------------------------------- derivatives
def derivative(node: Node, name: str) -> Node:
    """Exact partial derivative of ``node`` with respect to the symbol ``name``."""
    if name not in node.symbols:
        return ZERO
    if isinstance(node, Sym):
        return ONE
    if isinstance(node, Add):
        return add(*(derivative(t, name) for t in node.terms))
    if isinstance(node, Mul):
        parts = []
        for i, f in enumerate(node.factors):
            df = derivative(f, name)
            if df != ZERO:
                parts.append(mul(*node.factors[:i], df, *node.factors[i + 1 :]))
        return add(*parts)
    if isinstance(node, Pow):
        base, exponent = node.base, node.exponent
        d_base = derivative(base, name)
        if name not in exponent.symbols:
            return mul(exponent, power(base, add(exponent, Const(-1.0))), d_base)
        d_exp = derivative(exponent, name)
        return mul(node, add(mul(d_exp, call("log", base)), mul(exponent, d_base, power(base, Const(-1.0)))))
    if isinstance(node, Call):
        u, du = node.argument, derivative(node.argument, name)
        outer = {
            "exp": lambda: node,
            "log": lambda: power(u, Const(-1.0)),
            "log10": lambda: power(mul(Const(math.log(10.0)), u), Const(-1.0)),
            "log2": lambda: power(mul(Const(math.log(2.0)), u), Const(-1.0)),
            "log1p": lambda: power(add(ONE, u), Const(-1.0)),
            "expm1": lambda: call("exp", u),
            "sqrt": lambda: mul(Const(0.5), power(node, Const(-1.0))),
            "tanh": lambda: add(ONE, neg(power(node, Const(2.0)))),
        }[node.function]()
        return mul(outer, du)
    raise TypeError(f"cannot differentiate {node!r}")


# ------------------------------------------------------------------------------------ compilation
class Program:
    """Straight-line numpy code computing several expressions with shared sub-expressions.

    Parameters
    ----------
    outputs
        The expressions to compute, e.g. a law and its partial derivatives.
    inputs
        Names of the symbols that are data columns; sub-expressions of these alone are computed
        once by :meth:`bind`.
    """

    def __init__(self, outputs: list[Node], inputs: frozenset[str]) -> None:
        self.outputs = list(outputs)
        self.inputs = frozenset(inputs)
        self._steps: list[Node] = []
        self._index: dict[Node, int] = {}
        for out in self.outputs:
            self._visit(out)

    def _visit(self, node: Node) -> int:
        found = self._index.get(node)
        if found is not None:
            return found
        for child in node.children:
            self._visit(child)
        if isinstance(node, Pow):  # positive data bases are raised as exp(e*log b), log b once
            if node.base.symbols <= self.inputs and not (node.exponent.symbols <= self.inputs):
                self._visit(Call("log", node.base))
        self._index[node] = len(self._steps)
        self._steps.append(node)
        return self._index[node]

    def bind(self, data: dict[str, np.ndarray]) -> BoundProgram:
        """Evaluate everything that depends on the data alone; return the parameter evaluator."""
        values: dict[int, object] = {}
        with np.errstate(all="ignore"):
            for i, node in enumerate(self._steps):
                if node.symbols <= self.inputs:
                    values[i] = self._compute(node, values, data)
        return BoundProgram(self, values)

    def _compute(self, node: Node, values: dict[int, object], env: dict[str, object]):
        at = self._index
        if isinstance(node, Const):
            return node.value
        if isinstance(node, Sym):
            if node.name not in env:
                raise LawError(f"no value given for {node.name!r}")
            return env[node.name]
        if isinstance(node, Add):
            total = values[at[node.terms[0]]]
            for t in node.terms[1:]:
                total = total + values[at[t]]
            return total
        if isinstance(node, Mul):
            out = None
            divisors = []
            for f in node.factors:
                if isinstance(f, Pow) and f.exponent == Const(-1.0):
                    divisors.append(values[at[f.base]])
                else:
                    out = values[at[f]] if out is None else out * values[at[f]]
            out = 1.0 if out is None else out
            for d in divisors:
                out = out / d
            return out
        if isinstance(node, Pow):
            base, exponent = values[at[node.base]], values[at[node.exponent]]
            log_node = Call("log", node.base)
            if log_node in at and at[log_node] in values and np.all(np.asarray(base) > 0):
                return np.exp(exponent * values[at[log_node]])
            if isinstance(node.exponent, Const) and node.exponent.value == -1.0:
                return 1.0 / base
            return np.power(base, exponent)
        if isinstance(node, Call):
            return getattr(np, node.function)(values[at[node.argument]])
        raise TypeError(f"cannot compute {node!r}")


class BoundProgram:
    """A :class:`Program` with its data fixed; call it with parameter values."""

    def __init__(self, program: Program, data_values: dict[int, object]) -> None:
        self.program = program
        self._data_values = data_values

    def __call__(self, params: dict[str, object]) -> list[object]:
        """Return the outputs for parameter values (scalars or arrays broadcast against the data)."""
        program = self.program
        values = dict(self._data_values)
        with np.errstate(all="ignore"):
            for i, node in enumerate(program._steps):
                if i not in values:
                    values[i] = program._compute(node, values, params)
        return [values[program._index[out]] for out in program.outputs]
