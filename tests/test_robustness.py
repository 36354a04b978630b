"""Robustness: bad input fails clearly before Numba/JAX; hard-but-valid input stays finite.

Every public entry point is fed malformed data (NaN/inf, wrong dimensions, empty, strings,
complex numbers, scipy.sparse, wrong widths, invalid parameters, unknown device) and must
raise a ValueError/TypeError from this package or scikit-learn's validation, never from
inside Numba or JAX. Degenerate but valid data must give finite features and predictions.
"""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.exceptions import ConvergenceWarning

from sklearn_lambda3 import (
    Lambda3BayesRegressor,
    Lambda3DynamicRegressor,
    Lambda3Features,
    Lambda3MultiScale,
    analysis,
    make_jump_series,
)

FAST = {"num_warmup": 50, "num_samples": 50, "num_chains": 1, "progress_bar": False, "random_state": 0}
N = 40
RNG = np.random.default_rng(0)
X_GOOD = RNG.normal(size=(N, 2)).cumsum(axis=0)
Y_GOOD = X_GOOD[:, 0] + RNG.normal(size=N)
EVENTS = (RNG.random((N, 3)) < 0.25).astype(float)


def _quiet_fit(estimator, X, y=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X) if y is None else estimator.fit(X, y)


@pytest.fixture(scope="module")
def fitted():
    return {
        "features": Lambda3Features(window=3).fit(X_GOOD),
        "multiscale": Lambda3MultiScale(windows=(2, 5)).fit(X_GOOD),
        "linear": _quiet_fit(Lambda3BayesRegressor(**FAST), X_GOOD, Y_GOOD),
        "dynamic": _quiet_fit(Lambda3DynamicRegressor(**FAST), X_GOOD, Y_GOOD),
    }


def _raises(exc_type, match, call):
    """``call()`` raises ``exc_type`` matching ``match``, and not from a Numba/JAX frame."""
    with pytest.raises(exc_type, match=match) as info:
        call()
    origin = str(info.traceback[-1].path)
    assert "numba" not in origin and "jax" not in origin, origin
    assert type(info.value).__module__.split(".")[0] in ("builtins", "sklearn"), type(info.value)
    return info


def _with(value, row=3, col=1):
    X = X_GOOD.copy()
    X[row, col] = value
    return X


# Bad 2-D inputs for every estimator method: (X, exception, message fragment).
BAD_X = {
    "nan": (_with(np.nan), ValueError, "NaN"),
    "inf": (_with(np.inf), ValueError, "infinity"),
    "neg_inf": (_with(-np.inf), ValueError, "infinity"),
    "1d": (X_GOOD[:, 0], ValueError, "Expected 2D array"),
    "3d": (X_GOOD[None], ValueError, "dim 3"),
    "scalar": (np.float64(3.0), ValueError, "Expected 2D array"),
    "empty_rows": (np.empty((0, 2)), ValueError, "0 sample"),
    "empty_cols": (np.empty((N, 0)), ValueError, "0 feature"),
    "strings": (np.array([["a", "b"]] * N), ValueError, "could not convert string to float"),
    "complex": (X_GOOD + 1j, ValueError, "Complex data not supported"),
    "sparse": (sp.csr_matrix(X_GOOD), TypeError, "Sparse data was passed"),
}

FIT_CALLS = {
    "Lambda3Features.fit": lambda m, X: Lambda3Features().fit(X),
    "Lambda3Features.fit_transform": lambda m, X: Lambda3Features().fit_transform(X),
    "Lambda3MultiScale.fit": lambda m, X: Lambda3MultiScale(windows=(2, 5)).fit(X),
    "Lambda3BayesRegressor.fit": lambda m, X: Lambda3BayesRegressor(**FAST).fit(X, Y_GOOD),
    "Lambda3DynamicRegressor.fit": lambda m, X: Lambda3DynamicRegressor(**FAST).fit(X, Y_GOOD),
}
APPLY_CALLS = {
    "Lambda3Features.transform": lambda m, X: m["features"].transform(X),
    "Lambda3MultiScale.transform": lambda m, X: m["multiscale"].transform(X),
    "predict": lambda m, X: m["linear"].predict(X, return_std=True),
    "predict_interval": lambda m, X: m["linear"].predict_interval(X),
    "sample_y": lambda m, X: m["linear"].sample_y(X, n_samples=2),
    "predict(dynamic)": lambda m, X: m["dynamic"].predict(X, return_std=True),
    "predict_interval(dynamic)": lambda m, X: m["dynamic"].predict_interval(X),
    "sample_y(dynamic)": lambda m, X: m["dynamic"].sample_y(X),
    "forecast": lambda m, X: m["dynamic"].forecast(X, return_std=True),
}


# The dynamic model fits a level to y alone when X has no columns (bayes/test_matrix.py covers it).
FIT_CASES = [
    (call, case)
    for call in FIT_CALLS
    for case in BAD_X
    if not (call == "Lambda3DynamicRegressor.fit" and case == "empty_cols")
]


@pytest.mark.parametrize(("call", "case"), FIT_CASES)
def test_fit_rejects_bad_X(call, case):
    X, exc_type, match = BAD_X[case]
    _raises(exc_type, match, lambda: FIT_CALLS[call](None, X))


@pytest.mark.parametrize("case", list(BAD_X))
@pytest.mark.parametrize("call", list(APPLY_CALLS))
def test_transform_and_predict_reject_bad_X(fitted, call, case):
    X, exc_type, match = BAD_X[case]
    _raises(exc_type, match, lambda: APPLY_CALLS[call](fitted, X))


@pytest.mark.parametrize("call", list(APPLY_CALLS))
@pytest.mark.parametrize("width", [1, 3])
def test_wrong_width_at_predict(fitted, call, width):
    X = np.ones((5, width))
    _raises(
        ValueError,
        f"X has {width} features, but .* is expecting 2 features",
        lambda: APPLY_CALLS[call](fitted, X),
    )


@pytest.mark.parametrize("call", ["Lambda3Features.fit", "Lambda3MultiScale.fit"])
def test_one_row_fit_is_refused(call):
    _raises(ValueError, "minimum of 2", lambda: FIT_CALLS[call](None, X_GOOD[:1]))


@pytest.mark.parametrize("call", ["Lambda3Features.fit", "Lambda3MultiScale.fit"])
def test_values_beyond_float64_range_of_squares_are_refused(call):
    _raises(ValueError, r"as large as 1e\+200.*\|X\| <= 1e\+150", lambda: FIT_CALLS[call](None, _with(1e200)))


def test_regressor_refuses_values_beyond_the_bound(fitted):
    match = r"{0} has values as large as [0-9.]+e\+200 .* \|{0}\| <= 1e\+150"
    _raises(ValueError, match.format("X"), lambda: Lambda3BayesRegressor(**FAST).fit(_with(1e200), Y_GOOD))
    _raises(ValueError, match.format("y"), lambda: Lambda3BayesRegressor(**FAST).fit(X_GOOD, Y_GOOD * 1e200))
    for call in APPLY_CALLS:
        if not call.startswith("Lambda3"):
            _raises(ValueError, match.format("X"), lambda call=call: APPLY_CALLS[call](fitted, _with(-1e200)))


REGRESSORS = {"linear": Lambda3BayesRegressor, "dynamic": Lambda3DynamicRegressor}

BAD_Y = {
    "nan": (np.r_[Y_GOOD[:-1], np.nan], ValueError, "y holds NaN; Lambda3BayesRegressor needs every"),
    "inf": (np.r_[Y_GOOD[:-1], np.inf], ValueError, "Input y contains infinity"),
    "2d": (np.c_[Y_GOOD, Y_GOOD], ValueError, "y should be a 1d array"),
    "strings": (np.array(["a"] * N), TypeError, "y must hold real numbers"),
    "complex": (Y_GOOD + 1j, ValueError, "Complex data not supported"),
    "short": (Y_GOOD[:10], ValueError, "inconsistent numbers of samples"),
    "missing": (None, ValueError, "requires y to be passed"),
}


# The dynamic model reads NaN as a step that is not observed, so its own checks apply.
DYNAMIC_BAD_Y = {
    "nan": (np.r_[np.full(N - 1, np.nan), 1.0], ValueError, "at least 2 observed"),
    "inf": (np.r_[Y_GOOD[:-1], np.inf], ValueError, "y holds infinity; mark missing steps with NaN"),
    "complex": (Y_GOOD + 1j, TypeError, "y must hold real numbers; got complex values"),
}


@pytest.mark.parametrize("case", list(BAD_Y))
@pytest.mark.parametrize("model", ["linear", "dynamic"])
def test_regressor_rejects_bad_y(model, case):
    y, exc_type, match = DYNAMIC_BAD_Y.get(case, BAD_Y[case]) if model == "dynamic" else BAD_Y[case]
    _raises(exc_type, match, lambda: REGRESSORS[model](**FAST).fit(X_GOOD, y))


@pytest.mark.parametrize(
    ("estimator", "match"),
    [
        (Lambda3Features(window=0), "'window' parameter"),
        (Lambda3Features(window=2.5), "'window' parameter"),
        (Lambda3Features(window="10"), "'window' parameter"),
        (Lambda3Features(local_window=-1), "'local_window' parameter"),
        (Lambda3Features(delta_percentile=101), "'delta_percentile' parameter"),
        (Lambda3Features(delta_percentile=np.nan), "'delta_percentile' parameter"),
        (Lambda3Features(local_jump_percentile=-1), "'local_jump_percentile' parameter"),
        (Lambda3MultiScale(windows=()), "at least one scale"),
        (Lambda3MultiScale(windows=(0, 5)), "windows must be >= 1"),
        (Lambda3MultiScale(windows=(5, 5)), "distinct"),
        (Lambda3MultiScale(windows=(2.5,)), "windows must be integers"),
        (Lambda3MultiScale(windows=None), "'windows' parameter"),
        (Lambda3MultiScale(local_jump_percentile=200), "'local_jump_percentile' parameter"),
    ],
)
def test_transformers_reject_invalid_parameters(estimator, match):
    _raises((ValueError, TypeError), match, lambda: estimator.fit(X_GOOD))


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"model": "dynamic"}, "unexpected keyword argument 'model'"),
        ({"noise": "cauchy"}, "'noise' parameter"),
        ({"device": "tpu"}, "'device' parameter"),
        ({"device": 0}, "'device' parameter"),
        ({"num_samples": 2}, "'num_samples' parameter"),
        ({"num_chains": 0}, "'num_chains' parameter"),
        ({"num_warmup": -1}, "'num_warmup' parameter"),
        ({"max_tree_depth": 0}, "'max_tree_depth' parameter"),
        ({"target_accept_prob": 1.0}, "'target_accept_prob' parameter"),
        ({"noise_prior_scale": -1.0}, "'noise_prior_scale' parameter"),
        ({"jump_prior_scale": np.nan}, "'jump_prior_scale' parameter"),
        ({"level_prior_scale": 0.0}, "'level_prior_scale' parameter"),
        ({"change_points": "bic"}, "'change_points' parameter"),
        ({"noise": "tension"}, "needs a tension regressor"),
        ({"noise": "tension", "tension_feature": "nope"}, "is not a column of X"),
        ({"change_points": [0]}, r"must lie in \[1, 39\]"),
        ({"change_points": [100]}, r"must lie in \[1, 39\]"),
        ({"change_points": [2.5]}, "integer row indices"),
        ({"change_points": [5, 5]}, "duplicates"),
        ({"change_points": [9, 5]}, "sorted"),
        ({"change_points": [[5]]}, "1-D"),
    ],
)
def test_regressor_rejects_invalid_parameters(params, match):
    dynamic = {"level_prior_scale", "change_points"} & set(params)
    regressor = Lambda3DynamicRegressor if dynamic else Lambda3BayesRegressor
    _raises(
        (ValueError, TypeError),
        match,
        lambda: regressor(**{**FAST, **params}).fit(X_GOOD, Y_GOOD),
    )


def test_unknown_device_names_what_jax_sees():
    import jax

    if any(d.platform == "gpu" for d in jax.devices()):
        pytest.skip("a GPU is present: device='gpu' is valid here")
    _raises(
        ValueError,
        "device='gpu' is not available: JAX sees cpu",
        lambda: Lambda3BayesRegressor(device="gpu", **FAST).fit(X_GOOD, Y_GOOD),
    )


@pytest.mark.parametrize(
    ("call", "exc_type", "match"),
    [
        (lambda m: m["linear"].predict_interval(X_GOOD, coverage=1.0), ValueError, "coverage"),
        (lambda m: m["linear"].predict_interval(X_GOOD, coverage="90%"), TypeError, "coverage"),
        (lambda m: m["linear"].sample_y(X_GOOD, n_samples=0), ValueError, "n_samples"),
        (lambda m: m["linear"].sample_y(X_GOOD, n_samples=1.5), ValueError, "n_samples"),
        (lambda m: m["dynamic"].forecast(), ValueError, "forecast needs X_future"),
        (lambda m: m["dynamic"].forecast(steps=3), ValueError, "pass their future values as X_future"),
        (
            lambda m: m["dynamic"].predict(X_GOOD, start=-1),
            ValueError,
            "start must be a non-negative integer",
        ),
        (lambda m: Lambda3BayesRegressor().predict(X_GOOD), ValueError, "not fitted"),
        (lambda m: Lambda3Features().transform(X_GOOD), ValueError, "not fitted"),
        (lambda m: Lambda3MultiScale().transform(X_GOOD), ValueError, "not fitted"),
    ],
)
def test_method_arguments_and_unfitted(fitted, call, exc_type, match):
    _raises(exc_type, match, lambda: call(fitted))


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"n_samples": 0}, "'n_samples' parameter"),
        ({"n_samples": 2.5}, "'n_samples' parameter"),
        ({"n_samples": "100"}, "'n_samples' parameter"),
        ({"n_series": 0}, "'n_series' parameter"),
        ({"n_jumps": -1}, "'n_jumps' parameter"),
        ({"n_jumps": 1000}, "do not fit in n_samples=100"),
        ({"noise": -1.0}, "'noise' parameter"),
        ({"noise": np.nan}, "'noise' parameter"),
        ({"period": 0.0}, "'period' parameter"),
        ({"jump_size": np.inf}, "'jump_size' parameter"),
        ({"min_gap": 0}, "'min_gap' parameter"),
        ({"trend": "up"}, "'trend' parameter"),
        ({"random_state": "seed"}, "'random_state' parameter"),
    ],
)
def test_make_jump_series_rejects_invalid_parameters(params, match):
    _raises((ValueError, TypeError), match, lambda: make_jump_series(**{"n_samples": 100, **params}))


# Bad 1-D inputs of the analysis functions that take one series: (value, exception, fragment).
A, B = EVENTS[:, 0], EVENTS[:, 1]
BAD_SERIES = {
    "nan": (np.r_[X_GOOD[:-1, 0], np.nan], ValueError, "NaN|binary"),
    "inf": (np.r_[X_GOOD[:-1, 0], np.inf], ValueError, "infinite|binary"),
    "2d": (X_GOOD, ValueError, "1-D"),
    "scalar": (1.0, ValueError, "1-D"),
    "empty": (np.array([]), ValueError, "at least|same length"),
    "strings": (np.array(["a"] * N), TypeError, "real numbers|numeric"),
    "complex": (X_GOOD[:, 0] + 1j, TypeError, "complex"),
    "sparse": (sp.csr_matrix(X_GOOD[:, :1]), TypeError, "scipy.sparse"),
}
SERIES_CALLS = {
    "sync_profile": lambda v: analysis.sync_profile(v, B),
    "dynamic_sync": lambda v: analysis.dynamic_sync(v, B, window=10, lag_window=2),
    "detect_change_points": lambda v: analysis.detect_change_points(v),
    "scale_breaks": lambda v: analysis.scale_breaks(v, window=5),
    "detect_regimes(level)": lambda v: analysis.detect_regimes(np.c_[EVENTS[:, :2], X_GOOD[:, 0]], level=v),
}


@pytest.mark.parametrize("case", list(BAD_SERIES))
@pytest.mark.parametrize("call", list(SERIES_CALLS))
def test_series_analysis_rejects_bad_input(call, case):
    value, exc_type, match = BAD_SERIES[case]
    if call == "detect_regimes(level)" and case in ("2d", "scalar", "empty"):
        exc_type, match = ValueError, "level must have shape"
    if call == "detect_regimes(level)" and case in ("nan", "inf"):
        match = "level contains NaN or infinite"
    _raises(exc_type, match, lambda: SERIES_CALLS[call](value))


BAD_MATRIX = {
    "nan": (np.where(EVENTS == 1, np.nan, 0.0), ValueError, "binary|NaN"),
    "inf": (np.where(EVENTS == 1, np.inf, 0.0), ValueError, "binary|infinit"),
    "1d": (EVENTS[:, 0], ValueError, "2-D|Expected 2D"),
    "3d": (EVENTS[None], ValueError, "2-D|dim 3"),
    "empty": (np.empty((0, 3)), ValueError, "at least|0 sample|number of steps"),
    "strings": (np.array([["a"] * 3] * N), (TypeError, ValueError), "numeric|real numbers|convert string"),
    "complex": (EVENTS + 1j, (TypeError, ValueError), "complex|Complex"),
    "sparse": (sp.csr_matrix(EVENTS), TypeError, "scipy.sparse|Sparse data"),
    "non_binary": (EVENTS * 3, ValueError, "binary"),
}
MATRIX_CALLS = {
    "sync_matrix": lambda v: analysis.sync_matrix(v),
    "sync_network": lambda v: analysis.sync_network(v),
    "causality_matrix(pos)": lambda v: analysis.causality_matrix(v, EVENTS),
    "causality_matrix(neg)": lambda v: analysis.causality_matrix(EVENTS, v),
    "detect_regimes": lambda v: analysis.detect_regimes(v),
    "multiscale_features": lambda v: analysis.multiscale_features(v, windows=(3,)),
}


@pytest.mark.parametrize(
    ("call", "case"),
    [
        (call, case)
        for call in MATRIX_CALLS
        for case in BAD_MATRIX
        # multiscale_features takes real-valued series: non-binary values are valid there.
        if not (call == "multiscale_features" and case == "non_binary")
    ],
)
def test_matrix_analysis_rejects_bad_input(call, case):
    value, exc_type, match = BAD_MATRIX[case]
    _raises(exc_type, match, lambda: MATRIX_CALLS[call](value))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: analysis.sync_profile(A, B[:-3]), "same length"),
        (lambda: analysis.sync_profile(A, B, lag_window=N), "lag_window must be smaller"),
        (lambda: analysis.sync_profile(A, B, lag_window=-1), "lag_window must be >= 0"),
        (lambda: analysis.sync_profile(A, B, lag_window=1.5), "lag_window must be an integer"),
        (lambda: analysis.dynamic_sync(A, B, window=0), "window must be >= 1"),
        (lambda: analysis.dynamic_sync(A, B, window=N + 1), "window must be at most"),
        (lambda: analysis.sync_matrix(EVENTS, lag_window=N), "lag_window must be smaller"),
        (lambda: analysis.sync_network(EVENTS, threshold=np.nan), "threshold"),
        (lambda: analysis.causality_matrix(EVENTS, EVENTS[:, :2]), "same shape"),
        (lambda: analysis.causality_matrix(EVENTS, EVENTS, lag=0), "lag must be >= 1"),
        (lambda: analysis.scale_breaks(X_GOOD[:, 0], window=0), "window must be >= 1"),
        (lambda: analysis.scale_breaks(X_GOOD[:, 0], window=5, k=np.nan), "k must be finite"),
        (lambda: analysis.detect_change_points(X_GOOD[:, 0], penalty=-1), "penalty"),
        (lambda: analysis.detect_change_points(X_GOOD[:, 0], penalty="aic"), "penalty"),
        (lambda: analysis.detect_change_points(X_GOOD[:, 0], min_size=0), "min_size must be >= 1"),
        (lambda: analysis.detect_change_points(X_GOOD[:, 0], drift="x"), "drift"),
        (lambda: analysis.detect_change_points(X_GOOD[:1, 0]), "at least 2 points"),
        (lambda: analysis.detect_regimes(np.c_[EVENTS[:, :2], X_GOOD[:, 0]], n_regimes=0), "n_regimes"),
        (lambda: analysis.detect_regimes(np.c_[EVENTS[:, :2], X_GOOD[:, 0]], n_regimes=2.0), "n_regimes"),
        (lambda: analysis.multiscale_features(X_GOOD, windows=()), "at least one scale"),
        (lambda: analysis.multiscale_features(X_GOOD, windows=(3, 3)), "distinct"),
    ],
)
def test_analysis_rejects_invalid_parameters(call, match):
    _raises((ValueError, TypeError), match, call)


# ---------------------------------------------------------------- hard but valid input
def _hard_cases():
    rng = np.random.default_rng(1)
    base = rng.normal(size=(N, 3)).cumsum(axis=0)
    y = base[:, 0] + rng.normal(size=N)
    return {
        "constant_series": (np.full((N, 2), 3.0), y),
        "constant_target": (base, np.full(N, 2.0)),
        "duplicated_columns": (np.c_[base[:, 0], base[:, 0], base[:, 1]], y),
        "constant_column": (np.c_[base, np.full(N, 5.0)], y),
        "more_columns_than_rows": (rng.normal(size=(8, 20)), rng.normal(size=8)),
        "offset_1e12": (base + 1e12, y + 1e12),
        "scale_1e-12": (base * 1e-12, y * 1e-12),
        "float32": (base.astype(np.float32), y.astype(np.float32)),
        "scale_1e140": (base * 1e140, y * 1e140),
        "two_rows": (base[:2], y[:2]),
    }


HARD = _hard_cases()


@pytest.mark.parametrize("case", list(HARD))
def test_hard_input_gives_finite_features(case):
    X, _ = HARD[case]
    features = Lambda3Features(window=3, local_window=3)
    out = features.fit_transform(X)
    assert out.shape == (X.shape[0], 4 * X.shape[1]) and np.isfinite(out).all()
    np.testing.assert_array_equal(features.transform(X), out)
    assert np.isfinite(features.jump_threshold_).all() and np.isfinite(features.local_jump_threshold_).all()
    multi = Lambda3MultiScale(windows=(2, 5)).fit(X).transform(X)
    assert np.isfinite(multi).all()
    if case == "constant_series":
        assert np.all(out[:, 2::4] == 0) and np.all(out[:, [0, 1, 3]] == 0)


@pytest.mark.parametrize("case", list(HARD))
@pytest.mark.parametrize("model", ["linear", "dynamic"])
def test_hard_input_gives_finite_predictions(case, model):
    X, y = HARD[case]
    reg = _quiet_fit(REGRESSORS[model](**FAST), X, y)
    assert np.isfinite(reg.coef_).all()
    X_new = X[:3] * 1.01
    for rows in (X, X_new):
        mean, std = reg.predict(rows, return_std=True)
        assert np.isfinite(mean).all() and np.isfinite(std).all() and np.all(std >= 0)
        assert np.isfinite(reg.predict_interval(rows)).all()
        assert np.isfinite(reg.sample_y(rows, n_samples=2, random_state=0)).all()
    if model == "dynamic":
        assert np.isfinite(reg.forecast(X_new, return_std=True)).all()
    if case in ("offset_1e12", "scale_1e-12", "float32") and model == "linear":
        # The in-sample fit is as good as without the offset or scale (standardised internally).
        scale = 1e-12 if case == "scale_1e-12" else 1.0
        residual = np.abs(reg.predict(X) - y).max() / scale
        assert residual < 10, residual
    if case == "constant_target":
        np.testing.assert_allclose(reg.predict(X), 2.0, atol=1e-6)


# ---------------------------------------------------------------- fuzzing the feature kernels
FINITE = st.floats(
    min_value=-1e150, max_value=1e150, allow_nan=False, allow_infinity=False, allow_subnormal=True
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    X=hnp.arrays(np.float64, st.tuples(st.integers(2, 120), st.integers(1, 3)), elements=FINITE),
    window=st.integers(1, 100),
    local_window=st.integers(1, 100),
    percentiles=st.tuples(st.floats(0, 100), st.floats(0, 100)),
)
def test_fuzz_feature_kernels_are_finite(X, window, local_window, percentiles):
    features = Lambda3Features(window, local_window, *percentiles)
    out = features.fit_transform(X)
    assert np.isfinite(out).all()
    assert set(np.unique(out[:, [c for c in range(out.shape[1]) if c % 4 != 2]])) <= {0.0, 1.0}
    assert np.all(out[:, 2::4] >= 0)
    assert np.isfinite(features.jump_threshold_).all() and np.isfinite(features.local_jump_threshold_).all()
    assert np.isfinite(features.transform(X[::-1])).all()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    X=hnp.arrays(np.float64, st.tuples(st.integers(2, 80), st.integers(1, 2)), elements=FINITE),
    windows=st.lists(st.integers(1, 100), min_size=1, max_size=3, unique=True),
)
def test_fuzz_multiscale_is_finite(X, windows):
    assert np.isfinite(Lambda3MultiScale(windows=windows).fit(X).transform(X)).all()


@settings(max_examples=30, deadline=None)
@given(
    big=st.floats(min_value=1.0000001e150, max_value=1.7e308, allow_infinity=False),
    sign=st.sampled_from([-1.0, 1.0]),
)
def test_fuzz_values_beyond_the_bound_are_refused(big, sign):
    _raises(ValueError, "Rescale X", lambda: Lambda3Features().fit(_with(sign * big)))


# ---------------------------------------------------------------- convergence
@pytest.mark.parametrize("model", ["linear", "dynamic"])
def test_convergence_failure_is_a_convergence_warning_with_diagnostics(model):
    reg = REGRESSORS[model](num_warmup=5, num_samples=5, num_chains=2, progress_bar=False, random_state=0)
    with pytest.warns(
        ConvergenceWarning, match=r"NUTS did not converge: .*(r_hat_max|ess_bulk_min)"
    ) as record:
        reg.fit(X_GOOD, Y_GOOD)
    message = str(record[0].message)
    assert "num_warmup" in message and "diagnostics_" in message
    for key in ("r_hat_max", "ess_bulk_min", "num_divergences", "mean_num_steps", "table"):
        assert key in reg.diagnostics_
    assert np.isfinite(reg.predict(X_GOOD)).all()
