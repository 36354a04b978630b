"""The noise of the Bayesian models: its sites and floors, the collapsed-noise likelihood term
shared by the linear and hierarchical models, the method's tension formula and the estimators'
tension-noise mixin."""

import numpy as np

from .._columns import TENSION_ENDING

# Smallest noise scale in standard deviations of y: keeps the posterior proper when the
# target is (nearly) constant.
NOISE_FLOOR = 1e-6

# Sites of each noise model, in units of the standardised target.
NOISE_SITES = {"constant": ("sigma",), "tension": ("sigma_base", "sigma_scale")}

# Floor of the reference noise variance σ̂² of the collapsed likelihood (standardised units).
NOISE_FLOOR_VARIANCE = 1e-12


def exp_minus_one_minus(x):
    """``exp(x) - 1 - x`` without cancellation near 0 (float32-safe; JAX)."""
    import jax.numpy as jnp

    series = x * x * (0.5 + x * (1.0 / 6.0 + x * (1.0 / 24.0 + x / 120.0)))
    return jnp.where(jnp.abs(x) < 0.1, series, jnp.expm1(x) - x)


def relative_log_precision(sigma, log_sigma_hat):
    """``x = log(σ̂² / σ²)``, the coordinate of :func:`collapsed_noise_loglik` (σ above its floor; JAX)."""
    import jax.numpy as jnp

    return -2.0 * (jnp.log(sigma + NOISE_FLOOR) - log_sigma_hat)


def collapsed_noise_loglik(x, n, excess):
    """Gaussian log-likelihood of ``n`` observations in σ, written relative to σ̂ (JAX).

    With ``x = log(σ̂² / σ²)`` and ``excess = (RSS - n σ̂²) / (2σ̂²)`` plus any residual term
    over ``2σ̂²``, the log-likelihood ``-n log σ - RSS / (2σ²)`` is, up to a constant,
    ``-(n/2)(e^x - 1 - x) - excess · e^x``. Every term is then O(k) near the mode, so float32
    keeps the energy differences NUTS relies on exact enough at any n (the plain form has terms
    of order n that float32 rounds to ~n·1e-7).
    """
    import jax.numpy as jnp

    return -0.5 * n * exp_minus_one_minus(x) - excess * jnp.exp(x)


def tension_noise(sigma_base, sigma_scale, tension):
    """The method's tension-dependent noise sd ``σ_t = σ_base + σ_scale · τ_t`` (NumPy or JAX).

    ``τ_t`` is the ρT regressor divided by its training mean, so ``σ_scale`` is the extra noise
    at the typical tension.
    """
    return sigma_base + sigma_scale * tension


def tension_noise_variance(sigma_base, sigma_scale, tension):
    """Posterior mean of ``σ_t²`` over draws of ``(σ_base, σ_scale)``, for every ``τ_t``."""
    return (
        (sigma_base**2).mean()
        + 2 * (sigma_base * sigma_scale).mean() * tension
        + (sigma_scale**2).mean() * tension**2
    )


def tension_column(names, tension_feature):
    """Index of the regressor that drives ``noise="tension"``, or a ValueError saying what to pass."""
    names = [] if names is None else [str(name) for name in names]
    if tension_feature is not None:
        if tension_feature not in names:
            raise ValueError(
                f"tension_feature={tension_feature!r} is not a column of X; "
                f"columns: {names or 'none named (pass a pandas DataFrame)'}."
            )
        return names.index(tension_feature)
    for i, name in enumerate(names):
        if name.endswith(TENSION_ENDING):
            return i
    raise ValueError(
        "noise='tension' needs a tension regressor: a column named '*__rho_T' (use a "
        "DataFrame or set_output(transform='pandas')) or tension_feature=<column name>."
    )


class TensionNoiseMixin:
    """The ρT regressor behind ``noise="tension"`` and the predictive noise it gives."""

    def _set_tension(self, X, weight=None):
        """Index and training mean of the tension regressor; its scaled values, or None."""
        if self.noise != "tension":
            return None
        self._tension_col = tension_column(getattr(self, "feature_names_in_", None), self.tension_feature)
        tension_mean = float(np.average(X[:, self._tension_col], weights=weight))
        # A mean that is zero (or NaN) leaves the regressor unscaled.
        self._tension_scale = tension_mean if tension_mean > 0 else 1.0
        return X[:, self._tension_col] / self._tension_scale

    def _tension(self, X):
        return X[:, self._tension_col] / self._tension_scale

    def _noise_sd(self, X, draws):
        """Noise std of each row (axis 0) under the posterior draws ``draws`` (axis 1)."""
        noise = self.noise_samples_
        if self.noise == "constant":
            return np.broadcast_to(noise["sigma"][draws], (X.shape[0], len(draws)))
        return tension_noise(
            noise["sigma_base"][draws], noise["sigma_scale"][draws], self._tension(X)[:, None]
        )

    def _noise_variance(self, X):
        """Posterior mean of the noise variance of each row."""
        noise = self.noise_samples_
        if self.noise == "constant":
            return np.full(X.shape[0], np.mean(noise["sigma"] ** 2))
        return tension_noise_variance(noise["sigma_base"], noise["sigma_scale"], self._tension(X))
