import numpy as np
import pytest

from sklearn_lambda3._datasets import demo_series
from sklearn_lambda3.datasets import make_jump_series


def test_shapes_seed_and_ground_truth():
    X, jumps = make_jump_series(400, n_series=3, n_jumps=6, min_gap=15, return_jumps=True, random_state=5)
    assert X.shape == (400, 3) and jumps.shape == (3, 400)
    np.testing.assert_array_equal(X, make_jump_series(400, n_series=3, n_jumps=6, min_gap=15, random_state=5))
    for s in range(3):
        positions = np.flatnonzero(jumps[s])
        assert len(positions) == 6 and positions[0] >= 1
        assert np.all(np.diff(positions) >= 15)
        assert set(np.unique(jumps[s][positions])) <= {-1.0, 1.0}


def test_jumps_are_level_shifts_of_the_stated_size():
    X, jumps = make_jump_series(
        1000,
        n_jumps=8,
        jump_size=4.0,
        trend=0.0,
        seasonal_amplitude=0.0,
        noise=0.0,
        return_jumps=True,
        random_state=1,
    )
    d = np.diff(X[:, 0], prepend=X[0, 0])
    positions = np.flatnonzero(jumps[0])
    np.testing.assert_array_equal(np.flatnonzero(d), positions)
    assert np.all(np.sign(d[positions]) == jumps[0, positions])
    assert np.all((np.abs(d[positions]) >= 4.0) & (np.abs(d[positions]) < 6.0))


def test_components_without_jumps():
    X = make_jump_series(500, n_jumps=0, trend=0.01, seasonal_amplitude=0.0, noise=0.0, random_state=0)
    np.testing.assert_allclose(X[:, 0], 0.01 * np.arange(500))
    X = make_jump_series(20000, n_jumps=0, trend=0.0, seasonal_amplitude=0.0, noise=0.5, random_state=0)
    assert X.std() == pytest.approx(0.5, rel=0.03)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"n_samples": 1}, "n_samples"),
        ({"n_samples": 50, "n_jumps": 10, "min_gap": 10}, "do not fit"),
        ({"noise": -1.0}, "noise"),
        ({"n_series": 0}, "n_series"),
    ],
)
def test_invalid_arguments(kwargs, match):
    kwargs.setdefault("n_samples", 100)
    with pytest.raises(ValueError, match=match):
        make_jump_series(**kwargs)


def test_demo_series_target_is_driven_by_s0_jumps_and_s1_level():
    names, values = demo_series(0)
    assert names == ["s0", "s1", "s2", "s3", "target"] and values.shape == (600, 5)
    X, jumps = make_jump_series(600, n_series=4, n_jumps=8, return_jumps=True, random_state=0)
    np.testing.assert_array_equal(values[:, :4], X)
    noise = values[:, 4] - 0.5 * X[:, 1] - 3.0 * np.sign(jumps[0])
    assert abs(noise.std() - 0.3) < 0.05 and abs(noise.mean()) < 0.05
    np.testing.assert_array_equal(demo_series(0)[1], values)  # the seed fixes it
