"""The memory setting: batches bounded by max_memory_mb= / SCALELAW_MAX_MEMORY_MB, the same numbers
at any bound, --max-rows, and OT refused beyond the bound instead of running out of memory."""

from __future__ import annotations

import subprocess
import sys
import warnings
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pytest

from scalelaw import memory
from scalelaw.errors import InputError
from scalelaw.families import loss as family

from support import DATA, assert_user_error

CHINCHILLA = DATA / "loss" / "epoch_chinchilla_svg_extracted.csv"


@pytest.fixture(scope="module")
def runs():
    with _quiet():
        frame, _ = family.read_runs(CHINCHILLA, exclude_highest=5)
    return frame


@contextmanager
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def test_the_bound_comes_from_the_argument_the_environment_or_the_default(monkeypatch):
    monkeypatch.delenv(memory.ENVIRONMENT, raising=False)
    assert memory.limit_mb() == 1024.0
    monkeypatch.setenv(memory.ENVIRONMENT, "256")
    assert memory.limit_mb() == 256.0
    assert memory.limit_mb(64) == 64.0
    # 1 MB over 240 rows of a 5-parameter law (4 x 6 + 8 floats per row): 17 starts per batch
    assert memory.starts_per_batch(240, floats_per_row=memory.jacobian_floats(6), max_memory_mb=1) == 17
    assert memory.starts_per_batch(10**9, floats_per_row=32, max_memory_mb=1) == 1


@pytest.mark.parametrize("text", ["lots", "0", "-5", "inf", "nan", "1e9"])
def test_a_bad_bound_in_the_environment_is_one_line(monkeypatch, text):
    monkeypatch.setenv(memory.ENVIRONMENT, text)
    with pytest.raises(InputError, match=memory.ENVIRONMENT):
        memory.limit_mb()


@pytest.mark.parametrize("value", [0, -1, float("inf"), True, "64"])
def test_a_bad_bound_argument_names_it(value):
    with pytest.raises(InputError, match="max_memory_mb="):
        memory.limit_mb(value)


@pytest.mark.parametrize("settings", [{"starts": "hoffmann"}, {"bootstrap": 40, "seed": 3},
                                      {"loss": "huber-likelihood", "bootstrap": 8},
                                      {"loss": "squared", "profile": True}])
def test_numbers_do_not_depend_on_the_bound(runs, settings):
    """1 MB holds 17 of the 64 polished starts (and of the replicates) at once: the same numbers, bit for bit."""
    with _quiet():
        wide = family.fit_loss(runs, **settings)
        narrow = family.fit_loss(runs, max_memory_mb=1, **settings)
    assert narrow.params == wide.params
    assert narrow.diagnostics["evaluations"] == wide.diagnostics["evaluations"]
    if wide.bootstrap is not None:
        assert np.array_equal(narrow.bootstrap, wide.bootstrap, equal_nan=True)
    if "profile" in settings:
        assert narrow.diagnostics["profile"] == wide.diagnostics["profile"]
    assert "max_memory_mb" not in wide.settings and narrow.settings["max_memory_mb"] == 1.0


def test_the_published_fit_is_unchanged_under_a_small_bound(runs):
    """Epoch's headline fit (Huber likelihood from Hoffmann's estimate) with 1 MB of batches."""
    with _quiet():
        p = family.fit_loss(runs, loss="huber-likelihood", starts="hoffmann-estimate", max_memory_mb=1).params
    assert p["E"] == pytest.approx(1.816864, abs=2e-6)
    assert p["alpha"] == pytest.approx(0.347813, abs=2e-6)
    assert p["beta"] == pytest.approx(0.365854, abs=2e-6)


def test_max_rows_refuses_a_larger_file_in_one_line(cli):
    run = cli("fit", "loss", CHINCHILLA, "--max-rows", "100")
    assert_user_error(run, str(CHINCHILLA), "245 data rows", "--max-rows 100")
    assert cli("fit", "loss", CHINCHILLA, "--max-rows", "245", "--json").code == 0
    assert_user_error(cli("fit", "loss", CHINCHILLA, "--max-rows", "0"), "--max-rows")


def test_an_ot_beyond_the_bound_is_refused_with_what_to_use(cli, tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    for name in "ab":
        pd.DataFrame(rng.normal(size=(400, 3)), columns=["x", "y", "z"]).to_csv(tmp_path / f"{name}.csv",
                                                                               index=False)
    monkeypatch.setenv(memory.ENVIRONMENT, "1")
    run = cli("transport", "distance", tmp_path / "a.csv", tmp_path / "b.csv")
    # 4 matrices of 400 x 400 float64 are 4.9 MB; 1 MB holds 4 matrices of 181 x 181
    assert_user_error(run, "400 x 400", "about 5 MB", "1 MB", "--max-samples 181")
    run = cli("transport", "distance", tmp_path / "a.csv", tmp_path / "b.csv", "--max-samples", "181", "--json")
    assert run.code == 0, run.stderr


PEAK = """
import sys, numpy as np, pandas as pd
from scalelaw import fit, get_law
rng = np.random.default_rng(0)
rows = 200_000
n, d = 10 ** rng.uniform(7, 10, rows), 10 ** rng.uniform(9, 12, rows)
y = (1.69 + 406.4 / n**0.34 + 410.7 / d**0.28) * np.exp(rng.normal(0, 0.01, rows))
table = pd.DataFrame({"params": n, "tokens": d, "loss": y})
def vm(key):
    with open("/proc/self/status") as f:
        return int(next(line.split()[1] for line in f if line.startswith(key))) / 1024
before = vm("VmRSS")
result = fit(get_law("chinchilla"), table, polish=8, max_iter=20, max_memory_mb=float(sys.argv[1]))
print(vm("VmHWM") - before, result.params["alpha"])
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/status")
def test_a_200k_row_fit_stays_within_its_memory_bound():
    """The fit's own peak (above the table already in memory) stays near the bound, not at
    starts x rows x parameters (81 x 200,000 x 5 float64 = 648 MB for the Jacobian alone)."""
    out = subprocess.run([sys.executable, "-c", PEAK, "64"], capture_output=True, text=True, check=True)
    grown, alpha = map(float, out.stdout.split())
    assert grown < 64 + 60, grown
    assert alpha == pytest.approx(0.34, abs=0.02)
