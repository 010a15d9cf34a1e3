"""Reading model-ladder logs: the OLMo ladder layout and a tidy checkpoint table.

Both readers return :class:`LadderLogs`, one row per evaluated checkpoint with the columns
``run, mode, params, tokens, task_loss, accuracy`` (``mode`` is ``train`` for ladder runs and
``target`` for the models to predict), in checkpoint order within each run.

* **OLMo ladder** (``format="olmo-ladder"`` of :func:`read_ladder`, the layout of ``allenai/OLMo-ladder``'s
  ``src/scripts/paper``): a folder with ``final.json`` (per model size: ``paths`` of W&B exports,
  ``mode`` train or eval, ``n`` = non-embedding parameters) and the CSV exports.  Tokens are
  ``throughput/total_tokens`` (or ``_step * batch_size_in_tokens``).  The task loss is the
  ranked-classification bits per byte ``eval/downstream_bpb/<task>_rc_5shot_bpb`` (or, with
  ``intermediate="c4"``, the C4 validation loss), the accuracy
  ``eval/downstream/<task>_rc_5shot_len_norm`` (``_acc`` for BoolQ).  MMLU is the average of its
  four subject groups weighted stem 0.215, humanities 0.335, social sciences 0.219, other 0.231.
* **Tidy** (``format="tidy"``): a table with ``run, params, tokens, task_loss, accuracy`` and
  optional ``mode`` (train or target) and ``task``.

Examples
--------
>>> resolve_task("mmlu").name, resolve_task("arc_challenge").name
('mmlu_avg_test', 'arc_challenge_test')
>>> resolve_task("mmlu").weights
(0.215, 0.335, 0.219, 0.231)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from scalelaw.errors import InputError
from scalelaw.io import Table, read_table
from scalelaw.io.shape import parse_json
from scalelaw.io.text import read_text

MMLU_GROUPS = (("stem", 0.215), ("humanities", 0.335), ("social_sciences", 0.219), ("other", 0.231))
#: Short names -> the split the OLMo ladder paper predicts.
TASK_ALIASES = {
    "mmlu": "mmlu_avg_test", "hellaswag": "hellaswag_val", "arc_challenge": "arc_challenge_test",
    "arc_easy": "arc_easy_test", "piqa": "piqa_val", "csqa": "csqa_val", "socialiqa": "socialiqa_val",
    "openbookqa": "openbookqa_test", "boolq": "boolq_val", "winogrande": "winogrande_val",
}
#: The paper's eight tasks (its "v2_main" set), in its order.
MAIN_TASKS = ("mmlu_avg_test", "hellaswag_val", "arc_challenge_test", "arc_easy_test", "piqa_val",
              "csqa_val", "socialiqa_val", "openbookqa_test")
#: Chance accuracy of the tasks that are not 4-way (the default is 0.25).
CHANCE = {"piqa": 0.5, "socialiqa": 1 / 3, "csqa": 0.2, "boolq": 0.5, "winogrande": 0.5}
DISPLAY = {"mmlu": "MMLU", "hellaswag": "HellaSwag", "arc_challenge": "ARC-Challenge", "arc_easy": "ARC-Easy",
           "piqa": "PIQA", "csqa": "CommonsenseQA", "socialiqa": "Social IQa", "openbookqa": "OpenBookQA",
           "boolq": "BoolQ", "winogrande": "Winogrande"}
C4_LOSS = "eval/c4_en-validation/CrossEntropyLoss"
INTERMEDIATES = ("task-loss", "c4")
FORMATS = ("olmo-ladder", "tidy")


@dataclass(frozen=True)
class LadderTask:
    """A task of the OLMo ladder: its log columns, their weights and its chance accuracy."""

    name: str
    loss_keys: tuple[str, ...]
    accuracy_keys: tuple[str, ...]
    weights: tuple[float, ...]
    chance: float
    display: str


def resolve_task(name: str) -> LadderTask:
    """The :class:`LadderTask` for ``mmlu``, ``arc_challenge``, ``hellaswag_val``, ... (a trailing
    ``_5shot`` is accepted).  Any ``<key>`` with ``<key>_rc_5shot_*`` columns is a task."""
    key = name.strip().lower().removesuffix("_5shot")
    key = TASK_ALIASES.get(key, key)
    base = key.removesuffix("_val").removesuffix("_test")
    if base == "mmlu_avg":
        split = key.rsplit("_", 1)[-1]
        groups = [g for g, _ in MMLU_GROUPS]
        return LadderTask(key, tuple(f"eval/downstream_bpb/mmlu_{g}_{split}_rc_5shot_bpb" for g in groups),
                          tuple(f"eval/downstream/mmlu_{g}_{split}_rc_5shot_len_norm" for g in groups),
                          tuple(w for _, w in MMLU_GROUPS), 0.25, "MMLU")
    metric = "acc" if base == "boolq" else "len_norm"
    return LadderTask(key, (f"eval/downstream_bpb/{key}_rc_5shot_bpb",),
                      (f"eval/downstream/{key}_rc_5shot_{metric}",), (1.0,), CHANCE.get(base, 0.25),
                      DISPLAY.get(base, base))


@dataclass(frozen=True)
class LadderLogs:
    """Checkpoint logs of a ladder for one task.

    Attributes
    ----------
    frame
        One row per checkpoint: ``run, mode, params, tokens, task_loss, accuracy`` (and the
        source ``file`` and ``row``), in checkpoint order within each run.
    path
        What was read.
    task
        The task name, and ``loss_name``: what the task loss is (units).
    format
        The layout that was read (``olmo-ladder`` or ``tidy``).
    """

    frame: pd.DataFrame
    path: str
    task: str
    loss_name: str = "task loss (bits per byte)"
    chance: float = 0.25
    notes: tuple[str, ...] = field(default_factory=tuple)
    format: str = "tidy"

    @property
    def train(self) -> pd.DataFrame:
        return self.frame[self.frame["mode"] == "train"]

    @property
    def targets(self) -> pd.DataFrame:
        return self.frame[self.frame["mode"] == "target"]

    def error(self, message: str) -> InputError:
        return InputError(message, path=self.path)


def read_ladder(path: str | Path, task: str, *, format: str = "olmo-ladder",
                intermediate: str = "task-loss") -> LadderLogs:
    """Read ladder logs of one task in either layout (``format``: ``olmo-ladder`` or ``tidy``)."""
    if format == "olmo-ladder":
        return read_olmo_ladder(path, task, intermediate=intermediate)
    if format == "tidy":
        if intermediate != "task-loss":
            raise InputError("intermediate= applies to format='olmo-ladder'; a tidy table gives task_loss")
        return read_ladder_table(path, task)
    raise InputError(f"format={format!r} is not one of {', '.join(FORMATS)}")


# ------------------------------------------------------------------------------------- OLMo ladder
def read_olmo_ladder(path: str | Path, task: str, *, intermediate: str = "task-loss") -> LadderLogs:
    """Read an OLMo-ladder folder (``final.json`` and its W&B CSV exports) for one task.

    Parameters
    ----------
    path
        The folder holding ``final.json``, or ``final.json`` itself.
    task
        A task name (see :func:`resolve_task`).
    intermediate
        ``task-loss`` (bits per byte of the correct answer) or ``c4`` (C4 validation loss, nats
        per token).
    """
    if intermediate not in INTERMEDIATES:
        raise InputError(f"intermediate={intermediate!r} is not one of {', '.join(INTERMEDIATES)}")
    config_path = _config_path(Path(path))
    config = parse_json(read_text(config_path), str(config_path))
    if not isinstance(config, dict) or not config:
        raise InputError("expected an object of model sizes, each with 'paths', 'mode' and 'n'",
                         path=str(config_path))
    spec = resolve_task(task)
    loss_keys = (C4_LOSS,) if intermediate == "c4" else spec.loss_keys
    loss_weights = (1.0,) if intermediate == "c4" else spec.weights
    parts = []
    for size, entry in config.items():
        for key in ("paths", "mode", "n"):
            if not isinstance(entry, dict) or key not in entry:
                raise InputError(f"model size {size!r} lacks {key!r}; each entry needs 'paths', 'mode' "
                                 "(train or eval) and 'n' (non-embedding parameters)", path=str(config_path))
        mode = {"train": "train", "eval": "target"}.get(str(entry["mode"]))
        if mode is None:
            raise InputError(f"model size {size!r} has mode {entry['mode']!r}; use 'train' or 'eval'",
                             path=str(config_path))
        for item in entry["paths"]:
            csv = _resolve(config_path.parent, str(item), config_path)
            table = read_table(csv, rename=False)
            parts.append(_olmo_rows(table, spec, loss_keys, loss_weights, run=_run_name(size, csv),
                                    mode=mode, params=float(entry["n"])))
    frame = pd.concat(parts, ignore_index=True)
    loss_name = "C4 loss (nats per token)" if intermediate == "c4" else "task loss (bits per byte)"
    return LadderLogs(frame, str(config_path), spec.name, loss_name, spec.chance, format="olmo-ladder")


def _config_path(path: Path) -> Path:
    if not path.exists():
        raise InputError("no such file or folder; give the folder with final.json", path=str(path))
    if path.is_dir():
        candidate = path / "final.json"
        if not candidate.is_file():
            raise InputError("has no final.json; an OLMo-ladder folder has final.json (model sizes and "
                             "their CSV paths) beside the CSVs", path=str(path))
        return candidate
    return path


def _resolve(base: Path, item: str, config_path: Path) -> Path:
    name = Path(item).name
    for candidate in (base / item, base / "ladder-runs" / name, base / name):
        if candidate.is_file():
            return candidate
    raise InputError(f"lists {item!r}, which is neither there nor in ladder-runs/ beside final.json",
                     path=str(config_path))


def _run_name(size: str, csv: Path) -> str:
    stem = csv.stem
    multiple = stem.split("-", 1)[1] if "-" in stem and stem.split("-", 1)[1].endswith("xC") else ""
    return f"{size}-{multiple}" if multiple else size


def _olmo_rows(table: Table, spec: LadderTask, loss_keys, loss_weights, *, run: str, mode: str,
               params: float) -> pd.DataFrame:
    frame = table.frame
    needed = [*loss_keys, *spec.accuracy_keys]
    missing = [k for k in needed if k not in frame.columns]
    if missing:
        raise table.error(f"has no column {missing[0]!r} for task {spec.name!r}; check the task name "
                          "(e.g. mmlu, arc_challenge, hellaswag)")
    if "throughput/total_tokens" in frame.columns:
        tokens = _column(table, "throughput/total_tokens")
    elif "_step" in frame.columns and "batch_size_in_tokens" in frame.columns:
        tokens = _column(table, "_step") * _column(table, "batch_size_in_tokens")
    else:
        raise table.error("needs 'throughput/total_tokens', or '_step' and 'batch_size_in_tokens', for "
                          "the tokens seen")
    loss = np.average(np.column_stack([_column(table, k) for k in loss_keys]), axis=1, weights=loss_weights)
    accuracy = np.average(np.column_stack([_column(table, k) for k in spec.accuracy_keys]), axis=1,
                          weights=spec.weights)
    return pd.DataFrame({"run": run, "mode": mode, "params": params, "tokens": tokens, "task_loss": loss,
                         "accuracy": accuracy, "file": table.path, "row": frame.index.to_numpy()})


def _column(table: Table, name: str) -> np.ndarray:
    values = pd.to_numeric(table.frame[name], errors="coerce").to_numpy(dtype=float)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise table.error(f"{table.frame[name].iloc[bad[0]]!r} is not a finite number; fix or drop that "
                          "row", row=int(table.frame.index[bad[0]]), column=name)
    return values


# ------------------------------------------------------------------------------------------- tidy
def read_ladder_table(path: str | Path, task: str | None = None) -> LadderLogs:
    """Read a tidy checkpoint table: ``run, params, tokens, task_loss, accuracy`` [``mode``, ``task``].

    ``mode`` is ``train`` (fitted) or ``target`` (predicted and compared); without it every run
    is fitted.  With a ``task`` column, ``task`` selects the rows.
    """
    table = read_table(path, required=["run", "params", "tokens", "task_loss", "accuracy"],
                       numeric=["params", "tokens", "task_loss", "accuracy"], positive=["params", "tokens"])
    frame = table.frame
    notes = []
    if "task" in frame.columns:
        if task is None:
            names = sorted(frame["task"].astype(str).unique())
            if len(names) > 1:
                raise table.error(f"holds several tasks ({', '.join(names)}); choose one with task=")
            task = names[0]
        frame = frame[frame["task"].astype(str) == task]
        if frame.empty:
            raise table.error(f"has no rows of task {task!r}")
    if "mode" in frame.columns:
        mode = frame["mode"].astype(str).str.strip().str.lower().replace({"eval": "target"})
        bad = ~mode.isin(["train", "target"])
        if bad.any():
            row = int(frame.index[np.flatnonzero(bad.to_numpy())[0]])
            raise table.error(f"mode {frame.loc[row, 'mode']!r} is not train or target", row=row,
                              column="mode")
    else:
        mode = pd.Series("train", index=frame.index)
        notes.append("no 'mode' column: every run is fitted")
    bad = np.flatnonzero(frame["task_loss"].to_numpy() <= 0)
    if bad.size:
        raise table.error("a task loss must be > 0", row=int(frame.index[bad[0]]), column="task_loss")
    out = pd.DataFrame({"run": frame["run"].astype(str), "mode": mode, "params": frame["params"],
                        "tokens": frame["tokens"], "task_loss": frame["task_loss"],
                        "accuracy": frame["accuracy"], "file": table.path, "row": frame.index.to_numpy()})
    base = (task or "").removesuffix("_val").removesuffix("_test")
    return LadderLogs(out.reset_index(drop=True), table.path, task or "task", chance=CHANCE.get(base, 0.25),
                      notes=tuple(notes))
