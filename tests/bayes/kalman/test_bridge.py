"""The Numba Kalman kernel called from XLA through the FFI handler of ``bayes._kalman._bridge``."""

import numpy as np
import pytest
from _kalman_helpers import FLOOR, small_case

from sklearn_lambda3.bayes._kalman import KALMAN_INPUTS, _bridge
from sklearn_lambda3.bayes._kalman._kernels import batched_loglik_and_grad
from sklearn_lambda3.bayes._noise import NOISE_FLOOR

assert FLOOR == NOISE_FLOOR  # the kernels' tests and the bridge use the same floor


def inputs_of(case):
    return tuple(case[name] for name in KALMAN_INPUTS)


def kernel(inputs, params):
    wide = np.asarray(params, dtype=np.float64).reshape(-1, 3)
    values, grads = batched_loglik_and_grad(
        *inputs, wide[:, 0].copy(), wide[:, 1].copy(), wide[:, 2].copy(), NOISE_FLOOR
    )
    return values.reshape(params.shape[:-1]), grads.reshape(params.shape)


def cases():
    with_gaps = small_case(n=30, seed=3)
    with_gaps["y"][[0, 11, 12, 29]] = np.nan
    return {"tension": small_case(seed=1), "gaps": with_gaps, "no regressors": small_case(k=0, seed=2)}


@pytest.mark.parametrize("name", ["tension", "gaps", "no regressors"])
def test_ffi_call_returns_the_kernel_value_and_gradient(name):
    import jax

    inputs = inputs_of(cases()[name])
    rng = np.random.default_rng(4)
    token, address = _bridge.register(inputs)
    try:
        # One chain, chains under vmap (the handler gets them in one call), and vmap of vmap.
        value_and_grad = jax.value_and_grad(_bridge.kalman_log_likelihood)
        for shape, function in (
            ((3,), value_and_grad),
            ((4, 3), jax.vmap(value_and_grad, (0, None))),
            ((2, 3, 3), jax.vmap(jax.vmap(value_and_grad, (0, None)), (0, None))),
        ):
            params = rng.uniform(0.05, 1.5, shape).astype(np.float32)
            value, grad = jax.jit(function)(params, address)
            expected, expected_grad = kernel(inputs, params)
            # The kernel's float64 results rounded to float32, bit for bit.
            np.testing.assert_array_equal(np.asarray(value), expected.astype(np.float32))
            np.testing.assert_array_equal(np.asarray(grad), expected_grad.astype(np.float32))
    finally:
        _bridge.release(token)
    assert token not in _bridge._HOST_DATA


def test_ffi_gradient_takes_the_dtype_of_float64_parameters():
    import jax

    from sklearn_lambda3.bayes._inference import _precision

    inputs = inputs_of(small_case(seed=5))
    token, address = _bridge.register(inputs)
    try:
        with _precision(True):
            params = np.array([0.4, 0.7, 0.2])
            value, grad = jax.jit(jax.value_and_grad(_bridge.kalman_log_likelihood))(params, address)
            assert grad.dtype == np.float64
    finally:
        _bridge.release(token)
    expected, expected_grad = kernel(inputs, params.astype(np.float32))
    np.testing.assert_array_equal(np.asarray(value), np.float32(expected))
    np.testing.assert_array_equal(np.asarray(grad), expected_grad.astype(np.float32))


def test_registration_check_refuses_a_handler_that_disagrees_with_the_kernel(monkeypatch):
    import jax

    # Registered once for real (the first test), then checked again against a kernel that
    # disagrees: the check must raise and name the filter that needs no handler.
    _bridge.ensure_registered()
    monkeypatch.setattr(_bridge, "_REGISTERED", [])
    monkeypatch.setattr(jax.ffi, "register_ffi_target", lambda *args, **kwargs: None)
    real = _bridge.batched_loglik_and_grad

    def shifted(*args):
        values, grads = real(*args)
        return values + 1.0, grads

    monkeypatch.setattr(_bridge, "batched_loglik_and_grad", shifted)
    with pytest.raises(RuntimeError, match="kalman='jax'"):
        _bridge.ensure_registered()
    assert _bridge._REGISTERED == []
