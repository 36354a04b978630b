"""The JAX side of the dynamic model's likelihood: the Numba Kalman filter as a JAX function.

:func:`kalman_log_likelihood` calls the host kernel through ``jax.pure_callback`` with a custom
VJP (the kernel returns its analytic gradient with the value). The
compiled sampler passes only a token and the parameters, so its program does not depend on the
series. Imported only while a dynamic model samples.
"""

import itertools

import jax
import jax.numpy as jnp
import numpy as np

from ._kalman_kernels import batched_loglik_and_grad
from ._noise import NOISE_FLOOR

# Host-side data of the dynamic fits in progress, by token. The compiled sampler passes
# only the token and the parameters to the host, so its program does not depend on the
# series (any length reuses it) and no array crosses the callback boundary per step.
_HOST_DATA = {}
_TOKENS = itertools.count()
# Errors of the host Kalman filter, by token (see _host_kalman); the model raises them after the run.
_HOST_ERRORS = {}


def _host_kalman(params, token):
    """Host side of :func:`kalman_log_likelihood`: the Numba kernel for every chain."""
    key = int(np.asarray(token).reshape(-1)[0])
    inputs = _HOST_DATA[key]
    params = np.asarray(params, dtype=np.float64)
    flat = params.reshape(-1, 3)
    try:
        values, grads = batched_loglik_and_grad(
            *inputs,
            np.ascontiguousarray(flat[:, 0]),
            np.ascontiguousarray(flat[:, 1]),
            np.ascontiguousarray(flat[:, 2]),
            NOISE_FLOOR,
        )
    except Exception as error:
        # An exception here would surface as an opaque XLA "CpuCallback error"; record it
        # and reject the point instead, and the model raises it after the run.
        _HOST_ERRORS.setdefault(
            key, f"{type(error).__name__}: {error} at (tau, sigma_base, sigma_scale) = {flat.tolist()}"
        )
        values, grads = np.full(len(flat), -np.inf), np.zeros_like(flat)
    values = values.reshape(params.shape[:-1]).astype(np.float32)
    return values, grads.reshape(params.shape).astype(np.float32)


def _kalman_callback(params, token):
    shapes = (
        jax.ShapeDtypeStruct(params.shape[:-1], jnp.float32),
        jax.ShapeDtypeStruct(params.shape, jnp.float32),
    )
    # Under vmap over chains, "expand_dims" hands the host one call with every chain.
    return jax.pure_callback(_host_kalman, shapes, params, token, vmap_method="expand_dims")


@jax.custom_vjp
def kalman_log_likelihood(params, token):
    """Collapsed log-likelihood of the dynamic model at ``params = (τ, σ_base, σ_scale)``.

    Computed on the host by a Numba Kalman filter that returns its analytic gradient with
    the value (:mod:`sklearn_lambda3.bayes._kalman_kernels`).
    """
    value, _ = _kalman_callback(params, token)
    return value


def _kalman_fwd(params, token):
    value, grad = _kalman_callback(params, token)
    return value, (grad, token)


def _kalman_bwd(residual, cotangent):
    grad, token = residual
    return cotangent[..., None] * grad, None


kalman_log_likelihood.defvjp(_kalman_fwd, _kalman_bwd)


def register(inputs):
    """Keep a series' Kalman inputs on the host for the run; the token the program passes."""
    token = next(_TOKENS)
    _HOST_DATA[token] = inputs
    return token


def host_error(token):
    """The first error the host filter met during the run of ``token``, or None."""
    return _HOST_ERRORS.get(token)


def release(token):
    """Forget the run of ``token``."""
    _HOST_DATA.pop(token, None)
    _HOST_ERRORS.pop(token, None)
