"""Kalman test cases and references shared by the files of ``tests/bayes/kalman/``.

A plain module, imported as ``from _kalman_helpers import ...`` (``tests/conftest.py`` puts this
folder on ``sys.path``): small dense-checkable cases, the dense Gaussian moments and score, and
the Numba and JAX filters' value and gradient at given parameters.
"""

import jax
import jax.numpy as jnp
import numpy as np

from sklearn_lambda3.bayes._inference import _precision
from sklearn_lambda3.bayes._kalman._jax import filter_data, log_likelihood
from sklearn_lambda3.bayes._kalman._kernels import batched_loglik_and_grad
from sklearn_lambda3.bayes._noise import NOISE_FLOOR

FLOOR = 1e-6


def small_case(n=25, k=2, seed=0):
    rng = np.random.default_rng(seed)
    change = np.zeros(n)
    change[[7, 16]] = 1.0
    return {
        "y": rng.standard_normal(n).cumsum(),
        "design": rng.standard_normal((n, k)),
        "prior_scale": rng.uniform(0.5, 2.0, k),
        "change": change,
        "level0_var": 4.0,
        "step_var": 9.0,
        "tension": rng.uniform(0.2, 2.0, n),
    }


def dense_moments(case, tau, sigma_base, sigma_scale):
    """Joint Gaussian pieces of (level, β, y) written out densely from the model's definition."""
    n = len(case["y"])
    q = np.where(np.arange(n) == 0, case["level0_var"], tau**2) + case["change"] * case["step_var"]
    # The level is a sum of independent innovations: Cov(a_i, a_j) = Σ_{t <= min(i, j)} q_t.
    level_cov = np.cumsum(q)[np.minimum.outer(np.arange(n), np.arange(n))]
    coef_cov = np.diag(case["prior_scale"] ** 2)
    noise_sd = sigma_base + sigma_scale * case["tension"] + FLOOR
    W = case["design"]
    y_cov = level_cov + W @ coef_cov @ W.T + np.diag(noise_sd**2)
    return level_cov, coef_cov, y_cov


def dense_posterior(case, tau, sigma_base, sigma_scale):
    """Mean and covariance of (level path, β) given the observed steps of y, by conditioning
    their joint Gaussian densely: Cov(level, y) = level_cov, Cov(β, y) = S Wᵀ."""
    n, k = case["design"].shape
    observed = ~np.isnan(case["y"])
    level_cov, coef_cov, y_cov = dense_moments(case, tau, sigma_base, sigma_scale)
    cross = np.vstack([level_cov, coef_cov @ case["design"].T])[:, observed]
    solved = np.linalg.solve(y_cov[np.ix_(observed, observed)], cross.T).T
    mean = solved @ case["y"][observed]
    cov = np.block([[level_cov, np.zeros((n, k))], [np.zeros((k, n)), coef_cov]]) - solved @ cross.T
    return mean, cov


def dense_gradient(case, tau, sigma_base, sigma_scale):
    """``½ tr((ααᵀ - C⁻¹) ∂C/∂θ)``, ``α = C⁻¹y``, over the observed steps: the score of the dense Normal."""
    n = len(case["y"])
    observed = ~np.isnan(case["y"])
    _, _, y_cov = dense_moments(case, tau, sigma_base, sigma_scale)
    noise_sd = sigma_base + sigma_scale * case["tension"] + FLOOR
    steps = np.arange(n)
    derivatives = [
        2 * tau * np.minimum.outer(steps, steps),  # τ² enters every step after the first
        np.diag(2 * noise_sd),
        np.diag(2 * noise_sd * case["tension"]),
    ]
    cov = y_cov[np.ix_(observed, observed)]
    alpha = np.linalg.solve(cov, case["y"][observed])
    weight = np.outer(alpha, alpha) - np.linalg.inv(cov)
    return np.array([0.5 * np.sum(weight * d[np.ix_(observed, observed)]) for d in derivatives])


METHODS = ("parallel", "sequential")


def numba_value_and_grad(inputs, params):
    values, grads = batched_loglik_and_grad(
        *inputs, *(np.array([value], dtype=np.float64) for value in params), NOISE_FLOOR
    )
    return values[0], grads[0]


_VALUE_AND_GRAD = jax.jit(jax.value_and_grad(log_likelihood), static_argnums=2)


def jax_value_and_grad(inputs, params, method, length=None):
    with _precision(True):
        data = {name: jnp.asarray(value) for name, value in filter_data(inputs, length).items()}
        value, grad = _VALUE_AND_GRAD(jnp.asarray(params, dtype=jnp.float64), data, method)
        assert value.dtype == jnp.float64
        return float(value), np.asarray(grad)


PERIOD, HARMONICS = 24, 3


def fourier_columns(n, period=PERIOD, harmonics=HARMONICS):
    """``cos(2πht/p), sin(2πht/p)`` for ``h = 1 … harmonics``, ``t = 0 … n - 1``: (n, 2 harmonics)."""
    angle = 2 * np.pi * np.outer(np.arange(n), np.arange(1, harmonics + 1)) / period
    return np.column_stack([np.cos(angle), np.sin(angle)])


def structural_case(n=144, seed=0):
    """A level with a step at ``n // 2``, a season of period 24, a drift and 2 regressors; NaN
    steps (the first, an inner gap, one at the change point and the last); tension noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    regressors = rng.standard_normal((n, 2))
    design = np.column_stack([fourier_columns(n), t / n, regressors])
    change = np.zeros(n)
    change[n // 2] = 1.0
    level = np.cumsum(0.2 * rng.standard_normal(n)) + 2.0 * (t >= n // 2)
    y = level + design @ rng.standard_normal(design.shape[1]) + 0.3 * rng.standard_normal(n)
    y[[0, 30, 31, 32, n // 2, n - 1]] = np.nan
    return {
        "y": y,
        "design": design,
        "prior_scale": np.r_[np.full(2 * HARMONICS, 0.8), 1.5, 1.0, 0.5],
        "change": change,
        "level0_var": 4.0,
        "step_var": 9.0,
        "tension": rng.uniform(0.2, 2.0, n),
    }
