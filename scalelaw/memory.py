"""The memory setting: how large a batch the engine may build at once.

One number, in megabytes, bounds every (starts x rows) array the engine holds: given as
``max_memory_mb=`` or by the environment variable ``SCALELAW_MAX_MEMORY_MB``, else
:data:`DEFAULT_MB`.  Batches are split by starts, so the numbers of a fit do not depend on it.

Examples
--------
>>> starts_per_batch(1_000_000, floats_per_row=28, max_memory_mb=1024)
4
>>> starts_per_batch(100, floats_per_row=28, max_memory_mb=1024)
47934
"""

from __future__ import annotations

import math
import os

from scalelaw.errors import InputError

DEFAULT_MB = 1024.0  # keeps a 2-core, 24 GB machine responsive with several fits at once
LOWEST_MB, HIGHEST_MB = 1.0, 1_048_576.0
ENVIRONMENT = "SCALELAW_MAX_MEMORY_MB"


def limit_mb(max_memory_mb: float | None = None) -> float:
    """The memory bound in MB: ``max_memory_mb``, else ``$SCALELAW_MAX_MEMORY_MB``, else the default."""
    if max_memory_mb is None:
        text = os.environ.get(ENVIRONMENT, "").strip()
        if not text:
            return DEFAULT_MB
        try:
            value = float(text)
        except ValueError:
            raise InputError(f"{ENVIRONMENT}={text!r} is not a number of megabytes, e.g. 1024") from None
        return _checked(value, ENVIRONMENT)
    return _checked(max_memory_mb, "max_memory_mb")


def _checked(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) \
            or not LOWEST_MB <= value <= HIGHEST_MB:
        raise InputError(f"{name}={value!r}: the memory bound must be a number of megabytes in "
                         f"[{LOWEST_MB:g}, {HIGHEST_MB:g}], e.g. 1024", field=name)
    return float(value)


def starts_per_batch(rows: int, *, floats_per_row: int, max_memory_mb: float | None = None) -> int:
    """How many starts fit in one batch of ``rows`` rows of ``floats_per_row`` float64 each (at least 1)."""
    budget = limit_mb(max_memory_mb) * 2**20
    return max(1, int(budget // (8 * max(rows, 1) * max(floats_per_row, 1))))


def jacobian_floats(parameters: int) -> int:
    """Float64 values held per start and row while residuals and Jacobian of a law are evaluated
    (the law's outputs, the Jacobian, the weighted Jacobian and the residual temporaries)."""
    return 4 * parameters + 8


def check_matrix(rows: int, cols: int, *, copies: int, what: str, advice: str) -> None:
    """Refuse, in one line, a computation holding ``copies`` float64 (rows x cols) matrices beyond the
    memory bound; ``advice`` says what to do instead (``{side}`` is replaced by the largest square side
    that fits)."""
    budget = limit_mb() * 2**20
    needed = 8.0 * rows * cols * copies
    if needed > budget:
        side = max(1, math.isqrt(int(budget // (8 * copies))))
        raise InputError(f"{what} needs {copies} matrices of {rows:,} x {cols:,} (about {needed / 2**20:,.0f} MB), "
                         f"more than the memory bound of {limit_mb():g} MB ({ENVIRONMENT}); "
                         + advice.format(side=f"{side:,}".replace(",", "")))
