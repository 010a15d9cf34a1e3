"""A sampling fit written by scalelaw 0.1.0 (schema scalelaw.sampling/1) loads and predicts as it did."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import scalelaw
from scalelaw.families import sampling

from support import DATA

HERE = Path(__file__).parent / "legacy_artifacts"
EXPECTED = json.loads((HERE / "expected.json").read_text())["sampling"]


def test_legacy_sampling_fit_loads_into_the_coverage_group_and_predicts_the_same():
    group = scalelaw.load(HERE / "sampling.json")
    assert isinstance(group, scalelaw.FitGroup)
    assert (group.family, group.kind, group.key) == ("sampling", "coverage", "model")
    assert group.info["method"] == "powerlaw" and list(group) == ["Pythia 70M", "Pythia 160M"]
    assert all(isinstance(fit, sampling.PowerLawFit) for fit in group.values())
    table = sampling.predict(group, EXPECTED["k"])
    assert table["model"].tolist() == EXPECTED["model"]
    assert table["k"].tolist() == EXPECTED["k"] * 2
    assert table["coverage"].tolist() == EXPECTED["coverage"]
    assert table["lower"].tolist() == EXPECTED["lower"]


def test_legacy_sampling_fit_replays_and_saves_in_the_current_schema(tmp_path):
    group = scalelaw.load(HERE / "sampling.json")
    assert dict(group.settings) == {"method": "powerlaw", "space": "log-coverage", "grid": None,
                                    "loss": "squared", "bootstrap": 20, "seed": 0, "level": 0.95}
    tidy = sampling.read_counts(DATA / "sampling" / "llmonkeys_pythia_math_per_problem.csv")[0]
    refit = sampling.fit_coverage(tidy[tidy["model"].isin(list(group))], **group.settings)
    assert sampling.predict(refit, EXPECTED["k"])["coverage"].tolist() == EXPECTED["coverage"]
    path = tmp_path / "again.json"
    group.to_json(path)
    again = scalelaw.load(path)
    assert again.SCHEMA == "scalelaw.core.group/1"
    assert sampling.predict(again, [1, 10, 100]).equals(sampling.predict(group, [1, 10, 100]))


def test_legacy_beta_binomial_fit_loads_and_predicts_the_same():
    expected = json.loads((HERE / "sampling_beta_binomial_expected.json").read_text())
    group = scalelaw.load(HERE / "sampling_beta_binomial.json")
    assert group.info["method"] == "beta-binomial"
    assert all(isinstance(fit, sampling.BetaBinomialFit) for fit in group.values())
    assert group.warnings == ("Pythia 70M: 73% of problems have no correct sample: the left tail of pass@1, "
                              "and so alpha, rests on few problems",)
    table = sampling.predict(group, expected["k"])
    assert table["model"].tolist() == expected["model"]
    for column in ("coverage", "lower", "upper"):
        assert table[column].tolist() == expected[column]
    for model, numbers in expected["samples_for_0.8"].items():  # (k*, lower, upper); NaN where a draw never reaches
        np.testing.assert_array_equal(group[model].samples_for(0.8), numbers)
