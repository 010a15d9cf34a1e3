"""Extrapolation warnings: one core check, its factor stated in Python, CLI text and --json."""

from __future__ import annotations

import json
import warnings

import pytest

import scalelaw
from scalelaw import extrapolation
from scalelaw.families import loss, sampling
from scalelaw.protocol import load

from support import DATA, ROOT

ARTIFACTS = ROOT / "tests" / "legacy_artifacts"
FIT = ARTIFACTS / "fit.json"  # params 57.3M..16.2B, tokens 819M..318B


def _fit():
    return load(FIT)


def test_core_states_the_factor_above_and_below_and_nothing_inside():
    ranges = {"params": [5.73e7, 1.62e10]}
    assert extrapolation.check(ranges, {"params": 7e10}) == ("params = 70B is 4.3x the largest fitted (16.2B)",)
    assert extrapolation.check(ranges, {"params": 5.73e6}) == (
        "params = 5.73M is 10x below the smallest fitted (57.3M)",)
    assert extrapolation.check(ranges, {"params": [1e8, 1.62e10, 5.73e7]}) == ()
    assert extrapolation.check({"flops": [1e20, 1.8e24]}, {"flops": 3.4e27}) == (
        "flops = 3.4e27 is 1,900x the largest fitted (1.8e24)",)
    assert extrapolation.check(ranges, {"params": [1e9, 3.24e10, 1.62e11]}) == (
        "params = 162B is 10x the largest fitted (16.2B) (2 of 3 values outside)",)
    assert issubclass(scalelaw.ExtrapolationWarning, UserWarning)


def test_predict_warns_with_the_factor_and_not_inside():
    fit = _fit()
    with pytest.warns(scalelaw.ExtrapolationWarning, match=r"params = 70B is 4\.3x the largest fitted \(16\.2B\)"):
        value = fit.predict({"params": 7e10, "tokens": 1e11})
    assert value.shape == (1,)
    with pytest.warns(scalelaw.ExtrapolationWarning, match=r"tokens = 1\.4T is 4\.4x the largest fitted \(318B\)"):
        value, lo, hi = fit.predict_interval({"params": 1e9, "tokens": 1.4e12})
    assert fit.extrapolation({"params": 7e10, "tokens": 1e11}) == ("params = 70B is 4.3x the largest fitted (16.2B)",)
    with warnings.catch_warnings():
        warnings.simplefilter("error", scalelaw.ExtrapolationWarning)
        fit.predict({"params": 1e9, "tokens": 1e11})
        fit.predict_interval({"params": 1e9, "tokens": 1e11})
    assert fit.extrapolation({"params": 1e9, "tokens": 1e11}) == ()


def test_allocate_far_past_the_largest_run():
    fit = _fit()
    with pytest.warns(scalelaw.ExtrapolationWarning, match=r"N_opt = 3\.38T is 210x the largest fitted \(16\.2B\)"):
        allocation = loss.allocate(fit, 1e27)
    assert "N_opt = 3.38T is 210x the largest fitted (16.2B)" in allocation.warnings
    assert "D_opt = 49.3T is 160x the largest fitted (318B)" in allocation.warnings
    assert "C (FLOPs) = 1e27 is 32,000x the largest fitted 6 N D (3.09e22)" in allocation.warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error", scalelaw.ExtrapolationWarning)
        inside = loss.allocate(fit, 1e21)
    assert inside.warnings == ()


def test_optimal_and_predict_on_the_command_line(cli):
    run = cli("optimal", str(FIT), "--flops", "1e27")
    assert run.code == 0
    assert "warning: N_opt = 3.38T is 210x the largest fitted (16.2B)" in run.stderr
    assert run.stderr.count("N_opt = 3.38T") == 1  # once, not again as a Python warning
    out = json.loads(cli("optimal", str(FIT), "--flops", "1e27", "--json").stdout)
    assert "N_opt = 3.38T is 210x the largest fitted (16.2B)" in out["warnings"]  # one budget: its row
    assert json.loads(cli("optimal", str(FIT), "--flops", "1e21", "--json").stdout)["warnings"] == []
    many = json.loads(cli("optimal", str(FIT), "--flops", "1e21,1e27", "--json").stdout)
    assert len(many["allocations"]) == 2 and any("(1 of 2 values outside)" in w for w in many["warnings"])

    run = cli("predict", str(FIT), "--params", "70B", "--tokens", "100B")
    assert "warning: params = 70B is 4.3x the largest fitted (16.2B)" in run.stderr
    out = json.loads(cli("predict", str(FIT), "--params", "70B", "--tokens", "100B", "--json").stdout)
    assert out["warnings"] == ["params = 70B is 4.3x the largest fitted (16.2B)"]
    assert out["extrapolating"]  # the older field stays
    inside = cli("predict", str(FIT), "--params", "1B", "--tokens", "100B", "--json")
    assert json.loads(inside.stdout)["warnings"] == [] and "warning" not in inside.stderr


def test_isoflop_budgets_past_the_fitted_ones(cli):
    args = ("fit", "isoflop", str(DATA / "loss" / "porian_isoflop_points.csv"), "--where", "dataset=rw",
            "--where", "hparams=tuned", "--where", "param_count=standard")
    run = cli(*args, "--flops", "1e25")
    assert "warning: flops = 1e25 is 390,000x the largest fitted (2.56e19)" in run.stderr
    out = json.loads(cli(*args, "--flops", "1e25", "--json").stdout)
    assert "flops = 1e25 is 390,000x the largest fitted (2.56e19)" in out["warnings"]
    inside = json.loads(cli(*args, "--flops", "1e19", "--json").stdout)
    assert not any("largest fitted" in w or "smallest fitted" in w for w in inside["warnings"])


def test_sampling_plan_beyond_the_samples_drawn(cli):
    fit = load(ARTIFACTS / "sampling.json")
    with pytest.warns(scalelaw.ExtrapolationWarning, match=r"Pythia 70M: samples per problem = 464K is 46x"):
        plan = sampling.plan(fit, 0.5)
    assert "Pythia 70M: samples per problem = 464K is 46x the largest drawn (10K)" in plan.warnings
    assert not any(w.startswith("Pythia 160M") for w in plan.warnings)  # 4,158 of 10,000 drawn
    run = cli("sampling", "plan", str(ARTIFACTS / "sampling.json"), "--target", "0.5")
    assert "warning: Pythia 70M: samples per problem = 464K is 46x the largest drawn (10K)" in run.stderr
    out = json.loads(cli("sampling", "plan", str(ARTIFACTS / "sampling.json"), "--target", "0.5", "--json").stdout)
    assert out["warnings"] == ["Pythia 70M: samples per problem = 464K is 46x the largest drawn (10K)"]
    low = json.loads(cli("sampling", "plan", str(ARTIFACTS / "sampling.json"), "--target", "0.01", "--json").stdout)
    assert low["warnings"] == []


def test_datastore_sizes_past_the_fitted_ones(cli):
    path = DATA / "datastore" / "massiveds_llama2_7b_endpoints.csv"
    run = cli("datastore", "fit", str(path), "--at", "14T")
    assert "warning: llama-2-7b, tqa_em: datastore_tokens = 14T is 10x the largest fitted (1.4T)" in run.stderr
    out = json.loads(cli("datastore", "fit", str(path), "--at", "14T", "--json").stdout)
    assert "llama-2-7b, tqa_em: datastore_tokens = 14T is 10x the largest fitted (1.4T)" in out["warnings"]
    inside = json.loads(cli("datastore", "fit", str(path), "--at", "100B", "--json").stdout)
    assert not any("fitted (" in w for w in inside["warnings"])


def test_hparams_recommend_outside_the_published_sweep(cli):
    from scalelaw.families.hyperparams.published import published
    from scalelaw.families.hyperparams.recommend import recommend

    text = ("N (parameters) = 7e+09 is outside 2.15e+08 to 1.07e+09, the range steplaw was measured on: "
            "extrapolating, 6.5x the largest measured")
    with pytest.warns(scalelaw.ExtrapolationWarning, match=r"extrapolating, 6\.5x the largest measured"):
        assert text in recommend(published("steplaw"), 7e9, 1e12).warnings
    run = cli("hparams", "recommend", "--params", "7B", "--tokens", "1T")
    assert f"warning: {text}" in run.stderr
    out = json.loads(cli("hparams", "recommend", "--params", "7B", "--tokens", "1T", "--json").stdout)
    assert text in out["warnings"]
    inside = cli("hparams", "recommend", "--params", "500M", "--tokens", "20B")
    assert "was measured on" not in inside.stderr


def test_error_law_json_keeps_the_warning_its_text_prints(cli, tmp_path):
    import numpy as np
    import pandas as pd

    loss_values = np.linspace(2.2, 4.0, 8)
    pd.DataFrame({"L": loss_values, "err": 0.857 - 2.206 * np.exp(-0.7146 * loss_values)}).to_csv(
        tmp_path / "e.csv", index=False)
    args = ("downstream", "error-law", tmp_path / "e.csv", "--loss-column", "L", "--error-column", "err")
    text = ("the loss 1.5000 is outside the fitted range 2.2000..4.0000: the error law extrapolates "
            "(1.5x below the smallest fitted loss)")
    assert f"warning: {text}" in cli(*args, "--at-loss", "1.5").stderr
    assert text in json.loads(cli(*args, "--at-loss", "1.5", "--json").stdout)["warnings"]
    assert json.loads(cli(*args, "--at-loss", "3", "--json").stdout)["warnings"] == []


def test_mix_optimize_outside_the_fitted_shares(cli, tmp_path):
    fit = tmp_path / "mix.json"
    mix = DATA / "mixture"
    assert cli("mix", "fit", mix / "train_mixture_1m.csv", mix / "train_pile_loss_1m.csv", "--target",
               "metric/the_pile_pile_cc_val_loss", "--out", fit).code == 0
    text = ("extrapolating: the share of train_the_pile_enron_emails is 0.5, beyond the fitted range 0..0.026 "
            "(19x the largest fitted share)")
    out = json.loads(cli("mix", "optimize", fit, "--max-share", "0.5", "--json").stdout)
    assert text in out["warnings"]
    assert f"warning: {text}" in cli("mix", "optimize", fit, "--max-share", "0.5").stderr
    from scalelaw.families.transport import mixing

    with pytest.warns(scalelaw.ExtrapolationWarning, match=r"19x the largest fitted share"):
        law = load(fit)
        assert text in mixing.optimize(law, caps=dict.fromkeys(mixing.domains_of(law.law), 0.5)).warnings


def test_coverage_at_more_samples_than_drawn_warns():
    fit = load(ARTIFACTS / "sampling.json")
    with pytest.warns(scalelaw.ExtrapolationWarning, match=r"Pythia 70M: samples per problem = 1M is 100x the "
                                                            r"largest drawn \(10K\)"):
        sampling.coverage_at(fit, [100, 1_000_000])
    with warnings.catch_warnings():
        warnings.simplefilter("error", scalelaw.ExtrapolationWarning)
        sampling.coverage_at(fit, [10, 10_000])


def test_hparams_evaluate_warns_beyond_the_measured_compute(tmp_path, cli):
    """The synthetic sweep reaches 6 N D = 3.07e20; DeepSeek's law was measured up to 2e19."""
    import sys

    sys.path.insert(0, str(ROOT / "tests"))
    from hparams_sweeps import sweep_frame

    from scalelaw.families import hyperparams as hp

    frame = sweep_frame()
    with pytest.warns(scalelaw.ExtrapolationWarning, match="15x the largest deepseek measured"):
        result = hp.evaluate(hp.select(hp.tidy(frame)), hp.published("deepseek"))
    assert any("3.07e20 is 15x the largest deepseek measured (2e19)" in w for w in result.warnings)
    path = tmp_path / "sweep.csv"
    frame.to_csv(path, index=False)
    run = cli("hparams", "evaluate", path, "--law", "deepseek")
    assert run.code == 0 and "warning: deepseek: M D (non-embedding FLOPs) = 3.07e20 is 15x" in run.stderr
    within = sweep_frame(groups=((3e8, 1e10), (8e8, 4e10)))  # inside Step Law's measured N, D and D/N
    with warnings.catch_warnings():
        warnings.simplefilter("error", scalelaw.ExtrapolationWarning)
        inside = hp.evaluate(hp.select(hp.tidy(within)), hp.published("steplaw", bootstrap_file=False))
    assert not any("measured" in w for w in inside.warnings)


def test_mix_evaluate_names_shares_beyond_the_fitted_ones(tmp_path, cli):
    mixture = DATA / "mixture"
    fit = tmp_path / "mix.json"
    assert cli("mix", "fit", mixture / "train_mixture_1m.csv", mixture / "train_pile_loss_1m.csv", "--target",
               "metric/the_pile_pile_cc_val_loss", "--out", fit).code == 0
    args = ("mix", "evaluate", fit, mixture / "test_mixture_1m.csv", mixture / "test_pile_loss_1m.csv")
    payload = json.loads(cli(*args, "--json").stdout)
    expected = "train_the_pile_arxiv = 0.961 is 1.1x the largest fitted (0.904) (1 of 256 values outside)"
    assert expected in payload["warnings"]
    assert f"warning: {expected}" in cli(*args).stderr
    # RegMix's test mixtures are other random draws on the 17-domain simplex: none is a convex
    # combination of the 512 training mixtures
    assert any(w.startswith("256 of 256 mixtures lie outside the convex hull of the 512 mixtures")
               for w in payload["warnings"])
    own = json.loads(cli("mix", "evaluate", fit, mixture / "train_mixture_1m.csv", mixture / "train_pile_loss_1m.csv",
                         "--json").stdout)
    assert own["warnings"] == []
