"""Figures of the hyperparameter family: sweep heatmaps, a recommendation, an evaluation's gaps.

:func:`sweep_heatmaps` draws one panel per (N, D) group, as on Step Law's site: every run is a
square at (lr, batch size) on log-log axes, coloured by its relative excess over the group's
minimum (up to ``max_gap``, 2% by default; runs beyond it are grey, diverged runs are crosses), the
near-optimal band is outlined in black, and each law's prediction is a marker.
:func:`recommendation_panel` and :func:`evaluation_gaps` draw the results of the family.
Every function draws on ``ax`` when given and returns the figure.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from matplotlib.ticker import NullLocator

from scalelaw.errors import InputError
from scalelaw.plots.common import panels

_MARKERS = ("*", "^", "D", "o", "v", "P", "X")
_COLOURS = ("tab:red", "tab:blue", "tab:orange", "black", "tab:purple", "tab:green", "tab:brown")


def _title(group: str) -> str:
    """``'1B/20B n_experts=8'`` -> ``'N=1B, D=20B'`` over ``'n_experts=8'``; other labels as they are."""
    base, _, configuration = group.partition(" ")
    if base.count("/") != 1:
        return group
    n, d = base.split("/")
    return f"N={n}, D={d}" + (f"\n{configuration.replace(' ', ', ')}" if configuration else "")


def sweep_heatmaps(
    sweep,
    predictions: Mapping[str, pd.DataFrame],
    *,
    max_gap: float = 0.02,
    columns: int = 5,
    ax: Axes | None = None,
    group: str | None = None,
) -> Figure:
    """Loss heatmaps of every group of a :class:`~scalelaw.families.hyperparams.sweep.Sweep`.

    Parameters
    ----------
    sweep
        The selected sweep.
    predictions
        Law name -> frame with ``group``, ``lr`` and ``batch_size`` (tokens), e.g. the
        ``groups`` of an :class:`~scalelaw.families.hyperparams.evaluate.Evaluation`.
    max_gap
        Colour scale limit, a fraction (0.02: runs more than 2% above the minimum are grey).
    columns
        Panels per row.
    ax, group
        With ``ax``: only one group's panel (``group``, default the first) is drawn on it.
    """
    groups, given = sweep.groups, ax
    if given is not None:
        chosen = groups if group is None else groups[groups["group"] == group]
        if chosen.empty:
            names = ", ".join(map(repr, groups["group"].astype(str)))
            raise InputError(f"group={group!r} is not a group of the sweep; it has {names}")
        groups = chosen.iloc[:1]
        fig, axes = given.figure, np.array([[given]])
    else:
        import matplotlib.pyplot as plt

        cols = max(1, min(columns, len(groups)))
        rows = math.ceil(len(groups) / cols)
        fig, axes = plt.subplots(rows, cols, figsize=(3.3 * cols + 1.2, 2.9 * rows + 0.5), squeeze=False)
        fig.subplots_adjust(
            left=0.06, right=0.88, bottom=0.07, top=1 - 0.5 / (2.9 * rows + 0.5) - 0.03, wspace=0.3,
            hspace=0.35,
        )
    n = len(groups)
    norm = Normalize(vmin=0.0, vmax=100 * max_gap)
    cmap = colormaps["viridis_r"]
    image = None
    for ax, g in zip(axes.flat, groups.itertuples(), strict=False):
        runs = sweep.runs[sweep.runs["group"] == g.group]
        ok = runs[~runs["diverged"]]
        within = ok[ok["excess"] <= max_gap]
        beyond = ok[ok["excess"] > max_gap]
        ax.scatter(beyond["lr"], beyond["batch_size"], marker="s", s=42, color="0.85", edgecolor="none")
        image = ax.scatter(
            within["lr"],
            within["batch_size"],
            c=100 * within["excess"],
            cmap=cmap,
            norm=norm,
            marker="s",
            s=42,
            edgecolor="none",
        )
        band = ok[ok["near_optimal"]]
        ax.scatter(
            band["lr"], band["batch_size"], marker="s", s=42, facecolor="none", edgecolor="black", lw=1.0
        )
        failed = runs[runs["diverged"]]
        ax.scatter(failed["lr"], failed["batch_size"], marker="x", s=14, color="0.6", lw=0.8)
        for k, (name, frame) in enumerate(predictions.items()):
            hit = frame[frame["group"] == g.group]
            if not hit.empty:
                marker = _MARKERS[k % len(_MARKERS)]
                ax.scatter(
                    hit["lr"],
                    hit["batch_size"],
                    marker=marker,
                    s=170 if marker == "*" else 60,
                    color=_COLOURS[k % len(_COLOURS)],
                    edgecolor="white",
                    lw=0.6,
                    zorder=4,
                    label=name,
                )
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(_title(g.group), fontsize=9)
        ax.tick_params(labelsize=7)
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_minor_locator(NullLocator())
        shown = [runs[["lr", "batch_size"]]] + [
            f.loc[f["group"] == g.group, ["lr", "batch_size"]] for f in predictions.values()
        ]
        both = pd.concat(shown).to_numpy(float)
        ax.set_xlim(both[:, 0].min() / 1.6, both[:, 0].max() * 1.6)
        ax.set_ylim(both[:, 1].min() / 1.6, both[:, 1].max() * 1.6)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("peak learning rate", fontsize=8)
    for ax in axes[:, 0]:
        ax.set_ylabel("batch size (tokens)", fontsize=8)
    if given is not None:
        if predictions:
            given.legend(fontsize=7)
        if image is not None:
            fig.colorbar(image, ax=given, label="excess over the group minimum (%)")
        return fig
    if predictions:
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="upper center", ncol=len(labels), frameon=False)
    if image is not None:
        fig.colorbar(
            image, cax=fig.add_axes((0.91, 0.25, 0.015, 0.5)), label="excess over the group minimum (%)"
        )
    return fig


def recommendation_panel(recommendation, *, ax: Axes | None = None) -> Figure:
    """A :class:`~scalelaw.families.hyperparams.recommend.Recommendation` in the (lr, batch) plane.

    The optimum is a star; the bootstrap interval (when there is one) a grey box; each plateau
    tolerance the box inside which lr and batch size (tokens) can move at once, with its
    one-at-a-time ranges as bars; a given batch size's lr a diamond.
    """
    r = recommendation
    fig, (ax,) = panels(ax, figsize=(5.5, 4.2))
    xs, ys = [r.lr], [r.batch_size]
    if r.intervals:
        lr, b = r.intervals["lr"], r.intervals["batch_size"]
        ax.add_patch(Rectangle((lr["lower"], b["lower"]), lr["upper"] - lr["lower"], b["upper"] - b["lower"],
                               color="0.6", alpha=0.35, lw=0,
                               label=f"{100 * r.intervals['level']:g}% bootstrap interval"))
        xs += [lr["lower"], lr["upper"]]
        ys += [b["lower"], b["upper"]]
    for k, p in enumerate(r.plateau or ()):
        colour = _COLOURS[(k + 1) % len(_COLOURS)]
        (l0, l1), (b0, b1) = p["box"]["lr"], p["box"]["batch_size"]
        ax.add_patch(Rectangle((l0, b0), l1 - l0, b1 - b0, fill=False, edgecolor=colour, lw=1.2,
                               label=f"loss within {100 * p['tolerance']:g}%"))
        ax.plot(p["lr"], [r.batch_size] * 2, color=colour, lw=0.8, ls="--")
        ax.plot([r.lr] * 2, p["batch_size"], color=colour, lw=0.8, ls="--")
        xs += list(p["lr"])
        ys += list(p["batch_size"])
    if r.at_batch_size:
        a = r.at_batch_size
        ax.scatter([a["lr"]], [a["batch_size"]], marker="D", s=50, color="tab:blue", zorder=4,
                   label=f"lr at batch {a['batch_size']:.3g}")
        xs.append(a["lr"])
        ys.append(a["batch_size"])
    ax.scatter([r.lr], [r.batch_size], marker="*", s=200, color="tab:red", edgecolor="white", zorder=5,
               label=f"{r.law}: lr {r.lr:.3g}, B {r.batch_size:.3g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlim(min(xs) / 2, max(xs) * 2)
    ax.set_ylim(min(ys) / 2, max(ys) * 2)
    ax.set_xlabel("peak learning rate")
    ax.set_ylabel("batch size (tokens)")
    ax.grid(True, which="both", alpha=0.2)
    ax.set_title(f"N = {r.params:.3g}, D = {r.tokens:.3g}", fontsize=9)
    ax.legend(fontsize=7)
    return fig


def evaluation_gaps(evaluation, *, ax: Axes | None = None) -> Figure:
    """The gap (percent) of each group of an
    :class:`~scalelaw.families.hyperparams.evaluate.Evaluation`, off-grid predictions hatched."""
    e = evaluation
    fig, (ax,) = panels(ax, figsize=(max(4.0, 0.5 * len(e.groups) + 2.0), 3.8))
    g = e.groups
    bars = ax.bar(range(len(g)), 100 * g["gap"].to_numpy(float), color="tab:blue")
    for bar, off in zip(bars, g["off_grid"], strict=True):
        if off:
            bar.set_hatch("//")
            bar.set_facecolor("tab:orange")
    ax.axhline(100 * e.mean_gap, color="black", lw=0.8, ls="--", label=f"mean {100 * e.mean_gap:.3g}%")
    ax.set_xticks(range(len(g)), g["group"], rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("gap over the group's best loss (%)")
    ax.set_title(f"{e.law} ({e.kind})", fontsize=9)
    ax.legend(fontsize=7)
    if ax.figure is fig and len(fig.axes) == 1:
        fig.tight_layout()
    return fig
