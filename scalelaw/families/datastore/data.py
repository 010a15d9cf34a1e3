"""Measurements of retrieval-based LMs: read, validate, classify metrics and average seeds.

A log has one row per measurement: ``model`` (the reader LM), ``params`` (N, parameters),
``tokens`` (D, pretraining tokens), ``datastore_tokens`` (S, tokens in the datastore; 0 or empty
for the LM-only baseline), ``metric`` (its name), ``value`` and optionally ``seed`` (the
subsampling seed) and ``kind`` (``perplexity`` or ``accuracy``).  A *reader* is one (model,
params, tokens): intermediate checkpoints of one model are different readers.

Each metric is either lower-is-better (perplexity, loss) or higher-is-better (accuracy, exact
match), from the ``kind`` column or else from its name.  Accuracies are fractions (ceiling 1) or
percentages (ceiling 100).  Seeds at one (reader, metric, datastore size) are averaged; the rows
themselves are kept so that a bootstrap can resample seeds.

Examples
--------
>>> metric_kind("redpajama_ppl"), metric_kind("tqa_em"), metric_kind("MMLU")
('lower', 'higher', 'higher')
>>> tokens_label(1.4e12), tokens_label(3.5e11), tokens_label(0)
('1.4T', '350B', '0')
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from scalelaw import protocol
from scalelaw.errors import InputError
from scalelaw.io import Table, parse_quantity, read_table, scales

#: Columns a datastore log needs (after aliases are mapped).
REQUIRED = ("model", "params", "tokens", "datastore_tokens", "metric", "value")
#: Aliases this family accepts besides the shared ones of :mod:`scalelaw.io`.
LOCAL_ALIASES = {"model": ("reader", "lm"), "metric": ("task", "benchmark"), "value": ("score",)}

_LOWER = re.compile(r"ppl|perplex|loss|nll|bpb|bits|error|wer|cer", re.IGNORECASE)
_HIGHER = re.compile(r"acc|exact|(?:^|[^a-z])em(?:$|[^a-z])|f1|mmlu|tqa|trivia|(?:^|[^a-z])nq(?:$|[^a-z])|"
                     r"medqa|pass|rouge|bleu|score", re.IGNORECASE)
_KIND_WORDS = {"lower": ("perplexity", "ppl", "loss", "lower", "lower-is-better"),
               "higher": ("accuracy", "acc", "em", "exact-match", "higher", "higher-is-better")}


def metric_kind(name: str) -> str | None:
    """``"lower"`` (perplexity, loss), ``"higher"`` (accuracy, exact match) or None, from a name."""
    if _LOWER.search(name):
        return "lower"
    if _HIGHER.search(name):
        return "higher"
    return None


def tokens_label(value: float) -> str:
    """A token count for labels: 1.4e12 -> ``'1.4T'``."""
    value = float(value)
    for suffix, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(value) >= scale:
            return f"{value / scale:.3g}{suffix}"
    return f"{value:.3g}"


@protocol.value_kind("datastore.metric")
@dataclass(frozen=True)
class Metric:
    """A metric: its direction and, for accuracies, the ceiling (1 for fractions, 100 for percent).

    ``kind`` is ``"lower"`` (lower is better: perplexity, loss) or ``"higher"``.
    """

    name: str
    kind: str
    ceiling: float | None = None

    @property
    def label(self) -> str:
        if self.kind == "lower":
            return f"{self.name} (lower is better)"
        return f"{self.name} (higher is better, out of {self.ceiling:g})"

    def to_dict(self) -> dict:
        return {"name": self.name, "kind": self.kind, "ceiling": self.ceiling}

    @classmethod
    def from_dict(cls, d: Mapping) -> Metric:
        return cls(str(d["name"]), str(d["kind"]), None if d.get("ceiling") is None else float(d["ceiling"]))


@dataclass(frozen=True)
class Measurements:
    """A validated datastore log.

    Attributes
    ----------
    rows
        One row per measurement: ``row`` (1-based data row of the file), ``reader``, ``model``,
        ``params``, ``tokens``, ``datastore_tokens``, ``metric``, ``value``, ``seed``, ``config``
        (id of its (reader, metric, datastore size)) and ``weight`` (1 / seeds at that config, so
        that each configuration weighs as one averaged point).
    points
        One row per configuration: the seed mean ``value``, its standard deviation ``sd``
        (0 for one seed), ``n_seeds`` and the first file ``row``.
    metrics
        Metric name -> :class:`Metric`.
    source
        The file, for error messages.
    notes
        What was mapped or derived.
    """

    rows: pd.DataFrame
    points: pd.DataFrame
    metrics: Mapping[str, Metric]
    source: Table
    notes: tuple[str, ...] = field(default=())

    @property
    def readers(self) -> list[str]:
        return list(dict.fromkeys(self.points["reader"]))

    def error(self, message: str, *, row: int | None = None, column: str | None = None) -> InputError:
        return self.source.error(message, row=row, column=column)

    def select(self, metric: str | None = None, readers: Iterable[str] | None = None) -> Measurements:
        """The measurements of one metric and/or some readers (matched by reader label or model)."""
        rows, points = self.rows, self.points
        if metric is not None:
            if metric not in self.metrics:
                raise self.error(f"metric={metric!r} is not in the file; it has "
                                 f"{', '.join(map(repr, self.metrics))}", column="metric")
            rows, points = rows[rows["metric"] == metric], points[points["metric"] == metric]
        readers = list(readers or [])
        if readers:
            known = set(self.points["reader"]) | set(self.points["model"])
            unknown = [r for r in readers if r not in known]
            if unknown:
                raise self.error(f"readers= names {unknown[0]!r}, which is not in the file; readers: "
                                 f"{', '.join(map(repr, self.readers))}", column="model")
            keep_rows = rows["reader"].isin(readers) | rows["model"].isin(readers)
            keep_points = points["reader"].isin(readers) | points["model"].isin(readers)
            rows, points = rows[keep_rows], points[keep_points]
        if points.empty:
            raise self.error("no measurements are left for this choice of metric= and readers=")
        metrics = {k: v for k, v in self.metrics.items() if k in set(points["metric"])}
        return replace(self, rows=rows, points=points, metrics=metrics)


# --------------------------------------------------------------------------------------- reading
def read(path: str | Path, *, columns: Mapping[str, str] | None = None, sheet: str | int | None = None,
         where: Mapping[str, object] | Iterable[str] | str | None = None, tokens_unit: str = "auto",
         params_unit: str = "auto") -> Measurements:
    """Read and validate a datastore log (CSV, TSV, JSON(L), parquet or Excel); see :func:`prepare`.
    ``columns`` maps roles to the file's columns (``{"value": "eval/acc"}``); ``sheet`` chooses an
    Excel sheet; ``where`` keeps the rows its filters pass (``["reader=bm25", "metric!=ppl"]``),
    before any cell is checked; ``params_m``/``tokens_b`` columns are scaled with a note, and
    ``tokens_unit``/``params_unit`` give the unit of plain ones (:mod:`scalelaw.io.scales`)."""
    table = read_table(path, columns=columns, sheet=sheet, where=where)
    frame, notes = scales.apply_units(table.frame, tokens_unit=tokens_unit, params_unit=params_unit, table=table)
    return prepare(Table(frame, table.path, table.renamed, (*table.notes, *notes), table.given))


def _local_aliases(table: Table) -> Table:
    frame, renamed = table.frame, dict(table.renamed)
    lower = {c.lower().replace(" ", "_"): c for c in frame.columns}
    for canon, aliases in LOCAL_ALIASES.items():
        if canon in frame.columns:
            continue
        for alias in aliases:
            if alias in lower:
                renamed[lower[alias]] = canon
                frame = frame.rename(columns={lower[alias]: canon})
                break
    return Table(frame, table.path, renamed, table.notes, table.given)


def _datastore_column(table: Table) -> np.ndarray:
    """Datastore sizes in tokens: empty means 0 (LM-only); negative or non-numeric cells raise."""
    out = np.empty(len(table.frame))
    for i, (row, cell) in enumerate(table.frame["datastore_tokens"].items()):
        text = "" if cell is None or (isinstance(cell, float) and math.isnan(cell)) else str(cell).strip()
        if text == "" or text.lower() in ("none", "lm-only", "lm_only"):
            out[i] = 0.0
            continue
        try:
            value = parse_quantity(text)
        except ValueError as err:
            raise table.error(f"{err}; leave it empty or 0 for the LM-only baseline", row=int(row),
                              column="datastore_tokens", value=cell) from err
        if not math.isfinite(value) or value < 0:
            raise table.error(f"{text} is not a datastore size; sizes are tokens >= 0 (0 or empty for "
                              "the LM-only baseline); fix or drop that row", row=int(row),
                              column="datastore_tokens", value=cell)
        out[i] = value
    return out


def _kind_of_rows(table: Table, frame: pd.DataFrame) -> dict[str, str]:
    """Metric -> kind, from the ``kind`` column (checked for consistency) or from the name."""
    kinds: dict[str, str] = {}
    if "kind" in frame.columns:
        first_row: dict[str, tuple[int, str]] = {}
        for row, metric, cell in zip(frame.index, frame["metric"], frame["kind"].astype(str), strict=True):
            word = cell.strip().lower().replace("_", "-")
            kind = next((k for k, words in _KIND_WORDS.items() if word in words), None)
            if kind is None:
                raise table.error(f"kind {cell!r} is neither perplexity (lower is better) nor accuracy "
                                  "(higher is better)", row=int(row), column="kind")
            if metric in kinds and kinds[metric] != kind:
                seen_row, seen = first_row[metric]
                raise table.error(f"metric {metric!r} mixes perplexity and accuracy in one law: row "
                                  f"{seen_row} says {seen!r}, this row says {cell!r}; give each its own "
                                  "metric name", row=int(row), column="kind")
            kinds.setdefault(metric, kind)
            first_row.setdefault(metric, (int(row), cell))
    for metric in dict.fromkeys(frame["metric"]):
        if metric in kinds:
            continue
        kind = metric_kind(metric)
        if kind is None:
            row = int(frame.index[(frame["metric"] == metric).to_numpy()][0])
            raise table.error(f"cannot tell whether metric {metric!r} is lower-is-better (perplexity, "
                              "loss) or higher-is-better (accuracy); add a column 'kind' with "
                              "perplexity or accuracy", row=row, column="metric")
        kinds[metric] = kind
    return kinds


def _metric(table: Table, frame: pd.DataFrame, name: str, kind: str) -> Metric:
    part = frame[frame["metric"] == name]
    values = part["value"].to_numpy(dtype=float)
    if kind == "lower":
        bad = np.flatnonzero(values <= 0)
        if bad.size:
            raise table.error(f"{values[bad[0]]:g} is not a perplexity or loss of metric {name!r}; "
                              "those are > 0", row=int(part.index[bad[0]]), column="value")
        return Metric(name, kind)
    bad = np.flatnonzero((values < 0) | (values > 100))
    if bad.size:
        raise table.error(f"{values[bad[0]]:g} is not an accuracy of metric {name!r}; accuracies are "
                          "fractions in [0, 1] or percentages in [0, 100]", row=int(part.index[bad[0]]),
                          column="value")
    return Metric(name, kind, 1.0 if values.max() <= 1.0 else 100.0)


def prepare(table: Table | pd.DataFrame) -> Measurements:
    """Validate a datastore log and average its seeds.

    Raises
    ------
    InputError
        Naming the file, row and column: a missing column, a negative or non-numeric size, a
        non-positive perplexity, an accuracy outside [0, 100], a metric whose direction cannot be
        told or whose rows mix perplexity and accuracy.
    """
    if not isinstance(table, Table):
        frame = table.copy()
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="row")
        table = Table(frame, "table")
    src = table
    src = _local_aliases(src)
    frame = src.frame.copy()
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise src.error(f"missing column {missing[0]!r}; a datastore log needs "
                        f"{', '.join(REQUIRED)} (datastore_tokens 0 or empty for LM-only); the file has "
                        f"{', '.join(map(repr, frame.columns))}")
    for column in ("params", "tokens", "value"):
        values = []
        for row, cell in frame[column].items():
            if str(cell).strip() in ("", "nan", "None"):
                raise src.error("the cell is empty; fill it or drop the row", row=int(row), column=column)
            try:
                number = parse_quantity(cell)
            except ValueError as err:
                raise src.error(str(err), row=int(row), column=column, value=cell) from err
            if not math.isfinite(number):
                raise src.error(f"{cell!r} is not a finite number; fix or drop that row", row=int(row),
                                column=column, value=cell)
            if column != "value" and number <= 0:
                raise src.error(f"{number:g} is not a positive size; sizes must be > 0, fix or drop "
                                "that row", row=int(row), column=column, value=cell)
            values.append(number)
        frame[column] = np.asarray(values, dtype=float)
    frame["datastore_tokens"] = _datastore_column(Table(frame, src.path, src.renamed))
    frame["model"] = frame["model"].astype(str).str.strip()
    frame["metric"] = frame["metric"].astype(str).str.strip()
    for column in ("model", "metric"):
        empty = np.flatnonzero(frame[column].to_numpy() == "")
        if empty.size:
            raise src.error("the cell is empty; name the reader model and the metric on every row",
                            row=int(frame.index[empty[0]]), column=column)
    kinds = _kind_of_rows(src, frame)
    metrics = {name: _metric(src, frame, name, kind) for name, kind in kinds.items()}
    frame["seed"] = frame["seed"].astype(str).str.strip() if "seed" in frame.columns else "0"
    frame["row"] = frame.index.to_numpy()
    frame["reader"] = _reader_labels(frame)
    keys = ["reader", "metric", "datastore_tokens"]
    frame["config"] = frame.groupby(keys, sort=False).ngroup()
    frame["weight"] = 1.0 / frame.groupby("config")["value"].transform("size")
    columns = ["row", "reader", "model", "params", "tokens", "datastore_tokens", "metric", "value", "seed",
               "config", "weight"]
    rows = frame[columns].reset_index(drop=True)
    grouped = rows.groupby("config", sort=True)
    points = grouped.agg(reader=("reader", "first"), model=("model", "first"), params=("params", "first"),
                         tokens=("tokens", "first"), datastore_tokens=("datastore_tokens", "first"),
                         metric=("metric", "first"), value=("value", "mean"),
                         sd=("value", lambda v: float(np.std(v, ddof=1)) if len(v) > 1 else 0.0),
                         n_seeds=("value", "size"), row=("row", "first")).reset_index()
    notes = [src.describe_mapping()] if src.renamed or src.notes else []
    several = int((points["n_seeds"] > 1).sum())
    if several:
        notes.append(f"averaged the seeds at {several} configuration{'s' if several > 1 else ''} "
                     f"(up to {points['n_seeds'].max()} seeds each)")
    return Measurements(rows, points, metrics, src, tuple(n for n in notes if n))


def _reader_labels(frame: pd.DataFrame) -> pd.Series:
    """``model``, or ``model@D`` (``model@N,D``) when one model name covers several readers."""
    labels = frame["model"].copy()
    for model, part in frame.groupby("model", sort=False):
        combos = part[["params", "tokens"]].drop_duplicates()
        if len(combos) == 1:
            continue
        if combos["params"].nunique() == 1:
            suffix = part["tokens"].map(tokens_label)
        else:
            suffix = part["params"].map(tokens_label) + "," + part["tokens"].map(tokens_label)
        labels.loc[part.index] = model + "@" + suffix
    return labels


def bootstrap_weights(rows: pd.DataFrame, replicates: int, seed: int) -> np.ndarray:
    """Replicate row weights (replicates, rows) of a two-stage bootstrap.

    The configurations (``config``) are resampled with replacement, then the seeds of every drawn
    configuration are resampled with replacement: the intervals carry both the scatter of the
    averaged points about the law and the seed-to-seed spread.  A configuration with one row is
    simply drawn or not.  Multiplied by ``rows["weight"]`` (1 / seeds), a configuration drawn k
    times weighs k.

    Examples
    --------
    >>> rows = pd.DataFrame({"config": [0, 0, 0, 1]})
    >>> w = bootstrap_weights(rows, 4, seed=0)
    >>> w.shape, bool(((w[:, :3].sum(axis=1) / 3 + w[:, 3]) == 2).all())
    ((4, 4), True)
    """
    rng = np.random.default_rng(seed)
    config = rows["config"].to_numpy()
    ids, inverse = np.unique(config, return_inverse=True)
    drawn = rng.multinomial(ids.size, np.full(ids.size, 1.0 / ids.size), size=replicates)
    weights = np.zeros((replicates, config.size))
    for j in range(ids.size):
        members = np.flatnonzero(inverse == j)
        weights[:, members] = rng.multinomial(drawn[:, j] * members.size,
                                              np.full(members.size, 1.0 / members.size))
    return weights
