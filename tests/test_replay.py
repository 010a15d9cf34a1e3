"""Replayable settings: ``engine.fit(law, table, **result.settings)`` gives the same numbers bit for
bit, for a fit of every family, directly and after a JSON round trip of the result."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hparams_sweeps import sweep_frame

from scalelaw import engine, get_law
from scalelaw.errors import FitError
from scalelaw.families import datastore as ds
from scalelaw.families import hyperparams as hp
from scalelaw.families import sampling
from scalelaw.families.downstream import error_law, ladder, olmo_ladder
from scalelaw.families.loss import fit_loss, prepare
from scalelaw.families.sampling import powerlaw
from scalelaw.families.transport import mixing
from scalelaw.io import read_table
from scalelaw.result import FitResult

from support import DATA

CHINCHILLA = DATA / "loss" / "epoch_chinchilla_svg_extracted.csv"


def assert_replays(result: FitResult, table: pd.DataFrame) -> None:
    """The settings, as recorded and after a JSON round trip, rebuild the fit bit for bit."""
    restored = FitResult.from_json(result.to_json())
    assert dict(restored.settings) == dict(result.settings)
    for settings in (result.settings, restored.settings):
        again = engine.fit(result.law, table, **settings)
        assert dict(again.params) == dict(result.params)
        assert dict(again.settings) == dict(result.settings)
        if result.bootstrap is None:
            assert again.bootstrap is None
        else:
            np.testing.assert_array_equal(again.bootstrap, result.bootstrap)
    assert restored.level == result.level


@pytest.fixture(scope="module")
def runs() -> pd.DataFrame:
    frame, _ = prepare(read_table(CHINCHILLA, numeric=["params", "flops", "loss"]), exclude_highest=5)
    return frame


def test_loss_fit_with_the_hoffmann_grid_replays(runs):
    fit = fit_loss(runs, "chinchilla", starts="hoffmann", polish=8, bootstrap=20, seed=3)
    assert fit.settings["starts"] == "hoffmann"
    assert_replays(fit, runs)


def test_loss_fit_with_custom_starts_replays_them_as_natural_values(runs):
    point = {"E": 1.8, "A": 400.0, "B": 400.0, "alpha": 0.3, "beta": 0.3}
    grid = np.array([[1.8, 400.0, 400.0, 0.3, 0.3], [1.5, 1000.0, 2000.0, 0.4, 0.35]])
    one = fit_loss(runs, "chinchilla", starts=point)
    assert one.settings["starts"] == point
    assert_replays(one, runs)
    two = fit_loss(runs, "chinchilla", starts=grid, bootstrap=10, seed=1)
    assert two.settings["starts"] == grid.tolist()
    assert_replays(two, runs)


def test_hyperparams_fit_replays():
    sweep = hp.select(hp.tidy(sweep_frame()))
    law = hp.fit_sweep(sweep, bootstrap=30, seed=2, plateau_window=0)
    rows = sweep.near_optimal()
    for name in ("lr(N,D)", "batch(D)"):
        assert_replays(law.fits[name], rows)


def test_sampling_coverage_fit_replays_its_bootstrap_targets():
    tidy = sampling.read_counts(DATA / "sampling" / "llmonkeys_pythia_math_per_problem.csv")[0]
    part = tidy[tidy["model"] == "Pythia 2.8B"]
    n, c = part["n_samples"].to_numpy(), part["n_correct"].to_numpy()
    draws = sampling.curves.resample(len(n), 12, 5)
    fit = powerlaw.fit_model("m", n, c, resamples=draws)
    targets = np.asarray(fit.fit.settings["bootstrap_targets"])
    assert targets.shape == (12, fit.fit.data["rows"]) and fit.fit.settings["bootstrap"] == 12
    table = fit.curve[fit.curve["coverage"] > 0][["k", "coverage"]].astype(float)
    assert len(table) == fit.fit.data["rows"]
    assert_replays(fit.fit, table)


def test_datastore_per_reader_fit_replays_its_bootstrap_weights():
    measurements = ds.read(DATA / "datastore" / "massiveds_simulated.csv")
    one = measurements.select(metric="redpajama_ppl", readers=["llama-2-7b"])
    reader = list(ds.fit_readers(one, bootstrap=25, seed=4).values())[0]
    rows = one.rows[one.rows["datastore_tokens"] > 0]
    expected = ds.data.bootstrap_weights(rows, 25, 4)
    for fit in reader.fits.values():
        np.testing.assert_array_equal(fit.settings["bootstrap_weights"], expected)
        assert all(isinstance(v, int) for v in fit.settings["bootstrap_weights"][0])  # counts stay ints
        assert_replays(fit, rows)


def test_downstream_ladder_and_error_law_fits_replay():
    logs = olmo_ladder.read_olmo_ladder(DATA / "downstream" / "olmo_ladder", olmo_ladder.MAIN_TASKS[0])
    fit = ladder.fit_ladder(logs, bootstrap=8, seed=1)
    assert_replays(fit.step1, fit.points1)
    assert_replays(fit.step2, fit.points2)
    models = pd.read_csv(DATA / "downstream" / "gadre" / "rpj_models.csv").rename(columns={"c4_loss": "loss"})
    rows = models[models["fit_error"] == "yes"].rename(columns={"error_17": "error"})[["loss", "error"]]
    assert_replays(error_law.fit_error_law(rows, bootstrap=10, seed=2), rows)


def test_transport_mixing_law_replays_its_custom_starts():
    frame, domains = mixing.read_mixtures(
        DATA / "mixture" / "train_mixture_1m.csv", DATA / "mixture" / "train_pile_loss_1m.csv",
        target="metric/the_pile_pile_cc_val_loss")
    fit = mixing.fit_mixture(frame, domains, "metric/the_pile_pile_cc_val_loss")
    assert np.shape(fit.settings["starts"]) == (len(mixing.FLOOR_FRACTIONS), len(fit.law.params))
    assert_replays(fit, frame)


def test_inconsistent_bootstrap_counts_are_refused(runs):
    law = get_law("chinchilla")
    with pytest.raises(FitError, match="bootstrap=5 but bootstrap_weights holds 3 replicates"):
        engine.fit(law, runs, bootstrap=5, bootstrap_weights=np.ones((3, len(runs))))
    with pytest.raises(FitError, match="bootstrap_weights or bootstrap_targets, not both"):
        engine.fit(law, runs, bootstrap_weights=np.ones((3, len(runs))),
                   bootstrap_targets=np.ones((3, len(runs))))
    with pytest.raises(FitError, match=r"bootstrap_targets must have shape \(replicates, 240\)"):
        engine.fit(law, runs, bootstrap_targets=np.ones((3, 7)))


def test_a_fit_written_before_the_catalogue_names_loads_and_replays(runs):
    """``scalelaw fit loss ... --exclude-highest 5 --bootstrap 30`` as written by scalelaw 0.1.0."""
    old = FitResult.from_json(DATA.parent / "tests" / "legacy_artifacts" / "fit.json")
    assert old.law == get_law("chinchilla")
    assert_replays(old, runs)
