"""The CLI vocabulary: options shared by the commands of every family, declared once, and their parsers.

Every command spells the same thing the same way: ``--out`` writes an artifact (JSON), ``--csv`` a table,
``--plot`` a figure, ``--json`` prints one JSON object instead of tables; ``--bootstrap``, ``--seed`` and
``--level`` have one default each; ``--params``, ``--tokens`` and ``--flops`` are the prediction targets.
A list option takes repeated options, comma-separated values or both: ``--flops 1e21,1e22`` and
``--flops 1e21 --flops 1e22`` are the same two values.

This module is imported before any command runs, so it imports nothing heavier than typer.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any

import typer

BOOTSTRAP = 0
LEVEL = 0.95
SEED = 0
MAX_BOOTSTRAP = 1_000_000
MAX_SEED = 2**32 - 1


def span(low: float | None = None, high: float | None = None, *, low_open: bool = False,
         high_open: bool = False, integer: bool = False) -> str:
    """Words for a range of values: ``span(0, 1, low_open=True, high_open=True)`` is "a number between 0 and
    1 (exclusive)"."""
    kind = "an integer" if integer else "a finite number"

    def shown(v: float) -> str:
        return f"{v:,}" if integer else f"{v:g}"

    if low is not None and high is not None:
        if integer:
            return f"{kind} from {shown(low)} to {shown(high)}"
        ends = {(False, False): "inclusive", (True, True): "exclusive", (True, False): f"{shown(low)} excluded",
                (False, True): f"{shown(high)} excluded"}[low_open, high_open]
        return f"a number between {shown(low)} and {shown(high)} ({ends})"
    if low is not None:
        return f"{kind} {'>' if low_open else '>='} {shown(low)}"
    if high is not None:
        return f"{kind} {'<' if high_open else '<='} {shown(high)}"
    return kind


def ranged(*decls: str, help: str, low: float | None = None, high: float | None = None,  # noqa: A002
           low_open: bool = False, high_open: bool = False, integer: bool = False, **kwargs):
    """A numeric option whose values must lie in a range, stated at the end of its help; a value outside
    (or, for a float, not finite: nan, inf) is refused by the option parser (one line, exit 2)."""
    words = span(low, high, low_open=low_open, high_open=high_open, integer=integer)

    def check(value):
        for v in value if isinstance(value, list | tuple) else [value]:
            if v is None:
                continue
            fine = integer or math.isfinite(v)
            fine = fine and (low is None or (v > low if low_open else v >= low))
            fine = fine and (high is None or (v < high if high_open else v <= high))
            if not fine:
                raise typer.BadParameter(f"{v!r} is out of range: give {words}")
        return value

    return typer.Option(*decls, help=f"{help} Takes {words}.", callback=check, **kwargs)


Json = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout instead of tables.")]
Plot = Annotated[Path | None, typer.Option(help="Write a figure here (.png, .pdf or .svg).")]
Out = Annotated[Path | None, typer.Option(help="Write the result (JSON artifact) here.")]
StrictArtifact = Annotated[bool, typer.Option(
    "--strict", help="Refuse an artifact whose numbers were edited by hand (its params_sha256 does not match) "
                     "instead of warning, e.g. scalelaw predict fit.json --params 7B --tokens 1.4T --strict.")]

Csv = Annotated[Path | None, typer.Option(help="Write the table here (CSV).")]
LegacyCsv = Annotated[Path | None, typer.Option("--out", hidden=True, help="Former name of --csv.")]
Level = Annotated[float, ranged(help="Interval level, e.g. 0.95 (the default of every command).", low=0, high=1,
                                 low_open=True, high_open=True)]
Seed = Annotated[int, ranged(help="Seed of every random choice (bootstrap, subsampling, noise); the same seed "
                                  "gives the same output.", low=0, high=MAX_SEED, integer=True)]
Bootstrap = Annotated[int, ranged(help="Bootstrap replicates for percentile intervals (what is resampled: see the "
                                       "command). 0, the default of every command, gives no intervals; 1000 is "
                                       "typical.", low=0, high=MAX_BOOTSTRAP, integer=True)]
Quiet = Annotated[bool, typer.Option("--quiet", help="No progress bar on stderr (there is none either when "
                                                     "stderr is not a terminal).")]
Where = Annotated[list[str] | None, typer.Option(help="Keep rows that pass a filter, before any cell is checked: "
                                                      "COLUMN=VALUE, !=, <, <=, >, >= (numbers with units such "
                                                      "as 7B) or 'COLUMN in A,B'; repeatable, e.g. --where "
                                                      "State=finished --where 'budget<3e20'.")]
Columns = Annotated[list[str] | None, typer.Option("--column", help="Which column of the file plays a role: "
                                                   "ROLE=NAME, repeatable or comma-separated, e.g. --column "
                                                   "loss=eval/loss --column params=model/params; with a "
                                                   "formula --law, x=NAME feeds its x (--column x=step).")]
MaxRows = Annotated[int | None, ranged(help="Refuse a table file of more than N data rows (one line naming the file "
                                           "and its row count), e.g. --max-rows 1000000; default: no limit. "
                                           "Memory per fit is bounded by $SCALELAW_MAX_MEMORY_MB (MB, "
                                           "default 1024), not by the row count.", low=1, integer=True)]
Sheet = Annotated[str | None, typer.Option(help="Excel sheet to read (name or 0-based position); default: the "
                                                "first.")]
Params = Annotated[list[str] | None, typer.Option(help="Model size N (parameters), e.g. 70B; several as "
                                                       "70B,400B or repeated.")]
Tokens = Annotated[list[str] | None, typer.Option(help="Training tokens D, e.g. 1.4T; several as 1T,2T or "
                                                       "repeated.")]
Flops = Annotated[list[str] | None, typer.Option(help="Training compute C in FLOPs, e.g. 5.76e23; several as "
                                                      "1e21,1e22 or repeated.")]
Interval = Annotated[str | None, typer.Option(help="prediction (where a new run would land: bootstrap parameters "
                                                   "and the fitted residual scatter) or confidence (the law's "
                                                   "value: bootstrap only), at the fit's --level (e.g. 0.95); "
                                                   "default: prediction, or confidence for a fit saved without "
                                                   "a noise model. Example: --interval confidence.")]


class Group:
    """Options several commands take together, declared once: ``@group`` on a command puts them in its
    signature where its parameter ``group.name`` stands, and passes their values to it there as a dict.

    >>> Window = Group("window", start=(int, 0), stop=(int, 10))
    >>> @Window
    ... def command(file: str, window: dict | None = None) -> dict:
    ...     return window
    >>> list(inspect.signature(command).parameters), command(file="f", start=1, stop=2)
    (['file', 'start', 'stop'], {'start': 1, 'stop': 2})
    """

    def __init__(self, name: str, **options: tuple[Any, Any]) -> None:
        self.name = name
        self.parameters = [inspect.Parameter(key, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                                             default=default) for key, (annotation, default) in options.items()]

    def __call__(self, command: Callable) -> Callable:
        own = list(inspect.signature(command, eval_str=True).parameters.values())
        at = [p.name for p in own].index(self.name)
        names = [p.name for p in self.parameters]

        @functools.wraps(command)
        def run(*args, **kwargs):
            return command(*args, **{k: v for k, v in kwargs.items() if k not in names},
                           **{self.name: {k: kwargs[k] for k in names}})

        parameters = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own[:at] + own[at + 1:]]
        parameters[at:at] = self.parameters
        run.__signature__ = inspect.Signature(parameters, return_annotation=None)
        run.__annotations__ = {p.name: p.annotation for p in parameters}
        return run


TokensUnit = Annotated[str, typer.Option(help="Unit of a plain tokens column: auto (from its name, e.g. tokens_b; "
                                              "values all below 1e4 are refused), tokens, millions, billions, "
                                              "trillions.")]
ParamsUnit = Annotated[str, typer.Option(help="Unit of a plain params column: auto (from its name, e.g. params_m; "
                                              "values all below 1e4 are refused), params, millions, billions.")]
FlopsUnit = Annotated[str, typer.Option(help="Unit of the flops column: auto (PF-days when named so, e.g. pf_days, "
                                             "or when values below 1e6 match 6 N D), flops, pf-days.")]
#: Units of a table's size columns (scalelaw.io.scales).
Units = Group("units", tokens_unit=(TokensUnit, "auto"), params_unit=(ParamsUnit, "auto"),
              flops_unit=(FlopsUnit, "auto"))
#: Units of the tokens and params columns only (tables without FLOPs).
SizeUnits = Group("units", tokens_unit=(TokensUnit, "auto"), params_unit=(ParamsUnit, "auto"))
Resampling = Group("resampling", bootstrap=(Bootstrap, BOOTSTRAP), seed=(Seed, SEED), level=(Level, LEVEL))
By = Annotated[str | None, typer.Option(help="Fit one law per group of rows sharing the values of these "
                                            "columns, e.g. --by dataset or --by dataset,task; all groups in "
                                            "one batched run.")]
Strict = Annotated[bool, typer.Option("--strict", help="Refuse (exit 2, the warning as the message) a fit that "
                                                       "is degenerate (a parameter collapsed toward 0, starts at "
                                                       "the optimum that disagree, condition number above 1e12) "
                                                       "or stopped on the iteration limit; with --by also a group "
                                                       "with too few rows for the law or one that did not "
                                                       "converge, instead of a warning. Example: --strict.")]
Jobs = Annotated[int, ranged(help="With --by: local worker processes (one BLAS thread each) fitting groups "
                                  "at once, e.g. --jobs 4; results equal those of 1.", low=1, high=1024,
                             integer=True)]
Backend = Annotated[str, typer.Option(help="With --by: local, or dask (a running Dask cluster, see "
                                           "--scheduler; needs pip install 'scalelaw[dask]').")]
Scheduler = Annotated[str | None, typer.Option(help="With --backend dask: the scheduler's address, e.g. "
                                                    "tcp://10.0.0.5:8786; default: $SCALELAW_DASK_SCHEDULER.")]
GroupName = Annotated[str | None, typer.Option("--group", help="For a fit made with --by: answer for this group "
                                                          "only (its values joined by /, e.g. rw/tuned); "
                                                          "default: every group.")]


class Strictness(Group):
    """A group of options with ``--strict``: the command runs inside
    :func:`scalelaw.identifiability.strict`, so a degenerate fit is refused with its warning as the message."""

    def __call__(self, command: Callable) -> Callable:
        run = super().__call__(command)

        @functools.wraps(run)
        def strictly(*args, **kwargs):
            from scalelaw.identifiability import strict

            with strict(bool(kwargs.get("strict"))):
                return run(*args, **kwargs)

        return strictly


Grouping = Strictness("grouping", by=(By, None), strict=(Strict, False), jobs=(Jobs, 1),
                      backend=(Backend, "local"), scheduler=(Scheduler, None))

FormulaParam = Annotated[list[str] | None, typer.Option("--param", help="Bounds and log scale of a parameter of a "
                                                        "formula --law, in natural units: NAME>=VALUE, "
                                                        "NAME<=VALUE, then log to fit its logarithm (it is then "
                                                        "positive); repeatable, e.g. --param 'g>=0' --param "
                                                        "'B>0,log'.")]
FormulaStart = Annotated[list[str] | None, typer.Option("--start", help="Starting value of a parameter of a formula "
                                                        "--law, in natural units: NAME=VALUE, repeatable (a name "
                                                        "given twice tries both), e.g. --start E=1.5 --start "
                                                        "c=0.3; replaces that parameter's default starts.")]
#: Law symbols that --column maps to a column on commands taking formula laws (read by formula_law).
LAW_SYMBOLS = ("x",)
_LAW_COLUMNS: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("law_columns", default=None)
ResidualSpace = Annotated[str | None, typer.Option("--space", help="Residual space instead of the law's own: log, "
                                                   "linear, or excess (log(loss - E) - log(fit - E), for a law "
                                                   "with a floor E, which the fit keeps below the smallest "
                                                   "loss), e.g. --space excess.")]
#: Declarations of a formula law's parameters (scalelaw.formula.declare) and the residual space.
Declaring = Group("declared", param=(FormulaParam, None), start=(FormulaStart, None), space=(ResidualSpace, None))


def formula_law(law: str, declared: dict | None, columns: Iterable[str]):
    """The law named by ``--law`` with the ``--param``/``--start`` declarations of a formula law, its
    x fed by ``--column x=NAME`` and its residuals in ``--space``; the name itself when none of these
    is given (the family resolves it)."""
    param, start = (declared or {}).get("param"), (declared or {}).get("start")
    space = (declared or {}).get("space")
    symbols = _LAW_COLUMNS.get() or {}
    if not param and not start and not symbols and not space:
        return law
    from scalelaw.errors import InputError
    from scalelaw.formula import constraints
    from scalelaw.io import values
    from scalelaw.laws import CATALOGUE, get_law

    if law in CATALOGUE and (param or start):
        raise InputError(f"--param and --start declare the parameters of a formula --law; {law!r} is a "
                         "catalogue law with its own bounds and starts")
    columns = list(columns)
    for symbol, name in symbols.items():
        if name not in columns:
            raise InputError(f"--column {symbol}={name}: the table has no column {name!r}; it has "
                             f"{', '.join(map(repr, columns))}")
    starts: dict[str, list[float]] = {}
    for item in split("--start", start):
        key, _, text = str(item).partition("=")
        if not key.strip() or not text:
            raise InputError(f"--start {item!r} is not NAME=VALUE")
        starts.setdefault(key.strip(), []).append(values.number("--start", text, positive=False))
    chosen = get_law(law, columns=columns, params=constraints(param, name="--param"), starts=starts)
    if space is not None:
        if space not in ("log", "linear", "excess"):
            raise InputError(f"--space must be log, linear or excess, not {space!r}")
        if space == "excess" and "E" not in chosen.param_names:
            raise InputError(f"--space excess needs a floor parameter named E; the law has "
                             f"{', '.join(chosen.param_names)}")
        chosen = chosen.in_space(space)
    unused = sorted(set(symbols) - set(chosen.inputs))
    if unused:
        raise InputError(f"--column {unused[0]}={symbols[unused[0]]}: the law {chosen.formula!r} has no input "
                         f"{unused[0]!r}")
    return chosen.with_columns(**symbols) if symbols else chosen


def Reading(command: Callable) -> Callable:  # noqa: N802 (a decorator named like the option groups)
    """``--column ROLE=NAME``, ``--sheet`` and ``--max-rows`` on a command that reads a table: every table
    it reads is read with that mapping, sheet and row limit (:func:`scalelaw.io.reading`); a command
    without its own ``--where`` also gets one, which filters the first table it reads (its main file).
    On a command that takes formula laws (``--param``), ``--column x=NAME`` says which column feeds the
    law's x."""
    own = list(inspect.signature(command, eval_str=True).parameters.values())
    filters = not any(p.name == "where" for p in own)
    added = [inspect.Parameter("columns", inspect.Parameter.KEYWORD_ONLY, annotation=Columns, default=None),
             inspect.Parameter("sheet", inspect.Parameter.KEYWORD_ONLY, annotation=Sheet, default=None),
             inspect.Parameter("max_rows", inspect.Parameter.KEYWORD_ONLY, annotation=MaxRows, default=None)]
    if filters:
        added.append(inspect.Parameter("where", inspect.Parameter.KEYWORD_ONLY, annotation=Where, default=None))

    laws = any(p.name == "param" for p in own)  # a command taking formula laws: x=NAME feeds the law's x

    @functools.wraps(command)
    def run(*args, columns: list[str] | None = None, sheet: str | None = None, max_rows: int | None = None,
            **kwargs):
        from scalelaw.io import reading

        where = kwargs.pop("where", None) if filters else None
        mapping = pairs("--column", columns)
        symbols = {role: mapping.pop(role) for role in LAW_SYMBOLS if laws and role in mapping}
        token = _LAW_COLUMNS.set(symbols)
        try:
            with reading(columns=mapping, sheet=sheet, where=where or None, max_rows=max_rows):
                return command(*args, **kwargs)
        finally:
            _LAW_COLUMNS.reset(token)

    parameters = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own] + added
    run.__signature__ = inspect.Signature(parameters, return_annotation=None)
    run.__annotations__ = {p.name: p.annotation for p in parameters}
    return run


def split(option: str, items: Iterable[str] | str | None) -> list[str]:
    """The values of a list option: repeated options and comma-separated values, in order."""
    from scalelaw.io import values

    return values.split(option, items)


def pairs(option: str, items: Iterable[str] | str | None) -> dict[str, str]:
    """``KEY=VALUE`` values of a list option (``--where a=1,b=2`` or repeated), naming the option when wrong."""
    from scalelaw.io import values

    return values.pairs(option, items)


def shares(option: str, items: Iterable[str] | str | None) -> dict[str, float] | None:
    """``NAME=SHARE`` caps (``--cap a=0.2,b=0.5`` or repeated) as numbers; None when none are given."""
    from scalelaw.io import values

    return values.shares(option, items)


def number(option: str, text: str, *, positive: bool = True) -> float:
    """One value such as '7B' or '5.76e23', naming the option when it is wrong."""
    from scalelaw.io import values

    return values.number(option, text, positive=positive)


def numbers(option: str, items: Iterable[str] | str | None, *, positive: bool = True) -> list[float]:
    """Every value of a list option as a number (suffixes such as 7B allowed)."""
    from scalelaw.io import values

    return values.numbers(option, items, positive=positive)


def one(option: str, items: Iterable[str] | str | None, *, positive: bool = True) -> float | None:
    """The single value of a list option where the command answers for one point (None when not given)."""
    from scalelaw.io import values

    return values.one(option, items, positive=positive)


def rows(**columns: list[float]) -> list[dict[str, float]]:
    """Prediction points from list options: each option gives one value (used for every row) or one per row
    (the message names each as ``name=``, which the CLI spells ``--name``)."""
    from scalelaw.io import values

    return values.rows(**columns)


def use_file_backend() -> None:
    """Draw figures off screen (Agg): the CLI only writes them to files."""
    import matplotlib

    matplotlib.use("Agg")


def check_outputs(*paths: Path | None, plot: Path | None = None, folders: dict[str, Path | None] | None = None,
                  **named: Path | None) -> None:
    """Refuse, before any work and in one line, an output that could destroy a file: one of the command's
    inputs, another output, a folder, a device, a link, a read-only file, a folder missing or not
    writable (:func:`scalelaw.outputs.check`); and a figure format matplotlib cannot write.

    Called first thing in a command: its inputs are the paths among the command's arguments (the caller's
    local names; a string naming an existing file too, as ``--law FIT.json``), less the outputs, which
    are named by their parameter (``out=out``); ``folders`` are output folders.  With a figure to
    write, choose the off-screen backend before any figure is made."""
    import inspect

    from scalelaw import outputs

    if plot is not None:
        from scalelaw.plots.common import check_figure_path

        check_figure_path(plot)
    given = dict(inspect.currentframe().f_back.f_locals)  # the calling command's arguments
    chosen = {next((k for k, v in given.items() if v is path), "out" if n == 0 else f"out{n}"): path
              for n, path in enumerate(paths) if path is not None} | named
    chosen["plot"] = plot
    skip = set(chosen) | set(folders or {})
    outputs.check(chosen, [p for key, value in given.items() if key not in skip for p in _paths(value)],
                  folders=folders)
    if plot is not None:
        use_file_backend()


def _paths(value) -> list:
    """The files an argument's value names: paths, and strings naming an existing file."""
    import os

    if isinstance(value, dict):
        return _paths(list(value.values()))
    if isinstance(value, list | tuple):
        return [p for item in value for p in _paths(item)]
    if isinstance(value, Path) or (isinstance(value, str) and os.path.isfile(value)):
        return [value]
    return []


def write_result(result, out: Path | None, plot: Path | None, *extra: tuple[Path | None, str | bytes | None],
                 parents: bool = False) -> None:
    """Write a result's artifact (``out``), its figure (``plot``) and any other output, all computed
    before the first write (``parents``: see :func:`write_outputs`)."""
    from scalelaw.plots.common import figure_bytes

    figure = figure_bytes(result.plot(), plot) if plot else None
    write_outputs((out, result.json_chunks() if out else None), *extra, (plot, figure), parents=parents)


def write_outputs(*pairs: tuple[Path | None, str | bytes | Iterable[str] | None], parents: bool = False,
                  note: bool = True) -> None:
    """Write each (path, content) asked for once every output was computed: all or none
    (:func:`scalelaw.outputs.write_all`, ``parents`` creates missing folders; a Ctrl-C waits for the
    renames; an artifact's pieces of text are made as they are written); with ``note``, a note for each
    file (else the command notes them once it has printed)."""
    from scalelaw import outputs
    from scalelaw.cli import render, signals

    with signals.held():
        done = outputs.write_all(pairs, parents=parents)
        signals.written.extend(done)
    if note:
        render.wrote(*done)
