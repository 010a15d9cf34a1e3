"""Laws: named parametric forms y = f(x; theta), declared once as data plus a formula.

A :class:`Law` is frozen.  It knows its formula, which symbols are data (``inputs``) and which are
parameters (:class:`Param`: bounds, log scale, starting values), the space in which residuals are
measured, and the table columns its inputs come from.  The formula is compiled with exact
derivatives (:mod:`scalelaw.expression`), so the engine needs nothing else to fit it.

:data:`CATALOGUE` holds every law: the core laws below by name, and each family's laws as
``family.name`` (``datastore.saturating``, ``sampling.exp_power_law``), declared in
:mod:`scalelaw.catalogue`, which this module imports last (numpy only: importing the catalogue
needs none of the families).  A parametrised law (:func:`register_builder`) has a builder and a
canonical instance in the catalogue; :func:`build_law` makes its other instances.

Examples
--------
>>> law = get_law("chinchilla")
>>> law.param_names
('E', 'A', 'B', 'alpha', 'beta')
>>> float(law.evaluate({"N": 1e9, "D": 2e10}, {"E": 1.69, "A": 406.4, "B": 410.7,
...                                          "alpha": 0.34, "beta": 0.28}).round(4))
2.58
>>> Law.from_expression("E + A/N**alpha", inputs=["N"]).param_names
('A', 'E', 'alpha')
>>> get_law("datastore.saturating").formula
'10.0 - G * (1 - (1 + S/S0)**-gamma)'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np

from scalelaw import expression as ex
from scalelaw import implicit
from scalelaw.errors import LawError

#: Residual spaces: how a target y and a prediction f are compared ("loglog": log(-log y), y in (0, 1);
#: "excess": log(y - E) - log(f - E), the excess over the law's floor parameter E, kept below min y).
SPACES = ("log", "linear", "logit", "loglog", "excess")

#: Symbols that mean a canonical column when they appear in an expression law.
STANDARD_SYMBOLS = {
    "N": "params",
    "D": "tokens",
    "C": "flops",
    "S": "datastore_tokens",
    "k": "k",
    "x": "x",
}

EXPONENT_STARTS = (0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8, 1.0, 1.5)


@dataclass(frozen=True)
class Param:
    """One parameter of a law.

    Parameters
    ----------
    name
        A Python identifier used in the formula.
    log
        Optimise ``log(value)``; the value is then positive (a scale parameter such as A or E).
    lower, upper
        Bounds in natural units; ``-inf``/``inf`` for none.
    starts
        Values (natural units) that the default start grid tries.  Leave empty for a parameter on
        which the law depends linearly: the default start set solves it by least squares.
    doc
        What the parameter means, with units.
    """

    name: str
    log: bool = False
    lower: float = -math.inf
    upper: float = math.inf
    starts: tuple[float, ...] = ()
    doc: str = ""

    def __post_init__(self) -> None:
        if not self.name.isidentifier():
            raise LawError(f"parameter name {self.name!r} is not an identifier")
        lower, upper = float(self.lower), float(self.upper)
        if not lower < upper:
            raise LawError(f"parameter {self.name!r}: lower bound {lower} is not below upper {upper}")
        if self.log and lower < 0:
            raise LawError(f"parameter {self.name!r} is on a log scale, so its lower bound must be >= 0")
        object.__setattr__(self, "lower", lower)
        object.__setattr__(self, "upper", upper)
        object.__setattr__(self, "starts", tuple(float(s) for s in self.starts))
        for s in self.starts:
            if not lower <= s <= upper or (self.log and s <= 0):
                raise LawError(f"parameter {self.name!r}: start {s} lies outside its bounds")

    def to_dict(self) -> dict:
        return {"name": self.name, "log": self.log, "lower": self.lower, "upper": self.upper,
                "starts": list(self.starts), "doc": self.doc}


@dataclass(frozen=True)
class Law:
    """A parametric law ``y = f(inputs; params)``, fitted by :func:`scalelaw.engine.fit`.

    Parameters
    ----------
    name
        Catalogue name, or ``"expression"`` for a law built from a string.
    formula
        The formula, in the whitelisted syntax of :func:`scalelaw.expression.parse`.
    inputs
        Symbols of the formula that are data.
    params
        One :class:`Param` per remaining symbol.
    space
        Residual space: ``"log"`` (log y - log f), ``"linear"`` (y - f), ``"logit"``,
        ``"loglog"`` (log(-log y) - log(-log f), for y in (0, 1) such as coverage) or ``"excess"``
        (log(y - E) - log(f - E), the excess over the floor parameter E, which the fit keeps below
        the smallest y; :meth:`in_space` gives a law in another space).
    columns
        ``(symbol, column)`` pairs: the table column that feeds each input symbol.
    target
        The column that holds y.
    doc
        What the law says, with units.
    """

    name: str
    formula: str
    inputs: tuple[str, ...]
    params: tuple[Param, ...]
    space: str = "log"
    columns: tuple[tuple[str, str], ...] = ()
    target: str = "loss"
    doc: str = field(default="", compare=False)
    #: Symbols of the formula that are neither inputs nor parameters (an implicit law's y).
    solved = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "inputs", tuple(self.inputs))
        object.__setattr__(self, "params", tuple(self.params))
        object.__setattr__(self, "columns", tuple((str(s), str(c)) for s, c in self.columns))
        if self.space not in SPACES:
            raise LawError(f"law {self.name!r}: space {self.space!r} is not one of {', '.join(SPACES)}")
        symbols = self.expression.symbols - self.solved
        declared = [p.name for p in self.params]
        if len(set(declared)) != len(declared):
            raise LawError(f"law {self.name!r}: a parameter is declared twice in {declared}")
        if self.space == "excess" and "E" not in declared:
            raise LawError(f"law {self.name!r}: residuals in excess space, log(y - E), need a floor parameter "
                           f"named E; the law has {', '.join(declared)}")
        overlap = set(declared) & set(self.inputs)
        if overlap:
            raise LawError(f"law {self.name!r}: {sorted(overlap)} are both inputs and parameters")
        missing = symbols - set(declared) - set(self.inputs)
        unused = (set(declared) | set(self.inputs)) - symbols
        if missing:
            raise LawError(f"law {self.name!r}: {sorted(missing)} appear in the formula but are "
                           "neither inputs nor declared parameters")
        if unused:
            raise LawError(f"law {self.name!r}: {sorted(unused)} are declared but not in the formula")
        unknown = {s for s, _ in self.columns} - set(self.inputs)
        if unknown:
            raise LawError(f"law {self.name!r}: columns given for {sorted(unknown)}, which are not inputs")

    # ------------------------------------------------------------------ structure
    @cached_property
    def expression(self) -> ex.Node:
        return ex.parse(self.formula)

    @classmethod
    def parse_formula(cls, formula: str) -> ex.Node:
        """The expression tree of a formula of this kind of law."""
        return ex.parse(formula)

    @classmethod
    def declared_from(cls, node: ex.Node) -> dict:
        """Fields of this kind of law that a formula's tree determines (none for a plain law)."""
        return {}

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise LawError(f"law {self.name!r} has no parameter {name!r}; it has {self.param_names}")

    def column(self, symbol: str) -> str:
        """The table column that feeds the input ``symbol``."""
        return dict(self.columns).get(symbol, STANDARD_SYMBOLS.get(symbol, symbol))

    @property
    def input_columns(self) -> tuple[str, ...]:
        return tuple(self.column(s) for s in self.inputs)

    @cached_property
    def program(self) -> ex.Program:
        """The compiled value and partial derivatives (in parameter order)."""
        f = self.expression
        grads = [ex.derivative(f, name) for name in self.param_names]
        return ex.Program([f, *grads], frozenset(self.inputs))

    @cached_property
    def value_program(self) -> ex.Program:
        """The compiled value alone, for predictions."""
        return ex.Program([self.expression], frozenset(self.inputs))

    @cached_property
    def linear_params(self) -> tuple[str, ...]:
        """Parameters on which f depends linearly (solved by least squares for default starts)."""
        f = self.expression
        candidates = {p.name for p in self.params if not p.starts}
        changed = True
        while changed:
            changed = False
            for name in sorted(candidates):
                if ex.derivative(f, name).symbols & candidates:
                    candidates.discard(name)
                    changed = True
        return tuple(n for n in self.param_names if n in candidates)

    def in_space(self, space: str) -> Law:
        """A copy whose residuals are measured in ``space``, e.g.
        ``get_law("saturating_power_law").in_space("excess")``."""
        return replace(self, space=space)

    def with_columns(self, **columns: str) -> Law:
        """A copy whose input symbols read other columns, e.g. ``power_law.with_columns(x="flops")``."""
        merged = dict(self.columns) | columns
        return replace(self, columns=tuple(merged.items()))

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, data: Mapping[str, object], params: Mapping[str, float]) -> np.ndarray:
        """Evaluate f for inputs given by symbol (arrays or scalars) and parameters by name."""
        draws = np.array([[float(params[n]) for n in self.param_names]])
        return self.evaluate_draws(data, draws)[0]

    def evaluate_draws(self, data: Mapping[str, object], draws: np.ndarray) -> np.ndarray:
        """Evaluate f for every row of ``draws`` (B, p natural values): shape (B, *inputs shape)."""
        missing = [s for s in self.inputs if s not in data]
        if missing:
            raise LawError(f"law {self.name!r} needs inputs {missing}")
        values = {s: np.asarray(data[s], dtype=float) for s in self.inputs}
        shape = np.broadcast_shapes(*(v.shape for v in values.values()))
        flat = {s: np.broadcast_to(v, shape).reshape(-1) for s, v in values.items()}
        draws = np.atleast_2d(np.asarray(draws, dtype=float))
        theta = {n: draws[:, j : j + 1] for j, n in enumerate(self.param_names)}
        out = self.value_program.bind(flat)(theta)[0]
        size = int(np.prod(shape)) if shape else 1
        return np.broadcast_to(out, (draws.shape[0], size)).reshape((draws.shape[0], *shape)).astype(float)

    # ------------------------------------------------------------------ declaration and artifacts
    def to_dict(self) -> dict:
        return {"name": self.name, "formula": self.formula, "inputs": list(self.inputs),
                "params": [p.to_dict() for p in self.params], "space": self.space,
                "columns": dict(self.columns), "target": self.target}

    @classmethod
    def from_dict(cls, d: Mapping) -> Law:
        kind, extra = cls, {}
        if "bracket" in d:  # an implicit law
            kind, extra = ImplicitLaw, {"bracket": tuple(d["bracket"])}
        try:
            return kind(name=d["name"], formula=d["formula"], inputs=tuple(d["inputs"]),
                        params=tuple(Param(**p) for p in d["params"]), space=d["space"],
                        columns=tuple(dict(d.get("columns", {})).items()), target=d["target"], **extra)
        except (KeyError, TypeError) as err:
            raise LawError(f"law declaration is incomplete: {err}") from err

    @classmethod
    def from_expression(
        cls,
        formula: str,
        inputs: Iterable[str] | None = None,
        *,
        columns: Iterable[str] = (),
        name: str = "expression",
        space: str = "log",
        target: str = "loss",
        params: Mapping[str, Param] | None = None,
    ) -> Law:
        """Declare a law from a formula string.

        Parameters
        ----------
        formula
            e.g. ``"E + A/N**alpha + B/D**beta"``.
        inputs
            Symbols that are data.  By default, the symbols that name one of ``columns`` or a
            standard symbol (N = params, D = tokens, C = flops, S = datastore_tokens, k, x).
        columns
            Column names of the table the law will be fitted to.
        params
            Optional :class:`Param` declarations; the others get defaults by their role: a
            parameter in an exponent starts from typical exponents, a parameter the law is linear
            in is solved by least squares, any other starts from 0.1, 1 and 10.
        """
        if cls is Law:
            if implicit.is_equation(formula):
                return ImplicitLaw.from_expression(formula, inputs, columns=columns, name=name, space=space,
                                                   target=target, params=params)
        expr = cls.parse_formula(formula)
        if target in expr.symbols:
            raise LawError(f"the law {formula!r} names the target column {target!r}; a law predicts "
                           f"{target!r} from the other columns, so write it without {target!r} (an equation "
                           "in the target is an implicit law in y, e.g. '(y - E)/(e0 - y)**alpha = B*x**-c')")
        columns = set(columns)
        if inputs is None:
            inputs = sorted(s for s in expr.symbols - cls.solved if s in columns or s in STANDARD_SYMBOLS)
        inputs = tuple(inputs)
        if not inputs:
            raise LawError(f"the law {formula!r} names no input column; use N, D, C, x or a column name")
        declared = dict(params or {})
        names = sorted(expr.symbols - set(inputs) - cls.solved)
        if not names:
            raise LawError(f"the law {formula!r} has no parameters")
        in_exponent = _exponent_symbols(expr)
        draft = []
        for n in names:
            if n in declared:
                draft.append(declared[n])
            elif n in in_exponent:
                draft.append(Param(n, starts=EXPONENT_STARTS))
            else:
                draft.append(Param(n))
        law = cls(name=name, formula=formula, inputs=inputs, params=tuple(draft), space=space,
                  target=target, **cls.declared_from(expr))
        linear = set(law.linear_params)
        final = tuple(p if p.starts or p.name in linear else replace(p, starts=(0.1, 1.0, 10.0))
                      for p in law.params)
        return replace(law, params=final)


@dataclass(frozen=True)
class ImplicitLaw(Law):
    """A :class:`Law` whose ``formula`` is an equation in y, ``"(y - E)/(e0 - y)**alpha = B*x**-c"``,
    solved for y at every point (:mod:`scalelaw.implicit`); the engine fits it like any law.

    Parameters
    ----------
    bracket
        Expressions (of parameters and inputs) of the lower and upper end of the interval of y on
        which lhs - rhs is monotone; the root is searched there.
    """

    bracket: tuple[str, str] = ("", "")
    solved = frozenset({"y"})

    def __post_init__(self) -> None:
        bracket = tuple(str(b) for b in self.bracket)
        if len(bracket) != 2 or not all(bracket):
            raise LawError(f"the implicit law {self.formula!r} needs the interval of y where it is monotone: "
                           "write terms (y - LOWER) and (UPPER - y), or declare bracket=(LOWER, UPPER)")
        object.__setattr__(self, "bracket", bracket)
        super().__post_init__()
        ends = {s for b in bracket for s in ex.parse(b).symbols}
        unknown = ends - set(self.param_names) - set(self.inputs)
        if unknown:
            raise LawError(f"the bracket {bracket} of {self.formula!r} names {sorted(unknown)}, which are neither "
                           "parameters nor inputs")

    @classmethod
    def parse_formula(cls, formula: str) -> ex.Node:
        return implicit.parse_equation(formula)

    @classmethod
    def declared_from(cls, node: ex.Node) -> dict:
        return {"bracket": implicit.infer_bracket(node) or ("", "")}

    @cached_property
    def expression(self) -> ex.Node:
        return implicit.parse_equation(self.formula)

    @cached_property
    def linear_params(self) -> tuple[str, ...]:
        return ()

    @cached_property
    def program(self) -> implicit.ImplicitProgram:
        return implicit.ImplicitProgram(self, derivatives=True)

    @cached_property
    def value_program(self) -> implicit.ImplicitProgram:
        return implicit.ImplicitProgram(self, derivatives=False)

    def to_dict(self) -> dict:
        return super().to_dict() | {"bracket": list(self.bracket)}


def _exponent_symbols(node: ex.Node) -> set[str]:
    """Symbols that appear inside an exponent or a function call."""
    if isinstance(node, ex.Pow):
        return set(node.exponent.symbols) | _exponent_symbols(node.base)
    if isinstance(node, ex.Call):
        return set(node.argument.symbols)
    out: set[str] = set()
    for child in node.children:
        out |= _exponent_symbols(child)
    return out


# ---------------------------------------------------------------------------------------- catalogue
def _exponent(name: str, doc: str) -> Param:
    return Param(name, lower=0.0, starts=EXPONENT_STARTS, doc=doc)


def _scale(name: str, doc: str) -> Param:
    return Param(name, log=True, lower=0.0, doc=doc)


#: Every law by name: the core laws, then each family's laws as ``family.name``.
CATALOGUE: dict[str, Law] = {}
#: Parametrised laws: name -> (builder, canonical arguments); see :func:`register_builder`.
BUILDERS: dict[str, tuple[Callable[..., Law], dict]] = {}


def register(law: Law) -> Law:
    """Add a law to the catalogue (names are unique)."""
    if law.name in CATALOGUE:
        raise LawError(f"a law named {law.name!r} is already registered")
    CATALOGUE[law.name] = law
    return law


def register_builder(builder: Callable[..., Law], **canonical) -> Law:
    """Register a parametrised law and return its canonical instance.

    ``builder(**arguments)`` declares one instance of a law whose shape depends on the data: a
    value it is anchored at, the centres of its regressors, the number of sources it mixes.  Every
    instance has the same name; the catalogue holds the instance at the ``canonical`` arguments
    (covered by the contract tests like any law), and :func:`build_law` makes the others.
    """
    law = builder(**canonical)
    register(law)
    BUILDERS[law.name] = (builder, dict(canonical))
    return law


def build_law(name: str, **arguments) -> Law:
    """An instance of the parametrised law ``name``; arguments not given keep their canonical value.

    Examples
    --------
    >>> build_law("transport.mixing_law", domains=("web", "code", "books")).inputs
    ('r_1', 'r_2', 'r_3')
    """
    if name not in BUILDERS:
        raise LawError(f"{name!r} is not a parametrised law; those are {', '.join(BUILDERS)}")
    builder, canonical = BUILDERS[name]
    return builder(**(canonical | arguments))


register(Law(
    name="power_law",
    formula="A * x**-alpha",
    inputs=("x",),
    params=(_scale("A", "value at x = 1, in target units"), _exponent("alpha", "decay exponent")),
    doc="Pure power law y = A x^-alpha.",
))
register(Law(
    name="saturating_power_law",
    formula="E + A * x**-alpha",
    inputs=("x",),
    params=(_scale("E", "irreducible floor, target units"), _scale("A", "amplitude, target units"),
            _exponent("alpha", "decay exponent")),
    doc="Power law with a floor: y = E + A x^-alpha.",
))
register(Law(
    name="chinchilla",
    formula="E + A * N**-alpha + B * D**-beta",
    inputs=("N", "D"),
    params=(_scale("E", "irreducible loss, nats per token"),
            _scale("A", "model-size term amplitude, nats"),
            _scale("B", "data term amplitude, nats"),
            _exponent("alpha", "model-size exponent"),
            _exponent("beta", "data exponent")),
    columns=(("N", "params"), ("D", "tokens")),
    doc="Hoffmann et al. (2022): L(N, D) = E + A N^-alpha + B D^-beta, N parameters, D tokens.",
))
register(Law(
    name="kaplan",
    formula="((Nc / N)**(alpha_N / alpha_D) + Dc / D)**alpha_D",
    inputs=("N", "D"),
    params=(Param("Nc", log=True, lower=0.0, starts=(1e12, 1e13, 1e14, 1e15), doc="parameters"),
            Param("Dc", log=True, lower=0.0, starts=(1e11, 1e12, 1e13, 1e14), doc="tokens"),
            Param("alpha_N", lower=0.0, starts=(0.03, 0.076, 0.15, 0.3), doc="model-size exponent"),
            Param("alpha_D", lower=0.0, starts=(0.03, 0.095, 0.2, 0.4), doc="data exponent")),
    columns=(("N", "params"), ("D", "tokens")),
    doc="Kaplan et al. (2020): L(N, D) = [(Nc/N)^(alpha_N/alpha_D) + Dc/D]^alpha_D.",
))
register(Law(
    name="log_linear",
    formula="a + b * log(x)",
    inputs=("x",),
    params=(Param("a", doc="value at x = 1, target units"), Param("b", doc="change per e-fold of x")),
    space="linear",
    doc="Log-linear law y = a + b ln x (residuals in y).",
))
register(Law(
    name="sigmoid",
    formula="a / (1 + exp(-k * (x - x0))) + b",
    inputs=("x",),
    params=(Param("a", doc="height, target units"), Param("b", doc="floor, target units"),
            Param("k", starts=(-10.0, -3.0, -1.0, 1.0, 3.0, 10.0), doc="slope per unit of x"),
            Param("x0", starts=(-1.0, 0.0, 0.5, 1.0, 2.0, 5.0), doc="midpoint, units of x")),
    space="linear",
    doc="Logistic link y = a / (1 + exp(-k (x - x0))) + b (residuals in y).",
))
def get_law(name_or_formula: str, *, columns: Iterable[str] = (), params: Mapping | None = None,
            starts: Mapping | None = None) -> Law:
    """A catalogue law by name (``"chinchilla"``, ``"datastore.saturating"``), or a law built from
    an expression string.

    ``params`` and ``starts`` declare a formula law's bounds, log scales and starting values
    (:func:`scalelaw.formula.declare`), e.g. ``get_law("E + B*x**-c", params={"B": {"lower": 0,
    "log": True}}, starts={"E": 1.5})``; a catalogue law takes neither.

    Raises
    ------
    LawError
        When the name is unknown and the text is not a usable expression.
    """
    if name_or_formula in CATALOGUE:
        if params or starts:
            raise LawError(f"params= and starts= declare a formula law; {name_or_formula!r} is a catalogue "
                           "law with its own declarations")
        return CATALOGUE[name_or_formula]
    if all(part.isidentifier() for part in name_or_formula.split(".")):
        raise LawError(f"unknown law {name_or_formula!r}; choose one of {', '.join(CATALOGUE)} "
                       "or give a formula such as 'E + A/N**alpha'")
    if params or starts:
        from scalelaw.formula import declare

        return declare(name_or_formula, columns=columns, params=params, starts=starts)
    return Law.from_expression(name_or_formula, columns=columns)


# The family laws, declared in light modules (numpy and this module only), so that importing
# scalelaw.laws gives the whole catalogue without importing the families.
from scalelaw import catalogue  # noqa: E402, F401


def describe() -> list[dict]:
    """Every catalogued law as a JSON-ready row: name, formula, inputs (symbol -> column), parameters,
    residual space and docstring."""
    return [{"name": law.name, "formula": law.formula, "inputs": {s: law.column(s) for s in law.inputs},
             "params": list(law.param_names), "space": law.space, "doc": law.doc} for law in CATALOGUE.values()]
