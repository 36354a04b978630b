"""The dynamic model's Kalman filter on the host: the (τ, σ) posterior's mode and curvature,
the evidence shrinkage, and the exact draws given each posterior draw (NumPy and Numba only).

``inputs`` is the tuple of :data:`KALMAN_INPUTS` (standardised, float64) that every kernel of
:mod:`sklearn_lambda3.bayes._kalman._kernels` takes.
"""

import math

import numpy as np
from scipy.optimize import minimize, minimize_scalar

from .._noise import NOISE_FLOOR
from .._priors import MIN_SHRINKAGE
from ._kernels import columns_loglik_and_grad, conditional_draws, likelihood_columns

KALMAN_INPUTS = ("y", "design", "prior_scale", "change", "level0_var", "step_var", "tension")


def _scale_posterior(inputs, prior, columns=None):
    """Log posterior of (τ, σ) (HalfNormal priors of scales ``prior``) and its gradient.

    ``columns``: the likelihood kernel's columns and layout of ``inputs``
    (:func:`likelihood_columns`), built here if not given. They do not depend on the prior
    scales, so a caller that varies only those builds them once: the kernel on the columns is
    :func:`batched_loglik_and_grad` less that step.
    """
    y, design, *rest = inputs
    if columns is None:
        columns = likelihood_columns(y, design)

    def log_density(scales):
        try:
            values, grads = columns_loglik_and_grad(
                y, *columns, *rest, scales[:1].copy(), scales[1:].copy(), np.zeros(1), NOISE_FLOOR
            )
        except Exception as error:
            raise ValueError(
                f"the dynamic model's Kalman filter failed: {type(error).__name__}: {error} at "
                f"(tau, sigma) = {scales.tolist()}. Check X and y for extreme or degenerate values."
            ) from error
        return values[0] - 0.5 * np.sum((scales / prior) ** 2), grads[0, :2] - scales / prior**2

    return log_density


def _scale_mode(log_density, starts):
    """BFGS in (log τ, log σ) from each start: the best result, or None if none is finite."""

    def negative_log(z):
        scales = np.exp(np.clip(z, -30.0, 30.0))
        value, grad = log_density(scales)
        value, grad = value + z.sum(), grad * scales + 1.0
        if not (np.isfinite(value) and np.all(np.isfinite(grad))):
            return np.inf, np.zeros(2)
        return -value, -grad

    best = None
    for start in starts:
        result = minimize(negative_log, start, jac=True, method="BFGS")
        found = np.all(np.isfinite(result.x)) and np.isfinite(result.fun)
        if found and (best is None or result.fun < best.fun):
            best = result
    return best


def dynamic_evidence_shrinkage(inputs, level_scale, noise_scale, shrunk=None):
    """The factor ``g`` in [1e-4, 1] of the coefficients' prior scales that maximises the evidence.

    The dynamic model's counterpart of :func:`sklearn_lambda3._priors.evidence_shrinkage`:
    the collapsed likelihood of the Kalman filter already integrates the level, the steps
    and the coefficients out, so it is the marginal likelihood of ``g`` once τ and σ are set
    to their posterior mode (profiled, for each ``g``). A grid of half decades, then a
    bounded search between the neighbours of the best one. ``shrunk`` (boolean, one per design
    column; default all) says which columns' prior scales ``g`` multiplies: the seasons and the
    drift keep theirs.
    """
    prior = np.array([float(level_scale), float(noise_scale)])
    starts = [np.log(0.5 * prior), np.log([0.05, 0.5] * prior)]
    base = inputs[2]
    shrunk = np.ones(base.shape, dtype=bool) if shrunk is None else np.asarray(shrunk, dtype=bool)

    columns = likelihood_columns(*inputs[:2])

    def objective(log_g):
        scaled = (*inputs[:2], np.where(shrunk, base * math.exp(log_g), base), *inputs[3:])
        best = _scale_mode(_scale_posterior(scaled, prior, columns), starts)
        if best is None:
            return np.inf
        starts[:] = [best.x, *starts[:1]]
        return float(best.fun)

    grid = np.linspace(math.log(MIN_SHRINKAGE), 0.0, 9)
    values = [objective(log_g) for log_g in grid[::-1]][::-1]
    if not np.any(np.isfinite(values)):
        return 1.0
    best = int(np.nanargmin(values))
    low, high = grid[max(best - 1, 0)], grid[min(best + 1, len(grid) - 1)]
    refined = minimize_scalar(objective, bounds=(low, high), method="bounded", options={"xatol": 1e-2})
    log_g = refined.x if refined.fun <= values[best] else grid[best]
    return float(min(math.exp(log_g), 1.0))


def dynamic_reference(inputs, level_scale, noise_scale):
    """Centre and whitening of the dynamic model's sampling coordinate, in float64 on the host.

    The mode of the posterior of ``(τ, σ)`` (tension noise: σ the noise level σ_base +
    σ_scale, at share 0), found by BFGS in log coordinates on the exact collapsed likelihood
    with its gradient, and the inverse Hessian there in (τ, σ) (finite differences of the
    gradient; each sd at most the prior scale and twice the mode), returned as σ's centre
    and sd and τ's regression on σ (see
    :meth:`~sklearn_lambda3.bayes._dynamic.DynamicModel.program`). It only fixes the
    coordinates NUTS moves in: the posterior is the model's whatever it returns, and a failed
    search falls back to half the prior scales with the prior scales as spread.
    """
    prior = np.array([float(level_scale), float(noise_scale)])
    log_density = _scale_posterior(inputs, prior)
    fallback = {
        "center": 0.5 * prior,
        "spread": prior,
        "slope": np.float64(0.0),
        "bend_scale": np.float64(1.0),
    }
    best = _scale_mode(log_density, (np.log(0.5 * prior), np.log([0.05, 0.5] * prior)))
    if best is None:
        return fallback
    z = np.clip(best.x, -30.0, 30.0)
    center = np.exp(z)

    def log_gradient(z):
        """Gradient of the (τ, σ) log density with respect to (log τ, log σ)."""
        return log_density(np.exp(z))[1] * np.exp(z)

    # The Hessian in (τ, σ) from differences in log coordinates, which stay well scaled
    # whatever the mode (σ at the noise floor for a constant target, say):
    # ∂²/∂zᵢ∂zⱼ = σᵢ σⱼ Hᵢⱼ + δᵢⱼ σᵢ ∂ᵢ.
    log_hessian = np.empty((2, 2))
    for i in range(2):
        step = np.zeros(2)
        step[i] = 1e-4
        log_hessian[:, i] = (log_gradient(z - step) - log_gradient(z + step)) / 2e-4
    log_hessian = 0.5 * (log_hessian + log_hessian.T) + np.diag(log_gradient(z))
    hessian = log_hessian / np.outer(center, center)
    if not np.all(np.isfinite(hessian)):
        return {**fallback, "center": center}
    eigval, eigvec = np.linalg.eigh(hessian)
    eigval = np.clip(eigval, 1.0 / np.max(prior) ** 2, 1e40)
    covariance = (eigvec / eigval) @ eigvec.T
    # Each sd at most its prior scale, and at most twice the mode (or the noise floor): where
    # the posterior piles up at 0, the mode in log coordinates sits at its scale, while the
    # curvature can vanish (a constant target: flat in σ below the noise floor).
    sd = np.sqrt(np.diag(covariance))
    cap = np.minimum(prior, 2.0 * np.maximum(center, NOISE_FLOOR))
    covariance *= np.outer(np.minimum(1.0, cap / sd), np.minimum(1.0, cap / sd))
    # σ's marginal sd, τ's regression on σ and its conditional sd.
    slope = covariance[0, 1] / covariance[1, 1]
    spread = np.sqrt([covariance[0, 0] - slope * covariance[0, 1], covariance[1, 1]])
    # σ² / (2 c_σ) has slope 1 at the mode; c_σ is bounded below by its sd, where σ's
    # posterior reaches 0.
    bend_scale = 0.5 / max(center[1], spread[1])
    return {
        "center": center,
        "spread": spread,
        "slope": np.float64(slope),
        "bend_scale": np.float64(bend_scale),
    }


def laplace_log_evidence(inputs, level_scale, noise_scale):
    """Laplace approximation of the log marginal likelihood of the standardised series.

    The level, the steps and the coefficients are integrated out exactly by the filter; τ and σ
    (constant noise, HalfNormal priors of scales ``level_scale`` and ``noise_scale``) by Laplace's
    method in ``(log τ, log σ)``, where the posterior is closer to Gaussian than in (τ, σ) and
    its mode cannot sit on the boundary. ``-inf`` where no mode is found.
    """
    prior = np.array([float(level_scale), float(noise_scale)])
    log_density = _scale_posterior(inputs, prior)
    best = _scale_mode(log_density, (np.log(0.5 * prior), np.log([0.05, 0.5] * prior)))
    if best is None:
        return -np.inf
    z = np.clip(best.x, -30.0, 30.0)

    def gradient(z):
        """Gradient of the log density in log coordinates, its Jacobian included."""
        return log_density(np.exp(z))[1] * np.exp(z) + 1.0

    hessian = np.empty((2, 2))
    for i in range(2):
        step = np.zeros(2)
        step[i] = 1e-4
        hessian[:, i] = (gradient(z + step) - gradient(z - step)) / 2e-4
    precision = -0.5 * (hessian + hessian.T)
    eigenvalues = np.linalg.eigvalsh(precision)
    if not np.all(np.isfinite(eigenvalues)) or eigenvalues.min() <= 0:
        return -np.inf
    # The HalfNormal priors' normalising constants: log(√(2/π) / s) each.
    normaliser = np.sum(0.5 * np.log(2.0 / np.pi) - np.log(prior))
    return float(-best.fun + normaliser + np.log(2.0 * np.pi) - 0.5 * np.sum(np.log(eigenvalues)))


def conditional_posterior(inputs, draws, noise, path_draws, seed):
    """Coefficients and last level for every NUTS draw, level paths for ``path_draws``.

    Given a draw of (τ, σ) the model is linear-Gaussian, so β, the level path and the last
    level are drawn exactly (forward filtering, backward sampling) on the host, from
    normals of a generator seeded by ``seed``: the result is reproducible.
    """
    tau = draws["tau"].reshape(-1).astype(np.float64)
    if noise == "constant":
        sigma_base = draws["sigma"].reshape(-1).astype(np.float64)
        sigma_scale = np.zeros_like(sigma_base)
    else:
        sigma_base = draws["sigma_base"].reshape(-1).astype(np.float64)
        sigma_scale = draws["sigma_scale"].reshape(-1).astype(np.float64)
    rng = np.random.default_rng([seed, 1])
    z_beta = rng.standard_normal((len(tau), inputs[1].shape[1]))
    z_last = rng.standard_normal(len(tau))
    z_path = rng.standard_normal((len(path_draws), len(inputs[0])))
    beta, last, _ = conditional_draws(
        *inputs, tau, sigma_base, sigma_scale, NOISE_FLOOR, z_beta, z_last, z_path[:0], False
    )
    _, _, paths = conditional_draws(
        *inputs,
        tau[path_draws],
        sigma_base[path_draws],
        sigma_scale[path_draws],
        NOISE_FLOOR,
        z_beta[path_draws],
        z_last[path_draws],
        z_path,
        True,
    )
    return {"beta": beta, "level_last": last, "level": paths}
