"""The transport and mix commands: JSON contracts and every bad-input case, through the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from support import DATA, assert_user_error

TARGET = "metric/the_pile_pile_cc_val_loss"
MIX = DATA / "mixture"



def _write(path, frame: pd.DataFrame):
    frame.to_csv(path, index=False)
    return path


def _projektor(command: str, digits, *, pilots=None, target=None) -> tuple:
    """Arguments of ``scalelaw transport project|select`` on the digits setup, at size 400."""
    return ("transport", command, pilots or digits["pilots"], "--sources", digits["sources"],
            "--target", target or digits["target"], "--size", "400", "--label-column", "label")


def test_distance_json(cli, tmp_path):
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(40, 1)), rng.normal(size=(40, 1)) + 1
    pa = _write(tmp_path / "a.csv", pd.DataFrame({"x": a[:, 0]}))
    pb = _write(tmp_path / "b.csv", pd.DataFrame({"x": b[:, 0]}))
    run = cli("transport", "distance", pa, pb, "--json")
    assert run.code == 0, run.stderr
    out = json.loads(run.stdout)
    expected = np.mean((np.sort(a[:, 0]) - np.sort(b[:, 0])) ** 2)
    assert out["cost"] == pytest.approx(expected, rel=1e-9)
    assert out["distance"] == pytest.approx(np.sqrt(expected), rel=1e-9)
    sink = json.loads(
        cli("transport", "distance", pa, pb, "--method", "sinkhorn", "--max-samples", "20", "--json").stdout
    )
    assert sink["n_a"] == 20 and sink["method"] == "sinkhorn"


def test_distance_with_labels(cli, digits):
    run = cli(
        "transport",
        "distance",
        digits["sources"] / "noisy.csv",
        digits["target"],
        "--label-column",
        "label",
        "--json",
    )
    assert run.code == 0, run.stderr
    out = json.loads(run.stdout)
    assert out["labels"] is True and out["dim"] == 64 and out["cost"] > 0


def test_project_and_select(cli, digits):
    args = _projektor("project", digits)[2:]
    run = cli("transport", "project", *args, "--ratio", "0.4,0.4,0.2", "--json")
    assert run.code == 0, run.stderr
    out = json.loads(run.stdout)
    [row] = out["projections"]
    assert row["ratio"] == {"high_digits": 0.4, "low_digits": 0.4, "noisy": 0.2}
    assert set(row["at_sizes"]) == {"40", "80", "160"}
    assert out["mapping"] == "power" and row["projected"] == row["power_law"]
    assert 0.5 < row["log_mapping"] < 1.1 and 0.5 < row["power_law"] < 1.1
    run = cli("transport", "select", *args, "--cap", "noisy=0.1", "--iterations", "20", "--json")
    assert run.code == 0, run.stderr
    out = json.loads(run.stdout)
    assert sum(out["ratio"].values()) == pytest.approx(1.0)
    assert out["ratio"]["noisy"] <= 0.1 + 1e-12
    assert out["projected"] >= out["start"]["projected"]


def test_mix_fit_evaluate_optimize(cli, tmp_path):
    fit = tmp_path / "mix.json"
    run = cli(
        "mix",
        "fit",
        MIX / "train_mixture_1m.csv",
        MIX / "train_pile_loss_1m.csv",
        "--target",
        TARGET,
        "--out",
        fit,
    )
    assert run.code == 0, run.stderr
    run = cli("mix", "evaluate", fit, MIX / "test_mixture_1B.csv", MIX / "test_pile_loss_1B.csv", "--json")
    out = json.loads(run.stdout)
    assert out["spearman"] == pytest.approx(0.986, abs=0.005) and out["n"] == 64 and "mae" in out
    out = json.loads(cli("mix", "optimize", fit, "--max-share", "0.5", "--json").stdout)
    assert sum(out["mixture"].values()) == pytest.approx(1.0) and max(out["mixture"].values()) <= 0.5 + 1e-12
    linear = tmp_path / "linear.json"
    assert (
        cli(
            "mix",
            "fit",
            MIX / "train_mixture_1m.csv",
            MIX / "train_pile_loss_1m.csv",
            "--target",
            TARGET,
            "--law",
            "linear",
            "--out",
            linear,
        ).code
        == 0
    )
    out = json.loads(
        cli(
            "mix", "evaluate", linear, MIX / "test_mixture_1m.csv", MIX / "test_pile_loss_1m.csv", "--json"
        ).stdout
    )
    assert out["spearman"] == pytest.approx(0.902, abs=0.005)


# ------------------------------------------------------------------------------------------ bad input
def test_features_of_different_dimension(cli, tmp_path):
    a = _write(tmp_path / "a.csv", pd.DataFrame({"x": [0.0, 1.0], "y": [1.0, 2.0]}))
    b = _write(tmp_path / "b.csv", pd.DataFrame({"x": [0.0, 1.0]}))
    assert_user_error(cli("transport", "distance", a, b), "2 features per sample", "has 1")


def test_source_and_target_of_different_dimension(cli, digits, tmp_path):
    target = _write(tmp_path / "t.csv", pd.read_csv(digits["target"]).iloc[:, -5:])
    run = cli(*_projektor("project", digits, target=target))
    assert_user_error(run, "64 features per sample", "has 4")


@pytest.mark.parametrize(
    "ratio,fragment",
    [("0.5,0.6,0", "sum to 1.1"), ("0.6,0.6,-0.2", "is -0.2"), ("0.5,0.5", "2 weights given for 3 sources")],
)
def test_bad_ratio(cli, digits, ratio, fragment):
    run = cli(*_projektor("project", digits), "--ratio", ratio)
    assert_user_error(run, fragment)


def test_pilot_row_with_a_bad_ratio(cli, digits, tmp_path):
    frame = pd.read_csv(digits["pilots"])
    frame.loc[3, "noisy"] = 0.9
    path = _write(tmp_path / "pilots.csv", frame)
    run = cli(*_projektor("project", digits, pilots=path))
    assert_user_error(run, "pilots.csv, row 4", "not 1")


def test_pilots_at_a_single_size(cli, digits, tmp_path):
    frame = pd.read_csv(digits["pilots"])
    path = _write(tmp_path / "pilots.csv", frame[frame["size"] == 80])
    run = cli(*_projektor("select", digits, pilots=path))
    assert_user_error(run, "pilots.csv", "stage 2 needs pilots at two or more")


def test_mixture_columns_that_do_not_match(cli, tmp_path):
    fit = tmp_path / "mix.json"
    assert (
        cli(
            "mix",
            "fit",
            MIX / "train_mixture_1m.csv",
            MIX / "train_pile_loss_1m.csv",
            "--target",
            TARGET,
            "--out",
            fit,
        ).code
        == 0
    )
    frame = pd.read_csv(MIX / "test_mixture_1B.csv").drop(columns=["train_the_pile_arxiv"])
    missing = _write(tmp_path / "m.csv", frame)
    assert_user_error(
        cli("mix", "evaluate", fit, missing, MIX / "test_pile_loss_1B.csv"),
        "missing domain column 'train_the_pile_arxiv'",
    )
    extra = _write(tmp_path / "x.csv", pd.read_csv(MIX / "test_mixture_1B.csv").assign(train_other=0.0))
    assert_user_error(
        cli("mix", "evaluate", fit, extra, MIX / "test_pile_loss_1B.csv"),
        "'train_other'",
        "not one of the fit's 17 domains",
    )


def test_mixtures_that_do_not_match_the_loss_table(cli, tmp_path):
    run = cli("mix", "fit", MIX / "train_mixture_1m.csv", MIX / "train_pile_loss_1m.csv", "--target", "nope")
    assert_user_error(run, "train_pile_loss_1m.csv", "no column 'nope'")
    run = cli("mix", "fit", MIX / "test_mixture_1B.csv", MIX / "test_pile_loss_1m.csv", "--target", TARGET)
    assert_user_error(run, "test_mixture_1B.csv", "has no row in")
    losses = pd.read_csv(MIX / "test_pile_loss_1B.csv").drop(columns=["index"]).iloc[:10]
    mixtures = pd.read_csv(MIX / "test_mixture_1B.csv").drop(columns=["index"])
    run = cli(
        "mix",
        "fit",
        _write(tmp_path / "m.csv", mixtures),
        _write(tmp_path / "l.csv", losses),
        "--target",
        TARGET,
    )
    assert_user_error(run, "l.csv", "has 10 rows", "has 64")


def test_mixture_shares_that_are_not_a_mixture(cli, tmp_path):
    mixtures = pd.read_csv(MIX / "test_mixture_1B.csv")
    mixtures.loc[2, "train_the_pile_arxiv"] += 0.5
    run = cli(
        "mix", "fit", _write(tmp_path / "m.csv", mixtures), MIX / "test_pile_loss_1B.csv", "--target", TARGET
    )
    assert_user_error(run, "m.csv", "row 3", "not 1")
    mixtures = pd.read_csv(MIX / "test_mixture_1B.csv")
    mixtures.loc[5, "train_the_pile_arxiv"] = -0.1
    run = cli(
        "mix", "fit", _write(tmp_path / "n.csv", mixtures), MIX / "test_pile_loss_1B.csv", "--target", TARGET
    )
    assert_user_error(run, "n.csv", "row 6", "train_the_pile_arxiv", "negative")


def test_nothing_is_written_on_error(cli, tmp_path):
    out = tmp_path / "fit.json"
    run = cli(
        "mix",
        "fit",
        MIX / "train_mixture_1m.csv",
        MIX / "train_pile_loss_1m.csv",
        "--target",
        "nope",
        "--out",
        out,
    )
    assert run.code == 2 and not out.exists()


def test_results_written_with_out_load_back(cli, digits, tmp_path):
    import scalelaw
    from scalelaw.families.transport import Distance, Optimum, Projection, Selection

    written = {name: tmp_path / f"{name}.json" for name in ("distance", "project", "select", "fit", "optimum")}
    run = cli("transport", "distance", digits["sources"] / "noisy.csv", digits["target"], "--label-column", "label",
              "--out", written["distance"], "--json")
    assert run.code == 0, run.stderr
    distance = scalelaw.load(written["distance"])
    assert isinstance(distance, Distance) and distance.cost == json.loads(run.stdout)["cost"]
    args = _projektor("project", digits)[2:]
    run = cli("transport", "project", *args, "--ratio", "0.4,0.4,0.2", "--ratio", "1,0,0", "--out", written["project"],
              "--json")
    assert run.code == 0, run.stderr
    group = scalelaw.load(written["project"])
    assert list(group) == ["0.4,0.4,0.2", "1,0,0"] and all(isinstance(p, Projection) for p in group.values())
    assert group["0.4,0.4,0.2"].projected == json.loads(run.stdout)["projections"][0]["projected"]
    run = cli("transport", "select", *args, "--cap", "noisy=0.1", "--iterations", "20", "--out", written["select"],
              "--json")
    assert run.code == 0, run.stderr
    selection = scalelaw.load(written["select"])
    assert isinstance(selection, Selection) and selection.ratio == json.loads(run.stdout)["ratio"]
    assert "the share of noisy is at its cap 0.1" in selection.warnings
    assert cli("mix", "fit", MIX / "train_mixture_1m.csv", MIX / "train_pile_loss_1m.csv", "--target", TARGET,
               "--out", written["fit"]).code == 0
    run = cli("mix", "optimize", written["fit"], "--max-share", "0.5", "--out", written["optimum"], "--json")
    assert run.code == 0, run.stderr
    optimum = scalelaw.load(written["optimum"])
    assert isinstance(optimum, Optimum) and optimum.mixture == json.loads(run.stdout)["mixture"]
