"""Reading lm-evaluation-harness v0.4 results: a folder of ``results_*.json`` -> one row per score.

The harness, given an output path DIR, writes ``DIR/<model_name_sanitized>/results_<date>.json``
per run, with ``results`` = {task: {"acc,none": ..., "acc_stderr,none": ..., "alias": ...}} (metric
and filter joined by a comma), ``config`` (``model``, ``model_args`` such as
``"pretrained=EleutherAI/pythia-160m,dtype=float16"``), ``model_name``, ``n-shot``, ``versions``.
The model is ``model_name``, or the ``pretrained=`` (``peft=``, ``delta=``, ``model=``, ``path=``,
``engine=``) value of ``config.model_args``.  Sizes are not in the file: a manifest table (``model``,
``params`` [, ``tokens``, ``family``, any other column such as a loss]) or ``params={"MODEL": "7B"}``
gives them.  A file of another layout (v0.3: ``"acc"`` without a filter; no ``results``) is refused.

Examples
--------
>>> model_from_args("pretrained=EleutherAI/pythia-160m,dtype=float16")
'EleutherAI/pythia-160m'
>>> sanitized("EleutherAI/pythia-160m")
'EleutherAI__pythia-160m'
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from scalelaw.errors import InputError
from scalelaw.io import Table, parse_quantity, read_table
from scalelaw.io.shape import parse_json
from scalelaw.io.text import read_text

FORMAT = "lm-eval"
#: Keys of a task's results that are not scores.
_INFO = {"alias", "name", "sample_len", "sample_count", " ", ""}
#: The harness's order of model-argument keys (``GeneralConfigTracker._get_model_name``).
_PREFIXES = ("peft", "delta", "pretrained", "model", "path", "engine")
ROW_COLUMNS = ["model", "task", "metric", "filter", "value", "stderr", "n_shot", "params", "tokens", "source"]


def sanitized(name: str) -> str:
    """The harness's folder name of a model (``/`` and other path characters -> ``__``)."""
    return re.sub(r"[\"<>:/|\\?*\[\]]+", "__", name)


def model_from_args(model_args) -> str | None:
    """The model named by ``config.model_args`` (a ``key=value,...`` string or a dict), or None."""
    if isinstance(model_args, Mapping):
        return next((str(model_args[k]) for k in _PREFIXES if model_args.get(k)), None)
    if isinstance(model_args, str):
        for prefix in _PREFIXES:
            for part in model_args.split(","):
                key, _, value = part.partition("=")
                if key.strip() == prefix and value.strip():
                    return value.strip()
    return None


@dataclass(frozen=True)
class HarnessResults:
    """Scores read from harness results files.

    Attributes
    ----------
    rows
        One row per (model, task, metric, filter): ``value``, ``stderr`` (NaN when "N/A"),
        ``n_shot``, ``params`` (N, NaN when unknown), ``tokens`` (D, NaN when unknown), ``source``.
    models
        One row per model: ``model``, ``family``, ``params``, ``tokens``, ``flops`` (the manifest's, or
        6 N D; NaN when unknown) and every other manifest column.
    path, notes
        The folder (or file) read, and what was chosen or derived.
    """

    rows: pd.DataFrame
    models: pd.DataFrame
    path: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    def matrix(self, metric: str = "acc") -> tuple[pd.DataFrame, tuple[str, ...], tuple[str, ...]]:
        """One row per model with one column per task holding ``metric`` (filter ``none`` first).

        Returns the frame (``model``, ``family``, ``params``, ``tokens``, ``flops``, the manifest's
        other columns, then the tasks), the task columns, and the tasks left out (no such metric).
        """
        picked = self.rows[self.rows["metric"] == metric].copy()
        picked["_rank"] = (picked["filter"] != "none").astype(int)
        picked = picked.sort_values(["_rank"], kind="stable").drop_duplicates(["model", "task"])
        tasks = tuple(dict.fromkeys(t for t in self.rows["task"] if t in set(picked["task"])))
        skipped = tuple(dict.fromkeys(t for t in self.rows["task"] if t not in set(tasks)))
        if not tasks:
            raise InputError(f"no task has the metric {metric!r}; the results have "
                             f"{', '.join(map(repr, dict.fromkeys(self.rows['metric'])))} (choose one with "
                             "metric=)", path=self.path)
        wide = picked.pivot(index="model", columns="task", values="value")
        clash = [t for t in tasks if t in self.models.columns]
        if clash:
            raise InputError(f"task {clash[0]!r} is also a manifest column; rename that column", path=self.path)
        frame = self.models.join(wide[list(tasks)], on="model")
        return frame.reset_index(drop=True), tasks, skipped

    def table(self, metric: str = "acc") -> Table:
        """:meth:`matrix` as a read :class:`~scalelaw.io.Table` (row i = model i, path = the folder)."""
        frame, _, _ = self.matrix(metric)
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")
        return Table(frame, self.path, {})


def is_results(path: str | Path) -> bool:
    """Whether ``path`` is a folder holding ``results_*.json`` files, or one such file."""
    p = Path(path)
    if p.is_dir():
        return next(p.rglob("results_*.json"), None) is not None
    return p.is_file() and p.suffix.lower() == ".json" and p.name.startswith("results")


def read_results(path: str | Path, *, manifest: str | Path | None = None,
                 params: Mapping[str, object] | None = None, tokens: Mapping[str, object] | None = None,
                 columns: Mapping[str, str] | None = None, require: tuple[str, ...] = ("params",)) -> HarnessResults:
    """Read a folder of harness v0.4 results files (searched recursively) or one such file.

    Parameters
    ----------
    path
        The harness's output folder, or one ``results_*.json``.
    manifest
        A table with ``model`` and ``params`` (parameters N) and optionally ``tokens`` (D),
        ``flops`` (C, default 6 N D), ``family`` and other columns; a model is matched by its name or its folder name.
    params, tokens
        Sizes by model name, e.g. ``{"EleutherAI/pythia-160m": "160M"}`` (override the manifest).
    columns
        Manifest role -> the manifest's column, e.g. ``{"params": "n_params_total"}``.
    require
        Sizes every model must have (``params``, ``tokens``).

    Raises
    ------
    InputError
        A file of another harness version, a file without a model name, a model without a required
        size, a size for a model the results do not hold.
    """
    p = Path(path)
    if not p.exists():
        raise InputError("no such file or folder; check the path", path=str(path))
    files = sorted(p.rglob("results_*.json")) if p.is_dir() else [p]
    if not files:
        raise InputError("holds no results_*.json file (the harness writes "
                         "MODEL/results_DATE.json in its output folder)", path=str(path))
    parts, notes = [], []
    for file in files:
        parts += _read_file(file)
    rows = pd.DataFrame(parts)
    rows = _newest(rows, notes)
    names = list(dict.fromkeys(rows["model"]))
    models = _sizes(names, manifest, params, tokens, columns, require, str(path), notes)
    rows = rows.drop(columns=["params", "tokens"], errors="ignore").merge(
        models[["model", "params", "tokens"]], on="model", how="left")
    notes.insert(0, f"read {len(files)} harness results file(s): {len(names)} model(s), "
                 f"{rows['task'].nunique()} task(s), {len(rows)} scores")
    return HarnessResults(rows[ROW_COLUMNS].reset_index(drop=True), models, str(path), tuple(notes))


# ------------------------------------------------------------------------------------------ one file
def _read_file(path: Path) -> list[dict]:
    payload = parse_json(read_text(path), str(path))
    if not isinstance(payload, dict) or not isinstance(payload.get("results"), dict):
        raise InputError("has no 'results' object: not an lm-evaluation-harness v0.4 results file",
                         path=str(path))
    config = payload.get("config") if isinstance(payload.get("config"), dict) else {}
    model = payload.get("model_name") if isinstance(payload.get("model_name"), str) else None
    model = model or model_from_args(config.get("model_args"))
    if not model:
        raise InputError("names no model: no 'model_name' and no pretrained= in config.model_args",
                         path=str(path))
    shots = payload.get("n-shot") if isinstance(payload.get("n-shot"), dict) else {}
    out = []
    for task, scores in payload["results"].items():
        if not isinstance(scores, dict):
            raise InputError(f"results[{task!r}] is not an object of scores", path=str(path))
        keys = [k for k in scores if k not in _INFO]
        bare = [k for k in keys if "," not in k]
        if bare:
            raise InputError(f"results[{task!r}] has {bare[0]!r} without a filter (v0.4 writes "
                             f"'{bare[0]},none'): another harness version; this reader takes v0.4 results",
                             path=str(path))
        for key in keys:
            metric, _, filt = key.partition(",")
            if metric.endswith("_stderr"):
                continue
            value = _number(scores[key])
            if value is None:
                continue
            stderr = _number(scores.get(f"{metric}_stderr,{filt}"))
            shot = _number(shots.get(task))
            out.append({"model": model, "task": str(task), "metric": metric, "filter": filt, "value": value,
                        "stderr": math.nan if stderr is None else stderr,
                        "n_shot": math.nan if shot is None else shot, "source": str(path)})
    if not out:
        raise InputError("'results' holds no numeric score", path=str(path))
    return out


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _newest(rows: pd.DataFrame, notes: list[str]) -> pd.DataFrame:
    """One score per (model, task, metric, filter): the newest file's (file names carry the date)."""
    rows = rows.assign(_name=rows["source"].map(lambda s: Path(s).name)).sort_values("_name", kind="stable")
    repeated = rows.duplicated(["model", "task", "metric", "filter"], keep="last")
    if repeated.any():
        first = rows[repeated].iloc[0]
        notes.append(f"{int(repeated.sum())} score(s) appear in several files (e.g. {first['model']} "
                     f"{first['task']}); the newest file's are kept")
    rows = rows[~repeated].sort_index(kind="stable")
    return rows.drop(columns="_name")


# ------------------------------------------------------------------------------------------ sizes
def _sizes(names: list[str], manifest, params, tokens, columns, require, path: str, notes: list[str]) -> pd.DataFrame:
    known = {n: n for n in names} | {sanitized(n): n for n in names}
    models = pd.DataFrame({"model": names, "family": names, "params": np.nan, "tokens": np.nan})
    models = models.set_index("model", drop=False)
    if manifest is not None:
        table = _manifest(manifest, columns)
        frame = table.frame
        for row, record in frame.iterrows():
            name = known.get(str(record["model"]).strip())
            if name is None:
                continue
            for column in frame.columns:
                if column == "model":
                    continue
                value = record[column]
                if column in ("params", "tokens", "flops"):
                    value = _size(value, lambda msg, c=column, r=row: table.error(msg, row=int(r), column=c))
                models.loc[name, column] = value
        unmatched = [str(m) for m in frame["model"] if str(m).strip() not in known]
        if unmatched:
            notes.append(f"{len(unmatched)} manifest model(s) have no results (e.g. {unmatched[0]!r})")
    for option, given in (("params", params), ("tokens", tokens)):
        for key, value in (given or {}).items():
            name = known.get(str(key).strip())
            if name is None:
                raise InputError(f"{option}= names model {key!r}, which has no results; the results hold "
                                 f"{', '.join(map(repr, names))}", path=path)
            models.loc[name, option] = _size(value, lambda msg, o=option, k=key: InputError(f"{o}= {k}: {msg}"))
    for size in require:
        missing = models.index[models[size].isna()].tolist()
        if missing:
            raise InputError(f"model {missing[0]!r} has no {size}; give it with manifest= (a table of model, "
                             f"params[, tokens]) or {size}= MODEL=SIZE", path=path)
    derived = 6.0 * models["params"].astype(float) * models["tokens"].astype(float)
    given = models["flops"].astype(float) if "flops" in models.columns else pd.Series(np.nan, index=models.index)
    models["flops"] = given.where(given.notna(), derived)
    unknown = int(models["flops"].isna().sum())
    if given.isna().any():
        notes.append("compute = 6 params tokens" + (f"; unknown for {unknown} model(s)" if unknown else ""))
    return models.reset_index(drop=True)


def _manifest(manifest, columns) -> Table:
    table = read_table(manifest, rename=True)
    if columns:
        renamed = {}
        for role, name in columns.items():
            if name not in table.frame.columns and name not in table.renamed:
                raise table.error(f"columns= maps {role} to {name!r}, which the manifest lacks; it has "
                                  f"{', '.join(map(repr, table.frame.columns))}")
            renamed[table.renamed.get(name, name)] = role
        table = Table(table.frame.rename(columns=renamed), table.path, {**table.renamed, **renamed})
    for column in ("model", "params"):
        if column not in table.frame.columns:
            raise table.error(f"a manifest needs 'model' and 'params' columns; the file has "
                              f"{', '.join(map(repr, table.frame.columns))}")
    return table


def _size(value, error) -> float:
    if value is None or str(value).strip() == "":
        return math.nan
    try:
        number = parse_quantity(value)
    except ValueError as err:
        raise error(str(err)) from err
    if not math.isfinite(number) or number <= 0:
        raise error(f"{value!r} must be a positive size")
    return number
