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
kept in square-root form (a triangular factor of the scaled innovations under the prior
rows: Householder's QR in the likelihood, Givens rotations row by row in the draws, see
:func:`_add_row`), so it is positive definite by construction for any design, collinear or
constant columns and σ at the noise floor included; a constant (centred) column leaves its
coefficient exactly at its prior. The likelihood is one forward pass in float64 (O(n k²)
with the factor), and its gradient with respect to (τ, σ_base, σ_scale) one backward pass
through the same filter (see :func:`_loglik_and_grad`), so NUTS gets the gradient with the
value. The sampler calls
it through ``jax.pure_callback`` with a custom VJP (see
:mod:`sklearn_lambda3.bayes._kalman_bridge`); :mod:`sklearn_lambda3.bayes._kalman_jax` is
the same likelihood in JAX, for accelerators.
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
def _householder_root(M):
    """The upper-triangular ``R`` (non-negative diagonal) with ``RᵀR = MᵀM``; ``M`` is overwritten.

    Householder's QR decomposition without ``Q``: for each column, one pass over the rows for
    its inner products with the columns after it, one to reflect them. The square-root form
    of ``MᵀM`` (see :func:`_add_row`), with the work in row-wise passes that skip zero rows
    (missing steps) and the untouched part of the prior rows.
    """
    rows, cols = M.shape
    R = np.zeros((cols, cols))
    dots = np.empty(cols)
    for j in range(cols):
        dots[j:] = 0.0
        for i in range(j, rows):
            x = M[i, j]
            if x != 0.0:
                for m in range(j, cols):
                    dots[m] += x * M[i, m]
        norm = math.sqrt(dots[j])
        if norm == 0.0:  # nothing below the diagonal: the row is R's as it stands
            R[j, j:] = M[j, j:]
            continue
        head = M[j, j]
        alpha = -norm if head >= 0.0 else norm
        # v = M[j:, j] - alpha e_j, so vᵀv = 2 (‖x‖² - alpha x_j) and vᵀM_m = xᵀM_m - alpha M[j, m].
        scale = 2.0 / (2.0 * (dots[j] - alpha * head))
        for m in range(j + 1, cols):
            dots[m] = scale * (dots[m] - alpha * M[j, m])
        M[j, j] = head - alpha
        for i in range(j, rows):
            v = M[i, j]
            if v != 0.0:
                for m in range(j + 1, cols):
                    M[i, m] -= dots[m] * v
        sign = 1.0 if alpha > 0.0 else -1.0
        R[j, j] = abs(alpha)
        for m in range(j + 1, cols):
            R[j, m] = sign * M[j, m]
    return R


@njit(cache=True)
def _loglik_and_grad(y, design, prior_scale, change, level0_var, step_var, tension,
                     tau, sigma_base, sigma_scale, noise_floor, rows, innovations, predicted,
                     inv_f, sigma):
    """Collapsed log-likelihood and its gradient in (τ, σ_base, σ_scale) for one chain.

    ``rows`` ((k + n, k + 1)), ``innovations`` ((n, k + 1)), ``predicted``, ``inv_f`` and
    ``sigma`` ((n,)) are work arrays, overwritten.

    The forward pass filters the columns ``[w_1 … w_k, y]``; their scaled innovations ``e``
    under β's prior rows are ``rows``, whose triangular factor ``R`` gives the value. The
    gradient is reverse-mode through the filter: with ``T = [[R_k⁻¹, -R_k⁻¹ R[:k, k]], [0, 1]]``,
    ``-½ (S + log det A) = -½ Σ_t ‖e_t T‖²`` has, with ``T`` held fixed, the same derivative
    (``S`` is a minimum over β, and ``d log det A = d ‖E_w R_k⁻¹‖²`` at fixed ``R``), so one
    backward pass over ``e T`` (independent filters sharing the gains) gives every derivative,
    at about the cost of the forward pass, rather than one forward-carried derivative of every
    innovation and of ``Σ e eᵀ`` per parameter.
    """
    n, k = design.shape
    cols = k + 1
    # NUTS may probe overflowing values; a -inf log-density rejects them (a divergence).
    if not (np.isfinite(tau) and np.isfinite(sigma_base) and np.isfinite(sigma_scale)):
        return -np.inf, np.zeros(N_PARAMS)
    tau2 = tau * tau
    rows[:k, :] = 0.0
    for i in range(k):
        rows[i, i] = 1.0 / prior_scale[i]
    mean = np.zeros(cols)
    p = 0.0
    log_f = 0.0
    n_obs = 0.0
    for t in range(n):
        q = (level0_var if t == 0 else tau2) + change[t] * step_var
        P = p + q
        predicted[t] = P
        row = k + t
        if math.isnan(y[t]):
            # Not observed: prediction only (no innovation, no likelihood term, no row; the
            # columns of w are not updated either, they share y's gains).
            p = P
            rows[row, :] = 0.0
            continue
        n_obs += 1.0
        s = sigma_base + sigma_scale * tension[t] + noise_floor
        sigma[t] = s
        r = s * s
        F = P + r
        inv = 1.0 / F
        inv_sqrt = math.sqrt(inv)
        K = P * inv
        log_f += math.log(F)
        for j in range(k):
            v = design[t, j] - mean[j]
            rows[row, j] = v * inv_sqrt
            mean[j] += K * v
        v = y[t] - mean[k]
        rows[row, k] = v * inv_sqrt
        mean[k] += K * v
        inv_f[t] = inv
        # p = P (1 - K) = P r / F, written without the cancellation in 1 - K when P >> r.
        p = P * r * inv
    innovations[:, :] = rows[k:, :]
    R = _householder_root(rows)
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
    T[:k, k] = -(R_inv @ np.ascontiguousarray(R[:k, k]))
    T[k, k] = 1.0
    transformed = innovations @ T
    # Backward: m̄ the adjoint of the filtered means, p̄ of the filtered variance.
    mean_bar = np.zeros(cols)
    p_bar = 0.0
    grad = np.zeros(N_PARAMS)
    for t in range(n - 1, -1, -1):
        P = predicted[t]
        if math.isnan(y[t]):
            P_bar = p_bar  # p_t = P_t
        else:
            inv = inv_f[t]
            inv_sqrt = math.sqrt(inv)
            s = sigma[t]
            r = s * s
            keep = r * inv  # 1 - K
            gain_dot = 0.0
            square = 0.0
            for j in range(cols):
                e = transformed[t, j]
                gain_dot += mean_bar[j] * e
                square += e * e
                # m_t = m_{t-1} + K v_t, e_t = v_t / √F_t and ē_t = -e_t.
                mean_bar[j] = keep * mean_bar[j] + e * inv_sqrt
            K_bar = gain_dot / inv_sqrt  # Σ m̄ v = √F Σ m̄ e
            F_bar = 0.5 * inv * (square - 1.0)  # from -½ e² and -½ log F
            inv2 = inv * inv
            # K = P / F, F = P + r, p = P r / F.
            P_bar = (K_bar * r + p_bar * r * r) * inv2 + F_bar
            r_bar = (p_bar * P * P - K_bar * P) * inv2 + F_bar
            grad[1] += 2.0 * s * r_bar
            grad[2] += 2.0 * s * tension[t] * r_bar
        p_bar = P_bar  # P_t = p_{t-1} + q_t
        if t > 0:
            grad[0] += 2.0 * tau * P_bar
    if not (np.isfinite(ll) and np.all(np.isfinite(grad))):
        return -np.inf, np.zeros(N_PARAMS)
    return ll, grad


@njit(cache=True)
def batched_loglik_and_grad(y, design, prior_scale, change, level0_var, step_var, tension,
                            tau, sigma_base, sigma_scale, noise_floor):
    """:func:`_loglik_and_grad` for a batch of parameter triples (one per chain).

    A plain loop sharing the work arrays: a per-call thread pool costs more than it saves at
    these sizes.
    """
    n, k = design.shape
    batch = tau.shape[0]
    values = np.empty(batch)
    grads = np.empty((batch, N_PARAMS))
    rows = np.empty((k + n, k + 1))
    innovations = np.empty((n, k + 1))
    predicted = np.empty(n)
    inv_f = np.empty(n)
    sigma = np.empty(n)
    for c in range(batch):
        values[c], grads[c] = _loglik_and_grad(
            y, design, prior_scale, change, level0_var, step_var, tension,
            tau[c], sigma_base[c], sigma_scale[c], noise_floor, rows, innovations, predicted,
            inv_f, sigma,
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
