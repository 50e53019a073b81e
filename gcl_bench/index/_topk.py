"""Numba kernels that keep the best ``k`` scores per query while a score matrix streams past.

Order is total and deterministic: a higher score wins, and among equal scores the lower document
row wins. Each query owns a min-heap of size ``k`` whose root is the worst kept item, so most
scores cost one comparison against the root; blocks must arrive in ascending document order.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(inline="always", cache=True)
def _worse(v1: float, i1: int, v2: float, i2: int) -> bool:
    """True when item 1 ranks below item 2 (lower score, or equal score and higher row)."""
    return v1 < v2 or (v1 == v2 and i1 > i2)


@njit(inline="always", cache=True)
def _sift_down(vals, idxs, pos, n):  # noqa: ANN001, ANN202 - numba kernel
    while True:
        child = 2 * pos + 1
        if child >= n:
            return
        right = child + 1
        if right < n and _worse(vals[right], idxs[right], vals[child], idxs[child]):
            child = right
        if _worse(vals[child], idxs[child], vals[pos], idxs[pos]):
            vals[pos], vals[child] = vals[child], vals[pos]
            idxs[pos], idxs[child] = idxs[child], idxs[pos]
            pos = child
        else:
            return


@njit(parallel=True, cache=True, nogil=True)
def push_block(scores, offset, heap_vals, heap_idxs, counts):  # noqa: ANN001, ANN201
    """Offer ``scores[q, j]`` (document row ``offset + j``) to the heap of query ``q``."""
    nq, nd = scores.shape
    k = heap_vals.shape[1]
    for q in prange(nq):
        hv = heap_vals[q]
        hi = heap_idxs[q]
        row = scores[q]
        n = counts[q]
        j = 0
        while n < k and j < nd:
            pos = n
            hv[pos] = row[j]
            hi[pos] = offset + j
            while pos > 0:
                parent = (pos - 1) >> 1
                if _worse(hv[pos], hi[pos], hv[parent], hi[parent]):
                    hv[pos], hv[parent] = hv[parent], hv[pos]
                    hi[pos], hi[parent] = hi[parent], hi[pos]
                    pos = parent
                else:
                    break
            n += 1
            j += 1
        counts[q] = n
        if n < k:
            continue
        top = hv[0]
        while j < nd:
            s = row[j]
            # rows arrive in ascending order, so an equal score never beats the root
            if s > top:
                hv[0] = s
                hi[0] = offset + j
                _sift_down(hv, hi, 0, k)
                top = hv[0]
            j += 1


@njit(parallel=True, cache=True, nogil=True)
def finish(heap_vals, heap_idxs, counts, out_vals, out_idxs):  # noqa: ANN001, ANN201
    """Heap-sort every query's heap into ``out_*`` best first; unused slots get -inf / -1."""
    nq, k = heap_vals.shape
    for q in prange(nq):
        hv = heap_vals[q]
        hi = heap_idxs[q]
        n = counts[q]
        for pos in range(n, k):
            out_vals[q, pos] = -np.inf
            out_idxs[q, pos] = -1
        size = n
        while size > 0:
            out_vals[q, size - 1] = hv[0]
            out_idxs[q, size - 1] = hi[0]
            size -= 1
            hv[0] = hv[size]
            hi[0] = hi[size]
            _sift_down(hv, hi, 0, size)
