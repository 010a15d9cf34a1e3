"""Figures of the downstream family: one function per picture, each returning a Figure.

* :func:`chain_figure`: each metric of the predictability chain against compute, one thin line
  per question and the mean, and the distribution of per-question correlations with compute;
* :func:`ladder_figure`: the ladder's two steps and the chained prediction, with the targets'
  predicted and actual points;
* :func:`observational_figure`: the sigmoid link on the fitted capability, and predicted against
  actual scores of the held-out models;
* :func:`error_law_figure`: error against loss with the fitted law and a chained prediction.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import LogNorm  # noqa: E402

LABELS = {"logp_correct": "log p_vocab(correct) (nats)", "p_vocab_correct": "p_vocab(correct)",
          "p_choices_correct": "p_choices(correct)", "brier": "Brier score (lower is better)",
          "accuracy": "accuracy", "accuracy_norm": "accuracy (length-normalised)"}


# ----------------------------------------------------------------------------------------- chain
def chain_figure(result, *, family: str | None = None, max_questions: int = 60, seed: int = 0):
    """Each chain metric against compute for one family (per-question lines and their mean), and
    the per-question Pearson correlations with log10 compute, one histogram per metric."""
    from scalelaw.families.downstream.chain import chain_metrics

    metrics = result.per_question
    family = family or sorted(metrics["family"].unique())[0]
    part = metrics[metrics["family"] == family]
    names = chain_metrics(metrics)
    cols = 3
    rows = int(np.ceil((len(names) + 1) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.3 * rows), squeeze=False)
    flops = part.groupby("model")["flops"].first().sort_values()
    questions = part["question"].unique()
    rng = np.random.default_rng(seed)
    shown = rng.choice(questions, size=min(max_questions, questions.size), replace=False)
    for ax, name in zip(axes.flat, names, strict=False):
        wide = part.pivot(index="model", columns="question", values=name).loc[flops.index]
        ax.plot(flops.to_numpy(), wide[shown].to_numpy(), color="tab:blue", alpha=0.15, lw=0.8)
        ax.plot(flops.to_numpy(), wide.mean(axis=1).to_numpy(), color="black", lw=2, marker="o", ms=3,
                label="mean over questions")
        ax.set_xscale("log")
        ax.set_xlabel("training compute (FLOPs)")
        ax.set_ylabel(LABELS.get(name, name))
        ax.grid(True, alpha=0.3)
    axes.flat[0].legend(fontsize=8)
    hist = axes.flat[len(names)]
    corr = result.correlations
    corr = corr[(corr["family"] == family) & (corr["method"] == "pearson")]
    bins = np.linspace(-1, 1, 41)
    for name in names:
        values = corr.loc[corr["metric"] == name, "correlation"].dropna()
        if len(values):
            hist.hist(values, bins=bins, histtype="step", lw=1.5, density=True, label=name)
    hist.set_xlabel("per-question Pearson correlation with log10 compute")
    hist.set_ylabel("density")
    hist.legend(fontsize=7)
    for ax in list(axes.flat)[len(names) + 1:]:
        ax.set_visible(False)
    fig.suptitle(f"predictability chain: family {family} ({len(flops)} models, {questions.size} questions)",
                 fontsize=11)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------------------------------- ladder
def ladder_figure(fit, logs, *, targets: pd.DataFrame | None = None):
    """Step 1 (task loss vs tokens per size), step 2 (accuracy vs task loss), and the chain
    (accuracy vs tokens), with predicted (x) and actual (o) target points.

    ``targets`` has ``params, tokens`` and optionally actual ``task_loss`` and ``accuracy`` (as
    :func:`scalelaw.families.downstream.ladder.compare_targets` returns)."""
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(15, 4.6))
    p1, p2 = fit.points1, fit.points2
    sizes = np.sort(p1["params"].unique())
    extra = [] if targets is None else list(targets["params"])
    norm = LogNorm(vmin=sizes.min(), vmax=max(max(extra, default=0), sizes.max() * 1.01))
    d_all = np.concatenate([p1["tokens"].to_numpy(), [] if targets is None else targets["tokens"].to_numpy()])
    d_grid = np.geomspace(d_all.min() * 0.8, d_all.max() * 1.5, 200)
    for n in [*sizes, *extra]:
        color = plt.cm.viridis(norm(n))
        loss = fit.step1.predict({"params": np.full_like(d_grid, n), "tokens": d_grid})
        ax1.plot(d_grid, loss, color=color, lw=1, ls="--", alpha=0.8)
        ax3.plot(d_grid, fit.accuracy_at(loss), color=color, lw=1, ls="--", alpha=0.8)
    ax1.scatter(p1["tokens"], p1["task_loss"], c=p1["params"], norm=norm, cmap="viridis", s=30, zorder=3)
    ax3.scatter(p1["tokens"], p1["accuracy"], c=p1["params"], norm=norm, cmap="viridis", s=30, zorder=3)
    runs = p2[p2["run"] != "anchor"]
    ax2.scatter(runs["task_loss"], runs["accuracy"], c=runs["params"], norm=norm, cmap="viridis", s=6,
                alpha=0.5)
    x_grid = np.linspace(0.0, runs["task_loss"].max() * 1.05, 200)
    ax2.plot(x_grid, fit.accuracy_at(x_grid), "k--", lw=1.5, label="fitted sigmoid")
    if targets is not None and len(targets):
        pred = fit.predict(targets["params"], targets["tokens"])
        colors = [plt.cm.viridis(norm(n)) for n in targets["params"]]
        ax1.scatter(targets["tokens"], pred["task_loss"], marker="x", c=colors, s=60, zorder=4,
                    label="target, predicted")
        ax3.scatter(targets["tokens"], pred["accuracy"], marker="x", c=colors, s=60, zorder=4,
                    label="target, predicted")
        ax2.scatter(pred["task_loss"], pred["accuracy"], marker="x", c=colors, s=60, zorder=4,
                    label="target, predicted")
        if "accuracy" in targets.columns:
            ax1.scatter(targets["tokens"], targets["task_loss"], marker="o", facecolors="none",
                        edgecolors=colors, s=70, zorder=4, label="target, actual")
            ax3.scatter(targets["tokens"], targets["accuracy"], marker="o", facecolors="none",
                        edgecolors=colors, s=70, zorder=4, label="target, actual")
            ax2.scatter(targets["task_loss"], targets["accuracy"], marker="o", facecolors="none",
                        edgecolors=colors, s=70, zorder=4, label="target, actual")
    for ax in (ax1, ax3):
        ax.set_xscale("log")
        ax.set_xlabel("training tokens D")
    ax1.set_ylabel(fit.loss_name)
    ax2.set_xlabel(fit.loss_name)
    ax2.set_ylabel("accuracy")
    ax3.set_ylabel("accuracy")
    ax1.set_title("step 1: L(N, D) on the final checkpoints", fontsize=10)
    ax2.set_title("step 2: accuracy(L) on the checkpoints", fontsize=10)
    ax3.set_title(f"chained: {fit.task}", fontsize=10)
    for ax in (ax1, ax2, ax3):
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7)
    fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap="viridis"), ax=[ax1, ax2, ax3],
                 label="non-embedding parameters N", fraction=0.02)
    return fig


# --------------------------------------------------------------------------------- observational
def observational_figure(result):
    """Left: the target against the fitted capability c + w . PC with the link, training and
    held-out models.  Right: predicted against actual scores, PCs and log-compute baseline."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.8))
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
    for ax in (left, right):
        ax.grid(True, alpha=0.3)
    return fig


# ----------------------------------------------------------------------------------------- error
def error_law_figure(fit, frame: pd.DataFrame, *, chained=None):
    """Error against loss with the fitted law Err(L) = epsilon - k exp(-gamma L)."""
    fig, ax = plt.subplots(figsize=(6.5, 4.6))
    ax.scatter(frame["loss"], frame["error"], s=20, color="tab:blue", label="models")
    lo, hi = frame["loss"].min(), frame["loss"].max()
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
