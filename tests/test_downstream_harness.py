"""lm-evaluation-harness v0.4 results: the rows read, the error law and observational scaling on a
results folder matching a hand-made table, and refused inputs."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

from scalelaw.errors import InputError
from scalelaw.families.downstream import error_law, harness, observational

from support import DATA, assert_user_error

RESULTS = Path(__file__).parent / "data" / "lm_eval"
TEMPLATE = RESULTS / "EleutherAI__pythia-160m" / "results_2024-06-12T10-15-32.481920.json"
P160, P410 = "EleutherAI/pythia-160m", "EleutherAI/pythia-410m"


def write_results(root: Path, model: str, scores: dict[str, dict[str, float]],
                  date: str = "2024-06-12T10-15-32.481920") -> Path:
    """A results file as the harness writes it (``--output_path root``), from the shipped one."""
    payload = json.loads(TEMPLATE.read_text(encoding="utf-8"))
    payload["results"] = {task: {"alias": task, **{k if "," in k else f"{k},none": v for k, v in values.items()}}
                          for task, values in scores.items()}
    payload["n-shot"] = {task: 0 for task in sorted(scores)}
    payload["config"]["model_args"] = f"pretrained={model},dtype=float16"
    payload["model_name"], payload["model_name_sanitized"] = model, harness.sanitized(model)
    path = root / harness.sanitized(model) / f"results_{date}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------ the rows
def test_rows_of_the_three_shipped_files():
    read = harness.read_results(RESULTS, params={P160: "162M", "EleutherAI__pythia-410m": "405M"},
                                tokens={P160: "300B"})
    rows = read.rows
    assert len(rows) == 15 and list(rows.columns) == harness.ROW_COLUMNS
    first = rows.iloc[0].to_dict()
    assert {k: first[k] for k in ("model", "task", "metric", "filter", "value", "stderr", "n_shot", "params",
                                  "tokens")} == {
        "model": P160, "task": "arc_easy", "metric": "acc", "filter": "none", "value": 0.43602693602693604,
        "stderr": 0.010175459582759734, "n_shot": 0.0, "params": 162e6, "tokens": 300e9}
    keyed = rows.set_index(["model", "task", "metric"])
    assert keyed.loc[(P160, "lambada_openai", "perplexity"), "value"] == 38.20376624390566
    assert keyed.loc[(P160, "winogrande", "acc"), "stderr"] == 0.014046492383275835
    # the 410m file predates model_name: its name comes from config.model_args
    assert keyed.loc[(P410, "piqa", "acc_norm"), "value"] == 0.6686615886833515
    assert keyed.loc[(P410, "hellaswag", "acc"), "params"] == 405e6
    assert math.isnan(keyed.loc[(P410, "hellaswag", "acc"), "tokens"])
    assert sorted(rows.groupby("model").size().items()) == [(P160, 9), (P410, 6)]
    assert read.models.set_index("model")["flops"].to_dict()[P160] == 6 * 162e6 * 300e9
    assert read.notes[0] == "read 3 harness results file(s): 2 model(s), 5 task(s), 15 scores"


def test_sizes_from_a_manifest_by_folder_name_and_a_mapped_column(tmp_path):
    (tmp_path / "sizes.csv").write_text("model,n_total,tokens,family\nEleutherAI__pythia-160m,162M,300B,pythia\n"
                                        "EleutherAI/pythia-410m,405M,300B,pythia\n")
    read = harness.read_results(RESULTS, manifest=tmp_path / "sizes.csv", columns={"params": "n_total"})
    models = read.models.set_index("model")
    assert models.loc[P410, "params"] == 405e6 and models.loc[P160, "tokens"] == 300e9
    assert set(models["family"]) == {"pythia"}
    frame, tasks, skipped = read.matrix("acc_norm")
    assert tasks == ("arc_easy", "hellaswag", "piqa") and skipped == ("lambada_openai", "winogrande")
    assert frame.set_index("model").loc[P410, "arc_easy"] == 0.45286195286195285


def test_a_rerun_keeps_the_newest_file(tmp_path):
    write_results(tmp_path, P160, {"piqa": {"acc": 0.60, "acc_stderr": 0.01}}, date="2024-06-01T00-00-00.000000")
    write_results(tmp_path, P160, {"piqa": {"acc": 0.62, "acc_stderr": 0.01}}, date="2024-06-02T00-00-00.000000")
    read = harness.read_results(tmp_path, params={P160: "162M"})
    assert read.rows["value"].tolist() == [0.62]
    assert "the newest file's are kept" in read.notes[1]


# -------------------------------------------------------------------- the fits: same as a hand table
GADRE_TASKS = ("arc_easy", "hellaswag", "piqa")


def test_error_law_on_results_matches_the_hand_table(cli, tmp_path):
    models = pd.read_csv(DATA / "downstream" / "gadre" / "rpj_models.csv")
    models = models[models["fit_error"] == "yes"]
    folder = tmp_path / "out"
    for _, m in models.iterrows():
        write_results(folder, f"mlfoundations/{m['model']}",
                      {t: {"acc": float(m[f"acc_{t}"]), "acc_stderr": 0.01} for t in GADRE_TASKS})
    (tmp_path / "manifest.csv").write_text(
        "model,params,tokens,c4_loss\n" + "".join(f"mlfoundations/{m['model']},{m['params']},{m['tokens']},"
                                                  f"{m['c4_loss']!r}\n" for _, m in models.iterrows()))
    error = 1.0 - models[[f"acc_{t}" for t in GADRE_TASKS]].mean(axis=1)
    hand = pd.DataFrame({"model": models["model"], "c4_loss": models["c4_loss"], "error": error})
    hand = hand.sort_values("model", key=lambda names: ("mlfoundations__" + names).map(harness.sanitized))
    hand.to_csv(tmp_path / "hand.csv", index=False, float_format="%.17g")
    args = ("downstream", "error-law", "--loss-column", "c4_loss", "--json")
    ours = cli(*args[:2], folder, *args[2:], "--manifest", tmp_path / "manifest.csv")
    theirs = cli(*args[:2], tmp_path / "hand.csv", *args[2:])
    assert ours.code == 0 and theirs.code == 0, (ours.stderr, theirs.stderr)
    a, b = json.loads(ours.stdout), json.loads(theirs.stdout)
    assert a["params"] == b["params"] and a["metrics"] == b["metrics"]
    points = error_law.read_errors(folder, loss_column="c4_loss", manifest=tmp_path / "manifest.csv")
    by_loss = dict(zip(models["c4_loss"], error, strict=True))
    assert dict(zip(points["loss"], points["error"], strict=True)) == by_loss


OBS_TASKS = {"MMLU": "mmlu", "ARC-C": "arc_challenge", "HellaSwag": "hellaswag", "Winograd": "winogrande",
             "TruthfulQA": "truthfulqa_mc2"}


def test_observational_on_results_matches_the_hand_table(cli, tmp_path):
    bench = pd.read_csv(DATA / "downstream" / "obsscaling" / "base_llm_benchmark_eval.csv")
    bench = bench.dropna(subset=["FLOPs (1E21)", *OBS_TASKS]).head(40)
    folder = tmp_path / "out"
    for _, m in bench.iterrows():
        scores = {task: {"acc": float(m[col]), "acc_stderr": 0.01} for col, task in OBS_TASKS.items()}
        scores["gsm8k"] = {"exact_match,strict-match": float(m["GSM8K"]) if m["GSM8K"] == m["GSM8K"] else 0.0,
                           "exact_match_stderr,strict-match": 0.01}
        write_results(folder, m["Model"], scores)
    manifest = pd.DataFrame({"model": bench["Model"], "family": bench["Model Family"],
                             "params": bench["Model Size (B)"] * 1e9,
                             "tokens": bench["Pretraining Data Size (T)"] * 1e12})
    manifest.to_csv(tmp_path / "manifest.csv", index=False, float_format="%.17g")
    hand = manifest.rename(columns={"model": "Model", "family": "Model Family"})
    for col, task in OBS_TASKS.items():
        hand[task] = bench[col].to_numpy()
    # the same models in the same order (the folders' order) give the same floats
    hand = hand.sort_values("Model", key=lambda names: names.map(harness.sanitized))
    hand.to_csv(tmp_path / "hand.csv", index=False, float_format="%.17g")
    args = ("--target", "arc_challenge", "--cutoff-flops", "8.4e22", "--components", "2", "--json")
    ours = cli("downstream", "observational", folder, *args, "--manifest", tmp_path / "manifest.csv")
    theirs = cli("downstream", "observational", tmp_path / "hand.csv", *args)
    assert ours.code == 0 and theirs.code == 0, (ours.stderr, theirs.stderr)
    a, b = json.loads(ours.stdout), json.loads(theirs.stdout)
    assert a["predictors"] == b["predictors"] == ["mmlu", "hellaswag", "winogrande", "truthfulqa_mc2"]
    assert a["params"] == b["params"] and a["loadings"] == b["loadings"] and a["errors"] == b["errors"]
    assert "1 task(s) without 'acc' left out: gsm8k" in a["notes"]
    read = observational.read_benchmarks(folder, manifest=tmp_path / "manifest.csv", metric="exact_match")
    assert read.metrics == ("gsm8k",)


# ---------------------------------------------------------------------------------------- bad input
def _v03(root: Path) -> Path:
    path = root / "EleutherAI__pythia-70m" / "results_2023-09-01T00-00-00.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"results": {"arc_easy": {"acc": 0.38, "acc_stderr": 0.0099}},
                                "versions": {"arc_easy": 0},
                                "config": {"model": "hf-causal", "model_args": "pretrained=EleutherAI/pythia-70m",
                                           "num_fewshot": 0}}, indent=4))
    return path


@pytest.mark.parametrize("kind", ["v0.3", "no results", "missing size", "unknown model"])
def test_cli_refuses_bad_results(cli, tmp_path, kind):
    folder = tmp_path / "out"
    write_results(folder, P160, {"piqa": {"acc": 0.62, "acc_stderr": 0.011}})
    write_results(folder, P410, {"piqa": {"acc": 0.67, "acc_stderr": 0.011}})
    sizes = ["--params", f"{P160}=162M,{P410}=405M"]
    if kind == "v0.3":
        fragments = (str(_v03(folder)), "'acc' without a filter", "v0.4")
    elif kind == "no results":
        bad = folder / "EleutherAI__pythia-70m" / "results_2024-01-01T00-00-00.json"
        bad.parent.mkdir()
        bad.write_text(json.dumps({"config": {"model_args": "pretrained=EleutherAI/pythia-70m"}}))
        fragments = (str(bad), "no 'results'")
    elif kind == "missing size":
        sizes = ["--params", f"{P160}=162M"]
        fragments = (f"model {P410!r} has no params", "--manifest", "--params MODEL=SIZE")
    else:
        sizes += ["--params", "EleutherAI/pythia-1b=1B"]
        fragments = ("--params names model 'EleutherAI/pythia-1b'", P160)
    out = tmp_path / "fit.json"
    run = cli("downstream", "observational", folder, "--target", "piqa", "--cutoff-flops", "1e21", *sizes,
              "--out", out)
    assert_user_error(run, *fragments)
    assert not out.exists()


def test_cli_error_law_refuses_another_version_and_harness_options_on_a_table(cli, tmp_path):
    bad = _v03(tmp_path)
    out = tmp_path / "fit.json"
    assert_user_error(cli("downstream", "error-law", tmp_path, "--out", out), str(bad), "v0.4")
    assert_user_error(cli("downstream", "error-law", tmp_path, "--format", "csv"), "--format 'csv'")
    table = tmp_path / "t.csv"
    table.write_text("loss,error\n3,0.7\n3.5,0.75\n4,0.8\n")
    assert_user_error(cli("downstream", "error-law", table, "--manifest", table), "--manifest")
    assert not out.exists()


def test_python_errors_name_the_argument(tmp_path):
    with pytest.raises(InputError, match="params= names model 'nope'"):
        harness.read_results(RESULTS, params={"nope": "1B"})
    with pytest.raises(InputError, match="has no params"):
        harness.read_results(RESULTS)
    with pytest.raises(InputError, match="holds no results_"):
        harness.read_results(tmp_path)


def test_a_manifest_flops_column_is_the_compute(tmp_path):
    (tmp_path / "sizes.csv").write_text("model,params,flops\nEleutherAI/pythia-160m,162M,3e20\n"
                                        "EleutherAI/pythia-410m,405M,\n")
    models = harness.read_results(RESULTS, manifest=tmp_path / "sizes.csv").models.set_index("model")
    assert models.loc[P160, "flops"] == 3e20 and math.isnan(models.loc[P410, "flops"])
