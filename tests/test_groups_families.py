"""--by on the family fits (mix fit, datastore fit, hparams fit): each group equals its rows fitted alone."""

from __future__ import annotations

import json

import pandas as pd

import scalelaw

from support import DATA, assert_user_error, shared_path

MIX = DATA / "mixture"
TARGET = "metric/the_pile_pile_cc_val_loss"


def _mixtures(tmp_path, tiny: bool = False):
    """The RegMix test mixtures of the 1m, 60m and 1B models in one pair of files, with a ``scale``
    column in the losses file (and, with ``tiny``, a group of two runs)."""
    mixtures, losses = [], []
    for scale in ("1m", "60m", "1B"):
        m, loss = pd.read_csv(MIX / f"test_mixture_{scale}.csv"), pd.read_csv(MIX / f"test_pile_loss_{scale}.csv")
        for frame in (m, loss):
            frame["index"] = scale + "-" + frame["index"].astype(str)
        loss["scale"] = scale
        if tiny and scale == "1B":
            loss.loc[loss.index[:2], "scale"] = "tiny"
        mixtures.append(m)
        losses.append(loss)
    paths = tmp_path / "mixtures.csv", tmp_path / "losses.csv"
    pd.concat(mixtures).to_csv(paths[0], index=False)
    pd.concat(losses).to_csv(paths[1], index=False)
    return [str(p) for p in paths]


def test_mix_fit_by_scale_equals_each_scale_alone(cli, tmp_path):
    out, one = tmp_path / "g.json", tmp_path / "one.json"
    run = cli("mix", "fit", *_mixtures(tmp_path), "--target", TARGET, "--law", "linear", "--by", "scale",
              "--out", str(out))
    assert run.code == 0, run.stderr
    group = scalelaw.load(out)
    assert list(group) == ["1m", "60m", "1B"]
    cli("mix", "fit", str(MIX / "test_mixture_60m.csv"), str(MIX / "test_pile_loss_60m.csv"), "--target", TARGET,
        "--law", "linear", "--out", str(one))
    alone = scalelaw.load(one)
    assert group["60m"].params == alone.params
    assert group["60m"].diagnostics["objective"] == alone.diagnostics["objective"]
    summary = group.summary()
    assert summary.index.names == ["scale", "parameter"] and summary["converged"].all()
    assert summary.loc["1B", "rows"].iloc[0] == 64


def test_mix_fit_by_bad_input(cli, tmp_path):
    files = _mixtures(tmp_path, tiny=True)
    assert_user_error(cli("mix", "fit", *files, "--target", TARGET, "--by", "scal"), "has a column 'scal'")
    assert_user_error(cli("mix", "fit", *files, "--target", TARGET, "--law", "linear", "--by", "scale",
                          "--strict"), "group 'tiny'")
    run = cli("mix", "fit", *files, "--target", TARGET, "--law", "linear", "--by", "scale", "--json")
    assert run.code == 0 and "group 'tiny'" in run.stderr
    assert set(json.loads(run.stdout)["fits"]) == {"1m", "60m", "1B"}


DATASTORE = DATA / "datastore" / "massiveds_simulated.csv"


def test_datastore_fit_by_model_equals_each_model_alone(cli, tmp_path):
    out, one = tmp_path / "g.json", tmp_path / "one.json"
    base = ["datastore", "fit", str(DATASTORE), "--metric", "tqa_em"]
    run = cli(*base, "--where", "model in olmo-1b,olmo-7b,llama-2-7b", "--by", "model", "--out", str(out))
    assert run.code == 0, run.stderr
    group = scalelaw.load(out)
    assert list(group) == ["olmo-1b", "olmo-7b", "llama-2-7b"]
    assert cli(*base, "--where", "model=olmo-7b", "--out", str(one)).code == 0
    assert group["olmo-7b"].summary().equals(scalelaw.load(one).summary())
    assert group.summary().index.names == ["model"]


def test_datastore_fit_by_bad_input_and_optimal_per_group(cli, tmp_path):
    frame = pd.read_csv(DATASTORE)
    frame = frame[frame["metric"] == "tqa_em"]
    frame = frame[frame["model"].isin(["olmo-1b", "olmo-7b"])]
    frame = pd.concat([frame, frame[frame["model"] == "olmo-1b"].head(1).assign(model="tiny")])
    path = tmp_path / "ds.csv"
    frame.to_csv(path, index=False)
    assert_user_error(cli("datastore", "fit", str(path), "--by", "modell"), "--by 'modell'", "no column")
    assert_user_error(cli("datastore", "fit", str(path), "--by", "model", "--strict"), "group 'tiny'")
    run = cli("datastore", "fit", str(path), "--by", "model", "--json")
    assert run.code == 0 and "group 'tiny'" in run.stderr
    assert set(json.loads(run.stdout)["fits"]) == {"olmo-1b", "olmo-7b"}


def test_datastore_joint_by_metric_answers_optimal_per_group(cli, tmp_path):
    out, one = tmp_path / "g.json", tmp_path / "one.json"
    base = ["datastore", "fit", str(DATASTORE), "--law", "joint", "--where",
            "model in olmo-1b,olmo-7b,pythia-1b,pythia-12b"]
    assert cli(*base, "--by", "metric", "--out", str(out)).code == 0
    assert cli(*base, "--metric", "tqa_em", "--out", str(one)).code == 0
    every = json.loads(cli("datastore", "optimal", str(out), "--flops", "1e21", "--json").stdout)
    assert set(every["groups"]) == {"redpajama_ppl", "tqa_em"} and every["by"] == ["metric"]
    alone = json.loads(cli("datastore", "optimal", str(one), "--flops", "1e21", "--json").stdout)
    picked = json.loads(cli("datastore", "optimal", str(out), "--flops", "1e21", "--group", "tqa_em",
                            "--json").stdout)
    assert picked == alone == every["groups"]["tqa_em"]
    assert_user_error(cli("datastore", "optimal", str(one), "--flops", "1e21", "--group", "x"), "--group")


def test_hparams_fit_by_layers_equals_each_model_size_alone(cli, tmp_path):
    sweep = str(shared_path("hparams/dense_lr_bs_loss.csv"))
    out, one = tmp_path / "g.json", tmp_path / "one.json"
    base = ["hparams", "fit", sweep, "--format", "steplaw", "--bootstrap", "0", "--plateau-window", "0",
            "--lr-form", "C", "--batch-form", "C"]
    run = cli(*base, "--by", "n_layers", "--out", str(out))
    assert run.code == 0, run.stderr
    assert cli(*base, "--where", "numl=7", "--out", str(one)).code == 0
    group, alone = scalelaw.load(out), scalelaw.load(one)
    assert set(group) == {"7.0", "8.0", "10.0", "13.0", "16.0"}
    assert {k: f.params for k, f in group["7.0"].items()} == {k: f.params for k, f in alone.items()}
    assert group.summary().index.names == ["n_layers"]
    asked = ["hparams", "recommend", "--params", "1B", "--tokens", "20B", "--json"]
    every = json.loads(cli(*asked, "--law", str(out)).stdout)
    picked = json.loads(cli(*asked, "--law", str(out), "--group", "7.0").stdout)
    assert picked == json.loads(cli(*asked, "--law", str(one)).stdout) == every["groups"]["7.0"]
    assert_user_error(cli(*base, "--by", "numl"), "--by 'numl'", "no column")
    assert_user_error(cli(*base, "--by", "n_layers", "--lr-form", "N,D", "--strict"), "group '7.0'")
    skipped = cli(*base, "--by", "tokens", "--json")
    assert skipped.code == 0 and "single (N, D) group" in skipped.stderr
