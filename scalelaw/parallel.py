"""Where group fits run: in this process, in local worker processes, or on a Dask cluster.

:func:`dispatch` is the one dispatch: ``task(item)`` for every item, results in the order of the items,
whichever backend ran them, each call with one BLAS thread (threadpoolctl), so that ``jobs`` processes
on ``jobs`` cores do not oversubscribe them.  :func:`run` maps :func:`scalelaw.batch.fit_chunk` over
chunks of groups that share a law; :func:`scalelaw.groups.each` maps a family's fit over groups of
rows.  A result does not depend on where it ran: each group carries its own seed.  A task is a
module-level function or a ``functools.partial`` of one (it travels by pickle), never a lambda.

The Dask backend sends the tasks to an existing ``dask.distributed`` cluster, whose workers need
scalelaw installed; its address is ``scheduler=`` or the environment variable
``SCALELAW_DASK_SCHEDULER``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence

from scalelaw.errors import InputError
from scalelaw.laws import Law

BACKENDS = ("local", "dask")
ENVIRONMENT = "SCALELAW_DASK_SCHEDULER"
CONNECT_TIMEOUT = 3  # seconds to reach a scheduler


def one(task: Callable, item):
    """``task(item)`` with one BLAS thread (what every backend runs)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        return task(item)


def in_process(jobs: int, backend: str) -> bool:
    """Whether :func:`dispatch` runs its tasks in this process (so a task may hold a progress callback)."""
    return jobs == 1 and backend == "local"


def check(jobs: int, backend: str, scheduler: str | None) -> str | None:
    """The scheduler address for ``backend="dask"`` (None for local); raises on a bad choice."""
    if backend not in BACKENDS:
        raise InputError(f"backend={backend!r}: choose one of {', '.join(BACKENDS)}", field="backend")
    if jobs < 1:
        raise InputError(f"jobs={jobs}: give 1 or more processes", field="jobs")
    if backend == "local":
        return None
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise InputError("backend='dask' needs the distributed package: pip install 'scalelaw[dask]'",
                         field="backend") from None
    address = scheduler or os.environ.get(ENVIRONMENT)
    if not address:
        raise InputError(f"backend='dask' needs scheduler=, the address of a running Dask scheduler (e.g. "
                         f"tcp://10.0.0.5:8786), or the environment variable {ENVIRONMENT}", field="scheduler")
    return address


def run(law: Law, chunks: list, settings: dict, *, jobs: int = 1, backend: str = "local",
        scheduler: str | None = None) -> list[dict]:
    """Fit every chunk ((Chunk, members) pairs) with ``settings``; outcomes in chunk order."""
    from scalelaw.batch import fit_chunk

    return dispatch(functools.partial(fit_chunk, law, **settings), [c for c, _ in chunks], jobs=jobs,
                    backend=backend, scheduler=scheduler)


def dispatch(task: Callable, items: Sequence, *, jobs: int = 1, backend: str = "local",
                scheduler: str | None = None) -> list:
    """``task(item)`` for every item, here, in ``jobs`` local processes or on a Dask cluster; in item order."""
    address = check(jobs, backend, scheduler)
    items = list(items)
    if address is not None:
        return _dask(task, items, address)
    if jobs == 1 or len(items) <= 1:
        return [one(task, item) for item in items]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=min(jobs, len(items))) as pool:
        return list(pool.map(one, [task] * len(items), items))


def connect(address: str):
    """A ``distributed.Client`` of the scheduler at ``address``; raises when none answers within a few seconds."""
    import distributed

    try:
        return distributed.Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as err:
        raise InputError(f"scheduler={address!r}: no Dask scheduler answers there within {CONNECT_TIMEOUT} s "
                         f"({type(err).__name__}); start one with 'dask scheduler' or check the address",
                         field="scheduler") from None


def _dask(task: Callable, items: list, address: str) -> list:
    client = connect(address)
    try:
        futures = client.map(one, [task] * len(items), items, pure=False)
        return client.gather(futures)
    finally:
        client.close()
