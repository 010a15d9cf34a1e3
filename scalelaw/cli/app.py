"""The typer application and its command groups; command modules register on these."""

from __future__ import annotations

from typing import Annotated

import typer

from scalelaw._version import __version__

app = typer.Typer(
    name="scalelaw",
    help="Fit scaling laws to training logs and turn them into decisions.\n\n"
    "Example: scalelaw fit loss data/loss/epoch_chinchilla_svg_extracted.csv --exclude-highest 5 --bootstrap 200",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
fit_app = typer.Typer(help="Fit a law to a log file.", no_args_is_help=True)
validate_app = typer.Typer(help="Fit on small scales and measure the error on held-out large ones.",
                           no_args_is_help=True)
app.add_typer(fit_app, name="fit")
app.add_typer(validate_app, name="validate")


def _version(shown: bool) -> None:
    if shown:
        typer.echo(f"scalelaw {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
) -> None:
    pass


def flag_defaults(group: typer.Typer = app) -> dict:
    """False for the --help (and, at the top, completion) flags of every command, as a click default map.

    typer passes a flag left unset as None through its type coercion, which imports pydantic (about
    70 ms); given as False, the flags skip it, so a command that runs starts as fast as ``--help``."""
    out: dict = {"help": False} | ({"install_completion": False, "show_completion": False} if group is app else {})
    for command in group.registered_commands:
        out[command.name or command.callback.__name__.replace("_", "-")] = {"help": False}
    for sub in group.registered_groups:
        out[sub.name] = flag_defaults(sub.typer_instance)
    return out
