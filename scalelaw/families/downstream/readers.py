"""Reading per-choice log-likelihoods: a tidy table, lm-evaluation-harness samples, or a manifest.

Three layouts give the same tidy frame, one row per (model, question, choice), with the columns
``model, family, flops, question, choice, logprob, is_correct`` and, when choice lengths are known,
``length`` (characters, for the length-normalised accuracy):

* a **tidy table** (CSV, TSV, JSON or JSON lines): ``model, question, choice, logprob, is_correct``
  and ``flops`` or ``params`` and ``tokens`` (FLOPs = 6 N D); optional ``family``, ``task``,
  ``length``.  ``logprob`` is the summed log-likelihood (nats) of the choice's continuation.
* an **lm-evaluation-harness samples file** (JSON lines written with the harness's ``log_samples``
  option): one line per question with ``doc_id``, ``target`` (the index of the correct choice,
  or its text) and ``filtered_resps`` holding ``[loglikelihood, is_greedy]`` per choice.  One
  file is one model; its compute is given by the caller.
* a **manifest** table with a ``path`` column: one row per (model, samples file) with ``model``,
  ``flops`` or ``params`` and ``tokens``, optional ``family`` and ``task``; paths are relative to
  the manifest.

Every reader checks what the chain needs and names the file, row and column of a problem: a
question with no correct choice or several, a log-likelihood that is positive or not finite, a
model whose compute differs between rows, a repeated choice.

Examples
--------
>>> parse_bool("True"), parse_bool("0"), parse_bool(1.0)
(True, False, True)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from scalelaw.errors import InputError
from scalelaw.io import Table, read_table
from scalelaw.io.shape import parse_json
from scalelaw.io.text import check_file, read_text

#: Chain columns -> accepted aliases (compared exactly, after the shared aliases are mapped).
CHOICE_ALIASES: dict[str, tuple[str, ...]] = {
    "question": ("question_id", "doc_id", "item", "sample"),
    "choice": ("choice_id", "choice_index", "option"),
    "logprob": ("loglikelihood", "log_likelihood", "loglik", "log_prob", "ll"),
    "is_correct": ("is_target", "label", "gold"),
    "length": ("n_chars", "choice_length", "continuation_length"),
}
_TRUE = {"1", "1.0", "true", "yes", "t", "y"}
_FALSE = {"0", "0.0", "false", "no", "f", "n"}


def parse_bool(value) -> bool:
    """A truth value from ``True``/``False``, ``1``/``0``, ``yes``/``no`` (any case).

    Raises
    ------
    ValueError
        When the value is none of these.
    """
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{value!r} is not true/false or 1/0")


@dataclass(frozen=True)
class Choices:
    """Per-choice log-likelihoods of several models, checked and tidy.

    Attributes
    ----------
    frame
        One row per (model, question, choice): ``model, family, flops, question, choice,
        logprob, is_correct`` and optionally ``length``; ``source`` and ``row`` say where each
        row came from.
    path
        The file that was read.
    notes
        What was derived or assumed (e.g. FLOPs = 6 N D, one family for all models).
    """

    frame: pd.DataFrame
    path: str
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def has_length(self) -> bool:
        return "length" in self.frame.columns


# ------------------------------------------------------------------------------------- entry point
def read_choices(
    path: str | Path,
    *,
    family_column: str = "family",
    model: str | None = None,
    flops: float | None = None,
    params: float | None = None,
    tokens: float | None = None,
    family: str | None = None,
) -> Choices:
    """Read per-choice log-likelihoods from a tidy table, a harness samples file or a manifest.

    Parameters
    ----------
    path
        The file.  A ``.jsonl`` whose first line has ``filtered_resps`` is a harness samples file;
        a table with a ``path`` column is a manifest; anything else is a tidy table.
    family_column
        The column that names each model's family (correlations are taken within a family).
    model, flops, params, tokens, family
        For a single harness samples file: the model's name (default: the file name), its
        training compute in FLOPs (or N parameters and D tokens, FLOPs = 6 N D) and family.

    Raises
    ------
    InputError
        Naming the file, row and column of the first problem.
    """
    p = Path(path)
    check_file(p, folder="give a tidy table, a samples .jsonl or a manifest")
    if _is_harness_file(p):
        compute = _compute_from_options(str(p), flops, params, tokens)
        frame = read_harness_samples(p, model=model or p.stem, flops=compute, family=family or "all")
        notes = [] if family else ["one family for the model (give family= to name it)"]
        return _finish(frame, str(p), notes)
    table = _rename_choice_columns(read_table(p, rename=True))
    if "path" in table.frame.columns:
        return _read_manifest(table, family_column)
    return _read_tidy(table, family_column)


def _is_harness_file(path: Path) -> bool:
    if path.suffix.lower() not in (".jsonl", ".ndjson"):
        return False
    for number, line in enumerate(read_text(path, first_row=1).split("\n"), start=1):
        if line.strip():
            first = parse_json(line, str(path), row=1, line=number)
            return isinstance(first, dict) and "filtered_resps" in first
    raise InputError("the file is empty; it needs one JSON object per line", path=str(path))


def _compute_from_options(source: str, flops, params, tokens) -> float:
    if flops is not None:
        return float(flops)
    if params is not None and tokens is not None:
        return 6.0 * float(params) * float(tokens)
    raise InputError("a samples file holds one model: give its compute with flops=, or params= and "
                     "tokens= (FLOPs = 6 N D)", path=source)


def _rename_choice_columns(table: Table) -> Table:
    taken = set(table.frame.columns)
    renamed: dict[str, str] = {}
    for canon, aliases in CHOICE_ALIASES.items():
        found = [a for a in aliases if a in taken]
        if canon not in taken and found:
            renamed[found[0]] = canon
    return Table(table.frame.rename(columns=renamed), table.path, {**table.renamed, **renamed})


# ------------------------------------------------------------------------------------- tidy table
def _read_tidy(table: Table, family_column: str) -> Choices:
    frame = table.frame
    for column in ("model", "question", "choice", "logprob", "is_correct"):
        if column not in frame.columns:
            aliases = ", ".join(repr(a) for a in CHOICE_ALIASES.get(column, ()))
            raise table.error(f"missing column {column!r}{f' (or {aliases})' if aliases else ''}; a tidy "
                              "choice table has model, question, choice, logprob, is_correct and flops "
                              f"(or params and tokens); the file has {', '.join(map(repr, frame.columns))}")
    notes: list[str] = []
    out = pd.DataFrame({"model": frame["model"].astype(str)}, index=frame.index)
    out["flops"] = _model_compute(table, notes)
    if family_column in frame.columns:
        out["family"] = frame[family_column].astype(str)
    else:
        out["family"] = "all"
        notes.append(f"no {family_column!r} column: all models form one family")
    question = frame["question"].astype(str)
    out["question"] = frame["task"].astype(str) + "/" + question if "task" in frame.columns else question
    out["choice"] = frame["choice"].astype(str)
    out["logprob"] = _numbers(table, "logprob")
    out["is_correct"] = _flags(table, "is_correct")
    if "length" in frame.columns:
        out["length"] = _numbers(table, "length")
        bad = np.flatnonzero(~(out["length"].to_numpy() > 0) | ~np.isfinite(out["length"].to_numpy()))
        if bad.size:
            raise table.error("a choice length must be a positive number of characters",
                              row=int(out.index[bad[0]]),
                              column="length")
    out["source"] = table.path
    out["row"] = out.index.to_numpy()
    return _finish(out, table.path, notes)


def _numbers(table: Table, column: str) -> pd.Series:
    """Floats of a column ('nan' and 'inf' parse; the checks that follow say why they are wrong)."""
    out = []
    for row, cell in table.frame[column].items():
        try:
            out.append(float(str(cell).strip()))
        except ValueError as err:
            raise table.error(f"{cell!r} is not a number; fix or drop that row", row=int(row),
                              column=column) from err
    return pd.Series(out, index=table.frame.index, dtype=float)


def _flags(table: Table, column: str) -> pd.Series:
    out = []
    for row, cell in table.frame[column].items():
        try:
            out.append(parse_bool(cell))
        except ValueError as err:
            raise table.error(f"{err}; mark the correct choice with 1 or true", row=int(row),
                              column=column) from err
    return pd.Series(out, index=table.frame.index, dtype=bool)


def _model_compute(table: Table, notes: list[str]) -> pd.Series:
    """FLOPs per row (flops, or 6 params tokens), checked positive and constant within a model."""
    frame = table.frame
    if "flops" in frame.columns:
        flops = _numbers(table, "flops")
    elif "params" in frame.columns and "tokens" in frame.columns:
        flops = 6.0 * _numbers(table, "params") * _numbers(table, "tokens")
        notes.append("compute = 6 params tokens")
    else:
        raise table.error("needs each model's compute: a 'flops' column, or 'params' and 'tokens' "
                          f"(FLOPs = 6 N D); the file has {', '.join(map(repr, frame.columns))}")
    bad = np.flatnonzero(~(np.isfinite(flops.to_numpy()) & (flops.to_numpy() > 0)))
    if bad.size:
        column = "flops" if "flops" in frame.columns else "params"
        raise table.error(f"compute must be a positive number of FLOPs, got {flops.iloc[bad[0]]:g}",
                          row=int(frame.index[bad[0]]), column=column)
    spread = flops.groupby(frame["model"].astype(str)).agg(["min", "max"])
    uneven = spread[~np.isclose(spread["min"], spread["max"], rtol=1e-9)]
    if len(uneven):
        name = uneven.index[0]
        row = int(frame.index[np.flatnonzero((frame["model"].astype(str) == name).to_numpy())[0]])
        raise table.error(f"model {name!r} has different compute in different rows "
                          f"({uneven['min'].iloc[0]:g} and {uneven['max'].iloc[0]:g} FLOPs); one model "
                          "(checkpoint) has one compute: name checkpoints apart", row=row)
    return flops


# ---------------------------------------------------------------------------- harness samples file
def read_harness_samples(path: str | Path, *, model: str, flops: float, family: str = "all") -> pd.DataFrame:
    """The tidy choice rows of one lm-evaluation-harness samples file (its ``log_samples`` output).

    The correct choice is ``target`` when it is an index (an integer or a digit string), or the
    choice whose continuation text equals ``target`` when the request ``arguments`` are logged.
    A question logged under several filters is read once (its first filter).
    """
    p = Path(path)
    rows = []
    seen: dict[str, object] = {}
    for line_number, line in enumerate(read_text(check_file(p, empty="it needs one JSON object per line"),
                                                 first_row=1).split("\n"), start=1):
        if not line.strip():
            continue
        sample = parse_json(line, str(p), row=line_number)
        if not isinstance(sample, dict) or "filtered_resps" not in sample or "doc_id" not in sample:
            raise InputError("a samples line needs 'doc_id', 'target' and 'filtered_resps'", path=str(p),
                             row=line_number)
        doc = str(sample["doc_id"])
        key = sample.get("filter")
        if doc in seen:
            if seen[doc] != key:
                continue
            raise InputError(f"doc_id {doc} appears twice; one line per question", path=str(p),
                             row=line_number, column="doc_id")
        seen[doc] = key
        logprobs = _harness_logprobs(sample["filtered_resps"], str(p), line_number)
        continuations = _continuations(sample.get("arguments"), len(logprobs))
        target = _target_index(sample.get("target"), continuations, len(logprobs), str(p), line_number)
        for i, value in enumerate(logprobs):
            row = {"model": model, "family": family, "flops": float(flops), "question": doc,
                   "choice": str(i), "logprob": value, "is_correct": i == target, "source": str(p),
                   "row": line_number}
            if continuations is not None:
                row["length"] = float(max(len(continuations[i]), 1))
            rows.append(row)
    if not rows:
        raise InputError("the file has no samples", path=str(p))
    frame = pd.DataFrame(rows)
    if "length" in frame.columns and frame["length"].isna().any():
        frame = frame.drop(columns="length")
    return frame


def _harness_logprobs(responses, source: str, line: int) -> list[float]:
    if not isinstance(responses, list) or not responses:
        raise InputError("'filtered_resps' must list [loglikelihood, is_greedy] per choice", path=source,
                         row=line, column="filtered_resps")
    out = []
    for item in responses:
        value = item[0] if isinstance(item, (list, tuple)) and item else item
        try:
            out.append(float(value))
        except (TypeError, ValueError) as err:
            raise InputError(f"{value!r} is not a log-likelihood; this reader takes multiple-choice "
                             "(loglikelihood) tasks", path=source, row=line, column="filtered_resps") from err
    return out


def _continuations(arguments, n: int) -> list[str] | None:
    """The continuation text of each choice from the logged request arguments, when present."""
    if isinstance(arguments, Mapping):
        arguments = [arguments[k] for k in sorted(arguments, key=lambda k: int(str(k).rsplit("_", 1)[-1])
                                                  if str(k).rsplit("_", 1)[-1].isdigit() else 0)]
    if not isinstance(arguments, list) or len(arguments) != n:
        return None
    out = []
    for arg in arguments:
        if isinstance(arg, Mapping) and "arg_1" in arg:
            out.append(str(arg["arg_1"]))
        elif isinstance(arg, (list, tuple)) and len(arg) >= 2:
            out.append(str(arg[1]))
        else:
            return None
    return out


def _target_index(target, continuations: list[str] | None, n: int, source: str, line: int) -> int:
    if isinstance(target, bool):
        target = None
    if isinstance(target, (int, float)) and float(target).is_integer():
        index = int(target)
    elif isinstance(target, str) and target.strip().lstrip("-").isdigit():
        index = int(target.strip())
    elif isinstance(target, str) and continuations is not None:
        matches = [i for i, c in enumerate(continuations) if c.strip() == target.strip()]
        if len(matches) != 1:
            raise InputError(f"target {target!r} matches {len(matches)} of the logged continuations; "
                             "a question needs exactly one correct choice", path=source, row=line,
                             column="target")
        index = matches[0]
    else:
        raise InputError(f"target {target!r} is not a choice index; give the index of the correct choice",
                         path=source, row=line, column="target")
    if not 0 <= index < n:
        raise InputError(f"target {index} is not one of the {n} choices (0..{n - 1}); a question needs "
                         "exactly one correct choice", path=source, row=line, column="target")
    return index


# ------------------------------------------------------------------------------------------ manifest
def _read_manifest(table: Table, family_column: str) -> Choices:
    frame = table.frame
    if "model" not in frame.columns:
        raise table.error("a manifest needs a 'model' column next to 'path'")
    notes: list[str] = []
    compute = _model_compute(table, notes)
    base = Path(table.path).parent
    parts = []
    for row, record in frame.iterrows():
        sample_path = base / str(record["path"]).strip()
        if not sample_path.is_file():
            raise table.error(f"{sample_path} does not exist; paths are relative to the manifest",
                              row=int(row), column="path")
        fam = str(record[family_column]) if family_column in frame.columns else "all"
        part = read_harness_samples(sample_path, model=str(record["model"]), flops=float(compute.loc[row]),
                                    family=fam)
        if "task" in frame.columns:
            part["question"] = str(record["task"]) + "/" + part["question"]
        parts.append(part)
    if family_column not in frame.columns:
        notes.append(f"no {family_column!r} column: all models form one family")
    merged = pd.concat(parts, ignore_index=True)
    if "length" in merged.columns and merged["length"].isna().any():
        merged = merged.drop(columns="length")
    return _finish(merged, table.path, notes)


# ------------------------------------------------------------------------------------------ checks
def _finish(frame: pd.DataFrame, path: str, notes: list[str]) -> Choices:
    check_choices(frame)
    frame = frame.reset_index(drop=True)
    return Choices(frame, path, tuple(notes))


def _where(frame: pd.DataFrame, position: int, message: str, column: str | None = None) -> InputError:
    source = str(frame["source"].iloc[position]) if "source" in frame.columns else "table"
    row = int(frame["row"].iloc[position]) if "row" in frame.columns else position + 1
    line = row + 1 if source.endswith((".csv", ".tsv", ".txt")) else None
    return InputError(message, path=source, row=row, column=column, line=line)


def check_choices(frame: pd.DataFrame) -> None:
    """Refuse log-likelihoods that are positive or not finite, repeated choices, and questions
    without exactly one correct choice (naming the file and row)."""
    logprob = frame["logprob"].to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(logprob))
    if bad.size:
        raise _where(frame, int(bad[0]), f"log-likelihood {logprob[bad[0]]} is not finite; a choice's "
                     "summed token log-probability is a finite number <= 0", "logprob")
    bad = np.flatnonzero(logprob > 0)
    if bad.size:
        raise _where(frame, int(bad[0]), f"log-likelihood {logprob[bad[0]]:g} is positive; log-probabilities "
                     "are <= 0 (give log p, not -log p or a probability)", "logprob")
    duplicated = frame.duplicated(["model", "question", "choice"]).to_numpy()
    if duplicated.any():
        i = int(np.flatnonzero(duplicated)[0])
        raise _where(frame, i, f"choice {frame['choice'].iloc[i]!r} of question "
                     f"{frame['question'].iloc[i]!r} appears twice for model {frame['model'].iloc[i]!r}; "
                     "one row per choice", "choice")
    counts = frame.groupby(["model", "question"], sort=False)["is_correct"].transform("sum").to_numpy()
    bad = np.flatnonzero(counts != 1)
    if bad.size:
        i = int(bad[0])
        found = "no correct choice" if counts[i] == 0 else f"{int(counts[i])} correct choices"
        raise _where(frame, i, f"question {frame['question'].iloc[i]!r} of model {frame['model'].iloc[i]!r} "
                     f"has {found}; mark exactly one choice as correct", "is_correct")
    sizes = frame.groupby(["model", "question"], sort=False)["choice"].transform("size").to_numpy()
    bad = np.flatnonzero(sizes < 2)
    if bad.size:
        i = int(bad[0])
        raise _where(frame, i, f"question {frame['question'].iloc[i]!r} of model {frame['model'].iloc[i]!r} "
                     "has a single choice; a multiple-choice question needs at least two", "choice")

