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
over the columns ``[y, w_1, …, w_k]`` shares the gains, and β is then a small Gaussian
regression on the scaled innovations. Its normal matrix ``A = Σ e eᵀ + diag(1/s²)`` is
accumulated in square-root form (Givens rotations of each step's innovations into a
triangular factor, see :func:`_add_row`), so it is positive definite by construction for
any design, collinear or constant columns and σ at the noise floor included; a constant
(centred) column leaves its coefficient exactly at its prior. The pass is one sequential
O(n) loop in float64 that also carries forward-mode derivatives with respect to
(τ, σ_base, σ_scale), so NUTS gets the gradient with the value. The sampler calls it
through ``jax.pure_callback`` with a custom VJP (see :mod:`sklearn_lambda3.bayes._kalman_bridge`):
XLA's per-step overhead makes a ``lax.scan``
filter several times slower on a CPU than this loop.
"""

import math

import numpy as np
from numba import njit, prange

N_PARAMS = 3  # tau, sigma_base, sigma_scale
_LOG_2PI = math.log(2.0 * math.pi)


@njit(cache=True)
def _add_row(R, row):
    """Rotate ``row`` into the upper-triangular ``R`` (Givens): ``RᵀR`` gains ``row rowᵀ``.

    The square-root form of accumulating ``Σ e eᵀ``: ``R`` is the triangular factor of a QR
    decomposition of every row added so far, so ``RᵀR`` is positive semi-definite by
    construction, and its conditioning is that of the rows, not their square (forming
    ``Σ e eᵀ`` directly loses ``eps · |e|²``, which at σ near the noise floor, where the
    scaled innovations are ~10⁶, exceeds the prior precision that keeps ``A`` definite).
    The diagonal of ``R`` stays non-negative. ``row`` is overwritten.
    """
    m = R.shape[0]
    for i in range(m):
        x = row[i]
        if x == 0.0:
            continue
        d = R[i, i]
        r = math.hypot(d, x)
        c = d / r
        s = x / r
        R[i, i] = r
        for j in range(i + 1, m):
            a = R[i, j]
            b = row[j]
            R[i, j] = c * a + s * b
            row[j] = c * b - s * a


@njit(cache=True)
def _prior_root(prior_scale):
    """Triangular factor of the prior rows: ``RᵀR = diag(1/s², 0)`` over ``[β, y]``."""
    k = prior_scale.shape[0]
    R = np.zeros((k + 1, k + 1))
    for i in range(k):
        R[i, i] = 1.0 / prior_scale[i]
    return R


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
def _loglik_and_grad(y, design, prior_scale, change, level0_var, step_var, tension,
                     tau, sigma_base, sigma_scale, noise_floor):
    n, k = design.shape
    cols = k + 1
    # NUTS may probe overflowing values; a -inf log-density rejects them (a divergence).
    if not (np.isfinite(tau) and np.isfinite(sigma_base) and np.isfinite(sigma_scale)):
        return -np.inf, np.zeros(N_PARAMS)
    # With e the scaled innovations of the columns [y, w_1..w_k]: R is the square-root
    # accumulation of Σ e eᵀ (columns reordered to [w, y], see _add_row), and
    # cross[a, cols * i + b] = Σ e_a ∂_i e_b for the gradient, accumulated as the filter runs.
    R = _prior_root(prior_scale)
    qr_row = np.empty(cols)
    cross = np.zeros((cols, cols * N_PARAMS))
    row = np.empty(cols * (1 + N_PARAMS))
    mean = np.zeros(cols)
    dmean = np.zeros((N_PARAMS, cols))
    p = 0.0
    dp = np.zeros(N_PARAMS)
    dq = np.zeros(N_PARAMS)
    dr = np.zeros(N_PARAMS)
    dP = np.zeros(N_PARAMS)
    dF = np.zeros(N_PARAMS)
    dK = np.zeros(N_PARAMS)
    log_f = 0.0
    dlog_f = np.zeros(N_PARAMS)
    n_obs = 0.0
    for t in range(n):
        if t == 0:
            q = level0_var
            dq[0] = 0.0
        else:
            q = tau * tau
            dq[0] = 2.0 * tau
        q += change[t] * step_var
        P = p + q
        for i in range(N_PARAMS):
            dP[i] = dp[i] + dq[i]
        if math.isnan(y[t]):
            # Not observed: prediction only (no innovation, no likelihood term, no row; the
            # columns of w are not updated either, they share y's gains).
            p = P
            for i in range(N_PARAMS):
                dp[i] = dP[i]
            continue
        n_obs += 1.0
        sigma = sigma_base + sigma_scale * tension[t] + noise_floor
        r = sigma * sigma
        dr[1] = 2.0 * sigma
        dr[2] = 2.0 * sigma * tension[t]
        F = P + r
        inv_f = 1.0 / F
        inv_sqrt_f = math.sqrt(inv_f)
        K = P * inv_f
        for i in range(N_PARAMS):
            dF[i] = dP[i] + dr[i]
            dK[i] = (dP[i] - K * dF[i]) * inv_f
            dlog_f[i] += dF[i] * inv_f
        log_f += math.log(F)
        for j in range(cols):
            x = y[t] if j == 0 else design[t, j - 1]
            v = x - mean[j]
            row[j] = v * inv_sqrt_f
            mean[j] += K * v
            for i in range(N_PARAMS):
                dv = -dmean[i, j]
                row[cols * (i + 1) + j] = dv * inv_sqrt_f - 0.5 * v * dF[i] * inv_f * inv_sqrt_f
                dmean[i, j] += dK[i] * v + K * dv
        for a in range(cols):
            e_a = row[a]
            for b in range(cols * N_PARAMS):
                cross[a, b] += e_a * row[cols + b]
        for j in range(k):
            qr_row[j] = row[j + 1]
        qr_row[k] = row[0]
        _add_row(R, qr_row)
        # p = P (1 - K) = P r / F, written without the cancellation in 1 - K when P >> r.
        p = P * r * inv_f
        for i in range(N_PARAMS):
            dp[i] = (dP[i] * r + P * dr[i]) * inv_f - p * dF[i] * inv_f

    if not (np.isfinite(log_f) and np.all(np.isfinite(cross)) and np.all(np.isfinite(R))):
        return -np.inf, np.zeros(N_PARAMS)
    # RᵀR = [[A, b], [bᵀ, S_yy]] with A = Σ e_w e_wᵀ + diag(1/s²), b = Σ e_w e_y: the leading
    # block of R is A's Cholesky factor, R[:k, k] = R⁻ᵀb and R[k, k]² = S_yy - bᵀA⁻¹b.
    R_inv = _upper_inverse(R, k)
    solved = R_inv @ np.ascontiguousarray(R[:k, k])
    A_inv = R_inv @ R_inv.T
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
    grad = np.zeros(N_PARAMS)
    for i in range(N_PARAMS):
        half = np.ascontiguousarray(cross[:, cols * i : cols * (i + 1)])
        dS = half + half.T  # d(Σ e eᵀ) = Σ (de eᵀ + e deᵀ)
        dA = np.ascontiguousarray(dS[1:, 1:])
        db = np.ascontiguousarray(dS[1:, 0])
        quad = dS[0, 0] - 2.0 * solved @ db + solved @ dA @ solved
        grad[i] = -0.5 * dlog_f[i] - 0.5 * quad - 0.5 * np.sum(A_inv * dA)
    if not (np.isfinite(ll) and np.all(np.isfinite(grad))):
        return -np.inf, np.zeros(N_PARAMS)
    return ll, grad


@njit(cache=True)
def batched_loglik_and_grad(y, design, prior_scale, change, level0_var, step_var, tension,
                            tau, sigma_base, sigma_scale, noise_floor):
    """:func:`_loglik_and_grad` for a batch of parameter triples (one per chain).

    A plain loop: a per-call thread pool costs more than it saves at these sizes.
    """
    batch = tau.shape[0]
    values = np.empty(batch)
    grads = np.empty((batch, N_PARAMS))
    for c in range(batch):
        values[c], grads[c] = _loglik_and_grad(
            y, design, prior_scale, change, level0_var, step_var, tension,
            tau[c], sigma_base[c], sigma_scale[c], noise_floor,
        )
    return values, grads


@njit(cache=True)
def _draw_given_variances(y, design, prior_scale, change, level0_var, step_var, tension,
                          tau, sigma_base, sigma_scale, noise_floor,
                          z_beta, z_last, z_path, with_path, beta_out, path_out):
    """β, the last level and (if ``with_path``) the level path for one (τ, σ) draw.

    Forward filter over ``[y, w]``, then β ~ Normal(A⁻¹b, A⁻¹) from the scaled innovations,
    the level's filtered means given β (the filter is linear in the data, so they are
    ``m_y - m_w · β``), and backward sampling ``a_t | a_{t+1}``. Returns the last level.
    """
    n, k = design.shape
    cols = k + 1
    mean = np.zeros(cols)
    row = np.empty(cols)
    R = _prior_root(prior_scale)
    filt_mean = np.empty((n if with_path else 1, cols))
    filt_var = np.empty(n if with_path else 1)
    p = 0.0
    tau2 = tau * tau
    for t in range(n):
        q = (level0_var if t == 0 else tau2) + change[t] * step_var
        P = p + q
        if math.isnan(y[t]):
            # Not observed: the filtered moments are the predicted ones.
            p = P
            if with_path:
                filt_mean[t] = mean
                filt_var[t] = p
            continue
        sigma = sigma_base + sigma_scale * tension[t] + noise_floor
        r = sigma * sigma
        F = P + r
        K = P / F
        inv_sqrt_f = 1.0 / math.sqrt(F)
        for j in range(cols):
            x = y[t] if j == 0 else design[t, j - 1]
            v = x - mean[j]
            # Rows of R are ordered [w, y] (see _add_row).
            row[j - 1 if j > 0 else k] = v * inv_sqrt_f
            mean[j] += K * v
        _add_row(R, row)
        p = P * r / F
        if with_path:
            filt_mean[t] = mean
            filt_var[t] = p
    # A = RᵀR over the β block: β ~ Normal(A⁻¹b, A⁻¹) = R⁻¹(R[:k, k] + z).
    upper = np.ascontiguousarray(R[:k, :k])
    beta_out[:] = _upper_inverse(upper, k) @ (np.ascontiguousarray(R[:k, k]) + z_beta)
    last = mean[0] - mean[1:] @ beta_out + math.sqrt(p) * z_last
    if with_path:
        level = last
        path_out[n - 1] = level
        for t in range(n - 2, -1, -1):
            m = filt_mean[t, 0] - filt_mean[t, 1:] @ beta_out
            q_next = tau2 + change[t + 1] * step_var
            total = filt_var[t] + q_next
            gain = filt_var[t] / total
            # Var(a_t | a_{t+1}) = p q / (p + q), without the cancellation in 1 - gain.
            level = m + gain * (level - m) + math.sqrt(filt_var[t] * q_next / total) * z_path[t]
            path_out[t] = level
    return last


@njit(cache=True, parallel=True)
def conditional_draws(y, design, prior_scale, change, level0_var, step_var, tension,
                      tau, sigma_base, sigma_scale, noise_floor, z_beta, z_last, z_path, with_path):
    """Exact draws of β and the last level for every (τ, σ) draw, in parallel.

    ``z_beta`` (draws, k), ``z_last`` (draws,) and, if ``with_path``, ``z_path``
    (draws, n) are standard normals; then every draw also gets its whole level path
    (otherwise ``paths`` is empty). A draw's β and last level depend only on its
    parameters and its ``z_beta``, ``z_last``, with or without a path.
    """
    n_draws = tau.shape[0]
    n = y.shape[0]
    beta = np.empty((n_draws, design.shape[1]))
    last = np.empty(n_draws)
    paths = np.empty((n_draws if with_path else 0, n))
    unused = np.empty(0)
    for d in prange(n_draws):
        last[d] = _draw_given_variances(
            y, design, prior_scale, change, level0_var, step_var, tension,
            tau[d], sigma_base[d], sigma_scale[d], noise_floor, z_beta[d], z_last[d],
            z_path[d] if with_path else unused, with_path, beta[d], paths[d] if with_path else unused,
        )
    return beta, last, paths
