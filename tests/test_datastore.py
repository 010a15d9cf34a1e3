"""The datastore family through its Python API: exact laws, recovery of a known law, honest
extrapolation errors, compute accounting and the compute-optimal (N, D, S)."""

from __future__ import annotations

import doctest
import importlib
import math

import numpy as np
import pandas as pd
import pytest

from scalelaw import engine
from scalelaw.errors import InputError
from scalelaw.families import datastore as ds
from scalelaw.families.datastore.data import bootstrap_weights
from scalelaw.families.datastore.laws import JOINT
from scalelaw.families.datastore.simulate import LAWS
from scalelaw.families.loss import chinchilla_allocation
from scalelaw.result import FitResult, error_metrics

from support import DATA

PPL, TQA = LAWS
SIZES = (1.4e10, 7e10, 1.4e11, 3.5e11, 7e11, 1.05e12, 1.4e12)


@pytest.fixture(scope="module")
def simulated() -> ds.Measurements:
    return ds.read(DATA / "datastore" / "massiveds_simulated.csv")


@pytest.fixture(scope="module")
def joint_ppl(simulated) -> ds.JointFit:
    return ds.fit_joint(simulated, metric="redpajama_ppl", bootstrap=100, seed=0)


def log_of(values, sizes=SIZES, *, lm_only=None, metric="ppl", seeds=1) -> pd.DataFrame:
    rows = [{"model": "m", "params": 1e9, "tokens": 2e10, "datastore_tokens": s, "metric": metric, "value": v,
             "seed": k} for s, v in zip(sizes, values, strict=True) for k in range(seeds)]
    if lm_only is not None:
        rows.insert(0, {"model": "m", "params": 1e9, "tokens": 2e10, "datastore_tokens": 0, "metric": metric,
                        "value": lm_only, "seed": 0})
    return pd.DataFrame(rows)


# ------------------------------------------------------------------------------------------ reading
def test_seeds_are_averaged_and_the_fit_to_seed_rows_is_the_fit_to_the_means():
    frame = pd.DataFrame({"model": "m", "params": "1B", "tokens": "20B",
                          "datastore_tokens": ["", "10B", "10B", "10B", "100B", "100B", "1T"],
                          "metric": "ppl", "value": [9.0, 8.0, 8.3, 8.6, 7.5, 7.9, 7.4],
                          "seed": [0, 0, 1, 2, 0, 1, 0]})
    m = ds.prepare(frame)
    points = m.points.set_index("datastore_tokens")
    assert points.loc[1e10, "value"] == pytest.approx(8.3)
    assert points.loc[1e10, "sd"] == pytest.approx(0.3)
    assert points.loc[1e11, "n_seeds"] == 2 and points.loc[0.0, "n_seeds"] == 1
    fits = ds.fit_readers(m, holdout=0)
    means = points[points.index > 0].reset_index()
    direct = engine.fit(ds.LOG_LINEAR, means, loss="squared")
    for name in ("a", "b"):
        assert list(fits.values())[0].fits["log_linear"].params[name] == pytest.approx(direct.params[name], rel=1e-9)


def test_metric_kind_and_ceiling():
    frame = pd.concat([log_of([0.5, 0.6], sizes=(1e10, 1e11), metric="nq_em"),
                       log_of([50.0, 60.0], sizes=(1e10, 1e11), metric="mmlu"),
                       log_of([5.0, 4.0], sizes=(1e10, 1e11), metric="c4_ppl")])
    metrics = ds.prepare(frame).metrics
    assert (metrics["nq_em"].kind, metrics["nq_em"].ceiling) == ("higher", 1.0)
    assert (metrics["mmlu"].kind, metrics["mmlu"].ceiling) == ("higher", 100.0)
    assert (metrics["c4_ppl"].kind, metrics["c4_ppl"].ceiling) == ("lower", None)
    named = log_of([5.0, 4.0], sizes=(1e10, 1e11), metric="custom").assign(kind="accuracy")
    assert ds.prepare(named).metrics["custom"].kind == "higher"


def test_checkpoints_of_one_model_are_different_readers(simulated):
    assert "pythia-1b@50B" in simulated.readers and "llama-2-7b" in simulated.readers
    assert len(simulated.readers) == 21


def test_two_stage_bootstrap_weights_resample_sizes_then_seeds():
    rows = pd.DataFrame({"config": [0, 0, 0, 1, 2, 2]})
    weights = bootstrap_weights(rows, 500, seed=3)
    per_config = np.column_stack([weights[:, :3].sum(1) / 3, weights[:, 3], weights[:, 4:].sum(1) / 2])
    assert np.allclose(per_config, per_config.round())
    assert np.all(per_config.sum(axis=1) == 3)
    assert np.any(weights[:, 0] != weights[:, 1])  # seeds within a size are resampled too


# ------------------------------------------------------------------------------- per-reader laws
def test_log_linear_recovers_an_exact_log_linear_law_and_is_chosen():
    values = [6.0 - 0.05 * math.log(s) for s in SIZES]
    fit = list(ds.fit_readers(ds.prepare(log_of(values, lm_only=6.0 - 0.05 * math.log(1e8)))).values())[0]
    assert fit.fits["log_linear"].params["a"] == pytest.approx(6.0, abs=1e-9)
    assert fit.fits["log_linear"].params["b"] == pytest.approx(-0.05, abs=1e-10)
    assert fit.choice.errors["log_linear"]["mae"] < 1e-9
    assert fit.choice.chosen == "log_linear" and fit.choice.held_out == (1.05e12, 1.4e12)


def test_saturating_recovers_an_exact_anchored_law_and_is_chosen():
    y0, G, S0, gamma = 4.0, 0.8, 2e9, 0.3
    values = [y0 - G * (1 - (1 + s / S0) ** -gamma) for s in SIZES]
    fit = list(ds.fit_readers(ds.prepare(log_of(values, lm_only=y0))).values())[0]
    params = fit.fits["saturating"].params
    assert (params["G"], params["S0"], params["gamma"]) == pytest.approx((G, S0, gamma), rel=1e-4)
    assert fit.choice.chosen == "saturating" and fit.choice.how == "held-out error"
    assert fit.choice.errors["saturating"]["mae"] < 1e-6 < 1e-3 < fit.choice.errors["log_linear"]["mae"]
    assert fit.predict([0.0])[0][0] == y0  # anchored at the LM-only value


def test_increasing_mirror_for_accuracies():
    y0, G, S0, gamma = 60.0, 20.0, 5e9, 0.4
    values = [y0 + G * (1 - (1 + s / S0) ** -gamma) for s in SIZES]
    fit = list(ds.fit_readers(ds.prepare(log_of(values, lm_only=y0, metric="tqa_em")), law="saturating").values())[0]
    assert fit.chosen.params["G"] == pytest.approx(G, rel=1e-4)
    assert fit.chosen.law.formula.startswith("60.0 + G")


def test_held_out_errors_are_the_errors_of_the_law_fitted_without_the_largest_sizes(simulated):
    m = simulated.select(metric="tqa_em", readers=["llama-2-7b"])
    fit = list(ds.fit_readers(m, holdout=2).values())[0]
    rows = m.rows[(m.rows["datastore_tokens"] > 0) & (m.rows["datastore_tokens"] < 1.0e12)]
    test = m.points[m.points["datastore_tokens"] >= 1.0e12]
    laws = {"log_linear": ds.LOG_LINEAR, "saturating": ds.saturating(fit.lm_only, "higher", 100.0)}
    for name, law in laws.items():
        small = engine.fit(law, rows, loss="squared", weight_column="weight")
        expected = error_metrics(test["value"].to_numpy(), small.predict(test))
        assert fit.choice.errors[name]["mae"] == pytest.approx(expected["mae"], rel=1e-6)
    assert fit.choice.chosen == min(fit.choice.errors, key=lambda k: fit.choice.errors[k]["mae"])


def test_two_published_points_give_the_log_linear_law_through_them():
    fits = ds.fit_readers(ds.read(DATA / "datastore" / "massiveds_llama2_7b_endpoints.csv"))
    tqa = ds.get_reader(fits, "llama-2-7b", "tqa_em")
    b = (77.0 - 64.1) / math.log(1.4e12 / 1e9)
    assert tqa.chosen.params["b"] == pytest.approx(b, rel=1e-9)
    assert tqa.chosen.params["a"] == pytest.approx(64.1 - b * math.log(1e9), rel=1e-9)
    assert tqa.predict([1.4e12])[0][0] == pytest.approx(77.0, abs=1e-9)
    assert "two points cannot test a law" in tqa.notes[0]
    assert {f.metric.name for f in fits.values()} == {"redpajama_ppl", "s2orc_ppl", "tqa_em", "nq_em", "mmlu_acc"}


def test_per_reader_bootstrap_gives_intervals(simulated):
    one = simulated.select(metric="redpajama_ppl", readers=["llama-2-7b"])
    fit = list(ds.fit_readers(one, bootstrap=60).values())[0]
    value, lo, hi = fit.predict([1.4e13])
    assert lo[0] < value[0] < hi[0]
    assert np.shape(fit.chosen.settings["bootstrap_weights"])[0] == 60


# ----------------------------------------------------------------------------------- joint law
def test_joint_law_recovers_the_known_law(joint_ppl):
    fit = joint_ppl.fit
    assert fit.law.param_names == ("E", "A", "B", "C", "alpha", "beta", "gamma")
    for name in ("alpha", "beta", "gamma"):
        lo, hi = fit.intervals()[name]
        assert lo <= PPL.params[name] <= hi, name
    assert fit.params["alpha"] == pytest.approx(0.34, abs=0.02)
    assert fit.params["beta"] == pytest.approx(0.28, abs=0.01)
    configs = joint_ppl.configurations[joint_ppl.configurations["datastore_tokens"] > 0]
    args = [configs[c].to_numpy() for c in ("params", "tokens", "datastore_tokens")]
    assert np.max(np.abs(joint_ppl.predict(*args)[0] - PPL.value(*args))) < 0.01


def test_joint_extrapolation_error_is_reported_honestly(simulated, joint_ppl):
    held = joint_ppl.validation["held_out"]
    assert held == [1.05e12, 1.4e12]
    rows = simulated.rows
    rows = rows[(rows["metric"] == "redpajama_ppl") & (rows["datastore_tokens"] > 0)]
    small = engine.fit(JOINT, rows[rows["datastore_tokens"] < 1.05e12], loss="squared",
                       weight_column="weight")
    points = simulated.points[(simulated.points["metric"] == "redpajama_ppl")
                              & simulated.points["datastore_tokens"].isin(held)]
    expected = error_metrics(points["value"].to_numpy(), small.predict(points))
    assert joint_ppl.validation["overall"]["mae"] == pytest.approx(expected["mae"], rel=1e-6)
    # the held-out error is of the size of the noise of a seed mean, not hidden behind the in-sample fit
    assert 0.002 < joint_ppl.validation["overall"]["mae"] < 0.03


def test_joint_law_on_an_accuracy_is_fitted_to_its_error(simulated):
    joint = ds.fit_joint(simulated.select(readers=["pythia-1b", "pythia-12b", "olmo-7b", "llama-2-7b"]),
                         metric="tqa_em", bootstrap=40, holdout=0)
    assert joint.fit.law.target == "error"
    value, lo, hi = joint.predict([7e9], [2e12], [1.4e13])
    assert lo[0] < value[0] < hi[0]
    assert value[0] == pytest.approx(TQA.value(7e9, 2e12, 1.4e13), abs=1.5)


def test_compare_joint_and_per_reader_laws(simulated, joint_ppl):
    readers = ds.fit_readers(simulated.select(metric="redpajama_ppl", readers=["llama-2-7b", "olmo-1b"]))
    table = ds.compare(joint_ppl, readers)
    assert list(table["reader"]) == ["olmo-1b@500B", "olmo-1b@1T", "olmo-1b@2T", "llama-2-7b"]
    row = table.iloc[-1]
    points = simulated.points
    points = points[(points["reader"] == "llama-2-7b") & (points["metric"] == "redpajama_ppl")
                    & (points["datastore_tokens"] > 0)]
    joint = joint_ppl.predict(points["params"], points["tokens"], points["datastore_tokens"])[0]
    assert row["joint_mae"] == pytest.approx(np.mean(np.abs(joint - points["value"])))
    assert np.isfinite(row["joint_held_out_mae"]) and np.isfinite(row["per_reader_held_out_mae"])


# ---------------------------------------------------------------------------------------- compute
def test_flops_accounting_worked_examples():
    cost = ds.RetrievalCost()
    assert cost.datastore(1.4e12) == pytest.approx(2 * 1.1e8 * 1.4e12)  # about 3e20 for MassiveDS
    assert cost.pretraining(1.0e9, 3e11) == pytest.approx(1.8e21)  # Pythia-1B
    serving = ds.RetrievalCost(queries=1e6)
    per_query = 2 * 1.1e8 * 512 + 2 * 768 * 1.4e12 / 256
    assert float(serving.serving(1.4e12)) == pytest.approx(1e6 * per_query)
    assert float(serving.serving(0.0)) == 0.0


def test_pareto_frontier_of_a_small_table():
    frame = pd.DataFrame({"model": ["a", "a", "a", "b", "b"], "params": [1e9] * 3 + [4e9] * 2,
                          "tokens": [1e11] * 3 + [1e11] * 2, "datastore_tokens": [0, 1e11, 1e12, 0, 1e12],
                          "metric": "ppl", "value": [10.0, 9.0, 9.5, 8.5, 8.0]})
    table = ds.frontier(ds.prepare(frame))
    expected_flops = 6 * np.array([1e20, 1e20, 1e20, 4e20, 4e20]) + 2.2e8 * np.array([0, 1e11, 1e12, 0, 1e12])
    assert np.allclose(np.sort(table["flops"]), np.sort(expected_flops))
    on = table[table["pareto"]].sort_values("flops")
    pairs = list(zip(on["model"], on["datastore_tokens"], strict=True))
    assert pairs == [("a", 0), ("a", 1e11), ("b", 0), ("b", 1e12)]
    assert list(table.loc[table["lm_only_pareto"], "model"]) == ["a", "b"]


def _true_joint(law=PPL, configurations=None) -> ds.JointFit:
    ranges = {"params": [1e9, 1.3e10], "tokens": [5e10, 1.5e13], "datastore_tokens": [1.4e10, 1.4e12]}
    fit = FitResult(law=JOINT, params=law.params, data={"ranges": ranges})
    configs = configurations if configurations is not None else pd.DataFrame(
        {"reader": ["r"], "model": ["r"], "params": [1e9], "tokens": [5e10], "datastore_tokens": [1.4e10],
         "value": [5.0], "sd": [0.0], "n_seeds": [1]})
    return ds.JointFit(fit, ds.Metric("redpajama_ppl", "lower"), configs)


def _brute_force(budget: float, cost: ds.RetrievalCost, cap: float = np.inf):
    S = np.geomspace(1e8, min(cap, budget / cost.per_datastore_token * 0.999999), 200_001)
    N, D = chinchilla_allocation(budget - cost.per_datastore_token * S,
                                 **{k: PPL.params[k] for k in ("E", "A", "B", "alpha", "beta")})
    L = PPL.law(N, D, S)
    k = int(np.argmin(L))
    return N[k], D[k], S[k], L[k]


@pytest.mark.parametrize("budget", [1e21, 1e22, 1e24])
def test_optimal_matches_a_brute_force_search_on_the_true_law(budget):
    cost = ds.RetrievalCost()
    best = ds.optimal(_true_joint(), [budget], cost=cost)
    N, D, S, L = _brute_force(budget, cost)
    assert best.value[0] == pytest.approx(L, rel=1e-7) and best.value[0] <= L + 1e-12
    assert (best.params[0], best.tokens[0], best.datastore_tokens[0]) == pytest.approx((N, D, S), rel=2e-3)
    assert best.pretraining_flops[0] + best.datastore_flops[0] == pytest.approx(budget, rel=1e-9)


def test_optimal_with_a_capped_datastore_and_queries():
    cost = ds.RetrievalCost(queries=1e7)
    best = ds.optimal(_true_joint(), [1e22], cost=cost, max_datastore=1.4e12)
    assert best.at_cap[0] and best.datastore_tokens[0] == pytest.approx(1.4e12)
    spent = best.pretraining_flops[0] + best.datastore_flops[0] + best.serving_flops[0]
    assert spent == pytest.approx(1e22, rel=1e-9)
    assert any("capped" in w for w in best.warnings)


def test_optimal_intervals_and_budget_checks(joint_ppl):
    best = ds.optimal(joint_ppl, [1e22])
    for name in ("params", "tokens", "datastore_tokens", "value"):
        value = getattr(best, name)[0]
        assert getattr(best, f"{name}_lower")[0] <= value <= getattr(best, f"{name}_upper")[0], name
    smallest = 6 * 1.01e9 * 5e10 + 2 * 1.1e8 * 1.4e10
    with pytest.raises(InputError, match="below the smallest measured configuration"):
        ds.optimal(joint_ppl, [smallest * 0.99])
    assert any("outside the fitted range" in w for w in ds.optimal(joint_ppl, [1e25]).warnings)


# ------------------------------------------------------------------------------ artifact and data
def test_artifact_round_trip(simulated, joint_ppl):
    readers = ds.fit_readers(simulated.select(metric="redpajama_ppl", readers=["llama-2-13b"]))
    saved = ds.DatastoreFit(readers=readers, joint=joint_ppl, comparison=ds.compare(joint_ppl, readers))
    again = ds.DatastoreFit.from_json(saved.to_json())
    first = next(iter(readers))
    assert again.readers[first].predict([1e13])[0] == pytest.approx(readers[first].predict([1e13])[0])
    at = ([7e9], [2e12], [1e13])
    assert again.joint.predict(*at)[2] == pytest.approx(joint_ppl.predict(*at)[2])
    assert ds.optimal(again.joint, [1e22]).params == pytest.approx(ds.optimal(joint_ppl, [1e22]).params)


def test_shipped_simulation_is_the_generator_output_for_seed_0():
    shipped = pd.read_csv(DATA / "datastore" / "massiveds_simulated.csv")
    pd.testing.assert_frame_equal(shipped, ds.simulate(seed=0), check_dtype=False)
    assert not ds.simulate(seed=1).equals(ds.simulate(seed=0))


def test_simulated_llama2_7b_is_near_the_published_endpoints():
    assert PPL.value(6.74e9, 2e12, 0.0) == pytest.approx(4.09, abs=0.05)
    assert PPL.value(6.74e9, 2e12, 1.4e12) == pytest.approx(3.50, abs=0.05)
    assert TQA.value(6.74e9, 2e12, 0.0) == pytest.approx(64.1, abs=1.0)
    assert TQA.value(6.74e9, 2e12, 1.4e12) == pytest.approx(77.0, abs=1.0)


@pytest.mark.parametrize("name", ["data", "laws", "readers", "joint", "compute", "simulate", "store"])
def test_docstring_examples(name):
    module = importlib.import_module(f"scalelaw.families.datastore.{name}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


def test_selection_errors(simulated):
    with pytest.raises(InputError, match="metric='wer' is not in the file"):
        simulated.select(metric="wer")
    with pytest.raises(InputError, match="readers= names 'gpt-5', which is not in the file"):
        simulated.select(readers=["gpt-5"])
