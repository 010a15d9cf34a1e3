"""Figures of the sampling family: coverage against k with fitted laws, and the utility U(K)."""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def coverage_curves(fit, *, extend: float = 10.0):
    """Coverage against samples per problem k (log axis), one colour per model.

    Points are the observed coverage (mean unbiased pass@k) at the fitted grid with their
    bootstrap-over-problems interval (band); lines are the fitted coverage models, solid over the
    observed k and dashed up to ``extend`` times the largest observed k.
    """
    fig, ax = plt.subplots(figsize=(8, 5.2))
    colours = plt.cm.viridis(np.linspace(0.0, 0.9, len(fit.fits)))
    for colour, (model, f) in zip(colours, fit.fits.items(), strict=True):
        curve = f.curve
        k = curve["k"].to_numpy(dtype=float)
        ax.scatter(k, curve["coverage"], color=colour, s=12, zorder=3)
        if np.isfinite(curve["lower"]).all():
            ax.fill_between(k, curve["lower"], curve["upper"], color=colour, alpha=0.18, lw=0)
        inside = np.geomspace(1.0, k.max(), 120)
        beyond = np.geomspace(k.max(), k.max() * extend, 40)
        ax.plot(inside, f.coverage(inside)[0], color=colour, lw=1.4, label=model)
        ax.plot(beyond, f.coverage(beyond)[0], color=colour, lw=1.2, ls="--")
    ax.set_xscale("log")
    ax.set_ylim(0, 1)
    ax.set_xlabel("samples per problem k")
    ax.set_ylabel("coverage (mean pass@k over problems)")
    method = "exp(-A k^-beta)" if fit.method == "powerlaw" else "scaled Beta-binomial"
    space = f", loss in {fit.settings.get('space')}" if fit.method == "powerlaw" else ""
    ax.set_title(f"coverage with fitted {method}{space}; dashed: extrapolation", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    return fig


def utility_curves(plans: Mapping[str, object]):
    """Expected utility U(K) against the number of samples K (log axis), marking each K_opt."""
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    colours = plt.cm.plasma(np.linspace(0.0, 0.85, len(plans)))
    for colour, (label, p) in zip(colours, plans.items(), strict=True):
        ax.plot(p.curve["K"], p.curve["utility"], color=colour, lw=1.5, label=label)
        if p.k_opt:
            ax.scatter([p.k_opt], [p.utility], color=colour, zorder=3, s=30)
            ax.annotate(f"K_opt = {p.k_opt}", (p.k_opt, p.utility), textcoords="offset points",
                        xytext=(4, 4), fontsize=8, color=colour)
    ax.axhline(0.0, color="black", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("samples drawn at most, K")
    ax.set_ylabel("expected utility U(K) (correct = +1)")
    ax.set_title("resampling with an imperfect verifier", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    return fig
