"""The asymmetric lower-envelope loss and law averaging judged by rolling-origin extrapolation."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from scalelaw import averaging, engine, get_law, protocol
from scalelaw.answers import answer
from scalelaw.errors import ExtrapolationWarning, FitError, ScalelawError
from scalelaw.families import loss
from scalelaw.losses import Asymmetric, make_loss

from support import DATA, assert_user_error, run_cli

CHINCHILLA = DATA / "loss" / "epoch_chinchilla_svg_extracted.csv"


@pytest.fixture(scope="module")
def runs() -> pd.DataFrame:
    table = pd.read_csv(CHINCHILLA).rename(columns={"Model Size": "params", "Training FLOP": "flops"})
    frame, _ = loss.prepare(table[["params", "flops", "loss"]], exclude_highest=5)
    return frame


# ------------------------------------------------------------------------------------- the loss
def test_asymmetric_loss_values_gradient_and_reweighting():
    rho = Asymmetric()
    r = np.array([-0.3, -1e-4, 2e-4, 0.5])
    assert rho.rho(r).tolist() == pytest.approx([3.0, 1e-3, 2e-4, 0.5])
    h = 1e-7
    numeric = (rho.rho(r + h) - rho.rho(r - h)) / (2 * h)
    assert rho.psi(r) == pytest.approx(numeric, rel=1e-6)
    assert rho.irls_weight(r) == pytest.approx(rho.psi(r) / r)
    assert make_loss("asymmetric") == Asymmetric(w=10.0)


def test_asymmetric_objective_gradient_matches_finite_differences(runs):
    problem = engine.Problem(get_law("chinchilla"), runs)
    u = np.array([[np.log(1.8), np.log(400.0), np.log(2000.0), 0.33, 0.36]])
    rho = Asymmetric()
    r, J = problem.residuals(u)
    gradient = np.einsum("snp,sn->sp", J, rho.psi(r))[0]

    def objective(v):
        return float(np.sum(rho.rho(problem.residuals(v[None, :], jacobian=False)[0])))

    h = 1e-6
    numeric = [(objective(u[0] + h * e) - objective(u[0] - h * e)) / (2 * h) for e in np.eye(5)]
    assert gradient == pytest.approx(numeric, rel=1e-4)


def test_asymmetric_fit_is_the_lower_quantile_regression_in_closed_form():
    """With y at two x values, log A - alpha log x through the 1/(1 + w) quantile at each x: with 16 runs per x
    (16/11 = 1.45), the second smallest run at each."""
    rng = np.random.default_rng(3)
    y1, y10 = 2.0 * np.exp(rng.uniform(0, 0.3, 16)), np.exp(rng.uniform(0, 0.3, 16))
    table = pd.DataFrame({"x": np.repeat([1.0, 10.0], 16), "loss": np.r_[y1, y10]})
    result = engine.fit(get_law("power_law"), table, loss="asymmetric")
    a, b = np.sort(y1)[1], np.sort(y10)[1]
    assert result.params["A"] == pytest.approx(a, rel=1e-8)
    assert result.params["alpha"] == pytest.approx(np.log(a / b) / np.log(10.0), rel=1e-7)
    assert result.diagnostics["converged"] and result.settings["loss"] == "asymmetric"


# ------------------------------------------------------------------------------------ averaging
def test_scales_are_distinct_values_pooled_into_groups():
    labels = averaging.scale_labels(np.array([1.0, 1.001, 2.0, 3.0, 3.0]))
    assert labels.tolist() == [0, 0, 1, 2, 2]
    pooled = averaging.scale_labels(np.arange(1.0, 101.0), max_scales=4)
    assert np.bincount(pooled).tolist() == [25, 25, 25, 25]


def test_average_weights_the_law_that_extrapolates():
    x = np.repeat([1.0, 2.0, 4.0, 8.0, 16.0], 2)
    table = pd.DataFrame({"x": x, "loss": 1.0 + 2.0 * x**-0.5})
    avg = averaging.average(table, laws=["saturating_power_law", "power_law"], losses=["squared"], order_by="x")
    assert avg.weights.tolist() == pytest.approx([1.0, 0.0], abs=1e-9)
    assert avg.scores.loc["saturating_power_law/squared", "score_mape"] == pytest.approx(0.0, abs=1e-6)
    assert avg.scores.loc["power_law/squared", "score_mape"] > 1.0
    assert list(avg.origins) == pytest.approx([8.0, 16.0], rel=1e-12)
    assert float(avg.predict(x=32.0, warn=False)[0]) == pytest.approx(1.0 + 2.0 / 32**0.5, rel=1e-8)


def test_too_few_scales_says_how_many_are_needed():
    table = pd.DataFrame({"x": [1.0, 1.0, 2.0, 2.0, 4.0, 4.0], "loss": [3.0, 3.1, 2.0, 2.1, 1.5, 1.6]})
    with pytest.raises(FitError, match=r"needs at least 4 scales of 'x' \(2 to fit and origins=2 to score\); "
                                       r"the table has 3"):
        averaging.average(table, laws=["power_law"], order_by="x")


def test_auto_on_chinchilla_runs_round_trips_and_answers(runs):
    avg = loss.fit_loss(runs, "auto", bootstrap=20, seed=0)
    assert avg.names == tuple(f"{law}/{name}" for law in ("chinchilla", "kaplan")
                              for name in ("huber", "squared", "asymmetric"))
    assert avg.weights.sum() == pytest.approx(1.0) and np.all(avg.weights >= 0)
    assert {"score_mape", "weight", "law", "loss"} <= set(avg.scores.columns)
    again = protocol.load(avg.to_json())
    at = {"params": 7e10, "tokens": 1.4e12}
    assert again.predict(at, warn=False) == pytest.approx(avg.predict(at, warn=False), rel=1e-12)
    mixture = sum(w * f.predict(at, warn=False) for w, f in zip(avg.weights, avg.candidates, strict=True))
    assert avg.predict(at, warn=False) == pytest.approx(mixture, rel=1e-12)
    value, lo, hi = again.predict_interval(at, warn=False)
    assert lo[0] < value[0] < hi[0]
    predicted = answer("predict", again, params="70B", tokens="1.4T")
    assert predicted["prediction"] == pytest.approx(float(value[0]))
    with pytest.warns(ExtrapolationWarning, match="19x the largest fitted"):
        optimum = answer("optimal", again, flops=5.76e23)
    assert optimum["method"].startswith("numeric optimum of the mixture")
    n = optimum["params"]
    near = [float(avg.predict({"params": m, "tokens": 5.76e23 / (6 * m)}, warn=False)[0]) for m in (0.9 * n, 1.1 * n)]
    assert optimum["loss"] < min(near)


def test_auto_with_by_is_refused(runs):
    with pytest.raises(ScalelawError, match="law='auto' averages laws over one table"):
        loss.fit_loss(runs, "auto", by="flops")


def test_cli_fit_loss_auto(tmp_path):
    out = tmp_path / "auto.json"
    run = run_cli("fit", "loss", CHINCHILLA, "--exclude-highest", "5", "--law", "auto", "--out", out, "--json")
    assert run.code == 0, run.stderr
    payload = json.loads(run.stdout)
    assert payload["schema"] == "scalelaw.loss.average/1"
    assert [r["candidate"] for r in payload["ranking"]][0] == "chinchilla/huber"
    assert sum(r["weight"] for r in payload["ranking"]) == pytest.approx(1.0)
    text = run_cli("fit", "loss", CHINCHILLA, "--exclude-highest", "5", "--law", "auto")
    assert "rolling-origin MAPE" in text.stdout and "weight" in text.stdout
    predicted = run_cli("predict", out, "--params", "70B", "--tokens", "1.4T")
    assert predicted.code == 0 and "loss = " in predicted.stdout
    optimal = run_cli("optimal", out, "--flops", "5.76e23")
    assert optimal.code == 0 and "numeric optimum of the mixture" in optimal.stderr


def test_cli_auto_with_too_few_scales(tmp_path):
    path = tmp_path / "runs.csv"
    pd.DataFrame({"params": [1e8, 1e8, 2e8, 2e8, 4e8, 4e8], "tokens": [1e9, 1e9, 1e9, 1e9, 1e9, 1e9],
                  "loss": [3.0, 2.9, 2.8, 2.7, 2.6, 2.5]}).to_csv(path, index=False)
    assert_user_error(run_cli("fit", "loss", path, "--law", "auto"), "needs at least 4 scales of 'flops'",
                      "the table has 3")


# ------------------------------------------------------------------------------------ validation
def test_validate_loss_bootstrap_intervals_and_rows(runs):
    plain = loss.validate_loss(runs)
    assert plain.held_out_interval == {} and "lower" not in plain.rows.columns
    result = loss.validate_loss(runs, bootstrap=30, seed=0)
    assert result.held_out == plain.held_out
    lo, hi = result.held_out_interval["mape"]
    assert lo < hi and result.summary().loc["held out (lower)", "mape"] == lo
    held = result.rows[result.rows["held_out"]]
    assert len(held) == result.n_held_out and (held["lower"] <= held["upper"]).all()
    again = protocol.load(result.to_json())
    assert dict(again.held_out_interval) == {k: list(v) for k, v in result.held_out_interval.items()}


def test_validate_loss_order_by_any_numeric_column(runs):
    frame = runs.assign(step=np.arange(len(runs), 0, -1.0))
    result = loss.validate_loss(frame, order_by="step", top_frac=0.25)
    assert result.rows["scale"].tolist() == frame["step"].tolist()
    assert result.n_held_out == int((frame["step"] > np.quantile(frame["step"], 0.75)).sum())
    with pytest.raises(ScalelawError, match="order_by='name' must be a numeric column"):
        loss.validate_loss(frame.assign(name="a"), order_by="name")


def test_cli_validate_loss_json_rows_and_bootstrap():
    run = run_cli("validate", "loss", CHINCHILLA, "--exclude-highest", "5", "--bootstrap", "20", "--json")
    assert run.code == 0, run.stderr
    payload = json.loads(run.stdout)
    assert len(payload["rows"]) == 240 and {"scale", "actual", "predicted", "held_out", "lower", "upper"} <= \
        set(payload["rows"][0])
    assert set(payload["held_out_interval"]) == {"mae", "mape", "max_abs_error", "rmse"}
    assert_user_error(run_cli("validate", "loss", CHINCHILLA, "--order-by", "color"),
                      "--order-by 'color' must be a numeric column")


def test_a_law_average_gives_prediction_intervals_that_hold_its_confidence_interval():
    import warnings

    frame, _ = loss.prepare(loss.read_runs(DATA / "loss" / "epoch_chinchilla_svg_extracted.csv")[0])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        average = loss.fit_loss(frame, "auto", bootstrap=50, seed=0)
        value, c_lo, c_hi = average.predict_interval(params=[7e10], tokens=[1.4e12], interval="confidence")
        _, p_lo, p_hi = average.predict_interval(params=[7e10], tokens=[1.4e12], interval="prediction")
    assert average.interval_kind() == "prediction" and protocol.load(average.to_json()).interval_kind() == "prediction"
    assert p_lo[0] < c_lo[0] < value[0] < c_hi[0] < p_hi[0]
