"""Fixtures shared by the test modules."""

import pandas as pd
import pytest

from support import DATA, run_cli

PER_PROBLEM = DATA / "sampling" / "llmonkeys_pythia_math_per_problem.csv"


@pytest.fixture
def cli():
    """Run ``scalelaw ARGS`` in-process: ``cli("fit", "loss", path)`` -> Run(code, stdout, stderr)."""
    return run_cli


@pytest.fixture
def small(tmp_path):
    """Two models of the Pythia file (Pythia 70M and 12B), 128 problems each."""
    frame = pd.read_csv(PER_PROBLEM)
    path = tmp_path / "two.csv"
    frame[frame["model"].isin(["Pythia 70M", "Pythia 12B"])].to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    """Revealed sources, target and real pilot runs (15 mixtures x 3 sizes) from the bundled digits."""
    from scalelaw.families.transport import demo

    folder = tmp_path_factory.mktemp("digits")
    task = demo.digits_task(seed=0)
    pilots = demo.runs(task, demo.simplex_grid(3, 0.25), [40, 80, 160], repeats=1, seed=1)
    return demo.write_task(task, pilots, folder)
