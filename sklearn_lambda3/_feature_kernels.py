"""Numba kernels behind :class:`~sklearn_lambda3.Lambda3Features`.

Every kernel is O(n) per column whatever the window length, and all of them work on
``float64`` arrays only; validation happens in the estimators before data reaches here.

Rolling standard deviations use the van Herk / Gil-Werman block scheme: the series is cut
into blocks as long as the window, each block gets prefix and suffix (mean, M2) summaries
(Welford's M2 update, the mean as a shifted sum over the count) on values shifted by a
member of the summary (a prefix by its block's first value, a suffix by its last), and any
window is the merge (Chan et al.) of at most one suffix and one prefix. Nothing is ever
subtracted out of a running sum, so there is no cancellation: a constant stretch gives an
exact zero and an offset of 1e12 costs no accuracy.

Kernels use ``error_model="numpy"`` so that float division carries no zero check and the
element-wise passes vectorise; no denominator here can be zero.
"""

import numpy as np
from numba import njit, prange

# Added to the local volatility before dividing, as the method does (spec §1).
LOCAL_STD_EPS = 1e-8

# Above this many rows the percentile uses a sampled bracket and one filtering pass.
_BRACKET_MIN_ROWS = 4096

# Rows per chunk of the fused feature pass: its arrays stay in a core's L2 cache.
_CHUNK_ROWS = 8192


@njit(cache=True, error_model="numpy")
def _effective_block(block, n):
    """Windows longer than the series are all clipped at its start, as with a block of ``n``
    values; capping keeps the sweep tables O(n) whatever the window."""
    return max(1, min(block, n))


@njit(cache=True, error_model="numpy")
def _sweep_state(block):
    """Tables and carried state of a block sweep, for ``_sweep_blocks``."""
    inv = np.empty(block + 1)
    inv[0] = 0.0
    for k in range(1, block + 1):
        inv[k] = 1.0 / k
    # weight[k] = n_a * n_b / (n_a + n_b) when the prefix holds k + 1 values.
    weight = np.empty(block)
    for k in range(block):
        weight[k] = (block - k - 1) * (k + 1) * inv[block]
    # Suffix summaries of the previous block and of the current one, alternating halves;
    # the last slot of each half stays an empty summary.
    suf_mean = np.zeros(2 * (block + 1))
    suf_m2 = np.zeros(2 * (block + 1))
    prev_anchor = np.zeros(1)  # last value of the previous block
    return inv, weight, suf_mean, suf_m2, prev_anchor


@njit(cache=True, error_model="numpy")
def _sweep_blocks(x, block, offset, var, first, limit, inv, weight, suf_mean, suf_m2, prev_anchor):
    """Population variance of every trailing window of ``block`` values, block by block.

    ``var[e - offset]`` is the variance of ``x[max(0, e - block + 1) : e + 1]`` for every
    ``e >= offset``, written for the blocks starting at ``first`` (a multiple of ``block``)
    and before ``limit``; returns the start of the next block to sweep, so that a caller can
    advance the sweep chunk by chunk with the state of ``_sweep_state``. A variance may be a
    rounding error below zero; see ``_sqrt_inplace``.

    The series is cut into blocks of ``block`` values. A window is the suffix of the previous
    block merged (Chan et al.) with the prefix of its own block. Prefixes are anchored at
    their block's first value and suffixes at its last, so every summary is taken on values
    shifted by one of its own members: a constant stretch is exactly zero and an offset of
    1e12 costs no accuracy. Each summary keeps the shifted sum (the mean is sum / count) and
    Welford's M2, ``M2 += (v - mean_old) * (v - mean_new)``; the only loop-carried
    dependencies are two additions. The suffixes of a block are summed, backwards, in the
    same loop as its prefixes and kept for the next block only, so no scratch array as
    long as the series is needed.
    """
    n = x.shape[0]
    inv_block = inv[block]
    half = block + 1
    start = first
    while start < limit and start < n:
        cur = half if (start // block) % 2 else 0
        prev = half - cur
        stop = min(start + block, n)
        length = stop - start
        anchor = x[start]
        tail_anchor = x[stop - 1]
        shift = anchor - prev_anchor[0]
        p_sum = p_m2 = p_mean = 0.0
        s_sum = s_m2 = s_mean = 0.0
        if start > 0 and start >= offset and length == block:
            # The common case, without branches. Unsigned indices spare the negative-index
            # checks without creating views, whose reference counts on arrays shared by the
            # threads would be contended atomics once per block. The suffix slot past the
            # block end holds an empty summary (M2 = 0 and weight 0), so the last window, the
            # whole block, needs no special case.
            base = np.uint64(start)
            out_base = np.uint64(start - offset)
            cur_base = np.uint64(cur)
            prev_base = np.uint64(prev + 1)
            last = np.uint64(block - 1)
            for k in range(block):
                u = np.uint64(k)
                value = x[base + u] - anchor
                p_sum += value
                mean = p_sum * inv[u + np.uint64(1)]
                p_m2 += (value - p_mean) * (value - mean)
                p_mean = mean
                j = last - u
                value = x[base + j] - tail_anchor
                s_sum += value
                mean = s_sum * inv[u + np.uint64(1)]
                s_m2 += (value - s_mean) * (value - mean)
                s_mean = mean
                suf_mean[cur_base + j] = s_mean
                suf_m2[cur_base + j] = s_m2
                step = shift + (p_mean - suf_mean[prev_base + u])
                var[out_base + u] = (suf_m2[prev_base + u] + p_m2 + step * step * weight[u]) * inv_block
            prev_anchor[0] = tail_anchor
            start = stop
            continue
        for k in range(length):
            # Prefix x[start : start + k + 1].
            value = x[start + k] - anchor
            p_sum += value
            mean = p_sum * inv[k + 1]
            p_m2 += (value - p_mean) * (value - mean)
            p_mean = mean
            # Suffix x[stop - 1 - k : stop].
            j = length - 1 - k
            value = x[start + j] - tail_anchor
            s_sum += value
            mean = s_sum * inv[k + 1]
            s_m2 += (value - s_mean) * (value - mean)
            s_mean = mean
            suf_mean[cur + j] = s_mean
            suf_m2[cur + j] = s_m2
            e = start + k
            if e < offset:
                continue
            if start == 0:
                var[e - offset] = p_m2 * inv[k + 1]
            elif k == block - 1:
                var[e - offset] = p_m2 * inv_block
            else:
                step = shift + (p_mean - suf_mean[prev + k + 1])
                total = suf_m2[prev + k + 1] + p_m2 + step * step * weight[k]
                var[e - offset] = total * inv_block
        prev_anchor[0] = tail_anchor
        start = stop
    return start


@njit(cache=True, error_model="numpy")
def _centred_tail(x, half, var):
    """Variances of the centred windows clipped by the end: ``t >= n - half``.

    Their windows ``x[max(0, t - half) : n]`` are suffixes of the series, summed backwards
    from its last value in O(half).
    """
    n = x.shape[0]
    lowest = max(0, n - 2 * half)
    anchor = x[n - 1]
    total = mean = m2 = 0.0
    for i in range(n - 1, lowest - 1, -1):
        value = x[i] - anchor
        total += value
        count = n - i
        new_mean = total / count
        m2 += (value - mean) * (value - new_mean)
        mean = new_mean
        t = i + half
        if n - half <= t < n:
            var[t] = m2 / count
    # Windows that start at 0 as well (short series): all of x[0 : n].
    if lowest == 0:
        for t in range(max(0, n - half), min(n, half)):
            var[t] = m2 / n


@njit(cache=True, error_model="numpy")
def _sqrt_inplace(var):
    """Variances to deviations; rounding can leave a variance a hair below zero."""
    for t in range(var.shape[0]):
        var[t] = np.sqrt(max(var[t], 0.0))


@njit(cache=True, error_model="numpy")
def _sqrt_rows(var, first, stop):
    """Variances to deviations for first <= t < stop; see ``_sqrt_inplace``."""
    _sqrt_inplace(var[first:stop])


@njit(cache=True, error_model="numpy")
def _score_rows(x, var, abs_diff, first, stop):
    """``abs_diff[t] = |d[t]|`` and ``var[t]`` replaced by the local score, for first <= t < stop."""
    if first == 0 and stop > 0:
        abs_diff[0] = 0.0
        var[0] = 0.0
        first = 1
    if stop <= first:
        return
    # Views indexed from 0: no negative-index wrap-around check, so the loop vectorises.
    now = x[first:stop]
    before = x[first - 1 : stop - 1]
    score = var[first:stop]
    jump = abs_diff[first:stop]
    for i in range(now.shape[0]):
        d = abs(now[i] - before[i])
        jump[i] = d
        score[i] = d / (np.sqrt(max(score[i], 0.0)) + LOCAL_STD_EPS)


@njit(cache=True, error_model="numpy")
def _raw_features(x, window, local_window, rho, score, abs_diff):
    """Tension ``rho``, local score ``score`` and ``abs_diff = |d|`` of one column.

    ``rho[t]`` is the std of ``x[max(0, t - window) : t + 1]``; ``score[t]`` is ``|d[t]|``
    over the std of the centred window ``x[max(0, t - local_window) : min(n, t + local_window + 1)]``
    plus ``LOCAL_STD_EPS``. A centred window is the trailing window of ``2 * local_window + 1``
    values ending ``local_window`` steps later (the second sweep's offset); the last
    ``local_window`` ones, clipped by the end, are ``_centred_tail``'s.

    Both block sweeps and the element-wise passes after them advance together, chunk by
    chunk of rows, so each value is produced and finished while it is still in cache and
    the column is read from memory once.
    """
    n = x.shape[0]
    b_trail = _effective_block(window + 1, n)
    b_centre = _effective_block(2 * local_window + 1, n)
    inv1, weight1, suf_mean1, suf_m21, anchor1 = _sweep_state(b_trail)
    inv2, weight2, suf_mean2, suf_m22, anchor2 = _sweep_state(b_centre)
    next1 = next2 = 0
    tail_done = False
    for first in range(0, n, _CHUNK_ROWS):
        stop = min(first + _CHUNK_ROWS, n)
        next1 = _sweep_blocks(x, b_trail, 0, rho, next1, stop, inv1, weight1, suf_mean1, suf_m21, anchor1)
        _sqrt_rows(rho, first, stop)
        next2 = _sweep_blocks(
            x,
            b_centre,
            local_window,
            score,
            next2,
            stop + local_window,
            inv2,
            weight2,
            suf_mean2,
            suf_m22,
            anchor2,
        )
        if stop > n - local_window and not tail_done:
            _centred_tail(x, local_window, score)
            tail_done = True
        _score_rows(x, score, abs_diff, first, stop)


@njit(cache=True, error_model="numpy")
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


@njit(cache=True, error_model="numpy")
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


@njit(cache=True, error_model="numpy")
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
    # One spare slot: every value is written at the end of ``kept`` and kept only by
    # advancing the count, so the pass has no data-dependent branch.
    kept = np.empty(capacity + 1)
    n_kept = 0
    n_below = 0
    for i in range(n):
        v = values[i]
        n_below += v < lower
        kept[n_kept] = v
        n_kept += (v >= lower) & (v <= upper)
        if n_kept > capacity:
            return _two_order_stats_exact(values, k)
    has_low = n_below <= k < n_below + n_kept
    has_high = k + 1 >= n or k + 1 < n_below + n_kept
    if not (has_low and has_high):
        return _two_order_stats_exact(values, k)
    low, high = _two_order_stats_exact(kept[:n_kept], k - n_below)
    if k + 1 >= n:
        high = low
    return low, high


@njit(cache=True, error_model="numpy")
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


@njit(cache=True, error_model="numpy")
def _binarise(x, pos, neg, score, threshold, local_threshold):
    """Jump flags from the first difference (recomputed from ``x``) and local-jump flags."""
    n = x.shape[0]
    if n == 0:
        return
    pos[0] = 1.0 if 0.0 > threshold else 0.0
    neg[0] = 1.0 if 0.0 < -threshold else 0.0
    score[0] = 1.0 if score[0] > local_threshold else 0.0
    for t in range(1, n):
        d = x[t] - x[t - 1]
        pos[t] = 1.0 if d > threshold else 0.0
        neg[t] = 1.0 if d < -threshold else 0.0
        score[t] = 1.0 if score[t] > local_threshold else 0.0


@njit(cache=True, error_model="numpy")
def _column_features(x, window, local_window, threshold, local_threshold, pos, neg, rho, local):
    """The four features of one column with given thresholds (``neg`` is scratch first)."""
    _raw_features(x, window, local_window, rho, local, neg)
    _binarise(x, pos, neg, local, threshold, local_threshold)


@njit(cache=True, error_model="numpy")
def _fit_column(x, window, local_window, delta_percentile, local_percentile, pos, neg, rho, local):
    """The thresholds and four features of one column; returns the thresholds."""
    _raw_features(x, window, local_window, rho, local, neg)
    threshold = percentile(neg, delta_percentile)
    local_threshold = percentile(local, local_percentile)
    _binarise(x, pos, neg, local, threshold, local_threshold)
    return threshold, local_threshold


@njit(cache=True, parallel=True, error_model="numpy")
def _columns_features(series, window, local_window, jump_threshold, local_threshold, columns):
    for j in prange(series.shape[0]):
        base = 4 * j
        _column_features(
            series[j],
            window,
            local_window,
            jump_threshold[j],
            local_threshold[j],
            columns[base],
            columns[base + 1],
            columns[base + 2],
            columns[base + 3],
        )


@njit(cache=True, parallel=True, error_model="numpy")
def _fit_columns(series, window, local_window, delta_percentile, local_percentile, columns, jump, local):
    for j in prange(series.shape[0]):
        base = 4 * j
        jump[j], local[j] = _fit_column(
            series[j],
            window,
            local_window,
            delta_percentile,
            local_percentile,
            columns[base],
            columns[base + 1],
            columns[base + 2],
            columns[base + 3],
        )


@njit(cache=True, parallel=True, error_model="numpy")
def _transpose_rows(X, series):
    """``series[j, t] = X[t, j]``, by chunks of rows: each row is read once, whole."""
    n, p = X.shape
    n_chunks = (n + _CHUNK_ROWS - 1) // _CHUNK_ROWS
    for c in prange(n_chunks):
        first = c * _CHUNK_ROWS
        for t in range(first, min(first + _CHUNK_ROWS, n)):
            for j in range(p):
                series[j, t] = X[t, j]


def _rows(X, out):
    """Series and output columns as rows of C-contiguous arrays.

    Contiguous rows let the kernels run unit-stride, vectorisable loops whatever the
    shape. Fortran-ordered input is used as it is (a view); any other layout is transposed
    by ``_transpose_rows``, in parallel and cache-friendly, which is several times faster
    than NumPy's copy to Fortran order. ``out`` must be Fortran-ordered, which the
    estimator guarantees.
    """
    series = X.T
    if not series.flags.c_contiguous:
        series = np.empty(series.shape)
        _transpose_rows(X, series)
    columns = out.T
    if not columns.flags.c_contiguous:
        raise ValueError("out must be a Fortran-ordered array")
    return series, columns


def lambda3_features(X, window, local_window, jump_threshold, local_threshold, out):
    """Write the four Lambda³ features of every column of ``X`` into ``out``.

    ``out`` has shape ``(n, 4 * p)`` in Fortran order; column ``4j + k`` holds feature ``k``
    of input column ``j`` (ΔΛC⁺, ΔΛC⁻, ρT, local jump). Thresholds are per column. Columns
    run in parallel; a single column skips the parallel region and its thread start-up.
    """
    series, columns = _rows(X, out)
    jump_threshold = np.ascontiguousarray(jump_threshold, dtype=np.float64)
    local_threshold = np.ascontiguousarray(local_threshold, dtype=np.float64)
    if series.shape[0] == 1:
        _column_features(series[0], window, local_window, jump_threshold[0], local_threshold[0], *columns)
    else:
        _columns_features(series, window, local_window, jump_threshold, local_threshold, columns)


def fit_lambda3_features(X, window, local_window, delta_percentile, local_percentile, out):
    """Learn the per-column thresholds on ``X`` and write its features into ``out``.

    ``out`` as in :func:`lambda3_features`. Returns ``(jump_threshold, local_threshold)``,
    each of length ``p``.
    """
    series, columns = _rows(X, out)
    n_cols = series.shape[0]
    jump = np.empty(n_cols)
    local = np.empty(n_cols)
    if n_cols == 1:
        jump[0], local[0] = _fit_column(
            series[0], window, local_window, delta_percentile, local_percentile, *columns
        )
    else:
        _fit_columns(series, window, local_window, delta_percentile, local_percentile, columns, jump, local)
    return jump, local
