"""The ``scalelaw`` command line: one sub-command group per family.

Every module of this package other than ``app``, ``options`` and ``render`` holds the commands of one family and
registers them on the app when imported; command modules import the families, pandas, scipy and
matplotlib inside the commands, so ``scalelaw --help`` loads none of them.  :func:`main` runs the app and turns a
:class:`~scalelaw.errors.ScalelawError` into one line on stderr and exit code 2, with no traceback.
Library messages name Python arguments (``exclude_highest=5``); :func:`render.as_options` spells
those that are parameters of the running command as its options (``--exclude-highest 5``).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import warnings

from scalelaw.cli import render
from scalelaw.cli.app import app, flag_defaults
from scalelaw.errors import ExtrapolationWarning, ScalelawError

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
        try:
            app(args=argv, prog_name="scalelaw", default_map=flag_defaults())
        except ScalelawError as err:
            render.error(str(err).replace("[", "\\["))
            sys.exit(err.exit_code)


__all__ = ["app", "main"]
