"""Numba kernels behind :class:`~sklearn_lambda3.Lambda3Features`.

Every kernel is O(n) per column whatever the window length, and all of them work on
``float64`` arrays only; validation happens in the estimators before data reaches here.

Rolling standard deviations use the van Herk / Gil-Werman block scheme: the series is cut
into blocks as long as the window, each block gets prefix and suffix (mean, M2) summaries
computed with Welford's update on values shifted by the block's first element, and any
window is the merge (Chan et al.) of at most one suffix and one prefix. Nothing is ever
subtracted out of a running sum, so there is no cancellation: a constant stretch gives an
exact zero and an offset of 1e12 costs no accuracy.
"""

import numpy as np
from numba import njit, prange

# Added to the local volatility before dividing, as the method does (spec §1).
LOCAL_STD_EPS = 1e-8

# Above this many rows the percentile uses a sampled bracket and one filtering pass.
_BRACKET_MIN_ROWS = 4096


@njit(cache=True)
def _suffix_summaries(x, block, suf_mean, suf_m2):
    """In-block suffix (mean, M2) of ``x``, relative to each block's first value (Welford)."""
    n = x.shape[0]
    for start in range(0, n, block):
        stop = min(start + block, n)
        anchor = x[start]
        mean = m2 = 0.0
        count = 0
        for i in range(stop - 1, start - 1, -1):
            value = x[i] - anchor
            count += 1
            delta = value - mean
            mean += delta / count
            m2 += delta * (value - mean)
            suf_mean[i] = mean
            suf_m2[i] = m2


@njit(cache=True)
def _std_from_m2(m2, count):
    var = m2 / count
    return np.sqrt(var) if var > 0.0 else 0.0


@njit(cache=True)
def _merged_m2(count_a, mean_a, m2_a, count_b, mean_b, m2_b, anchor_shift):
    """M2 of two adjacent stretches (Chan et al.); ``anchor_shift`` = anchor_b - anchor_a."""
    delta = anchor_shift + (mean_b - mean_a)
    return m2_a + m2_b + delta * delta * (count_a * count_b / (count_a + count_b))


@njit(cache=True)
def _trailing_std(x, block, out, offset, suf_mean, suf_m2):
    """``out[e - offset]`` = std of ``x[max(0, e - block + 1) : e + 1]`` for ``e >= offset``.

    The window ending at ``e`` is the suffix of the previous block from ``e - block + 1``
    merged with the prefix of ``e``'s block up to ``e``, which is advanced here by Welford's
    update. Returns the prefix (count, mean, M2) of the last block.
    """
    n = x.shape[0]
    inv = 1.0 / np.arange(1, block + 1).astype(np.float64)
    # weight[k] = n_a * n_b / (n_a + n_b) when the prefix holds k + 1 values.
    weight = np.empty(block)
    for k in range(block):
        weight[k] = (block - k - 1) * (k + 1) * inv[block - 1]
    count = 0
    mean = m2 = 0.0
    for start in range(0, n, block):
        anchor = x[start]
        anchor_shift = anchor - x[start - block] if start > 0 else 0.0
        mean = m2 = 0.0
        stop = min(start + block, n)
        for e in range(start, stop):
            k = e - start
            value = x[e] - anchor
            delta = value - mean
            mean += delta * inv[k]
            m2 += delta * (value - mean)
            if e < offset:
                continue
            if start == 0 or k == block - 1:
                total = m2
                count = k + 1 if start == 0 else block
            else:
                first = e - block + 1
                step = anchor_shift + (mean - suf_mean[first])
                total = suf_m2[first] + m2 + step * step * weight[k]
                count = block
            var = total * inv[count - 1]
            out[e - offset] = np.sqrt(var) if var > 0.0 else 0.0
        count = stop - start
    return count, mean, m2


@njit(cache=True)
def rolling_std_pair(x, window, local_window, rho, sigma, suf_mean, suf_m2):
    """Trailing and centred population stds of ``x``, each in O(n).

    ``rho[t]`` is the std of ``x[max(0, t - window) : t + 1]`` and ``sigma[t]`` that of
    ``x[max(0, t - local_window) : min(n, t + local_window + 1)]``. ``suf_mean`` and
    ``suf_m2`` are scratch arrays as long as ``x``.
    """
    n = x.shape[0]
    _suffix_summaries(x, window + 1, suf_mean, suf_m2)
    _trailing_std(x, window + 1, rho, 0, suf_mean, suf_m2)

    # A centred window is the trailing window of length 2 * local_window + 1 ending
    # local_window steps later; only the last local_window steps, clipped at the end, differ.
    block = 2 * local_window + 1
    _suffix_summaries(x, block, suf_mean, suf_m2)
    last_count, last_mean, last_m2 = _trailing_std(x, block, sigma, local_window, suf_mean, suf_m2)
    last_start = n - last_count
    for t in range(max(0, n - local_window), n):
        first = max(0, t - local_window)
        if first >= last_start:
            m2 = suf_m2[first]
        else:
            first_start = first - first % block
            m2 = _merged_m2(
                first_start + block - first,
                suf_mean[first],
                suf_m2[first],
                last_count,
                last_mean,
                last_m2,
                x[last_start] - x[first_start],
            )
        sigma[t] = _std_from_m2(m2, n - first)


@njit(cache=True)
def _select_inplace(a, k):
    """k-th smallest value of ``a`` (0-based), reordering ``a``; quickselect."""
    lo = 0
    hi = a.shape[0] - 1
    while hi > lo:
        mid = (lo + hi) // 2
        if a[mid] < a[lo]:
            a[mid], a[lo] = a[lo], a[mid]
        if a[hi] < a[lo]:
            a[hi], a[lo] = a[lo], a[hi]
        if a[mid] < a[hi]:
            a[mid], a[hi] = a[hi], a[mid]
        pivot = a[hi]
        i = lo
        j = hi - 1
        while True:
            while a[i] < pivot:
                i += 1
            while j > lo and a[j] > pivot:
                j -= 1
            if i >= j:
                break
            a[i], a[j] = a[j], a[i]
            i += 1
            j -= 1
        a[i], a[hi] = a[hi], a[i]
        if i == k:
            return a[k]
        if i < k:
            lo = i + 1
        else:
            hi = i - 1
    return a[k]


@njit(cache=True)
def _two_order_stats_exact(values, k):
    """The k-th and (k+1)-th smallest values (0-based), by quickselect on a copy."""
    work = values.copy()
    low = _select_inplace(work, k)
    if k + 1 >= work.shape[0]:
        return low, low
    # After selection everything right of k is >= a[k]; the next order stat is their minimum.
    high = work[k + 1]
    for i in range(k + 2, work.shape[0]):
        if work[i] < high:
            high = work[i]
    return low, high


@njit(cache=True)
def _two_order_stats(values, k):
    """The k-th and (k+1)-th smallest values of ``values`` (0-based), without reordering it.

    Long inputs are bracketed from a strided sample and filtered in one pass, so only the
    values near the answer are ever sorted; when the bracket misses, it falls back to an
    exact quickselect. Both paths return the exact order statistics.
    """
    n = values.shape[0]
    if n < _BRACKET_MIN_ROWS:
        return _two_order_stats_exact(values, k)
    n_sample = 4096
    stride = n // n_sample
    sample = np.empty(n_sample)
    for i in range(n_sample):
        sample[i] = values[i * stride]
    sample.sort()
    fraction = (k + 0.5) / n
    position = fraction * n_sample
    # Five standard errors of the sample quantile's rank, so a miss (and the exact fallback) is rare.
    margin = 5.0 * np.sqrt(n_sample * fraction * (1.0 - fraction)) + 8.0
    lo_index = int(position - margin)
    hi_index = int(position + margin)
    lower = -np.inf if lo_index < 0 else sample[lo_index]
    upper = np.inf if hi_index >= n_sample else sample[hi_index]
    capacity = n // 8 + 16
    kept = np.empty(capacity)
    n_kept = 0
    n_below = 0
    for i in range(n):
        v = values[i]
        if v < lower:
            n_below += 1
        elif v <= upper:
            if n_kept == capacity:
                return _two_order_stats_exact(values, k)
            kept[n_kept] = v
            n_kept += 1
    has_low = n_below <= k < n_below + n_kept
    has_high = k + 1 >= n or k + 1 < n_below + n_kept
    if not (has_low and has_high):
        return _two_order_stats_exact(values, k)
    low, high = _two_order_stats_exact(kept[:n_kept], k - n_below)
    if k + 1 >= n:
        high = low
    return low, high


@njit(cache=True)
def percentile(values, q):
    """``np.percentile(values, q)`` (linear interpolation) in O(n), ``values`` untouched."""
    n = values.shape[0]
    rank = q / 100.0 * (n - 1)
    k = int(np.floor(rank))
    if k >= n - 1:
        k = n - 1
    frac = rank - k
    low, high = _two_order_stats(values, k)
    if frac == 0.0:
        return low
    # NumPy's lerp form, so that equal neighbours give exactly that value.
    diff = high - low
    if frac >= 0.5:
        return high - diff * (1.0 - frac)
    return low + diff * frac


@njit(cache=True)
def _column_raw(x, window, local_window, diff, scratch, rho, score):
    """Fill first difference, tension and local score of one column.

    ``diff`` and ``scratch`` are used as scratch space before ``diff`` gets its values.
    """
    n = x.shape[0]
    rolling_std_pair(x, window, local_window, rho, score, diff, scratch)
    diff[0] = 0.0
    score[0] = 0.0
    for t in range(1, n):
        d = x[t] - x[t - 1]
        diff[t] = d
        score[t] = abs(d) / (score[t] + LOCAL_STD_EPS)


@njit(cache=True, parallel=True)
def lambda3_features(X, window, local_window, jump_threshold, local_threshold, out):
    """Write the four Lambda³ features of every column of ``X`` into ``out``.

    ``out`` has shape ``(n, 4 * p)``; column ``4j + k`` holds feature ``k`` of input column
    ``j`` (ΔΛC⁺, ΔΛC⁻, ρT, local jump). Thresholds are per column.
    """
    n_cols = X.shape[1]
    for j in prange(n_cols):
        base = 4 * j
        diff = out[:, base]
        scratch = out[:, base + 1]
        score = out[:, base + 3]
        _column_raw(X[:, j], window, local_window, diff, scratch, out[:, base + 2], score)
        _binarise(diff, score, out[:, base + 1], jump_threshold[j], local_threshold[j])


@njit(cache=True)
def _binarise(diff, score, neg, threshold, local_threshold):
    for t in range(diff.shape[0]):
        d = diff[t]
        neg[t] = 1.0 if d < -threshold else 0.0
        diff[t] = 1.0 if d > threshold else 0.0
        score[t] = 1.0 if score[t] > local_threshold else 0.0


@njit(cache=True, parallel=True)
def fit_lambda3_features(X, window, local_window, delta_percentile, local_percentile, out):
    """Learn the per-column thresholds on ``X`` and write its features into ``out``.

    Returns ``(jump_threshold, local_threshold)``, each of length ``p``.
    """
    n_cols = X.shape[1]
    jump_threshold = np.empty(n_cols)
    local_threshold = np.empty(n_cols)
    for j in prange(n_cols):
        base = 4 * j
        diff = out[:, base]
        scratch = out[:, base + 1]
        score = out[:, base + 3]
        _column_raw(X[:, j], window, local_window, diff, scratch, out[:, base + 2], score)
        for t in range(diff.shape[0]):
            scratch[t] = abs(diff[t])
        jump_threshold[j] = percentile(scratch, delta_percentile)
        local_threshold[j] = percentile(score, local_percentile)
        _binarise(diff, score, scratch, jump_threshold[j], local_threshold[j])
    return jump_threshold, local_threshold
