"""Figures of the downstream family: one function per picture, each returning a Figure.

Every function takes ``ax=``: given, it draws its main panel there and returns ``ax.figure``.

* :func:`chain_figure`: each metric of the predictability chain against compute, one thin line
  per question and the mean, and the distribution of per-question correlations with compute;
* :func:`ladder_figure`: the ladder's two steps and the chained prediction, with the targets'
  predicted and actual points; :func:`ladder_tasks_figure`: the chain of several tasks;
* :func:`observational_figure`: the sigmoid link on the fitted capability, and predicted against
  actual scores of the held-out models;
* :func:`error_law_figure`: error against loss with the fitted law and a chained prediction.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from scalelaw.plots.common import panels

LABELS = {"logp_correct": "log p_vocab(correct) (nats)", "p_vocab_correct": "p_vocab(correct)",
          "p_choices_correct": "p_choices(correct)", "brier": "Brier score (lower is better)",
          "accuracy": "accuracy", "accuracy_norm": "accuracy (length-normalised)"}


# ----------------------------------------------------------------------------------------- chain
def chain_figure(result, *, family: str | None = None, max_questions: int = 60, seed: int = 0,
                 ax: Axes | None = None) -> Figure:
    """Each chain metric against compute for one family (per-question lines and their mean), and
    the per-question Pearson correlations with log10 compute, one histogram per metric (on ``ax``:
    the histograms alone)."""
    from scalelaw.families.downstream.chain import chain_metrics

    metrics = result.per_question
    family = family or sorted(metrics["family"].unique())[0]
    part = metrics[metrics["family"] == family]
    names = chain_metrics(metrics)
    flops = part.groupby("model")["flops"].first().sort_values()
    questions = part["question"].unique()
    if ax is not None:
        _correlation_histograms(ax, result, family, names)
        ax.set_title(f"predictability chain: family {family}", fontsize=10)
        return ax.figure
    cols = 3
    rows = -(-(len(names) + 1) // cols)
    fig, axes = panels(None, len(names) + 1, columns=cols, figsize=(4.2 * cols, 3.3 * rows))
    rng = np.random.default_rng(seed)
    shown = rng.choice(questions, size=min(max_questions, questions.size), replace=False)
    for panel, name in zip(axes, names, strict=False):
        wide = part.pivot(index="model", columns="question", values=name).loc[flops.index]
        panel.plot(flops.to_numpy(), wide[shown].to_numpy(), color="tab:blue", alpha=0.15, lw=0.8)
        panel.plot(flops.to_numpy(), wide.mean(axis=1).to_numpy(), color="black", lw=2, marker="o", ms=3,
                   label="mean over questions")
        panel.set_xscale("log")
        panel.set_xlabel("training compute (FLOPs)")
        panel.set_ylabel(LABELS.get(name, name))
        panel.grid(True, alpha=0.3)
    axes[0].legend(fontsize=8)
    _correlation_histograms(axes[len(names)], result, family, names)
    fig.suptitle(f"predictability chain: family {family} ({len(flops)} models, {questions.size} questions)",
                 fontsize=11)
    fig.tight_layout()
    return fig


def _correlation_histograms(ax, result, family: str, names) -> None:
    corr = result.correlations
    corr = corr[(corr["family"] == family) & (corr["method"] == "pearson")]
    bins = np.linspace(-1, 1, 41)
    for name in names:
        values = corr.loc[corr["metric"] == name, "correlation"].dropna()
        if len(values):
            ax.hist(values, bins=bins, histtype="step", lw=1.5, density=True, label=name)
    ax.set_xlabel("per-question Pearson correlation with log10 compute")
    ax.set_ylabel("density")
    ax.legend(fontsize=7)


# ---------------------------------------------------------------------------------------- ladder
def _ladder_norm(fit, targets: pd.DataFrame | None) -> LogNorm:
    sizes = fit.points1["params"].to_numpy(dtype=float)
    extra = [] if targets is None else list(targets["params"])
    return LogNorm(vmin=sizes.min(), vmax=max(max(extra, default=0), sizes.max() * 1.01))


def _token_grid(fit, targets: pd.DataFrame | None) -> np.ndarray:
    d_all = np.concatenate([fit.points1["tokens"].to_numpy(),
                            [] if targets is None else targets["tokens"].to_numpy(dtype=float)])
    return np.geomspace(d_all.min() * 0.8, d_all.max() * 1.5, 200)


def _target_points(ax, targets: pd.DataFrame | None, x, predicted, actual, colors) -> None:
    """Predicted (x) and, where known, actual (o) target points."""
    if targets is None or not len(targets):
        return
    ax.scatter(x, predicted, marker="x", c=colors, s=60, zorder=4, label="target, predicted")
    if actual is not None:
        ax.scatter(actual[0], actual[1], marker="o", facecolors="none", edgecolors=colors, s=70, zorder=4,
                   label="target, actual")


def _ladder_chain_panel(ax, fit, targets: pd.DataFrame | None = None, *, title: str | None = None):
    """The chain alone: accuracy against tokens per ladder size, the runs and the targets."""
    norm = _ladder_norm(fit, targets)
    d_grid = _token_grid(fit, targets)
    p1 = fit.points1
    extra = [] if targets is None else list(targets["params"])
    for n in [*np.sort(p1["params"].unique()), *extra]:
        loss = fit.step1.predict({"params": np.full_like(d_grid, n), "tokens": d_grid})
        ax.plot(d_grid, fit.accuracy_at(loss), color=colormaps["viridis"](norm(n)), lw=1, ls="--", alpha=0.8)
    ax.scatter(p1["tokens"], p1["accuracy"], c=p1["params"], norm=norm, cmap="viridis", s=30, zorder=3)
    if targets is not None and len(targets):
        pred = fit.predict(targets["params"], targets["tokens"])
        colors = [colormaps["viridis"](norm(n)) for n in targets["params"]]
        actual = (targets["tokens"], targets["accuracy"]) if "accuracy" in targets.columns else None
        _target_points(ax, targets, targets["tokens"], pred["accuracy"], actual, colors)
    ax.set_xscale("log")
    ax.set_xlabel("training tokens D")
    ax.set_ylabel("accuracy")
    ax.set_title(title or f"chained: {fit.task}", fontsize=10)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7)
    return norm


def ladder_figure(fit, *, targets: pd.DataFrame | None = None, ax: Axes | None = None) -> Figure:
    """Step 1 (task loss vs tokens per size), step 2 (accuracy vs task loss), and the chain
    (accuracy vs tokens), with predicted (x) and actual (o) target points; on ``ax``, the chain.

    ``targets`` has ``params, tokens`` and optionally actual ``task_loss`` and ``accuracy`` (as
    :func:`scalelaw.families.downstream.ladder.compare_targets` returns)."""
    if ax is not None:
        _ladder_chain_panel(ax, fit, targets)
        return ax.figure
    fig, (ax1, ax2, ax3) = panels(None, 3, figsize=(15, 4.6))
    p1, p2 = fit.points1, fit.points2
    norm = _ladder_chain_panel(ax3, fit, targets)
    d_grid = _token_grid(fit, targets)
    extra = [] if targets is None else list(targets["params"])
    for n in [*np.sort(p1["params"].unique()), *extra]:
        loss = fit.step1.predict({"params": np.full_like(d_grid, n), "tokens": d_grid})
        ax1.plot(d_grid, loss, color=colormaps["viridis"](norm(n)), lw=1, ls="--", alpha=0.8)
    ax1.scatter(p1["tokens"], p1["task_loss"], c=p1["params"], norm=norm, cmap="viridis", s=30, zorder=3)
    runs = p2[p2["run"] != "anchor"]
    ax2.scatter(runs["task_loss"], runs["accuracy"], c=runs["params"], norm=norm, cmap="viridis", s=6,
                alpha=0.5)
    x_grid = np.linspace(0.0, runs["task_loss"].max() * 1.05, 200)
    ax2.plot(x_grid, fit.accuracy_at(x_grid), "k--", lw=1.5, label="fitted sigmoid")
    if targets is not None and len(targets):
        pred = fit.predict(targets["params"], targets["tokens"])
        colors = [colormaps["viridis"](norm(n)) for n in targets["params"]]
        known = "accuracy" in targets.columns
        _target_points(ax1, targets, targets["tokens"], pred["task_loss"],
                       (targets["tokens"], targets["task_loss"]) if known else None, colors)
        _target_points(ax2, targets, pred["task_loss"], pred["accuracy"],
                       (targets["task_loss"], targets["accuracy"]) if known else None, colors)
    ax1.set_xscale("log")
    ax1.set_xlabel("training tokens D")
    ax1.set_ylabel(fit.loss_name)
    ax2.set_xlabel(fit.loss_name)
    ax2.set_ylabel("accuracy")
    ax1.set_title("step 1: L(N, D) on the final checkpoints", fontsize=10)
    ax2.set_title("step 2: accuracy(L) on the checkpoints", fontsize=10)
    for panel in (ax1, ax2):
        panel.grid(True, alpha=0.3)
        panel.legend(fontsize=7)
    fig.colorbar(ScalarMappable(norm=norm, cmap="viridis"), ax=[ax1, ax2, ax3],
                 label="non-embedding parameters N", fraction=0.02)
    return fig


def ladder_tasks_figure(prediction, *, ax: Axes | None = None) -> Figure:
    """The chain of every task of a :class:`~scalelaw.families.downstream.ladder.LadderPrediction`,
    one panel each (all on ``ax`` when given), with its predicted and actual targets."""
    from scalelaw.plots.law import _axes

    tasks = list(prediction.fits)
    fig, task_axes = _axes(ax, len(tasks), width=4.6, height=3.6)
    for task, panel in zip(tasks, task_axes, strict=True):
        _ladder_chain_panel(panel, prediction.fits[task], prediction.targets(task),
                            title=None if ax is None else f"chained: {', '.join(tasks)}")
    if ax is None:
        fig.tight_layout()
    return fig


# --------------------------------------------------------------------------------- observational
def observational_figure(result, *, ax: Axes | None = None) -> Figure:
    """Left: the target against the fitted capability c + w . PC with the link, training and
    held-out models.  Right: predicted against actual scores, PCs and log-compute baseline.
    On ``ax``: the left panel alone."""
    if ax is None:
        fig, (left, right) = panels(None, 2, figsize=(12, 4.8))
    else:
        fig, left, right = ax.figure, ax, None
    m = result.models
    p = result.fit.params
    names = [s for s in result.fit.law.inputs]
    logit = p["c"] + sum(p[f"w{j + 1}"] * m[name] for j, name in enumerate(names))
    target = result.target
    for split, marker, color in (("train", "o", "tab:blue"), ("test", "s", "tab:red"),
                                 ("unknown compute", "^", "tab:gray")):
        rows = m["split"] == split
        if rows.any():
            left.scatter(logit[rows], m.loc[rows, target], marker=marker, color=color, s=18, alpha=0.8,
                         label=f"{split} ({int(rows.sum())})")
    grid = np.linspace(logit.min() - 0.5, logit.max() + 0.5, 200)
    b, ch = p["b"], result.chance
    left.plot(grid, ch + (1 - ch) * ((1 - b) / (1 + np.exp(-grid)) + b), "k--", lw=1.5, label="link")
    left.set_xlabel("capability c + w . PC (logit units)")
    left.set_ylabel(target)
    left.set_title(f"{target}: fitted on FLOPs <= {result.cutoff_flops:.3g}", fontsize=10)
    left.legend(fontsize=8)
    left.grid(True, alpha=0.3)
    if right is None:
        return fig
    test = m[m["split"] == "test"]
    right.scatter(test[target], test["predicted"], color="tab:red", s=20,
                  label=f"PCs (MSE {result.error('test', 'PCs'):.3g})")
    right.scatter(test[target], test["baseline"], color="tab:gray", marker="x", s=20,
                  label=f"log compute (MSE {result.error('test', 'log compute'):.3g})")
    lo, hi = float(np.nanmin(m[target])), float(np.nanmax(m[target]))
    right.plot([lo, hi], [lo, hi], "k:", lw=1)
    right.set_xlabel(f"actual {target}")
    right.set_ylabel("predicted")
    right.set_title("held-out models (above the cutoff)", fontsize=10)
    right.legend(fontsize=8)
    right.grid(True, alpha=0.3)
    return fig


# ----------------------------------------------------------------------------------------- error
def error_law_figure(fit, frame: pd.DataFrame, *, chained=None, ax: Axes | None = None) -> Figure:
    """Error against loss with the fitted law Err(L) = epsilon - k exp(-gamma L) (the fitted range
    of losses when ``frame`` is empty)."""
    fig, (ax,) = panels(ax, figsize=(6.5, 4.6))
    if len(frame):
        ax.scatter(frame["loss"], frame["error"], s=20, color="tab:blue", label="models")
        lo, hi = float(frame["loss"].min()), float(frame["loss"].max())
    else:
        lo, hi = (float(v) for v in fit.data["ranges"]["loss"])
    if chained is not None:
        lo, hi = min(lo, chained.loss), max(hi, chained.loss)
    grid = np.linspace(lo - 0.05 * (hi - lo), hi + 0.05 * (hi - lo), 200)
    value, low, up = fit.predict_interval({"loss": grid})
    ax.plot(grid, value, "k--", lw=1.5, label="fitted law")
    if np.isfinite(low).all():
        ax.fill_between(grid, low, up, color="gray", alpha=0.2)
    if chained is not None:
        ax.scatter([chained.loss], [chained.error], marker="x", s=80, color="tab:red", zorder=4,
                   label="chained prediction")
    p = fit.params
    ax.set_title(f"Err(L) = {p['epsilon']:.3f} - {p['k']:.3f} exp(-{p['gamma']:.3f} L)", fontsize=10)
    ax.set_xlabel("loss L")
    ax.set_ylabel("error")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return fig
