"""Periodic columns through a steady filter in closed form: the likelihood kernel's fast path.

A season's Fourier columns (and any regressor that repeats exactly, such as hour-of-day
dummies) have a period ``p``. Where the filter's variances have reached their fixed point
(the same gain ``g = K``, ``c = 1 - K`` and ``f = 1 / √F`` at every step of a stretch, bit for
bit: see :func:`~sklearn_lambda3.bayes._kalman._kernels._variances`), each such column's
filter is linear and time-invariant with a periodic input, so everything the likelihood and its
gradient need from it over ``K`` whole periods follows from one period of work:

* **forward**: with ``m`` the column's mean before the stretch and ``ρ`` its change over the
  first period, the scaled innovation at phase ``u`` of period ``k`` is
  ``e = E₀[u] + h c^u S_k`` with ``E₀`` the first period's innovations, ``h = -f ρ`` and
  ``S_k = Σ_{i<k} c^{pi}``; the mean after the stretch is ``m + ρ S_K``. These sums stay
  bounded by ``k`` as ``c → 1``, where the steady periodic solution itself would not.
* **Gram**: the columns' inner products with each other and with the other columns come from
  the tables and sums by phase of the other columns' innovations;
* **transform** ``a = e T`` (the periodic columns first in the variables' order, so their
  transformed rows keep the same form: a table and a multiple of ``ψ_t = c^u S_k``);
* **backward**: the adjoint of each mean, ``m̄_{t-1} = c m̄_t + f a_t``, is a table, the
  adjoint coming in times ``c`` to the distance, a backward ``S`` and the adjoint of ``ψ``
  (itself in closed form), so each step's ``Σ_j m̄_j a_j`` and ``Σ_j a_j²`` are a few tables
  by phase weighted by numbers by period, whatever the number of periodic columns;
* **the variances' adjoints**: their recursion is linear with constant coefficients over the
  stretch, so the periodic columns' share of it is sums of those tables and weights too (with
  constant tension; otherwise their share is added at each step).

The stretches are whole periods (at least :data:`MIN_PERIODS`); the steps outside them go
through the kernel's general filter.
"""

import numpy as np
from numba import njit

# A steady stretch is taken in whole periods of the periodic columns, at least this many.
MIN_PERIODS = 2

# The longest common period of the periodic columns looked for.
LONGEST_PERIOD = 2048

_WIDTH = 4  # the kernel's rows of columns filtered side by side (see _kernels._WIDTH)


@njit(cache=True)
def _minimal_period(x, longest):
    """The least ``p <= longest`` with ``x[t] == x[t - p]`` for every ``t``, or 0.

    A column that repeats with period ``p`` and is not constant changes value at least once in
    any ``p`` consecutive steps, so with ``d`` changes ``p > (n - 1) / (d + 1)``: a step dummy
    (one change) is ruled out at once rather than compared at every lag.
    """
    n = x.shape[0]
    changes = 0
    for t in range(1, n):
        changes += x[t] != x[t - 1]
    if changes == 0:
        return 1 if longest >= 1 else 0
    for p in range((n - 1) // (changes + 1) + 1, longest + 1):
        t = p
        while t < n and x[t] == x[t - p]:
            t += 1
        if t == n:
            return p
    return 0


@njit(cache=True)
def periodic_layout(design):
    """``layout``: ``[period, n_periodic, order…]`` of the design's columns for the kernel.

    The columns that repeat exactly with a common period (the least common multiple of their
    own, at most :data:`LONGEST_PERIOD` and a quarter of the steps) come first in ``order``,
    then the others, each group in the design's order; ``period`` is 0 if none repeats.
    """
    n, k = design.shape
    longest = min(LONGEST_PERIOD, n // (2 * MIN_PERIODS))
    periodic = np.zeros(k, dtype=np.bool_)
    period = 1
    n_periodic = 0
    for j in range(k):
        own = _minimal_period(design[:, j], longest)
        if own == 0:
            continue
        a, b = period, own
        while b:
            a, b = b, a % b
        common = period // a * own
        if common <= longest:
            period = common
            periodic[j] = True
            n_periodic += 1
    layout = np.empty(2 + k, dtype=np.int64)
    layout[0] = period if n_periodic else 0
    layout[1] = n_periodic
    position = 2
    for wanted in (True, False):
        for j in range(k):
            if periodic[j] == wanted:
                layout[position] = j
                position += 1
    return layout


@njit(cache=True)
def variable_rows(layout, k):
    """Row of the kernel's columns that holds each variable (the ``k`` coefficients in
    ``layout``'s order, then y): the periodic ones from row 0, the others from the next
    multiple of four, each block padded to a multiple of four (filtered four at a time)."""
    n_periodic = layout[1]
    periodic_rows = _WIDTH * ((n_periodic + _WIDTH - 1) // _WIDTH)
    rows = np.empty(k + 1, dtype=np.int64)
    for v in range(k + 1):
        rows[v] = v if v < n_periodic else periodic_rows + v - n_periodic
    return rows


# Steps compared at a time by steady_segments: a block that repeats its first step's
# variances throughout is one branch-free pass of comparisons.
_SCAN_BLOCK = 256


@njit(cache=True)
def repeats(bits, value):
    """Whether every entry of ``bits`` is ``value``: XORs OR-ed together, without a branch."""
    differ = 0
    for i in range(bits.shape[0]):
        differ |= bits[i] ^ value
    return differ == 0


@njit(cache=True)
def steady_segments(inv_sqrt_f, gain, keep, period, segments):
    """Fill ``segments[s] = (start, stop)`` with the stretches of whole periods (at least
    :data:`MIN_PERIODS`) over which the observed steps' gain, ``1 - K`` and ``1/√F`` are
    the same bit for bit; return how many."""
    n = gain.shape[0]
    # Compared as bits: a block's XORs with its first step OR-ed together are 0 if it repeats it.
    gain_bits, keep_bits, scale_bits = gain.view(np.int64), keep.view(np.int64), inv_sqrt_f.view(np.int64)
    count = 0
    t = 0
    while t < n:
        start = t
        t += 1
        if inv_sqrt_f[start] == 0.0:  # a missing step
            continue
        g, c, f = gain_bits[start], keep_bits[start], scale_bits[start]
        probe = start + MIN_PERIODS * period - 1
        if probe >= n or gain_bits[probe] != g or keep_bits[probe] != c or scale_bits[probe] != f:
            continue  # not steady as far as a stretch needs
        while (
            t + _SCAN_BLOCK <= n
            and repeats(gain_bits[t : t + _SCAN_BLOCK], g)
            and repeats(keep_bits[t : t + _SCAN_BLOCK], c)
            and repeats(scale_bits[t : t + _SCAN_BLOCK], f)
        ):
            t += _SCAN_BLOCK
        while t < n and gain_bits[t] == g and keep_bits[t] == c and scale_bits[t] == f:
            t += 1
        whole = (t - start) // period
        if whole >= MIN_PERIODS:
            segments[count, 0] = start
            segments[count, 1] = start + whole * period
            count += 1
    return count


@njit(cache=True)
def segment_powers(c, period, periods):
    """``c^u`` for ``u <= period``, ``S_k = Σ_{i<k} c^{pi}`` and ``c^{pk}`` for ``k <= periods``."""
    powers = np.empty(period + 1)
    powers[0] = 1.0
    for u in range(period):
        powers[u + 1] = powers[u] * c
    sums = np.empty(periods + 1)
    period_powers = np.empty(periods + 1)
    sums[0] = 0.0
    period_powers[0] = 1.0
    for k in range(periods):
        sums[k + 1] = 1.0 + powers[period] * sums[k]
        period_powers[k + 1] = period_powers[k] * powers[period]
    return powers, sums, period_powers


@njit(cache=True)
def periodic_forward(columns, n_periodic, start, period, g, c, f, sum_all, state, first, shift, first_means):
    """The periodic columns' filter over a steady stretch from ``start`` (``sum_all = S_K``).

    ``first[j, u]`` gets column ``j``'s innovations over the first period, ``first_means[j, u]``
    its means there, ``shift[j]`` its ``h = -f ρ``, and ``state[j]`` (its mean before the
    stretch) becomes its mean after it. The mean after phase ``u`` of period ``k`` is
    ``first_means[j, u] + ρ c^{u+1} S_k``.
    """
    for j in range(n_periodic):
        x = columns[j]
        before = state[j]
        m = before
        for u in range(period):
            a = x[start + u]
            first[j, u] = (a - m) * f
            m = c * m + g * a
            first_means[j, u] = m
        change = m - before
        shift[j] = -f * change
        state[j] = before + change * sum_all


@njit(cache=True, fastmath={"reassoc", "contract"})
def periodic_gram(innovations, rows, n_periodic, start, periods, period, powers, sums, first, shift, G):
    """Add a steady stretch's share of the Gram matrix's entries of the periodic columns (the
    first ``n_periodic`` variables) to ``G``: from their tables, and from two sums by phase of
    each other variable's innovations (plain, and weighted by ``S_k``)."""
    cols = G.shape[0]
    sum_s = 0.0
    sum_s2 = 0.0
    for k in range(periods):
        sum_s += sums[k]
        sum_s2 += sums[k] * sums[k]
    squares = 0.0
    for u in range(period):
        squares += powers[u] * powers[u]
    for i in range(n_periodic):
        for j in range(i, n_periodic):
            cross = 0.0
            along_i = 0.0
            along_j = 0.0
            for u in range(period):
                cross += first[i, u] * first[j, u]
                along_i += first[i, u] * powers[u]
                along_j += first[j, u] * powers[u]
            G[i, j] += (
                periods * cross
                + sum_s * (shift[j] * along_i + shift[i] * along_j)
                + shift[i] * shift[j] * squares * sum_s2
            )
    phase = np.empty(period)
    weighted = np.empty(period)
    for other in range(n_periodic, cols):
        row = innovations[rows[other]]
        phase[:] = 0.0
        weighted[:] = 0.0
        for k in range(periods):
            base = start + k * period
            s_k = sums[k]
            values = row[base : base + period]
            for u in range(period):
                phase[u] += values[u]
                weighted[u] += s_k * values[u]
        along = 0.0
        for u in range(period):
            along += powers[u] * weighted[u]
        for i in range(n_periodic):
            total = 0.0
            for u in range(period):
                total += first[i, u] * phase[u]
            G[i, other] += total + shift[i] * along
    return start + periods * period


@njit(cache=True, fastmath={"contract"})
def periodic_transform(innovations, rows, T, n_periodic, start, periods, period, powers, sums, first, shift):
    """``e T`` over a steady stretch: adds the periodic columns' share to the other variables'
    rows (already transformed among themselves there), then turns ``first`` and ``shift`` into
    the transformed periodic columns' table and multiple of ``ψ``, in place."""
    cols = T.shape[0]
    table = np.empty(period)
    for j in range(n_periodic, cols):
        table[:] = 0.0
        along = 0.0
        for i in range(n_periodic):
            coefficient = T[i, j]
            for u in range(period):
                table[u] += coefficient * first[i, u]
            along += coefficient * shift[i]
        for k in range(periods):
            base = start + k * period
            weight = along * sums[k]
            row = innovations[rows[j], base : base + period]
            for u in range(period):
                row[u] += table[u] + weight * powers[u]
    for j in range(n_periodic - 1, -1, -1):
        diagonal = T[j, j]
        for u in range(period):
            first[j, u] *= diagonal
        shift[j] *= diagonal
        for i in range(j):
            coefficient = T[i, j]
            for u in range(period):
                first[j, u] += coefficient * first[i, u]
            shift[j] += coefficient * shift[i]


# Tables of periodic_adjoint_tables: the first _DOT_TABLES make a step's Σ_j m̄_j a_j, the rest Σ_j a_j².
_DOT_TABLES = 7
_TABLES = 10


@njit(cache=True, fastmath={"contract"})
def periodic_adjoint_tables(
    n_periodic, periods, period, c, f, powers, sums, period_powers, first, shift, state
):
    """The periodic columns' adjoints backwards over a steady stretch, in closed form.

    ``first`` and ``shift`` hold the transformed columns ``a = A₀[u] + g ψ_t`` (see
    :func:`periodic_transform`); ``state[j]`` (the adjoint after the stretch) becomes the
    adjoint before it. With ``b`` coming in, the adjoint at phase ``u`` of period ``k`` is
    ``Y[u] + b λ_t + Z χ_t + g ψ̄_t``: ``Y`` the table of one period's input, ``Z`` one
    period's whole input, ``λ_t = c^{stop-1-t}``, ``χ_t = c^{p-1-u} S_{K-1-k}``, and ``ψ̄``
    the adjoint of ``ψ`` alone. Each of these is a table by phase times a number by period,
    so the step's ``Σ_j m̄_j a_j`` and ``Σ_j a_j²`` are too: returns ``(tables, weights)``,
    shaped ``(10, period)`` and ``(10, periods)``, with ``Σ_j m̄_j a_j`` at phase ``u`` of
    period ``k`` the sum over ``m < 7`` of ``weights[m, k] tables[m, u]`` and ``Σ_j a_j²`` the
    sum over the other three.
    """
    p, K = period, periods
    after = np.empty((n_periodic, p))
    whole = np.empty(n_periodic)
    for j in range(n_periodic):
        acc = 0.0
        after[j, p - 1] = 0.0
        for u in range(p - 1, 0, -1):
            acc = c * acc + f * first[j, u]
            after[j, u - 1] = acc
        whole[j] = c * acc + f * first[j, 0]
    # squares[m] = Σ_{w<m} c^{2w}: one period of ψ = c^u S_k seen from its end is f S_k squares[p].
    squares = np.empty(p + 1)
    squares[0] = 0.0
    for m in range(p):
        squares[m + 1] = squares[m] + powers[m] * powers[m]
    c_p = powers[p]
    psi_end = np.empty(K)  # ψ̄ at the last step of each period
    psi_end[K - 1] = 0.0
    for k in range(K - 1, 0, -1):
        psi_end[k - 1] = c_p * psi_end[k] + f * sums[k] * squares[p]
    # Σ_j over the columns of the tables the adjoint and the input share.
    t1 = np.zeros(p)
    t2 = np.zeros(p)
    t3 = np.zeros(p)
    t4 = np.zeros(p)
    t5 = np.zeros(p)
    q0 = np.zeros(p)
    s1 = s2 = s3 = 0.0
    for j in range(n_periodic):
        b, z, g = state[j], whole[j], shift[j]
        for u in range(p):
            a = first[j, u]
            t1[u] += after[j, u] * a
            t2[u] += b * a
            t3[u] += z * a
            t4[u] += g * a
            t5[u] += g * after[j, u]
            q0[u] += a * a
        s1 += b * g
        s2 += z * g
        s3 += g * g
    # Per step: t1 + λ t2 + χ t3 + ψ̄ t4 + ψ t5 + ψ (λ s1 + χ s2 + ψ̄ s3), with λ, χ, ψ and ψ̄
    # each a table by phase (tail = c^{p-1-u}, powers, and ψ̄'s own) times a number by period;
    # and q0 + 2 ψ t4 + ψ² s3.
    tables = np.empty((_TABLES, p))
    for u in range(p):
        tail = powers[p - 1 - u]
        own = f * powers[u + 1] * squares[p - 1 - u]  # ψ̄ = tail ψ̄_end + S_k own
        tables[0, u] = t1[u]
        tables[1, u] = tail * t2[u]
        tables[2, u] = tail * t3[u]
        tables[3, u] = tail * t4[u]
        tables[4, u] = own * t4[u] + powers[u] * t5[u]
        tables[5, u] = powers[u] * tail
        tables[6, u] = s3 * powers[u] * own
        tables[7, u] = q0[u]
        tables[8, u] = 2.0 * powers[u] * t4[u]
        tables[9, u] = s3 * powers[u] * powers[u]
    weights = np.empty((_TABLES, K))
    for k in range(K):
        back = K - 1 - k
        incoming, remaining, psi_k, s_k = period_powers[back], sums[back], psi_end[k], sums[k]
        weights[0, k] = 1.0
        weights[1, k] = incoming
        weights[2, k] = remaining
        weights[3, k] = psi_k
        weights[4, k] = s_k
        weights[5, k] = s_k * (incoming * s1 + remaining * s2 + psi_k * s3)
        weights[6, k] = s_k * s_k
        weights[7, k] = 1.0
        weights[8, k] = s_k
        weights[9, k] = s_k * s_k
    psi_before = c_p * psi_end[0]
    for j in range(n_periodic):
        state[j] = period_powers[K] * state[j] + whole[j] * sums[K] + shift[j] * psi_before
    return tables, weights


@njit(cache=True, fastmath={"contract"})
def periodic_backward(start, period, tables, weights, gain_dot, square):
    """Add the periodic columns' ``Σ_j m̄_j a_j`` and ``Σ_j a_j²`` (see
    :func:`periodic_adjoint_tables`) to ``gain_dot`` and ``square`` at each step of the stretch."""
    combined = np.empty(period)
    for k in range(weights.shape[1]):
        lo, hi = start + k * period, start + (k + 1) * period
        _add_weighted(tables, weights[:, k], 0, _DOT_TABLES, combined, gain_dot[lo:hi])
        _add_weighted(tables, weights[:, k], _DOT_TABLES, _TABLES, combined, square[lo:hi])


@njit(cache=True, fastmath={"contract"})
def _add_weighted(tables, weights, first, last, combined, out):
    """``out += Σ_{first <= m < last} weights[m] tables[m]``, summed in ``combined`` first (a
    fresh array the loop can vectorise over)."""
    for u in range(combined.shape[0]):
        total = 0.0
        for m in range(first, last):
            total += weights[m] * tables[m, u]
        combined[u] = total
    for u in range(combined.shape[0]):
        out[u] += combined[u]


@njit(cache=True, fastmath={"reassoc", "contract"})
def periodic_adjoint(tables, weights, period, ratio, dot_share, square_share, dot_direct):
    """The periodic columns' share of the variances' adjoint recursion over a steady stretch.

    There the recursion is linear with constant coefficients: each step adds
    ``X_t = dot_share Σ_j m̄_j a_j + square_share Σ_j a_j²`` to ``p̄`` after multiplying it by
    ``ratio``. Returns, for the periodic columns' share alone (see
    :func:`periodic_adjoint_tables`), ``p̄`` before the stretch, ``Σ_t p̄_t`` over its steps
    (``p̄_t`` after step ``t``) and ``Σ_t (dot_direct Σ_j m̄_j a_j + square_share Σ_j a_j²)``:
    sums by phase times sums by period, ``Σ_{t'>=t} ratio^{t'-t}`` written as
    ``g_u + ratio^{u+1} W S'_k`` (``g_u = Σ_{i<=u} ratio^i``, ``W = g_{p-1}``,
    ``S'_k = Σ_{j<k} ratio^{jp}``), positive terms only.
    """
    p, K = period, weights.shape[1]
    # By phase: ratio^u and g_u; by period: ratio^{kp} and S'_k.
    power, partial = np.empty(p), np.empty(p)
    value, running = 1.0, 0.0
    for u in range(p):
        running += value
        power[u], partial[u] = value, running
        value *= ratio
    whole, period_ratio = running, value
    decay, before = np.empty(K), np.empty(K)
    value, running = 1.0, 0.0
    for k in range(K):
        decay[k], before[k] = value, running
        running = 1.0 + period_ratio * running
        value *= period_ratio
    start_value = summed = direct = 0.0
    for m in range(_TABLES):
        row = tables[m]
        plain = decayed = gathered = 0.0
        for u in range(p):
            plain += row[u]
            decayed += power[u] * row[u]
            gathered += partial[u] * row[u]
        total = early = late = 0.0
        ws = weights[m]
        for k in range(K):
            w = ws[k]
            total += w
            early += decay[k] * w
            late += before[k] * w
        share = dot_share if m < _DOT_TABLES else square_share
        # Σ_u ratio^{u+1} row[u] = ratio × decayed.
        start_value += share * early * decayed
        summed += share * (total * gathered + whole * late * ratio * decayed)
        direct += (dot_direct if m < _DOT_TABLES else square_share) * total * plain
    return start_value, summed, direct
