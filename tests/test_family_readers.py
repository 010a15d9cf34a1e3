"""Each family reads its own files: the readers a Python user calls are the ones the CLI calls."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hparams_sweeps import GROUPS, sweep_frame, write

from scalelaw.errors import InputError
from scalelaw.families import hyperparams as hp
from scalelaw.families import loss
from scalelaw.families.downstream import error_law, olmo_ladder
from scalelaw.families.transport.distance import read_sources
from scalelaw.families.transport.projection import load_projector, project

from support import DATA, run_cli

CHINCHILLA = DATA / "loss" / "epoch_chinchilla_svg_extracted.csv"
PORIAN = DATA / "loss" / "porian_isoflop_points.csv"
GADRE = DATA / "downstream" / "gadre" / "rpj_models.csv"
LADDER = DATA / "downstream" / "olmo_ladder"


def test_loss_runs_are_read_filtered_and_prepared():
    frame, notes = loss.read_runs(CHINCHILLA, exclude_highest=5)
    assert len(frame) == 240 and {"params", "tokens", "flops", "loss"} <= set(frame.columns)
    assert notes == ["columns mapped: 'Model Size' -> params, 'Training FLOP' -> flops",
                     "tokens computed as flops / (6 params)", "dropped the 5 rows with the highest loss"]
    tuned, _ = loss.read_runs(PORIAN, where={"dataset": "rw", "hparams": "tuned"})
    raw = pd.read_csv(PORIAN)
    assert len(tuned) == int(((raw["dataset"] == "rw") & (raw["hparams"] == "tuned")).sum()) == 348
    with pytest.raises(InputError, match="where= names column 'nope'"):
        loss.read_runs(PORIAN, where={"nope": "x"})


def test_error_law_table_is_read_with_its_columns():
    frame = error_law.read_errors(GADRE, loss_column="c4_loss", error_column="error_17",
                                  where={"fit_error": "yes"})
    raw = pd.read_csv(GADRE)
    kept = raw[raw["fit_error"] == "yes"]
    assert len(frame) == len(kept) and list(frame.columns) == ["loss", "error"]
    np.testing.assert_array_equal(frame["loss"].to_numpy(), kept["c4_loss"].to_numpy())
    accuracy = error_law.read_errors(GADRE, loss_column="c4_loss", error_column="acc_piqa", from_accuracy=True)
    np.testing.assert_allclose(accuracy["error"].to_numpy(), 1 - raw["acc_piqa"].to_numpy())


def test_ladder_logs_in_either_format(tmp_path):
    folder = olmo_ladder.read_ladder(LADDER, "mmlu")
    assert folder.frame.equals(olmo_ladder.read_olmo_ladder(LADDER, "mmlu").frame)
    tidy_path = tmp_path / "ladder.csv"
    folder.frame[["run", "mode", "params", "tokens", "task_loss", "accuracy"]].to_csv(tidy_path, index=False)
    tidy = olmo_ladder.read_ladder(tidy_path, "mmlu", format="tidy")
    np.testing.assert_allclose(tidy.frame["task_loss"].to_numpy(), folder.frame["task_loss"].to_numpy())
    with pytest.raises(InputError, match="format='wandb' is not one of olmo-ladder, tidy"):
        olmo_ladder.read_ladder(LADDER, "mmlu", format="wandb")
    with pytest.raises(InputError, match="intermediate= applies to format='olmo-ladder'"):
        olmo_ladder.read_ladder(tidy_path, "mmlu", format="tidy", intermediate="c4")


def test_sweep_is_read_and_selected_like_a_fitted_law(tmp_path):
    path = write(tmp_path / "sweep.csv", sweep_frame())
    default = hp.load_sweep(path)
    assert len(default.groups) == len(GROUPS) and default.settings["band"] == 0.0025
    frame, table, notes = hp.read_sweep(path)
    wide = hp.select(frame, band=0.05, path=table.path, notes=notes)
    like = hp.load_sweep(path, like={"band": 0.05, "diverge_ratio": 1.5, "objective": "smooth_loss"})
    assert like.settings == wide.settings
    assert like.near_optimal().equals(wide.near_optimal())
    assert len(like.near_optimal()) > len(default.near_optimal())
    # an argument given wins over the fitted law's setting
    assert hp.load_sweep(path, band=0.0, like={"band": 0.05}).settings["band"] == 0.0



def test_projector_is_read_from_its_files_as_the_cli_reads_it(digits):
    sources = read_sources(digits["sources"], label_column="label")
    assert [s.name for s in sources] == sorted(p.stem for p in digits["sources"].glob("*.csv"))
    projector, transport = load_projector(digits["pilots"], digits["sources"], digits["target"],
                                          label_column="label")
    assert projector.sources == tuple(s.name for s in sources) and projector.sizes == (40.0, 80.0, 160.0)
    ratio = [0.4, 0.4, 0.2]
    value = project(projector, transport, ratio, 400).projected
    run = run_cli("transport", "project", digits["pilots"], "--sources", digits["sources"], "--target",
                  digits["target"], "--size", "400", "--label-column", "label", "--ratio", "0.4,0.4,0.2",
                  "--json")
    assert run.code == 0, run.stderr
    assert json.loads(run.stdout)["projections"][0]["projected"] == value


def test_sources_must_be_a_folder_of_csv_files(tmp_path):
    with pytest.raises(InputError, match="sources='.*nowhere': not a folder"):
        read_sources(tmp_path / "nowhere")
    with pytest.raises(InputError, match="no .csv files"):
        read_sources(tmp_path)
