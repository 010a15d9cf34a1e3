"""Where chunks of groups are fitted: in this process, in local worker processes, or on a Dask cluster.

:func:`run` returns the outcomes of :func:`scalelaw.batch.fit_chunk` in the order of the chunks,
whichever backend fitted them.  A chunk's numbers do not depend on where it ran: each group carries its
own bootstrap seed, and every worker fits with one BLAS thread (threadpoolctl), so that ``jobs``
processes on ``jobs`` cores do not oversubscribe them.

The Dask backend sends chunks (plain arrays) to an existing ``dask.distributed`` cluster, whose workers
need scalelaw installed; its address is ``scheduler=`` or the environment variable
``SCALELAW_DASK_SCHEDULER``.
"""

from __future__ import annotations

import os

from scalelaw.errors import InputError
from scalelaw.laws import Law

BACKENDS = ("local", "dask")
ENVIRONMENT = "SCALELAW_DASK_SCHEDULER"
CONNECT_TIMEOUT = 3  # seconds to reach a scheduler


def fit_one(law: Law, chunk, settings: dict) -> dict:
    """One chunk with one BLAS thread (the task every backend runs)."""
    from threadpoolctl import threadpool_limits

    from scalelaw.batch import fit_chunk

    with threadpool_limits(limits=1):
        return fit_chunk(law, chunk, **settings)


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
    address = check(jobs, backend, scheduler)
    if address is not None:
        return _dask(law, [c for c, _ in chunks], settings, address)
    if jobs == 1 or len(chunks) == 1:
        return [fit_one(law, chunk, settings) for chunk, _ in chunks]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=min(jobs, len(chunks))) as pool:
        return list(pool.map(fit_one, [law] * len(chunks), [c for c, _ in chunks], [settings] * len(chunks)))


def _dask(law: Law, chunks: list, settings: dict, address: str) -> list[dict]:
    import distributed

    try:
        client = distributed.Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as err:
        raise InputError(f"scheduler={address!r}: no Dask scheduler answers there within {CONNECT_TIMEOUT} s "
                         f"({type(err).__name__}); start one with 'dask scheduler' or check the address",
                         field="scheduler") from None
    try:
        futures = client.map(fit_one, [law] * len(chunks), chunks, [settings] * len(chunks), pure=False)
        return client.gather(futures)
    finally:
        client.close()
