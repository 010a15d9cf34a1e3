"""The engine on the real Chinchilla points: the published fits, the grid, bootstrap, validation."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

from scalelaw import FitError, FitResult, fit, get_law, validate
from scalelaw.errors import ArtifactError
from scalelaw.families.loss import prepare
from scalelaw.io import read_table
from scalelaw.starts import HOFFMANN_GRID, hoffmann

from support import DATA

CHINCHILLA = DATA / "loss" / "epoch_chinchilla_svg_extracted.csv"


@pytest.fixture(scope="module")
def runs() -> pd.DataFrame:
    """Besiroglu et al.'s 240 points: Hoffmann's 245 without the 5 highest losses, D = C / (6 N)."""
    table = read_table(CHINCHILLA, numeric=["params", "flops", "loss"])
    frame, _ = prepare(table, exclude_highest=5)
    assert len(frame) == 240
    return frame


@pytest.fixture(scope="module")
def hoffmann_fit(runs) -> FitResult:
    return fit(get_law("chinchilla"), runs, starts="hoffmann", bootstrap=400, seed=0)


def test_hoffmann_grid_is_the_published_grid_with_endpoints():
    grid = hoffmann(get_law("chinchilla"))
    assert grid.shape == (4500, 5)
    assert list(HOFFMANN_GRID["A"]) == [0, 5, 10, 15, 20, 25]
    assert list(HOFFMANN_GRID["E"]) == [-1, -0.5, 0, 0.5, 1]
    assert list(HOFFMANN_GRID["alpha"]) == [0, 0.5, 1.0, 1.5, 2.0]
    assert len({tuple(row) for row in grid}) == 4500


def test_huber_sum_over_the_hoffmann_grid_reproduces_besiroglu(hoffmann_fit):
    p, d = hoffmann_fit.params, hoffmann_fit.diagnostics
    assert p["E"] == pytest.approx(1.8172, rel=1e-3)
    assert p["alpha"] == pytest.approx(0.34731, rel=1e-3)
    assert p["beta"] == pytest.approx(0.36717, rel=1e-3)
    assert p["A"] == pytest.approx(477.8, rel=0.01)
    assert p["B"] == pytest.approx(2143.4, rel=0.01)
    # the optimum of the summed Huber objective, as reached by a serial L-BFGS-B over the grid
    assert d["objective"] == pytest.approx(0.0010182740178, rel=1e-9)
    assert d["converged"] and d["n_starts"] == 4500 and d["n_at_optimum"] >= 10
    assert not d["at_bound"]


def test_default_starts_reach_the_same_optimum(runs, hoffmann_fit):
    result = fit(get_law("chinchilla"), runs)
    assert result.diagnostics["objective"] == pytest.approx(hoffmann_fit.diagnostics["objective"], rel=1e-9)


def test_expression_law_reaches_the_same_optimum(runs, hoffmann_fit):
    law = get_law("E + A/N**alpha + B/D**beta", columns=runs.columns)
    result = fit(law, runs)
    assert result.diagnostics["objective"] == pytest.approx(hoffmann_fit.diagnostics["objective"], rel=1e-8)
    assert result.params["alpha"] == pytest.approx(hoffmann_fit.params["alpha"], rel=1e-4)


def test_huber_likelihood_from_hoffmann_reproduces_epochs_headline_fit(runs):
    result = fit(get_law("chinchilla"), runs, loss="huber-likelihood", starts="hoffmann-estimate")
    p = result.params
    assert p["E"] == pytest.approx(1.816864, abs=2e-6)
    assert p["A"] == pytest.approx(482.006, abs=0.05)
    assert p["B"] == pytest.approx(2085.434, abs=0.5)
    assert p["alpha"] == pytest.approx(0.347813, abs=2e-6)
    assert p["beta"] == pytest.approx(0.365854, abs=2e-6)
    assert result.diagnostics["objective"] == pytest.approx(-879.7731, abs=1e-3)
    assert np.log(result.diagnostics["sigma"]) == pytest.approx(-12.2666, abs=1e-3)


def test_bootstrap_intervals_resemble_besiroglus(hoffmann_fit):
    intervals = hoffmann_fit.intervals()
    lo, hi = intervals["E"]
    assert 1.76 < lo < 1.785 and 1.855 < hi < 1.885  # Besiroglu et al.: (1.769, 1.871)
    lo, hi = intervals["alpha"]
    assert 0.31 < lo < 0.325 and 0.365 < hi < 0.38  # (0.317, 0.373)
    se = hoffmann_fit.summary()["se"]
    assert se["alpha"] == pytest.approx(0.0154, rel=0.2) and se["E"] == pytest.approx(0.0257, rel=0.2)
    assert hoffmann_fit.diagnostics["bootstrap_failed"] == 0


def test_the_same_seed_gives_the_same_bytes(runs):
    law = get_law("chinchilla")
    first = fit(law, runs, bootstrap=50, seed=7)
    again = fit(law, runs, bootstrap=50, seed=7)
    other = fit(law, runs, bootstrap=50, seed=8)
    strip = lambda r: {k: v for k, v in r.to_dict().items() if k != "diagnostics"}  # noqa: E731
    assert json.dumps(strip(first)) == json.dumps(strip(again))
    assert not np.array_equal(first.bootstrap, other.bootstrap)


def test_objective_is_a_sum_not_a_mean(runs):
    """Duplicating every row doubles the objective and leaves the optimum (a mean would not)."""
    law = get_law("chinchilla")
    once = fit(law, runs)
    twice = fit(law, pd.concat([runs, runs]))
    assert twice.diagnostics["objective"] == pytest.approx(2 * once.diagnostics["objective"], rel=1e-9)
    assert twice.params["alpha"] == pytest.approx(once.params["alpha"], rel=1e-6)


def test_noise_free_data_recovers_the_law_exactly():
    rng = np.random.default_rng(3)
    n, d = 10 ** rng.uniform(7, 10, 60), 10 ** rng.uniform(9, 12, 60)
    truth = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
    law = get_law("chinchilla")
    table = pd.DataFrame({"params": n, "tokens": d, "loss": law.evaluate({"N": n, "D": d}, truth)})
    result = fit(law, table)
    for name, value in truth.items():
        assert result.params[name] == pytest.approx(value, rel=1e-6)


def test_squared_loss_on_a_log_linear_law_is_ordinary_least_squares():
    x = np.array([1.0, 2.0, 5.0, 10.0, 30.0, 100.0])
    y = np.array([5.1, 4.6, 4.0, 3.4, 2.8, 2.0])
    result = fit(get_law("log_linear"), pd.DataFrame({"x": x, "loss": y}), loss="squared")
    slope, intercept = np.polyfit(np.log(x), y, 1)
    assert result.params["b"] == pytest.approx(slope, rel=1e-10)
    assert result.params["a"] == pytest.approx(intercept, rel=1e-10)


def test_too_few_rows_and_a_single_size_are_refused(runs):
    law = get_law("chinchilla")
    with pytest.raises(FitError, match="4 rows but law 'chinchilla' has 5 parameters"):
        fit(law, runs.iloc[:4])
    one_size = runs[runs["params"] == runs["params"].iloc[0]]
    one_size = pd.concat([one_size] * 6)
    with pytest.raises(FitError, match="single value.*A, alpha cannot be identified"):
        fit(law, one_size)


def test_settings_are_recorded_and_rebuild_the_same_fit(runs):
    result = fit(get_law("chinchilla"), runs, loss="huber", delta=2e-3, polish=16, bootstrap=20, seed=4)
    s = dict(result.settings)
    assert s == {"loss": "huber", "delta": 2e-3, "starts": "default", "polish": 16, "bootstrap": 20, "seed": 4,
                 "level": 0.95, "weight_column": None}
    again = fit(result.law, runs, **s)
    assert dict(again.params) == dict(result.params)
    np.testing.assert_array_equal(again.bootstrap, result.bootstrap)


def test_artifact_round_trip_predicts_exactly(hoffmann_fit, tmp_path):
    path = tmp_path / "fit.json"
    hoffmann_fit.to_json(path)
    restored = FitResult.from_json(path)
    grid = {"params": np.geomspace(1e8, 1e12, 7), "tokens": np.geomspace(1e9, 1e13, 7)}
    np.testing.assert_array_equal(restored.predict(grid), hoffmann_fit.predict(grid))
    for a, b in zip(restored.predict_interval(grid), hoffmann_fit.predict_interval(grid), strict=True):
        np.testing.assert_array_equal(a, b)
    payload = json.loads(path.read_text())
    assert payload["schema"] == "scalelaw.core.fit/1"
    assert set(payload) >= {"law", "params", "intervals", "settings", "data", "metrics", "scalelaw_version"}
    assert payload["data"]["rows"] == 240 and len(payload["data"]["sha256"]) == 64


def test_artifacts_encode_non_finite_numbers_and_check_the_schema(hoffmann_fit, tmp_path):
    payload = hoffmann_fit.to_dict()
    payload["metrics"] = dict(payload["metrics"]) | {"mape": float("nan"), "worst": float("inf")}
    text = json.dumps(payload, allow_nan=True)
    from scalelaw import artifact

    encoded = artifact.dumps(payload)
    assert "NaN" not in encoded and '"$float": "nan"' in encoded
    restored = FitResult.from_dict(artifact.loads(encoded))
    assert np.isnan(restored.metrics["mape"]) and restored.metrics["worst"] == np.inf
    future = json.loads(text.replace("NaN", "0").replace("Infinity", "0"))
    future["schema"] = "scalelaw.core.fit/2"
    with pytest.raises(ArtifactError, match="written with schema 'scalelaw.core.fit/2'"):
        FitResult.from_dict(future)
    old = dict(hoffmann_fit.to_dict(), scalelaw_version="0.0.1")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        FitResult.from_dict(old)
    assert any("written by scalelaw 0.0.1" in str(w.message) for w in caught)


def test_result_is_frozen(hoffmann_fit):
    with pytest.raises(AttributeError):
        hoffmann_fit.params = {}
    with pytest.raises(TypeError):
        hoffmann_fit.params["E"] = 2.0
    with pytest.raises(ValueError):
        hoffmann_fit.bootstrap[0, 0] = 1.0


def test_validation_reports_held_out_errors():
    n = np.geomspace(1e7, 1e10, 12)
    d = 20 * n
    truth = {"E": 1.7, "A": 400.0, "B": 400.0, "alpha": 0.34, "beta": 0.28}
    law = get_law("chinchilla")
    loss = law.evaluate({"N": n, "D": d}, truth) * (1 + 0.001 * np.cos(np.arange(12)))
    table = pd.DataFrame({"params": np.r_[n, n * 1.5], "tokens": np.r_[d, d * 0.8],
                          "loss": np.r_[loss, law.evaluate({"N": n * 1.5, "D": d * 0.8}, truth)]})
    mask = table["params"].to_numpy() * table["tokens"].to_numpy() > np.quantile(
        table["params"] * table["tokens"], 0.8)
    out = validate(law, table, mask)
    assert out["n_held_out"] == int(mask.sum()) and out["n_train"] == 24 - int(mask.sum())
    held = out["held_out"]
    pred = out["fit"].predict(table[mask])
    assert held["mae"] == pytest.approx(np.mean(np.abs(pred - table["loss"][mask].to_numpy())), rel=1e-12)
    assert held["mape"] < 1.0
