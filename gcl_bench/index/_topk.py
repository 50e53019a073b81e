"""Numba kernels that keep the best ``k`` scores per query while a score matrix streams past.

Order is total and deterministic: a higher score wins, and among equal scores the lower document
row wins. Each candidate becomes one uint64 key, ``(orderable score bits << 32) | (2**32 - 1 -
row)``, so "larger key" is exactly that order and selection is integer partitioning. Per query a
buffer collects keys whose score beats the current threshold (one float comparison per score);
when it is full, an in-place quickselect keeps the best ``k`` and raises the threshold. Blocks must
arrive in ascending document order (a later row with a score equal to the threshold always loses).
Rows are limited to 2**32 - 1.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

_LOW = np.uint64(0xFFFFFFFF)
_SIGN = np.uint32(0x80000000)
_CHUNK = 64


def buffer_size(k: int) -> int:
    """Keys kept per query between two partitions."""
    return k + max(k, 256)


@njit(inline="always", cache=True)
def _score_of(key):  # noqa: ANN001, ANN202 - numba kernel
    """The orderable uint32 of a key, back to the float32 bit pattern (as uint32)."""
    order = np.uint32(key >> np.uint64(32))
    if order & _SIGN:
        return order ^ _SIGN
    return ~order


@njit(inline="always", cache=True)
def _key_score(key):  # noqa: ANN001, ANN202 - numba kernel
    """The float32 score stored in a key."""
    bits = np.empty(1, dtype=np.uint32)
    bits[0] = _score_of(key)
    return bits.view(np.float32)[0]


@njit(cache=True, nogil=True)
def _select_largest(buf, n, k):  # noqa: ANN001, ANN202 - numba kernel
    """Reorder ``buf[:n]`` in place so that ``buf[:k]`` holds its ``k`` largest keys and
    ``buf[k - 1]`` is the smallest of those (quickselect, median-of-three pivot)."""
    lo = 0
    hi = n - 1
    target = k - 1
    while lo < hi:
        mid = (lo + hi) >> 1
        a = buf[lo]
        b = buf[mid]
        c = buf[hi]
        if a < b:
            a, b = b, a
        if b < c:
            b = c
            if a < b:
                b = a
        pivot = b  # median of the three
        i = lo
        j = hi
        while i <= j:
            while buf[i] > pivot:
                i += 1
            while buf[j] < pivot:
                j -= 1
            if i <= j:
                buf[i], buf[j] = buf[j], buf[i]
                i += 1
                j -= 1
        # now buf[lo..j] >= pivot >= buf[i..hi]
        if target <= j:
            hi = j
        elif target >= i:
            lo = i
        else:
            break
    # buf[:k] now holds the k largest; put their minimum at k - 1
    smallest = k - 1
    for pos in range(k - 1):
        if buf[pos] < buf[smallest]:
            smallest = pos
    buf[smallest], buf[k - 1] = buf[k - 1], buf[smallest]


@njit(parallel=True, cache=True, nogil=True)
def push_block(scores, offset, k, keys, counts, thresholds):  # noqa: ANN001, ANN201
    """Offer ``scores[q, j]`` (document row ``offset + j``) to the buffer of query ``q``.

    keys (Q, buffer_size(k)) uint64, counts (Q,) int64 (start at 0), thresholds (Q,) float32
    (start at -inf).
    """
    nq, nd = scores.shape
    capacity = keys.shape[1]
    bits = scores.view(np.uint32)
    for q in prange(nq):
        row = scores[q]
        row_bits = bits[q]
        buf = keys[q]
        n = counts[q]
        threshold = thresholds[q]
        for chunk in range(0, nd, _CHUNK):
            stop = min(nd, chunk + _CHUNK)
            # a branch-free test of the whole chunk first: it vectorises, and most chunks fail it
            hit = False
            for j in range(chunk, stop):
                hit |= row[j] > threshold
            if not hit:
                continue
            for j in range(chunk, stop):
                if row[j] > threshold:
                    u = row_bits[j]
                    if u == _SIGN:  # -0.0 ranks as 0.0
                        u = np.uint32(0)
                    order = (u | _SIGN) if (u & _SIGN) == 0 else ~u
                    buf[n] = (np.uint64(order) << np.uint64(32)) | (_LOW - np.uint64(offset + j))
                    n += 1
                    if n == capacity:
                        _select_largest(buf, capacity, k)
                        n = k
                        threshold = _key_score(buf[k - 1])
        counts[q] = n
        thresholds[q] = threshold


@njit(parallel=True, cache=True, nogil=True)
def finish(keys, counts, out_vals, out_idxs):  # noqa: ANN001, ANN201
    """Best ``k = out_vals.shape[1]`` per query, best first; unused slots get -inf / -1."""
    nq, k = out_vals.shape
    out_bits = out_vals.view(np.uint32)
    for q in prange(nq):
        n = counts[q]
        kept = np.sort(keys[q, :n])[::-1][:k]
        for pos in range(kept.shape[0]):
            key = kept[pos]
            out_bits[q, pos] = _score_of(key)
            out_idxs[q, pos] = np.int64(_LOW - (key & _LOW))
        for pos in range(kept.shape[0], k):
            out_vals[q, pos] = -np.inf
            out_idxs[q, pos] = -1
