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
kept in square-root form (a triangular factor of the scaled innovations under the prior
rows, see :func:`_householder_root`), so it is positive definite by construction for any
design, collinear or constant columns and σ at the noise floor included; a constant
(centred) column leaves its coefficient exactly at its prior. The likelihood is one forward
pass in float64 (O(n k²) with the factor), and its gradient with respect to (τ, σ_base,
σ_scale) one backward pass through the same filter (see :func:`_loglik_and_grad`), so NUTS
gets the gradient with the value. The sampler calls it through ``jax.pure_callback`` with a
custom VJP (see :mod:`sklearn_lambda3.bayes._kalman_bridge`);
:mod:`sklearn_lambda3.bayes._kalman_jax` is the same likelihood in JAX, for accelerators.
"""

import math

import numpy as np
from numba import njit, prange

N_PARAMS = 3  # tau, sigma_base, sigma_scale
_LOG_2PI = math.log(2.0 * math.pi)

# Rows of scaled innovations rotated into the triangular factor at a time (see _stacked_root).
_ROOT_BLOCK = 512

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
def _stacked_root(prior_scale, innovations, block):
    """``R`` with ``RᵀR = diag(1/s², 0) + Σ_t e_t e_tᵀ`` over the rows ``e_t`` of ``innovations``.

    The rows go through :func:`_householder_root` a block at a time, under the factor so far
    (``block`` is its (k + 1, k + 1 + _ROOT_BLOCK) buffer): the work of one QR decomposition
    of the whole stack, in memory that stays in cache.
    """
    n, cols = innovations.shape
    k = cols - 1
    R = np.zeros((cols, cols))
    for i in range(k):
        R[i, i] = 1.0 / prior_scale[i]
    for start in range(0, n, _ROOT_BLOCK):
        stop = min(start + _ROOT_BLOCK, n)
        for j in range(cols):
            for i in range(cols):
                block[j, i] = R[i, j]
            for t in range(start, stop):
                block[j, cols + t - start] = innovations[t, j]
        R = _householder_root(block, cols + stop - start)
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
def _forward(y, design, change, level0_var, step_var, tension, tau, sigma_base, sigma_scale,
             noise_floor, innovations, predicted, inv_sqrt_f, means):
    """The filter over the columns ``[w_1 … w_k, y]``, sharing the gains.

    Fills ``innovations[t]`` (the scaled innovations ``v_t / √F_t``; zero at a missing step),
    ``predicted[t]`` (``P_t``, the level's predicted variance), ``inv_sqrt_f[t]``
    (``1 / √F_t``; not set at a missing step) and, if it has n rows, ``means[t]`` (the
    filtered means after step t). Returns ``Σ log F_t``, the number of observed steps, and
    the last filtered variance and means.
    """
    n, k = design.shape
    cols = k + 1
    keep_means = means.shape[0] == n
    tau2 = tau * tau
    mean = np.zeros(cols)
    p = 0.0
    log_f = 0.0
    product = 1.0
    n_obs = 0
    # The previous observed step's variances, for the steady state (see below).
    q_last = r_last = p_last = -1.0
    P = F = inv_sqrt = K = 0.0
    for t in range(n):
        q = (level0_var if t == 0 else tau2) + change[t] * step_var
        if math.isnan(y[t]):
            # Not observed: prediction only (no innovation, no likelihood term, no row; the
            # columns of w are not updated either, they share y's gains).
            p += q
            predicted[t] = p
            innovations[t, :] = 0.0
            q_last = -1.0
        else:
            s = sigma_base + sigma_scale * tension[t] + noise_floor
            r = s * s
            if not (q == q_last and r == r_last and p == p_last):
                # Otherwise the variances have reached their fixed point in float64 (constant
                # q and r, a few hundred steps in): this step's are the last step's, bit for bit.
                q_last, r_last, p_last = q, r, p
                P = p + q
                F = P + r
                inv = 1.0 / F
                inv_sqrt = math.sqrt(inv)
                K = P * inv
                # p = P (1 - K) = P r / F, without the cancellation in 1 - K when P >> r.
                p = P * r * inv
            predicted[t] = P
            inv_sqrt_f[t] = inv_sqrt
            product *= F
            n_obs += 1
            if n_obs % _LOG_BATCH == 0:
                log_f += math.log(product)
                product = 1.0
            for j in range(k):
                v = design[t, j] - mean[j]
                innovations[t, j] = v * inv_sqrt
                mean[j] += K * v
            v = y[t] - mean[k]
            innovations[t, k] = v * inv_sqrt
            mean[k] += K * v
        if keep_means:
            means[t] = mean
    return log_f + math.log(product), n_obs, p, mean


@njit(cache=True)
def _loglik_and_grad(y, design, prior_scale, change, level0_var, step_var, tension,
                     tau, sigma_base, sigma_scale, noise_floor, innovations, predicted,
                     inv_sqrt_f, block):
    """Collapsed log-likelihood and its gradient in (τ, σ_base, σ_scale) for one chain.

    ``innovations``, ``predicted``, ``inv_sqrt_f`` (see :func:`_forward`) and ``block`` (see
    :func:`_stacked_root`) are work arrays, overwritten.

    The forward pass gives the scaled innovations ``e``; under β's prior rows their
    triangular factor ``R`` gives the value. The gradient is reverse-mode through the filter:
    with ``T = [[R_k⁻¹, -R_k⁻¹ R[:k, k]], [0, 1]]``, ``-½ (S + log det A) = -½ Σ_t ‖e_t T‖²``
    has, with ``T`` held fixed, the same derivative (``S`` is a minimum over β, and
    ``d log det A = d ‖E_w R_k⁻¹‖²`` at fixed ``R``), so one backward pass over ``e T``
    (independent filters sharing the gains) gives every derivative, at about the cost of the
    forward pass, rather than one forward-carried derivative of every innovation and of
    ``Σ e eᵀ`` per parameter.
    """
    n, k = design.shape
    cols = k + 1
    # NUTS may probe overflowing values; a -inf log-density rejects them (a divergence).
    if not (np.isfinite(tau) and np.isfinite(sigma_base) and np.isfinite(sigma_scale)):
        return -np.inf, np.zeros(N_PARAMS)
    log_f, n_obs, _, _ = _forward(
        y, design, change, level0_var, step_var, tension, tau, sigma_base, sigma_scale,
        noise_floor, innovations, predicted, inv_sqrt_f, innovations[:0],
    )
    R = _stacked_root(prior_scale, innovations, block)
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
    # Backward: m̄ the adjoint of the filtered means, p̄ of the filtered variance.
    transformed = np.empty(cols)
    mean_bar = np.zeros(cols)
    p_bar = 0.0
    grad_tau = 0.0
    grad_base = 0.0
    grad_scale = 0.0
    P_last = inv_sqrt_last = s_last = -1.0
    inv = sqrt_f = keep = K_r = p_r = K_P = p_P = 0.0
    for t in range(n - 1, -1, -1):
        if not math.isnan(y[t]):
            P = predicted[t]
            inv_sqrt = inv_sqrt_f[t]
            s = sigma_base + sigma_scale * tension[t] + noise_floor
            if not (P == P_last and inv_sqrt == inv_sqrt_last and s == s_last):
                P_last, inv_sqrt_last, s_last = P, inv_sqrt, s
                r = s * s
                inv = inv_sqrt * inv_sqrt
                sqrt_f = 1.0 / inv_sqrt
                keep = r * inv  # 1 - K
                inv2 = inv * inv
                # K = P / F, F = P + r, p = P r / F: their derivatives in P and in r.
                K_r, p_r = r * inv2, r * r * inv2
                K_P, p_P = P * inv2, P * P * inv2
            for j in range(cols):  # e_t T, T upper triangular
                e = 0.0
                for i in range(j + 1):
                    e += innovations[t, i] * T[i, j]
                transformed[j] = e
            gain_dot = 0.0
            square = 0.0
            for j in range(cols):
                e = transformed[j]
                gain_dot += mean_bar[j] * e
                square += e * e
                # m_t = m_{t-1} + K v_t, e_t = v_t / √F_t and ē_t = -e_t.
                mean_bar[j] = keep * mean_bar[j] + e * inv_sqrt
            K_bar = gain_dot * sqrt_f  # Σ m̄ v = √F Σ m̄ e
            F_bar = 0.5 * inv * (square - 1.0)  # from -½ e² and -½ log F
            r_bar = p_bar * p_P - K_bar * K_P + F_bar
            p_bar = K_bar * K_r + p_bar * p_r + F_bar
            grad_base += s * r_bar
            grad_scale += s * tension[t] * r_bar
        # A missing step: p_t = P_t, so p̄ passes through. Then P_t = p_{t-1} + q_t.
        if t > 0:
            grad_tau += p_bar
    grad = np.array([2.0 * tau * grad_tau, 2.0 * grad_base, 2.0 * grad_scale])
    if not (np.isfinite(ll) and np.all(np.isfinite(grad))):
        return -np.inf, np.zeros(N_PARAMS)
    return ll, grad


@njit(cache=True)
def batched_loglik_and_grad(y, design, prior_scale, change, level0_var, step_var, tension,
                            tau, sigma_base, sigma_scale, noise_floor):
    """:func:`_loglik_and_grad` for a batch of parameter triples (one per chain).

    ``(values, grads)``, shaped ``(batch,)`` and ``(batch, 3)``. One chain after the other,
    sharing the work arrays (a chain's stay in cache; on two cores shared with other work, a
    second thread for half the chains made a fit at 10,000 steps slower, 32 s against 15 s).
    """
    n, k = design.shape
    batch = tau.shape[0]
    values = np.empty(batch)
    grads = np.empty((batch, N_PARAMS))
    innovations = np.empty((n, k + 1))
    predicted = np.empty(n)
    inv_sqrt_f = np.empty(n)
    block = np.empty((k + 1, k + 1 + _ROOT_BLOCK))
    for c in range(batch):
        values[c], grads[c] = _loglik_and_grad(
            y, design, prior_scale, change, level0_var, step_var, tension,
            tau[c], sigma_base[c], sigma_scale[c], noise_floor, innovations, predicted,
            inv_sqrt_f, block,
        )
    return values, grads


@njit(cache=True)
def _draw_given_variances(y, design, prior_scale, change, level0_var, step_var, tension,
                          tau, sigma_base, sigma_scale, noise_floor, z_beta, z_last, z_path,
                          beta_out, path_out, innovations, predicted, inv_sqrt_f, means, block):
    """β, the last level and (if ``means`` has n rows) the level path for one (τ, σ) draw.

    Forward filter over ``[w, y]``, then β ~ Normal(A⁻¹b, A⁻¹) from the scaled innovations,
    the level's filtered means given β (the filter is linear in the data, so they are
    ``m_y - m_w · β``), and backward sampling ``a_t | a_{t+1}``. Returns the last level. The
    other arrays are work arrays, as in :func:`_loglik_and_grad`.
    """
    n, k = design.shape
    _, _, p, mean = _forward(
        y, design, change, level0_var, step_var, tension, tau, sigma_base, sigma_scale,
        noise_floor, innovations, predicted, inv_sqrt_f, means,
    )
    R = _stacked_root(prior_scale, innovations, block)
    # A = RᵀR over the β block: β ~ Normal(A⁻¹b, A⁻¹) = R⁻¹(R[:k, k] + z).
    beta_out[:] = _upper_inverse(R, k) @ (np.ascontiguousarray(R[:k, k]) + z_beta)
    last = mean[k] - mean[:k] @ beta_out + math.sqrt(p) * z_last
    if means.shape[0] == n:
        tau2 = tau * tau
        level = last
        path_out[n - 1] = level
        for t in range(n - 2, -1, -1):
            m = means[t, k] - means[t, :k] @ beta_out
            # The filtered variance after step t, as the forward pass computed it.
            filtered = predicted[t]
            if not math.isnan(y[t]):
                s = sigma_base + sigma_scale * tension[t] + noise_floor
                filtered = predicted[t] * (s * s) * (inv_sqrt_f[t] * inv_sqrt_f[t])
            q_next = tau2 + change[t + 1] * step_var
            total = filtered + q_next
            gain = filtered / total
            # Var(a_t | a_{t+1}) = p q / (p + q), without the cancellation in 1 - gain.
            level = m + gain * (level - m) + math.sqrt(filtered * q_next / total) * z_path[t]
            path_out[t] = level
    return last


@njit(cache=True, parallel=True)
def conditional_draws(y, design, prior_scale, change, level0_var, step_var, tension,
                      tau, sigma_base, sigma_scale, noise_floor, z_beta, z_last, z_path, with_path):
    """Exact draws of β and the last level for every (τ, σ) draw, in parallel.

    ``z_beta`` (draws, k), ``z_last`` (draws,) and, if ``with_path``, ``z_path``
    (draws, n) are standard normals; then every draw also gets its whole level path
    (otherwise ``paths`` is empty). A draw's β and last level depend only on its
    parameters and its ``z_beta``, ``z_last``, with or without a path. The draws are split
    into :data:`_DRAW_CHUNKS` chunks, each with its own work arrays.
    """
    n_draws = tau.shape[0]
    n, k = design.shape
    beta = np.empty((n_draws, k))
    last = np.empty(n_draws)
    paths = np.empty((n_draws if with_path else 0, n))
    n_chunks = max(1, min(n_draws, _DRAW_CHUNKS))
    for chunk in prange(n_chunks):
        innovations = np.empty((n, k + 1))
        predicted = np.empty(n)
        inv_sqrt_f = np.empty(n)
        means = np.empty((n if with_path else 0, k + 1))
        block = np.empty((k + 1, k + 1 + _ROOT_BLOCK))
        unused = np.empty(0)
        for d in range(chunk * n_draws // n_chunks, (chunk + 1) * n_draws // n_chunks):
            last[d] = _draw_given_variances(
                y, design, prior_scale, change, level0_var, step_var, tension,
                tau[d], sigma_base[d], sigma_scale[d], noise_floor, z_beta[d], z_last[d],
                z_path[d] if with_path else unused, beta[d], paths[d] if with_path else unused,
                innovations, predicted, inv_sqrt_f, means, block,
            )
    return beta, last, paths
