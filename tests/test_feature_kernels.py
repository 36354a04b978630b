"""The feature kernels on their own: percentile selection and rolling deviations."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sklearn_lambda3._feature_kernels import LOCAL_STD_EPS, _raw_features, percentile


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
def test_rolling_deviations_at_the_edges(n, window, local_window):
    """The trailing std (tension) and the centred std under the local score, windows clipped at both ends."""
    x = np.random.default_rng(n).standard_normal(n) * 10 + 5
    rho, score, abs_diff = (np.empty(n) for _ in range(3))
    _raw_features(x, window, local_window, rho, score, abs_diff)
    for t in range(n):
        assert rho[t] == pytest.approx(np.std(x[max(0, t - window) : t + 1]), rel=1e-12, abs=1e-12)
        d = abs(x[t] - x[t - 1]) if t > 0 else 0.0
        sigma = np.std(x[max(0, t - local_window) : min(n, t + local_window + 1)])
        assert abs_diff[t] == d
        assert score[t] == pytest.approx(d / (sigma + LOCAL_STD_EPS), rel=1e-11, abs=1e-12)
