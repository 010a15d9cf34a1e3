"""Downstream artifacts written before the result protocol (tests/legacy_artifacts/downstream_*.json)."""

from __future__ import annotations

import numpy as np
import pytest

import scalelaw
from scalelaw.errors import ArtifactError
from scalelaw.families.downstream import error_law

from support import ROOT

LEGACY = ROOT / "tests" / "legacy_artifacts"
#: What `scalelaw downstream error-law ... --json` printed when it wrote downstream_error_law.json.
PREDICTION = {"loss": 2.5198265342635433, "loss_lower": 2.149939380965571, "loss_upper": 2.741919560648076,
              "error": 0.4924964546917931, "error_lower": 0.35885058018555543, "error_upper": 0.5723651611727169}
PARAMS = {"epsilon": 0.8569919064685921, "gamma": 0.7145906639582733, "k": 2.206490646361204}


def test_an_error_law_artifact_of_the_old_schema_loads_and_predicts_the_same():
    result = scalelaw.load(LEGACY / "downstream_error_law.json")
    assert isinstance(result, error_law.ErrorLaw) and result.SCHEMA == "scalelaw.downstream.error-law/1"
    assert result.prediction.to_dict() == PREDICTION
    assert dict(result.fit.params) == PARAMS
    at = result.predict(loss=PREDICTION["loss"])
    assert at.error == PREDICTION["error"]
    assert at.error_lower < at.error < at.error_upper  # the stored bootstrap draws of the error law
    assert any("outside the fitted range" in w for w in result.warnings)
    again = scalelaw.load(result.to_json())
    assert again.prediction == result.prediction and np.isnan(again.points["loss"].max())


@pytest.mark.parametrize("name", ["downstream_ladder.json", "downstream_observational.json"])
def test_older_ladder_and_observational_artifacts_are_refused_with_one_line(name):
    with pytest.raises(ArtifactError, match="write it again with this scalelaw"):
        scalelaw.load(LEGACY / name)
