"""The hyperparameter family in Python: published values, exact recovery of synthetic laws and
surfaces, selection, artifacts (no shared data needed)."""

from __future__ import annotations

import doctest
import importlib
import math

import numpy as np
import pandas as pd
import pytest
from hparams_sweeps import BATCH_LAW, GROUPS, LR_LAW, H, optimum, sweep_frame

import scalelaw
from scalelaw.errors import FitError, InputError, LawError
from scalelaw.families import hyperparams as hp
from scalelaw.families.hyperparams.published import power_law

MODULES = ["", ".sweep", ".model", ".plateau", ".published", ".fitting", ".evaluate", ".recommend"]


@pytest.mark.parametrize("suffix", MODULES)
def test_docstring_examples(suffix):
    module = importlib.import_module("scalelaw.families.hyperparams" + suffix)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.failed == 0


# ------------------------------------------------------------------------------ published laws
def test_steplaw_at_7b_reproduces_the_issue_numbers():
    r = hp.recommend(hp.published("steplaw", bootstrap_file=False), 7e9, 1.4e12)
    assert f"{r.lr:.3g}" == "0.000917"
    assert round(r.batch_size / 1e6, 1) == 5.0
    assert r.batch_size_sequences == pytest.approx(r.batch_size / 2048)
    assert round(r.batch_size_sequences) == 2441
    assert r.intervals is None


def test_deepseek_reproduces_its_production_settings():
    """DeepSeek LLM 7B (30 layers, d 4096) and 67B (95 layers, d 8192), 2T tokens, seq 4096:
    published lr 4.2e-4 and 3.2e-4, batch 9.4M tokens at 7B."""
    law = hp.published("deepseek")
    seven = hp.recommend(law, 12 * 30 * 4096**2, 2e12, seq_len=4096, n_layers=30, d_model=4096)
    big = hp.recommend(law, 12 * 95 * 8192**2, 2e12, seq_len=4096, n_layers=95, d_model=8192)
    assert seven.lr == pytest.approx(4.2e-4, rel=0.02)
    assert seven.batch_size == pytest.approx(9.4e6, rel=0.03)
    assert big.lr == pytest.approx(3.2e-4, rel=0.03)
    without = hp.recommend(law, 12 * 30 * 4096**2, 2e12, seq_len=4096)
    assert without.lr > seven.lr  # 6 N D is smaller than M D, so the lr is higher
    assert any("without the attention term" in w for w in without.warnings)


def test_porian_closed_form():
    r = hp.recommend(hp.published("porian"), 1e8, 2e9)
    assert r.lr == pytest.approx(3.7 * 1e8**-0.36, rel=1e-12)
    assert r.batch_size == pytest.approx(0.7576 * 1e8**0.703, rel=1e-12)
    assert r.warnings == ()  # 1e8 lies in 2.5e7..1.1e8


def test_warnings_for_ranges_seq_len_and_moe():
    law = hp.published("steplaw", bootstrap_file=False)
    inside = hp.recommend(law, 5e8, 2e10)
    assert inside.warnings == ()
    r = hp.recommend(law, 5e8, 5e8, seq_len=4096, moe=True)
    text = " | ".join(r.warnings)
    assert "D (tokens) = 5e+08 is outside" in text
    assert "D/N = 1 is outside" in text
    assert "sequence length 2048, not 4096" in text
    assert "total (not active)" in text
    assert r.batch_size_sequences == pytest.approx(r.batch_size / 4096)


def test_square_root_rule_without_a_surface():
    law = hp.published("steplaw", bootstrap_file=False)
    r = hp.recommend(law, 5e8, 2e10, batch_size=1e6)
    assert r.at_batch_size["lr"] == pytest.approx(r.lr * math.sqrt(1e6 / r.batch_size), rel=1e-12)
    assert r.at_batch_size["excess_loss"] is None


def test_unknown_law_and_bad_numbers():
    with pytest.raises(LawError, match="unknown law 'adam'"):
        hp.resolve("adam")
    law = hp.published("porian")
    for bad in (0, -5, float("nan")):
        with pytest.raises(InputError, match="params"):
            hp.recommend(law, bad, 1e9)


# ------------------------------------------------------------------------------ sweeps and fits
def _sweep(frame=None, **options) -> hp.Sweep:
    return hp.select(hp.tidy(sweep_frame() if frame is None else frame), **options)


def test_fit_recovers_the_law_of_exact_optima():
    """Optima on the grid centres and a centrally symmetric band: OLS recovers the law exactly."""
    law = hp.fit_sweep(_sweep(), bootstrap=0)
    point = hp.coefficients(law).set_index(["form", "coefficient"])["value"]
    c, a, b = LR_LAW
    assert point["lr(N,D)", "c"] == pytest.approx(c, rel=1e-8)
    assert point["lr(N,D)", "alpha_N"] == pytest.approx(a, abs=1e-9)
    assert point["lr(N,D)", "alpha_D"] == pytest.approx(b, abs=1e-9)
    assert point["batch(D)", "c"] == pytest.approx(BATCH_LAW[0], rel=1e-8)
    assert point["batch(D)", "alpha_D"] == pytest.approx(BATCH_LAW[1], abs=1e-9)
    assert point["batch(N,D)", "alpha_N"] == pytest.approx(0.0, abs=1e-9)
    assert hp.formulas(law) == {"lr": "lr = 2 N^-0.7 D^0.3", "batch_size": "B = 0.5 D^0.55"}
    n, d = 7e9, 1.4e12
    p = hp.predict(law, hp.inputs(n, d))
    assert p["lr"][0] == pytest.approx(optimum(n, d)[0], rel=1e-7)


def test_band_zero_is_the_argmin_and_band_counts():
    sweep = _sweep(band=0.0)
    assert (sweep.groups["near_optimal"] == 1).all()
    wide = _sweep(band=0.0025)
    # Points of the sqrt(2) grid with excess below 0.25% (same count in every group).
    huu, huv, hvv = H
    s = np.log(2**0.5)
    count = sum(
        0.5 * (huu * (i * s) ** 2 + 2 * huv * i * j * s * s + hvv * (j * s) ** 2) < 0.0025
        for i in range(-4, 5)
        for j in range(-3, 4)
    )
    assert (wide.groups["near_optimal"] == count).all()


def test_diverged_runs_and_edges():
    frame = sweep_frame()
    frame.loc[0, "loss"] = np.nan
    frame.loc[1, "loss"] = 50.0
    shifted = sweep_frame(GROUPS[:1], lr_steps=range(0, 6))  # optimum on the lowest lr of its grid
    shifted["params"] = 2e8
    sweep = _sweep(pd.concat([frame, shifted], ignore_index=True))
    assert int(sweep.runs["diverged"].sum()) == 2
    assert any("dropped 2 of" in n for n in sweep.notes)
    edge = sweep.groups.set_index("group")["on_edge"]
    assert edge.sum() == 1 and edge[hp.sweep.label(2e8, 2e9)]
    assert len(_sweep(pd.concat([frame, shifted], ignore_index=True), exclude_edge=True).groups) == len(
        GROUPS
    )


def test_selection_errors():
    frame = sweep_frame()
    with pytest.raises(FitError, match="every one of the 315 runs diverged"):
        _sweep(frame.assign(loss=np.nan))
    with pytest.raises(FitError, match="no .N, D. group has two or more usable runs"):
        _sweep(frame.groupby(["params", "tokens"]).head(1))
    with pytest.raises(FitError, match="single .N, D. group"):
        hp.fit_sweep(_sweep(sweep_frame(GROUPS[:1])))
    line = [(1e8, 2e9), (2e8, 4e9), (4e8, 8e9)]  # D/N constant: N and D do not vary independently
    with pytest.raises(FitError, match="lr law N,D needs groups whose model size N and tokens D vary"):
        hp.fit_sweep(_sweep(sweep_frame(line)), bootstrap=0)
    law = hp.fit_sweep(_sweep(sweep_frame(line)), lr_form="C", bootstrap=0)
    assert hp.used(law) == ("lr(C)", "batch(D)")
    assert any("not fitted" in n for n in law.warnings)


def test_plateau_recovers_the_surface_and_its_ranges():
    law = hp.fit_sweep(_sweep(), bootstrap=0)
    s = law.info["plateau"].surfaces
    assert len(s) == len(GROUPS)
    np.testing.assert_allclose(
        s[["H_uu", "H_uv", "H_vv"]].to_numpy(), np.tile(H, (len(GROUPS), 1)), rtol=1e-7
    )
    assert s["vertex_inside"].all()
    np.testing.assert_allclose(s["excess_vertex"], 0.0, atol=1e-10)
    n, d = 3e8, 1e10
    lr, b = optimum(n, d)
    r = hp.recommend(law, n, d, batch_size=b * 4)
    huu, huv, hvv = H
    first = r.plateau[0]
    assert first["tolerance"] == 0.0025
    assert first["lr"][1] / first["lr"][0] == pytest.approx(
        math.exp(2 * math.sqrt(2 * 0.0025 / huu)), rel=1e-6
    )
    assert first["batch_size"][1] / first["batch_size"][0] == pytest.approx(
        math.exp(2 * math.sqrt(2 * 0.0025 / hvv)), rel=1e-6
    )
    assert r.ridge_slope == pytest.approx(-huv / huu, rel=1e-6)
    # The box's worst corner (lr up, batch down: H_uv < 0) lies on the 0.25% contour.
    box = first["box"]
    u, v = math.log(box["lr"][1] / lr), math.log(box["batch_size"][0] / b)
    assert 0.5 * (huu * u * u + 2 * huv * u * v + hvv * v * v) == pytest.approx(0.0025, rel=1e-6)
    assert box["lr"][0] > first["lr"][0] and box["batch_size"][1] < first["batch_size"][1]
    v = math.log(4)
    assert r.at_batch_size["lr"] == pytest.approx(lr * math.exp(-huv / huu * v), rel=1e-6)
    assert r.at_batch_size["excess_loss"] == pytest.approx(0.5 * (hvv - huv**2 / huu) * v * v, rel=1e-6)


def test_bootstrap_intervals_are_seeded_and_cover_the_truth():
    frame = sweep_frame()
    rng = np.random.default_rng(3)
    frame["loss"] *= 1 + 0.0015 * rng.standard_normal(len(frame))
    first = hp.fit_sweep(_sweep(frame), bootstrap=300, seed=7)
    again = hp.fit_sweep(_sweep(frame), bootstrap=300, seed=7)
    np.testing.assert_array_equal(hp.lr_fit(first).bootstrap, hp.lr_fit(again).bootstrap)
    coef = hp.coefficients(first).set_index(["form", "coefficient"])
    lo, hi = coef.loc[("lr(N,D)", "alpha_N"), ["lower", "upper"]]
    assert lo < hi
    r = hp.recommend(first, 4e8, 1e10)
    iv = r.intervals
    assert iv["level"] == 0.9
    assert iv["lr"]["lower"] < iv["lr"]["median"] < iv["lr"]["upper"]
    assert iv["batch_size_sequences"]["upper"] == pytest.approx(iv["batch_size"]["upper"] / 2048)


def test_artifact_round_trip(tmp_path):
    law = hp.fit_sweep(_sweep(), bootstrap=50, seed=1)
    path = tmp_path / "fit.json"
    law.to_json(path)
    back = scalelaw.load(path)
    assert hp.used(back) == hp.used(law) and hp.formulas(back) == hp.formulas(law)
    data = hp.inputs([1e8, 7e9], [2e9, 1.4e12])
    for key in ("lr", "batch_size"):
        np.testing.assert_array_equal(hp.predict(back, data)[key], hp.predict(law, data)[key])
        np.testing.assert_array_equal(hp.intervals(back, data)[key]["upper"], hp.intervals(law, data)[key]["upper"])
    pd.testing.assert_frame_equal(back.info["plateau"].surfaces, law.info["plateau"].surfaces)
    assert back.info["selection"]["band"] == 0.0025 and hp.about(back).ranges == hp.about(law).ranges


def test_evaluation_and_cross_validation_on_exact_data():
    sweep = _sweep()
    law = hp.fit_sweep(sweep, bootstrap=0)
    ev = hp.evaluate(sweep, law)
    assert ev.mean_gap == pytest.approx(0.0, abs=1e-12)
    cv = hp.cross_validate(sweep, law)
    assert cv.kind == "leave-one-group-out" and cv.max_gap == pytest.approx(0.0, abs=1e-12)
    # A law two sqrt(2) steps high in lr lands there: its gap is the surface at u = ln 2, v = 0.
    c, a, b = LR_LAW
    shifted = hp.law_group(
        hp.about(law),
        {
            "lr": power_law("lr2", "lr", 2 * c, {"N": a, "D": b}),
            "batch": power_law("b", "batch_size", BATCH_LAW[0], {"D": BATCH_LAW[1]}),
        },
        ("lr", "batch"),
    )
    off = hp.evaluate(sweep, shifted)
    np.testing.assert_allclose(off.groups["gap"], 0.5 * H[0] * math.log(2) ** 2, rtol=1e-9)
    assert not off.groups["off_grid"].any()
