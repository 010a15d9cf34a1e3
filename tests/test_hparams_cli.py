"""`scalelaw hparams ...` on synthetic sweeps: outputs, and every bad input as one line, exit 2,
nothing written."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hparams_sweeps import GROUPS, sweep_frame, write

from scalelaw import artifact

from support import assert_user_error


@pytest.fixture
def sweep(tmp_path):
    return write(tmp_path / "sweep.csv", sweep_frame())


@pytest.fixture
def fitted(tmp_path, sweep, cli):
    out = tmp_path / "fit.json"
    run = cli("hparams", "fit", sweep, "--bootstrap", "100", "--out", str(out))
    assert run.code == 0, run.stderr
    return out


def test_laws_side_by_side(cli):
    run = cli("hparams", "laws")
    assert run.code == 0
    for text in (
        "lr = 1.79 N^-0.713 D^0.307",
        "B = 0.58 D^0.571",
        "lr = 0.3118 C^-0.125",
        "B = 0.292 C^0.3271",
        "lr = 3.7 N^-0.36",
        "B = 0.7576 N^0.703",
        "tokens",
    ):
        assert text in run.stdout
    laws = json.loads(cli("hparams", "laws", "--json").stdout)["laws"]
    assert [law["name"] for law in laws] == ["steplaw", "deepseek", "porian"]
    assert all(law["batch_unit"] == "tokens" for law in laws)


def test_recommend_json_contract(cli):
    run = cli("hparams", "recommend", "--params", "7B", "--tokens", "1.4T", "--bootstrap-file", "", "--json")
    # an empty --bootstrap-file is not a file: refused in one line
    assert_user_error(run, "--bootstrap-file", "no such file")
    run = cli("hparams", "recommend", "--params", "7B", "--tokens", "1.4T", "--seq-len", "4096", "--json")
    assert run.code == 0, run.stderr
    r = json.loads(run.stdout)
    for key in ("lr", "batch_size", "batch_size_sequences", "intervals", "warnings", "plateau", "formulas"):
        assert key in r
    assert f"{r['lr']:.3g}" == "0.000917" and round(r["batch_size"] / 1e6, 1) == 5.0
    assert r["batch_size_sequences"] == pytest.approx(r["batch_size"] / 4096)
    assert any("outside" in w for w in r["warnings"]) and any("4096" in w for w in r["warnings"])


def test_recommend_text_and_at_batch_size(cli):
    run = cli(
        "hparams", "recommend", "--params", "500M", "--tokens", "20B", "--law", "porian", "--batch-size", "1M"
    )
    assert run.code == 0, run.stderr
    assert "peak learning rate" in run.stdout and "square-root rule" in run.stdout
    assert "outside" in run.stderr  # 500M lies beyond Porian's 25M..110M


def test_fit_recommend_evaluate_round_trip(tmp_path, sweep, fitted, cli):
    payload = artifact.read(fitted, schema="scalelaw.core.group/1")
    assert payload["info"]["formulas"] == {"lr": "lr = 2 N^-0.7 D^0.3", "batch_size": "B = 0.5 D^0.55"}
    r = json.loads(
        cli(
            "hparams", "recommend", "--params", "400M", "--tokens", "10B", "--law", str(fitted), "--json"
        ).stdout
    )
    assert r["lr"] == pytest.approx(2 * 4e8**-0.7 * 1e10**0.3, rel=1e-7)
    assert r["intervals"]["lr"]["lower"] <= r["lr"] <= r["intervals"]["lr"]["upper"]
    assert r["plateau"][0]["tolerance"] == 0.0025 and r["warnings"] == []
    e = json.loads(
        cli("hparams", "evaluate", sweep, "--law", str(fitted), "--cross-validate", "--json").stdout
    )
    assert e["mean_gap"] == pytest.approx(0, abs=1e-12)
    assert e["cross_validation"]["max_gap"] == pytest.approx(0, abs=1e-12)
    ds = json.loads(cli("hparams", "evaluate", sweep, "--law", "deepseek", "--json").stdout)
    assert ds["warnings"][0] == (
        "deepseek: C counted as 6 N D (the sweep lacks n_layers, d_model or seq_len for the attention term)"
    )
    # the synthetic sweep reaches 6 N D = 3.07e20, past the 2e19 DeepSeek measured
    assert any(w.startswith("deepseek: M D (non-embedding FLOPs)") and "15x the largest deepseek measured" in w
               for w in ds["warnings"][1:]), ds["warnings"]
    text = cli("hparams", "evaluate", sweep, "--law", "steplaw")
    assert text.code == 0 and "mean gap" in text.stdout
    plot = tmp_path / "fit.svg"
    assert cli("hparams", "fit", sweep, "--bootstrap", "0", "--plot", str(plot)).code == 0
    assert plot.read_text().lstrip().startswith("<?xml")


def test_sequences_and_groups(tmp_path, cli):
    frame = sweep_frame()
    frame["batch_size"] = frame["batch_size"] / 1024
    frame["seq_len"] = 1024
    frame["group"] = [f"g{int(n)}-{int(d)}" for n, d in zip(frame["params"], frame["tokens"], strict=True)]
    path = write(tmp_path / "seqs.csv", frame)
    run = cli("hparams", "fit", path, "--batch-unit", "sequences", "--bootstrap", "0", "--json")
    assert run.code == 0, run.stderr
    assert artifact.loads(run.stdout)["info"]["formulas"]["batch_size"] == "B = 0.5 D^0.55"


# ----------------------------------------------------------------------------------- bad inputs
def _csv(tmp_path, frame, name="bad.csv"):
    return write(tmp_path / name, frame)


def test_no_group_with_two_runs(tmp_path, cli):
    path = _csv(tmp_path, sweep_frame().groupby(["params", "tokens"]).head(1))
    out = tmp_path / "fit.json"
    assert_user_error(
        cli("hparams", "fit", path, "--out", str(out)), "bad.csv", "no (N, D) group has two or more"
    )
    assert not out.exists()


def test_every_run_diverged(tmp_path, cli):
    frame = sweep_frame().astype({"loss": object})
    frame["loss"] = "nan"
    out = tmp_path / "fit.json"
    assert_user_error(
        cli("hparams", "fit", _csv(tmp_path, frame), "--out", str(out)), "every one of the 315 runs"
    )
    assert not out.exists()


def test_single_group(tmp_path, cli):
    out, plot = tmp_path / "fit.json", tmp_path / "fit.png"
    run = cli(
        "hparams", "fit", _csv(tmp_path, sweep_frame(GROUPS[:1])), "--out", str(out), "--plot", str(plot)
    )
    assert_user_error(run, "single (N, D) group", "100M/2B")
    assert not out.exists() and not plot.exists()


def test_collinear_groups_need_another_form(tmp_path, cli):
    path = _csv(tmp_path, sweep_frame([(1e8, 2e9), (2e8, 4e9), (4e8, 8e9)]))
    assert_user_error(cli("hparams", "fit", path), "N,D needs groups whose model size N and tokens D vary")
    assert cli("hparams", "fit", path, "--lr-form", "C", "--bootstrap", "0").code == 0


@pytest.mark.parametrize(
    "column, value, fragment",
    [
        ("lr", 0.0, "learning rate 0 is not positive"),
        ("lr", -1e-3, "learning rate -0.001 is not positive"),
        ("batch_size", 0.0, "batch size 0 is not positive"),
        ("batch_size", -512.0, "batch size -512 is not positive"),
    ],
)
def test_lr_and_batch_not_positive(tmp_path, cli, column, value, fragment):
    frame = sweep_frame()
    frame.loc[2, column] = value
    out = tmp_path / "fit.json"
    run = cli("hparams", "fit", _csv(tmp_path, frame), "--out", str(out))
    assert_user_error(run, "bad.csv", "row 3 (line 4)", f"column '{column}'", fragment)
    assert not out.exists()
    assert_user_error(cli("hparams", "evaluate", _csv(tmp_path, frame)), fragment)


@pytest.mark.parametrize(
    "column, value, fragment",
    [
        ("params", "-5", "-5 is not a positive size"),
        ("params", "0", "0 is not a positive size"),
        ("tokens", "1.4X", "'1.4X' is not a number"),
    ],
)
def test_sweep_sizes_not_positive_or_unparseable(tmp_path, cli, column, value, fragment):
    frame = sweep_frame().astype({column: object})
    frame.loc[9, column] = value
    out = tmp_path / "fit.json"
    run = cli("hparams", "fit", _csv(tmp_path, frame), "--out", str(out))
    assert_user_error(run, "row 10 (line 11)", f"column '{column}'", fragment)
    assert not out.exists()


def test_steplaw_format_batch_not_positive(tmp_path, cli):
    frame = sweep_frame()
    steplaw = frame.rename(columns={"params": "N", "tokens": "D", "batch_size": "bs"})
    steplaw["bs"] = np.round(steplaw["bs"] / 2048)
    steplaw["smooth loss"] = steplaw["loss"]
    steplaw["numl"], steplaw["h"] = 8, 1024
    steplaw.loc[4, "bs"] = 0
    assert_user_error(
        cli("hparams", "fit", _csv(tmp_path, steplaw), "--format", "steplaw"),
        "row 5 (line 6)",
        "column 'bs'",
        "batch size 0 is not positive",
    )


def test_unreadable_loss_cell(tmp_path, cli):
    frame = sweep_frame().astype({"loss": object})
    frame.loc[6, "loss"] = "2.3x"
    assert_user_error(cli("hparams", "fit", _csv(tmp_path, frame)), "row 7 (line 8)", "column 'loss'", "2.3x")


def test_missing_column_and_file(tmp_path, cli):
    path = _csv(tmp_path, sweep_frame().drop(columns=["lr"]))
    assert_user_error(cli("hparams", "fit", path), "missing column 'lr'")
    assert_user_error(cli("hparams", "fit", str(tmp_path / "nope.csv")), "nope.csv", "no such file")


@pytest.mark.parametrize(
    "option, value, fragment",
    [
        ("--params", "-5", "--params: '-5' must be a positive number"),
        ("--params", "0", "--params: '0' must be a positive number"),
        ("--params", "seven", "--params: 'seven' is not a number"),
        ("--tokens", "1.4X", "--tokens: '1.4X' is not a number"),
        ("--tokens", "-1T", "--tokens: '-1T' must be a positive number"),
        ("--batch-size", "0", "--batch-size: '0' must be a positive number"),
        ("--seq-len", "-2048", "--seq-len: '-2048' must be a positive number"),
    ],
)
def test_recommend_bad_numbers(cli, option, value, fragment):
    args = {"--params": "7B", "--tokens": "1.4T"} | {option: value}
    assert_user_error(cli("hparams", "recommend", *[x for kv in args.items() for x in kv]), fragment)


def test_unknown_law(tmp_path, sweep, cli):
    assert_user_error(
        cli("hparams", "recommend", "--params", "7B", "--tokens", "1.4T", "--law", "kaplan"),
        "unknown law 'kaplan'",
        "steplaw, deepseek, porian",
    )
    plot = tmp_path / "h.png"
    assert_user_error(
        cli("hparams", "evaluate", sweep, "--law", "minicpm", "--plot", str(plot)), "unknown law 'minicpm'"
    )
    assert not plot.exists()
    assert_user_error(
        cli("hparams", "recommend", "--params", "7B", "--tokens", "1T", "--law", str(tmp_path / "x.json")),
        "x.json",
        "no such file",
    )


def test_other_refusals(tmp_path, sweep, fitted, cli):
    assert_user_error(
        cli("hparams", "evaluate", sweep, "--law", "steplaw", "--cross-validate"),
        "--cross-validate refits",
        "FIT.json",
    )
    assert_user_error(cli("hparams", "fit", sweep, "--plot", str(tmp_path / "x.xyz")), "cannot write .xyz")
    assert_user_error(cli("hparams", "fit", sweep, "--lr-form", "N"), "--lr-form 'N' is not one of")
    assert_user_error(cli("hparams", "fit", sweep, "--format", "csv"), "--format 'csv' is not one of")
    assert_user_error(cli("hparams", "fit", sweep, "--band", "2"), "--band 2.0 must be a fraction")
    assert_user_error(
        cli(
            "hparams",
            "recommend",
            "--params",
            "7B",
            "--tokens",
            "1T",
            "--bootstrap-file",
            str(tmp_path / "none.csv"),
        ),
        "--bootstrap-file",
        "none.csv",
        "no such file",
    )
    assert_user_error(
        cli("hparams", "recommend", "--params", "7B", "--tokens", "1T", "--plateau", str(sweep)),
        "sweep.csv",
        "not a JSON artifact",
    )


def test_recommend_out_writes_the_recommendation(tmp_path, fitted, cli):
    import scalelaw

    out = tmp_path / "rec.json"
    args = ("hparams", "recommend", "--params", "400M", "--tokens", "10B", "--law", str(fitted))
    run = cli(*args, "--out", str(out), "--json")
    assert run.code == 0, run.stderr
    r = scalelaw.load(out)
    assert type(r).__name__ == "Recommendation" and r.SCHEMA == "scalelaw.hyperparams.recommendation/1"
    assert r.lr == json.loads(run.stdout)["lr"] == pytest.approx(2 * 4e8**-0.7 * 1e10**0.3, rel=1e-7)
    assert r.settings["params"] == 4e8 and r.plateau[0]["tolerance"] == 0.0025
    law = scalelaw.load(fitted)
    assert law.kind == "law" and law.info["formulas"]["lr"] == "lr = 2 N^-0.7 D^0.3"
    assert_user_error(cli(*args[:6], "--plateau", str(out)), "rec.json", "not a hyperparameter law")
    assert_user_error(cli(*args, "--out", str(tmp_path)), "is a folder")


def test_evaluate_out_writes_the_evaluations(tmp_path, sweep, fitted, cli):
    import scalelaw

    one, both = tmp_path / "ev.json", tmp_path / "cv.json"
    assert cli("hparams", "evaluate", sweep, "--law", "porian", "--out", str(one)).code == 0
    e = scalelaw.load(one)
    assert e.SCHEMA == "scalelaw.hyperparams.evaluation/1" and len(e.groups) == len(GROUPS)
    assert e.mean_gap == json.loads(cli("hparams", "evaluate", sweep, "--law", "porian", "--json").stdout)["mean_gap"]
    run = cli("hparams", "evaluate", sweep, "--law", str(fitted), "--cross-validate", "--out", str(both))
    assert run.code == 0, run.stderr
    group = scalelaw.load(both)
    assert (group.family, group.kind, list(group)) == ("hyperparams", "evaluations",
                                                       ["in-sample", "leave-one-group-out"])
    assert group["leave-one-group-out"].max_gap == pytest.approx(0, abs=1e-12)
    assert group.settings["lr_form"] == "N,D"
