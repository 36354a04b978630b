"""The dynamic model's JAX Kalman filter against the Numba kernel, in float64 on the CPU.

Value and gradient (``jax.grad``) equal the Numba kernel's (its gradient is analytic: a
hand-written backward pass through its filter) to 1e-10: the value relative to its own size;
the gradient relative to its largest entry, and absolute where that entry is below 1. The
entries' sizes differ by orders of magnitude, and an entry near 0 is a difference of terms of
the size of ``n / σ``, with no meaningful relative error of its own (on a two-step series at
τ = σ = 0.01, entries ~0.005, both are within 5e-15 of the exact rational gradient).

The property test over any series compares the gradient relative to the size of those terms,
``Σ_t 1 / σ_t`` over the observed steps, and keeps σ ≥ 1e-4: where as many coefficients as
observed steps interpolate the data with σ near the noise floor, the scaled innovations are
~1/σ and the triangular factor's last entry, ``√S``, is a difference of such numbers, so any
float64 filter is off the exact value by ~1e-10 relative (two steps, two regressors, σ = 1.4e-6:
the two filters differ by 1.4e-10). The noise floor itself, with a collinear design of 120
steps, is tested at 1e-10 below.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _kalman_helpers import METHODS, jax_value_and_grad, numba_value_and_grad
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_lambda3.bayes._inference import _precision
from sklearn_lambda3.bayes._kalman._jax import bucket_length, filter_data, log_likelihood
from sklearn_lambda3.bayes._noise import NOISE_FLOOR


def random_case(n, k, seed, changes=3, missing=0.0, tension=True):
    """Kernel inputs: a random-walk target, ``k`` regressors, change points, NaN steps."""
    rng = np.random.default_rng(seed)
    change = np.zeros(n)
    change[rng.choice(np.arange(1, n), min(changes, n - 1), replace=False)] = 1.0
    y = rng.standard_normal(n).cumsum() + rng.standard_normal(n)
    if missing:
        y[rng.random(n) < missing] = np.nan
        y[[0, -1]] = np.nan  # the first and the last step
        y[rng.choice(np.arange(1, n - 1), 2, replace=False)] = 2.0  # at least two observed
    return (
        y,
        rng.standard_normal((n, k)),
        rng.uniform(0.2, 3.0, k),
        change,
        4.0,
        25.0,
        rng.uniform(0.2, 2.0, n) if tension else np.zeros(n),
    )


def assert_equal_to_numba(inputs, params, method, length=None, term_scale=1.0):
    expected_value, expected_grad = numba_value_and_grad(inputs, params)
    value, grad = jax_value_and_grad(inputs, params, method, length)
    assert np.isfinite(expected_value)
    assert value == pytest.approx(expected_value, rel=1e-10)
    assert_gradients_agree(grad, expected_grad, term_scale)


def assert_gradients_agree(grad, expected_grad, term_scale=1.0):
    scale = max(np.abs(expected_grad).max(), term_scale)
    np.testing.assert_allclose(grad, expected_grad, rtol=0, atol=1e-10 * scale)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    ("n", "k", "missing", "tension"),
    [
        (2, 1, 0.0, False),  # the shortest series
        (25, 2, 0.0, True),
        (25, 0, 0.0, False),  # a level fitted to y alone
        (60, 0, 0.3, True),
        (300, 3, 0.2, True),  # gaps of several steps
        (2000, 5, 0.0, False),
        (3000, 2, 0.05, True),
    ],
)
def test_value_and_gradient_equal_the_numba_kernel(method, n, k, missing, tension):
    inputs = random_case(n, k, seed=n + k, missing=missing, tension=tension)
    for params in [(0.3, 0.5, 0.2), (0.02, 1.2, 0.0), (1.5, 0.05, 0.7)]:
        assert_equal_to_numba(inputs, params if tension else (*params[:2], 0.0), method)


@pytest.mark.parametrize("method", METHODS)
def test_noise_floor_and_collinear_design_equal_the_numba_kernel(method):
    # σ at 0 (the noise floor alone), τ at 0 and a design of rank 3 with a constant column:
    # the ill-conditioned corner that the square-root form of the normal matrix is there for.
    rng = np.random.default_rng(7)
    n, k = 120, 10
    design = rng.standard_normal((n, 3)).cumsum(axis=0) @ rng.standard_normal((3, k))
    design = (design - design.mean(axis=0)) / design.std(axis=0)
    design[:, 4] = 0.0
    y = rng.standard_normal(n).cumsum() * 0.3
    inputs = ((y - y.mean()) / y.std(), design, np.full(k, 5.0), np.zeros(n), 4.0, 25.0, np.zeros(n))
    for params in [(0.0, 0.0, 0.0), (1e-3, 0.0, 0.0), (0.3, 1e-4, 0.0)]:
        assert_equal_to_numba(inputs, params, method)


@pytest.mark.parametrize("method", METHODS)
def test_missing_steps_at_the_end_change_nothing(method):
    # What bucket_length's padding relies on: the padded value and gradient are the series' own.
    inputs = random_case(77, 2, seed=3, missing=0.1)
    params = (0.2, 0.4, 0.3)
    value, grad = jax_value_and_grad(inputs, params, method)
    padded_value, padded_grad = jax_value_and_grad(inputs, params, method, length=bucket_length(77) + 13)
    assert padded_value == pytest.approx(value, rel=1e-13)
    np.testing.assert_allclose(padded_grad, grad, rtol=1e-12, atol=1e-13 * np.abs(grad).max())
    with pytest.raises(ValueError, match="length must be at least"):
        filter_data(inputs, 76)


@pytest.mark.parametrize("method", METHODS)
def test_non_finite_parameters_give_minus_infinity_and_no_gradient(method):
    inputs = random_case(30, 2, seed=1)
    for params in [(np.inf, 0.5, 0.1), (0.3, np.nan, 0.1), (1e200, 0.5, 0.1)]:
        value, grad = jax_value_and_grad(inputs, params, method)
        assert value == -np.inf and np.all(grad == 0)
        assert numba_value_and_grad(inputs, params)[0] == -np.inf


def test_chains_batched_by_vmap_are_independent_fits():
    inputs = random_case(200, 3, seed=5, missing=0.1)
    params = np.array([[0.2, 0.4, 0.1], [0.9, 0.3, 0.5], [0.05, 1.0, 0.0]])
    with _precision(True):
        data = {name: jnp.asarray(value) for name, value in filter_data(inputs).items()}
        batched = jax.jit(jax.vmap(jax.value_and_grad(log_likelihood), in_axes=(0, None)))
        values, grads = batched(jnp.asarray(params), data)
    for row, value, grad in zip(params, np.asarray(values), np.asarray(grads), strict=True):
        expected_value, expected_grad = numba_value_and_grad(inputs, row)
        assert value == pytest.approx(expected_value, rel=1e-10)
        assert_gradients_agree(grad, expected_grad)


@settings(max_examples=15, deadline=None)  # each new length compiles: the cost of an example
@given(
    n=st.integers(2, 120),
    k=st.integers(0, 4),
    seed=st.integers(0, 2**16),
    missing=st.sampled_from([0.0, 0.3]),
    log_tau=st.floats(-6, 1),
    log_sigma=st.floats(-4, 1),
    share=st.floats(0, 1),
)
def test_any_series_equals_the_numba_kernel(n, k, seed, missing, log_tau, log_sigma, share):
    inputs = random_case(n, k, seed, changes=n // 20, missing=missing if n > 4 else 0.0)
    sigma = 10.0**log_sigma
    params = (10.0**log_tau, sigma * (1 - share), sigma * share)
    noise_sd = params[1] + params[2] * inputs[6] + NOISE_FLOOR
    term_scale = np.sum(1.0 / noise_sd[~np.isnan(inputs[0])])
    # Padded to one length (which changes nothing, see above): one compiled program per k.
    assert_equal_to_numba(inputs, params, "parallel", length=128, term_scale=term_scale)


def test_bucket_lengths_pad_at_most_a_quarter_with_four_per_doubling():
    lengths = np.arange(1, 5000)
    buckets = np.array([bucket_length(n) for n in lengths])
    assert np.all(buckets >= lengths) and np.all(buckets <= np.maximum(1.25 * lengths, 8))
    assert np.all(np.diff(buckets) >= 0)
    assert len(np.unique(buckets[(lengths > 1024) & (lengths <= 2048)])) == 4
    assert bucket_length(300) == 320 and bucket_length(400) == bucket_length(420) == 448
