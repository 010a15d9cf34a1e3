"""Fit jobs: a bounded queue, a pool of worker processes with a time limit each, state in the registry.

A submitted job is a row in the registry (``queued``); one of ``workers`` supervisor threads takes it,
marks it ``running`` and runs the fit through the runner's executor (:mod:`scalelaw.service.executors`):
a child process forked from a preloaded server, or a task on a Dask cluster, so that a fit never blocks
the event loop and a fit past the time limit is stopped.  The fit and the job's ``done``
state are stored in one transaction; a failed job stores its one-line error and no fit.  Children never
touch the database: a server killed mid-fit leaves ``running`` rows, which its restart marks failed, and
its fit processes stop by themselves within a second (they watch the server's process).
"""

from __future__ import annotations

import queue
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from scalelaw.cli.invoke import Invocation


class QueueFull(Exception):
    """Every queue place is taken; the client should retry later."""


@dataclass(frozen=True)
class FitSpec:
    """What a job fits: the command, where its uploads were saved, and what to store the fit as."""

    invocation: Invocation
    folder: Path
    paths: tuple[tuple[str, Path], ...]
    name: str
    tags: tuple[str, ...]
    data_sha256: str
    created_by: str | None


@dataclass(frozen=True)
class Outcome:
    """How a job ended: the stored fit's id, or the error line and its fields."""

    fit_id: str | None = None
    error: dict | None = None


def error_body(err: BaseException, folder: Path | None = None) -> dict:
    """The error a client sees: the one line, and the file, row, column or field it names (temporary
    folders left out, so the file is named as uploaded)."""
    line = str(err)
    file = getattr(err, "path", None)
    if folder is not None:
        line = line.replace(f"{folder}/", "").replace(str(folder), "")
        file = None if file is None else str(file).replace(f"{folder}/", "")
    return {"error": line, "file": None if file is None else str(file), "row": getattr(err, "row", None),
            "column": getattr(err, "column", None), "field": getattr(err, "field", None)}


class JobRunner:
    """Runs fit jobs with ``workers`` processes at a time, at most ``queue_size`` waiting."""

    def __init__(self, registry, *, workers: int, queue_size: int, timeout_s: float, executor=None) -> None:
        from scalelaw.service.executors import LocalExecutor

        self.registry, self.timeout_s = registry, timeout_s
        self.executor = executor or LocalExecutor()
        self._queue: queue.Queue = queue.Queue(maxsize=queue_size)
        self._done: dict[str, tuple[threading.Event, list]] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads = [threading.Thread(target=self._serve, name=f"scalelaw-job-{i}", daemon=True)
                         for i in range(workers)]
        for thread in self._threads:
            thread.start()

    def submit(self, job_id: str, spec: FitSpec, *, awaited: bool = False) -> None:
        """Queue a job whose row exists; raises :class:`QueueFull` when no place is left.  With ``awaited``
        its outcome is kept for :meth:`wait` until :meth:`forget`."""
        with self._lock:
            if awaited:
                self._done[job_id] = (threading.Event(), [])
        try:
            self._queue.put_nowait((job_id, spec))
        except queue.Full:
            with self._lock:
                self._done.pop(job_id, None)
            raise QueueFull from None

    def wait(self, job_id: str, timeout: float) -> Outcome | None:
        """The job's outcome once it ends within ``timeout`` seconds (None if not, or not run here)."""
        with self._lock:
            entry = self._done.get(job_id)
        if entry is None or not entry[0].wait(timeout):
            return None
        return entry[1][0]

    def forget(self, job_id: str) -> None:
        with self._lock:
            self._done.pop(job_id, None)

    @property
    def waiting(self) -> int:
        return self._queue.qsize()

    def stop(self) -> None:
        self._stopping.set()
        for _ in self._threads:
            try:
                self._queue.put_nowait(None)
            except queue.Full:
                break
        deadline = time.monotonic() + 5
        for thread in self._threads:  # each sees the stop within half a second and fails its job
            thread.join(max(0.0, deadline - time.monotonic()))
        self.executor.close()

    def _serve(self) -> None:
        while not self._stopping.is_set():
            item = self._queue.get()
            if item is None:
                return
            job_id, spec = item
            try:
                outcome = self._run(job_id, spec)
            except Exception as err:  # the database went away: the job stays for the restart to mark
                outcome = Outcome(error={"error": f"the job could not be recorded: {err}"})
            finally:
                shutil.rmtree(spec.folder, ignore_errors=True)
            with self._lock:
                entry = self._done.get(job_id)
            if entry is not None:
                entry[1].append(outcome)
                entry[0].set()

    def _run(self, job_id: str, spec: FitSpec) -> Outcome:
        self.registry.start_job(job_id)
        task = self.executor.start(spec)
        deadline = time.monotonic() + self.timeout_s
        message = lost = None
        while message is None and lost is None:
            left = deadline - time.monotonic()
            if left <= 0 or self._stopping.is_set():
                task.cancel()
                task.close()
                if self._stopping.is_set():
                    return self._fail(job_id, "the server stopped before the fit finished; submit it again")
                return self._fail(job_id, f"the fit took longer than the job time limit of {self.timeout_s:g} s; "
                                          "ask for fewer bootstrap replicates, or start the server with a "
                                          "larger job_timeout_s")
            message = task.wait(min(left, 0.5))
            if message is None:
                lost = task.lost()
        task.close()
        if message is None:
            return self._fail(job_id, lost)
        if message[0] == "failed":
            self.registry.fail_job(job_id, message[1]["error"])
            return Outcome(error=message[1])
        _, text, kind, schema = message
        row = self.registry.add_fit(family=spec.invocation.family, kind=kind, schema=schema, name=spec.name,
                                    tags=list(spec.tags), data_sha256=spec.data_sha256, artifact=text,
                                    created_by=spec.created_by, job_id=job_id)
        return Outcome(fit_id=row.id)

    def _fail(self, job_id: str, line: str) -> Outcome:
        self.registry.fail_job(job_id, line)
        return Outcome(error={"error": line})
