"""Configuration columns of a sweep: what, besides N and D, makes two runs belong to different groups.

A group of a sweep is one model configuration trained on one token count.  N and D alone do not
always say which: two MoE configurations can share a total N, and one file can hold two studies
(two loss conditions, two datasets) side by side.  A configuration column is one with a known name
(active parameters, expert count, top-k, architecture, layers, width) or a non-numeric column whose
every value repeats (run names and W&B's state column are not).  Rows are grouped by N, D and
every configuration column that splits an (N, D) pair.  A non-numeric column whose values each
span several (N, D) groups, or configurations that share N and D and each span several, look like
separate studies in one file fitted as one law of N and D: they are warned about.

Examples
--------
>>> import pandas as pd
>>> runs = pd.DataFrame({"params": 1e9, "tokens": 2e10, "n_experts": [8, 8, 64, 64]})
>>> labels(runs, columns(runs)).tolist()
['1B/20B n_experts=8', '1B/20B n_experts=8', '1B/20B n_experts=64', '1B/20B n_experts=64']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from scalelaw.io import parse_quantity, studies

#: Columns a sweep's reader fills or :func:`~.sweep.select` adds: never configuration columns.
RESERVED = frozenset(
    {"params", "tokens", "lr", "batch_size", "loss", "smooth_loss", "seq_len", "group", "flops",
     "nonembedding_flops", "objective", "diverged", "excess", "near_optimal", "batch_sequences"}
)
#: Names (compared ignoring case, spaces, '-', '_') of numeric configuration columns.
KNOWN = frozenset(
    {"nlayers", "dmodel", "activeparams", "nactiveparams", "numactiveparams", "activatedparams",
     "activeparameters", "nactive", "nexperts", "numexperts", "experts", "expertcount", "nroutedexperts",
     "nsharedexperts", "topk", "expertspertoken", "activeexperts", "granularity", "expansion",
     "arch", "architecture", "modeltype", "config", "configuration", "moe"}
)
IGNORED = studies.IGNORED
_key = studies.key
_numeric = studies.numeric


def _cell(value) -> str:
    """A cell as group-label text: numbers of 10,000 and more as ``25M``, others as written."""
    from scalelaw.families.hyperparams.sweep import short

    if value is None or (isinstance(value, float) and np.isnan(value)):
        return ""
    text = str(value).strip()
    try:
        number = parse_quantity(value if isinstance(value, (int, float, np.number)) else text)
    except ValueError:
        return text
    return short(number) if abs(number) >= 1e4 else f"{number:g}"


def _number(text: str) -> float:
    try:
        return parse_quantity(text)
    except ValueError:
        return np.inf


def _text(values: pd.Series) -> pd.Series:
    return values.map(_cell)


def columns(frame: pd.DataFrame) -> list[str]:
    """The configuration columns of a frame of runs (see the module docstring)."""
    out = []
    for column in frame.columns:
        if column in RESERVED or _key(column) in IGNORED:
            continue
        values = frame[column]
        if _key(column) in KNOWN or column in ("n_layers", "d_model"):
            out.append(column)
        elif not _numeric(values):
            counts = _text(values).value_counts()
            if len(counts) > 1 and counts.min() > 1:
                out.append(column)
    return out


def _base(frame: pd.DataFrame) -> pd.Series:
    from scalelaw.families.hyperparams.sweep import label

    return pd.Series(
        [label(n, d) for n, d in zip(frame["params"], frame["tokens"], strict=True)], index=frame.index
    )


def splitting(frame: pd.DataFrame, candidates: list[str]) -> list[str]:
    """The configuration columns that take two or more values within one (N, D) pair."""
    base = _base(frame)
    return [c for c in candidates if _text(frame[c]).groupby(base).nunique().max() > 1]


def labels(frame: pd.DataFrame, candidates: list[str]) -> pd.Series:
    """Group labels: ``'214.7M/100B'``, followed by ``column=value`` for each column of
    :func:`splitting` (``'1B/20B n_experts=8'``)."""
    base = _base(frame)
    split = splitting(frame, candidates)
    if not split:
        return base
    parts = [base] + [c + "=" + _text(frame[c]) for c in split]
    return pd.concat(parts, axis=1).agg(" ".join, axis=1)


def separate_studies(frame: pd.DataFrame, candidates: list[str]) -> list[str]:
    """Warnings for the columns whose every value spans two or more (N, D) pairs, so that each value
    looks like a study of its own fitted here as one law of N and D: a non-numeric column, or the
    numeric configuration columns of :func:`splitting` taken together (MoE configurations sharing N)."""
    base = _base(frame)
    out = []
    for column in candidates:
        if _numeric(frame[column]):
            continue
        spans = studies.spans(_text(frame[column]), base)
        if spans is not None:
            shown = ", ".join(f"{v!r} ({n} (N, D) groups)" for v, n in spans.items())
            out.append(
                f"column {column!r} splits the sweep into {len(spans)} sweeps that each cover several "
                f"model sizes or token counts ({shown}); they are grouped apart but fitted as one law; "
                f"to fit one of them, give where={column}={spans.index[0]}"
            )
    numeric = [c for c in splitting(frame, candidates) if _numeric(frame[c])]
    spans = {}
    for c in numeric:  # keyed by the cells as written, so that where= matches them
        counts = base.groupby(frame[c].astype(str).str.strip()).nunique()
        spans[c] = counts.iloc[np.argsort([_number(v) for v in counts.index], kind="stable")]
    shared = [c for c in numeric if spans[c].min() > 1]
    if shared:
        key = shared[0]
        shown = ", ".join(f"{key}={v} ({n} (N, D) groups)" for v, n in spans[key].items())
        out.append(
            f"configurations that share N and D (differing in {', '.join(map(repr, numeric))}) each cover "
            f"several model sizes or token counts ({shown}); they are grouped apart but fitted as one "
            f"law of N and D; to fit one of them, give where={key}={spans[key].index[0]}"
        )
    return out
