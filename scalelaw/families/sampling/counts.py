"""Reading sampling logs into the tidy per-problem count table.

Two layouts are accepted:

* per problem: one row per (model, problem) with ``n_samples`` and ``n_correct`` (aliases
  ``num_samples``/``samples``, ``num_correct``/``correct``), and optionally the verifier counts
  ``n_accepted`` (samples the verifier passed) and ``n_accepted_correct`` (passed and correct);
* per sample: one row per sample with a 0/1 (or true/false) correctness column (``correct``,
  ``is_correct``, ``passed``, ``success``, ``solved``) and a problem column; rows are counted per
  (model, problem).  An ``accepted`` 0/1 column gives the verifier counts.

The tidy table has columns ``model``, ``problem``, ``n_samples``, ``n_correct`` (and the verifier
counts when given), one row per (model, problem), models in the order they first appear.  A file
without a ``model`` column is one model, named ``"all"``; a ``benchmark`` (or ``task``,
``dataset``) column with several values splits models into ``"model / benchmark"``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from scalelaw.io import Table, as_table, parse_quantity, read_table

PROBLEM_COLUMNS = ("problem", "problem_idx", "problem_id", "task_id", "question_id", "prompt_id",
                   "instance_id", "question_idx", "prompt_idx")
FLAG_COLUMNS = ("n_correct", "is_correct", "passed", "success", "solved")
BENCHMARK_COLUMNS = ("benchmark", "task", "dataset")
VERIFIER_ALIASES = {
    "n_accepted": ("n_accepted", "num_accepted", "n_verifier_pass", "n_verified"),
    "n_accepted_correct": ("n_accepted_correct", "num_accepted_correct", "n_verifier_pass_and_correct"),
}
ACCEPT_FLAGS = ("accepted", "verified", "verifier_pass")
_TRUE = {"1", "1.0", "true", "yes", "t", "y"}
_FALSE = {"0", "0.0", "false", "no", "f", "n"}


def read_counts(path: str | Path, *, columns: Mapping[str, str] | None = None, sheet: str | int | None = None,
                where: Mapping[str, object] | Iterable[str] | str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Read a sampling log (either layout) into the tidy count table; returns it and notes.

    ``n`` and ``c`` (and ``num_samples``, ``num_correct``) are the sample and correct counts here;
    ``columns`` maps roles to the file's columns (``{"n_samples": "draws"}``), ``sheet`` chooses an
    Excel sheet and ``where`` keeps the rows its filters pass.
    """
    table = read_table(path, columns=columns, sheet=sheet, where=where, family="sampling")
    return prepare(table)


def prepare(table: Table | pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The tidy per-problem count table from a read file (see the module docstring)."""
    src = as_table(table)
    frame = src.frame
    notes: list[str] = [src.describe_mapping()] if src.describe_mapping() else []
    problem = next((c for c in PROBLEM_COLUMNS if c in frame.columns), None)
    groups = _group_labels(frame)
    if "n_samples" in frame.columns:
        tidy = _per_problem(src, problem, groups)
    else:
        flag = next((c for c in FLAG_COLUMNS if c in frame.columns), None)
        if flag is None:
            raise src.error("needs 'n_samples' and 'n_correct' columns (one row per problem) or a 0/1 "
                            "'correct' column (one row per sample); the file has "
                            f"{', '.join(map(repr, frame.columns))}")
        if problem is None:
            raise src.error(f"one row per sample (no 'n_samples' column) needs a problem column such as "
                            f"{', '.join(map(repr, PROBLEM_COLUMNS[:3]))} to count samples per problem")
        tidy = _per_sample(src, flag, problem, groups)
        notes.append(f"one row per sample: counted {len(frame)} samples into {len(tidy)} problems")
    return tidy.reset_index(drop=True), notes


def _group_labels(frame: pd.DataFrame) -> pd.Series:
    if "model" in frame.columns:
        label = frame["model"].astype(str).str.strip()
    else:
        label = pd.Series("all", frame.index)
    for column in BENCHMARK_COLUMNS:
        if column in frame.columns and frame[column].nunique() > 1:
            label = label + " / " + frame[column].astype(str).str.strip()
    return label


def _whole(src: Table, column: str) -> np.ndarray:
    """A column of counts: whole numbers >= 0, each bad cell named by row and column."""
    out = np.empty(len(src.frame))
    for i, (row, cell) in enumerate(src.frame[column].items()):
        text = str(cell).strip()
        if text == "" or (isinstance(cell, float) and math.isnan(cell)):
            raise src.error("the cell is empty; fill it or drop the row", row=int(row), column=column)
        try:
            value = parse_quantity(cell)
        except ValueError as err:
            raise src.error(f"{err}", row=int(row), column=column, value=cell) from err
        if not math.isfinite(value) or value < 0 or value != round(value):
            raise src.error(f"{text} is not a count; counts are whole numbers >= 0", row=int(row),
                            column=column, value=cell)
        out[i] = value
    return out.astype(np.int64)


def _flags(src: Table, column: str) -> np.ndarray:
    values = src.frame[column].astype(str).str.strip().str.lower()
    bad = ~values.isin(_TRUE | _FALSE)
    if bad.any():
        row = int(src.frame.index[np.flatnonzero(bad.to_numpy())[0]])
        raise src.error(f"{src.frame.loc[row, column]!r} is not 0/1 or true/false; one row per sample needs "
                        "a 0/1 correctness flag", row=row, column=column)
    return values.isin(_TRUE).to_numpy().astype(np.int64)


def _check_order(src: Table, small: str, large: str, a: np.ndarray, b: np.ndarray, what: str) -> None:
    bad = np.flatnonzero(a > b)
    if bad.size:
        row = int(src.frame.index[bad[0]])
        raise src.error(f"{small} = {a[bad[0]]} exceeds {large} = {b[bad[0]]}; {what}",
                        row=row, column=small, value=int(a[bad[0]]))


def _per_problem(src: Table, problem: str | None, groups: pd.Series) -> pd.DataFrame:
    frame = src.frame
    if "n_correct" not in frame.columns:
        raise src.error(f"missing column 'n_correct' (or 'num_correct', 'correct'); the file has "
                        f"{', '.join(map(repr, frame.columns))}")
    n = _whole(src, "n_samples")
    c = _whole(src, "n_correct")
    zero = np.flatnonzero(n < 1)
    if zero.size:
        raise src.error("a problem needs at least 1 sample; fix or drop that row",
                        row=int(frame.index[zero[0]]), column="n_samples", value=0)
    _check_order(src, "n_correct", "n_samples", c, n,
                 "a problem cannot have more correct samples than samples")
    tidy = pd.DataFrame({"model": groups.to_numpy(),
                         "problem": (frame[problem].astype(str).str.strip().to_numpy() if problem
                                     else frame.index.astype(str).to_numpy()),
                         "n_samples": n, "n_correct": c})
    verifier = {canon: next((a for a in aliases if a in frame.columns), None)
                for canon, aliases in VERIFIER_ALIASES.items()}
    if all(verifier.values()):
        acc, acc_c = _whole(src, verifier["n_accepted"]), _whole(src, verifier["n_accepted_correct"])
        _check_order(src, verifier["n_accepted"], "n_samples", acc, n,
                     "the verifier cannot pass more samples than were drawn")
        _check_order(src, verifier["n_accepted_correct"], verifier["n_accepted"], acc_c, acc,
                     "accepted-and-correct samples are a part of the accepted ones")
        _check_order(src, verifier["n_accepted_correct"], "n_correct", acc_c, c,
                     "accepted-and-correct samples are a part of the correct ones")
        tidy["n_accepted"], tidy["n_accepted_correct"] = acc, acc_c
    elif any(verifier.values()):
        given = next(v for v in verifier.values() if v)
        raise src.error(f"column {given!r} needs its partner: verifier counts are 'n_accepted' and "
                        "'n_accepted_correct' together")
    duplicated = tidy.duplicated(["model", "problem"], keep="first").to_numpy()
    if problem is not None and duplicated.any():
        i = int(np.flatnonzero(duplicated)[0])
        first = int(np.flatnonzero((tidy["model"] == tidy["model"].iloc[i]).to_numpy()
                                   & (tidy["problem"] == tidy["problem"].iloc[i]).to_numpy())[0])
        raise src.error(f"problem {tidy['problem'].iloc[i]!r} of model {tidy['model'].iloc[i]!r} appears "
                        f"again (first at row {frame.index[first]}); merge the counts into one row",
                        row=int(frame.index[i]), column=problem)
    return tidy


def _per_sample(src: Table, flag: str, problem: str, groups: pd.Series) -> pd.DataFrame:
    frame = src.frame
    correct = _flags(src, flag)
    data = {"model": groups.to_numpy(), "problem": frame[problem].astype(str).str.strip().to_numpy(),
            "n_samples": np.ones(len(frame), dtype=np.int64), "n_correct": correct}
    accept = next((c for c in ACCEPT_FLAGS if c in frame.columns), None)
    if accept is not None:
        accepted = _flags(src, accept)
        data["n_accepted"] = accepted
        data["n_accepted_correct"] = accepted * correct
    tidy = pd.DataFrame(data).groupby(["model", "problem"], sort=False, as_index=False).sum()
    return tidy
