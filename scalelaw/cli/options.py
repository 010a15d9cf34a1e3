"""Options shared by the commands of every family, declared once, and the output-path check."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from scalelaw.errors import InputError

Json = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout instead of tables.")]
Plot = Annotated[Path | None, typer.Option(help="Write a figure here (.png, .pdf or .svg).")]
Out = Annotated[Path | None, typer.Option(help="Write the fit artifact (JSON) here.")]
Csv = Annotated[Path | None, typer.Option(help="Write the result's table here (CSV).")]
Level = Annotated[float, typer.Option(help="Interval level, e.g. 0.95.")]
Where = Annotated[list[str] | None, typer.Option(help="Keep rows where COLUMN=VALUE (repeatable).")]


def use_file_backend() -> None:
    """Draw figures off screen (Agg): the CLI only writes them to files."""
    import matplotlib

    matplotlib.use("Agg")


def check_outputs(*paths: Path | None, plot: Path | None = None) -> None:
    """Refuse, before any work, a figure format matplotlib cannot write or an output that is a folder;
    with a figure to write, choose the off-screen backend before any figure is made."""
    if plot is not None:
        from scalelaw.plots.common import check_figure_path

        check_figure_path(plot)
        use_file_backend()
    for target in (*paths, plot):
        if target is not None and target.exists() and target.is_dir():
            raise InputError(f"{target} is a folder; give a file name")
