"""A hyperparameter law written by scalelaw 0.1.0 (schema scalelaw.hparams/1) loads into the law
group and predicts what that version predicted (tests/legacy_artifacts/README.md)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

import scalelaw
from scalelaw.families import hyperparams as hp

HERE = Path(__file__).parent / "legacy_artifacts"


def test_old_law_loads_and_predicts_exactly_as_before():
    expected = json.loads((HERE / "expected.json").read_text())["hparams"]
    law = scalelaw.load(HERE / "hparams.json")
    assert isinstance(law, scalelaw.FitGroup) and hp.is_law(law)
    assert (law.family, law.kind, law.key) == ("hyperparams", "law", "form")
    p = hp.predict(law, hp.inputs(expected["params"], expected["tokens"]))
    assert p["lr"][0] == expected["lr"] and p["batch_size"][0] == expected["batch_size"]


def test_old_settings_are_split_into_the_fit_and_the_selection():
    law = scalelaw.load(HERE / "hparams.json")
    assert hp.used(law) == ("lr(N,D)", "batch(D)")
    assert law.info["selection"] == {"band": 0.0025, "diverge_ratio": 1.5, "max_loss": None,
                                     "objective": "loss", "exclude_edge": False}
    assert law.info["rows"] == 35 and len(law.info["groups"]) == 5
    assert dict(law.settings) == {"lr_form": "N,D", "batch_form": "D", "loss": "squared", "delta": 0.001,
                                  "bootstrap": 1000, "seed": 0, "level": 0.9, "plateau_window": 0.03}
    assert hp.formulas(law) == {"lr": "lr = 2 N^-0.7 D^0.3", "batch_size": "B = 0.5 D^0.55"}
    assert isinstance(law.info["plateau"], hp.Plateau) and len(law.info["plateau"].surfaces) == 5


def test_old_law_saved_again_is_the_same_law(tmp_path):
    law = scalelaw.load(HERE / "hparams.json")
    law.to_json(tmp_path / "law.json")
    again = scalelaw.load(tmp_path / "law.json")
    assert again.SCHEMA == "scalelaw.core.group/1"
    data = hp.inputs([1e8, 7e9], [2e9, 1.4e12])
    for key in ("lr", "batch_size"):
        np.testing.assert_array_equal(hp.intervals(again, data)[key]["upper"], hp.intervals(law, data)[key]["upper"])
    pd.testing.assert_frame_equal(again.info["groups"], law.info["groups"])
    r = hp.recommend(again, 3e8, 1e10)
    assert r.plateau[0]["tolerance"] == 0.0025 and r.warnings == ()
