"""Test helpers: paths to the shipped and shared data, and an in-process CLI runner."""

from __future__ import annotations

import io
import os
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
SHARED = Path(os.environ.setdefault("SCALELAW_SHARED_DATA", str(ROOT.parent / "shared" / "data")))


def shared_path(relative: str) -> Path:
    """A file under the shared data (``$SCALELAW_SHARED_DATA``, by default ../shared/data, which
    this sets for the library and the notebooks' kernels), or skip the test when it is absent."""
    path = SHARED / relative
    if not path.exists():
        pytest.skip(f"{path} is absent (a checkout outside the team's workspace): this test reads "
                    f"{relative} from ../shared/data, whose licence keeps it out of data/")
    return path


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


def run_cli(*args: str, width: int = 200, terminal: bool = False) -> Run:
    """Run ``scalelaw ARGS`` in-process, as the console script does; returns code and output.

    ``width`` is the console's width in columns; ``terminal=True`` renders as to a terminal (without colour)
    instead of as to a pipe or a file."""
    from rich.console import Console

    from scalelaw.cli import main, render

    out, err = io.StringIO(), io.StringIO()
    saved = render.console, render.err_console
    render.console = Console(file=out, width=width, highlight=False, force_terminal=terminal, color_system=None)
    render.err_console = Console(file=err, width=width, highlight=False, force_terminal=terminal,
                                 color_system=None)
    code = 0
    try:
        with redirect_stdout(out), redirect_stderr(err):
            main([str(a) for a in args])
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    finally:
        render.console, render.err_console = saved
    return Run(code, out.getvalue(), err.getvalue())


def assert_user_error(run: Run, *fragments: str) -> None:
    """Exit code 2, one line on stderr naming each fragment, no traceback."""
    assert run.code == 2, (run.code, run.stdout, run.stderr)
    text = run.stderr.strip()
    assert "Traceback" not in run.stderr
    assert text.count("\n") == 0 or text.startswith("Usage"), text
    for fragment in fragments:
        assert fragment in text, (fragment, text)


VOLATILE = {"wall_time", "scalelaw_version"}


def comparable(value):
    """An artifact dict without the fields that change from run to run (wall time, version); NaN
    compares equal to NaN."""
    if isinstance(value, float) and value != value:
        return "NaN"
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    return value
