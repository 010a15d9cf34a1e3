"""The sampling commands: outputs and every bad input as one line with exit 2."""

from __future__ import annotations

import json

import pytest

from support import DATA, assert_user_error

PER_PROBLEM = DATA / "sampling" / "llmonkeys_pythia_math_per_problem.csv"



def write(tmp_path, text: str, name: str = "counts.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_passk_json(cli, small):
    run = cli("sampling", "passk", small, "--k", "1,10,100,10000", "--bootstrap", "200", "--json")
    assert run.code == 0, run.stderr
    out = json.loads(run.stdout)["models"]
    assert out["Pythia 70M"]["k"] == [1, 10, 100, 10000]
    assert round(out["Pythia 70M"]["pass_at_k"][-1], 4) == 0.2656
    assert round(out["Pythia 12B"]["pass_at_k"][-1], 4) == 0.875
    assert out["Pythia 12B"]["lower"][0] < out["Pythia 12B"]["pass_at_k"][0] < out["Pythia 12B"]["upper"][0]


def test_fit_json_out_and_plot_then_plan(cli, small, tmp_path):
    out, plot = tmp_path / "fit.json", tmp_path / "coverage.png"
    run = cli("sampling", "fit", small, "--out", out, "--plot", plot, "--bootstrap", "50", "--json")
    assert run.code == 0, run.stderr
    models = json.loads(run.stdout)["models"]
    assert round(models["Pythia 70M"]["a"], 2) == -7.67 and round(models["Pythia 70M"]["b"], 3) == -0.184
    assert round(models["Pythia 12B"]["a"], 2) == -3.99 and round(models["Pythia 12B"]["b"], 3) == -0.352
    assert models["Pythia 12B"]["A"] == -models["Pythia 12B"]["a"]
    assert out.exists() and plot.read_bytes()[:4] == b"\x89PNG"
    run = cli("sampling", "plan", out, "--target", "0.5", "--cost-per-sample", "0.002", "--json")
    assert run.code == 0, run.stderr
    rows = json.loads(run.stdout)["models"]
    assert [r["model"] for r in rows] == ["Pythia 12B", "Pythia 70M"]
    assert rows[0]["samples"] == 145 and rows[0]["total_cost"] == pytest.approx(145 * 0.002 * 128)
    run = cli("sampling", "plan", out, "--target", "0.5", "--cost", "Pythia 12B=0.05",
              "--cost", "Pythia 70M=0.0001")
    assert run.code == 0 and "cheapest: Pythia 12B" in run.stdout


def test_fit_tables_for_both_methods_and_every_space(cli, small):
    for space in ("log-coverage", "coverage", "neglog-loglog"):
        run = cli("sampling", "fit", small, "--space", space, "--bootstrap", "0")
        assert run.code == 0 and "Pythia 12B" in run.stdout and space in run.stdout, run.stderr
    run = cli("sampling", "fit", small, "--method", "beta-binomial", "--bootstrap", "0", "--json")
    assert run.code == 0, run.stderr
    row = json.loads(run.stdout)["models"]["Pythia 12B"]
    assert round(row["asymptotic_exponent"], 4) == 0.25 and round(row["window_slope"], 4) == 0.3368


def test_verifier_json_reproduces_flaws(cli):
    base = ["sampling", "verifier", "--rates", "0.87,0.13", "--weights", "0.58,0.42", "--completeness", "1",
            "--soundness", "0.75"]
    for fp, k_opt, u in (("0.7", 3, 0.5246), ("1", 2, 0.4724), ("2", 1, 0.3388)):
        run = cli(*base, "--fp-cost", fp, "--json")
        assert run.code == 0, run.stderr
        out = json.loads(run.stdout)
        assert out["k_opt"] == k_opt and round(out["utility"], 4) == u and round(out["ceiling"], 3) == 0.716


def test_verifier_from_counts_and_plot(cli, tmp_path):
    path = write(tmp_path, "model,problem,n_samples,n_correct,n_accepted,n_accepted_correct\n"
                           "m,a,10,6,7,5\nm,b,10,1,4,1\nm,c,10,0,0,0\n")
    plot = tmp_path / "utility.svg"
    run = cli("sampling", "verifier", "--counts", path, "--fp-cost", "1", "--plot", plot, "--json")
    assert run.code == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["ceiling"] == pytest.approx((5 / 7 + 1 / 4 + 0) / 3)
    assert out["completeness"] == pytest.approx(6 / 7) and plot.read_text().lstrip().startswith("<?xml")


def test_check_json(cli, small):
    run = cli("sampling", "check", small, "--samples", "100", "--target-k", "10000", "--json")
    assert run.code == 0, run.stderr
    out = json.loads(run.stdout)
    assert {r["estimator"] for r in out["coverage"]} == {"powerlaw (k <= 100)", "powerlaw (100 per problem)",
                                                          "beta-binomial (100 per problem)"}
    assert len(out["exponent"]) == 6


# ------------------------------------------------------------------------------------- bad input
def test_n_correct_above_n_samples(cli, tmp_path):
    path = write(tmp_path, "model,problem,n_samples,n_correct\nm,a,10,3\nm,b,10,11\n")
    assert_user_error(cli("sampling", "passk", path), "counts.csv", "row 2", "'n_correct'", "exceeds")


def test_negative_counts(cli, tmp_path):
    path = write(tmp_path, "model,problem,n_samples,n_correct\nm,a,10,-1\n")
    assert_user_error(cli("sampling", "fit", path), "row 1", "'n_correct'", "whole numbers >= 0")
    path = write(tmp_path, "model,problem,n_samples,n_correct\nm,a,-10,0\n")
    assert_user_error(cli("sampling", "passk", path), "row 1", "'n_samples'")


def test_counts_that_are_not_whole_numbers_or_missing(cli, tmp_path):
    path = write(tmp_path, "model,problem,n_samples,n_correct\nm,a,10,2.5\n")
    assert_user_error(cli("sampling", "passk", path, "--k", "1"), "row 1", "'n_correct'", "not a count")
    path = write(tmp_path, "model,problem,n_samples\nm,a,10\n")
    assert_user_error(cli("sampling", "passk", path), "missing column 'n_correct'")
    path = write(tmp_path, "model,problem,is_correct\nm,a,1\nm,a,maybe\n")
    assert_user_error(cli("sampling", "passk", path, "--k", "1"), "row 2", "'is_correct'", "0/1")


@pytest.mark.parametrize("k", ["0", "1.5", "-3", "abc", "1,,2"])
def test_k_not_a_positive_integer(cli, small, k):
    assert_user_error(cli("sampling", "passk", small, "--k", k), "--k")


def test_k_above_the_samples_drawn(cli, small):
    assert_user_error(cli("sampling", "passk", small, "--k", "20000"), "undefined for k > n", "10000")
    run = cli("sampling", "passk", small, "--k", "1,20000", "--nan-beyond-n", "--bootstrap", "0", "--json")
    assert run.code == 0
    assert json.loads(run.stdout)["models"]["Pythia 70M"]["pass_at_k"][1] == {"$float": "nan"}


@pytest.mark.parametrize("target", ["0", "1", "1.5", "-0.2"])
def test_target_coverage_outside_0_1(cli, small, tmp_path, target):
    out = tmp_path / "fit.json"
    assert cli("sampling", "fit", small, "--bootstrap", "0", "--out", out).code == 0
    assert_user_error(cli("sampling", "plan", out, "--target", target), "--target", "between 0 and 1")


@pytest.mark.parametrize("rates", ["0.87,1.13", "-0.1,0.5"])
def test_rates_outside_0_1(cli, rates):
    assert_user_error(cli("sampling", "verifier", "--rates", rates, "--weights", "0.58,0.42",
                          "--completeness", "1", "--soundness", "0.75"), "--rates", "[0, 1]")


def test_weights_that_do_not_sum_to_one(cli):
    assert_user_error(cli("sampling", "verifier", "--rates", "0.87,0.13", "--weights", "0.58,0.40",
                          "--completeness", "1", "--soundness", "0.75"), "--weights must sum to 1", "0.98")
    assert_user_error(cli("sampling", "verifier", "--rates", "0.87,0.13", "--weights", "1",
                          "--completeness", "1", "--soundness", "0.75"), "one weight per rate")


def test_verifier_needs_its_inputs_and_consistent_counts(cli, tmp_path):
    assert_user_error(cli("sampling", "verifier", "--rates", "0.5"), "missing --weights")
    path = write(tmp_path, "model,problem,n_samples,n_correct,n_accepted,n_accepted_correct\nm,a,10,2,12,1\n")
    assert_user_error(cli("sampling", "verifier", "--counts", path), "row 1", "'n_accepted'", "exceeds")
    path = write(tmp_path, "model,problem,n_samples,n_correct\nm,a,10,2\n")
    assert_user_error(cli("sampling", "verifier", "--counts", path), "verifier columns")
    assert_user_error(cli("sampling", "verifier", "--rates", "0.5", "--weights", "1", "--completeness", "1",
                          "--soundness", "1", "--fp-cost", "-1"), "--fp-cost")


def test_nothing_is_written_when_a_fit_fails(cli, tmp_path):
    path = write(tmp_path, "model,problem,n_samples,n_correct\nm,a,10,0\nm,b,10,0\n")
    out, plot = tmp_path / "fit.json", tmp_path / "fit.png"
    assert_user_error(cli("sampling", "fit", path, "--out", out, "--plot", plot), "coverage law needs")
    assert not out.exists() and not plot.exists()
    assert_user_error(cli("sampling", "fit", PER_PROBLEM, "--plot", tmp_path / "fit.xyz"),
                      "cannot write .xyz")


def test_bad_options_and_files(cli, small, tmp_path):
    assert_user_error(cli("sampling", "fit", small, "--space", "logit"), "loss space must be one of")
    assert_user_error(cli("sampling", "fit", small, "--method", "kumaraswamy"), "--method must be one of")
    assert_user_error(cli("sampling", "fit", small, "--method", "beta-binomial", "--scale", "2"), "(0, 1]")
    assert_user_error(cli("sampling", "passk", tmp_path / "absent.csv"), "no such file")
    assert_user_error(cli("sampling", "plan", small, "--target", "0.5"), "not a JSON artifact")


def test_out_writes_artifacts_that_load(cli, small, tmp_path):
    import scalelaw
    from scalelaw.families import sampling

    fit, plan, verifier = tmp_path / "fit.json", tmp_path / "plan.json", tmp_path / "verifier.json"
    assert cli("sampling", "fit", small, "--bootstrap", "10", "--out", fit).code == 0
    group = scalelaw.load(fit)
    assert (group.family, group.kind, list(group)) == ("sampling", "coverage", ["Pythia 70M", "Pythia 12B"])
    run = cli("sampling", "plan", fit, "--target", "0.5", "--cost-per-sample", "0.002", "--out", plan, "--json")
    assert run.code == 0, run.stderr
    kept = scalelaw.load(plan)
    assert isinstance(kept, sampling.SamplingPlan) and dict(kept.settings)["cost_per_sample"] == 0.002
    assert kept.table.to_dict(orient="records") == json.loads(run.stdout)["models"]
    assert_user_error(cli("sampling", "plan", plan, "--target", "0.5"), "sampling plan", "not a sampling coverage fit")
    run = cli("sampling", "verifier", "--rates", "0.87,0.13", "--weights", "0.58,0.42", "--completeness", "1",
              "--soundness", "0.75", "--fp-cost", "1", "--out", verifier)
    assert run.code == 0, run.stderr
    assert scalelaw.load(verifier).k_opt == 2
    assert_user_error(cli("sampling", "verifier", "--rates", "0.87,0.13", "--weights", "0.58,0.42",
                          "--completeness", "1", "--soundness", "0.75", "--fp-cost", "1,2", "--out", verifier),
                      "one --fp-cost")
