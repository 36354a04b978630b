"""Numba kernels of the dynamic Lambda³ model: Kalman filter, likelihood, exact draws.

The dynamic model in standardised units is

    y_t = a_t + w_t · β + ε_t,    ε_t ~ Normal(0, σ_t²),  σ_t = σ_base + σ_scale ρT_t,
    a_t = a_{t-1} + η_t,           η_t ~ Normal(0, q_t),   a_0 ~ Normal(0, q_0),
    β ~ Normal(0, diag(s²)).

A change point at ``c`` adds a step δ ~ Normal(0, s_δ²) to the level from ``c`` on, which is
exactly an extra innovation variance there: ``q_c = τ² + s_δ²``. A NaN in ``y`` is a step
that is not observed: the filter only predicts there (the level's variance grows by ``q_t``,
its mean stays), with no innovation, no likelihood term and no row of the normal matrix, and
the backward pass samples the level through the gap from those predicted moments. The level, the steps and
the coefficients are integrated out exactly (de Jong's augmented filter): one filter pass
over the columns ``[w_1, …, w_k, y]`` shares the gains, and β is then a small Gaussian
regression on the scaled innovations. Its normal matrix ``A = Σ e eᵀ + diag(1/s²)`` is
kept in square-root form: the Cholesky factor of the Gram matrix where no pivot lost its
digits to cancellation, otherwise a triangular factor of the scaled innovations under the
prior rows (:func:`_gram_factor`, else :func:`_stacked_root`), so it is positive definite for any
design, collinear or constant columns and σ at the noise floor included; a constant
(centred) column leaves its coefficient exactly at its prior. The likelihood is one forward
pass in float64 (O(n k²) with the factor), and its gradient with respect to (τ, σ_base,
σ_scale) one backward pass through the same filter (see :func:`_loglik_and_grad`), so NUTS
gets the gradient with the value. The sampler calls it as an XLA FFI custom call with a
custom VJP (see :mod:`sklearn_lambda3.bayes._kalman._bridge`);
:mod:`sklearn_lambda3.bayes._kalman._jax` is the same likelihood in JAX, for accelerators.

Columns that repeat exactly (a season's Fourier terms) come first in the variables' order
(:func:`likelihood_columns`), and wherever the variances have reached their fixed point they
go through the filter, the normal matrix, the transform and the backward pass in closed form,
one period's work per stretch (:mod:`sklearn_lambda3.bayes._kalman._periodic`): a season then
costs little more than the other columns' work at each step.
"""

import math

import numpy as np
from numba import njit, prange

from ._periodic import (
    MIN_PERIODS,
    periodic_adjoint,
    periodic_adjoint_tables,
    periodic_backward,
    periodic_forward,
    periodic_gram,
    periodic_layout,
    periodic_transform,
    segment_powers,
    steady_segments,
    variable_rows,
)
from ._periodic import (
    repeats as _repeats,
)

N_PARAMS = 3  # tau, sigma_base, sigma_scale
_LOG_2PI = math.log(2.0 * math.pi)

# Rows of scaled innovations rotated into the triangular factor at a time (see _stacked_root).
_ROOT_BLOCK = 512

# Columns of the filter run side by side: four independent recursions per step, each in a
# register, overlap in the pipeline where one alone waits on its multiply-add.
_WIDTH = 4

# Chunks of the exact draws that run in parallel, each with its own work arrays.
_DRAW_CHUNKS = 64

# Factors of F_t multiplied together before one logarithm: with F_t in [1e-12, 1e38] (the
# noise floor's square; τ below 1e19) their product stays a normal float64.
_LOG_BATCH = 8


@njit(cache=True, fastmath={"reassoc", "contract"})
def _dot(a, b):
    """``a · b`` of two 1-D arrays, summed in SIMD lanes (not BLAS: its threads cost more here)."""
    total = 0.0
    for i in range(a.shape[0]):
        total += a[i] * b[i]
    return total


@njit(cache=True)
def _householder_root(M, rows):
    """The upper-triangular ``R`` (non-negative diagonal) with ``RᵀR = MᵀM`` over the first
    ``rows`` rows of ``M``, which is overwritten.

    ``M`` is stored by columns (``M[j]`` is column ``j``). Householder's QR decomposition
    without ``Q``, in inner products and updates of whole columns. This is the square-root
    form of ``MᵀM``: its conditioning is that of ``M``, not of its square (forming ``Σ e eᵀ``
    directly loses ``eps · |e|²``, which at σ near the noise floor, where the scaled
    innovations are ~10⁶, exceeds the prior precision that keeps ``A`` definite).
    """
    cols = M.shape[0]
    R = np.zeros((cols, cols))
    for j in range(cols):
        x = M[j, j:rows]
        square = _dot(x, x)
        norm = math.sqrt(square)
        if norm == 0.0:  # nothing below the diagonal: the row is R's as it stands
            for m in range(j, cols):
                R[j, m] = M[m, j]
            continue
        head = M[j, j]
        alpha = -norm if head >= 0.0 else norm
        # v = x - alpha e_1: vᵀv = 2 (‖x‖² - alpha x_1) and vᵀM_m = xᵀM_m - alpha M_m[j]; v
        # overwrites x, and each later column becomes M_m - 2 (vᵀM_m / vᵀv) v.
        scale = 1.0 / (square - alpha * head)
        x[0] = head - alpha
        for m in range(j + 1, cols):
            other = M[m, j:rows]
            coef = scale * _dot(x, other)
            for i in range(rows - j):
                other[i] -= coef * x[i]
        sign = 1.0 if alpha > 0.0 else -1.0
        R[j, j] = abs(alpha)
        for m in range(j + 1, cols):
            R[j, m] = sign * M[m, j]
    return R


@njit(cache=True)
def _stacked_root(prior_scale, innovations, rows, block):
    """``R`` with ``RᵀR = diag(1/s², 0) + Σ_t e_t e_tᵀ`` over the columns ``e_t`` of ``innovations``.

    ``innovations`` is stored by columns of the filter: variable ``j`` (``k`` coefficients,
    then y) is row ``rows[j]`` (see :func:`likelihood_columns`; other rows are padding and
    not read). The steps go through :func:`_householder_root` a block at a time, under the
    factor so far (``block`` is its (k + 1, k + 1 + _ROOT_BLOCK) buffer): the work of one QR
    decomposition of the whole stack, in memory that stays in cache.
    """
    k = prior_scale.shape[0]
    cols, n = k + 1, innovations.shape[1]
    R = np.zeros((cols, cols))
    for i in range(k):
        R[i, i] = 1.0 / prior_scale[i]
    for start in range(0, n, _ROOT_BLOCK):
        stop = min(start + _ROOT_BLOCK, n)
        for j in range(cols):
            for i in range(cols):
                block[j, i] = R[i, j]
            block[j, cols : cols + stop - start] = innovations[rows[j], start:stop]
        R = _householder_root(block, cols + stop - start)
    return R


# A column whose Schur complement in the Gram matrix keeps less than this share of its diagonal
# has lost too many digits to cancellation there (eps · cols / share of a log det term): the
# factor is then recomputed from the innovations themselves (_stacked_root).
_GRAM_PIVOT_SHARE = 1e-3

# Steps of the Gram sums at a time: the rows of a block stay in the L1 cache for every pair.
_GRAM_BLOCK = 256


@njit(cache=True, fastmath={"reassoc", "contract"})
def _add_gram(innovations, rows, first, last, start, stop, G):
    """Add ``Σ_t e_i,t e_j,t`` over the steps ``start … stop - 1`` to ``G[i, j]`` for the
    variables ``first <= i < last`` and every ``j >= i`` (the upper triangle; variable ``j`` is
    row ``rows[j]`` of ``innovations``), a block of steps at a time."""
    cols = G.shape[0]
    for lo in range(start, stop, _GRAM_BLOCK):
        hi = min(lo + _GRAM_BLOCK, stop)
        for i in range(first, last):
            a = innovations[rows[i], lo:hi]
            for j in range(i, cols):
                G[i, j] += _dot(a, innovations[rows[j], lo:hi])


@njit(cache=True)
def _gram_factor(G, prior_scale):
    """The Cholesky factor ``R`` of ``G + diag(1/s², 0)`` (``G`` a Gram matrix, its upper
    triangle), and whether every pivot kept at least :data:`_GRAM_PIVOT_SHARE` of its diagonal
    (otherwise ``R`` is not finished and the factor must come from the innovations)."""
    k = prior_scale.shape[0]
    cols = k + 1
    for i in range(k):
        G[i, i] += 1.0 / (prior_scale[i] * prior_scale[i])
    R = np.zeros((cols, cols))
    for j in range(cols):
        for i in range(j + 1):
            acc = G[i, j]
            for m in range(i):
                acc -= R[m, i] * R[m, j]
            if i < j:
                R[i, j] = acc / R[i, i]
            elif acc > _GRAM_PIVOT_SHARE * G[j, j] and acc > 0.0:
                R[j, j] = math.sqrt(acc)
            elif j == k and G[j, j] == 0.0:
                R[j, j] = 0.0  # y's innovations all 0: nothing to explain, nothing lost
            else:
                return R, False
    return R, True


@njit(cache=True)
def _upper_inverse(R, k):
    """Inverse of the leading ``k × k`` block of the upper-triangular ``R`` (positive diagonal)."""
    inv = np.zeros((k, k))
    for j in range(k):
        inv[j, j] = 1.0 / R[j, j]
        for i in range(j - 1, -1, -1):
            acc = 0.0
            for m in range(i + 1, j + 1):
                acc += R[i, m] * inv[m, j]
            inv[i, j] = -acc / R[i, i]
    return inv


@njit(cache=True)
def _variances(
    y,
    change,
    level0_var,
    step_var,
    tension,
    tau,
    sigma_base,
    sigma_scale,
    noise_floor,
    predicted,
    inv_sqrt_f,
    gain,
    keep,
):
    """The level's variances, shared by every column of the filter.

    Fills ``predicted[t]`` (``P_t``, the level's predicted variance), ``inv_sqrt_f[t]``
    (``1 / √F_t``), ``gain[t]`` (``K_t = P_t / F_t``) and ``keep[t]`` (``1 - K_t = r_t / F_t``);
    at a missing step (prediction only: no innovation, no likelihood term) the last three are
    0, 0 and 1, so the columns pass through it unchanged. Returns ``Σ log F_t``, the number
    of observed steps and the last filtered variance.
    """
    n = y.shape[0]
    tau2 = tau * tau
    p = 0.0
    log_f = 0.0
    product = 1.0
    n_obs = 0
    # The previous observed step's variances, for the steady state (see below).
    q_last = r_last = p_last = p_before = p_before2 = -1.0
    P = F = inv_sqrt = K = rest = 0.0
    for t in range(n):
        q = (level0_var if t == 0 else tau2) + change[t] * step_var
        if math.isnan(y[t]):
            p += q
            predicted[t] = p
            inv_sqrt_f[t] = 0.0
            gain[t] = 0.0
            keep[t] = 1.0
            q_last = -1.0
            continue
        s = sigma_base + sigma_scale * tension[t] + noise_floor
        r = s * s
        if not (q == q_last and r == r_last and p == p_last):
            # Otherwise the variances have reached their fixed point in float64 (constant q
            # and r, a few hundred steps in): this step's are the last step's, bit for bit.
            same = q == q_last and r == r_last
            if same and (p == p_before or p == p_before2):
                # The roundings cycle through two or three values a few ulps around the
                # fixed point: hold the last (a steady filter, for the periodic columns).
                p = p_last
            else:
                p_before2, p_before = (p_before, p_last) if same else (-1.0, -1.0)
                q_last, r_last, p_last = q, r, p
                P = p + q
                F = P + r
                inv = 1.0 / F
                inv_sqrt = math.sqrt(inv)
                K = P * inv
                rest = r * inv
                # p = P (1 - K) = P r / F, without the cancellation in 1 - K when P >> r.
                p = P * r * inv
        predicted[t] = P
        inv_sqrt_f[t] = inv_sqrt
        gain[t] = K
        keep[t] = rest
        product *= F
        n_obs += 1
        if n_obs % _LOG_BATCH == 0:
            log_f += math.log(product)
            product = 1.0
    return log_f + math.log(product), n_obs, p


@njit(cache=True)
def _filter_means(columns, inv_sqrt_f, gain, keep, innovations, means, first, last, start, stop, state):
    """Each column's filter with the shared gains: ``m_t = (1 - K_t) m_{t-1} + K_t x_t``.

    Over the rows ``first … last - 1`` of ``columns`` (a multiple of four apart) and the steps
    ``start … stop - 1``, from the means ``state[j]`` before ``start``, which it leaves as the
    means after ``stop - 1``. Fills ``innovations[j, t]`` (the scaled innovation
    ``(x_t - m_{t-1}) / √F_t``, 0 at a missing step) and, if it has n columns, ``means[j, t]``
    (the filtered mean after step t). Four columns at a time, each mean in a register: four
    independent multiply-adds per step.
    """
    keep_means = means.shape[1] == columns.shape[1]
    for j in range(first, last, _WIDTH):
        x0, x1, x2, x3 = columns[j], columns[j + 1], columns[j + 2], columns[j + 3]
        e0, e1, e2, e3 = innovations[j], innovations[j + 1], innovations[j + 2], innovations[j + 3]
        m0, m1, m2, m3 = state[j], state[j + 1], state[j + 2], state[j + 3]
        for t in range(start, stop):
            g, c, f = gain[t], keep[t], inv_sqrt_f[t]
            a0, a1, a2, a3 = x0[t], x1[t], x2[t], x3[t]
            e0[t] = (a0 - m0) * f
            e1[t] = (a1 - m1) * f
            e2[t] = (a2 - m2) * f
            e3[t] = (a3 - m3) * f
            m0 = c * m0 + g * a0
            m1 = c * m1 + g * a1
            m2 = c * m2 + g * a2
            m3 = c * m3 + g * a3
            if keep_means:
                means[j, t], means[j + 1, t], means[j + 2, t], means[j + 3, t] = m0, m1, m2, m3
        state[j], state[j + 1], state[j + 2], state[j + 3] = m0, m1, m2, m3


@njit(cache=True, fastmath={"contract"})
def _transform_innovations(innovations, rows, T, first, last, lowest, start, stop):
    """``e T`` in place for the variables ``first <= j < last`` over the steps ``start … stop - 1``,
    ``T`` upper triangular: variable ``j`` (row ``rows[j]``) from the variables
    ``lowest <= i <= j``, last first (so the rows it reads are not yet transformed), a block
    of steps at a time (the block's rows stay in cache)."""
    for lo in range(start, stop, _GRAM_BLOCK):
        hi = min(lo + _GRAM_BLOCK, stop)
        for j in range(last - 1, first - 1, -1):
            row = innovations[rows[j], lo:hi]
            diagonal = T[j, j]
            for t in range(hi - lo):
                row[t] *= diagonal
            for i in range(lowest, j):
                coefficient = T[i, j]
                other = innovations[rows[i], lo:hi]
                for t in range(hi - lo):
                    row[t] += coefficient * other[t]


@njit(cache=True, fastmath={"contract"})
def _backward_means(innovations, keep, inv_sqrt_f, first, last, start, stop, state, gain_dot, square):
    """The adjoints of the filter's means over the rows ``first … last - 1`` (a multiple of four
    apart) of the transformed innovations ``a = e T``, backwards over the steps
    ``stop - 1 … start``, from the adjoints ``state[j]`` after ``stop - 1`` (left as those
    before ``start``): ``m̄_{t-1} = (1 - K_t) m̄_t + a_t / √F_t``. Adds each step's
    ``Σ_j m̄_j a_j`` to ``gain_dot[t]`` and ``Σ_j a_j²`` to ``square[t]``. Four columns at a
    time, each adjoint a recursion in a register."""
    for j in range(first, last, _WIDTH):
        e0, e1, e2, e3 = innovations[j], innovations[j + 1], innovations[j + 2], innovations[j + 3]
        b0, b1, b2, b3 = state[j], state[j + 1], state[j + 2], state[j + 3]
        for t in range(stop - 1, start - 1, -1):
            c, f = keep[t], inv_sqrt_f[t]
            a0, a1, a2, a3 = e0[t], e1[t], e2[t], e3[t]
            gain_dot[t] += b0 * a0 + b1 * a1 + b2 * a2 + b3 * a3
            square[t] += a0 * a0 + a1 * a1 + a2 * a2 + a3 * a3
            b0 = c * b0 + a0 * f
            b1 = c * b1 + a1 * f
            b2 = c * b2 + a2 * f
            b3 = c * b3 + a3 * f
        state[j], state[j + 1], state[j + 2], state[j + 3] = b0, b1, b2, b3


@njit(cache=True)
def _upper_times(U, v):
    """``U v`` for an upper-triangular ``U`` (k × k, k small): a loop, not a BLAS call, whose
    threads would wake inside the sampler's own."""
    k = v.shape[0]
    out = np.zeros(k)
    for i in range(k):
        for j in range(i, k):
            out[i] += U[i, j] * v[j]
    return out


@njit(cache=True)
def likelihood_columns(y, design):
    """The columns ``[w_1 … w_k, y]`` the likelihood kernel runs over, and their layout.

    ``(columns, layout)``: ``layout`` is :func:`~._periodic.periodic_layout`'s (the columns
    that repeat exactly with a common period first, in the variables' order), and
    ``columns`` holds the variables by row (:func:`~._periodic.variable_rows`), each block
    padded with zero rows to a multiple of four: the columns are filtered four at a time (see
    :func:`_filter_means`), and the padding rows are zero columns, never read as results. A
    missing step of ``y`` is stored as 0: its gain is 0 and its scaled innovation is multiplied
    by 0, so the value is never used, and a NaN there would poison both.
    """
    n, k = design.shape
    layout = periodic_layout(design)
    rows = variable_rows(layout, k)
    n_others = k - layout[1]
    columns = np.zeros((rows[k] - n_others + _WIDTH * ((n_others + _WIDTH) // _WIDTH), n))
    for v in range(k):
        column = layout[2 + v]
        for t in range(n):
            columns[rows[v], t] = design[t, column]
    for t in range(n):
        columns[rows[k], t] = 0.0 if math.isnan(y[t]) else y[t]
    return columns, layout


@njit(cache=True)
def _filter_and_factor(
    y,
    columns,
    layout,
    scale,
    change,
    level0_var,
    step_var,
    tension,
    tau,
    sigma_base,
    sigma_scale,
    noise_floor,
    work,
    means,
    segments,
    first,
    shift,
    first_means,
    block,
    state,
):
    """The forward pass of :func:`_loglik_and_grad` and of the exact draws: the variances, the
    columns' filters and the triangular factor ``R`` of ``diag(1/s², 0) + Σ_t e_t e_tᵀ`` in the
    variables' order (``scale``: the prior scales in that order).

    Returns ``(Σ log F_t, observed steps, last filtered variance, steady stretches, R)`` and
    leaves the columns' last means in ``state`` (by row of ``columns``). The periodic columns go
    through the steady stretches in closed form (:mod:`._periodic`), whose tables stay in
    ``first``, ``shift`` and ``first_means`` (``segments`` holds the stretches). With
    ``means`` of n columns, every column's means are kept there, except the periodic columns'
    inside the stretches (their tables hold those).
    """
    k = scale.shape[0]
    cols, n = k + 1, columns.shape[1]
    height = columns.shape[0]
    innovations = work[:height]
    predicted, inv_sqrt_f, gain = work[height], work[height + 1], work[height + 2]
    keep = work[height + 3]
    period, n_periodic = layout[0], layout[1]
    rows = variable_rows(layout, k)
    periodic_rows = rows[k] - (k - n_periodic)
    log_f, n_obs, last_variance = _variances(
        y,
        change,
        level0_var,
        step_var,
        tension,
        tau,
        sigma_base,
        sigma_scale,
        noise_floor,
        predicted,
        inv_sqrt_f,
        gain,
        keep,
    )
    count = steady_segments(inv_sqrt_f, gain, keep, period, segments) if n_periodic else 0
    state[:] = 0.0
    _filter_means(columns, inv_sqrt_f, gain, keep, innovations, means, periodic_rows, height, 0, n, state)
    while True:
        G = np.zeros((cols, cols))
        _add_gram(innovations, rows, n_periodic, cols, 0, n, G)
        cursor = 0
        for s in range(count + 1):
            stop = segments[s, 0] if s < count else n
            _filter_means(
                columns,
                inv_sqrt_f,
                gain,
                keep,
                innovations,
                means,
                0,
                periodic_rows,
                cursor,
                stop,
                state,
            )
            _add_gram(innovations, rows, 0, n_periodic, cursor, stop, G)
            if s < count:
                periods = (segments[s, 1] - stop) // period
                powers, sums, _ = segment_powers(keep[stop], period, periods)
                periodic_forward(
                    columns,
                    n_periodic,
                    stop,
                    period,
                    gain[stop],
                    keep[stop],
                    inv_sqrt_f[stop],
                    sums[periods],
                    state,
                    first[s],
                    shift[s],
                    first_means[s],
                )
                cursor = periodic_gram(
                    innovations, rows, n_periodic, stop, periods, period, powers, sums, first[s], shift[s], G
                )
        R, factored = _gram_factor(G, scale)
        if factored:
            break
        if count == 0:
            R = _stacked_root(scale, innovations, rows, block)
            break
        # Too ill-conditioned for the Gram matrix: the periodic columns at every step, for
        # the factor from the innovations themselves.
        count = 0
        state[:periodic_rows] = 0.0
    return log_f, n_obs, last_variance, count, R


@njit(cache=True, fastmath={"contract"}, inline="always")
def _variance_adjoints(
    y,
    predicted,
    inv_sqrt_f,
    tension,
    sigma_base,
    sigma_scale,
    noise_floor,
    gain_dot,
    square,
    start,
    stop,
    totals,
):
    """The variances' adjoints backwards over the steps ``stop - 1 … start``: ``p̄`` of the
    filtered variance (``totals[0]``, carried in and out) and the sums that make the gradient
    (``totals[1:]``: of ``p̄`` for τ, and of ``s r̄`` and ``s ρT r̄`` for σ_base and σ_scale),
    from each step's ``Σ_j m̄_j a_j`` (``gain_dot``) and ``Σ_j a_j²`` (``square``)."""
    p_bar, grad_tau, grad_base, grad_scale = totals[0], totals[1], totals[2], totals[3]
    P_last = inv_sqrt_last = s_last = -1.0
    inv = sqrt_f = K_r = p_r = K_P = p_P = 0.0
    for t in range(stop - 1, start - 1, -1):
        if not math.isnan(y[t]):
            P = predicted[t]
            inv_sqrt = inv_sqrt_f[t]
            s = sigma_base + sigma_scale * tension[t] + noise_floor
            if not (P == P_last and inv_sqrt == inv_sqrt_last and s == s_last):
                P_last, inv_sqrt_last, s_last = P, inv_sqrt, s
                r = s * s
                inv = inv_sqrt * inv_sqrt
                sqrt_f = 1.0 / inv_sqrt
                inv2 = inv * inv
                # K = P / F, F = P + r, p = P r / F: their derivatives in P and in r.
                K_r, p_r = r * inv2, r * r * inv2
                K_P, p_P = P * inv2, P * P * inv2
            K_bar = gain_dot[t] * sqrt_f
            F_bar = 0.5 * inv * (square[t] - 1.0)  # from -½ e² and -½ log F
            r_bar = p_bar * p_P - K_bar * K_P + F_bar
            # p̄ is the one recursion over the steps: one multiply-add per step on its path.
            p_bar = p_bar * p_r + (K_bar * K_r + F_bar)
            grad_base += s * r_bar
            grad_scale += s * tension[t] * r_bar
        # A missing step: p_t = P_t, so p̄ passes through. Then P_t = p_{t-1} + q_t.
        if t > 0:
            grad_tau += p_bar
    totals[0], totals[1], totals[2], totals[3] = p_bar, grad_tau, grad_base, grad_scale


@njit(cache=True, fastmath={"contract"})
def _loglik_and_grad(
    y,
    columns,
    layout,
    prior_scale,
    change,
    level0_var,
    step_var,
    tension,
    tau,
    sigma_base,
    sigma_scale,
    noise_floor,
    work,
    segments,
    first,
    shift,
    first_means,
    block,
):
    """Collapsed log-likelihood and its gradient in (τ, σ_base, σ_scale) for one chain.

    ``columns, layout`` are :func:`likelihood_columns`'s; ``work`` (shaped as ``columns``
    plus 5 rows: the innovations, then the variances of :func:`_variances` and the squares
    by step), ``segments``, ``first``, ``shift``, ``first_means`` (see
    :func:`_filter_and_factor`) and ``block``
    (see :func:`_stacked_root`) are work arrays, overwritten.

    The forward pass gives the scaled innovations ``e``; under β's prior rows their
    triangular factor ``R`` gives the value. The gradient is reverse-mode through the filter:
    with ``T = [[R_k⁻¹, -R_k⁻¹ R[:k, k]], [0, 1]]``, ``-½ (S + log det A) = -½ Σ_t ‖e_t T‖²``
    has, with ``T`` held fixed, the same derivative (``S`` is a minimum over β, and
    ``d log det A = d ‖E_w R_k⁻¹‖²`` at fixed ``R``), so one backward pass over ``e T``
    (independent filters sharing the gains) gives every derivative, at about the cost of the
    forward pass, rather than one forward-carried derivative of every innovation and of
    ``Σ e eᵀ`` per parameter. The backward pass runs four columns at a time for the adjoints
    of the means (each a recursion in a register), then once over the steps for the variances'.
    Periodic columns (a season's) go through the stretches where the variances are steady in
    closed form (:mod:`._periodic`): one period's work per stretch instead of one per step.
    """
    k = prior_scale.shape[0]
    cols, n = k + 1, columns.shape[1]
    # NUTS may probe overflowing values; a -inf log-density rejects them (a divergence).
    if not (np.isfinite(tau) and np.isfinite(sigma_base) and np.isfinite(sigma_scale)):
        return -np.inf, np.zeros(N_PARAMS)
    height = columns.shape[0]
    innovations = work[:height]
    predicted, inv_sqrt_f, gain = work[height], work[height + 1], work[height + 2]
    keep, square = work[height + 3], work[height + 4]
    period, n_periodic = layout[0], layout[1]
    rows = variable_rows(layout, k)
    periodic_rows = rows[k] - (k - n_periodic)
    scale = np.empty(k)
    for v in range(k):
        scale[v] = prior_scale[layout[2 + v]]
    state = np.empty(height)
    log_f, n_obs, _, count, R = _filter_and_factor(
        y,
        columns,
        layout,
        scale,
        change,
        level0_var,
        step_var,
        tension,
        tau,
        sigma_base,
        sigma_scale,
        noise_floor,
        work,
        work[:0, :0],
        segments,
        first,
        shift,
        first_means,
        block,
        state,
    )
    if not (np.isfinite(log_f) and np.all(np.isfinite(R))):
        return -np.inf, np.zeros(N_PARAMS)
    # RᵀR = [[A, b], [bᵀ, S_yy]] with A = Σ e_w e_wᵀ + diag(1/s²), b = Σ e_w e_y: the leading
    # block of R is A's Cholesky factor, R[:k, k] = R⁻ᵀb and R[k, k]² = S_yy - bᵀA⁻¹b.
    log_det = 0.0
    for i in range(k):
        log_det += 2.0 * math.log(R[i, i])
    ll = (
        -0.5 * n_obs * _LOG_2PI
        - 0.5 * log_f
        - 0.5 * R[k, k] * R[k, k]
        - 0.5 * log_det
        - np.sum(np.log(prior_scale))
    )
    R_inv = _upper_inverse(R, k)
    T = np.zeros((cols, cols))
    T[:k, :k] = R_inv
    T[:k, k] = -_upper_times(R_inv, R[:k, k])
    T[k, k] = 1.0
    # e T: the other variables first, as they read the periodic columns' rows untransformed.
    cursor = 0
    for s in range(count + 1):
        stop = segments[s, 0] if s < count else n
        _transform_innovations(innovations, rows, T, n_periodic, cols, 0, cursor, stop)
        if s < count:
            cursor = segments[s, 1]
            periods = (cursor - stop) // period
            _transform_innovations(innovations, rows, T, n_periodic, cols, n_periodic, stop, cursor)
            powers, sums, _ = segment_powers(keep[stop], period, periods)
            periodic_transform(
                innovations, rows, T, n_periodic, stop, periods, period, powers, sums, first[s], shift[s]
            )
    cursor = 0
    for s in range(count + 1):
        stop = segments[s, 0] if s < count else n
        _transform_innovations(innovations, rows, T, 0, n_periodic, 0, cursor, stop)
        if s < count:
            cursor = segments[s, 1]
    # The adjoints of the means: m̄_{t-1} = (1 - K_t) m̄_t + ē_t / √F_t with ē_t = -e_t, and
    # their share of K̄_t, Σ_j m̄_j v_j = √F_t Σ_j m̄_j e_j, gathered in ``gain`` (the gains
    # are not needed again), and ‖e_t T‖² in ``square``. The padding rows hold the zero
    # columns' innovations, exactly 0: they add nothing.
    gain_dot = gain
    gain_dot[:] = 0.0
    square[:] = 0.0
    state[:] = 0.0
    _backward_means(innovations, keep, inv_sqrt_f, periodic_rows, height, 0, n, state, gain_dot, square)
    # Then, backwards piece by piece (odd pieces are the steady stretches, from the last), the
    # periodic columns' adjoints and the variances'.
    totals = np.zeros(4)  # p̄, Σ_t p̄_t (τ's), σ_base's and σ_scale's gradients (halved)
    cursor = n
    for piece in range(2 * count, -1, -1):
        stretch = piece // 2
        steady = piece % 2 == 1
        closed = False
        if steady:
            start = segments[stretch, 0]
            periods = (cursor - start) // period
            powers, sums, period_powers = segment_powers(keep[start], period, periods)
            tables, weights = periodic_adjoint_tables(
                n_periodic,
                periods,
                period,
                keep[start],
                inv_sqrt_f[start],
                powers,
                sums,
                period_powers,
                first[stretch],
                shift[stretch],
                state,
            )
            # Constant tension (none, say): the adjoint recursion is linear with constant
            # coefficients here, so the periodic columns' share of it is in closed form.
            closed = _repeats(
                tension[start:cursor].view(np.int64), tension[start : start + 1].view(np.int64)[0]
            )
            if not closed:
                periodic_backward(start, period, tables, weights, gain_dot, square)
        else:
            start = segments[stretch - 1, 1] if stretch > 0 else 0
            _backward_means(
                innovations, keep, inv_sqrt_f, 0, periodic_rows, start, cursor, state, gain_dot, square
            )
        _variance_adjoints(
            y,
            predicted,
            inv_sqrt_f,
            tension,
            sigma_base,
            sigma_scale,
            noise_floor,
            gain_dot,
            square,
            start,
            cursor,
            totals,
        )
        if closed:
            P, inv_sqrt = predicted[start], inv_sqrt_f[start]
            noise = sigma_base + sigma_scale * tension[start] + noise_floor
            r, inv = noise * noise, inv_sqrt * inv_sqrt
            sqrt_f, inv2 = 1.0 / inv_sqrt, inv * inv
            entering, summed, direct = periodic_adjoint(
                tables, weights, period, r * r * inv2, sqrt_f * r * inv2, 0.5 * inv, -sqrt_f * P * inv2
            )
            totals[0] += entering
            totals[1] += summed - (entering if start == 0 else 0.0)
            base = noise * (P * P * inv2 * (summed - entering) + direct)
            totals[2] += base
            totals[3] += tension[start] * base
        cursor = start
    grad_tau, grad_base, grad_scale = totals[1], totals[2], totals[3]
    grad = np.array([2.0 * tau * grad_tau, 2.0 * grad_base, 2.0 * grad_scale])
    if not (np.isfinite(ll) and np.all(np.isfinite(grad))):
        return -np.inf, np.zeros(N_PARAMS)
    return ll, grad


@njit(cache=True)
def batched_loglik_and_grad(
    y, design, prior_scale, change, level0_var, step_var, tension, tau, sigma_base, sigma_scale, noise_floor
):
    """:func:`_loglik_and_grad` for a batch of parameter triples (one per chain).

    ``(values, grads)``, shaped ``(batch,)`` and ``(batch, 3)``. One chain after the other,
    sharing the work arrays (a chain's stay in cache).
    """
    columns, layout = likelihood_columns(y, design)
    return columns_loglik_and_grad(
        y,
        columns,
        layout,
        prior_scale,
        change,
        level0_var,
        step_var,
        tension,
        tau,
        sigma_base,
        sigma_scale,
        noise_floor,
    )


@njit(cache=True)
def columns_loglik_and_grad(
    y,
    columns,
    layout,
    prior_scale,
    change,
    level0_var,
    step_var,
    tension,
    tau,
    sigma_base,
    sigma_scale,
    noise_floor,
):
    """:func:`batched_loglik_and_grad` given the columns and layout of :func:`likelihood_columns`.

    The sampler's FFI handler calls this with the columns built once per fit, one chain per
    call: its chains run as independent programs, in parallel (see
    :func:`sklearn_lambda3.bayes._inference._independent_chains`).
    """
    n = columns.shape[1]
    batch = tau.shape[0]
    values = np.empty(batch)
    grads = np.empty((batch, N_PARAMS))
    work = np.empty((columns.shape[0] + 5, n))
    period, n_periodic = layout[0], layout[1]
    most = n // (MIN_PERIODS * period) if period else 0
    segments = np.empty((most, 2), dtype=np.int64)
    first = np.empty((most, n_periodic, period))
    shift = np.empty((most, n_periodic))
    first_means = np.empty((most, n_periodic, period))
    k = prior_scale.shape[0]
    block = np.empty((k + 1, k + 1 + _ROOT_BLOCK))
    for c in range(batch):
        values[c], grads[c] = _loglik_and_grad(
            y,
            columns,
            layout,
            prior_scale,
            change,
            level0_var,
            step_var,
            tension,
            tau[c],
            sigma_base[c],
            sigma_scale[c],
            noise_floor,
            work,
            segments,
            first,
            shift,
            first_means,
            block,
        )
    return values, grads


@njit(cache=True)
def _draw_given_variances(
    y,
    columns,
    layout,
    prior_scale,
    change,
    level0_var,
    step_var,
    tension,
    tau,
    sigma_base,
    sigma_scale,
    noise_floor,
    z_beta,
    z_last,
    z_path,
    beta_out,
    path_out,
    work,
    means,
    segments,
    first,
    shift,
    first_means,
    block,
):
    """β, the last level and (if ``means`` has n columns) the level path for one (τ, σ) draw.

    Forward filter over ``[w, y]`` (:func:`_filter_and_factor`, on :func:`likelihood_columns`),
    then β ~ Normal(A⁻¹b, A⁻¹) from the factor of the scaled innovations (``z_beta`` in the
    variables' order, so a draw's β is the same with or without its path), the level's filtered
    means given β (the filter is linear in the data, so they are ``m_y - m_w · β``), and
    backward sampling ``a_t | a_{t+1}``. Returns the last level. The other arrays are work
    arrays, as in :func:`_loglik_and_grad` (``means`` shaped as ``columns`` or with 0 columns).
    """
    k = prior_scale.shape[0]
    n = columns.shape[1]
    rows = variable_rows(layout, k)
    scale = np.empty(k)
    for v in range(k):
        scale[v] = prior_scale[layout[2 + v]]
    mean = np.empty(columns.shape[0])
    _, _, p, count, R = _filter_and_factor(
        y,
        columns,
        layout,
        scale,
        change,
        level0_var,
        step_var,
        tension,
        tau,
        sigma_base,
        sigma_scale,
        noise_floor,
        work,
        means,
        segments,
        first,
        shift,
        first_means,
        block,
        mean,
    )
    # A = RᵀR over the β block: β ~ Normal(A⁻¹b, A⁻¹) = R⁻¹(R[:k, k] + z).
    beta = _upper_times(_upper_inverse(R, k), R[:k, k] + z_beta)
    last = mean[rows[k]] + math.sqrt(p) * z_last
    for v in range(k):
        beta_out[layout[2 + v]] = beta[v]
        last -= mean[rows[v]] * beta[v]
    if means.shape[1] == n:
        height = columns.shape[0]
        predicted, inv_sqrt_f, keep = work[height], work[height + 1], work[height + 3]
        period, n_periodic = layout[0], layout[1]
        tau2 = tau * tau
        level = last
        path_out[n - 1] = level
        # In a steady stretch the periodic columns' means are tables (see _periodic): their
        # share Σ_v β_v m_v,t there is a table by phase plus a multiple of c^{u+1} S_k.
        stretch = count - 1
        stretch_start = stretch_stop = -1
        share = np.empty(period)
        powers = sums = share
        along = 0.0
        for t in range(n - 2, -1, -1):
            while stretch >= 0 and segments[stretch, 0] > t:
                stretch -= 1
            if stretch >= 0 and t < segments[stretch, 1] and stretch_start != segments[stretch, 0]:
                stretch_start, stretch_stop = segments[stretch, 0], segments[stretch, 1]
                c = keep[stretch_start]
                powers, sums, _ = segment_powers(c, period, (stretch_stop - stretch_start) // period)
                share[:] = 0.0
                along = 0.0
                for v in range(n_periodic):
                    for u in range(period):
                        share[u] += beta[v] * first_means[stretch, v, u]
                    # ρ = -h / f, as periodic_forward made h.
                    along -= beta[v] * shift[stretch, v] / inv_sqrt_f[stretch_start]
            m = means[rows[k], t]
            if stretch_start <= t < stretch_stop:
                periods, u = divmod(t - stretch_start, period)
                m -= share[u] + along * powers[u + 1] * sums[periods]
                for v in range(n_periodic, k):
                    m -= means[rows[v], t] * beta[v]
            else:
                for v in range(k):
                    m -= means[rows[v], t] * beta[v]
            # The filtered variance after step t, as the forward pass computed it.
            filtered = predicted[t]
            if not math.isnan(y[t]):
                s = sigma_base + sigma_scale * tension[t] + noise_floor
                filtered = predicted[t] * (s * s) * (inv_sqrt_f[t] * inv_sqrt_f[t])
            q_next = tau2 + change[t + 1] * step_var
            total = filtered + q_next
            gain_t = filtered / total
            # Var(a_t | a_{t+1}) = p q / (p + q), without the cancellation in 1 - gain.
            level = m + gain_t * (level - m) + math.sqrt(filtered * q_next / total) * z_path[t]
            path_out[t] = level
    return last


@njit(cache=True, parallel=True)
def conditional_draws(
    y,
    design,
    prior_scale,
    change,
    level0_var,
    step_var,
    tension,
    tau,
    sigma_base,
    sigma_scale,
    noise_floor,
    z_beta,
    z_last,
    z_path,
    with_path,
):
    """Exact draws of β and the last level for every (τ, σ) draw, in parallel.

    ``z_beta`` (draws, k; in the variables' order of :func:`likelihood_columns`), ``z_last``
    (draws,) and, if ``with_path``, ``z_path`` (draws, n) are standard normals; then every
    draw also gets its whole level path (otherwise ``paths`` is empty). A draw's β and last
    level depend only on its parameters and its ``z_beta``, ``z_last``, with or without a
    path. The draws are split into :data:`_DRAW_CHUNKS` chunks, each with its own work arrays.
    """
    n_draws = tau.shape[0]
    n, k = design.shape
    columns, layout = likelihood_columns(y, design)
    period, n_periodic = layout[0], layout[1]
    most = n // (MIN_PERIODS * period) if period else 0
    beta = np.empty((n_draws, k))
    last = np.empty(n_draws)
    paths = np.empty((n_draws if with_path else 0, n))
    n_chunks = max(1, min(n_draws, _DRAW_CHUNKS))
    for chunk in prange(n_chunks):
        work = np.empty((columns.shape[0] + 5, n))
        means = np.empty((columns.shape[0], n if with_path else 0))
        segments = np.empty((most, 2), dtype=np.int64)
        first = np.empty((most, n_periodic, period))
        shift = np.empty((most, n_periodic))
        first_means = np.empty((most, n_periodic, period))
        block = np.empty((k + 1, k + 1 + _ROOT_BLOCK))
        unused = np.empty(0)
        for d in range(chunk * n_draws // n_chunks, (chunk + 1) * n_draws // n_chunks):
            last[d] = _draw_given_variances(
                y,
                columns,
                layout,
                prior_scale,
                change,
                level0_var,
                step_var,
                tension,
                tau[d],
                sigma_base[d],
                sigma_scale[d],
                noise_floor,
                z_beta[d],
                z_last[d],
                z_path[d] if with_path else unused,
                beta[d],
                paths[d] if with_path else unused,
                work,
                means,
                segments,
                first,
                shift,
                first_means,
                block,
            )
    return beta, last, paths
