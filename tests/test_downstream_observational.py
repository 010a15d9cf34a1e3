"""Observational scaling: PCA of the ObsScaling matrix, family checks, held-out errors, bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from scalelaw.families.downstream import observational as obs

from support import DATA, assert_user_error

BASE = DATA / "downstream" / "obsscaling" / "base_llm_benchmark_eval.csv"
V2 = DATA / "downstream" / "obsscaling" / "base_llm_leaderboard_v2_eval.csv"
NON_GSM = ("MMLU", "ARC-C", "HellaSwag", "Winograd", "TruthfulQA", "XWinograd", "HumanEval")


@pytest.fixture(scope="module")
def bench() -> obs.Benchmarks:
    return obs.read_benchmarks(BASE)


@pytest.fixture(scope="module")
def all_models_pca(bench):
    X = bench.frame[list(bench.metrics)].to_numpy()
    filled, _ = obs.impute(X)
    return filled, obs.fit_pca(filled, 5, bench.metrics)


def test_reader_maps_units_and_missing_cells(bench):
    frame = bench.frame.set_index("model")
    assert len(frame) == 148 and frame["flops"].notna().sum() == 123
    assert frame.loc["meta-llama/Llama-2-7b-hf", "flops"] == pytest.approx(8.4e22)
    assert bench.metrics == (
        "MMLU",
        "ARC-C",
        "HellaSwag",
        "Winograd",
        "TruthfulQA",
        "GSM8K",
        "XWinograd",
        "HumanEval",
    )
    assert frame[list(bench.metrics)].isna().to_numpy().mean() == pytest.approx(0.034, abs=5e-4)


def test_pca_of_all_models_matches_the_research_notes(all_models_pca):
    _, pca = all_models_pca
    np.testing.assert_allclose(pca.explained[:3], [0.853, 0.093, 0.027], atol=6e-4)
    loadings = pca.loadings()["PC1"].round(2).to_dict()
    assert loadings == {
        "MMLU": 0.44,
        "ARC-C": 0.32,
        "HellaSwag": 0.33,
        "Winograd": 0.23,
        "TruthfulQA": 0.09,
        "GSM8K": 0.59,
        "XWinograd": 0.22,
        "HumanEval": 0.38,
    }


def test_family_trends_and_the_families_that_break_them(bench, all_models_pca):
    filled, pca = all_models_pca
    frame = bench.frame.assign(PC1=pca.scores(filled)[:, 0])
    checks = obs.family_checks(frame).set_index("family")
    expected = {
        "Pythia": 0.992,
        "OPT": 0.993,
        "Qwen1.5": 0.985,
        "Llama-2": 1.000,
        "OLMo": 0.715,
        "OpenLlama": 0.823,
        "StableLM": -0.27,
    }
    for family, value in expected.items():
        assert checks.loc[family, "correlation"] == pytest.approx(value, abs=6e-3), family
    assert set(checks.index[~checks["log_linear"]]) == {"OLMo", "OpenLlama", "StableLM"}


def test_imputation_recovers_a_rank_one_matrix():
    rng = np.random.default_rng(0)
    X = 0.5 + 0.3 * np.outer(rng.uniform(-1, 1, 40), rng.uniform(0.2, 1.0, 6))
    holes = X.copy()
    holes[rng.random(X.shape) < 0.1] = np.nan
    filled, _ = obs.impute(holes, tol=1e-12, max_iter=5000)
    np.testing.assert_allclose(filled, X, atol=1e-6)


@pytest.mark.parametrize(
    ("target", "cutoff", "chance", "pcs", "flops"),
    [
        ("leaderboard_gpqa", 168e21, 0.25, 2.93e-3, 1.64e-1),
        ("leaderboard_math_hard", 252e21, 0.0, 4.62e-3, 7.05e-2),
    ],
)
def test_held_out_errors_match_the_research_notes(target, cutoff, chance, pcs, flops):
    bench = obs.read_benchmarks(BASE, target_file=V2)
    result = obs.fit_observational(bench, target, cutoff_flops=cutoff, chance=chance, predictors=NON_GSM)
    assert result.error("test", "PCs") == pytest.approx(pcs, rel=6e-3)
    assert result.error("test", "log compute") == pytest.approx(flops, rel=6e-3)
    assert result.fit.diagnostics["converged"]
    assert 0.0 <= result.fit.params["b"] <= 0.2


def test_gsm8k_above_8_4e22_flops(bench):
    result = obs.fit_observational(bench, "GSM8K", cutoff_flops=8.4e22)
    counts = result.models["split"].value_counts()
    assert (counts["train"], counts["test"], counts["unknown compute"]) == (77, 46, 25)
    assert result.error("test", "PCs") < result.error("test", "log compute") / 3
    assert "GSM8K" not in result.predictors
    assert result.models.loc[result.models["model"] == "meta-llama/Llama-2-7b-hf", "split"].item() == "train"


def test_cli_observational(cli, tmp_path):
    run = cli(
        "downstream",
        "observational",
        BASE,
        "--target",
        "GSM8K",
        "--cutoff-flops",
        "8.4e22",
        "--components",
        "3",
        "--json",
        "--plot",
        tmp_path / "obs.png",
    )
    assert run.code == 0, run.stderr
    out = json.loads(run.stdout)
    errors = {(e["split"], e["predictor"]): e for e in out["errors"]}
    assert errors[("test", "PCs")]["n"] == 46
    assert set(out["params"]) == {"b", "c", "w1", "w2", "w3"}
    assert (tmp_path / "obs.png").stat().st_size > 10_000
    table = cli("downstream", "observational", BASE, "--target", "GSM8K", "--cutoff-flops", "8.4e22")
    assert table.code == 0 and "held-out models" in table.stdout
    assert "family StableLM" in table.stderr


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("--target", "BBH", "--cutoff-flops", "8.4e22"), ("--target 'BBH' is not a benchmark",)),
        (("--target", "GSM8K", "--cutoff-flops", "1e15"), ("have compute <= 1e+15", "raise --cutoff-flops")),
        (("--target", "GSM8K", "--cutoff-flops", "1e30"), ("no model with 'GSM8K' has compute above",)),
        (("--target", "GSM8K", "--cutoff-flops", "8.4e22", "--components", "9"), ("--components",)),
        (("--target", "GSM8K", "--cutoff-flops", "8.4e22", "--predictor", "Nope"), ("predictor 'Nope'",)),
        (("--target", "GSM8K", "--cutoff-flops", "8.4e22", "--chance", "1.5"), ("--chance",)),
    ],
)
def test_cli_observational_bad_options(cli, args, fragments):
    assert_user_error(cli("downstream", "observational", BASE, *args), *fragments)


def test_cli_observational_bad_cells(cli, tmp_path):
    frame = pd.read_csv(BASE, dtype=str, keep_default_na=False)
    frame.loc[4, "MMLU"] = "n/a"
    frame.to_csv(tmp_path / "bad.csv", index=False)
    assert_user_error(
        cli(
            "downstream",
            "observational",
            tmp_path / "bad.csv",
            "--target",
            "GSM8K",
            "--cutoff-flops",
            "8.4e22",
        ),
        "bad.csv",
        "row 5 (line 6)",
        "'MMLU'",
        "not a score",
    )
    frame = pd.read_csv(BASE, dtype=str, keep_default_na=False)
    frame.loc[0, "GSM8K"] = "1.7"
    frame.to_csv(tmp_path / "range.csv", index=False)
    assert_user_error(
        cli(
            "downstream",
            "observational",
            tmp_path / "range.csv",
            "--target",
            "GSM8K",
            "--cutoff-flops",
            "8.4e22",
        ),
        "range.csv",
        "'GSM8K'",
        "[0, 1]",
    )
    frame = pd.read_csv(BASE, dtype=str, keep_default_na=False).drop(columns="Model")
    frame.to_csv(tmp_path / "nomodel.csv", index=False)
    assert_user_error(
        cli(
            "downstream",
            "observational",
            tmp_path / "nomodel.csv",
            "--target",
            "GSM8K",
            "--cutoff-flops",
            "8.4e22",
        ),
        "nomodel.csv",
        "'Model'",
    )
