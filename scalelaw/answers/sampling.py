"""Answers of repeated sampling: ``plan`` (samples for a target coverage, from a coverage fit) and
``passk`` (unbiased pass@k and pass^k of per-problem counts, no fit needed)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from scalelaw.answers.common import Answer, flag, integer, real
from scalelaw.errors import InputError
from scalelaw.io import values

DEFAULT_K = "1,10,100"


def is_coverage(result: object) -> bool:
    """Whether ``result`` is a sampling coverage fit (``sampling fit``)."""
    from scalelaw.result import FitGroup

    return isinstance(result, FitGroup) and result.family == "sampling" and result.kind == "coverage"


def plan(fit, *, target=None, cost_per_sample=None, cost=None, problems=None) -> Answer:
    """Samples per problem that reach coverage ``target`` for each model, with interval and cost:
    ``cost_per_sample`` for every model or ``cost`` per model (``{"model": 0.1}`` or ``"MODEL=COST"``
    texts); ``problems`` to budget for (default: those fitted).  The result is the ``SamplingPlan``."""
    from scalelaw.families import sampling as family
    from scalelaw.families.sampling.budget import check_target

    if target is None:
        raise InputError("give target=, the coverage to reach, in (0, 1)", field="target")
    try:
        target = check_target(values.number("target=", target, positive=False))
    except InputError as err:
        err.field = "target"
        raise
    prices = real("cost_per_sample=", cost_per_sample)
    if cost:
        prices = {m: values.number(f"cost={m}", v, positive=False) for m, v in values.pairs("cost=", cost).items()}
    count = None if problems is None else integer("problems=", problems, low=1)
    result = family.plan(family.coverage_group(fit), target, cost_per_sample=prices, problems=count)
    return Answer({"target": target, "level": result.level, "method": result.method,
                   "models": result.table.to_dict(orient="records"), "warnings": list(result.warnings)}, result)


def counts(rows, where=None):
    """The tidy per-problem count table and its notes from ``rows``: a read table, or a DataFrame or a list of
    mappings with the columns a sampling file has (model, problem, n_samples and n_correct, or their short
    names n and c, or one 0/1 ``correct`` per sample)."""
    import pandas as pd

    from scalelaw.families.sampling.counts import prepare
    from scalelaw.io import Table, filter_rows
    from scalelaw.io.columns import map_columns

    if rows is None:
        raise InputError("give rows=, the per-problem counts (model, problem, n_samples, n_correct)", field="rows")
    if not isinstance(rows, Table):
        if not isinstance(rows, pd.DataFrame):
            if isinstance(rows, (str, bytes, Mapping)) or not isinstance(rows, Iterable) or \
                    not all(isinstance(r, Mapping) for r in rows):
                raise InputError("rows=: give a list of objects, one per problem (or per sample)", field="rows")
            rows = pd.DataFrame(list(rows))
        if rows.empty:
            raise InputError("rows=: no rows; give one object per problem (or per sample)", field="rows")
        frame = rows.rename(columns=lambda c: str(c).strip())
        frame, renamed, notes = map_columns(frame, path="rows", family="sampling")
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")
        rows = Table(frame, "rows", renamed, tuple(notes), ())
    return prepare(filter_rows(rows, where) if where else rows)


def passk(*, rows=None, k=None, bootstrap=0, seed=0, level=0.95, nan_beyond_n: bool = False,
          where=None) -> Answer:
    """Unbiased pass@k and pass^k per model (mean over problems) at each ``k`` (default 1,10,100), with
    percentile intervals from ``bootstrap`` resamples of problems; ``nan_beyond_n``: NaN (with a warning)
    instead of an error for k above a problem's samples.  The result is ``(table, notes)``."""
    from scalelaw.families import sampling as family
    from scalelaw.families.sampling.passk import check_k

    try:
        ks = check_k(values.numbers("k=", DEFAULT_K if k is None else k, positive=False), name="k=")
    except InputError as err:
        err.field = "k"
        raise
    draws, seed = integer("bootstrap=", bootstrap), integer("seed=", seed)
    level = values.number("level=", level)
    tidy, notes = counts(rows, where)
    table = family.coverage_table(tidy, ks, bootstrap=draws, seed=seed, level=level,
                                  undefined="nan" if flag("nan_beyond_n=", nan_beyond_n) else "raise")
    models = {}
    for model, part in table.groupby("model", sort=False):
        models[model] = {"problems": int(part["problems"].iloc[0]),
                         "k": part["k"].tolist(), "pass_at_k": part["coverage"].tolist(),
                         "lower": part["lower"].tolist(), "upper": part["upper"].tolist(),
                         "pass_hat_k": part["pass_all"].tolist(),
                         "pass_hat_k_lower": part["pass_all_lower"].tolist(),
                         "pass_hat_k_upper": part["pass_all_upper"].tolist()}
    return Answer({"level": level, "bootstrap": draws, "models": models}, (table, notes))
