"""One fit per group of rows (``by="dataset"``), every group of a law fitted in one batched run.

:func:`fit` splits a table by the values of one or more columns, lays the groups out as padded
arrays (:class:`scalelaw.batch.Chunk`), fits chunks of them in one engine run each, locally, in
``jobs`` processes or on a Dask cluster (:mod:`scalelaw.parallel`), and returns a
:class:`~scalelaw.result.FitGroup` of :class:`~scalelaw.result.FitResult`, one per group, keyed by
the group's values joined with ``/``.  Each group's bootstrap seed is derived from ``seed`` and its
key (``numpy.random.SeedSequence``), so its numbers depend neither on the chunking nor on the worker
that fitted it, and ``engine.fit(law, rows_of_the_group, **group[name].settings)`` replays it.

Examples
--------
>>> import pandas as pd
>>> from scalelaw.laws import get_law
>>> t = pd.DataFrame({"task": ["a"] * 4 + ["b"] * 4, "x": [1.0, 4.0, 16.0, 64.0] * 2,
...                   "loss": [3.0, 1.5, 0.75, 0.375, 2.0, 1.0, 0.5, 0.25]})
>>> g = fit(get_law("power_law"), t, by="task", loss="squared")
>>> [round(g[k].params["A"], 6) for k in g], list(g.summary().index.names)
([3.0, 2.0], ['task', 'parameter'])
"""

from __future__ import annotations

import functools
import hashlib
import time
import warnings
from collections.abc import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

from scalelaw import engine, identifiability
from scalelaw.batch import Chunk
from scalelaw.errors import FitError, InputError, ScalelawError
from scalelaw.laws import Law
from scalelaw.losses import HuberLikelihood, make_loss
from scalelaw.result import FitGroup, FitResult
from scalelaw.starts import to_natural

SEP = "/"


def columns(by: str | Sequence[str], table: pd.DataFrame) -> list[str]:
    """The grouping columns of ``by`` ("dataset", "dataset,task" or a list), each checked to exist."""
    names = [c.strip() for c in by.split(",")] if isinstance(by, str) else [str(c) for c in by]
    names = [c for c in names if c]
    if not names:
        raise InputError("by= names no column; give one or more columns, e.g. by='dataset'", field="by")
    for name in names:
        if name not in table.columns:
            raise InputError(f"by={name!r}: the table has no column {name!r}; it has "
                             f"{', '.join(map(str, table.columns))}", field="by")
    return names


def split(table: pd.DataFrame, by: list[str]) -> tuple[np.ndarray, list[str], list[list[str]]]:
    """Group code of every row (groups in order of first appearance), the group names, their values."""
    columns = [pd.factorize(table[c].astype(str), sort=False) for c in by]
    codes = columns[0][0].astype(np.int64)
    for column_codes, column_values in columns[1:]:
        codes = pd.factorize(codes * len(column_values) + column_codes, sort=False)[0].astype(np.int64)
    count = int(codes.max()) + 1 if len(codes) else 0
    first = np.empty(count, dtype=np.int64)
    first[codes[::-1]] = np.arange(len(codes))[::-1]
    values = [[str(u[c[i]]) for c, u in columns] for i in first]
    return codes, [SEP.join(v) for v in values], values


def group_seed(seed: int, name: str) -> int:
    """The bootstrap seed of group ``name``: SeedSequence(seed, spawn_key=(hash of the name,))."""
    word = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "little")
    return int(np.random.SeedSequence(int(seed), spawn_key=(word,)).generate_state(1)[0])


def _reason(law: Law, name: str, rows: int, data: dict[str, np.ndarray]) -> str | None:
    p = len(law.params)
    if rows < p:
        return f"group {name!r} has {rows} rows but law {law.name!r} has {p} parameters"
    for symbol, values in data.items():
        if values.min() == values.max():
            return f"group {name!r} has a single value of {law.column(symbol)!r} ({values[0]:g})"
    return None


def fit(law: Law, table: pd.DataFrame, *, by: str | Sequence[str], strict: bool = False, jobs: int = 1,
        backend: str = "local", scheduler: str | None = None, **settings) -> FitGroup:
    """Fit ``law`` to every group of rows of ``table`` that share the values of the ``by`` columns.

    Parameters
    ----------
    by
        One column, several as ``"dataset,task"``, or a list of columns.
    strict
        Refuse (``FitError``) a group with too few rows for the law, or groups that did not converge;
        by default the first is skipped with a warning naming it (kept in the result's ``warnings``
        and ``info["skipped"]``) and the second kept with a warning.
    jobs
        Processes fitting chunks of groups at once (``backend="local"``).
    backend, scheduler
        ``"local"`` or ``"dask"`` with the address of a running scheduler (default: the environment
        variable ``SCALELAW_DASK_SCHEDULER``).
    settings
        Those of :func:`scalelaw.engine.fit` (``loss``, ``delta``, ``starts``, ``polish``,
        ``bootstrap``, ``seed``, ``level``, ``weight_column``).

    A group that does not converge stays in the result, with ``converged`` false in its summary rows.
    """
    from scalelaw import parallel

    by = columns(by, table)
    parallel.check(jobs, backend, scheduler)
    unknown = set(settings) - {"loss", "delta", "starts", "polish", "bootstrap", "seed", "level", "weight_column",
                                "finish"}
    if unknown:
        raise FitError(f"fit with by= takes no {sorted(unknown)[0]}=")
    template = engine.fit_settings(**({"finish": True} | settings))
    clock = time.perf_counter()
    codes, names, values = split(table, by)
    data = {s: engine._column(table, law.column(s)) for s in law.inputs}
    y = engine._column(table, law.target)
    weight_column = template["weight_column"]
    w = np.ones(len(y)) if weight_column is None else engine._column(table, weight_column)
    if np.any(w < 0):
        raise InputError("weights must be >= 0", column=weight_column)
    if not np.all(np.isfinite(engine._transform(law.space, y))):
        bad = int(np.flatnonzero(~np.isfinite(engine._transform(law.space, y)))[0]) + 1
        raise InputError(f"the target must be {'positive' if law.space == 'log' else 'in (0, 1)'} "
                         f"for residuals in {law.space} space", row=bad, column=law.target)
    rows = _rows(codes, len(names))
    kept, skipped = [], {}
    for g, name in enumerate(names):
        reason = _reason(law, name, rows[g].size, {s: v[rows[g]] for s, v in data.items()})
        if reason is None:
            kept.append(g)
            continue
        if strict:
            raise FitError(f"{reason}; drop the group or fit without strict=")
        skipped[name] = reason
    seeds = {names[g]: group_seed(template["seed"], names[g]) for g in kept}
    loss_fn = make_loss(template["loss"], template["delta"])
    if isinstance(loss_fn, HuberLikelihood):
        fits = {names[g]: engine.fit(law, table.iloc[rows[g]], **(template | {"seed": seeds[names[g]]}))
                for g in kept}
    else:
        chunks = _chunks(law, template, [rows[g] for g in kept], data, y, w,
                         np.array([seeds[names[g]] for g in kept], dtype=np.int64), parts=jobs)
        outcomes = parallel.run(law, chunks, template, jobs=jobs, backend=backend, scheduler=scheduler)
        elapsed = (time.perf_counter() - clock) / max(len(kept), 1)
        fits = {}
        for (chunk, members), outcome in zip(chunks, outcomes, strict=True):
            for i, m in enumerate(members):
                name = names[kept[m]]
                fits[name] = _result(law, template | {"seed": seeds[name]}, chunk, i, outcome, elapsed)
    notes = [f"{reason}; skipped" for reason in skipped.values()]
    for text in notes:
        warnings.warn(text, UserWarning, stacklevel=2)
    group_settings = template | {"by": by, "strict": bool(strict)}
    info = {"by": by, "groups": {names[g]: values[g] for g in range(len(names))}, "skipped": skipped}
    stuck = [name for name, f in fits.items() if not f.diagnostics["converged"]]
    if stuck:
        notes.append(f"{len(stuck)} of {len(fits)} groups did not converge: "
                     + ", ".join(map(repr, stuck[:10])) + (", ..." if len(stuck) > 10 else ""))
        if strict:
            raise FitError(f"{notes[-1]}; fit without strict= to keep them")
    degenerate = [name for name, f in fits.items() if identifiability.findings(f.diagnostics)]
    if degenerate:
        notes.append(f"{len(degenerate)} of {len(fits)} groups are degenerate (each one's warning says why): "
                     + ", ".join(map(repr, degenerate[:10])) + (", ..." if len(degenerate) > 10 else ""))
        if strict:
            raise FitError(f"{notes[-1]}; fit without strict= to keep them")
    return FitGroup("core", "groups", fits, key=",".join(by), settings=group_settings, info=info,
                    warnings=tuple(notes))


def each(function: Callable[[pd.DataFrame], object], table: pd.DataFrame, *, by: str | Sequence[str],
         strict: bool = False, family: str = "core", settings: Mapping | None = None, jobs: int = 1,
         backend: str = "local", scheduler: str | None = None, progress=None, label: str = "group") -> FitGroup:
    """``function(rows)`` for the rows of every group (a family's own fit: isoFLOP, validation, ...).

    A group the family cannot fit (a :class:`~scalelaw.errors.ScalelawError`, e.g. too few rows) is
    skipped with a warning naming it (as ``label``, e.g. "model"), or refused with ``strict``;
    ``settings`` are the family call's.
    ``jobs``, ``backend`` and ``scheduler`` are those of :func:`fit`: the groups run in
    :func:`scalelaw.parallel.dispatch`, so ``function`` must pickle (a module-level function or a
    ``functools.partial`` of one) unless it runs here (``jobs=1``, local).  ``progress(done, total)``
    is called as groups finish here; the results do not depend on where the groups ran.
    """
    from scalelaw import parallel

    by = columns(by, table)
    parallel.check(jobs, backend, scheduler)
    codes, names, values = split(table, by)
    rows = _rows(codes, len(names))
    parts = [table.iloc[rows[g]] for g in range(len(names))]
    if parallel.in_process(jobs, backend):
        outcomes = []
        for part in parts:
            outcomes.append(parallel.one(functools.partial(_attempt, function), part))
            if progress is not None:
                progress(len(outcomes), len(parts))
    else:
        outcomes = parallel.dispatch(functools.partial(_attempt, function), parts, jobs=jobs, backend=backend,
                                     scheduler=scheduler)
    fits, skipped = {}, {}
    for name, (result, error, caught) in zip(names, outcomes, strict=True):
        for message, category in caught:
            warnings.warn(message, category, stacklevel=2)
        if error is None:
            fits[name] = result
            continue
        kind, text = error
        text = text if text.startswith(f"{label} {name!r}") else f"{label} {name!r}: {text}"
        if strict:
            raise kind(text)
        skipped[name] = text
    if not fits:
        raise FitError(f"no group of {', '.join(by)} could be fitted: {'; '.join(skipped.values())}")
    notes = [f"{reason}; skipped" for reason in skipped.values()]
    for text in notes:
        warnings.warn(text, UserWarning, stacklevel=2)
    info = {"by": by, "groups": {names[g]: values[g] for g in range(len(names))}, "skipped": skipped}
    return FitGroup(family, "groups", fits, key=",".join(by),
                    settings=dict(settings or {}) | {"by": by, "strict": bool(strict)}, info=info,
                    warnings=tuple(notes) + tuple(f"{name}: {w}" for name, f in fits.items()
                                                  for w in getattr(f, "warnings", ())))


def _attempt(function: Callable, rows: pd.DataFrame) -> tuple:
    """(result, None, warnings) or (None, (error class, message), warnings) of ``function(rows)``; the
    warnings it raised as (message, category) pairs, to raise again where the group result is made."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result, error = function(rows), None
        except ScalelawError as err:
            result, error = None, (type(err), str(err))
    return result, error, [(str(w.message), w.category) for w in caught]


def _rows(codes: np.ndarray, count: int) -> list[np.ndarray]:
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(count + 1))
    return [order[bounds[g] : bounds[g + 1]] for g in range(count)]


def _chunks(law: Law, template: dict, rows: list[np.ndarray], data: dict, y: np.ndarray, w: np.ndarray,
            seeds: np.ndarray, parts: int = 1) -> list[tuple[Chunk, list[int]]]:
    """Kept groups in chunks (at least ``parts`` when there are as many groups) that bound the batch's
    memory; each chunk's rows padded to its longest group."""
    from scalelaw.batch import _ELEMENTS

    p = len(law.params)
    starts = template["starts"]
    if starts == "default":
        grid = int(np.prod([len(q.starts) for q in law.params if q.name not in set(law.linear_params)]))
    else:
        grid = 4500 if starts == "hoffmann" else 1 if isinstance(starts, str | dict) else len(starts)
    per_group = max(min(template["polish"], grid), template["bootstrap"])
    out = []
    i = 0
    most = -(-len(rows) // max(1, parts))
    while i < len(rows):
        n_max = rows[i].size
        j = i
        while j < len(rows):
            n_max = max(n_max, rows[j].size)
            if ((j - i + 1) * per_group * n_max * (p + 1) > _ELEMENTS or j - i >= most) and j > i:
                break
            j += 1
        members = list(range(i, j))
        n = max(rows[m].size for m in members)
        counts = np.array([rows[m].size for m in members])
        pad = np.array([np.concatenate([rows[m], np.full(n - rows[m].size, rows[m][0])]) for m in members])
        live = np.arange(n) < counts[:, None]
        chunk = Chunk(data={s: v[pad] for s, v in data.items()}, y=y[pad], weights=np.where(live, w[pad], 0.0),
                      counts=counts, seeds=seeds[i:j])
        out.append((chunk, members))
        i = j
    return out


def _result(law: Law, settings: dict, chunk: Chunk, i: int, outcome: dict, elapsed: float) -> FitResult:
    """Group ``i`` of a chunk's outcome as the FitResult that fitting it alone gives."""
    m = int(chunk.counts[i])
    data = {s: v[i, :m] for s, v in chunk.data.items()}
    y, weights = chunk.y[i, :m], chunk.weights[i, :m]
    u = outcome["u"][i]
    problem = engine.Problem.__new__(engine.Problem)
    problem.law, problem.data, problem.y, problem.weights, problem.n = law, data, y, weights, m
    converged = bool(outcome["converged"][i])
    boot = None
    diagnostics = {
        "objective": float(outcome["objective"][i]),
        "converged": converged,
        "message": "converged" if converged else "iteration limit reached before convergence",
        "at_bound": [p.name for j, p in enumerate(law.params) if outcome["at_bound"][i, j]],
        "n_starts": int(outcome["n_starts"][i]),
        "n_polished": int(outcome["n_polished"][i]),
        "n_at_optimum": int(outcome["n_at_optimum"][i]),
        "evaluations": int(outcome["evaluations"][i]),
        "iterations": int(outcome["iterations"][i]),
        "bootstrap_failed": 0,
        "wall_time": elapsed,
    } | outcome["identifiability"][i]
    if "draws" in outcome:
        boot = outcome["draws"][i]
        diagnostics["bootstrap_failed"] = int(outcome["bootstrap_failed"][i])
    theta = to_natural(law, u)
    params = dict(zip(law.param_names, map(float, theta), strict=True))
    facts = {"rows": m, "sha256": problem.fingerprint(),
             "columns": {s: law.column(s) for s in law.inputs} | {"target": law.target},
             "ranges": {law.column(s): [float(data[s].min()), float(data[s].max())] for s in law.inputs}}
    mae, mape, largest, rmse = (float(v) for v in outcome["metrics"][i])
    metrics = {"n": m, "mae": mae, "mape": mape, "max_abs_error": largest, "rmse": rmse}
    return FitResult(law=law, params=params, diagnostics=diagnostics, settings=settings, data=facts,
                     metrics=metrics, bootstrap=boot, noise=outcome["noise"][i])
