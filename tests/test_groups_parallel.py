"""Group fits in local processes and on a Dask cluster give the numbers of the one-process run."""

from __future__ import annotations

import json
import time
import warnings

import numpy as np
import pandas as pd
import pytest
from test_groups import _obsscaling

import scalelaw
from scalelaw.errors import InputError
from scalelaw.families import loss as family
from scalelaw.families import sampling

from support import DATA, assert_user_error, comparable

PORIAN = DATA / "loss" / "porian_isoflop_points.csv"
BY = "dataset,decay,loss_split"


@pytest.fixture(scope="module")
def porian():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        runs = family.read_runs(PORIAN)[0]
    return runs[(runs["hparams"] == "tuned") & (runs["param_count"] == "standard")]


def _same(a, b) -> None:
    assert list(a) == list(b)
    for name in a:
        assert a[name].params == b[name].params
        assert a[name].diagnostics["objective"] == b[name].diagnostics["objective"]
        np.testing.assert_array_equal(a[name].bootstrap, b[name].bootstrap)


def test_jobs_give_the_numbers_of_one_process(porian):
    law = scalelaw.get_law("saturating_power_law")
    table = _obsscaling()
    one = scalelaw.fit(law, table, by="task", bootstrap=20)
    _same(one, scalelaw.fit(law, table, by="task", bootstrap=20, jobs=2))


def test_dask_gives_the_numbers_of_the_local_run_on_real_data(porian, cluster, monkeypatch):
    chinchilla, saturating = scalelaw.get_law("chinchilla"), scalelaw.get_law("saturating_power_law")
    _same(scalelaw.fit(chinchilla, porian, by=BY, bootstrap=4, jobs=2),
          scalelaw.fit(chinchilla, porian, by=BY, bootstrap=4, jobs=2, backend="dask", scheduler=cluster))
    table = _obsscaling()
    monkeypatch.setenv("SCALELAW_DASK_SCHEDULER", cluster)
    _same(scalelaw.fit(saturating, table, by="task", bootstrap=30, jobs=3),
          scalelaw.fit(saturating, table, by="task", bootstrap=30, jobs=3, backend="dask"))


def test_an_unreachable_scheduler_is_one_line_within_seconds(cli):
    clock = time.perf_counter()
    run = cli("fit", "loss", str(PORIAN), "--by", "dataset", "--backend", "dask", "--scheduler", "tcp://127.0.0.1:9")
    assert_user_error(run, "--scheduler", "tcp://127.0.0.1:9", "no Dask scheduler")
    assert time.perf_counter() - clock < 10
    clock = time.perf_counter()
    run = cli("validate", "loss", str(PORIAN), "--by", "dataset", "--backend", "dask", "--scheduler", "tcp://127.0.0.1:9")
    assert_user_error(run, "--scheduler", "no Dask scheduler")
    assert time.perf_counter() - clock < 10
    with pytest.raises(InputError, match="SCALELAW_DASK_SCHEDULER"):
        scalelaw.fit(scalelaw.get_law("power_law"), _obsscaling(), by="task", backend="dask")


def test_without_distributed_the_option_says_how_to_install_it(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "distributed", None)
    with pytest.raises(InputError, match=r"pip install 'scalelaw\[dask\]'"):
        scalelaw.fit(scalelaw.get_law("power_law"), _obsscaling(), by="task", backend="dask", scheduler="x:1")


SAMPLES = DATA / "sampling" / "llmonkeys_pythia_math_per_problem.csv"


def _halves(tmp_path):
    """The shipped Pythia MATH counts with each problem in an odd or even half (a grouping column)."""
    rows = pd.read_csv(SAMPLES)
    rows["half"] = np.where(rows["problem_idx"] % 2 == 1, "odd", "even")
    path = tmp_path / "halves.csv"
    rows.to_csv(path, index=False)
    return path


def _json(cli, *args):
    run = cli(*args, "--json")
    assert run.code == 0, run.stderr
    return comparable(json.loads(run.stdout))


def test_family_fits_per_group_on_two_processes_and_dask_equal_one_process(cli, cluster, tmp_path):
    validate = ("validate", "loss", str(PORIAN), "--by", "dataset")
    one = _json(cli, *validate)
    assert list(one["fits"]) == ["rw", "owt2"] and one["fits"]["rw"]["held_out"]["n"] == 189
    assert _json(cli, *validate, "--jobs", "2") == one
    assert _json(cli, *validate, "--backend", "dask", "--scheduler", cluster) == one
    halves = ("sampling", "fit", str(_halves(tmp_path)), "--by", "half", "--bootstrap", "10")
    one = _json(cli, *halves)
    assert list(one["fits"]) == ["even", "odd"] and len(one["fits"]["odd"]["fits"]) == 7
    assert _json(cli, *halves, "--jobs", "2") == one
    assert _json(cli, *halves, "--backend", "dask", "--scheduler", cluster) == one


def test_sampling_fit_per_model_on_two_processes_gives_the_numbers_of_one(cli):
    base = ("sampling", "fit", str(SAMPLES), "--bootstrap", "0")
    assert _json(cli, *base, "--jobs", "2") == _json(cli, *base)
    tidy = sampling.read_counts(SAMPLES)[0]
    alone, two = sampling.fit_coverage(tidy, bootstrap=0), sampling.fit_coverage(tidy, bootstrap=0, jobs=2)
    assert list(two) == list(alone) and [two[m].fit.params for m in two] == [alone[m].fit.params for m in alone]
