"""The two-step OLMo ladder: the repository's published predictions, preprocessing and bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from scalelaw import optimize
from scalelaw.families.downstream import ladder, olmo_ladder
from scalelaw.losses import Squared

from support import DATA, assert_user_error

LADDER = DATA / "downstream" / "olmo_ladder"
N13, D13 = 13_202_396_160, 5_000_088_518_656

#: research/downstream.md 1.1: (bpb actual, bpb predicted, acc actual, acc from actual bpb, acc chained)
TABLE = {
    ("mmlu_avg_test", "7B-4T"): (0.7770, 0.7869, 0.4901, 0.4914, 0.4838),
    ("mmlu_avg_test", "13B-5T"): (0.7488, 0.7502, 0.5161, 0.5138, 0.5127),
    ("hellaswag_val", "7B-4T"): (0.6732, 0.6713, 0.8135, 0.8221, 0.8252),
    ("hellaswag_val", "13B-5T"): (0.6609, 0.6532, 0.8319, 0.8416, 0.8530),
    ("arc_challenge_test", "7B-4T"): (0.7424, 0.7941, 0.6195, 0.5725, 0.5150),
    ("arc_challenge_test", "13B-5T"): (0.7157, 0.7833, 0.6381, 0.6030, 0.5267),
    ("arc_easy_test", "7B-4T"): (0.5330, 0.6038, 0.8455, 0.8076, 0.7659),
    ("arc_easy_test", "13B-5T"): (0.5114, 0.5931, 0.8717, 0.8194, 0.7724),
    ("piqa_val", "7B-4T"): (0.9088, 0.8903, 0.8205, 0.8018, 0.8122),
    ("piqa_val", "13B-5T"): (0.8988, 0.8748, 0.8296, 0.8075, 0.8208),
    ("csqa_val", "7B-4T"): (0.8069, 0.7123, 0.7265, 0.7192, 0.7571),
    ("csqa_val", "13B-5T"): (0.8116, 0.6617, 0.7410, 0.7173, 0.7761),
    ("socialiqa_val", "7B-4T"): (0.9629, 1.0045, 0.5993, 0.6276, 0.5874),
    ("socialiqa_val", "13B-5T"): (0.9569, 0.9916, 0.6160, 0.6337, 0.5995),
    ("openbookqa_test", "7B-4T"): (1.2683, 1.2848, 0.4940, 0.4535, 0.4417),
    ("openbookqa_test", "13B-5T"): (1.2632, 1.2750, 0.4864, 0.4572, 0.4486),
}


@pytest.fixture(scope="module")
def comparison() -> pd.DataFrame:
    rows = []
    for task in olmo_ladder.MAIN_TASKS:
        logs = olmo_ladder.read_olmo_ladder(LADDER, task)
        rows.append(ladder.compare_targets(ladder.fit_ladder(logs), logs))
    return pd.concat(rows).set_index(["task", "target"])


def test_chained_predictions_reproduce_the_repository_figure_for_13b(comparison):
    published = pd.read_csv(LADDER / "figures" / "chained_main.csv").set_index("Task")
    for task, row in published.iterrows():
        ours = comparison.loc[(task.removesuffix("_5shot"), "13B-5T")]
        assert ours["accuracy"] == pytest.approx(row["Actual"], abs=1e-9)
        assert ours["accuracy_pred"] == pytest.approx(row["Pred"], abs=5e-3)
        assert ours["accuracy_pred"] == pytest.approx(row["Pred"], abs=2e-4)  # in fact to 4 decimals
    assert comparison.loc[("mmlu_avg_test", "13B-5T"), "accuracy_pred"] == pytest.approx(0.5127, abs=5e-5)
    assert comparison.loc[("arc_challenge_test", "13B-5T"), "accuracy_pred"] == pytest.approx(
        0.5267, abs=5e-5
    )


def test_step_tables_of_the_repository_for_13b(comparison):
    step1 = pd.read_csv(LADDER / "figures" / "step1_main.csv").set_index("Task")
    step2 = pd.read_csv(LADDER / "figures" / "step2_main.csv").set_index("Task")
    for task in step1.index:
        ours = comparison.loc[(task.removesuffix("_5shot"), "13B-5T")]
        assert ours["task_loss"] == pytest.approx(step1.loc[task, "Actual"], abs=1e-9)
        assert ours["task_loss_pred"] == pytest.approx(step1.loc[task, "Pred"], abs=5e-4)
        assert ours["accuracy_step2"] == pytest.approx(step2.loc[task, "Pred"], abs=2e-4)


@pytest.mark.parametrize("key", sorted(TABLE))
def test_research_table_for_both_targets(comparison, key):
    ours = comparison.loc[key]
    expected = TABLE[key]
    got = (
        ours["task_loss"],
        ours["task_loss_pred"],
        ours["accuracy"],
        ours["accuracy_step2"],
        ours["accuracy_pred"],
    )
    np.testing.assert_allclose(got, expected, atol=1.5e-4)


def test_mean_absolute_error_of_the_hard_and_easy_task_groups(comparison):
    hard = comparison.loc[["arc_challenge_test", "arc_easy_test", "csqa_val", "openbookqa_test"], "abs_error"]
    easy = comparison.loc[["mmlu_avg_test", "hellaswag_val", "piqa_val", "socialiqa_val"], "abs_error"]
    assert hard.abs().mean() == pytest.approx(6.9, abs=0.05)  # the paper's "average absolute error 6.9"
    assert easy.abs().mean() == pytest.approx(1.1, abs=0.05)


def test_c4_loss_as_the_intermediate_reproduces_the_c4_step_tables():
    logs = olmo_ladder.read_olmo_ladder(LADDER, "mmlu", intermediate="c4")
    fit = ladder.fit_ladder(logs)
    row = ladder.compare_targets(fit, logs).set_index("target").loc["13B-5T"]
    step1 = pd.read_csv(LADDER / "figures" / "step1_c4_main.csv").iloc[0]
    step2 = pd.read_csv(LADDER / "figures" / "step2_c4_main.csv").iloc[0]
    assert row["task_loss"] == pytest.approx(step1["Actual"], abs=1e-9)
    assert row["task_loss_pred"] == pytest.approx(step1["Pred"], abs=5e-4)  # 2.3444
    assert row["accuracy_step2"] == pytest.approx(step2["Pred"], abs=2e-4)  # 0.4988


def test_moving_average_and_preprocessing_follow_the_repository():
    np.testing.assert_allclose(
        ladder.moving_average([2.0, 4.0, 6.0, 8.0, 10.0, 12.0], 3), [2.0, 3.0, 4.0, 6.0, 8.0, 10.0]
    )
    np.testing.assert_allclose(ladder.moving_average([1.0, 3.0], 5), [1.0, 2.0])
    logs = olmo_ladder.read_olmo_ladder(LADDER, "mmlu")
    points = ladder.step2_points(logs)
    run = logs.train[logs.train["run"] == "190M-1xC"]
    kept = points[points["run"] == "190M-1xC"]
    assert len(kept) == len(run) - int(np.ceil(0.1 * len(run)))  # 37 checkpoints, 4 dropped
    assert points.iloc[-1][["task_loss", "accuracy"]].tolist() == [0.0, 1.0]  # the anchor
    step1 = ladder.step1_points(logs)
    assert len(step1) == 16
    assert step1.set_index("run").loc["190M-1xC", "tokens"] == 3_812_622_336
    assert step1.set_index("run").loc["190M-1xC", "task_loss"] == pytest.approx(
        run["task_loss"].iloc[-5:].mean()
    )


def test_mmlu_is_the_weighted_average_of_its_four_groups():
    raw = pd.read_csv(LADDER / "ladder-runs" / "peteish13_eval_final.csv")
    weights = {"stem": 0.215, "humanities": 0.335, "social_sciences": 0.219, "other": 0.231}
    expected = sum(w * raw[f"eval/downstream/mmlu_{g}_test_rc_5shot_len_norm"] for g, w in weights.items())
    logs = olmo_ladder.read_olmo_ladder(LADDER, "mmlu")
    np.testing.assert_allclose(
        logs.targets[logs.targets["run"] == "13B-5T"]["accuracy"], expected, rtol=1e-12
    )


def test_chained_interval_pairs_the_bootstrap_replicates():
    logs = olmo_ladder.read_olmo_ladder(LADDER, "hellaswag")
    fit = ladder.fit_ladder(logs, bootstrap=60, seed=3)
    pred = fit.predict([N13], [D13]).iloc[0]
    assert pred["task_loss_lower"] < pred["task_loss"] < pred["task_loss_upper"]
    assert pred["accuracy_lower"] < pred["accuracy"] < pred["accuracy_upper"]
    again = ladder.fit_ladder(logs, bootstrap=60, seed=3).predict([N13], [D13]).iloc[0]
    assert again.equals(pred)


def test_active_bounds_do_not_stall_the_batched_optimiser():
    """A parameter held at a bound by the gradient is left out of the step: the fit converges."""
    x = np.linspace(0.0, 2.0, 50)
    y = 1.2 - 0.8 / (1 + np.exp(-4 * (x - 1)))  # its best ceiling is above the bound 1

    def residuals(u, jacobian):
        a, b = u[:, :1], u[:, 1:2]
        s = 1 / (1 + np.exp(-4 * (x - 1)))
        r = y - (a * s + b)
        return r, (np.stack([-np.broadcast_to(s, r.shape), -np.ones_like(r)], axis=-1) if jacobian else None)

    out = optimize.irls(
        residuals,
        np.array([[-0.5, 0.5]]),
        loss=Squared(),
        weights=np.ones(50),
        lower=np.array([-1.0, 0.0]),
        upper=np.array([0.0, 1.0]),
    )
    assert out.converged[0] and out.iterations[0] < 50
    assert out.x[0, 1] == 1.0
    s = 1 / (1 + np.exp(-4 * (x - 1)))
    assert out.x[0, 0] == pytest.approx(
        0.2 * s.sum() / (s * s).sum() - 0.8, rel=1e-8
    )  # least squares at b = 1


# ------------------------------------------------------------------------------------------- CLI
def test_cli_ladder_json_for_the_13b_target(cli, tmp_path):
    run = cli(
        "downstream",
        "ladder",
        LADDER,
        "--format",
        "olmo-ladder",
        "--task",
        "mmlu",
        "--target-params",
        str(N13),
        "--target-tokens",
        str(D13),
        "--bootstrap",
        "20",
        "--json",
        "--out",
        tmp_path / "ladder.json",
        "--plot",
        tmp_path / "ladder.png",
    )
    assert run.code == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["accuracy"] == pytest.approx(0.5127, abs=5e-5)
    assert out["task_loss"] == pytest.approx(0.7502, abs=5e-5)
    assert out["accuracy_lower"] < out["accuracy"] < out["accuracy_upper"]
    assert out["actual"]["accuracy"] == pytest.approx(0.5161, abs=5e-5)
    assert set(out["step1"]) == {"E", "A", "B", "alpha", "beta"} and set(out["step2"]) == {
        "a",
        "b",
        "k",
        "x0",
    }
    assert "extrapolates" in out["warnings"][0]
    saved = json.loads((tmp_path / "ladder.json").read_text())
    assert saved["schema"] == "scalelaw.downstream.ladder/1"
    assert set(saved["fits"]["mmlu_avg_test"]) >= {"step1", "step2"}
    assert (tmp_path / "ladder.png").stat().st_size > 10_000


def test_cli_ladder_table_and_extrapolation_warning(cli):
    run = cli("downstream", "ladder", LADDER, "--task", "arc_challenge", "--bootstrap", "0")
    assert run.code == 0, run.stderr
    assert "0.5267" in run.stdout and "0.5150" in run.stdout and "-11.1 pts" in run.stdout
    assert "warning: 13B-5T" in run.stderr and "19.5x the ladder's largest" in run.stderr


def _tidy(logs: olmo_ladder.LadderLogs, runs: list[str] | None = None) -> pd.DataFrame:
    frame = logs.frame
    if runs is not None:
        frame = frame[frame["run"].isin(runs) | (frame["mode"] == "target")]
    return frame[["run", "mode", "params", "tokens", "task_loss", "accuracy"]]


def test_tidy_format_gives_the_same_prediction(cli, tmp_path):
    logs = olmo_ladder.read_olmo_ladder(LADDER, "mmlu")
    _tidy(logs).to_csv(tmp_path / "ladder.csv", index=False)
    run = cli(
        "downstream", "ladder", tmp_path / "ladder.csv", "--format", "tidy", "--bootstrap", "0", "--json"
    )
    assert run.code == 0, run.stderr
    chained = {p["target"]: p["accuracy"] for p in json.loads(run.stdout)["predictions"]}
    assert chained["13B-5T"] == pytest.approx(0.5127, abs=5e-5)


def test_cli_ladder_refuses_too_few_runs(cli, tmp_path):
    logs = olmo_ladder.read_olmo_ladder(LADDER, "mmlu")
    _tidy(logs, ["190M-1xC", "370M-2xC", "760M-5xC"]).to_csv(tmp_path / "few.csv", index=False)
    run = cli("downstream", "ladder", tmp_path / "few.csv", "--format", "tidy")
    assert_user_error(run, "few.csv", "3 ladder run(s) for the 5 parameters", "add runs")


@pytest.mark.parametrize(
    ("args", "fragments"),
    [
        (("--task", "nosuchtask"), ("has no column", "nosuchtask")),
        (("--format", "wandb"), ("--format 'wandb'",)),
        (("--target-params", "7B"), ("both --target-params and --target-tokens",)),
        (("--target-params", "-3", "--target-tokens", "1T"), ("--target-params", "positive")),
        (("--intermediate", "pile"), ("--intermediate 'pile'",)),
        (("--skip", "1.5"), ("--skip",)),
        (("--plot", "out.xyz"), ("cannot write .xyz",)),
    ],
)
def test_cli_ladder_bad_options(cli, args, fragments):
    assert_user_error(cli("downstream", "ladder", LADDER, *args), *fragments)


def test_cli_ladder_bad_folders(cli, tmp_path):
    assert_user_error(cli("downstream", "ladder", tmp_path), str(tmp_path), "has no final.json")
    (tmp_path / "final.json").write_text(
        json.dumps({"190M": {"paths": ["x/190M-1xC.csv"], "mode": "train", "n": 190354176}})
    )
    assert_user_error(cli("downstream", "ladder", tmp_path), "final.json", "'x/190M-1xC.csv'")
    (tmp_path / "final.json").write_text("{not json")
    assert_user_error(cli("downstream", "ladder", tmp_path), "final.json", "not JSON")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "final.json").write_text(
        json.dumps({"190M": {"paths": ["190M-1xC.csv"], "mode": "train", "n": 190354176}})
    )
    text = (LADDER / "ladder-runs" / "190M-1xC.csv").read_text().splitlines()
    cells = text[3].split(",")
    cells[1] = "abc"
    text[3] = ",".join(cells)
    (broken / "190M-1xC.csv").write_text("\n".join(text) + "\n")
    assert_user_error(
        cli("downstream", "ladder", broken),
        "190M-1xC.csv",
        "row 3 (line 4)",
        "'throughput/total_tokens'",
        "not a finite number",
    )


def test_target_outside_the_ladder_is_predicted_with_a_warning(cli):
    run = cli(
        "downstream",
        "ladder",
        LADDER,
        "--task",
        "piqa",
        "--target-params",
        "70B",
        "--target-tokens",
        "15T",
        "--bootstrap",
        "0",
        "--json",
    )
    assert run.code == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["actual"] is None and 0.25 < out["accuracy"] < 1.0
    assert "54.7x the ladder's largest" in out["warnings"][0]
