"""Python takes what the CLI takes: unit strings in DataFrames and in predictions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scalelaw import get_law
from scalelaw.errors import InputError, ScalelawError
from scalelaw.families import datastore, loss, sampling
from scalelaw.families.downstream import error_law
from scalelaw.families.hyperparams import sweep
from scalelaw.io import coerce_numeric, quantities
from scalelaw.result import FitResult

from support import DATA

CHINCHILLA = {"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}


def _fit() -> FitResult:
    return FitResult(law=get_law("chinchilla"), params=CHINCHILLA)


def test_loss_prepare_reads_unit_strings_like_the_file_reader():
    text = pd.DataFrame({"params": ["125M", "350M", "1.3B"], "tokens": ["2.5B", "7B", "26B"],
                         "loss": ["3.5", 3.2, 2.9]})
    numbers = pd.DataFrame({"params": [125e6, 350e6, 1.3e9], "tokens": [2.5e9, 7e9, 26e9],
                            "loss": [3.5, 3.2, 2.9]})
    got, _ = loss.prepare(text)
    want, _ = loss.prepare(numbers)
    np.testing.assert_array_equal(got[["params", "tokens", "flops", "loss"]].to_numpy(),
                                  want[["params", "tokens", "flops", "loss"]].to_numpy())
    assert got["flops"].iloc[0] == 6 * 125e6 * 2.5e9


@pytest.mark.parametrize("cell, words", [("big", "'big' is not a number"), ("", "the cell is empty"),
                                         ("-5M", "not a positive size")])
def test_a_bad_cell_names_its_row_and_column(cell, words):
    frame = pd.DataFrame({"params": ["125M", cell], "tokens": ["2.5B", "7B"], "loss": [3.5, 3.2]})
    with pytest.raises(InputError, match=rf"row 2, column 'params': .*{words}"):
        loss.prepare(frame)


def test_a_sweep_frame_takes_unit_strings_and_names_bad_cells():
    runs = pd.DataFrame({"params": "100M", "tokens": "2B", "lr": ["1e-3", "2e-3"], "batch_size": "1M",
                         "loss": [3.1, 3.0]})
    tidy = sweep.tidy(runs)
    assert tidy["params"].tolist() == [1e8, 1e8] and tidy["batch_size"].iloc[0] == 1e6
    assert tidy["flops"].iloc[0] == 6 * 1e8 * 2e9
    runs.loc[1, "tokens"] = "2 billion"
    with pytest.raises(ScalelawError, match=r"row 2, column 'tokens'"):
        sweep.tidy(runs)


def test_error_law_prepare_takes_a_dataframe():
    out = error_law.prepare(pd.DataFrame({"loss": [2.5, 2.2], "error": [0.6, 0.5]}))
    assert out["error"].tolist() == [0.6, 0.5]


def test_predict_takes_unit_strings_keywords_and_lists():
    fit = _fit()
    want = fit.predict({"params": np.array([7e9, 70e9]), "tokens": np.array([1.4e12, 1.4e12])})
    np.testing.assert_array_equal(fit.predict({"params": ["7B", "70B"], "tokens": "1.4T"}), want)
    np.testing.assert_array_equal(fit.predict(params=["7B", "70B"], tokens=1.4e12), want)
    frame = pd.DataFrame({"params": ["7B", "70B"], "tokens": ["1.4T", "1400B"]})
    np.testing.assert_array_equal(fit.predict(frame), want)
    value, _, _ = fit.predict_interval(params="7B", tokens="1.4T")
    closed = 1.69 + 406.4 / 7e9**0.34 + 410.7 / 1.4e12**0.28
    assert value[0] == pytest.approx(closed, rel=1e-12)


def test_predict_names_the_argument_of_a_bad_value():
    with pytest.raises(InputError, match=r"params='7X' is not a number"):
        _fit().predict(params="7X", tokens="1T")
    with pytest.raises(InputError, match=r"column 'tokens'"):
        _fit().predict(pd.DataFrame({"params": ["7B"], "tokens": ["lots"]}))


def test_coerce_and_quantities_keep_numbers_and_shapes():
    assert quantities([[1, 2], [3, 4]], "x").shape == (2, 2)
    assert quantities("12k", "x").tolist() == [12000.0]
    table = coerce_numeric(pd.DataFrame({"flops": ["1e21", "3P"]}), ["flops"])
    assert table.frame["flops"].tolist() == [1e21, 3e15]
    with pytest.raises(InputError, match="give a pandas DataFrame"):
        coerce_numeric([1, 2], ["flops"])


def test_sampling_and_datastore_frames_take_unit_strings_as_their_files_do():
    counts, _ = sampling.counts.prepare(pd.DataFrame({"problem": ["a", "b"], "n_samples": ["10k", 10000],
                                                      "n_correct": ["2k", 0]}))
    assert counts["n_samples"].tolist() == [10000, 10000] and counts["n_correct"].tolist() == [2000, 0]
    path = DATA / "datastore" / "massiveds_llama2_7b_endpoints.csv"
    from_frame = datastore.prepare(pd.read_csv(path, dtype=str))  # "7B", "2T", "1.4T" as text
    from_file = datastore.read(path)
    pd.testing.assert_frame_equal(from_frame.points, from_file.points)
    with pytest.raises(InputError, match=r"row 1, column 'n_samples'"):
        sampling.counts.prepare(pd.DataFrame({"problem": ["a"], "n_samples": ["many"], "n_correct": [1]}))


def test_allocation_budgets_take_unit_strings():
    import warnings

    import scalelaw
    from scalelaw.families import loss

    from support import ROOT

    fit = scalelaw.load(ROOT / "tests" / "legacy_artifacts" / "fit.json")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", scalelaw.ExtrapolationWarning)
        text, numbers = loss.allocate(fit, ["5.76e23", "1e24"]), loss.allocate(fit, [5.76e23, 1e24])
    np.testing.assert_array_equal(text.params, numbers.params)
    with pytest.raises(scalelaw.InputError, match="flops='lots' is not a number"):
        loss.allocate(fit, ["lots"])
