"""Terminal output: tables, numbers, notes, JSON and progress.  Only the CLI prints."""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from scalelaw.cli import options

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)
command_line: list[str] = []
"""The arguments of the running command (set by :func:`scalelaw.cli.main`): messages name its options."""

# ``name=`` as the library writes an argument; not in a quoted value, a path, a COLUMN=VALUE pair or code
_ARGUMENT = re.compile(r"(?<![\w'\"./=-])(?<!\w\()([a-z][a-z0-9_]*)=(?!=)(True\b|False\b)?")
_OPTION_BEFORE = re.compile(r"--[\w-]+ $")


@lru_cache(maxsize=8)
def _options(argv: tuple[str, ...]) -> dict:
    """Parameter name -> click option of the command that ``argv`` runs (an empty dict if none)."""
    from typer.main import get_command

    from scalelaw.cli.app import app

    command = get_command(app)
    for token in argv:
        if not hasattr(command, "get_command"):
            break
        command = command.get_command(command.context_class(command), token) or command
    if hasattr(command, "get_command"):
        return {}
    declared = {p.name: p for p in command.params if p.param_type_name == "option"}
    for p in list(declared.values()):  # an option also by its long name: set= -> --set (parameter set_)
        for opt in p.opts:
            if opt.startswith("--"):
                declared.setdefault(opt[2:].replace("-", "_"), p)
    return declared


def as_options(text: str) -> str:
    """A library message in the words of the command line: each ``name=`` that is a parameter of the
    running command becomes its option (``exclude_highest=5`` -> ``--exclude-highest 5``,
    ``exclude_edge=True`` -> ``--exclude-edge``); other text is kept."""
    if "=" not in text or not command_line:
        return text
    declared = _options(tuple(command_line))
    typed = [part for arg in command_line for part in str(arg).split(",") if "=" in part]  # a --where filter

    def spell(match: re.Match) -> str:
        option = declared.get(match[1])
        echoed = any(text.startswith(part, match.start()) for part in typed)
        if option is None or echoed or _OPTION_BEFORE.search(text, 0, match.start()):
            return match[0]
        name, value = max(option.opts, key=len), match[2]
        if value and option.is_flag:
            return name if value == "True" or not option.secondary_opts else option.secondary_opts[0]
        following = text[match.end():match.end() + 1]
        return name + (" " if value or (following and following not in " ,;:)]/") else "") + (value or "")

    return _ARGUMENT.sub(spell, text)


def number(value, digits: int = 4) -> str:
    """A number for people: 4 significant digits, with K/M/B/T for large magnitudes."""
    from scalelaw.io.units import format_quantity

    return format_quantity(value, digits)


def interval(lower, upper) -> str:
    if lower is None or upper is None or not (math.isfinite(float(lower)) and math.isfinite(float(upper))):
        return "-"
    return f"[{number(lower)}, {number(upper)}]"


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[object]], *, fold: Sequence[str] = ()) -> None:
    """A titled table.  On a terminal: boxed, cells wrapped between words to its width, never cut (with
    too many columns, column rules are dropped, then each row is shown as a record); the ``fold`` columns
    (formulas, say) may also break inside a word.  Else plain text."""
    console.print(Text(title, style="bold"), soft_wrap=True)
    cells = [[str(c) for c in row] for row in rows]
    if not console.is_terminal:
        raw(plain_table(columns, cells, left=fold))
        return
    ruled = column_widths(columns, cells, console.width - 3 * (len(columns) - 1), fold)
    widths = ruled or column_widths(columns, cells, console.width - 2 * (len(columns) - 1), fold)
    if widths is None:
        raw(records(columns, cells))
        return
    t = Table(show_edge=False, pad_edge=False, header_style="bold", box=box.HEAVY_HEAD if ruled else None)
    for i, (column, width) in enumerate(zip(columns, widths, strict=True)):
        t.add_column(column, justify="left" if i == 0 or column in fold else "right", overflow="fold", width=width)
    for row in cells:
        t.add_row(*row)
    console.print(t)


def column_widths(columns: Sequence[str], rows: Sequence[Sequence[str]], room: int,
                  fold: Sequence[str] = ()) -> list[int] | None:
    """Widths that keep every word whole and fit in ``room`` characters (None when none do): each column
    first as wide as its longest word (a ``fold`` column: at most FOLD), then, left to right, as wide as
    its longest cell while room is left."""
    texts = [(column, *(row[i] for row in rows)) for i, column in enumerate(columns)]
    widths = [min(max(len(word) for text in column for word in [*text.split(), ""]),
                  FOLD if columns[i] in fold else room) for i, column in enumerate(texts)]
    spare = room - sum(widths)
    if spare < 0:
        return None
    for i, column in enumerate(texts):
        grow = min(spare, max(map(len, column)) - widths[i])
        widths[i] += grow
        spare -= grow
    return widths


FOLD = 12  # narrowest width of a column whose words may break


def records(columns: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """One block per row, one ``column: value`` line per cell (a table too wide for the terminal)."""
    width = max(len(c) for c in columns)
    return "\n\n".join("\n".join(f"{c.rjust(width)}: {v}" for c, v in zip(columns, row, strict=True))
                       for row in rows)


def plain_table(columns: Sequence[str], rows: Sequence[Sequence[str]], *, left: Sequence[str] = ()) -> str:
    """Columns aligned with spaces, one line per row, no box characters (for pipes and files); the first
    column and the ``left`` ones (text such as formulas) are aligned left, the others right."""
    lines = [list(columns), *rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(columns))]
    return "\n".join("  ".join(cell.ljust(w) if i == 0 or columns[i] in left else cell.rjust(w)
                               for i, (cell, w) in enumerate(zip(line, widths, strict=True))).rstrip()
                     for line in lines)


def line(text: str = "") -> None:
    console.print(text, soft_wrap=True)


def raw(text: str) -> None:
    """Text printed as it is (a CSV, a listing): no markup, no wrapping."""
    console.print(text, markup=False, highlight=False, soft_wrap=True)


def note(text: str) -> None:
    """A remark on stderr (what was mapped, derived or dropped), so stdout stays clean."""
    err_console.print(f"[dim]note:[/dim] {as_options(text)}", soft_wrap=True)


def wrote(*paths) -> None:
    """A note on stderr for each output file written (None: not asked for)."""
    for path in paths:
        if path is not None:
            note(f"wrote {path}")


def warn(text: str) -> None:
    err_console.print(f"[yellow]warning:[/yellow] {as_options(text)}", soft_wrap=True)


def error(text: str) -> None:
    err_console.print(f"[red]error:[/red] {as_options(text)}", soft_wrap=True, markup=True, emoji=False)


def emit_json(payload: Mapping) -> None:
    """One JSON object on stdout (non-finite numbers encoded as in artifacts)."""
    from scalelaw import artifact

    sys.stdout.write(artifact.dumps(dict(payload)))
    sys.stdout.flush()


def quantity(option: str, text: str | None) -> float | None:
    """Parse an option value such as '7B' or '5.76e23', naming the option when it is wrong."""
    return None if text is None else options.number(option, text)


@contextmanager
def progress(description: str, enabled: bool = True):
    """A progress bar on stderr; yields a ``callback(done, total)`` for the engine."""
    if not enabled or not err_console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(TextColumn(description), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=err_console, transient=True) as bar:
        task = bar.add_task(description, total=None)

        def callback(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield callback
