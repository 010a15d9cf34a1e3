"""The ``scalelaw`` command line: one sub-command group per family.

Every module of this package other than ``app``, ``options`` and ``render`` holds the commands of one family and
registers them on the app when imported; command modules import the families, pandas, scipy and
matplotlib inside the commands, so ``scalelaw --help`` loads none of them.  :func:`main` runs the app and turns a
:class:`~scalelaw.errors.ScalelawError` into one line on stderr and exit code 2, with no traceback, and Ctrl-C
into one line and exit code 130 (:mod:`~scalelaw.cli.signals`).
Library messages name Python arguments (``exclude_highest=5``); :func:`render.as_options` spells
those that are parameters of the running command as its options (``--exclude-highest 5``).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import warnings

import typer

from scalelaw.cli import render, signals
from scalelaw.cli.app import app, flag_defaults
from scalelaw.errors import ExtrapolationWarning, ScalelawError

#: The option parser's usage errors (click's, or those of the copy of click that typer ships).
UsageError = next(base for base in typer.BadParameter.__mro__ if base.__name__ == "UsageError")

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in ("app", "options", "render"):
        importlib.import_module(f"{__name__}.{_module.name}")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``scalelaw`` console script."""
    render.command_line = list(sys.argv[1:] if argv is None else argv)
    with warnings.catch_warnings():
        warnings.simplefilter("always", UserWarning)
        warnings.simplefilter("ignore", ExtrapolationWarning)  # the commands print result.warnings
        warnings.showwarning = lambda message, *args, **kwargs: render.warn(str(message))
        with signals.handled():
            try:
                code = app(args=argv, prog_name="scalelaw", standalone_mode=False, default_map=flag_defaults())
            except ScalelawError as err:
                render.error(str(err).replace("[", "\\["))
                sys.exit(err.exit_code)
            except UsageError as err:
                if type(err).__name__ == "NoArgsIsHelpError":  # a group called alone: its help
                    err.show()
                else:
                    render.error(usage_line(err).replace("[", "\\["))
                sys.exit(2)
            except signals.Interrupted:
                render.error(signals.message().replace("[", "\\["))
                signals.leave(at_once=argv is None)
            except (typer.Abort, KeyboardInterrupt):
                render.error("interrupted; nothing written")
                sys.exit(130)
    if isinstance(code, int) and code:
        sys.exit(code)


def usage_line(err: UsageError) -> str:
    """A usage error (a value an option's type refuses, a missing argument) as one line with where to look."""
    message = " ".join(err.format_message().split())
    where = f" (see '{err.ctx.command_path} --help')" if err.ctx is not None else ""
    return message + where


__all__ = ["app", "main"]
