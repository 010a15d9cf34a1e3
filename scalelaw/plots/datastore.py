"""Figures of the datastore family: metric against datastore size, the joint law, the compute
optimum and the FLOPs Pareto frontier.

Each function draws on ``ax`` (None: a new figure) and returns the Figure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from scalelaw.plots.common import AxesLike, panels

MAX_READERS = 8


def _metric_panels(ax: AxesLike, count: int, width: float = 6.0, height: float = 4.4):
    """One panel per metric, two per row."""
    cols = min(count, 2)
    return panels(ax, count, columns=cols, figsize=(width * cols, height * -(-count // cols)))


def _shown(readers: list[str], limit: int) -> list[str]:
    if len(readers) <= limit:
        return readers
    picks = np.unique(np.linspace(0, len(readers) - 1, limit).round().astype(int))
    return [readers[i] for i in picks]


def _reader_on(ax, f, colour, *, extend: float = 10.0, joint=None, label: str | None = None) -> None:
    """One reader's seed means (hollow: held out), its laws and its LM-only line, on ``ax``."""
    if f.points is not None:
        points = f.points[f.points["datastore_tokens"] > 0]
        held = points["datastore_tokens"].isin(f.choice.held_out).to_numpy()
        S, y, sd = (points[c].to_numpy(dtype=float) for c in ("datastore_tokens", "value", "sd"))
        ax.errorbar(S[~held], y[~held], yerr=sd[~held], fmt="o", ms=4, color=colour, label=label or f.reader)
        if held.any():
            ax.errorbar(S[held], y[held], yerr=sd[held], fmt="o", ms=5, mfc="none", color=colour)
    grid = np.geomspace(min(f.sizes) / 2, max(f.sizes) * extend, 120)
    for law, style in ((f.choice.chosen, "-"), *((n, ":") for n in f.fits if n != f.choice.chosen)):
        ax.plot(grid, f.predict(grid, law)[0], style, color=colour, lw=1.3 if style == "-" else 1.0,
                label=(label or f.reader) if f.points is None and style == "-" else None)
    if f.lm_only is not None:
        ax.axhline(f.lm_only, color=colour, ls="--", lw=0.8, alpha=0.7)
    if joint is not None and joint.metric.name == f.metric.name:
        curve = joint.predict(np.full_like(grid, f.params), np.full_like(grid, f.tokens), grid)[0]
        ax.plot(grid, curve, color="0.5", lw=0.8)


def _datastore_axes(ax, metric) -> None:
    ax.set_xscale("log")
    ax.set_xlabel("datastore size S (tokens)")
    ax.set_ylabel(metric.label)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="best")


def reader_curves(f, *, ax: AxesLike = None, extend: float = 10.0) -> Figure:
    """One (reader, metric): seed means, the chosen law (solid), the other (dotted), LM-only (dashed)."""
    fig, (ax,) = panels(ax, figsize=(6.0, 4.4))
    _reader_on(ax, f, "tab:blue", extend=extend)
    _datastore_axes(ax, f.metric)
    ax.set_title(f"{f.reader}, {f.metric.name}: chosen law {f.choice.chosen}", fontsize=9)
    return fig


def datastore_scaling(fits, *, joint=None, extend: float = 10.0, max_readers: int = MAX_READERS,
                      ax: AxesLike = None) -> Figure:
    """Metric against datastore size (log axis), one panel per metric and a colour per reader.

    ``fits`` is the group of per-reader fits.  Points are seed means with their seed standard
    deviation; the dashed horizontal line is the reader's LM-only value; the solid curve is the chosen
    law and the dotted one the other law, drawn to ``extend`` times the largest size; points held out
    for the model choice are hollow.  With ``joint``, its predictions are drawn in grey.  With one
    Axes, every metric is drawn on it; with a sequence, one Axes per metric.
    """
    members = list(fits.values())
    metrics = list(dict.fromkeys(f.metric.name for f in members))
    if isinstance(ax, Axes):
        fig, axes = ax.figure, [ax] * len(metrics)
    else:
        fig, axes = _metric_panels(ax, len(metrics))
    for ax_, name in zip(axes, metrics, strict=False):
        group = [f for f in members if f.metric.name == name]
        readers = _shown([f.reader for f in group], max_readers)
        colours = colormaps["viridis"](np.linspace(0.0, 0.9, len(readers)))
        for colour, f in zip(colours, [f for f in group if f.reader in readers], strict=True):
            _reader_on(ax_, f, colour, extend=extend, joint=joint)
        _datastore_axes(ax_, group[0].metric)
        shown = f"{len(readers)} of {len(group)}" if len(readers) < len(group) else f"{len(group)}"
        ax_.set_title(f"{name}: solid chosen law, dotted the other, dashed LM-only ({shown} readers)",
                      fontsize=9)
    return fig


def joint_curves(joint, *, ax: AxesLike = None, extend: float = 10.0, max_readers: int = MAX_READERS) -> Figure:
    """The joint law against datastore size for each measured reader, with its seed means."""
    fig, (ax,) = panels(ax, figsize=(6.0, 4.4))
    configs = joint.configurations
    retrieval = configs[configs["datastore_tokens"] > 0]
    readers = _shown(list(dict.fromkeys(retrieval["reader"])), max_readers)
    colours = colormaps["viridis"](np.linspace(0.0, 0.9, len(readers)))
    top = retrieval["datastore_tokens"].max()
    grid = np.geomspace(retrieval["datastore_tokens"].min() / 2, top * extend, 120)
    for colour, reader in zip(colours, readers, strict=True):
        part = retrieval[retrieval["reader"] == reader]
        ax.errorbar(part["datastore_tokens"], part["value"], yerr=part["sd"], fmt="o", ms=4, color=colour,
                    label=reader)
        n, d = float(part["params"].iloc[0]), float(part["tokens"].iloc[0])
        value, lo, hi = joint.predict(np.full_like(grid, n), np.full_like(grid, d), grid)
        ax.plot(grid, value, color=colour, lw=1.2)
        if np.isfinite(lo).any():
            ax.fill_between(grid, lo, hi, color=colour, alpha=0.15, linewidth=0)
    _datastore_axes(ax, joint.metric)
    ax.set_title(f"joint law for {joint.metric.name} ({len(readers)} readers)", fontsize=9)
    return fig


def optimum_figure(best, *, ax: AxesLike = None) -> Figure:
    """Compute-optimal N, D and S against the FLOPs budget (log-log), with their intervals."""
    fig, (ax,) = panels(ax, figsize=(6.0, 4.4))
    frame = best.to_frame().sort_values("flops")
    for name, label in (("params", "reader params N"), ("tokens", "pretraining tokens D"),
                        ("datastore_tokens", "datastore tokens S")):
        line, = ax.plot(frame["flops"], frame[name], "o-", ms=4, label=label)
        lower, upper = frame[f"{name}_lower"], frame[f"{name}_upper"]
        if np.isfinite(lower).any():
            ax.fill_between(frame["flops"], lower, upper, color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("training FLOPs: 6 N D + 2 N_retriever S")
    ax.set_ylabel("parameters or tokens")
    ax.set_title(f"compute-optimal choice for {best.metric}", fontsize=9)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="best")
    return fig


def pareto_frontier(table: pd.DataFrame, *, metrics: dict | None = None, optimum: pd.DataFrame | None = None,
                    ax: AxesLike = None) -> Figure:
    """Metric against total training FLOPs per configuration, one panel per metric.

    Retrieval configurations are coloured by datastore size, LM-only ones are black crosses; the
    steps are the Pareto frontiers of all configurations and of the LM-only ones.  ``optimum``
    (columns ``metric``, ``flops``, ``value``) adds the joint law's compute-optimal curve.
    """
    names = list(dict.fromkeys(table["metric"]))
    fig, axes = _metric_panels(ax, len(names))
    retrieval_sizes = table.loc[table["retrieval"], "datastore_tokens"]
    norm = None
    if len(retrieval_sizes):
        low = retrieval_sizes.min()
        norm = LogNorm(vmin=low, vmax=max(retrieval_sizes.max(), low * 1.01))
    for ax, name in zip(axes, names, strict=False):
        part = table[table["metric"] == name]
        ret, lm = part[part["retrieval"]], part[~part["retrieval"]]
        if len(ret):
            points = ax.scatter(ret["flops"], ret["value"], c=ret["datastore_tokens"], norm=norm,
                                cmap="viridis", s=14, alpha=0.8, label="retrieval-based")
            fig.colorbar(points, ax=ax, label="datastore tokens")
        ax.scatter(lm["flops"], lm["value"], marker="x", color="black", s=24, label="LM-only")
        for flag, colour, label in (("pareto", "tab:red", "frontier (all)"),
                                    ("lm_only_pareto", "black", "frontier (LM-only)")):
            edge = part[part[flag]].sort_values("flops")
            if len(edge):
                ax.step(edge["flops"], edge["value"], where="post", color=colour, lw=1.2, label=label)
        if optimum is not None:
            curve = optimum[optimum["metric"] == name].sort_values("flops")
            if len(curve):
                ax.plot(curve["flops"], curve["value"], "--", color="tab:orange", lw=1.5,
                        label="joint law, compute-optimal (N, D, S)")
        ax.set_xscale("log")
        ax.set_xlabel("training FLOPs: 6 N D + 2 N_retriever S")
        kind = (metrics or {}).get(name)
        ax.set_ylabel(kind.label if kind is not None else name)
        ax.set_title(f"{name}: Pareto frontier of measured configurations", fontsize=9)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=7, loc="best")
    return fig


