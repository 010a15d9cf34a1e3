"""The noise model and prediction intervals: closed forms, the artifact, the CLI, and older fits."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from scalelaw import engine, get_law, intervals, load
from scalelaw.errors import InputError

from support import assert_user_error

ROOT = Path(__file__).resolve().parents[1]
CHINCHILLA = ROOT / "data" / "loss" / "epoch_chinchilla_svg_extracted.csv"
OLD_FIT = ROOT / "tests" / "legacy_artifacts" / "fit.json"  # written before the noise model


def test_quantiles_of_one_normal_and_of_a_mixture():
    lo, hi = intervals.quantiles(np.array([[0.0, 1.0]]), np.array([1.0, 2.0]), (0.025, 0.975))
    np.testing.assert_allclose(lo, [-1.959963985, 1 - 2 * 1.959963985], rtol=1e-9)
    np.testing.assert_allclose(hi, [1.959963985, 1 + 2 * 1.959963985], rtol=1e-9)
    # an equal mixture of N(-1, 1) and N(1, 1): symmetric, its median 0 and P(|y| < q) = 0.8 at q
    lo, mid, hi = intervals.quantiles(np.array([[-1.0], [1.0]]), np.array([1.0]), (0.1, 0.5, 0.9))
    assert abs(mid[0]) < 1e-12 and lo[0] == pytest.approx(-hi[0], abs=1e-12)
    from scipy.special import ndtr
    q = hi[0]
    assert 0.5 * (ndtr(q + 1) + ndtr(q - 1)) == pytest.approx(0.9, abs=1e-12)
    # weights: all the mass on the second component
    lo, hi = intervals.quantiles(np.array([[-5.0], [1.0]]), np.array([1.0]), (0.5, 0.5), weights=np.array([0, 1.0]))
    assert lo[0] == pytest.approx(1.0, abs=1e-12)
    # no scatter: the percentiles of the draws (here a point mass)
    lo, hi = intervals.quantiles(np.array([[2.0]]), np.array([0.0]), (0.1, 0.9))
    assert lo[0] == pytest.approx(2.0) and hi[0] == pytest.approx(2.0)


def test_the_constant_noise_model_is_the_rms_residual_with_degrees_of_freedom():
    y = np.array([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    prediction = y * np.exp([0.01, -0.02, 0.03, -0.01, 0.02, -0.03])
    noise = intervals.fit_noise("log", {"x": np.full(6, 1.0)}, y, prediction, n_params=2)  # x constant: no slope
    assert noise["model"] == "constant" and noise["dof_factor"] == 6 / 4
    assert noise["sigma"] == pytest.approx(np.sqrt(np.mean(np.square([0.01, 0.02, 0.03, 0.01, 0.02, 0.03])) * 6 / 4))


def test_the_scale_model_recovers_a_known_slope_and_is_chosen_by_aic():
    rng = np.random.default_rng(3)
    x = np.geomspace(1e6, 1e10, 4000)
    s = np.log(x)
    sd = np.exp(-4 + 0.1 * (s - s.mean()))
    y = np.exp(rng.normal(0, sd))
    noise = intervals.fit_noise("log", {"x": x}, y, np.ones_like(y))
    assert noise["model"] == "scale" and noise["aic"]["scale"] < noise["aic"]["constant"] - 100
    a, b = noise["log_sigma"]
    assert b / noise["spread"] == pytest.approx(0.1, abs=0.01) and a == pytest.approx(-4, abs=0.05)
    np.testing.assert_allclose(intervals.sigma(noise, {"x": x[[0, -1]]}), sd[[0, -1]], rtol=0.1)
    flat = intervals.fit_noise("log", {"x": x}, np.exp(rng.normal(0, 0.02, x.size)), np.ones_like(y))
    assert flat["model"] == "constant" and flat["sigma"] == pytest.approx(0.02, rel=0.05)


def test_a_decreasing_space_swaps_the_bounds():
    noise = {"model": "constant", "sigma": 0.1}
    lo, hi = intervals.prediction_interval("loglog", noise, {"k": np.array([1.0])}, np.array([[0.5]]), 0.9)
    assert lo[0] < 0.5 < hi[0]


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    from scalelaw.families import loss as family

    frame, _ = family.read_runs(CHINCHILLA, exclude_highest=5)
    return frame, family.fit_loss(frame, "chinchilla", bootstrap=100, seed=0)


def test_the_noise_model_changes_no_fitted_number_and_round_trips(fitted, tmp_path):
    frame, fit = fitted
    assert fit.noise["model"] in intervals.MODELS and fit.noise["rows"] == 240
    path = tmp_path / "fit.json"
    fit.to_json(path)
    back = load(path)
    assert back.noise == fit.noise and back.params == fit.params
    replay = engine.fit(fit.law, frame, **fit.settings)
    np.testing.assert_array_equal(replay.bootstrap, fit.bootstrap)
    assert replay.params == fit.params and replay.noise == fit.noise
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        v, lo, hi = back.predict(params="70B", tokens="1.4T", interval="prediction")
        cv, clo, chi = back.predict(params="70B", tokens="1.4T", interval="confidence")
        _, plo, phi = back.predict_interval(params="70B", tokens="1.4T")  # the older call: confidence
    assert v == cv and (plo, phi) == (clo, chi)
    assert lo < clo < v < chi < hi  # the prediction interval holds the confidence interval
    assert v == pytest.approx(1.97337, abs=1e-4)


def test_an_older_fit_refuses_a_prediction_interval_in_python_and_on_the_cli(cli):
    old = load(OLD_FIT)
    assert old.noise is None and old.interval_kind() == "confidence"
    with pytest.raises(InputError, match=r"^refit law 'chinchilla' for interval=prediction"):
        old.predict(params="1B", tokens="20B", interval="prediction")
    run = cli("predict", str(OLD_FIT), "--params", "1B", "--tokens", "20B", "--interval", "prediction")
    assert_user_error(run, "refit law 'chinchilla' for --interval prediction")
    assert "--interval confidence" in run.stderr
    default = json.loads(cli("predict", str(OLD_FIT), "--params", "1B", "--tokens", "20B", "--json").stdout)
    assert default["interval"] == "confidence"
    text = cli("predict", str(OLD_FIT), "--params", "1B", "--tokens", "20B").stdout
    assert "confidence interval: bootstrap parameters only" in text
    assert_user_error(cli("predict", str(OLD_FIT), "--params", "1B", "--tokens", "20B", "--interval", "wide"),
                      "--interval 'wide': give prediction or confidence")


def test_the_cli_states_the_interval_in_text_and_json(cli, fitted, tmp_path):
    _, fit = fitted
    path = tmp_path / "fit.json"
    fit.to_json(path)
    text = cli("predict", str(path), "--params", "1B", "--tokens", "20B").stdout
    assert "95% prediction interval: bootstrap and residual scatter" in text
    both = {kind: json.loads(cli("predict", str(path), "--params", "1B", "--tokens", "20B", "--interval", kind,
                                 "--json").stdout) for kind in ("prediction", "confidence")}
    assert both["prediction"]["interval"] == "prediction" and both["confidence"]["interval"] == "confidence"
    assert both["prediction"]["lower"] < both["confidence"]["lower"] < both["confidence"]["upper"] \
        < both["prediction"]["upper"]
    _, lo, hi = fit.predict_interval(params=1e9, tokens=2e10, warn=False)
    assert (both["confidence"]["lower"], both["confidence"]["upper"]) == (float(lo[0]), float(hi[0]))


def test_without_bootstrap_the_prediction_interval_is_the_scatter_and_says_so():
    x = np.geomspace(1e6, 1e9, 40)
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"x": x, "loss": (2 + 30 * x**-0.3) * np.exp(rng.normal(0, 0.01, x.size))})
    fit = engine.fit(get_law("saturating_power_law"), table)
    with pytest.warns(UserWarning, match="residual scatter only"):
        value, lo, hi = fit.predict(x=1e8, interval="prediction")
    sd = fit.noise["sigma"] if fit.noise["model"] == "constant" else float(intervals.sigma(fit.noise, {"x": 1e8}))
    assert np.log(hi / value)[0] == pytest.approx(1.959963985 * sd, rel=1e-8)
    assert np.log(value / lo)[0] == pytest.approx(1.959963985 * sd, rel=1e-8)
