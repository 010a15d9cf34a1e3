"""Sweeps: one row per training run, grouped by (N, D) and configuration, diverged and near-optimal
runs marked.

A sweep is read from a CSV (or TSV/JSON) with one row per run: ``params`` (N), ``tokens`` (D,
or billions of tokens), ``lr``, ``batch_size`` (tokens, or sequences with a sequence length; see
:mod:`.units` for how the units are decided) and the final ``loss``; optionally a smoothed loss
(``smooth_loss`` or ``smooth loss``), configuration columns (:mod:`.configs`), a ``group`` id
and the architecture (``n_layers``, ``d_model``) for FLOPs that count attention.
Step Law's released ``dense_lr_bs_loss.csv`` is read with ``format="steplaw"``: its ``bs``
counts sequences of 2,048 tokens, ``loss`` is the raw and ``smooth loss`` the smoothed final
loss, ``numl`` and ``h`` the layers and width.

:func:`select` marks, per group, the diverged runs (non-finite loss, or loss above
``diverge_ratio`` times the group minimum or above ``max_loss``) and the near-optimal runs (relative
excess over the group minimum below ``band``, 0.25% by default, as Step Law and DeepSeek LLM), and
flags groups whose best run sits on the edge of the group's grid.

Examples
--------
>>> import pandas as pd
>>> runs = pd.DataFrame({"params": 1e8, "tokens": 2e9, "lr": [1e-3, 2e-3, 4e-3, 8e-3],
...                      "batch_size": 2**19, "loss": [3.010, 3.000, 3.005, 9.0]})
>>> sweep = select(tidy(runs))
>>> sweep.groups[["runs", "diverged", "near_optimal", "lr_best"]].to_dict("records")
[{'runs': 4, 'diverged': 1, 'near_optimal': 2, 'lr_best': 0.002}]
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from scalelaw.errors import FitError, InputError
from scalelaw.families.hyperparams import configs, units
from scalelaw.families.hyperparams.units import BATCH_UNITS, TOKEN_UNITS
from scalelaw.io import Table, coerce_numeric, filter_rows, parse_quantity, read_table
from scalelaw.io.text import peek, read_bytes

FORMATS = ("auto", "generic", "steplaw")
#: Sequence length of every run in Step Law's released sweeps (D = bs * iterations * 2048).
STEPLAW_SEQ_LEN = 2048
#: Step Law's released columns -> canonical columns of a sweep.
STEPLAW_COLUMNS = {
    "N": "params",
    "D": "tokens",
    "lr": "lr",
    "bs": "batch_sequences",
    "loss": "loss",
    "smooth loss": "smooth_loss",
    "numl": "n_layers",
    "h": "d_model",
}
_SMOOTH_NAMES = ("smoothloss", "smoothedloss", "losssmooth", "losssmoothed")
_LAYER_NAMES = ("nlayers", "numlayers", "numl", "layers", "nlayer")
_WIDTH_NAMES = ("dmodel", "hiddensize", "hidden", "width", "h")


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]+", "", str(name)).lower()


def short(x: float) -> str:
    """A number with a suffix: ``214663680`` -> ``'214.7M'``."""
    for suffix, scale in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if abs(x) >= scale:
            return f"{x / scale:.4g}{suffix}"
    return f"{x:.4g}"


def label(params: float, tokens: float) -> str:
    """A short group label such as ``'214.7M/100B'`` (N parameters / D tokens)."""
    return f"{short(params)}/{short(tokens)}"


# ----------------------------------------------------------------------------------------- reading
def _loss_values(table: Table, column: str) -> np.ndarray:
    """Loss cells as floats; ``nan``, ``inf`` and empty cells become NaN (a run with no final loss)."""
    out = np.empty(len(table.frame))
    for i, (row, cell) in enumerate(table.frame[column].items()):
        text = str(cell).strip()
        if text.lower() in ("", "nan", "inf", "+inf", "-inf", "infinity", "none", "null"):
            out[i] = np.nan
            continue
        try:
            out[i] = parse_quantity(text)
        except ValueError as err:
            raise table.error(
                f"{err}; write the final loss, or nan for a run that diverged",
                row=int(row),
                column=column,
                value=cell,
            ) from err
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(out), out, np.nan)


def _find(columns, names) -> str | None:
    for column in columns:
        if _key(column) in names:
            return column
    return None


def detect_format(path: str | Path) -> str:
    """``"steplaw"`` when the header is Step Law's released one (N, D, lr, bs, smooth loss, numl)."""
    try:
        first = peek(read_bytes(path, 4096)).split("\n")[0]
    except InputError:
        return "generic"
    header = {c.strip() for c in first.strip().split(",")}
    return "steplaw" if {"N", "D", "lr", "bs", "smooth loss", "numl"} <= header else "generic"


def read_sweep(
    path: str | Path,
    *,
    format: str = "auto",
    seq_len: float | None = None,
    batch_unit: str = "auto",
    tokens_unit: str = "auto",
    where: Mapping[str, str] | None = None,
) -> tuple[pd.DataFrame, Table, list[str]]:
    """Read a sweep into the tidy frame of :func:`tidy`; returns ``(frame, table, notes)``.

    Parameters
    ----------
    path
        The sweep file, one row per run.
    format
        ``"generic"`` (canonical columns and their aliases), ``"steplaw"`` (Step Law's released
        CSV) or ``"auto"`` (``"steplaw"`` when the header is Step Law's).
    seq_len
        Tokens per sequence; needed when the batch size counts sequences and the file has no
        ``seq_len`` column.  Step Law's sweeps use 2,048.
    batch_unit
        Unit of the generic batch column: ``"tokens"``, ``"sequences"`` or ``"auto"`` (from the
        column's name, else sequences when every value is below 1e4 and the sequence length is
        known; values below 1e4 without a sequence length stop the read, see :mod:`.units`).
    tokens_unit
        Unit of the generic token counts: ``"tokens"``, ``"billions"`` or ``"auto"`` (billions when
        the column's name says so, like ``tokens_b``; values all below 1e4 stop the read).
    where
        Keep the rows whose columns equal the given values (``{"condition": "c4"}``).
    """
    if format not in FORMATS:
        raise InputError(f"format={format!r} is not one of {', '.join(FORMATS)}")
    if batch_unit not in BATCH_UNITS:
        raise InputError(f"batch_unit={batch_unit!r} is not one of {', '.join(BATCH_UNITS)}")
    if tokens_unit not in TOKEN_UNITS:
        raise InputError(f"tokens_unit={tokens_unit!r} is not one of {', '.join(TOKEN_UNITS)}")
    notes: list[str] = []
    chosen = detect_format(path) if format == "auto" and Path(path).is_file() else format
    if format == "auto" and chosen == "steplaw":
        notes.append("read as Step Law's released format (bs in sequences of 2048 tokens)")
    if chosen == "steplaw":
        table = read_table(
            path,
            rename=False,
            required=["N", "D", "lr", "bs", "loss"],
            numeric=["N", "D", "lr", "bs", "numl", "h"],
            positive=["N", "D"],
        )
        if where:
            table = filter_rows(table, where)
        present = {k: v for k, v in STEPLAW_COLUMNS.items() if k in table.frame.columns}
        table = Table(table.frame.rename(columns=present), table.path, present)
        length = STEPLAW_SEQ_LEN if seq_len is None else seq_len
        frame = pd.DataFrame(
            {
                "params": table.frame["params"],
                "tokens": table.frame["tokens"],
                "lr": table.frame["lr"],
                "seq_len": float(length),
            }
        )
        _check_positive(table, "batch_sequences")
        frame["batch_size"] = table.frame["batch_sequences"] * length
    else:
        table, frame = _read_generic(path, seq_len, batch_unit, tokens_unit, where, notes)
    _check_positive(table, "lr")
    frame["loss"] = _loss_values(table, "loss")
    smooth = (
        "smooth_loss" if "smooth_loss" in table.frame.columns else _find(table.frame.columns, _SMOOTH_NAMES)
    )
    frame["smooth_loss"] = _loss_values(table, smooth) if smooth else np.nan
    for name, aliases in (("n_layers", _LAYER_NAMES), ("d_model", _WIDTH_NAMES)):
        column = name if name in table.frame.columns else _find(table.frame.columns, aliases)
        frame[name] = pd.to_numeric(table.frame[column], errors="coerce") if column else np.nan
    used = {smooth, *_named(table.frame.columns, _LAYER_NAMES + _WIDTH_NAMES)}
    rest = table.frame[[c for c in table.frame.columns if c not in used and c not in frame.columns]]
    for column in configs.columns(rest):
        frame[column] = table.frame[column]
    if "group" in table.frame.columns:
        frame["group"] = table.frame["group"].astype(str)
    return tidy(frame, table), table, notes


def _named(columns, names) -> set[str]:
    return {c for c in columns if _key(c) in names}


def _read_generic(
    path: str | Path,
    seq_len: float | None,
    batch_unit: str,
    tokens_unit: str,
    where: Mapping[str, str] | None,
    notes: list[str],
) -> tuple[Table, pd.DataFrame]:
    """The generic format: the table and the frame of N, D, lr, seq_len and the batch in tokens."""
    probe = read_table(path)
    tokens, named_tokens = units.token_source(probe.frame.columns)
    batch, named_batch = units.batch_source(probe.frame.columns, probe.renamed_from("batch_size"))
    tokens, batch = tokens or "tokens", batch or "batch_size"
    table = read_table(
        path,
        required=["params", tokens, "lr", batch, "loss"],
        numeric=["params", tokens, "lr", batch, "seq_len"],
        positive=["params", tokens],
    )
    if where:
        table = filter_rows(table, where)
    if table.describe_mapping():
        notes.append(table.describe_mapping())
    frame = pd.DataFrame({"params": table.frame["params"], "lr": table.frame["lr"]})
    values = table.frame[tokens].to_numpy(float)
    unit, note = units.token_unit(values, tokens, named=named_tokens, given=tokens_unit, table=table)
    frame["tokens"] = table.frame[tokens] * (1e9 if unit == "billions" else 1.0)
    notes += [note] if note else []
    _check_positive(table, batch)
    if "seq_len" in table.frame.columns:
        _check_positive(table, "seq_len")
        frame["seq_len"] = table.frame["seq_len"]
        known = f"the {table.renamed_from('seq_len')!r} column"
    else:
        frame["seq_len"] = np.nan if seq_len is None else float(seq_len)
        known = None if seq_len is None else f"seq_len={seq_len:g}"
    values = table.frame[batch].to_numpy(float)
    unit, note = units.batch_unit(
        values, table.renamed_from(batch), named=named_batch, given=batch_unit, seq_len=known, table=table
    )
    if unit == "sequences":
        if frame["seq_len"].isna().any():
            raise table.error(
                "the batch size counts sequences but the file has no 'seq_len' column; "
                "add one or give seq_len=",
                column=batch,
            )
        frame["batch_size"] = table.frame[batch] * frame["seq_len"]
        notes.append(note or "batch size converted from sequences to tokens (x seq_len)")
    else:
        frame["batch_size"] = table.frame[batch]
    return table, frame


def _check_positive(table: Table, column: str) -> None:
    if column not in table.frame.columns:
        return
    values = table.frame[column].to_numpy(dtype=float)
    bad = np.flatnonzero(~(values > 0))
    if bad.size:
        what = {"lr": "learning rate", "seq_len": "sequence length"}.get(column, "batch size")
        raise table.error(
            f"{what} {values[bad[0]]:g} is not positive; it must be > 0, fix or drop the row",
            row=int(table.frame.index[bad[0]]),
            column=column,
            value=values[bad[0]],
        )


def tidy(frame: pd.DataFrame, table: Table | None = None) -> pd.DataFrame:
    """Complete a frame of runs: group labels, C = 6 N D and the non-embedding FLOPs with attention.

    Without a ``group`` column, a group is one (N, D) and one value of every configuration column
    that splits an (N, D) pair (expert count, active parameters, architecture, a non-numeric
    column; see :mod:`.configs`), labelled ``'1B/20B n_experts=8'``.

    ``nonembedding_flops`` is DeepSeek LLM's M D with M = 6 N + 12 n_layers d_model seq_len
    (FLOPs per token including attention); where the architecture or sequence length is
    unknown it falls back to 6 N D.
    """
    present = [c for c in ("params", "tokens", "lr", "batch_size", "loss") if c in frame.columns]
    source = Table(frame, table.path, table.renamed) if table is not None else frame
    out = coerce_numeric(source, present, allow_empty=["loss"], name="runs").frame
    out.index = frame.index
    for column in ("smooth_loss", "n_layers", "d_model", "seq_len"):
        if column not in out.columns:
            out[column] = np.nan
    out = out.astype(
        {
            c: float
            for c in (
                "params",
                "tokens",
                "lr",
                "batch_size",
                "loss",
                "smooth_loss",
                "n_layers",
                "d_model",
                "seq_len",
            )
        }
    )
    if "group" in out.columns:
        for _, rows in out.groupby("group", sort=False):
            if rows["params"].nunique() > 1 or rows["tokens"].nunique() > 1:
                row = int(
                    rows.index[
                        (rows["params"] != rows["params"].iloc[0])
                        | (rows["tokens"] != rows["tokens"].iloc[0])
                    ][0]
                )
                message = (
                    f"group {rows['group'].iloc[0]!r} mixes model sizes or token counts; "
                    "a group is one (N, D); fix the group id or drop the column"
                )
                raise (
                    table.error(message, row=row, column="group")
                    if table is not None
                    else InputError(message, row=row, column="group")
                )
    else:
        out["group"] = configs.labels(out, configs.columns(out))
    out["flops"] = 6.0 * out["params"] * out["tokens"]
    attention = 12.0 * out["n_layers"] * out["d_model"] * out["seq_len"]
    out["nonembedding_flops"] = (6.0 * out["params"] + attention.fillna(0.0)) * out["tokens"]
    return out


# ---------------------------------------------------------------------------------------- selection
@dataclass(frozen=True)
class Sweep:
    """A sweep with its runs marked and one summary row per usable group.

    Attributes
    ----------
    runs
        The tidy runs plus ``objective`` (the loss used), ``diverged``, ``excess`` (relative to
        the group minimum, a fraction) and ``near_optimal``.  Index: the file's data row.
    groups
        Per usable group: ``group``, ``params``, ``tokens``, ``runs``, ``diverged``,
        ``near_optimal``, ``lr_best``, ``batch_best`` (tokens), ``loss_best``, the grid's
        ``lr_min``/``lr_max``/``batch_min``/``batch_max``, the near-optimal band's
        ``band_lr_min``/``band_lr_max``/``band_batch_min``/``band_batch_max`` and ``on_edge``.
    path
        The file read (for messages).
    settings
        ``band``, ``diverge_ratio``, ``max_loss``, ``objective`` (column used), ``exclude_edge``.
    notes
        What was derived or dropped, in words.
    warnings
        What the fit rests on that the file may contradict (columns that look like separate studies).
    """

    runs: pd.DataFrame
    groups: pd.DataFrame
    path: str = "sweep"
    settings: Mapping[str, object] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()

    def near_optimal(self) -> pd.DataFrame:
        """The near-optimal runs of the usable groups (the rows a law is fitted to)."""
        usable = self.runs["group"].isin(self.groups["group"])
        return self.runs[usable & self.runs["near_optimal"]]

    def without(self, group: str) -> Sweep:
        """The sweep without one group (for leave-one-group-out validation)."""
        return Sweep(
            self.runs[self.runs["group"] != group],
            self.groups[self.groups["group"] != group],
            self.path,
            self.settings,
            self.notes,
            self.warnings,
        )

    def ranges(self) -> dict[str, tuple[float, float]]:
        """Ranges of N, D, D/N and both FLOPs counts over the usable groups."""
        g = self.groups
        first = self.runs.groupby("group")[["flops", "nonembedding_flops"]].first().loc[g["group"]]
        values = {
            "params": g["params"],
            "tokens": g["tokens"],
            "tokens_per_param": g["tokens"] / g["params"],
            "flops": first["flops"],
            "nonembedding_flops": first["nonembedding_flops"],
        }
        return {k: (float(np.min(v)), float(np.max(v))) for k, v in values.items()}


def select(
    runs: pd.DataFrame,
    *,
    band: float = 0.0025,
    diverge_ratio: float = 1.5,
    max_loss: float | None = None,
    raw_loss: bool = False,
    exclude_edge: bool = False,
    path: str = "sweep",
    notes: tuple[str, ...] | list[str] = (),
) -> Sweep:
    """Mark diverged and near-optimal runs per group.

    Parameters
    ----------
    runs
        The tidy frame of :func:`tidy` (or :func:`read_sweep`).
    band
        Near-optimal band: runs whose loss is below ``(1 + band)`` times the group minimum (a
        fraction; 0.0025 is 0.25%).  0 keeps the best run only.
    diverge_ratio
        A run whose loss exceeds this multiple of its group's minimum counted as diverged.
    max_loss
        Also count a run as diverged above this loss (loss units).
    raw_loss
        Use the raw final loss even when a smoothed loss is present.
    exclude_edge
        Drop groups whose best run sits on the edge of their lr or batch grid.
    """
    if not 0 <= band < 1:
        raise InputError(f"band={band} must be a fraction in [0, 1), e.g. 0.0025 for 0.25%")
    if not diverge_ratio > 1:
        raise InputError(f"diverge_ratio={diverge_ratio} must be > 1 (a multiple of the group minimum)")
    notes = list(notes)
    frame = runs.copy()
    candidates = configs.columns(frame)
    split = configs.splitting(frame, candidates)
    if split and frame["group"].str.contains(f" {split[0]}=", regex=False).any():
        notes.append(
            f"runs grouped by N, D and {', '.join(map(repr, split))}: runs with the same N and D "
            "differ in these columns"
        )
    warnings = tuple(configs.separate_studies(frame, candidates))
    smooth = frame["smooth_loss"].notna().any() and not raw_loss
    frame["objective"] = frame["smooth_loss"] if smooth else frame["loss"]
    if smooth:
        both = frame[["loss", "smooth_loss"]].dropna()
        gap = float(np.median(np.abs(both["loss"] / both["smooth_loss"] - 1))) if len(both) else math.nan
        notes.append(
            f"using the smoothed loss; raw and smoothed final losses differ by a median of {100 * gap:.2f}%"
        )
    y = frame["objective"].to_numpy(dtype=float)
    finite = np.isfinite(y) & (y > 0)
    if max_loss is not None:
        finite &= y <= max_loss
    frame["diverged"] = ~finite
    floor = frame["objective"].where(finite).groupby(frame["group"]).transform("min")
    frame["diverged"] |= ~(y <= diverge_ratio * floor.to_numpy())
    total, dropped = len(frame), int(frame["diverged"].sum())
    rule = f"non-finite loss or above {diverge_ratio:g} x the group minimum" + (
        f" or above {max_loss:g}" if max_loss is not None else ""
    )
    if dropped == total:
        raise FitError(
            f"{path}: every one of the {total} runs diverged ({rule}); nothing to fit; "
            "check the loss column or raise diverge_ratio= or max_loss="
        )
    if dropped:
        notes.append(f"dropped {dropped} of {total} runs as diverged ({rule})")
    ok = frame[~frame["diverged"]]
    minimum = ok.groupby("group")["objective"].transform("min")
    frame["excess"] = np.nan
    frame.loc[ok.index, "excess"] = ok["objective"] / minimum - 1.0
    frame["near_optimal"] = False
    frame.loc[ok.index, "near_optimal"] = (frame.loc[ok.index, "excess"] < band) | (
        frame.loc[ok.index, "excess"] == 0
    )
    groups, lonely = [], []
    for name, rows in frame.groupby("group", sort=False):
        good = rows[~rows["diverged"]]
        if len(good) < 2:
            lonely.append(str(name))
            continue
        best = good.loc[good["objective"].idxmin()]
        near = good[good["near_optimal"]]
        lr_grid, b_grid = rows["lr"], rows["batch_size"]
        on_edge = bool(
            np.isclose(best["lr"], lr_grid.min(), rtol=1e-6)
            or np.isclose(best["lr"], lr_grid.max(), rtol=1e-6)
            or np.isclose(best["batch_size"], b_grid.min(), rtol=1e-6)
            or np.isclose(best["batch_size"], b_grid.max(), rtol=1e-6)
        )
        groups.append(
            {
                "group": str(name),
                "params": float(best["params"]),
                "tokens": float(best["tokens"]),
                "runs": int(len(rows)),
                "diverged": int(rows["diverged"].sum()),
                "near_optimal": int(len(near)),
                "lr_best": float(best["lr"]),
                "batch_best": float(best["batch_size"]),
                "loss_best": float(best["objective"]),
                "lr_min": float(lr_grid.min()),
                "lr_max": float(lr_grid.max()),
                "batch_min": float(b_grid.min()),
                "batch_max": float(b_grid.max()),
                "band_lr_min": float(near["lr"].min()),
                "band_lr_max": float(near["lr"].max()),
                "band_batch_min": float(near["batch_size"].min()),
                "band_batch_max": float(near["batch_size"].max()),
                "on_edge": on_edge,
            }
        )
    if not groups:
        raise FitError(
            f"{path}: no (N, D) group has two or more usable runs ({len(lonely)} group(s) of one); "
            "a sweep needs several lr and batch settings at each model size and token count"
        )
    if lonely:
        notes.append(f"skipped {len(lonely)} group(s) with fewer than two usable runs: {', '.join(lonely)}")
    table = pd.DataFrame(groups).sort_values(["params", "tokens"], kind="stable").reset_index(drop=True)
    edge = table.loc[table["on_edge"], "group"].tolist()
    if edge:
        notes.append(
            f"{len(edge)} group(s) have their best run on the edge of the lr or batch grid "
            f"({', '.join(edge)}): the optimum may lie outside the grid"
            + ("; dropped" if exclude_edge else "")
        )
        if exclude_edge:
            table = table[~table["on_edge"]].reset_index(drop=True)
            if table.empty:
                raise FitError(
                    f"{path}: every group has its best run on the edge of its grid; "
                    "nothing is left once exclude_edge=True drops them"
                )
    settings = {
        "band": float(band),
        "diverge_ratio": float(diverge_ratio),
        "max_loss": None if max_loss is None else float(max_loss),
        "objective": "smooth_loss" if smooth else "loss",
        "exclude_edge": bool(exclude_edge),
    }
    return Sweep(frame, table, str(path), settings, tuple(notes), warnings)


def load_sweep(
    path: str | Path,
    *,
    format: str = "auto",
    seq_len: float | None = None,
    batch_unit: str = "auto",
    tokens_unit: str = "auto",
    where: Mapping[str, str] | None = None,
    band: float | None = None,
    diverge_ratio: float | None = None,
    max_loss: float | None = None,
    raw_loss: bool = False,
    exclude_edge: bool = False,
    like: Mapping | None = None,
) -> Sweep:
    """Read a sweep file and mark its diverged and near-optimal runs (:func:`read_sweep`, then
    :func:`select`).

    ``seq_len``, ``batch_unit``, ``tokens_unit`` and ``where`` are those of :func:`read_sweep`.
    ``like`` is the selection of a fitted law (``law.info["selection"]``): the runs are then
    selected as for that fit (its ``band``, ``diverge_ratio``, ``max_loss``, raw or smoothed loss and ``exclude_edge``),
    unless an argument is given; without it, :func:`select`'s defaults apply.
    """
    frame, table, notes = read_sweep(
        path, format=format, seq_len=seq_len, batch_unit=batch_unit, tokens_unit=tokens_unit, where=where
    )
    d = dict(like or {})
    return select(
        frame,
        band=d.get("band", 0.0025) if band is None else band,
        diverge_ratio=d.get("diverge_ratio", 1.5) if diverge_ratio is None else diverge_ratio,
        max_loss=d.get("max_loss") if max_loss is None else max_loss,
        raw_loss=raw_loss or d.get("objective") == "loss",
        exclude_edge=exclude_edge or bool(d.get("exclude_edge")),
        path=table.path,
        notes=notes,
    )
