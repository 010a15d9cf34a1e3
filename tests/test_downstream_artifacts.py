"""Downstream results saved and loaded: scalelaw.load returns an object that predicts the same numbers."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import scalelaw
from scalelaw import engine
from scalelaw.families.downstream import chain, error_law, ladder, observational, olmo_ladder

from support import DATA

LADDER = DATA / "downstream" / "olmo_ladder"
GADRE = DATA / "downstream" / "gadre" / "rpj_models.csv"
BASE = DATA / "downstream" / "obsscaling" / "base_llm_benchmark_eval.csv"
N13, D13 = 13_202_396_160, 5_000_088_518_656


def same(a, b) -> bool:
    """Equal as JSON (NaN equal to NaN)."""
    return json.dumps(a, default=lambda v: v.to_dict()) == json.dumps(b, default=lambda v: v.to_dict())


def _saved(result, tmp_path):
    path = tmp_path / "result.json"
    result.to_json(path)
    loaded = scalelaw.load(path)
    assert type(loaded) is type(result)
    return loaded


def test_ladder_fit_predicts_the_same_after_loading(tmp_path):
    logs = olmo_ladder.read_olmo_ladder(LADDER, "hellaswag")
    fit = ladder.fit_ladder(logs, bootstrap=30, seed=3)
    loaded = _saved(fit, tmp_path)
    grid = (np.array([1e9, N13, 7e10]), np.array([1e11, D13, 1.5e13]))
    pd.testing.assert_frame_equal(loaded.predict(*grid), fit.predict(*grid), check_exact=True)
    np.testing.assert_array_equal(loaded.accuracy_at([0.5, 0.8]), fit.accuracy_at([0.5, 0.8]))
    # the target runs travel with the fit: the comparison needs no logs
    pd.testing.assert_frame_equal(ladder.compare_targets(loaded), ladder.compare_targets(fit, logs),
                                  check_exact=True)
    assert loaded.settings == {"skip": 0.1, "moving_avg": 5, "last_n": 5, "anchor": True, "delta": 1e-3,
                               "bootstrap": 30, "seed": 3, "level": 0.95}
    assert (loaded.source, loaded.format) == (fit.source, "olmo-ladder")
    assert loaded.extrapolation(N13, D13) == fit.extrapolation(N13, D13)


def test_ladder_prediction_of_the_eight_tasks_round_trips(tmp_path):
    result = ladder.predict_ladder(LADDER, task="main", bootstrap=0)
    assert list(result.fits) == list(olmo_ladder.MAIN_TASKS)
    thirteen = result.predictions.set_index(["task", "target"]).loc[("mmlu_avg_test", "13B-5T")]
    assert thirteen["accuracy"] == pytest.approx(0.5127, abs=5e-5)  # as tests/test_downstream_ladder.py
    assert thirteen["abs_error"] == pytest.approx(100 * (thirteen["accuracy"] - thirteen["actual_accuracy"]))
    loaded = _saved(result, tmp_path)
    pd.testing.assert_frame_equal(loaded.predictions, result.predictions, check_exact=True)
    pd.testing.assert_frame_equal(loaded.predict([N13, 7e10], [D13, 2e13]), result.predict([N13, 7e10], [D13, 2e13]),
                                  check_exact=True)
    assert same(loaded.records(), result.records())
    assert loaded.warnings == result.warnings and len(result.warnings) >= 16  # two extrapolated targets a task
    again = ladder.predict_ladder(LADDER, **result.settings)
    pd.testing.assert_frame_equal(again.predictions, result.predictions, check_exact=True)


def test_ladder_artifact_of_the_cli_loads_and_matches_its_json(cli, tmp_path):
    run = cli("downstream", "ladder", LADDER, "--task", "arc_challenge", "--target-params", str(N13),
              "--target-tokens", str(D13), "--bootstrap", "20", "--json", "--out", tmp_path / "l.json")
    assert run.code == 0, run.stderr
    shown = json.loads(run.stdout)
    loaded = scalelaw.load(tmp_path / "l.json")
    assert isinstance(loaded, ladder.LadderPrediction)
    assert loaded.records()[0] == {k: shown[k] for k in loaded.records()[0]}
    pred = loaded.predict([N13], [D13]).iloc[0]
    assert (pred["accuracy"], pred["accuracy_lower"], pred["accuracy_upper"]) == (
        shown["accuracy"], shown["accuracy_lower"], shown["accuracy_upper"])
    assert pred["accuracy"] == pytest.approx(0.5267, abs=5e-5)
    assert loaded.settings["bootstrap"] == 20 and loaded.settings["task"] == "arc_challenge"


@pytest.fixture(scope="module")
def gadre():
    models = pd.read_csv(GADRE).rename(columns={"c4_loss": "loss"})
    loss_fit = engine.fit(error_law.GADRE_LOSS_LAW, models[models["fit_loss"] == "yes"], loss="squared",
                          bootstrap=50, seed=1)
    points = models[models["fit_error"] == "yes"].rename(columns={"error_17": "error"})[["loss", "error"]]
    return points, loss_fit


def test_error_law_chained_with_its_loss_law_round_trips(gadre, tmp_path):
    points, loss_fit = gadre
    inputs = {"params": 1439795200, "tokens_per_param": 640}
    result = error_law.analyse(points, loss_fit, inputs=inputs, bootstrap=50, seed=1)
    assert result.prediction.loss == pytest.approx(2.5198, abs=5e-5)  # as the CLI test
    assert result.prediction.error == pytest.approx(0.4925, abs=5e-5)
    loaded = _saved(result, tmp_path)
    assert loaded.prediction == result.prediction
    assert loaded.predict(inputs=inputs) == result.prediction
    assert loaded.predict(inputs={"params": 6.9e9, "tokens_per_param": 20}) == \
        result.predict(inputs={"params": 6.9e9, "tokens_per_param": 20})
    assert same(loaded.predict(loss=3.1), result.predict(loss=3.1))
    assert any("outside the fitted range" in w for w in result.warnings)
    pd.testing.assert_frame_equal(loaded.points, result.points.reset_index(drop=True), check_exact=True)


def test_error_law_cli_writes_an_artifact_scalelaw_load_reads(cli, tmp_path, gadre):
    gadre[1].to_json(tmp_path / "loss.json")
    run = cli("downstream", "error-law", GADRE, "--loss-column", "c4_loss", "--error-column", "error_17",
              "--where", "fit_error=yes", "--loss-fit", tmp_path / "loss.json", "--params", "1439795200",
              "--set", "tokens_per_param=640", "--bootstrap", "20", "--json", "--out", tmp_path / "e.json")
    assert run.code == 0, run.stderr
    shown = json.loads(run.stdout)
    loaded = scalelaw.load(tmp_path / "e.json")
    assert isinstance(loaded, error_law.ErrorLaw) and loaded.source.endswith("rpj_models.csv")
    assert loaded.prediction.to_dict() == shown["prediction"]
    assert dict(loaded.fit.params) == shown["params"]
    assert loaded.settings["inputs"] == {"params": 1439795200.0, "tokens_per_param": 640.0}


def test_observational_law_predicts_the_same_after_loading(tmp_path):
    bench = observational.read_benchmarks(BASE)
    result = observational.fit_observational(bench, "GSM8K", cutoff_flops=8.4e22)
    loaded = _saved(result, tmp_path)
    complete = bench.frame.dropna(subset=list(result.predictors))
    np.testing.assert_array_equal(loaded.predict(complete), result.predict(complete))
    fitted = result.models.set_index("model")["predicted"]
    np.testing.assert_allclose(result.predict(complete), fitted.loc[complete["model"]].to_numpy(), rtol=1e-9)
    pd.testing.assert_frame_equal(loaded.errors, result.errors, check_exact=True)
    np.testing.assert_array_equal(loaded.pca.components, result.pca.components)
    assert loaded.predictors == result.predictors and loaded.source == str(BASE)
    assert any(w.startswith("family StableLM") for w in result.warnings)
    with pytest.raises(scalelaw.ScalelawError, match="'MMLU'"):
        loaded.predict(complete.drop(columns="MMLU"))


def test_observational_cli_out_is_the_result(cli, tmp_path):
    run = cli("downstream", "observational", BASE, "--target", "GSM8K", "--cutoff-flops", "8.4e22", "--json",
              "--out", tmp_path / "o.json")
    assert run.code == 0, run.stderr
    loaded = scalelaw.load(tmp_path / "o.json")
    assert isinstance(loaded, observational.ObservationalResult)
    assert dict(loaded.fit.params) == json.loads(run.stdout)["params"]


def test_chain_result_round_trips_and_the_cli_writes_it(cli, tmp_path):
    rng = np.random.default_rng(0)
    rows = [(f"m{i}", "toy", c, f"q{q}", str(k), min(-0.01, -3.0 + 0.3 * i * (k == 0) + rng.normal(0, 0.3)), k == 0)
            for i, c in enumerate(np.geomspace(1e19, 1e22, 5)) for q in range(20) for k in range(3)]
    frame = pd.DataFrame(rows, columns=["model", "family", "flops", "question", "choice", "logprob", "is_correct"])
    result = chain.analyse(frame)
    loaded = _saved(result, tmp_path)
    pd.testing.assert_frame_equal(loaded.degradation("pearson"), result.degradation("pearson"), check_exact=True)
    pd.testing.assert_frame_equal(loaded.per_model, result.per_model, check_exact=True)
    frame.to_csv(tmp_path / "choices.csv", index=False)
    run = cli("downstream", "chain", tmp_path / "choices.csv", "--out", tmp_path / "c.json", "--csv",
              tmp_path / "q.csv")
    assert run.code == 0, run.stderr
    from_cli = scalelaw.load(tmp_path / "c.json")
    assert from_cli.source == str(tmp_path / "choices.csv") and from_cli.settings == {"min_models": 3}
    assert len(pd.read_csv(tmp_path / "q.csv")) == len(from_cli.per_question) == 5 * 20
