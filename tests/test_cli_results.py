"""Commands that answer with a result write it with --out (read back by scalelaw.load) and draw it with --plot."""

from __future__ import annotations

import json

import numpy as np

import scalelaw
from scalelaw.families import datastore as ds
from scalelaw.families import hyperparams as hp

from support import DATA, ROOT, assert_user_error

FIT = ROOT / "tests" / "legacy_artifacts" / "fit.json"
PNG = b"\x89PNG"


def test_predict_plot_marks_the_predictions(cli, tmp_path):
    plot = tmp_path / "predict.png"
    run = cli("predict", FIT, "--params", "70B,400B", "--tokens", "1.4T", "--plot", plot, "--json")
    assert run.code == 0, run.stderr
    rows = json.loads(run.stdout)["predictions"]
    fit = scalelaw.load(FIT)
    expected = fit.predict({"params": [7e10, 4e11], "tokens": [1.4e12, 1.4e12]})
    np.testing.assert_array_equal([r["prediction"] for r in rows], expected)
    assert plot.read_bytes()[:4] == PNG


def test_predict_refuses_a_figure_format_before_any_work(cli, tmp_path):
    run = cli("predict", FIT, "--params", "70B", "--tokens", "1.4T", "--plot", tmp_path / "p.xyz")
    assert_user_error(run, "p.xyz", ".xyz")
    assert not (tmp_path / "p.xyz").exists()


def test_recommend_out_and_plot(cli, tmp_path):
    out, plot = tmp_path / "rec.json", tmp_path / "rec.png"
    run = cli("hparams", "recommend", "--params", "7B", "--tokens", "1.4T", "--law", "deepseek", "--out", out,
              "--plot", plot)
    assert run.code == 0, run.stderr
    loaded = scalelaw.load(out)
    direct = hp.recommend(hp.published("deepseek"), 7e9, 1.4e12)
    assert type(loaded) is type(direct) and loaded.lr == direct.lr and loaded.batch_size == direct.batch_size
    assert plot.read_bytes()[:4] == PNG


def test_datastore_optimal_out_and_plot(cli, tmp_path):
    fit, out, plot = tmp_path / "joint.json", tmp_path / "optimum.json", tmp_path / "optimum.png"
    run = cli("datastore", "fit", DATA / "datastore" / "massiveds_simulated.csv", "--law", "joint", "--metric",
              "redpajama_ppl", "--reader", "pythia-1b", "--reader", "olmo-7b", "--reader", "llama-2-7b", "--out", fit)
    assert run.code == 0, run.stderr
    run = cli("datastore", "optimal", fit, "--flops", "1e21,1e22", "--out", out, "--plot", plot)
    assert run.code == 0, run.stderr
    loaded = scalelaw.load(out)
    direct = ds.optimal(scalelaw.load(fit).joint, [1e21, 1e22])
    assert isinstance(loaded, ds.Optimum)
    np.testing.assert_array_equal(loaded.datastore_tokens, direct.datastore_tokens)
    assert plot.read_bytes()[:4] == PNG
