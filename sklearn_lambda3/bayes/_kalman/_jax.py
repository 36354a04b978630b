"""The dynamic model's collapsed likelihood written in JAX: the Kalman filter inside the program.

The same marginal log-likelihood as the Numba kernel
(:func:`sklearn_lambda3.bayes._kalman._kernels.batched_loglik_and_grad`): the level (prior
``Normal(0, level0_var)`` at the first step), the change-point steps (an extra innovation
variance ``step_var`` at each change point) and the coefficients β (``Normal(0, diag(s²))``)
are integrated out exactly, a missing step only predicts. It is one JAX function of
``(τ, σ_base, σ_scale)`` and the series, so the sampler needs no host callback and runs on any
device; its gradient is JAX's (reverse mode through the filter).

The filter's two recursions are run by ``method``:

- ``"parallel"``: parallel in time (Särkkä & García-Fernández, 2021, for a scalar state). The
  variance recursion ``p_t = r_t (p_{t-1} + q_t) / (p_{t-1} + q_t + r_t)`` is a Möbius map of
  ``p_{t-1}``, so the filtered variances are the prefix products of 2 × 2 matrices with
  non-negative entries (no cancellation, an ``associative_scan``); given them, the filtered
  means of the columns ``[y, w_1 … w_k]`` follow the linear recursion ``m_t = (1 - K_t) m_{t-1}
  + K_t x_t``, another associative scan. O(n) work, O(log n) depth.
- ``"sequential"``: one ``lax.scan`` step per time step.

Either way the compiled program does not grow with the series: its length is an array shape.
The scaled innovations ``e`` then give β's normal matrix in square-root form, the triangular
factor of the QR decomposition of ``[diag(1/s), 0; e_w, e_y]``, as the Numba kernel's Givens
rotations do (see :func:`_normal_terms`). Padding a series with missing steps at its end
changes neither the value nor the gradient, which :func:`filter_data` uses to bucket lengths.
"""

import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from .._noise import NOISE_FLOOR

_LOG_2PI = math.log(2.0 * math.pi)

# The arrays of :func:`filter_data`, the JAX filter's inputs in the program's data.
FILTER_DATA = (
    "kalman_y",
    "kalman_observed",
    "kalman_design",
    "kalman_prior_scale",
    "kalman_change",
    "kalman_tension",
    "kalman_level0_var",
    "kalman_step_var",
)


def bucket_length(n):
    """The padded length of a series of ``n`` steps: ``n`` rounded up to 2^j · {1, 1.25, 1.5, 1.75}.

    At most 25 % of padding, and four compiled programs per doubling of the length.
    """
    if n <= 8:
        return int(n)
    octave = 2 ** (int(n - 1).bit_length() - 3)
    return int(-(-n // octave) * octave)


def filter_data(inputs, length=None):
    """The JAX filter's inputs (NumPy, float64) from the kernels' ``inputs``, padded to ``length``.

    ``inputs`` is the tuple of :data:`sklearn_lambda3.bayes._kalman.KALMAN_INPUTS`. NaN steps of
    ``y`` become ``kalman_observed = 0`` (and ``y = 0``, so no NaN reaches the program); the
    padding rows are missing steps, no change point, zero regressors and tension.
    """
    y, design, prior_scale, change, level0_var, step_var, tension = inputs
    n = len(y)
    length = n if length is None else int(length)
    if length < n:
        raise ValueError(f"length must be at least the series' {n} steps; got {length}.")
    pad = length - n
    observed = ~np.isnan(y)
    return {
        "kalman_y": np.pad(np.where(observed, y, 0.0), (0, pad)),
        "kalman_observed": np.pad(observed.astype(np.float64), (0, pad)),
        "kalman_design": np.pad(np.asarray(design, dtype=np.float64), ((0, pad), (0, 0))),
        "kalman_prior_scale": np.asarray(prior_scale, dtype=np.float64),
        "kalman_change": np.pad(np.asarray(change, dtype=np.float64), (0, pad)),
        "kalman_tension": np.pad(np.asarray(tension, dtype=np.float64), (0, pad)),
        "kalman_level0_var": np.float64(level0_var),
        "kalman_step_var": np.float64(step_var),
    }


def _variance_step(later, earlier):
    """Composition of two variance maps (``earlier`` first), each ``p ↦ (a p + b) / (c p + 1)``."""
    a1, b1, c1 = earlier
    a2, b2, c2 = later
    scale = 1.0 / (c2 * b1 + 1.0)
    return (a2 * a1 + b2 * c1) * scale, (a2 * b1 + b2) * scale, (c2 * a1 + c1) * scale


def _mean_step(later, earlier):
    """Composition of two affine maps of the means (``earlier`` first), each ``m ↦ a m + b``."""
    a1, b1 = earlier
    a2, b2 = later
    return a2 * a1, a2[:, None] * b1 + b2


def _parallel_recursions(q, r, observed, columns):
    """Predicted variances ``P_t`` and the means ``m_{t-1}`` before each step, in parallel."""
    # Observed: p ↦ r (p + q) / (p + q + r); missing: p ↦ p + q. Normalised to a unit corner.
    inv = 1.0 / (q + r)
    elements = (
        jnp.where(observed, r * inv, 1.0),
        jnp.where(observed, r * q * inv, q),
        jnp.where(observed, inv, 0.0),
    )
    # The filtered variance after step t, from p = 0 before the first step, is the map's b.
    filtered = jax.lax.associative_scan(lambda x, y: _variance_step(y, x), elements)[1]
    predicted = jnp.concatenate([jnp.zeros(1, q.dtype), filtered[:-1]]) + q
    gain = jnp.where(observed, predicted / (predicted + r), 0.0)
    keep = jnp.where(observed, r / (predicted + r), 1.0)
    means = jax.lax.associative_scan(lambda x, y: _mean_step(y, x), (keep, gain[:, None] * columns))[1]
    before = jnp.concatenate([jnp.zeros((1, columns.shape[1]), columns.dtype), means[:-1]])
    return predicted, before


def _sequential_recursions(q, r, observed, columns):
    """Predicted variances ``P_t`` and the means ``m_{t-1}`` before each step, step by step."""

    def step(carry, inputs):
        p, mean = carry
        q_t, r_t, seen, x = inputs
        predicted = p + q_t
        total = predicted + r_t
        gain = jnp.where(seen, predicted / total, 0.0)
        # p = P r / F, without the cancellation in 1 - K when P >> r.
        p = jnp.where(seen, predicted * r_t / total, predicted)
        return (p, mean + gain * (x - mean)), (predicted, mean)

    start = (jnp.zeros((), q.dtype), jnp.zeros(columns.shape[1], columns.dtype))
    _, (predicted, before) = jax.lax.scan(step, start, (q, r, observed, columns))
    return predicted, before


@partial(jax.custom_jvp, nondiff_argnums=(1,))
def _normal_terms(rows, k):
    """``S + log det A`` of the Gram matrix ``G = rowsᵀ rows = [[A, b], [bᵀ, c]]``.

    ``A`` is the leading ``k × k`` block (β's normal matrix with its prior rows), ``S = c - bᵀ
    A⁻¹ b``. Both come from the triangular factor ``R`` of a QR decomposition of ``rows``
    (``RᵀR = G``): ``log det A = Σ_{i<k} log R_ii²``, ``S = R_kk²``, so their accuracy is that of
    ``rows``, not of their square (see the Numba kernel's ``_add_row``).
    """
    return _normal_value(jnp.linalg.qr(rows, mode="r"), k)


def _normal_value(R, k):
    diagonal = jnp.diagonal(R)
    return diagonal[k] ** 2 + jnp.sum(jnp.log(diagonal[:k] ** 2))


@_normal_terms.defjvp
def _normal_terms_jvp(k, primals, tangents):
    (rows,) = primals
    (d_rows,) = tangents
    R = jnp.linalg.qr(rows, mode="r")
    # With T = [[R_k⁻¹, -R_k⁻¹ R[:k, k]], [0, 1]]: S = ‖rows z‖² at its minimum over β (z the
    # last column of T) and d log det A = tr(A⁻¹ dA) = d ‖rows_w R_k⁻¹‖² at fixed R, so the
    # tangent is 2 ⟨rows T, d_rows T⟩, as in the Numba kernel's backward pass.
    T = jnp.zeros((k + 1, k + 1), R.dtype).at[k, k].set(1.0)
    if k:
        R_inv = jax.scipy.linalg.solve_triangular(R[:k, :k], jnp.eye(k, dtype=R.dtype), lower=False)
        T = T.at[:k, :k].set(R_inv).at[:k, k].set(-(R_inv @ R[:k, k]))
    return _normal_value(R, k), 2.0 * jnp.sum((rows @ T) * (d_rows @ T))


def _log_likelihood(params, data, method):
    tau, sigma_base, sigma_scale = params[0], params[1], params[2]
    y, observed, design = data["kalman_y"], data["kalman_observed"] > 0, data["kalman_design"]
    prior_scale = data["kalman_prior_scale"]
    n, k = design.shape
    first = jnp.arange(n) == 0
    q = (
        jnp.where(first, data["kalman_level0_var"], tau * tau)
        + data["kalman_change"] * data["kalman_step_var"]
    )
    sigma = sigma_base + sigma_scale * data["kalman_tension"] + NOISE_FLOOR
    r = sigma * sigma
    columns = jnp.concatenate([design, y[:, None]], axis=1)  # [w, y]: β's block first
    recursions = _parallel_recursions if method == "parallel" else _sequential_recursions
    predicted, before = recursions(q, r, observed, columns)
    total = predicted + r
    scaled = jnp.where(observed[:, None], (columns - before) / jnp.sqrt(total)[:, None], 0.0)
    log_f = jnp.sum(jnp.where(observed, jnp.log(total), 0.0))
    prior_rows = jnp.concatenate([jnp.diag(1.0 / prior_scale), jnp.zeros((k, 1), y.dtype)], axis=1)
    normal = _normal_terms(jnp.concatenate([prior_rows, scaled]), k)
    n_obs = jnp.sum(observed)
    return -0.5 * n_obs * _LOG_2PI - 0.5 * log_f - 0.5 * normal - jnp.sum(jnp.log(prior_scale))


@partial(jax.custom_vjp, nondiff_argnums=(2,))
def log_likelihood(params, data, method="parallel"):
    """Collapsed log-likelihood of the dynamic model at ``params = (τ, σ_base, σ_scale)``.

    ``data`` holds the arrays of :func:`filter_data`. A point where the value or its gradient
    is not finite (NUTS probing an overflowing τ, say) gets ``-inf`` and a zero gradient, as in
    the Numba kernel. Batched over chains by ``vmap``.
    """
    return _checked(params, data, method)[0]


def _checked(params, data, method):
    value, grad = jax.value_and_grad(_log_likelihood)(params, data, method)
    finite = jnp.isfinite(value) & jnp.all(jnp.isfinite(grad))
    return jnp.where(finite, value, -jnp.inf), jnp.where(finite, grad, 0.0)


def _log_likelihood_fwd(params, data, method):
    value, grad = _checked(params, data, method)
    return value, grad


def _log_likelihood_bwd(method, grad, cotangent):
    return cotangent * grad, None


log_likelihood.defvjp(_log_likelihood_fwd, _log_likelihood_bwd)
