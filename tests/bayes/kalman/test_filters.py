"""The one interface of the dynamic model's Kalman filters (``bayes._kalman.FILTERS``)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _kalman_helpers import numba_value_and_grad, structural_case

from sklearn_lambda3.bayes._dynamic import DynamicModel
from sklearn_lambda3.bayes._inference import _precision
from sklearn_lambda3.bayes._kalman import FILTERS, KALMAN_INPUTS, _bridge, choose_filter


def test_choose_filter_takes_jax_on_accelerators_and_numba_on_a_cpu():
    assert choose_filter("auto", "cpu") == "numba"
    assert choose_filter("auto", "gpu") == choose_filter("auto", "tpu") == "jax"
    assert choose_filter("numba", "gpu") == "numba" and choose_filter("jax", "cpu") == "jax"
    assert set(FILTERS) == {"numba", "jax"}


@pytest.mark.parametrize("name", sorted(FILTERS))
def test_each_filter_through_the_interface_gives_the_kernel_likelihood(name):
    # prepare, then the likelihood and its gradient in a compiled program, then release.
    kalman_filter = FILTERS[name]
    inputs = tuple(structural_case(n=60, seed=2)[key] for key in KALMAN_INPUTS)
    params = np.array([[0.3, 0.5, 0.2], [0.05, 1.0, 0.0]])
    data, token = kalman_filter.prepare(inputs)
    try:
        with _precision(kalman_filter.float64):
            program = jax.jit(jax.vmap(jax.value_and_grad(kalman_filter.log_likelihood), (0, None)))
            values, grads = program(
                jnp.asarray(params), {key: jnp.asarray(value) for key, value in data.items()}
            )
    finally:
        kalman_filter.release(token)
    # The Numba filter's program is float32: its parameters and results cross in float32.
    rel = 1e-10 if kalman_filter.float64 else 1e-6
    for row, value, grad in zip(params, np.asarray(values), np.asarray(grads), strict=True):
        expected_value, expected_grad = numba_value_and_grad(inputs, row.astype(values.dtype))
        assert value == pytest.approx(expected_value, rel=rel)
        np.testing.assert_allclose(grad, expected_grad, rtol=0, atol=rel * np.abs(expected_grad).max())
    assert token not in _bridge._HOST_DATA


def test_the_model_holds_the_filter_by_name_and_stays_a_hashable_value():
    for name, kalman_filter in FILTERS.items():
        model = DynamicModel(noise="tension", kalman=name)
        assert model == DynamicModel(noise="tension", kalman=name)
        assert hash(model) == hash(DynamicModel(noise="tension", kalman=name))
        assert model.kalman_filter is kalman_filter
        assert (model.float64, model.independent_chains) == (
            kalman_filter.float64,
            kalman_filter.independent_chains,
        )
    assert DynamicModel(kalman="numba").independent_chains and not DynamicModel(kalman="numba").float64
    assert DynamicModel(kalman="jax").float64 and not DynamicModel(kalman="jax").independent_chains
