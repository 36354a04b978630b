"""The hierarchical model's batched linear algebra: Cholesky factors of many small matrices at
once, the collapsed likelihood terms of every series and Matheron's exact conditional draws.

Each routine comes in two forms: through LAPACK on (..., k, k) arrays, and written out entry by
entry for at most :data:`UNROLLED_LIMIT` coefficients, each operation one array over the batch
(batched LAPACK calls on tiny matrices cost far more per matrix than the arithmetic). The model,
its data and its estimator are in :mod:`~sklearn_lambda3.bayes._hierarchical`.
"""

import functools

import numpy as np

# Largest number of coefficients (intercept included) whose per-series factorisation may be
# written out entry by entry (see unrolled_program); beyond it LAPACK is used.
UNROLLED_LIMIT = 8


def unrolled_cholesky(entry, k, xp):
    """Cholesky factor ``L[i][j]`` (j <= i) and ``Σ log L[j][j]`` of a batch of k × k matrices.

    ``entry(i, j)`` (j <= i) is the array of entry (i, j) over the batch. Written out entry by
    entry, each operation one array over the batch: batched LAPACK calls on tiny matrices cost
    far more per matrix than the arithmetic (and, in JAX, their gradients more still).
    """
    L = [[None] * (i + 1) for i in range(k)]
    for j in range(k):
        L[j][j] = xp.sqrt(entry(j, j) - sum(L[j][p] ** 2 for p in range(j)))
        for i in range(j + 1, k):
            L[i][j] = (entry(i, j) - sum(L[i][p] * L[j][p] for p in range(j))) / L[j][j]
    return L, sum(xp.log(L[j][j]) for j in range(k))


def forward_substitution(cholesky, rhs):
    """``L⁻¹ rhs`` for a nested-list factor and ``rhs`` a list of k arrays; a list of k arrays."""
    x = []
    for i, row in enumerate(cholesky):
        x.append((rhs[i] - sum(row[p] * x[p] for p in range(i))) / row[i])
    return x


def backward_substitution(cholesky, rhs):
    """``L⁻ᵀ rhs`` for a nested-list factor and ``rhs`` a list of k arrays; a list of k arrays."""
    k = len(cholesky)
    x = [None] * k
    for i in reversed(range(k)):
        x[i] = (rhs[i] - sum(cholesky[p][i] * x[p] for p in range(i + 1, k))) / cholesky[i][i]
    return x


def cholesky_log_det(N, xp):
    """Lower Cholesky factor of every matrix of ``N`` (..., k, k) and ``Σ log diag``, with ``xp``
    NumPy or jax.numpy (LAPACK; beyond :data:`UNROLLED_LIMIT` coefficients)."""
    cholesky = xp.linalg.cholesky(N)
    return cholesky, xp.log(xp.diagonal(cholesky, axis1=-2, axis2=-1)).sum(axis=-1)


def solve_lower(cholesky, rhs, xp):
    """``L⁻¹ rhs`` for the factor of :func:`cholesky_log_det` and ``rhs`` (..., k)."""
    if xp is np:
        return np.linalg.solve(cholesky, rhs[..., None])[..., 0]
    import jax

    return jax.scipy.linalg.solve_triangular(cholesky, rhs[..., None], lower=True)[..., 0]


def solve_upper(cholesky, rhs):
    """``L⁻ᵀ rhs`` for the factor of :func:`cholesky_log_det` and ``rhs`` (..., k); NumPy."""
    return np.linalg.solve(np.swapaxes(cholesky, -1, -2), rhs[..., None])[..., 0]


def matheron_batched(mu, tau, inv_sd, root, root_theta_hat, phi0, eps0):
    """θ draws of :meth:`~sklearn_lambda3.bayes._hierarchical.HierarchicalModel.complete` for a
    block of draws, as (draws, series, k, k) arrays and LAPACK."""
    k = mu.shape[-1]
    t, m, inv_sd = tau[:, None, :], mu[:, None, :], inv_sd[:, :, None]
    # N = I + B Bᵀ with B = R diag(τ) / σ; the target R(θ̂ - μ) / σ.
    N = np.eye(k) + inv_sd[..., None] ** 2 * np.einsum("sim,sjm,dm->dsij", root, root, tau**2, optimize=True)
    centred = root_theta_hat[None] - np.einsum("sij,dj->dsi", root, mu)
    residual = inv_sd * (centred - np.einsum("sij,dsj->dsi", root, t * phi0)) - eps0
    cholesky, _ = cholesky_log_det(N, np)
    solved = solve_upper(cholesky, solve_lower(cholesky, residual, np))
    return m + t * (phi0 + t * inv_sd * np.einsum("sji,dsj->dsi", root, solved))


def matheron_unrolled(mu, tau, inv_sd, root, root_theta_hat, phi0, eps0):
    """:func:`matheron_batched` entry by entry, each operation one (draws, series) array."""
    k = mu.shape[-1]
    inv_var = inv_sd**2
    R = [[root[:, i, m] for m in range(k)] for i in range(k)]
    t = [tau[:, m, None] for m in range(k)]
    phi0 = [phi0[..., m] for m in range(k)]
    t_phi0 = [t[m] * phi0[m] for m in range(k)]
    N = [
        [(i == j) + inv_var * sum(R[i][m] * R[j][m] * t[m] ** 2 for m in range(k)) for j in range(i + 1)]
        for i in range(k)
    ]
    residual = [
        inv_sd * (root_theta_hat[:, i] - sum(R[i][m] * (mu[:, m, None] + t_phi0[m]) for m in range(k)))
        - eps0[..., i]
        for i in range(k)
    ]
    cholesky, _ = unrolled_cholesky(lambda i, j: N[i][j], k, np)
    solved = backward_substitution(cholesky, forward_substitution(cholesky, residual))
    theta = np.empty(phi0[0].shape + (k,))
    for m in range(k):
        theta[..., m] = (
            mu[:, m, None] + t_phi0[m] + t[m] ** 2 * inv_sd * sum(R[i][m] * solved[i] for i in range(k))
        )
    return theta


def collapsed_terms(tau2, mu, inv_var, root, root_theta_hat, unrolled):
    """``½ log|N_s|`` and ``ρ_sᵀN_s⁻¹ρ_s`` of every series (JAX; see
    :class:`~sklearn_lambda3.bayes._hierarchical.HierarchicalModel`).

    ``tau2`` (τ²) and ``mu`` are (k,), ``inv_var`` (n_series,) holds 1 / σ_s²; ``root`` holds
    the square roots ``R_s`` and ``root_theta_hat`` the ``R_s θ̂_s``, laid out by
    :meth:`~sklearn_lambda3.bayes._hierarchical.HierarchicalModel.prepare`: with ``unrolled``,
    (k, k, n_series) and (k, n_series) (each entry one contiguous array over the series; the
    factorisation and its gradient written out entry by entry: :func:`_unrolled_collapsed_terms`),
    else (n_series, k, k) and (n_series, k) for LAPACK.
    """
    import jax.numpy as jnp

    k = mu.shape[-1]
    if unrolled:
        return _unrolled_collapsed_terms()(tau2, mu, inv_var, root, root_theta_hat)
    rho = jnp.sqrt(inv_var)[:, None] * (root @ mu - root_theta_hat)
    N = jnp.eye(k) + inv_var[:, None, None] * jnp.einsum("sim,sjm->sij", root * tau2, root)
    cholesky, half_log_det = cholesky_log_det(N, jnp)
    return half_log_det, (solve_lower(cholesky, rho, jnp) ** 2).sum(axis=-1)


def _unrolled_forward(tau2, mu, inv_var, root, root_theta_hat, gradient):
    """:func:`collapsed_terms` entry by entry; with ``gradient``, also what its gradient needs.

    With ``L⁻¹`` the inverse Cholesky factor of N, ``x = L⁻¹ρ`` (so ``ρᵀN⁻¹ρ = |x|²``), ``a =
    L⁻ᵀx = N⁻¹ρ`` and ``W = L⁻¹R`` (so ``(RᵀN⁻¹R)_mm = Σ_p W_pm²``), the derivatives are, with
    s = 1 / σ²: ``∂½log|N|/∂τ²_m = ½ s Σ_p W_pm²``, ``∂ρᵀN⁻¹ρ/∂τ²_m = -s (Rᵀa)_m²``,
    ``∂ρᵀN⁻¹ρ/∂μ = 2√s Rᵀa``, ``∂½log|N|/∂s = ½ Σ_m τ²_m Σ_p W_pm²`` and ``∂ρᵀN⁻¹ρ/∂s =
    |a|² / s``: sums of products, no differences that cancel.
    """
    import jax.numpy as jnp

    k = mu.shape[-1]
    root_inv_var = jnp.sqrt(inv_var)
    rho = [root_inv_var * (sum(root[i, m] * mu[m] for m in range(k)) - root_theta_hat[i]) for i in range(k)]
    N = [
        [(i == j) + inv_var * sum(root[i, m] * root[j, m] * tau2[m] for m in range(k)) for j in range(i + 1)]
        for i in range(k)
    ]
    cholesky, half_log_det = unrolled_cholesky(lambda i, j: N[i][j], k, jnp)
    whitened = forward_substitution(cholesky, rho)
    value = (half_log_det, sum(entry**2 for entry in whitened))
    if not gradient:
        return value
    # L⁻¹, lower triangular, row by row.
    inverse = [[None] * (i + 1) for i in range(k)]
    for i in range(k):
        inverse[i][i] = 1.0 / cholesky[i][i]
        for j in range(i):
            inverse[i][j] = -sum(cholesky[i][p] * inverse[p][j] for p in range(j, i)) * inverse[i][i]
    a = [sum(inverse[p][j] * whitened[p] for p in range(j, k)) for j in range(k)]
    projected = [sum(root[i, m] * a[i] for i in range(k)) for m in range(k)]  # Rᵀa
    leverage = [  # (RᵀN⁻¹R)_mm
        sum(sum(inverse[p][j] * root[j, m] for j in range(p + 1)) ** 2 for p in range(k)) for m in range(k)
    ]
    return value, (tau2, inv_var, root_inv_var, projected, leverage, sum(entry**2 for entry in a))


@functools.cache
def _unrolled_collapsed_terms():
    """:func:`collapsed_terms` for at most :data:`UNROLLED_LIMIT` coefficients, with its
    gradient written out (``jax.custom_vjp``): the potential's gradient then takes less than half
    the time it takes with JAX's own gradient of the entry-by-entry forward pass."""
    import jax
    import jax.numpy as jnp

    @jax.custom_vjp
    def terms(tau2, mu, inv_var, root, root_theta_hat):
        return _unrolled_forward(tau2, mu, inv_var, root, root_theta_hat, gradient=False)

    def forward(tau2, mu, inv_var, root, root_theta_hat):
        return _unrolled_forward(tau2, mu, inv_var, root, root_theta_hat, gradient=True)

    def backward(residuals, cotangents):
        tau2, inv_var, root_inv_var, projected, leverage, a_norm2 = residuals
        d_log_det, d_quadratic = cotangents
        k = len(leverage)
        d_tau2 = jnp.stack(
            [
                (inv_var * (0.5 * d_log_det * leverage[m] - d_quadratic * projected[m] ** 2)).sum()
                for m in range(k)
            ]
        )
        d_mu = jnp.stack([(2.0 * d_quadratic * root_inv_var * projected[m]).sum() for m in range(k)])
        d_inv_var = (
            0.5 * d_log_det * sum(tau2[m] * leverage[m] for m in range(k)) + d_quadratic * a_norm2 / inv_var
        )
        return d_tau2, d_mu, d_inv_var, None, None

    terms.defvjp(forward, backward)
    return terms
