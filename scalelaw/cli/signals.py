"""Ctrl-C (SIGINT) on the command line: the command stops at once, with one line and exit code 130.

While a command runs, SIGINT raises :class:`Interrupted`, which no ``except Exception`` catches on its
way out; outputs being written are finished first (:func:`held`), so the files asked for are either
all written or none is, and the line says which.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

EXIT_CODE = 130  # 128 + SIGINT, as a shell reports a command stopped by Ctrl-C

written: list[Path] = []
"""The outputs the running command has written."""
_state = {"held": False, "pending": False}


class Interrupted(BaseException):
    """SIGINT arrived while a command ran."""


def _interrupt(signum, frame) -> None:
    if _state["held"]:
        _state["pending"] = True
        return
    raise Interrupted


@contextmanager
def handled() -> Iterator[None]:
    """Turn SIGINT into :class:`Interrupted` while the block runs (in the main thread; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    written.clear()
    _state.update(held=False, pending=False)
    previous = signal.signal(signal.SIGINT, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def held() -> Iterator[None]:
    """Finish the block before a SIGINT that arrives during it takes effect (writing the outputs)."""
    _state["held"] = True
    try:
        yield
    finally:
        _state["held"] = False
    if _state["pending"]:
        _state["pending"] = False
        raise Interrupted


def leave(*, at_once: bool) -> NoReturn:
    """Exit with :data:`EXIT_CODE`; ``at_once`` (the console script) flushes the output and ends the process
    without the interpreter's teardown of the loaded libraries, which takes a second or more on a busy
    machine (the temporaries were removed on the way out)."""
    if at_once:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_CODE)
    sys.exit(EXIT_CODE)


def message() -> str:
    """The one line printed when a command was interrupted."""
    if not written:
        return "interrupted; nothing written"
    return f"interrupted after writing {', '.join(str(p) for p in written)}"
