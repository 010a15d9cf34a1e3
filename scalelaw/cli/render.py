"""Terminal output: tables, numbers, notes, JSON and progress.  Only the CLI prints."""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Mapping, Sequence
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from scalelaw import artifact
from scalelaw.errors import InputError
from scalelaw.io import parse_quantity

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)


def number(value, digits: int = 4) -> str:
    """A number for people: 4 significant digits, with K/M/B/T for large magnitudes."""
    if value is None:
        return "-"
    value = float(value)
    if not math.isfinite(value):
        return "-" if math.isnan(value) else str(value)
    for suffix, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6)):
        if abs(value) >= scale and abs(value) < 1e3 * scale:
            return f"{value / scale:#.{digits}g}".rstrip(".") + suffix
    if abs(value) >= 1e15 or (value != 0 and abs(value) < 1e-3):
        return f"{value:.{digits - 1}e}"
    return f"{value:#.{digits}g}".rstrip(".")


def interval(lower, upper) -> str:
    if lower is None or upper is None or not (math.isfinite(float(lower)) and math.isfinite(float(upper))):
        return "-"
    return f"[{number(lower)}, {number(upper)}]"


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    console.print(Text(title, style="bold"), soft_wrap=True)
    t = Table(show_edge=False, header_style="bold")
    for i, column in enumerate(columns):
        t.add_column(column, justify="left" if i == 0 else "right")
    for row in rows:
        t.add_row(*(str(c) for c in row))
    console.print(t)


def line(text: str = "") -> None:
    console.print(text, soft_wrap=True)


def note(text: str) -> None:
    """A remark on stderr (what was mapped, derived or dropped), so stdout stays clean."""
    err_console.print(f"[dim]note:[/dim] {text}", soft_wrap=True)


def warn(text: str) -> None:
    err_console.print(f"[yellow]warning:[/yellow] {text}", soft_wrap=True)


def error(text: str) -> None:
    err_console.print(f"[red]error:[/red] {text}", soft_wrap=True, markup=True, emoji=False)


def emit_json(payload: Mapping) -> None:
    """One JSON object on stdout (non-finite numbers encoded as in artifacts)."""
    sys.stdout.write(artifact.dumps(dict(payload)))
    sys.stdout.flush()


def quantity(option: str, text: str | None) -> float | None:
    """Parse an option value such as '7B' or '5.76e23', naming the option when it is wrong."""
    if text is None:
        return None
    try:
        value = parse_quantity(text)
    except ValueError as err:
        raise InputError(f"{option}: {err}") from err
    if not math.isfinite(value) or value <= 0:
        raise InputError(f"{option}: {text!r} must be a positive number")
    return value


@contextmanager
def progress(description: str, enabled: bool = True):
    """A progress bar on stderr; yields a ``callback(done, total)`` for the engine."""
    if not enabled or not err_console.is_terminal:
        yield None
        return
    with Progress(TextColumn(description), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), console=err_console, transient=True) as bar:
        task = bar.add_task(description, total=None)

        def callback(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield callback
