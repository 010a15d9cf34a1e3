"""Where a fit job runs: a child of the server's preloaded fork server, or a task on a Dask cluster.

An executor's :meth:`start` returns a task with ``wait(timeout_s)`` (the fit's message once it came, else
None), ``lost()`` (why it ended without one, or None while it runs), ``cancel()`` and ``close()``.  The
message is what :func:`fit_message` returns, wherever it ran: ``("done", artifact text, kind, schema)`` or
``("failed", error body)``, so the runner stores the same rows and bytes for either.

A Dask task gets the uploads as bytes (its worker may be another machine) and writes them, under their
uploaded names, to a temporary folder of its own.  A task cancelled at the time limit is forgotten by the
cluster; a fit already running on a worker thread finishes there and its result is dropped (Dask cannot
interrupt a running thread).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from pathlib import Path

from scalelaw.cli.invoke import Invocation

OUT = ".artifact.json"
"""The artifact's file in a job's folder: hidden, a name no upload gets (their names lose leading dots)."""


def fit_message(invocation: Invocation, paths: dict[str, Path], folder: Path) -> tuple:
    """Run the fit command on saved uploads and check its artifact loads: the message for the runner."""
    from scalelaw import protocol
    from scalelaw.cli import invoke
    from scalelaw.errors import ScalelawError
    from scalelaw.service.jobs import error_body

    try:
        text = invoke.run(invocation, paths, folder / OUT)
        result = protocol.load(text)
        return ("done", text, result.KIND, result.SCHEMA)
    except ScalelawError as err:
        return ("failed", error_body(err, folder))
    except Exception as err:  # a bug: reported as such, never stored as a fit
        return ("failed", {"error": f"internal error in the fit: {type(err).__name__}: {err}"})


# ------------------------------------------------------------------------------------------ local
def _exit_with(server_pid: int, interval_s: float = 0.5) -> None:
    """Stop this fit process once the server that asked for it is gone (killed, so it could not say so)."""

    def watch() -> None:
        while True:
            try:
                os.kill(server_pid, 0)
            except ProcessLookupError:
                os._exit(70)
            except PermissionError:  # a pid reused by another user's process: ours is gone
                os._exit(70)
            time.sleep(interval_s)

    threading.Thread(target=watch, name="scalelaw-server-watch", daemon=True).start()


def _child(spec, conn, server_pid: int) -> None:
    """In the worker process: the fit's message, sent back through the pipe."""
    _exit_with(server_pid)
    try:
        conn.send(fit_message(spec.invocation, dict(spec.paths), spec.folder))
    finally:
        conn.close()


def _context():
    try:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["scalelaw.service.worker"])
    except ValueError:  # a platform without forkserver
        context = multiprocessing.get_context("spawn")
    return context


class LocalTask:
    """A fit in a child process, its message coming through a pipe."""

    def __init__(self, context, spec) -> None:
        self._receive, send = context.Pipe(duplex=False)
        self._process = context.Process(target=_child, args=(spec, send, os.getpid()), daemon=True)
        self._process.start()
        send.close()
        self._ended = False

    def wait(self, timeout_s: float) -> tuple | None:
        if self._receive.poll(timeout_s):
            try:
                return self._receive.recv()
            except EOFError:
                self._ended = True
        return None

    def lost(self) -> str | None:
        if self._ended or (not self._process.is_alive() and not self._receive.poll(0)):
            self._process.join(5)
            return f"the fit process stopped unexpectedly (exit code {self._process.exitcode})"
        return None

    def cancel(self) -> None:
        self._process.kill()

    def close(self) -> None:
        self._process.join(5)
        self._receive.close()


class LocalExecutor:
    """Fits in children of a fork server that preloaded the library."""

    name = "local"

    def __init__(self) -> None:
        self._context = _context()

    def start(self, spec) -> LocalTask:
        return LocalTask(self._context, spec)

    def close(self) -> None:
        pass


# ------------------------------------------------------------------------------------------ dask
def run_uploads(invocation: Invocation, files: tuple[tuple[str, str, bytes], ...]) -> tuple:
    """On a Dask worker: write the uploads (field, file name, bytes) to a temporary folder and fit."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="scalelaw-job-"))
    try:
        paths = {}
        for upload, name, content in files:
            paths[upload] = folder / name
            paths[upload].write_bytes(content)
        return fit_message(invocation, paths, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class DaskTask:
    """A fit submitted to the cluster as one task."""

    def __init__(self, client, spec) -> None:
        files = tuple((upload, path.name, path.read_bytes()) for upload, path in spec.paths)
        self._future = client.submit(run_uploads, spec.invocation, files, pure=False)
        self._lost: str | None = None

    def wait(self, timeout_s: float) -> tuple | None:
        try:
            return self._future.result(timeout=timeout_s)
        except TimeoutError:
            return None
        except Exception as err:  # the task could not run: its worker died, or the cluster dropped it
            self._lost = f"the fit task failed on the Dask cluster ({type(err).__name__}: {err})"
            return None

    def lost(self) -> str | None:
        return self._lost

    def cancel(self) -> None:
        self._future.cancel()

    def close(self) -> None:
        self._future.release()


class DaskExecutor:
    """Fits as tasks on an existing Dask cluster whose workers have scalelaw installed."""

    name = "dask"

    def __init__(self, address: str) -> None:
        from scalelaw.parallel import connect

        self.address = address
        self._client = connect(address)

    def start(self, spec) -> DaskTask:
        return DaskTask(self._client, spec)

    def close(self) -> None:
        self._client.close()


def executor_for(backend: str, scheduler: str | None):
    """The executor of ``scalelaw serve``'s backend; a Dask scheduler must answer now."""
    from scalelaw.parallel import check

    address = check(1, backend, scheduler)
    return LocalExecutor() if address is None else DaskExecutor(address)
