"""A datastore artifact written before the result protocol (scalelaw.datastore/1) still loads and predicts."""

from __future__ import annotations

import json

import numpy as np

import scalelaw
from scalelaw.families import datastore as ds

from support import ROOT

LEGACY = ROOT / "tests" / "legacy_artifacts"


def test_datastore_artifact_of_the_previous_schema_predicts_as_before():
    expected = json.loads((LEGACY / "expected.json").read_text())["datastore"]
    loaded = scalelaw.load(LEGACY / "datastore.json")
    assert isinstance(loaded, ds.DatastoreFit) and loaded.joint is None
    reader = ds.get_reader(loaded.readers, expected["reader"], expected["metric"])
    value, lower, upper = reader.predict(expected["datastore_tokens"])
    np.testing.assert_array_equal(value, expected["value"])
    np.testing.assert_array_equal(lower, expected["lower"])
    np.testing.assert_array_equal(upper, expected["upper"])
    again = scalelaw.load(loaded.to_json())
    assert again.SCHEMA == "scalelaw.datastore.fit/1"
    np.testing.assert_array_equal(ds.get_reader(again.readers, expected["reader"], expected["metric"])
                                  .predict(expected["datastore_tokens"])[0], expected["value"])


def test_core_fit_artifact_of_the_previous_schema_predicts_as_before():
    expected = json.loads((LEGACY / "expected.json").read_text())["fit"]
    loaded = scalelaw.load(LEGACY / "fit.json")
    assert isinstance(loaded, scalelaw.FitResult) and loaded.SCHEMA == "scalelaw.core.fit/1"
    value, lower, upper = loaded.predict_interval({"params": [expected["params"]], "tokens": [expected["tokens"]]})
    np.testing.assert_array_equal([value[0], lower[0], upper[0]], expected["loss"])
