"""Errors that a user can act on.

Every user mistake raises a :class:`ScalelawError` subclass whose message names the input (file, row,
column), shows the offending value and says what to do.  The CLI prints that one line and exits with
code 2.  Anything else is a bug and raises normally.
"""

from __future__ import annotations


class ScalelawError(Exception):
    """Base class of the errors that a user caused and can fix."""

    exit_code = 2


class InputError(ScalelawError, ValueError):
    """A data file, a column or a value cannot be used as given."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        row: int | None = None,
        column: str | None = None,
        value: object = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        where = []
        if path is not None:
            where.append(str(path))
        if row is not None:
            where.append(f"row {row}" + (f" (line {line})" if line is not None else ""))
        elif line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
        self.path, self.row, self.column, self.value, self.line = path, row, column, value, line
        self.field = field  # the request field at fault, for the service's error body


class LawError(ScalelawError, ValueError):
    """A law is unknown, or its declaration or expression is not allowed."""


class FitError(ScalelawError, ValueError):
    """The data cannot identify the law's parameters (too few rows, a single size, ...)."""


class ArtifactError(ScalelawError, ValueError):
    """A fit artifact cannot be read: not JSON, another schema, or missing fields."""


class OutputError(ScalelawError, OSError):
    """An output file cannot be written (the disk is full, the folder went away); nothing was written."""


class ArtifactWarning(UserWarning):
    """An artifact loads but is not as written: unknown fields, or numbers edited by hand
    (``params_sha256`` does not match; ``load(path, strict=True)`` refuses it instead)."""


class ExtrapolationWarning(UserWarning):
    """A prediction or derived quantity lies outside the ranges the law was fitted on.

    Filter it like any warning: ``warnings.simplefilter("ignore", scalelaw.ExtrapolationWarning)``.
    """


class DegeneracyWarning(UserWarning):
    """A fit the data do not pin down (a parameter collapsed toward 0, starts at the optimum that
    disagree, a near-collinear problem) or that stopped on the iteration limit.

    One line naming the parameters; the same line is in the fit's ``warnings``.  Turn it into an
    error with ``warnings.simplefilter("error", scalelaw.DegeneracyWarning)`` or
    :func:`scalelaw.identifiability.strict`.
    """
