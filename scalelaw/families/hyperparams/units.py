"""Units of a sweep's batch-size and token columns, decided from the column names and value ranges.

A batch size is in tokens or in sequences; token counts are in tokens or in billions of tokens.
Nothing is guessed silently: a unit the name states (``batch_sequences``, ``tokens_b``,
``"tokens (B)"``) is used with a note; a batch column whose values are all below 1e4 counts
sequences when a sequence length is known (a ``seq_len`` column or ``seq_len=``), with a note;
otherwise values below 1e4 stop the read with a message asking for ``batch_unit=`` or
``tokens_unit=``.

Examples
--------
>>> token_source(["N", "tokens (B)", "lr"])
('tokens (B)', 'billions')
>>> batch_source(["N", "D", "batch_sequences"])
('batch_sequences', 'sequences')
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

from scalelaw.errors import InputError
from scalelaw.io import Table
from scalelaw.io.scales import SMALL, named_scale

BATCH_UNITS = ("auto", "tokens", "sequences")
TOKEN_UNITS = ("auto", "tokens", "billions")

_BATCH = r"(?:batch|batchsize|bs|globalbatch|globalbatchsize)"
_SEQUENCES = re.compile(rf"^(?:{_BATCH}(?:seqs?|sequences?|insequences)|seqsperbatch|sequencesperbatch)$")
_TOKENS_BATCH = re.compile(rf"^(?:{_BATCH}(?:tokens?|intokens)|tokensperbatch)$")


def _key(name: str) -> str:
    return re.sub(r"[\s_\-/]+", "", str(name)).lower()


def token_source(columns: Iterable[str]) -> tuple[str | None, str | None]:
    """``(column, unit)`` of the token counts: ``tokens`` itself (unit None: decided by value), or a
    column whose name says billions (``tokens_b``, ``"tokens (B)"``, ``D_billions``)."""
    columns = list(columns)
    if "tokens" in columns:
        return "tokens", None
    for column in columns:
        if named_scale(column, "tokens") == "billions":
            return column, "billions"
    return None, None


def batch_source(columns: Iterable[str], renamed_from: str | None = None) -> tuple[str | None, str | None]:
    """``(column, unit)`` of the batch sizes: ``batch_size`` (unit from its name in the file,
    ``renamed_from``, when that says tokens or sequences) or a column named like
    ``batch_sequences`` / ``batch_tokens``."""
    columns = list(columns)
    if "batch_size" in columns:
        key = _key(renamed_from or "batch_size")
        unit = "sequences" if _SEQUENCES.match(key) else "tokens" if _TOKENS_BATCH.match(key) else None
        return "batch_size", unit
    for column in columns:
        key = _key(column)
        if _SEQUENCES.match(key):
            return column, "sequences"
        if _TOKENS_BATCH.match(key):
            return column, "tokens"
    return None, None


def _span(values: np.ndarray) -> str:
    return f"{np.min(values):g}..{np.max(values):g}"


def _stop(table: Table | None, message: str, column: str) -> InputError:
    return table.error(message, column=column) if table is not None else InputError(message, column=column)


def token_unit(
    values: np.ndarray, column: str, *, named: str | None, given: str, table: Table | None = None
) -> tuple[str, str | None]:
    """The unit of the token counts and the note that says how it was decided (None: nothing to say).

    ``named`` is the unit the column's name states; ``given`` the ``tokens_unit=`` argument;
    ``table`` the file read, named in the error.
    """
    if given not in TOKEN_UNITS:
        raise InputError(f"tokens_unit={given!r} is not one of {', '.join(TOKEN_UNITS)}")
    if given == "billions":
        return "billions", f"token counts in {column!r} read as billions of tokens (x 1e9)"
    if given == "tokens":
        return "tokens", None
    if named == "billions":
        return "billions", (
            f"token counts in {column!r} read as billions of tokens (x 1e9), as its name says; "
            "give tokens_unit=tokens if they are tokens"
        )
    if np.all(values < SMALL):
        raise _stop(
            table,
            f"the token counts {_span(values)} are all below 1e4, too few for a training run; "
            "give tokens_unit=billions if they count billions of tokens, or tokens_unit=tokens",
            column,
        )
    return "tokens", None


def batch_unit(
    values: np.ndarray,
    column: str,
    *,
    named: str | None,
    given: str,
    seq_len: str | None,
    table: Table | None = None,
) -> tuple[str, str | None]:
    """The unit of the batch sizes and the note that says how it was decided (None: nothing to say).

    ``named`` is the unit the column's name states, ``given`` the ``batch_unit=`` argument,
    ``seq_len`` where the sequence length comes from (``"the 'seq_len' column"``, ``"seq_len=2048"``)
    or None when it is unknown; ``table`` the file read, named in the error.
    """
    if given not in BATCH_UNITS:
        raise InputError(f"batch_unit={given!r} is not one of {', '.join(BATCH_UNITS)}")
    if given != "auto":
        return given, None
    if named == "tokens":
        return "tokens", None
    if named == "sequences":
        return "sequences", f"batch sizes in {column!r} read as sequences, as its name says (x seq_len)"
    if not np.all(values < SMALL):
        return "tokens", None
    if seq_len is None:
        raise _stop(
            table,
            f"the batch sizes {_span(values)} are all below 1e4 and the sweep has no sequence length, "
            "so their unit is unknown: give batch_unit=sequences with seq_len=, or batch_unit=tokens",
            column,
        )
    return "sequences", (
        f"batch sizes {_span(values)} in {column!r} are all below 1e4 and the sequence length is known "
        f"({seq_len}): read as sequences and converted to tokens (x seq_len); give batch_unit=tokens "
        "if they are tokens"
    )
