"""Figures of the hyperparameter family: a sweep's loss heatmaps with each law's prediction.

One panel per (N, D) group, as on Step Law's site: every run is a square at (lr, batch size) on
log-log axes, coloured by its relative excess over the group's minimum (up to ``max_gap``, 2% by
default; runs beyond it are grey, diverged runs are crosses), the near-optimal band is outlined in
black, and each law's prediction is a marker.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import Normalize  # noqa: E402
from matplotlib.ticker import NullLocator  # noqa: E402

_MARKERS = ("*", "^", "D", "o", "v", "P", "X")
_COLOURS = ("tab:red", "tab:blue", "tab:orange", "black", "tab:purple", "tab:green", "tab:brown")


def sweep_heatmaps(
    sweep, predictions: Mapping[str, pd.DataFrame], *, max_gap: float = 0.02, columns: int = 5
):
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
    """
    groups = sweep.groups
    n = len(groups)
    cols = max(1, min(columns, n))
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.3 * cols + 1.2, 2.9 * rows + 0.5), squeeze=False)
    fig.subplots_adjust(
        left=0.06, right=0.88, bottom=0.07, top=1 - 0.5 / (2.9 * rows + 0.5) - 0.03, wspace=0.3, hspace=0.35
    )
    norm = Normalize(vmin=0.0, vmax=100 * max_gap)
    cmap = plt.get_cmap("viridis_r")
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
        ax.set_title(
            f"N={g.group.split('/')[0]}, D={g.group.split('/')[-1]}" if "/" in g.group else g.group,
            fontsize=9,
        )
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
    if predictions:
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="upper center", ncol=len(labels), frameon=False)
    if image is not None:
        fig.colorbar(
            image, cax=fig.add_axes((0.91, 0.25, 0.015, 0.5)), label="excess over the group minimum (%)"
        )
    return fig
