"""sampling fit on the group mechanism: a model that cannot be fitted, --strict, --by and plan --group."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import scalelaw
from scalelaw.errors import FitError
from scalelaw.families import sampling

from support import DATA, assert_user_error

SAMPLES = DATA / "sampling" / "llmonkeys_pythia_math_per_problem.csv"


@pytest.fixture
def with_empty_model(tmp_path):
    """The shipped counts of two Pythia models and a model with no correct sample on any problem."""
    rows = pd.read_csv(SAMPLES)
    rows = rows[rows["model"].isin(["Pythia 70M", "Pythia 12B"])]
    empty = rows[rows["model"] == "Pythia 70M"].assign(model="empty", n_correct=0)
    path = tmp_path / "counts.csv"
    pd.concat([rows, empty]).to_csv(path, index=False)
    return path


def test_a_model_that_cannot_be_fitted_is_skipped_with_a_warning_or_refused_when_strict(cli, with_empty_model):
    tidy = sampling.read_counts(with_empty_model)[0]
    with pytest.warns(UserWarning, match="model 'empty': only 0 grid points"):
        group = sampling.fit_coverage(tidy, bootstrap=0)
    alone = sampling.fit_coverage(tidy[tidy["model"] != "empty"], bootstrap=0)
    assert list(group) == ["Pythia 70M", "Pythia 12B"] and "empty" in group.info["skipped"]
    assert [group[m].fit.params for m in group] == [alone[m].fit.params for m in alone]
    with pytest.raises(FitError, match="model 'empty'"):
        sampling.fit_coverage(tidy, bootstrap=0, strict=True)
    payload = json.loads(cli("sampling", "fit", str(with_empty_model), "--bootstrap", "0", "--json").stdout)
    assert list(payload["models"]) == ["Pythia 70M", "Pythia 12B"]
    assert any(n.startswith("model 'empty'") and n.endswith("; skipped") for n in payload["notes"])
    assert_user_error(cli("sampling", "fit", str(with_empty_model), "--strict"), "model 'empty'", "coverage law")


def test_by_fits_every_model_per_group_and_plan_answers_for_one_group(cli, tmp_path):
    rows = pd.read_csv(SAMPLES)
    rows["half"] = np.where(rows["problem_idx"] % 2 == 1, "odd", "even")
    path, out = tmp_path / "halves.csv", tmp_path / "fit.json"
    rows.to_csv(path, index=False)
    assert cli("sampling", "fit", str(path), "--by", "half", "--bootstrap", "0", "--out", str(out)).code == 0
    group = scalelaw.load(out)
    assert (group.family, group.kind, list(group)) == ("sampling", "groups", ["even", "odd"])
    odd = sampling.fit_coverage(sampling.prepare(rows[rows["half"] == "odd"])[0], bootstrap=0)
    assert [group["odd"][m].fit.params for m in odd] == [odd[m].fit.params for m in odd]
    plan = json.loads(cli("sampling", "plan", str(out), "--target", "0.5", "--group", "odd", "--json").stdout)
    alone = tmp_path / "odd.json"
    odd.to_json(alone)
    assert plan == json.loads(cli("sampling", "plan", str(alone), "--target", "0.5", "--json").stdout)
    assert_user_error(cli("sampling", "plan", str(out), "--target", "0.5"), "--group", "'even', 'odd'")
    assert_user_error(cli("sampling", "plan", str(alone), "--target", "0.5", "--group", "odd"),
                      "--group", "not a fit per group")
    assert_user_error(cli("sampling", "fit", str(path), "--by", "halves"), "no column 'halves'")
