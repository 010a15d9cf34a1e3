"""Step Law's released data (../shared/data/hparams, not shipped): the published numbers reproduced
through the CLI (research/hparams.md sections 1.6 and 5)."""

from __future__ import annotations

import json

import pytest

from scalelaw import artifact, protocol
from scalelaw.errors import InputError
from scalelaw.families import hyperparams as hp

from support import shared_path

DENSE = "hparams/dense_lr_bs_loss.csv"
BOOT = "hparams/1004_fitted_lr_bs_scaling_model_parameters.csv"


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    """The Step Law dense sweep fitted by the CLI (artifact path)."""
    from support import run_cli

    dense = shared_path(DENSE)
    out = tmp_path_factory.mktemp("hparams") / "fit.json"
    run = run_cli("hparams", "fit", str(dense), "--format", "steplaw", "--out", str(out), "--json")
    assert run.code == 0, run.stderr
    return out, artifact.loads(run.stdout)


def test_recommend_7b_with_steplaw_bootstrap_rows(cli):
    boot = shared_path(BOOT)
    run = cli(
        "hparams", "recommend", "--params", "7B", "--tokens", "1.4T", "--bootstrap-file", str(boot), "--json"
    )
    assert run.code == 0, run.stderr
    r = json.loads(run.stdout)
    assert f"{r['lr']:.3g}" == "0.000917" and round(r["batch_size"] / 1e6, 1) == 5.0
    lr, b = r["intervals"]["lr"], r["intervals"]["batch_size"]
    # research/hparams.md section 5: lr 9.35e-4 [7.9e-4, 1.10e-3], B 5.0M [4.29M, 5.78M]
    assert (f"{lr['median']:.3g}", f"{lr['lower']:.2g}", f"{lr['upper']:.3g}") == (
        "0.000935",
        "0.00079",
        "0.0011",
    )
    assert (f"{b['median'] / 1e6:.1f}", f"{b['lower'] / 1e6:.2f}", f"{b['upper'] / 1e6:.2f}") == (
        "5.0",
        "4.29",
        "5.78",
    )
    assert round(b["median"] / 2048) == round(r["intervals"]["batch_size_sequences"]["median"]) == 2448
    assert r["intervals"]["level"] == 0.9
    assert len(r["warnings"]) == 2  # N and D beyond the released sweeps; D/N = 200 is inside


@pytest.mark.parametrize(
    "law, mean, median, largest",
    [
        ("steplaw", 0.00096, 0.00067, 0.0031),
        ("deepseek", 0.0084, 0.0085, 0.0113),
        ("porian", 0.0074, 0.0059, 0.0202),
    ],
)
def test_evaluate_published_laws_on_the_dense_sweep(cli, law, mean, median, largest):
    """research/hparams.md 1.6: steplaw 0.096% (median 0.067%, max 0.31%), deepseek 0.84% (max
    1.13%), porian 0.74% (max 2.02%)."""
    dense = shared_path(DENSE)
    run = cli("hparams", "evaluate", str(dense), "--format", "steplaw", "--law", law, "--json")
    assert run.code == 0, run.stderr
    e = json.loads(run.stdout)
    assert e["n_groups"] == 17
    assert e["mean_gap"] == pytest.approx(mean, abs=0.00005)
    assert e["median_gap"] == pytest.approx(median, abs=0.00005)
    assert e["max_gap"] == pytest.approx(largest, abs=0.00005)


def test_refit_matches_the_research_refit(fitted):
    """129 near-optimal runs; lr = 77.7 N^-0.766 D^0.197 and B = 0.209 D^0.613."""
    _, payload = fitted
    assert payload["info"]["rows"] == 129
    assert payload["info"]["formulas"] == {"lr": "lr = 77.69 N^-0.7662 D^0.197", "batch_size": "B = 0.2085 D^0.6125"}
    law = protocol.from_payload(payload)
    groups = law.info["groups"]
    assert groups["near_optimal"].min() == 4 and groups["near_optimal"].max() == 13
    assert int(groups["diverged"].sum()) == 181
    assert not groups["on_edge"].any()
    assert len(law.info["plateau"].surfaces) == 17


def test_cross_validation_of_the_fitted_law(cli, fitted):
    """Leave-one-group-out: mean 0.104%, median 0.080%, max 0.234% with the 0.25% band."""
    dense = shared_path(DENSE)
    out, _ = fitted
    run = cli("hparams", "evaluate", str(dense), "--law", str(out), "--cross-validate", "--json")
    assert run.code == 0, run.stderr
    cv = json.loads(run.stdout)["cross_validation"]
    assert cv["kind"] == "leave-one-group-out"
    assert (
        round(100 * cv["mean_gap"], 3),
        round(100 * cv["median_gap"], 3),
        round(100 * cv["max_gap"], 3),
    ) == (0.104, 0.080, 0.234)


def test_argmin_selection_cross_validates_worse(tmp_path, cli):
    """research/hparams.md 1.6: argmin-only selection, mean 0.124%, max 0.424%."""
    dense = shared_path(DENSE)
    out = tmp_path / "argmin.json"
    assert cli("hparams", "fit", str(dense), "--band", "0", "--bootstrap", "0", "--out", str(out)).code == 0
    run = cli("hparams", "evaluate", str(dense), "--law", str(out), "--cross-validate", "--json")
    cv = json.loads(run.stdout)["cross_validation"]
    assert round(100 * cv["mean_gap"], 3) == 0.124 and round(100 * cv["max_gap"], 3) == 0.424


def test_recommend_from_the_fit_with_plateau(cli, fitted):
    out, _ = fitted
    run = cli(
        "hparams",
        "recommend",
        "--params",
        "1B",
        "--tokens",
        "50B",
        "--law",
        str(out),
        "--batch-size",
        "1M",
        "--json",
    )
    assert run.code == 0, run.stderr
    r = json.loads(run.stdout)
    assert r["warnings"] == []
    narrow, wide = r["plateau"]
    assert narrow["lr"][0] < r["lr"] < narrow["lr"][1]
    assert wide["lr"][0] < narrow["lr"][0] and wide["lr"][1] > narrow["lr"][1]
    # The 0.25% band of the released sweeps spans 1.4x to 4x in lr: the surface gives a ratio inside.
    assert 1.4 < narrow["lr"][1] / narrow["lr"][0] < 4.5
    assert 0.15 < r["ridge_slope"] < 0.7
    assert r["at_batch_size"]["excess_loss"] > 0
    text = cli("hparams", "recommend", "--params", "1B", "--tokens", "50B", "--plateau", str(out))
    assert text.code == 0 and "plateau" in text.stdout


def test_plot_of_the_sweep(tmp_path, cli):
    dense = shared_path(DENSE)
    plot = tmp_path / "heatmaps.png"
    run = cli("hparams", "evaluate", str(dense), "--law", "deepseek", "--plot", str(plot))
    assert run.code == 0, run.stderr
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "mean gap 0.845%" in run.stdout


def test_steplaw_bootstrap_file_from_the_environment(monkeypatch):
    boot = shared_path(BOOT)
    monkeypatch.setenv("SCALELAW_STEPLAW_BOOTSTRAP", str(boot))
    law = hp.published("steplaw")
    assert law.settings["bootstrap_file"] == str(boot)
    iv = hp.recommend(law, 7e9, 1.4e12).intervals
    assert f"{iv['lr']['median']:.3g}" == "0.000935"
    monkeypatch.setenv("SCALELAW_STEPLAW_BOOTSTRAP", str(boot.with_name("missing.csv")))
    with pytest.raises(InputError, match=r"\$SCALELAW_STEPLAW_BOOTSTRAP is '.*missing.csv': no such file"):
        hp.published("steplaw")


def test_no_workspace_folder_is_searched(monkeypatch):
    """Beside the checkout (and from its folder) ../shared/data/hparams may hold the file: unused."""
    from support import ROOT

    monkeypatch.delenv("SCALELAW_STEPLAW_BOOTSTRAP", raising=False)
    monkeypatch.chdir(ROOT)
    law = hp.published("steplaw")
    assert law.settings["bootstrap_file"] is False
    assert hp.recommend(law, 7e9, 1.4e12).intervals is None
