"""The unbiased pass@k estimator, pass^k and coverage curves, exact and vectorised.

For a problem sampled n times with c correct samples, the unbiased estimator of Chen et al. (2021)
is ``pass@k = 1 - C(n-c, k) / C(n, k)``: one minus the probability q that k samples drawn without
replacement contain no correct one.  ``pass^k = C(c, k) / C(n, k)`` is the probability that all k
are correct, which is q for the complementary count n - c.  Both are defined for 1 <= k <= n only:
k > n raises (or gives NaN with a warning when asked), never 1.0; c = 0 gives pass@k = 0.

q is computed as a product of ratios, never as a difference of log-gammas (which loses about 1e-8
at n = 1e4).  The estimator depends on a problem only through (n, c), so the work is done once
per distinct pair, in one of two forms chosen per pair by its cost:

* cumulative: ``q(k) = prod_{m<k} (1 - c/(n-m))`` for every k up to the largest asked, as one
  cumulative product per pair.  Since ``q(k) <= exp(-c k / n)``, q is below 2**-60 (so that
  ``1 - q`` is exactly 1.0 in double precision) once ``k > 42 n / c``; the product stops there.
* direct: ``q(k) = prod_{i<c} (1 - k/(n-i))`` (the form of the reference implementation), when c
  times the number of asked k is smaller.

A coverage curve (the mean of pass@k over problems) is a weighted sum of the pairs' q, so bootstrap
replicates over problems are only other weights: all replicates cost one matrix product.

Examples
--------
>>> float(pass_at_k(200, 10, 10))
0.408547866081...
>>> float(pass_at_k(2, 0, 1)), float(pass_hat_k(100, 100, 50))
(0.0, 1.0)
>>> coverage([10, 10], [0, 5], [1, 2]).round(6).tolist()
[0.25, 0.388889]
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import numpy as np

from scalelaw.errors import InputError

#: Beyond k = _CUT n / c, q < exp(-_CUT) < 2**-60 and pass@k rounds to exactly 1.0.
_CUT = 42.0
#: Elements per block of the ragged products (bounds memory to a few tens of MB).
_BLOCK = 1 << 22
UNDEFINED = ("raise", "nan")


# ------------------------------------------------------------------------------------ arguments
def check_k(k, *, name: str = "k") -> np.ndarray:
    """k as a 1-D int64 array; every value must be a positive integer."""
    values = np.atleast_1d(np.asarray(k, dtype=float)).ravel()
    bad = ~np.isfinite(values) | (values < 1) | (values != np.round(values))
    if bad.any():
        raise InputError(f"{name} must be positive integers (numbers of samples), got "
                         f"{values[bad][0]:g}; give values such as 1,10,100")
    return values.astype(np.int64)


def check_counts(n, c) -> tuple[np.ndarray, np.ndarray]:
    """(n, c) as int64 arrays of one shape; 1 <= n, 0 <= c <= n, whole numbers."""
    n_arr, c_arr = np.broadcast_arrays(np.asarray(n, dtype=float), np.asarray(c, dtype=float))
    for name, values in (("n (samples)", n_arr), ("c (correct samples)", c_arr)):
        bad = ~np.isfinite(values) | (values != np.round(values)) | (values < 0)
        if bad.any():
            raise InputError(f"{name} must be whole numbers >= 0, got {values[bad].ravel()[0]:g}")
    if np.any(n_arr < 1):
        raise InputError("n (samples) must be at least 1 for every problem")
    if np.any(c_arr > n_arr):
        i = np.flatnonzero((c_arr > n_arr).ravel())[0]
        raise InputError(f"c = {c_arr.ravel()[i]:g} correct samples exceeds n = {n_arr.ravel()[i]:g} samples")
    return n_arr.astype(np.int64), c_arr.astype(np.int64)


def _undefined_mask(n: np.ndarray, ks: np.ndarray, undefined: str) -> np.ndarray | None:
    """Where k > n (undefined); raises unless ``undefined == "nan"``, which warns."""
    if undefined not in UNDEFINED:
        raise InputError(f"undefined must be one of {', '.join(UNDEFINED)}, not {undefined!r}")
    if n.size == 0 or ks[-1] <= n.min():
        return None
    mask = ks[None, :] > n[:, None]
    worst = int(n.min())
    text = (f"pass@k is undefined for k > n: k = {int(ks[-1])} asked but a problem has only "
            f"n = {worst} samples")
    if undefined == "raise":
        raise InputError(f"{text}; ask for k <= {worst} (or accept NaN for those k)")
    warnings.warn(f"{text}; those values are NaN", UserWarning, stacklevel=3)
    return mask


# ------------------------------------------------------------------------------------ the kernel
Piece = tuple[np.ndarray, slice | np.ndarray, np.ndarray]


def _pieces(n: np.ndarray, c: np.ndarray, ks: np.ndarray) -> Iterator[Piece]:
    """Blocks ``(rows, cols, Q)`` with ``Q[i, j] = C(n-c, k)/C(n, k)`` for ``n[rows[i]]``,
    ``c[rows[i]]``, ``k = ks[cols][j]``; entries never yielded are 0 (below 2**-60, or exactly 0).

    ``ks`` is sorted, unique and >= 1; entries with k > n are not meaningful (the caller masks them).
    """
    K = ks.size
    contiguous = bool(ks[-1] == K)  # ks == 1..K: columns are slices
    zero = np.flatnonzero(c == 0)
    if zero.size:
        yield zero, slice(0, K), (ks[None, :] <= n[zero, None]).astype(float)
    live = np.flatnonzero((c > 0) & (c < n))
    if not live.size:
        return
    n_l, c_l = n[live], c[live]
    reach = np.minimum(np.minimum(n_l - c_l, ks[-1]), np.ceil(_CUT * n_l / c_l)).astype(np.int64)
    direct = c_l * K < reach
    # cumulative form: one cumulative product over k per pair, up to its reach
    cum = np.flatnonzero(~direct)
    for rows in _chunks(cum, reach[cum], lambda length: length):
        L = int(reach[rows].max())
        j = np.arange(L, dtype=float)
        on = j[None, :] < reach[rows, None]
        denominator = np.where(on, n_l[rows, None] - j[None, :], 1.0)
        F = np.where(on, 1.0 - c_l[rows, None] / denominator, 0.0)
        np.cumprod(F, axis=1, out=F)
        m = int(np.searchsorted(ks, L, side="right"))
        if contiguous:
            yield live[rows], slice(0, m), F[:, :m]
        else:
            yield live[rows], np.arange(m), F[:, ks[:m] - 1]
    # direct form: c factors per k (cheaper when c times the number of k is small)
    dire = np.flatnonzero(direct)
    for rows in _chunks(dire, c_l[dire], lambda length: length * K):
        C = int(c_l[rows].max())
        i = np.arange(C, dtype=float)
        on = i[None, :] < c_l[rows, None]
        denominator = np.where(on, n_l[rows, None] - i[None, :], 1.0)
        F = np.where(on[..., None], 1.0 - ks[None, None, :] / denominator[..., None], 1.0)
        Q = F.prod(axis=1)
        Q[ks[None, :] > (n_l[rows] - c_l[rows])[:, None]] = 0.0
        yield live[rows], slice(0, K), Q


def _chunks(index: np.ndarray, length: np.ndarray, cost) -> Iterator[np.ndarray]:
    """Group ``index`` by the power of two of ``length`` and cut groups to about _BLOCK elements."""
    if not index.size:
        return
    order = np.argsort(length, kind="stable")
    index, length = index[order], length[order]
    bucket = np.ceil(np.log2(np.maximum(length, 1))).astype(int)
    for b in np.unique(bucket):
        members = index[bucket == b]
        width = cost(int(length[bucket == b].max()))
        step = max(1, _BLOCK // max(width, 1))
        for start in range(0, members.size, step):
            yield members[start : start + step]


def _prepare(n, c, k, undefined: str):
    n, c = check_counts(n, c)
    ks_in = check_k(k)
    ks, inverse = np.unique(ks_in, return_inverse=True)
    keys = np.stack([n.ravel(), c.ravel()], axis=1)
    pairs, where = np.unique(keys, axis=0, return_inverse=True)
    mask = _undefined_mask(pairs[:, 0], ks, undefined)
    return n, c, ks, inverse, pairs, where.ravel(), mask


def survival(n, c, k) -> np.ndarray:
    """q = C(n-c, k) / C(n, k) for every (n, c) pair (rows) and k (columns); k > n gives 0."""
    n, c = (np.asarray(a, dtype=np.int64).ravel() for a in (n, c))
    ks = np.asarray(k, dtype=np.int64).ravel()
    out = np.zeros((n.size, ks.size))
    for rows, cols, Q in _pieces(n, c, ks):
        if isinstance(cols, slice):
            out[rows, cols] = Q
        else:
            out[np.ix_(rows, cols)] = Q
    return out


def _per_problem(n, c, k, undefined: str, complement: bool):
    n, c, ks, inverse, pairs, where, mask = _prepare(n, c, k, undefined)
    counts = pairs[:, 0] - pairs[:, 1] if complement else pairs[:, 1]
    q = survival(pairs[:, 0], counts, ks)
    value = q if complement else 1.0 - q
    if mask is not None:
        value[mask] = np.nan
    out = value[where][:, inverse].reshape(n.shape + np.shape(k))
    return out if out.ndim else out[()]


def pass_at_k(n, c, k, *, undefined: str = "raise"):
    """Unbiased pass@k of each problem: ``1 - C(n-c, k) / C(n, k)``.

    Parameters
    ----------
    n, c
        Samples drawn and correct samples per problem (scalars or arrays of one shape).
    k
        Number of samples (a positive integer or an array of them).
    undefined
        ``"raise"`` (default): k > n is an error.  ``"nan"``: those values are NaN, with a warning.

    Returns
    -------
    Array of shape ``shape(n) + shape(k)`` (a float for scalars), in [0, 1].
    """
    return _per_problem(n, c, k, undefined, complement=False)


def pass_hat_k(n, c, k, *, undefined: str = "raise"):
    """pass^k of each problem: ``C(c, k) / C(n, k)``, the chance that k samples drawn without
    replacement are all correct (same arguments and shape as :func:`pass_at_k`)."""
    return _per_problem(n, c, k, undefined, complement=True)


def weighted_pass(n, c, k, weights, *, undefined: str = "raise", complement: bool = False) -> np.ndarray:
    """``sum_i weights[b, i] * pass@k(n_i, c_i, k)`` for each row b of ``weights`` (any real
    weights, e.g. a utility per problem) and each k: shape (B, K).  ``complement`` sums pass^k."""
    n, c, ks, inverse, pairs, where, mask = _prepare(np.ravel(n), np.ravel(c), k, undefined)
    W = np.atleast_2d(np.asarray(weights, dtype=float))
    if W.shape[1] != n.size or not np.all(np.isfinite(W)):
        raise InputError(f"weights must be finite, of shape (B, {n.size})")
    Wu = np.zeros((W.shape[0], pairs.shape[0]))
    np.add.at(Wu.T, where, W.T)
    counts = pairs[:, 0] - pairs[:, 1] if complement else pairs[:, 1]
    total = np.zeros((W.shape[0], ks.size))
    for rows, cols, Q in _pieces(pairs[:, 0], counts, ks):
        total[:, cols] += Wu[:, rows] @ Q
    value = total if complement else Wu.sum(axis=1, keepdims=True) - total
    if mask is not None:
        value[(np.abs(Wu) @ mask.astype(float)) > 0] = np.nan
    return value[:, inverse]


def coverage(n, c, k, *, weights=None, undefined: str = "raise", complement: bool = False) -> np.ndarray:
    """Mean pass@k over problems (coverage) at each k, optionally for several weightings.

    Parameters
    ----------
    n, c
        Samples and correct samples per problem, arrays of shape (P,).
    k
        Positive integers, shape (K,).
    weights
        Optional (B, P) non-negative weights of the problems (e.g. bootstrap counts); the result
        is then (B, K), one weighted mean per row.
    complement
        Average pass^k instead of pass@k.

    Returns
    -------
    (K,) or (B, K) array.
    """
    P = np.size(n)
    W = np.ones((1, P)) if weights is None else np.atleast_2d(np.asarray(weights, dtype=float))
    if W.shape[1] != P or np.any(W < 0) or np.any(W.sum(axis=1) <= 0):
        raise InputError(f"weights must be (B, {P}) non-negative with positive row sums")
    total = weighted_pass(n, c, k, W, undefined=undefined, complement=complement)
    value = total / W.sum(axis=1, keepdims=True)
    return value[0] if weights is None else value
