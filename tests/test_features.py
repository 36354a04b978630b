"""Lambda3Features against a plain-NumPy reference of the method's §1."""

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from sklearn_lambda3 import Lambda3Features
from sklearn_lambda3.datasets import make_jump_series


def reference_raw(x, window, local_window):
    """Difference, tension and local score of one column, straight from the spec."""
    n = len(x)
    d = np.zeros(n)
    d[1:] = x[1:] - x[:-1]
    rho = np.empty(n)
    sigma = np.empty(n)
    for t in range(n):
        trailing = x[max(0, t - window) : t + 1]
        centred = x[max(0, t - local_window) : min(n, t + local_window + 1)]
        # Shifting by a member of the window is exact and keeps np.std accurate at 1e12 offsets.
        rho[t] = np.std(trailing - trailing[0])
        sigma[t] = np.std(centred - centred[0])
    score = np.abs(d) / (sigma + 1e-8)
    return d, rho, score


def reference_features(X_fit, X, window=10, local_window=10, delta_percentile=97.0, local_percentile=97.0):
    """Reference features and a mask of the flags that sit on their threshold (knife edges).

    A difference or score equal to its threshold up to rounding (a percentile that lands on
    tied values does that) may fall either side in any floating-point implementation.
    """
    columns, edges = [], []
    for j in range(X.shape[1]):
        d_fit, _, score_fit = reference_raw(X_fit[:, j], window, local_window)
        theta = np.percentile(np.abs(d_fit), delta_percentile)
        theta_local = np.percentile(score_fit, local_percentile)
        d, rho, score = reference_raw(X[:, j], window, local_window)
        columns += [d > theta, d < -theta, rho, score > theta_local]
        jump_edge = np.isclose(np.abs(d), theta, rtol=1e-9, atol=0)
        score_edge = np.isclose(score, theta_local, rtol=1e-9, atol=0)
        edges += [jump_edge, jump_edge, np.zeros(len(d), bool), score_edge]
    return np.column_stack(columns).astype(float), np.column_stack(edges)


def assert_features_match(got, reference, scale):
    expected, edge = reference
    binary = np.ones(got.shape[1], bool)
    binary[2::4] = False
    decided = ~edge[:, binary]
    np.testing.assert_array_equal(got[:, binary][decided], expected[:, binary][decided])
    np.testing.assert_allclose(got[:, ~binary], expected[:, ~binary], rtol=1e-9, atol=1e-12 * scale)


@st.composite
def series(draw):
    n = draw(st.integers(2, 5000))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    x = np.cumsum(rng.standard_normal(n)) * draw(st.sampled_from([1e-3, 1.0, 1e3]))
    if draw(st.booleans()):  # constant stretches
        start = draw(st.integers(0, n - 1))
        stop = draw(st.integers(start, n))
        x[start:stop] = x[start]
    if draw(st.booleans()):  # a few large level shifts
        x += np.cumsum(rng.random(n) < 0.01) * 50.0
    offset = draw(st.sampled_from([0.0, -1e6, 1e9, 1e12]))
    return x + offset


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    x=series(),
    window=st.integers(1, 60),
    local_window=st.integers(1, 60),
    percentiles=st.tuples(st.floats(0, 100), st.floats(0, 100)),
)
def test_matches_reference(x, window, local_window, percentiles):
    X = x[:, None]
    est = Lambda3Features(
        window=window,
        local_window=local_window,
        delta_percentile=percentiles[0],
        local_jump_percentile=percentiles[1],
    )
    got = est.fit_transform(X)
    expected = reference_features(X, X, window, local_window, *percentiles)
    scale = np.ptp(x) + 1.0
    assert_features_match(got, expected, scale)
    np.testing.assert_array_equal(est.transform(X), got)


def test_thresholds_are_percentiles_of_fit_data():
    rng = np.random.default_rng(0)
    X = np.cumsum(rng.standard_normal((3000, 3)), axis=0)
    est = Lambda3Features(delta_percentile=90, local_jump_percentile=80).fit(X)
    for j in range(3):
        d, _, score = reference_raw(X[:, j], 10, 10)
        assert est.jump_threshold_[j] == pytest.approx(np.percentile(np.abs(d), 90), rel=1e-12)
        assert est.local_jump_threshold_[j] == pytest.approx(np.percentile(score, 80), rel=1e-9)


def test_transform_applies_training_thresholds():
    rng = np.random.default_rng(1)
    X_train = np.cumsum(rng.standard_normal((800, 2)), axis=0)
    X_test = 3.0 * np.cumsum(rng.standard_normal((300, 2)), axis=0)
    est = Lambda3Features(window=7, local_window=4).fit(X_train)
    assert_features_match(
        est.transform(X_test), reference_features(X_train, X_test, 7, 4), np.ptp(X_test) + 1
    )
    # Judged by the training standard, the three-times-wilder test period jumps more often.
    assert est.transform(X_test)[:, 0].mean() > est.fit_transform(X_test)[:, 0].mean()


def test_columns_are_independent_and_in_order():
    X = make_jump_series(600, n_series=4, random_state=3)
    both = Lambda3Features().fit_transform(X)
    for j in range(4):
        alone = Lambda3Features().fit_transform(X[:, [j]])
        np.testing.assert_array_equal(both[:, 4 * j : 4 * j + 4], alone)


def test_offset_of_1e12_keeps_tension_accurate():
    rng = np.random.default_rng(2)
    x = np.cumsum(rng.standard_normal(20000))
    X = (x + 1e12)[:, None]
    rho = Lambda3Features(window=25).fit_transform(X)[:, 2]
    _, expected, _ = reference_raw(X[:, 0], 25, 10)
    np.testing.assert_allclose(rho, expected, rtol=1e-9)


def test_constant_series_and_constant_stretch_give_exact_zeros():
    x = np.full(200, 3.7)
    out = Lambda3Features().fit_transform(x[:, None])
    assert np.all(np.isfinite(out)) and not out.any()
    y = np.r_[np.linspace(0, 50, 100), np.full(100, 50.123456789)]
    rho = Lambda3Features(window=10).fit_transform(y[:, None])[:, 2]
    assert np.all(rho[111:] == 0.0)


def test_float32_two_rows_and_single_row_transform():
    X = make_jump_series(300, n_series=2, random_state=0)
    got32 = Lambda3Features().fit_transform(X.astype(np.float32))
    assert got32.dtype == np.float64
    np.testing.assert_array_equal(
        got32, Lambda3Features().fit_transform(X.astype(np.float32).astype(np.float64))
    )
    two = Lambda3Features().fit_transform(X[:2])
    assert two.shape == (2, 8) and np.all(np.isfinite(two))
    one = Lambda3Features().fit(X).transform(X[:1])
    assert one.shape == (1, 8) and np.all(np.isfinite(one))
    np.testing.assert_array_equal(one[0, 2::4], 0.0)


def test_pandas_names_and_set_output():
    pd = pytest.importorskip("pandas")
    X = make_jump_series(200, n_series=2, random_state=0)
    frame = pd.DataFrame(X, columns=["price", "volume"])
    est = Lambda3Features().set_output(transform="pandas")
    out = est.fit_transform(frame)
    assert list(out.columns) == [
        "price__delta_LambdaC_pos",
        "price__delta_LambdaC_neg",
        "price__rho_T",
        "price__local_jump",
        "volume__delta_LambdaC_pos",
        "volume__delta_LambdaC_neg",
        "volume__rho_T",
        "volume__local_jump",
    ]
    np.testing.assert_array_equal(out.to_numpy(), Lambda3Features().fit_transform(X))
    assert list(Lambda3Features().fit(X).get_feature_names_out())[:2] == [
        "x0__delta_LambdaC_pos",
        "x0__delta_LambdaC_neg",
    ]


def test_recovers_generated_jumps():
    n, n_jumps = 5000, 40
    X, jumps = make_jump_series(
        n, n_series=3, n_jumps=n_jumps, jump_size=5.0, noise=0.2, return_jumps=True, random_state=7
    )
    # Flag as many of the largest |d| as there are jumps.
    out = Lambda3Features(delta_percentile=100 * (1 - n_jumps / n)).fit_transform(X)
    for j in range(3):
        up, down = jumps[j] > 0, jumps[j] < 0
        assert out[up, 4 * j].mean() >= 0.9
        assert out[down, 4 * j + 1].mean() >= 0.9
        flagged = out[:, 4 * j].astype(bool) | out[:, 4 * j + 1].astype(bool)
        assert (flagged & (up | down)).sum() / flagged.sum() >= 0.9


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"window": 0}, "window"),
        ({"window": 2.5}, "window"),
        ({"local_window": -1}, "local_window"),
        ({"delta_percentile": 101}, "delta_percentile"),
        ({"local_jump_percentile": -0.5}, "local_jump_percentile"),
        ({"window": "10"}, "window"),
    ],
)
def test_invalid_parameters(params, match):
    with pytest.raises((ValueError, TypeError), match=match):
        Lambda3Features(**params).fit(np.zeros((10, 1)))


@pytest.mark.parametrize(
    ("X", "error", "match"),
    [
        (np.zeros(10), ValueError, "2D array"),
        (np.zeros((1, 2)), ValueError, "minimum of 2"),
        (np.array([[1.0], [np.nan], [2.0]]), ValueError, "NaN"),
        (np.array([[1.0], [np.inf], [2.0]]), ValueError, "infinity"),
        (np.array([["a"], ["b"]]), ValueError, "convert"),
        (np.array([[1 + 1j], [2.0]]), ValueError, "[Cc]omplex"),
        (np.zeros((0, 3)), ValueError, "0 sample"),
    ],
)
def test_bad_input(X, error, match):
    with pytest.raises(error, match=match):
        Lambda3Features().fit(X)


def test_sparse_and_width_mismatch():
    sparse = pytest.importorskip("scipy.sparse")
    with pytest.raises(TypeError, match="[Ss]parse"):
        Lambda3Features().fit(sparse.csr_matrix(np.ones((5, 2))))
    est = Lambda3Features().fit(np.random.default_rng(0).random((20, 2)))
    with pytest.raises(ValueError, match="features"):
        est.transform(np.ones((5, 3)))


def test_clone_keeps_params_and_no_work_in_init():
    est = Lambda3Features(window=3, local_window=4, delta_percentile=90.0, local_jump_percentile=80.0)
    assert clone(est).get_params() == est.get_params()
    assert not hasattr(est, "jump_threshold_")


def test_import_and_features_do_not_import_jax():
    code = (
        "import sys, numpy as np\n"
        "import sklearn_lambda3\n"
        "from sklearn_lambda3 import Lambda3Features\n"
        "Lambda3Features().fit_transform(np.random.default_rng(0).random((50, 2)))\n"
        "assert 'jax' not in sys.modules and 'numpyro' not in sys.modules, 'jax imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
