"""Loss to error (Gadre et al. 2024): the RedPajama reproduction, exact vectors, chaining, bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from scalelaw import engine
from scalelaw.families.downstream import error_law
from scalelaw.io import read_table

from support import DATA, assert_user_error

GADRE = DATA / "downstream" / "gadre" / "rpj_models.csv"
SUBSET = [
    "bigbench_operators",
    "pubmed_qa_labeled",
    "hellaswag_zeroshot",
    "boolq",
    "arc_easy",
    "coqa",
    "bigbench_dyck_languages",
    "lambada_openai",
    "bigbench_novel_concepts",
    "winograd",
    "bigbench_cs_algorithms",
    "commonsense_qa",
    "bigbench_qa_wikidata",
    "hellaswag",
    "copa",
    "squad",
    "piqa",
]


@pytest.fixture(scope="module")
def models() -> pd.DataFrame:
    return pd.read_csv(GADRE).rename(columns={"c4_loss": "loss"}).set_index("model")


@pytest.fixture(scope="module")
def fits(models):
    loss_fit = engine.fit(error_law.GADRE_LOSS_LAW, models[models["fit_loss"] == "yes"], loss="squared")
    rows = models[models["fit_error"] == "yes"].rename(columns={"error_17": "error"})
    return loss_fit, error_law.fit_error_law(rows[["loss", "error"]])


def test_the_17_task_error_is_the_mean_top1_error_of_the_subset(models):
    np.testing.assert_allclose(
        models["error_17"], 1 - models[[f"acc_{t}" for t in SUBSET]].mean(axis=1), rtol=1e-12
    )


def test_gadre_constants_are_reproduced(fits):
    loss_fit, err_fit = fits
    p = loss_fit.params
    assert (round(p["alpha"]), round(p["beta"]), round(p["eta"], 4), round(p["E"], 4)) == (
        166,
        367,
        -0.2729,
        1.8366,
    )
    q = err_fit.params
    assert (round(q["k"], 3), round(q["gamma"], 4), round(q["epsilon"], 4)) == (2.206, 0.7146, 0.857)


@pytest.mark.parametrize(
    ("model", "loss_rel", "error_rel"),
    [
        ("rpj-open_lm_1b-32.0", 0.7103, 3.6365),  # 1.4B, M = 640
        ("rpj-open_lm_7b-1.0", 0.7320, 0.0464),  # 6.9B, M = 20
    ],
)
def test_relative_errors_of_the_chained_prediction_match_the_notebook(
    models, fits, model, loss_rel, error_rel
):
    loss_fit, err_fit = fits
    row = models.loc[model]
    chained = error_law.predict_error(
        err_fit,
        loss_fit=loss_fit,
        inputs={"params": row["params"], "tokens_per_param": row["tokens_per_param"]},
    )
    assert 100 * (chained.loss - row["loss"]) / row["loss"] == pytest.approx(loss_rel, abs=5e-4)
    assert 100 * (chained.error - row["error_17"]) / row["error_17"] == pytest.approx(error_rel, abs=5e-4)


def test_exact_vector_is_recovered_to_machine_precision():
    loss = np.linspace(2.0, 5.0, 12)
    frame = pd.DataFrame({"loss": loss, "error": 0.857 - 2.206 * np.exp(-0.7146 * loss)})
    fit = error_law.fit_error_law(frame)
    assert fit.params["epsilon"] == pytest.approx(0.857, rel=1e-9)
    assert fit.params["k"] == pytest.approx(2.206, rel=1e-8)
    assert fit.params["gamma"] == pytest.approx(0.7146, rel=1e-8)


def test_chained_interval_pairs_the_replicates_and_contains_the_point(fits, models):
    rows = models[models["fit_error"] == "yes"].rename(columns={"error_17": "error"})[["loss", "error"]]
    err_fit = error_law.fit_error_law(rows, bootstrap=200, seed=1)
    loss_fit = engine.fit(
        error_law.GADRE_LOSS_LAW, models[models["fit_loss"] == "yes"], loss="squared", bootstrap=200, seed=1
    )
    out = error_law.predict_error(
        err_fit, loss_fit=loss_fit, inputs={"params": 6889410560, "tokens_per_param": 20}
    )
    assert out.loss_lower <= out.loss <= out.loss_upper
    assert out.error_lower <= out.error <= out.error_upper
    assert out.error == pytest.approx(fits[1].predict({"loss": [out.loss]})[0], rel=1e-12)


# ------------------------------------------------------------------------------------------- CLI
def test_cli_error_law_chained_with_a_loss_fit_artifact(cli, tmp_path, fits):
    fits[0].to_json(tmp_path / "loss.json")
    run = cli(
        "downstream",
        "error-law",
        GADRE,
        "--loss-column",
        "c4_loss",
        "--error-column",
        "error_17",
        "--where",
        "fit_error=yes",
        "--loss-fit",
        tmp_path / "loss.json",
        "--params",
        "1439795200",
        "--set",
        "tokens_per_param=640",
        "--json",
        "--plot",
        tmp_path / "err.png",
        "--out",
        tmp_path / "e.json",
    )
    assert run.code == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["params"]["gamma"] == pytest.approx(0.7146, abs=5e-5)
    assert out["prediction"]["loss"] == pytest.approx(2.5198, abs=5e-5)
    assert out["prediction"]["error"] == pytest.approx(0.4925, abs=5e-5)
    assert json.loads((tmp_path / "e.json").read_text())["schema"] == "scalelaw.downstream.error-law/1"
    assert (tmp_path / "err.png").stat().st_size > 10_000


def test_cli_error_law_from_accuracy_and_at_a_loss(cli, tmp_path):
    loss = np.linspace(2.2, 4.0, 8)
    pd.DataFrame({"L": loss, "acc": 1 - (0.857 - 2.206 * np.exp(-0.7146 * loss))}).to_csv(
        tmp_path / "a.csv", index=False
    )
    run = cli(
        "downstream",
        "error-law",
        tmp_path / "a.csv",
        "--loss-column",
        "L",
        "--error-column",
        "acc",
        "--from-accuracy",
        "--at-loss",
        "1.5",
    )
    assert run.code == 0, run.stderr
    assert "Err(L) = 0.8570 - 2.2060 exp(-0.7146 L)" in run.stdout
    expected = 0.857 - 2.206 * np.exp(-0.7146 * 1.5)
    assert f"error {expected:.4f}" in run.stdout
    assert "outside the fitted range" in run.stderr


@pytest.mark.parametrize(
    ("content", "args", "fragments"),
    [
        ("loss,error\n2.0,0.5\n3.0,1.4\n4.0,0.8\n", (), ("row 2 (line 3)", "'error'", "fraction in [0, 1]")),
        ("loss,error\n2.0,0.5\n-3.0,0.6\n4.0,0.8\n", (), ("row 2", "'loss'", "must be > 0")),
        ("loss,error\n2.0,0.5\nabc,0.6\n4.0,0.8\n", (), ("row 2", "'loss'", "not a finite number")),
        ("loss,error\n2.0,0.5\n3.0,0.6\n", (), ("2 distinct loss value(s)",)),
        ("x,error\n2.0,0.5\n", (), ("--loss-column 'loss' is not a column",)),
        ("loss,error\n2.0,0.5\n3.0,0.6\n4.0,0.7\n", ("--params", "7B"), ("need --loss-fit",)),
    ],
)
def test_cli_error_law_bad_input(cli, tmp_path, content, args, fragments):
    (tmp_path / "e.csv").write_text(content)
    run = cli("downstream", "error-law", tmp_path / "e.csv", *args, "--out", tmp_path / "o.json")
    assert_user_error(run, *fragments)
    assert not (tmp_path / "o.json").exists()


def test_prepare_names_the_file_and_column(tmp_path):
    (tmp_path / "e.csv").write_text("loss,error\n2.0,0.5\n")
    with pytest.raises(Exception, match="e.csv.*error_column='err'"):
        error_law.prepare(read_table(tmp_path / "e.csv", rename=False), error_column="err")
