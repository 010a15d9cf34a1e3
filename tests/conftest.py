"""Fixtures shared by the test modules."""

import warnings

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


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server of this test session (tests/postgres_server.py), stopped at its end;
    skips, saying why, when PostgreSQL cannot be started here."""
    from postgres_server import Unavailable, start

    try:
        server = start()
    except Unavailable as err:
        pytest.skip(f"PostgreSQL not available, its tests are skipped: {err}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server):
    """postgresql+psycopg://postgres@127.0.0.1:PORT/scalelaw_test of the session's server."""
    return postgres_server.url


@pytest.fixture(params=["sqlite", "postgresql"])
def registry_url(request, tmp_path):
    """The URL of a new, empty registry database: a SQLite file, or a new PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.db'}"
    import secrets

    return request.getfixturevalue("postgres_server").create_database(f"t_{secrets.token_hex(6)}")


@pytest.fixture(scope="module")
def cluster():
    """The address of a ``distributed.LocalCluster`` of two single-threaded worker processes on loopback."""
    distributed = pytest.importorskip("distributed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1, host="127.0.0.1",
                                      dashboard_address=None) as local:
            yield local.scheduler_address
