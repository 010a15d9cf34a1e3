"""The datastore commands: fit, optimal, frontier, simulate, and every bad input as one clear line."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from support import DATA, assert_user_error

SIMULATED = DATA / "datastore" / "massiveds_simulated.csv"
ENDPOINTS = DATA / "datastore" / "massiveds_llama2_7b_endpoints.csv"


@pytest.fixture(scope="module")
def joint_artifact(tmp_path_factory):
    from support import run_cli

    path = tmp_path_factory.mktemp("datastore") / "joint.json"
    run = run_cli("datastore", "fit", SIMULATED, "--law", "joint", "--metric", "redpajama_ppl",
                  "--reader", "pythia-1b", "--reader", "pythia-12b", "--reader", "olmo-7b",
                  "--reader", "llama-2-7b", "--bootstrap", "50", "--out", path)
    assert run.code == 0, run.stderr
    return path


def write(tmp_path, text: str, name: str = "log.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


HEADER = "model,params,tokens,datastore_tokens,metric,value\n"


def test_fit_per_reader_table_json_artifact_and_plot(cli, tmp_path):
    out, plot = tmp_path / "fit.json", tmp_path / "fit.png"
    run = cli("datastore", "fit", SIMULATED, "--reader", "llama-2-7b", "--at", "14T", "--out", out,
              "--plot", plot)
    assert run.code == 0, run.stderr
    for text in ("held-out MAE log_linear", "llama-2-7b", "at 14T tokens"):
        assert text in run.stdout
    assert plot.read_bytes()[:4] == b"\x89PNG"
    saved = json.loads(out.read_text())
    assert saved["schema"] == "scalelaw.datastore.fit/1" and len(saved["readers"]["fits"]) == 2
    run = cli("datastore", "fit", SIMULATED, "--reader", "llama-2-7b", "--metric", "tqa_em", "--json")
    summary = json.loads(run.stdout)["summary"]["laws"]
    chosen = [row for row in summary if row["chosen"]]
    assert len(chosen) == 1 and set(chosen[0]["params"]) in ({"a", "b"}, {"G", "S0", "gamma"})
    assert {row["law"] for row in summary} == {"log_linear", "saturating"}
    assert all(row["held_out_error"]["n"] == 2 for row in summary)


def test_fit_forced_law(cli):
    run = cli("datastore", "fit", SIMULATED, "--reader", "llama-2-13b", "--law", "saturating", "--json")
    laws = json.loads(run.stdout)["summary"]["laws"]
    assert {row["law"] for row in laws if row["chosen"]} == {"saturating"}


def test_fit_joint_and_optimal(cli, joint_artifact):
    payload = json.loads(joint_artifact.read_text())
    assert set(payload["joint"]["fit"]["params"]) == {"E", "A", "B", "C", "alpha", "beta", "gamma"}
    assert payload["comparison"] and payload["joint"]["validation"]["held_out"] == [1.05e12, 1.4e12]
    run = cli("datastore", "optimal", joint_artifact, "--flops", "1e22", "--json")
    assert run.code == 0, run.stderr
    best = json.loads(run.stdout)
    for key in ("params", "tokens", "datastore_tokens", "value", "params_lower", "value_upper"):
        assert best[key] > 0, key
    assert best["pretraining_flops"] + best["datastore_flops"] == pytest.approx(1e22, rel=1e-9)
    capped = json.loads(cli("datastore", "optimal", joint_artifact, "--flops", "1e22", "--max-datastore",
                            "1.4T", "--retriever-params", "177M", "--json").stdout)
    assert capped["at_cap"] and capped["datastore_tokens"] == pytest.approx(1.4e12)
    assert capped["datastore_flops"] == pytest.approx(2 * 1.77e8 * 1.4e12)
    run = cli("datastore", "optimal", joint_artifact, "--flops", "1e25")
    assert run.code == 0 and "reader params N" in run.stdout and "outside the fitted range" in run.stderr


def test_fit_joint_table(cli):
    run = cli("datastore", "fit", SIMULATED, "--law", "joint", "--metric", "tqa_em", "--reader", "pythia-1b",
              "--reader", "olmo-7b", "--reader", "llama-2-13b")
    assert run.code == 0, run.stderr
    for text in ("gamma", "joint law vs per-reader laws", "extrapolation check"):
        assert text in run.stdout
    assert "LM-only rows are not part of the fit" in run.stderr


def test_frontier(cli, tmp_path, joint_artifact):
    plot = tmp_path / "pareto.png"
    run = cli("datastore", "frontier", SIMULATED, "--metric", "redpajama_ppl", "--fit", joint_artifact,
              "--plot", plot)
    assert run.code == 0, run.stderr
    assert "Pareto frontier" in run.stdout and "LM-only" in run.stdout and plot.exists()
    rows = json.loads(cli("datastore", "frontier", SIMULATED, "--json").stdout)["configurations"]
    assert {r["metric"] for r in rows} == {"redpajama_ppl", "tqa_em"}
    assert all(r["pareto"] or r["lm_only_pareto"] for r in rows)


def test_two_published_endpoints(cli):
    run = cli("datastore", "fit", ENDPOINTS, "--json")
    assert run.code == 0, run.stderr
    laws = json.loads(run.stdout)["summary"]["laws"]
    assert len(laws) == 5 and all(row["law"] == "log_linear" for row in laws)
    assert all("two points cannot test a law" in row["notes"][0] for row in laws)
    run = cli("datastore", "fit", ENDPOINTS, "--metric", "nq_em")
    assert run.code == 0 and "two points cannot test a law" in run.stderr


def test_simulate(cli, tmp_path):
    out = tmp_path / "sim.csv"
    assert cli("datastore", "simulate", "--out", out, "--seed", "0").code == 0
    assert out.read_text() == SIMULATED.read_text()


# --------------------------------------------------------------------------------------- bad input
def test_negative_datastore_size(cli, tmp_path):
    path = write(tmp_path, HEADER + "m,1B,20B,0,ppl,9\nm,1B,20B,-10B,ppl,8\nm,1B,20B,100B,ppl,7\n")
    assert_user_error(cli("datastore", "fit", path), "log.csv", "row 2", "'datastore_tokens'",
                      "sizes are tokens >= 0")


def test_negative_reader_size(cli, tmp_path):
    path = write(tmp_path, HEADER + "m,-1B,20B,0,ppl,9\n")
    assert_user_error(cli("datastore", "frontier", path), "row 1", "'params'", "not a positive size")


def test_a_metric_with_a_single_datastore_size(cli, tmp_path):
    path = write(tmp_path, HEADER + "m,1B,20B,10B,ppl,9\nm,1B,20B,10B,ppl,8.8\n")
    assert_user_error(cli("datastore", "fit", path), "row 1",
                      "reader 'm', metric 'ppl' has a single datastore size (10B tokens)")


def test_mixing_perplexity_and_accuracy_in_one_law(cli, tmp_path):
    assert_user_error(cli("datastore", "fit", SIMULATED, "--law", "joint"),
                      "mixes perplexity (redpajama_ppl) and accuracy (tqa_em)", "--metric")
    path = write(tmp_path, "model,params,tokens,datastore_tokens,metric,value,kind\n"
                           "m,1B,20B,0,score,9,perplexity\nm,1B,20B,10B,score,40,accuracy\n")
    assert_user_error(cli("datastore", "fit", path), "row 2", "mixes perplexity and accuracy in one law")


def test_budget_below_the_smallest_measured_configuration(cli, joint_artifact):
    assert_user_error(cli("datastore", "optimal", joint_artifact, "--flops", "1e20"),
                      "below the smallest measured configuration", "pythia-1b@50B")


def test_other_bad_inputs(cli, tmp_path):
    unknown = write(tmp_path, HEADER + "m,1B,20B,0,widgets,9\nm,1B,20B,1T,widgets,8\n", "unknown.csv")
    assert_user_error(cli("datastore", "fit", unknown), "cannot tell whether metric 'widgets'",
                      "add a column 'kind'")
    high = write(tmp_path, HEADER + "m,1B,20B,0,tqa_em,101\n", "high.csv")
    assert_user_error(cli("datastore", "fit", high), "row 1", "not an accuracy")
    empty = write(tmp_path, HEADER + "m,,20B,0,ppl,9\n", "empty.csv")
    assert_user_error(cli("datastore", "fit", empty), "row 1", "'params'", "the cell is empty")
    missing = write(tmp_path, "model,params,tokens,metric,value\nm,1B,20B,ppl,9\n", "missing.csv")
    assert_user_error(cli("datastore", "fit", missing), "missing column 'datastore_tokens'")
    assert_user_error(cli("datastore", "fit", ENDPOINTS, "--law", "saturating"), "needs 3 datastore sizes")
    assert_user_error(cli("datastore", "fit", SIMULATED, "--metric", "wer"),
                      "--metric 'wer' is not in the file")
    assert_user_error(cli("datastore", "fit", SIMULATED, "--plot", tmp_path / "x.bmpx"), "cannot write .bmpx")
    assert_user_error(cli("datastore", "optimal", tmp_path / "none.json", "--flops", "1e22"), "no such file")


def test_optimal_needs_a_joint_fit_and_nothing_is_half_written(cli, tmp_path):
    per_reader = tmp_path / "readers.json"
    assert cli("datastore", "fit", ENDPOINTS, "--out", per_reader).code == 0
    assert_user_error(cli("datastore", "optimal", per_reader, "--flops", "1e22"), "holds per-reader laws",
                      "--law joint")
    out = tmp_path / "never.json"
    bad = write(tmp_path, HEADER + "m,1B,20B,10B,ppl,9\n", "single.csv")
    assert_user_error(cli("datastore", "fit", bad, "--out", out), "single datastore size")
    assert not out.exists()
    assert_user_error(cli("datastore", "optimal", per_reader, "--flops", "-3"), "--flops")
    assert_user_error(cli("datastore", "frontier", SIMULATED, "--retriever-params", "0"),
                      "--retriever-params")
    pd.read_csv(SIMULATED)  # the shipped file is untouched
