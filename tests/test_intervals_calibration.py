"""Calibration of prediction intervals: held-out largest scales of the shipped loss sets (measured and
printed, no nominal requirement: the laws are not the truth there), and simulations from a known law
with realistic noise, where the coverage must be within 3 points of nominal."""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd
import pytest

from scalelaw import engine, get_law
from scalelaw.families import loss as family

from support import DATA

LEVELS = (0.8, 0.95)
PORIAN_CONFIG = ["dataset", "hparams", "warmup", "decay", "param_count", "loss_split"]


def covered(fit, test: pd.DataFrame) -> dict[str, np.ndarray]:
    """Per held-out row, whether each interval (kind, level) holds the actual target."""
    y = test[fit.law.target].to_numpy(dtype=float)
    out = {}
    for kind in ("prediction", "confidence"):
        for level in LEVELS:
            _, lo, hi = fit.predict_interval(test, level, interval=kind, warn=False)
            out[f"{kind} {level:g}"] = (y >= lo) & (y <= hi)
    return out


def pooled(parts: list[dict[str, np.ndarray]]) -> dict[str, float]:
    return {key: float(np.mean(np.concatenate([p[key] for p in parts]))) for key in parts[0]}


def show(name: str, coverage: dict[str, float], n: int) -> None:
    print(f"{name}: {n} held out; " + ", ".join(f"{k} {100 * v:.1f}%" for k, v in coverage.items()))


@functools.cache
def chinchilla() -> dict[str, float]:
    frame, _ = family.read_runs(DATA / "loss" / "epoch_chinchilla_svg_extracted.csv", exclude_highest=5)
    held = family.holdout_mask(frame, top_frac=0.2)
    fit = engine.fit(get_law("chinchilla"), frame[~held], bootstrap=100, seed=0)
    coverage = pooled([covered(fit, frame[held])])
    show("Chinchilla (top 20% of compute held out)", coverage, int(held.sum()))
    return coverage


@functools.cache
def porian() -> dict[str, float]:
    frame = pd.read_csv(DATA / "loss" / "porian_isoflop_points.csv")
    frame["config"] = frame[PORIAN_CONFIG].astype(str).agg("/".join, axis=1)
    held = (frame.groupby("config")["flops"].rank(method="dense", ascending=False) <= 2).to_numpy()
    group = engine.fit(get_law("chinchilla"), frame[~held], by="config", bootstrap=100, seed=0)
    test = frame[held]
    coverage = pooled([covered(fit, test[test["config"] == name]) for name, fit in group.items()])
    show("Porian isoFLOPs (15 configurations, 2 largest budgets held out)", coverage, int(held.sum()))
    return coverage


@functools.cache
def olmo() -> dict[str, float]:
    frame = pd.read_csv(DATA / "loss" / "colpret_olmo_checkpoint_losses.csv")
    parts = []
    for model, column in (("OLMo-1B", "pile/CrossEntropyLoss"), ("OLMo-7B", "mc4_en-validation/CrossEntropyLoss"),
                          ("OLMo-7B-Twin-2T", "mc4_en-validation/CrossEntropyLoss")):
        runs = frame[frame["model_name"].str.strip() == model].dropna(subset=[column])  # OLMo-1B: steps, no tokens
        runs = runs[runs["step"] >= 2500]
        runs = runs.assign(x=runs["step"], loss=runs[column])
        held = family.holdout_mask(runs, top_frac=0.2, order_by="step")
        fit = engine.fit(get_law("saturating_power_law"), runs[~held], bootstrap=100, seed=0)
        parts.append(covered(fit, runs[held]))
        show(f"  {model} ({column})", pooled(parts[-1:]), int(held.sum()))
    coverage = pooled(parts)
    show("OLMo checkpoints (loss against training steps, last 20% held out)", coverage, sum(p["prediction 0.8"].size
                                                                                  for p in parts))
    return coverage


@pytest.mark.parametrize("measured, expected", [
    # the coverage measured on held-out largest scales: prediction 80%, 95%; confidence 80%, 95%
    (chinchilla, (0.27, 0.54, 0.04, 0.13)),
    (porian, (0.54, 0.67, 0.14, 0.23)),
    (olmo, (0.26, 0.26, 0.00, 0.00)),
], ids=["chinchilla", "porian", "olmo"])
def test_coverage_on_the_held_out_largest_scales_of_shipped_data(measured, expected):
    coverage = measured()
    got = [coverage["prediction 0.8"], coverage["prediction 0.95"], coverage["confidence 0.8"],
           coverage["confidence 0.95"]]
    np.testing.assert_allclose(got, expected, atol=0.08)
    assert got[0] >= got[2] and got[1] >= got[3]  # the scatter only widens


def simulate(law: str, truth: dict, train: pd.DataFrame, test: pd.DataFrame, *, seeds: int, sigma: float,
             bootstrap: int, **settings) -> dict[str, float]:
    """Coverage of the intervals of ``law`` fitted to noisy copies of ``train`` and checked on noisy
    copies of ``test`` (lognormal noise of ``sigma`` in log space), pooled over ``seeds``."""
    law = get_law(law)
    rng = np.random.default_rng(20261202)
    truth_train = law.evaluate({s: train[law.column(s)].to_numpy() for s in law.inputs}, truth)
    truth_test = law.evaluate({s: test[law.column(s)].to_numpy() for s in law.inputs}, truth)
    rows, tests = [], []
    for seed in range(seeds):
        rows.append(train.assign(loss=truth_train * np.exp(sigma * rng.standard_normal(len(train))), seed=seed))
        tests.append(test.assign(loss=truth_test * np.exp(sigma * rng.standard_normal(len(test)))))
    group = engine.fit(law, pd.concat(rows, ignore_index=True), by="seed", bootstrap=bootstrap, seed=0, **settings)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        parts = [covered(fit, tests[int(name)]) for name, fit in group.items()]
    return pooled(parts)


def test_a_learning_curve_simulation_covers_within_3_points_of_nominal():
    """E + A x^-alpha with 1% noise, 30 points over two decades, 10 new points up to 4x past the largest."""
    coverage = simulate("saturating_power_law", {"E": 1.8, "A": 40.0, "alpha": 0.3},
                        pd.DataFrame({"x": np.geomspace(1e6, 1e8, 30)}),
                        pd.DataFrame({"x": np.geomspace(1.2e8, 4e8, 10)}), seeds=200, sigma=0.01, bootstrap=50,
                        polish=16)
    show("simulated learning curves (200 seeds)", coverage, 2000)
    assert coverage["prediction 0.8"] == pytest.approx(0.8, abs=0.03)
    assert coverage["prediction 0.95"] == pytest.approx(0.95, abs=0.03)
    assert coverage["confidence 0.95"] < 0.85  # parameter uncertainty alone is far too narrow


@pytest.mark.slow
def test_a_chinchilla_simulation_covers_within_3_points_of_nominal():
    """The Chinchilla law (Besiroglu et al.'s estimates) with 1% noise: 8 sizes on each of 7 budgets from
    1e18 to 1e21 FLOPs, the largest budget held out and drawn again."""
    budgets = np.geomspace(1e18, 1e21, 7)
    c = np.repeat(budgets, 8)
    n = np.concatenate([np.geomspace(b**0.5 / 20, b**0.5 / 2, 8) for b in budgets])
    grid = pd.DataFrame({"params": n, "tokens": c / (6 * n)})
    held = c == budgets[-1]
    coverage = simulate("chinchilla", {"E": 1.82, "A": 482.0, "B": 2085.0, "alpha": 0.3478, "beta": 0.3658},
                        grid[~held], grid[held], seeds=200, sigma=0.01, bootstrap=50)
    show("simulated Chinchilla isoFLOPs (200 seeds)", coverage, 200 * int(held.sum()))
    assert coverage["prediction 0.8"] == pytest.approx(0.8, abs=0.03)
    assert coverage["prediction 0.95"] == pytest.approx(0.95, abs=0.03)
