"""Coverage fits per group of a sampling log's rows (``by="dataset"``): one fit of every model per group.

:func:`fit_groups` splits a read file's rows by the values of the ``by`` columns, reads each group as a
file of its rows alone (:func:`.counts.prepare`) and fits its models (:func:`.results.fit_coverage`):
a :class:`~scalelaw.FitGroup` (``kind="groups"``) whose members are coverage fits.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import replace

import pandas as pd

from scalelaw.families.sampling.counts import prepare
from scalelaw.families.sampling.results import coverage_group, fit_coverage
from scalelaw.io import Table, as_table
from scalelaw.result import FitGroup


def fit_groups(table: Table | pd.DataFrame, *, by: str | Sequence[str], strict: bool = False, jobs: int = 1,
               backend: str = "local", scheduler: str | None = None, **settings) -> FitGroup:
    """A coverage fit of every model per group of ``table``'s rows sharing the ``by`` columns.

    ``settings`` are those of :func:`.results.fit_coverage` (``method``, ``bootstrap``, ...);
    ``strict``, ``jobs``, ``backend`` and ``scheduler`` those of :func:`scalelaw.groups.each`, which
    runs the groups (a group or a model that cannot be fitted is skipped with a warning naming it).
    """
    from scalelaw import groups

    source = as_table(table)
    one = functools.partial(_fit_rows, source=replace(source, frame=source.frame.iloc[:0]), strict=strict,
                            settings=settings)
    return groups.each(one, source.frame, by=by, strict=strict, family="sampling", settings=settings, jobs=jobs,
                       backend=backend, scheduler=scheduler)


def member(result, group: str | None, *, source: str = "the result") -> FitGroup:
    """The coverage fit of ``result``, or of its ``group`` when it is a fit per group (:func:`fit_groups`)."""
    from scalelaw.errors import InputError

    if isinstance(result, FitGroup) and result.family == "sampling" and result.kind == "groups":
        if group is None:
            raise InputError(f"{source} holds one coverage fit per {result.key}; choose one with group=, "
                             f"one of {', '.join(map(repr, result))}", field="group")
        return coverage_group(result[group], source=source)
    if group is not None:
        raise InputError(f"group={group!r}: {source} is one coverage fit, not a fit per group", field="group")
    return coverage_group(result, source=source)


def _fit_rows(part: pd.DataFrame, *, source: Table, strict: bool, settings: dict) -> FitGroup:
    tidy, _ = prepare(replace(source, frame=part))
    return fit_coverage(tidy, strict=strict, **settings)
