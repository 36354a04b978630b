"""The Numba kernels on their own: percentile selection and rolling deviations."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_lambda3._kernels import percentile, rolling_std_pair


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(1, 20000),
    q=st.floats(0, 100),
    seed=st.integers(0, 2**31),
    kind=st.sampled_from(["normal", "rounded", "constant", "periodic"]),
)
def test_percentile_equals_numpy(n, q, seed, kind):
    rng = np.random.default_rng(seed)
    values = {
        "normal": lambda: rng.standard_normal(n),
        "rounded": lambda: np.round(rng.standard_normal(n)),
        "constant": lambda: np.full(n, 2.5),
        "periodic": lambda: np.abs(np.sin(np.arange(n) * 0.5)) * (np.arange(n) % 7 == 0),
    }[kind]()
    before = values.copy()
    assert percentile(values, q) == np.percentile(values, q)
    np.testing.assert_array_equal(values, before)


@pytest.mark.parametrize("n", [1, 2, 5, 31, 32, 33, 100])
@pytest.mark.parametrize(("window", "local_window"), [(1, 1), (3, 7), (15, 15), (40, 2)])
def test_rolling_std_pair_edges(n, window, local_window):
    x = np.random.default_rng(n).standard_normal(n) * 10 + 5
    rho, sigma, a, b = (np.empty(n) for _ in range(4))
    rolling_std_pair(x, window, local_window, rho, sigma, a, b)
    for t in range(n):
        assert rho[t] == pytest.approx(np.std(x[max(0, t - window) : t + 1]), rel=1e-12, abs=1e-12)
        assert sigma[t] == pytest.approx(
            np.std(x[max(0, t - local_window) : min(n, t + local_window + 1)]), rel=1e-12, abs=1e-12
        )
