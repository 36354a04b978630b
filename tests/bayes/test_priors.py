"""Priors in units of the target per raw unit of each regressor, and their evidence shrinkage."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import multivariate_normal

from sklearn_lambda3 import Lambda3BayesRegressor
from sklearn_lambda3.bayes._priors import (
    _spectral_log_evidence,
    _spectrum,
    column_prior_scales,
    evidence_shrinkage,
)

FAST = {"num_warmup": 300, "num_samples": 300, "num_chains": 2, "progress_bar": False}


def log_evidence(gram, moment, yy, n, prior_sd, noise_var):
    """The evidence as the shrinkage computes it, from ``ZᵀZ``, ``Zᵀy``, ``yᵀy`` and ``n``."""
    return _spectral_log_evidence(*_spectrum(gram, moment, prior_sd), yy, n, noise_var)


def _dense_log_evidence(Z, y, prior_sd, noise_var):
    covariance = noise_var * np.eye(len(y)) + Z @ np.diag(prior_sd**2) @ Z.T
    return multivariate_normal(np.zeros(len(y)), covariance).logpdf(y)


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(3, 30),
    k=st.integers(1, 5),
    log_noise=st.floats(-3, 2),
    seed=st.integers(0, 2**16),
)
def test_log_evidence_equals_the_dense_gaussian(n, k, log_noise, seed):
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, k))
    y = rng.normal(size=n)
    prior_sd = np.exp(rng.uniform(-4, 1, size=k))
    noise_var = float(np.exp(log_noise))
    value = log_evidence(Z.T @ Z, Z.T @ y, float(y @ y), n, prior_sd, noise_var)
    assert value == pytest.approx(_dense_log_evidence(Z, y, prior_sd, noise_var), rel=1e-9, abs=1e-9)


def test_log_evidence_is_finite_for_a_vanishing_prior_scale():
    rng = np.random.default_rng(0)
    Z = rng.normal(size=(20, 3))
    y = rng.normal(size=20)
    prior_sd = np.array([1.0, 1e-15, 2.0])
    value = log_evidence(Z.T @ Z, Z.T @ y, float(y @ y), 20, prior_sd, 0.7)
    dropped = _dense_log_evidence(Z[:, [0, 2]], y, prior_sd[[0, 2]], 0.7)
    assert value == pytest.approx(dropped, rel=1e-9)


def _brute_force_shrinkage(Z, y, prior_sd, shrunk):
    """Maximise the dense Gaussian evidence over a fine grid of g and noise variances."""
    best, best_g = -np.inf, None
    for g in np.geomspace(1e-4, 1, 161):
        sd = np.where(shrunk, prior_sd * g, prior_sd)
        for noise_var in np.geomspace(1e-3, 3, 121):
            value = _dense_log_evidence(Z, y, sd, noise_var)
            if value > best:
                best, best_g = value, g
    return best_g


@pytest.mark.parametrize("signal", [0.0, 0.3, 3.0])
def test_evidence_shrinkage_matches_a_brute_force_maximum(signal):
    rng = np.random.default_rng(1)
    n, k = 40, 6
    W = rng.normal(size=(n, k))
    y = signal * W[:, 0] + rng.normal(size=n)
    y = (y - y.mean()) / y.std()
    Z = np.column_stack([np.ones(n), W])
    prior = np.r_[2.0, np.full(k, 3.0)]
    shrunk = np.r_[False, np.ones(k, dtype=bool)]
    found = evidence_shrinkage(Z, y, prior, shrunk)
    reference = _brute_force_shrinkage(Z, y, prior, shrunk)
    assert np.log(found) == pytest.approx(np.log(reference), abs=0.1)


def test_many_noise_regressors_are_shrunk_and_a_strong_one_is_not():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(60, 20))
    noise_only = Lambda3BayesRegressor(**FAST, random_state=0).fit(X, rng.normal(size=60))
    assert noise_only.prior_shrinkage_ < 0.1
    y = 2.0 * X[:, 0] + 0.1 * rng.normal(size=60)
    strong = Lambda3BayesRegressor(**FAST, random_state=0).fit(X[:, :2], y)
    assert strong.prior_shrinkage_ > 0.3
    assert strong.coef_[0] == pytest.approx(2.0, abs=0.05)


def test_a_fixed_shrinkage_is_used_as_given():
    rng = np.random.default_rng(3)
    X = rng.normal(size=(50, 2))
    y = X @ [1.0, -1.0] + rng.normal(size=50)
    reg = Lambda3BayesRegressor(prior_shrinkage=0.5, **FAST, random_state=0).fit(X, y)
    assert reg.prior_shrinkage_ == 0.5
    # Posterior under a prior so tight that it dominates: sd ≈ g · scale · std(y) per raw unit.
    tight = Lambda3BayesRegressor(prior_shrinkage=1e-3, **FAST, random_state=0).fit(X, y)
    assert np.all(tight.coef_samples_.std(axis=0) < 2e-3 * y.std())


def test_prior_is_per_raw_unit_not_per_training_spread():
    """A regressor nearly constant in training keeps a bounded effect when it varies later."""
    rng = np.random.default_rng(4)
    n = 200
    x1 = rng.normal(size=n)
    noise = rng.normal(scale=0.5, size=n)
    # In the training rows the second regressor is a tiny echo of the noise: per unit of its
    # training spread it explains half the residual variance.
    x2 = 1e-3 * (noise + 0.7 * rng.normal(size=n))
    y = 2.0 * x1 + noise
    reg = Lambda3BayesRegressor(**FAST, random_state=0).fit(np.column_stack([x1, x2]), y)
    assert abs(reg.coef_[1]) < 5 * y.std()
    X_test = np.column_stack([rng.normal(size=500), rng.normal(size=500)])
    y_test = 2.0 * X_test[:, 0] + rng.normal(scale=0.5, size=500)
    error = np.sqrt(np.mean((reg.predict(X_test) - y_test) ** 2))
    assert error < 5 * 0.5


def test_prior_scales_in_units_of_y_make_coefficients_equivariant():
    rng = np.random.default_rng(5)
    X = rng.normal(size=(80, 3))
    y = X @ [0.5, 0.0, -0.2] + rng.normal(size=80)
    base = Lambda3BayesRegressor(**FAST, random_state=0).fit(X, y)
    scaled = Lambda3BayesRegressor(**FAST, random_state=0).fit(X, 1000.0 * y)
    assert scaled.prior_shrinkage_ == pytest.approx(base.prior_shrinkage_, rel=1e-6)
    np.testing.assert_allclose(scaled.coef_, 1000.0 * base.coef_, rtol=1e-3, atol=1e-3)


def test_out_of_sample_intervals_cover_their_nominal_share():
    rng = np.random.default_rng(6)
    X = rng.normal(size=(2100, 10))
    y = X[:, :2] @ [1.0, -0.5] + rng.normal(size=2100)
    reg = Lambda3BayesRegressor(**FAST, random_state=0).fit(X[:100], y[:100])
    interval = reg.predict_interval(X[100:], coverage=0.9)
    covered = np.mean((y[100:] >= interval[:, 0]) & (y[100:] <= interval[:, 1]))
    assert 0.85 <= covered <= 0.95


def test_column_prior_scales_by_kind():
    names = np.array(["t", "a__delta_LambdaC_pos", "a__rho_T", "a__local_jump", "a__delta_LambdaC_neg"])
    np.testing.assert_array_equal(column_prior_scales(names, 5, 0.7, 4.0, 2.5), [0.7, 4.0, 2.5, 4.0, 4.0])
    np.testing.assert_array_equal(column_prior_scales(None, 3, 0.7, 4.0, 2.5), [0.7, 0.7, 0.7])


@pytest.mark.parametrize("value", ["bic", 0.0, -1.0])
def test_bad_prior_shrinkage_is_rejected(value):
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match="prior_shrinkage"):
        Lambda3BayesRegressor(prior_shrinkage=value, **FAST).fit(X, X[:, 0])


def test_weighted_evidence_shrinkage_equals_repeated_rows():
    rng = np.random.default_rng(3)
    Z = np.column_stack([np.ones(40), rng.normal(size=(40, 6))])
    y = 0.3 * Z[:, 1] + rng.normal(size=40)
    prior = np.r_[2.0, np.full(6, 1.0)]
    shrunk = np.r_[False, np.ones(6, dtype=bool)]
    weight = rng.integers(0, 4, size=40).astype(float)
    repeated = np.repeat(np.arange(40), weight.astype(int))
    weighted = evidence_shrinkage(Z, y, prior, shrunk, sample_weight=weight)
    assert weighted == pytest.approx(evidence_shrinkage(Z[repeated], y[repeated], prior, shrunk), rel=1e-6)
    assert weighted != pytest.approx(evidence_shrinkage(Z, y, prior, shrunk), rel=1e-3)


def test_evidence_of_a_design_that_fits_exactly_is_computed():
    # 27 rows (15 distinct), 30 columns: the noise variance's profile reaches far below the
    # rounding of ZᵀZ, where a Cholesky factor of I + V½GV½/σ² fails.
    rng = np.random.RandomState(42)
    X = rng.rand(15, 30)
    y = rng.randint(0, 3, size=15).astype(float)
    rows = np.repeat(np.arange(15), rng.randint(0, 5, size=15))
    X, y = X[rows], y[rows]
    Z = np.column_stack([np.ones(len(y)), (X - X.mean(axis=0)) / X.std(axis=0)])
    ys = (y - y.mean()) / y.std()
    prior = np.r_[2.0, np.full(30, 0.3)]
    shrunk = np.r_[False, np.ones(30, dtype=bool)]
    g = evidence_shrinkage(Z, ys, prior, shrunk)
    assert 1e-4 <= g <= 1.0
    # Row order changes ZᵀZ only by rounding: the factor barely moves.
    order = rng.permutation(len(ys))
    assert evidence_shrinkage(Z[order], ys[order], prior, shrunk) == pytest.approx(g, rel=1e-2)


def test_constant_target_gives_a_finite_shrinkage_without_overflow():
    rng = np.random.default_rng(5)
    Z = np.column_stack([np.ones(50), rng.normal(size=(50, 3))])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # the old floor overflowed λ/σ²
        g = evidence_shrinkage(Z, np.zeros(50), np.ones(4), np.r_[False, True, True, True])
    assert 0 < g <= 1
