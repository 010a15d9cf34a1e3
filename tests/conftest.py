import pytest

from support import run_cli


@pytest.fixture
def cli():
    """Run ``scalelaw ARGS`` in-process: ``cli("fit", "loss", path)`` -> Run(code, stdout, stderr)."""
    return run_cli
