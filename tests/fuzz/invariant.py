"""The one invariant of every generated case: a ScalelawError (on the command line: exit 2, one line on
stderr, no traceback, nothing written) or a correct result, never anything else.

:func:`outcome` and :func:`cli_outcome` classify a case as ``"ok"``, ``"refused"`` or a failure (a text that
starts with the kind of failure); the tests assert on that and ``tests/fuzz/measure.py`` counts it.
"""

from __future__ import annotations

import traceback
import warnings
from collections.abc import Callable
from pathlib import Path

from scalelaw.errors import ScalelawError

from support import run_cli

FAILURES = ("raw exception", "exit code", "multi-line error", "traceback", "written on failure")


def _raw(err: BaseException) -> str:
    frame = traceback.extract_tb(err.__traceback__)[-1] if err.__traceback__ else None
    where = f" at {Path(frame.filename).name}:{frame.lineno}" if frame else ""
    return f"raw exception: {type(err).__name__}{where}: {str(err)[:120]}"


def outcome(call: Callable[[], object]) -> tuple[str, object]:
    """``("ok", value)`` when ``call()`` returns, ``("refused", error)`` on a ScalelawError, else the failure."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return "ok", call()
    except ScalelawError as err:
        return "refused", err
    except Exception as err:  # noqa: BLE001 - every other exception is what the suite looks for
        return _raw(err), err


def cli_outcome(*args: object, outputs: tuple[Path, ...] = ()) -> tuple[str, object]:
    """Run ``scalelaw ARGS`` in-process; ``outputs`` are the paths the command was told to write.

    A refusal is exit 2 with one ``error:`` line, the last on stderr (warnings and notes may come before it)."""
    before = {path: path.exists() for path in outputs}
    try:
        run = run_cli(*map(str, args))
    except Exception as err:  # noqa: BLE001
        return _raw(err), err
    text = run.stderr.strip()
    if run.code == 0:
        return "ok", run
    if run.code != 2:
        return f"exit code {run.code}: {text[-160:]}", run
    if "Traceback" in run.stderr:
        return f"traceback: {text[-160:]}", run
    lines = text.splitlines()
    errors = [i for i, line in enumerate(lines) if line.startswith("error:")]
    if not text.startswith("Usage") and (len(errors) != 1 or errors[0] != len(lines) - 1):
        return f"multi-line error: {text[:160]}", run
    written = [str(path.name) for path in outputs if path.exists() and not before[path]]
    if written:
        return f"written on failure: {written}: {text[:120]}", run
    return "refused", run


def check(result: tuple[str, object], case: object = None) -> object:
    """Assert that the case was answered or refused; returns the value or the run."""
    kind, value = result
    assert kind in ("ok", "refused"), f"{kind}\ncase: {case!r}"[:2000]
    return value
