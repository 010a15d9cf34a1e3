"""Group fits (by=): one law per group of rows, batched in one engine run, equal to fitting each alone."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import scalelaw
from scalelaw import engine, groups
from scalelaw.errors import FitError, InputError
from scalelaw.families import loss as family

from support import DATA, assert_user_error, comparable

PORIAN = DATA / "loss" / "porian_isoflop_points.csv"
OBS = DATA / "downstream" / "obsscaling" / "base_llm_benchmark_eval.csv"


@pytest.fixture(scope="module")
def porian() -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return family.read_runs(PORIAN)[0]


def _alone(law, table: pd.DataFrame, group, name: str):
    mask = np.all([table[c].astype(str) == v for c, v in zip(group.info["by"], group.info["groups"][name],
                                                             strict=True)], axis=0)
    return engine.fit(law, table[mask], **group[name].settings)


def _relative(a: float, b: float) -> float:
    return abs(a - b) / abs(b)


def test_each_dataset_equals_its_fit_alone_objective_and_bootstrap(porian):
    law = scalelaw.get_law("chinchilla")
    group = scalelaw.fit(law, porian, by="dataset,hparams", bootstrap=8, seed=3)
    assert list(group) == ["rw/base", "rw/tuned", "owt2/base", "owt2/tuned"]
    for name, fit in group.items():
        alone = _alone(law, porian, group, name)
        assert _relative(fit.diagnostics["objective"], alone.diagnostics["objective"]) < 1e-10
        assert fit.data["sha256"] == alone.data["sha256"] and fit.data["rows"] == alone.data["rows"]
        np.testing.assert_allclose(fit.bootstrap, alone.bootstrap, rtol=1e-6)
        np.testing.assert_allclose(list(fit.params.values()), list(alone.params.values()), rtol=1e-6)
        assert fit.settings["seed"] == groups.group_seed(3, name)
        assert fit.metrics == pytest.approx(alone.metrics, rel=1e-9)


def _obsscaling() -> pd.DataFrame:
    """Per-benchmark accuracy against log training compute, one row per model and benchmark."""
    table = pd.read_csv(OBS)
    tasks = ["MMLU", "ARC-C", "HellaSwag", "Winograd", "TruthfulQA", "GSM8K", "XWinograd", "HumanEval"]
    long = table.melt(id_vars=["Model", "FLOPs (1E21)"], value_vars=[t for t in tasks if t in table.columns],
                      var_name="task", value_name="accuracy").dropna()
    long = long[(long["accuracy"] > 0) & (long["accuracy"] < 1) & (long["FLOPs (1E21)"] > 0)]
    return long.rename(columns={"FLOPs (1E21)": "x", "accuracy": "loss"}).assign(loss=lambda t: 1 - t["loss"])


def test_per_task_downstream_laws_on_obsscaling_equal_their_fits_alone():
    table = _obsscaling()
    law = scalelaw.get_law("saturating_power_law")
    group = scalelaw.fit(law, table, by="task")
    assert len(group) >= 5
    for name in group:
        alone = _alone(law, table, group, name)
        assert _relative(group[name].diagnostics["objective"], alone.diagnostics["objective"]) < 1e-10


def test_each_group_carries_the_identifiability_and_noise_of_its_fit_alone_and_a_degenerate_one_is_named(porian):
    law = scalelaw.get_law("chinchilla")
    group = scalelaw.fit(law, porian, by="dataset,hparams")
    for name, fit in group.items():
        alone = _alone(law, porian, group, name)
        assert _relative(fit.diagnostics["condition_number"], alone.diagnostics["condition_number"]) < 1e-6
        for key in ("weakest", "collapsed", "disagree"):
            assert fit.diagnostics[key] == alone.diagnostics[key]
        assert fit.noise["model"] == alone.noise["model"] and fit.noise["rows"] == alone.noise["rows"]
        assert fit.noise.get("log_sigma", [fit.noise.get("sigma")]) == pytest.approx(
            alone.noise.get("log_sigma", [alone.noise.get("sigma")]), rel=1e-9)
    rng = np.random.default_rng(0)
    x = np.geomspace(1, 1e4, 12)
    floor = (0.3 + 2 * x**-0.4) * np.exp(rng.normal(0, 0.01, 12))
    curves = pd.concat([pd.DataFrame({"task": "floor", "x": x, "loss": floor}),
                        pd.DataFrame({"task": "no floor", "x": x, "loss": 2 * x**-0.4})])
    saturating = scalelaw.get_law("saturating_power_law")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fits = scalelaw.fit(saturating, curves, by="task", loss="squared")
    assert "E" in fits["no floor"].diagnostics["collapsed"] and not fits["floor"].diagnostics["collapsed"]
    assert any(w.startswith("1 of 2 groups are degenerate") and "'no floor'" in w for w in fits.warnings)
    assert any("E collapsed toward 0" in w for w in fits["no floor"].warnings)
    with pytest.raises(FitError, match="1 of 2 groups are degenerate"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scalelaw.fit(saturating, curves, by="task", loss="squared", strict=True)


def test_summary_has_group_columns_first_and_convergence_in_each_row(porian):
    group = scalelaw.fit(scalelaw.get_law("chinchilla"), porian, by=["dataset", "hparams"])
    summary = group.summary()
    assert list(summary.index.names) == ["dataset", "hparams", "parameter"]
    assert summary.loc[("rw", "tuned", "alpha"), "value"] == group["rw/tuned"].params["alpha"]
    assert {"converged", "objective", "rows"} <= set(summary.columns)
    back = scalelaw.load(group.to_json())
    assert list(back) == list(group) and back.summary().equals(summary)


def test_a_group_too_small_is_skipped_with_a_warning_or_refused_when_strict():
    t = pd.DataFrame({"task": ["a"] * 5 + ["tiny"] * 1, "x": [1.0, 2.0, 4.0, 8.0, 16.0, 2.0],
                      "loss": [3.0, 2.1, 1.5, 1.06, 0.75, 2.0]})
    with pytest.warns(UserWarning, match="group 'tiny' has 1 rows"):
        group = scalelaw.fit(scalelaw.get_law("power_law"), t, by="task", loss="squared")
    assert list(group) == ["a"] and "tiny" in group.info["skipped"]
    assert any("tiny" in w for w in group.warnings)
    with pytest.raises(FitError, match="group 'tiny'"):
        scalelaw.fit(scalelaw.get_law("power_law"), t, by="task", strict=True)
    with pytest.raises(InputError, match="no column 'nope'"):
        scalelaw.fit(scalelaw.get_law("power_law"), t, by="nope")


def test_a_group_that_does_not_converge_is_reported_in_its_row(porian, monkeypatch):
    from scalelaw import optimize

    original = optimize.irls
    monkeypatch.setattr(optimize, "irls", lambda *a, **k: original(*a, **(k | {"max_iter": 2})))
    group = scalelaw.fit(scalelaw.get_law("chinchilla"), porian, by="dataset")
    assert len(group) == 2
    assert not group.summary()["converged"].any()
    assert any("did not converge" in w for w in group.warnings)


def test_cli_by_writes_a_group_that_predict_and_optimal_answer(cli, tmp_path):
    out = tmp_path / "groups.json"
    run = cli("fit", "loss", str(PORIAN), "--by", "dataset", "--out", str(out))
    assert run.code == 0, run.stderr
    assert "rw" in run.stdout and "owt2" in run.stdout
    group = scalelaw.load(out)
    every = json.loads(cli("optimal", str(out), "--flops", "1e21", "--json").stdout)
    assert set(every["groups"]) == {"rw", "owt2"} and every["by"] == ["dataset"]
    one = json.loads(cli("optimal", str(out), "--flops", "1e21", "--group", "rw", "--json").stdout)
    assert one == every["groups"]["rw"]
    assert one == scalelaw.answers.answer("optimal", group["rw"], flops=1e21)
    predicted = json.loads(cli("predict", str(out), "--params", "1B", "--tokens", "20B", "--group", "owt2",
                               "--json").stdout)
    assert predicted["prediction"] == pytest.approx(float(group["owt2"].predict(params=1e9, tokens=2e10,
                                                                                   warn=False)[0]))


def test_cli_by_text_keeps_each_groups_interval_and_extrapolation_warnings(cli, tmp_path):
    out = tmp_path / "groups.json"
    fitted = cli("fit", "loss", str(PORIAN), "--by", "dataset", "--bootstrap", "20", "--out", str(out))
    assert "column 'dataset' splits" not in fitted.stderr  # the grouping column's studies are fitted apart
    assert "column 'hparams' splits" in fitted.stderr  # the others still mix studies within each group
    group = scalelaw.load(out)
    run = cli("predict", str(out), "--params", "7B", "--tokens", "1.4T")
    text = run.stdout + run.stderr
    for name in ("rw", "owt2"):
        answer = scalelaw.answers.answer("predict", group[name], params="7B", tokens="1.4T")
        assert f"dataset {name}: prediction {answer['prediction']:.4g} [{answer['lower']:.4g}, " in text
        for warning in answer["warnings"]:
            assert f"dataset {name}: {warning}" in text


def test_cli_by_bad_input_is_one_line(cli, tmp_path):
    assert_user_error(cli("fit", "loss", str(PORIAN), "--by", "datasett"), "no column 'datasett'")
    out = tmp_path / "g.json"
    cli("fit", "loss", str(PORIAN), "--by", "dataset", "--out", str(out))
    assert_user_error(cli("optimal", str(out), "--flops", "1e21", "--group", "c4"), "no dataset 'c4'")


def test_isoflop_and_validate_by_dataset_equal_the_runs_of_each_dataset(cli, tmp_path):
    out = tmp_path / "iso.json"
    base = ["--where", "hparams=tuned", "--where", "param_count=standard"]
    assert cli("fit", "isoflop", str(PORIAN), *base, "--by", "dataset", "--out", str(out)).code == 0
    group = scalelaw.load(out)
    for name in ("rw", "owt2"):
        one = tmp_path / f"{name}.json"
        cli("fit", "isoflop", str(PORIAN), *base, "--where", f"dataset={name}", "--out", str(one))
        assert group[name].exponents().equals(scalelaw.load(one).exponents())
    plot = tmp_path / "iso.png"
    assert cli("fit", "isoflop", str(PORIAN), *base, "--by", "dataset", "--plot", str(plot)).code == 0
    assert plot.stat().st_size > 10_000  # two members of two panels each, titled by their dataset
    payload = json.loads(cli("validate", "loss", str(PORIAN), "--by", "dataset", "--json").stdout)
    alone = json.loads(cli("validate", "loss", str(PORIAN), "--where", "dataset=owt2", "--json").stdout)
    assert payload["fits"]["owt2"]["held_out"] == alone["held_out"]
    two = tmp_path / "iso2.json"
    assert cli("fit", "isoflop", str(PORIAN), *base, "--by", "dataset", "--jobs", "2", "--out", str(two)).code == 0
    assert comparable(json.loads(two.read_text())) == comparable(json.loads(out.read_text()))


def test_cli_strict_refuses_a_small_group_and_without_it_warns(cli, tmp_path):
    runs = pd.read_csv(PORIAN)
    small = pd.concat([runs[runs["dataset"] == "owt2"], runs[runs["dataset"] == "rw"].head(3)])
    path = tmp_path / "runs.csv"
    small.to_csv(path, index=False)
    assert_user_error(cli("fit", "loss", str(path), "--by", "dataset", "--strict"), "group 'rw' has 3 rows")
    run = cli("fit", "loss", str(path), "--by", "dataset", "--json")
    payload = json.loads(run.stdout)
    assert list(payload["fits"]) == ["owt2"] and "rw" in payload["info"]["skipped"]
    assert any("group 'rw' has 3 rows" in w for w in payload["warnings"])


def test_flat_curve_reaches_the_least_squares_optimum_and_equals_its_fit_alone():
    # alpha ~ 0.01: E and A trade off along a ridge towards E = 0, where a start crawls; its
    # group's leading start is finished by trust-region least squares after 200 iterations.
    from scipy.optimize import curve_fit

    law = scalelaw.get_law("saturating_power_law")
    rng = np.random.default_rng(271)
    x = np.sort(10 ** rng.uniform(-1, 4, size=13))
    y = (0.0007 + 0.55 * x**-0.0104) * np.exp(rng.normal(0, 0.02, size=13))
    table = pd.DataFrame({"g": "flat", "x": x, "loss": y})
    group = scalelaw.fit(law, table, by="g", loss="squared", polish=3)
    fit = group["flat"]
    alone = engine.fit(law, table, **fit.settings)

    def log_model(x, E, A, alpha):
        return np.log(E + A * x**-alpha)

    p, _ = curve_fit(log_model, x, np.log(y), p0=[y.min() / 2, y.max(), 0.5],
                     bounds=([1e-12, 1e-12, 0.0], [np.inf, np.inf, 10.0]), maxfev=2000)
    reference = float(np.sum((np.log(y) - log_model(x, *p)) ** 2))
    assert fit.diagnostics["converged"]
    assert fit.diagnostics["objective"] <= reference * (1 + 1e-9)
    assert _relative(fit.diagnostics["objective"], alone.diagnostics["objective"]) < 1e-10
