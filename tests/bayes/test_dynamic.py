"""Lambda3DynamicRegressor: level path, change points, forecasts, missing steps, the evidence
shrinkage of its coefficients, Kalman filter failures and its errors."""

import pickle
import warnings

import numpy as np
import pytest
from _bayes_helpers import COMPILES, DYNAMIC_TRUTH, FAST, _CompileCounter, dynamic_data
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import r2_score
from sklearn.model_selection import TimeSeriesSplit
from sklearn.pipeline import Pipeline

from sklearn_lambda3 import (
    Lambda3BayesRegressor,
    Lambda3DynamicRegressor,
    Lambda3Features,
    Lambda3HierarchicalRegressor,
)
from sklearn_lambda3.datasets import make_jump_series


@pytest.fixture(scope="module")
def dynamic_fit():
    X, y, level, coef = dynamic_data()
    reg = Lambda3DynamicRegressor(change_points=DYNAMIC_TRUTH["points"], **FAST, random_state=0).fit(X, y)
    return reg, X, y, level, coef


def test_dynamic_recovers_level_path_steps_and_coefficients(dynamic_fit):
    reg, X, y, level, coef = dynamic_fit
    assert reg.diagnostics_["r_hat_max"] <= 1.02 and reg.diagnostics_["num_divergences"] == 0
    low, high = np.quantile(reg.level_samples_, [0.05, 0.95], axis=0)
    assert np.mean((low <= level) & (level <= high)) >= 0.8
    assert np.abs(reg.level_mean_ - level).mean() < DYNAMIC_TRUTH["sigma"]
    steps = reg.change_point_samples_
    assert steps.shape == (reg.level_samples_.shape[0], 2)
    low, high = np.quantile(steps, [0.005, 0.995], axis=0)
    assert np.all((low <= DYNAMIC_TRUTH["steps"]) & (DYNAMIC_TRUTH["steps"] <= high))
    sd = reg.coef_samples_.std(axis=0)
    assert np.all(np.abs(reg.coef_ - coef) < 4 * sd)
    low, high = np.quantile(reg.tau_samples_, [0.005, 0.995])
    assert low <= DYNAMIC_TRUTH["tau"] <= high
    np.testing.assert_array_equal(reg.change_points_, DYNAMIC_TRUTH["points"])


def test_dynamic_in_sample_prediction_and_interval(dynamic_fit):
    reg, X, y, level, coef = dynamic_fit
    mean, std = reg.predict(X, return_std=True)
    np.testing.assert_allclose(mean, reg.level_mean_ + X @ reg.coef_, atol=0.05)
    assert reg.score(X, y) > 0.95
    interval = reg.predict_interval(X, coverage=0.9)
    inside = np.mean((interval[:, 0] <= y) & (y <= interval[:, 1]))
    assert 0.8 <= inside <= 0.99
    assert np.all(std > 0.25)  # at least the noise


def test_dynamic_forecast_widens_with_horizon(dynamic_fit):
    reg, X, y, level, coef = dynamic_fit
    X_future = np.tile(X.mean(axis=0), (60, 1))
    mean, std = reg.forecast(X_future, return_std=True)
    assert np.all(np.diff(std) > 0)
    np.testing.assert_allclose(mean, mean[0])  # a random walk forecasts a flat level
    assert mean[0] == pytest.approx(level[-1] + X_future[0] @ coef, abs=4 * std[0])
    np.testing.assert_array_equal(reg.predict(X_future, start=reg.n_train_), mean)
    width = np.diff(reg.predict_interval(X_future, coverage=0.9, start=reg.n_train_), axis=1)[:, 0]
    assert width[-1] > 1.3 * width[0] and np.all(np.diff(width[::10]) > 0)
    # The predictive sd of step h is sqrt(noise² + sd(level)² + h τ²) in distribution.
    draws = reg.sample_y(X_future, n_samples=4000, random_state=0, start=reg.n_train_)
    assert draws.shape == (60, 4000)
    np.testing.assert_allclose(draws.std(axis=1)[[0, -1]], std[[0, -1]], rtol=0.1)


def test_dynamic_change_points_auto_finds_the_steps():
    # The detector reads y alone, so the regressors' part must not drown the steps.
    X, y, level, coef = dynamic_data(seed=1, regressor_scale=0.1)
    reg = Lambda3DynamicRegressor(change_points="auto", **FAST, random_state=0).fit(X, y)
    found = reg.change_points_
    assert all(np.min(np.abs(found - point)) <= 3 for point in DYNAMIC_TRUTH["points"])
    assert len(found) <= 4


def test_dynamic_refit_of_any_length_compiles_nothing(dynamic_fit):
    global COMPILES
    if COMPILES is None:
        COMPILES = _CompileCounter()
    before = COMPILES.count
    for n, seed in ((300, 2), (420, 3)):
        X, y, _, _ = dynamic_data(n=n, seed=seed)
        Lambda3DynamicRegressor(change_points=[100], level_prior_scale=0.3, **FAST, random_state=seed).fit(
            X, y
        )
    assert COMPILES.count == before


def test_dynamic_state_is_numpy_and_inference_data(dynamic_fit):
    reg, X, y, level, coef = dynamic_fit
    for name, value in vars(reg).items():
        values = value.values() if isinstance(value, dict) else [value]
        for item in values:
            assert "jax" not in type(item).__module__, name
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(reg)).predict(X), reg.predict(X))
    pytest.importorskip("arviz")
    idata = reg.to_inference_data()
    n_paths = reg.level_samples_.shape[0]
    assert idata.posterior["level"].shape == (2, n_paths // 2, len(y))
    assert idata.posterior["step"].shape == (2, n_paths // 2, 2)
    assert idata.log_likelihood["y"].shape == (2, n_paths // 2, len(y))


def test_dynamic_tension_noise_runs_through_features():
    pd = pytest.importorskip("pandas")
    X, jumps = make_jump_series(300, n_jumps=3, return_jumps=True, random_state=4)
    F = Lambda3Features().set_output(transform="pandas").fit_transform(pd.DataFrame(X, columns=["s"]))
    reg = Lambda3DynamicRegressor(noise="tension", change_points="auto", **FAST)
    reg.set_params(random_state=0).fit(F, X[:, 0])
    assert set(reg.noise_samples_) == {"sigma_base", "sigma_scale"}
    assert np.all(reg.noise_samples_["sigma_scale"] >= 0)
    np.testing.assert_array_equal(reg.change_points_, np.flatnonzero(jumps[0]))


def test_dynamic_default_converges_when_sigma_reaches_zero():
    # A pure random walk: the noise's posterior reaches down to σ = 0. Sampled in log σ (as
    # before), that is a tail without end where chains stuck: R-hat 1.046, bulk ESS 106 here.
    rng = np.random.default_rng(0)
    y = np.cumsum(rng.standard_normal(300))
    X = rng.standard_normal((300, 2))
    reg = Lambda3DynamicRegressor(**FAST, random_state=0).fit(X, y)
    d = reg.diagnostics_
    assert d["r_hat_max"] <= 1.01 and d["ess_bulk_min"] >= 200 and d["num_divergences"] == 0
    assert np.quantile(reg.noise_samples_["sigma"], 0.01) < 0.01 * reg.tau_samples_.mean()


def local_level_with_idle_features(seed, n=200, m=40):
    """A local level (τ = σ = 0.3) and six features unrelated to it: three rare indicators and
    three columns nearly constant in training (sd 0.01) that vary out of sample (sd 1)."""
    rng = np.random.default_rng(seed)
    y = 10 + np.cumsum(0.3 * rng.standard_normal(n + m)) + 0.3 * rng.standard_normal(n + m)
    X = rng.standard_normal((n + m, 6)) * np.r_[np.full(n, 0.01), np.ones(m)][:, None]
    X[:, :3] = rng.random((n + m, 3)) < 0.02
    return X[:n], y[:n], X[n:], y[n:]


def test_dynamic_forecast_with_idle_features_falls_back_to_the_local_level():
    # With the coefficients' prior at its stated scales (g = 1) the idle features add their
    # prior spread to the forecasts: RMSE 1.32 x the last value's, 99 % coverage of the 90 %
    # intervals. The evidence shrinks them away (g near 1e-4 on most of these series).
    errors, naive, coverage = [], [], []
    for seed in range(4):
        X, y, X_new, y_new = local_level_with_idle_features(seed)
        reg = Lambda3DynamicRegressor(**FAST, random_state=seed).fit(X, y)
        interval = reg.predict_interval(X_new, coverage=0.9, start=reg.n_train_)
        errors.append(reg.forecast(X_new) - y_new)
        naive.append(y[-1] - y_new)
        coverage.append(np.mean((y_new >= interval[:, 0]) & (y_new <= interval[:, 1])))
    rmse, naive_rmse = (np.sqrt(np.mean(np.concatenate(e) ** 2)) for e in (errors, naive))
    assert rmse <= 1.1 * naive_rmse
    assert 0.8 <= np.mean(coverage) <= 0.97


def test_dynamic_evidence_shrinkage_keeps_informative_features_and_matches_a_grid():
    from sklearn_lambda3.bayes._kalman._host import _scale_mode, _scale_posterior, dynamic_evidence_shrinkage

    rng = np.random.default_rng(3)
    n = 150
    X = rng.standard_normal((n, 3))
    level = np.cumsum(0.1 * rng.standard_normal(n))

    def inputs(y):
        return (y - y.mean()) / y.std(), X.copy(), np.full(3, 1.0), np.zeros(n), 4.0, 25.0, np.zeros(n)

    strong = inputs(level + X @ [1.0, -0.5, 0.3] + 0.2 * rng.standard_normal(n))
    assert dynamic_evidence_shrinkage(strong, 0.1, 1.0) > 0.3
    idle = inputs(level + 0.2 * rng.standard_normal(n))
    g = dynamic_evidence_shrinkage(idle, 0.1, 1.0)
    assert g < 0.1

    def profile(g):
        shrunk = (*idle[:2], idle[2] * g, *idle[3:])
        starts = [np.log([0.05, 0.5]), np.log([0.005, 0.5])]
        return -_scale_mode(_scale_posterior(shrunk, np.array([0.1, 1.0])), starts).fun

    grid = np.geomspace(1e-4, 1.0, 41)
    assert profile(g) >= max(profile(h) for h in grid) - 1e-3


def collinear_weather(n=150, seed=1):
    """Six related series (dew point a function of temperature and humidity), the target the
    next step of the first: their Lambda³ features are collinear and explain y so well that a
    chain probes σ at the noise floor, where the filter's matrix A was not positive definite."""
    pd = pytest.importorskip("pandas")
    rng = np.random.default_rng(seed)
    t = np.arange(n + 1)
    temp = 20 + 4 * np.sin(2 * np.pi * t / 24) + np.cumsum(0.2 * rng.standard_normal(n + 1))
    hum = 70 - 2 * (temp - 20) + rng.standard_normal(n + 1)
    frame = pd.DataFrame(
        {
            "temp": temp,
            "hum": hum,
            "dew": temp - (100 - hum) / 5,
            "rain": (rng.random(n + 1) < 0.03) * 1.0,
            "wind": 2 + np.abs(rng.standard_normal(n + 1)),
            "press": 1010 + np.cumsum(0.1 * rng.standard_normal(n + 1)),
        }
    )
    return frame.iloc[:-1], frame["temp"].shift(-1).iloc[:-1]


def test_dynamic_cross_validation_on_collinear_features_runs():
    from sklearn.model_selection import cross_val_score

    X, y = collinear_weather()
    reg = Lambda3DynamicRegressor(change_points="auto", random_state=0, **FAST)
    pipe = Pipeline([("l3", Lambda3Features()), ("reg", reg)]).set_output(transform="pandas")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(pipe, X, y, cv=TimeSeriesSplit(3), error_score="raise")
    assert np.all(np.isfinite(scores))


def test_kalman_filter_failure_is_a_clear_value_error(monkeypatch):
    from sklearn_lambda3.bayes._kalman import _host

    def broken(*args):
        raise np.linalg.LinAlgError("Matrix is not positive definite.")

    # The host-side search for the sampling coordinate (the sampler's FFI handler cannot
    # raise: a point it cannot evaluate gets -inf, a rejected step).
    monkeypatch.setattr(_host, "columns_loglik_and_grad", broken)
    X, y, _, _ = dynamic_data(n=60)
    reg = Lambda3DynamicRegressor(**FAST, random_state=0)
    with pytest.raises(ValueError, match="Kalman filter failed.*not positive definite"):
        reg.fit(X, y)


def test_numba_filter_on_an_accelerator_is_a_clear_error(monkeypatch):
    import jax

    from sklearn_lambda3.bayes import _inference

    class FakeGPU:
        platform = "gpu"
        id = 0

    real_devices = jax.devices

    def devices(backend=None):
        return [FakeGPU()] if backend == "gpu" else real_devices(backend)

    monkeypatch.setattr(_inference.jax, "devices", devices)
    X, y, _, _ = dynamic_data(n=60)
    with pytest.raises(ValueError, match="kalman='numba'.*use kalman='jax' or 'auto'"):
        Lambda3DynamicRegressor(kalman="numba", device="gpu", **FAST).fit(X, y)


@pytest.mark.parametrize(
    ("points", "error", "match"),
    [
        ([0, 10], ValueError, r"\[1, 59\]"),
        ([10, 60], ValueError, r"\[1, 59\]"),
        ([30, 10], ValueError, "sorted"),
        ([10, 10], ValueError, "duplicates"),
        ([10.5], TypeError, "integer"),
        (["a"], TypeError, "integer"),
        ([[10, 20]], ValueError, "1-D"),
        ("everywhere", ValueError, "change_points"),
    ],
)
def test_bad_change_points_raise_clear_errors(points, error, match):
    X, y, _, _ = dynamic_data(n=60)
    with pytest.raises(error, match=match):
        Lambda3DynamicRegressor(change_points=points, **FAST).fit(X, y)


def test_forecast_is_the_dynamic_models_own():
    # Only the dynamic model has a time axis; the linear model's rows are exchangeable.
    assert not hasattr(Lambda3BayesRegressor, "forecast")
    assert not hasattr(Lambda3HierarchicalRegressor, "forecast")
    assert callable(Lambda3DynamicRegressor.forecast)


def test_dynamic_fit_through_missing_steps(dynamic_fit):
    global COMPILES
    if COMPILES is None:
        COMPILES = _CompileCounter()
    X, y, level, coef = dynamic_data(n=300, seed=5)
    y_gap = y.copy()
    gap = np.arange(150, 170)
    y_gap[gap] = np.nan
    y_gap[[0, 40, 120, 299]] = np.nan  # the first, a lone one, one at a change point, the last
    observed = ~np.isnan(y_gap)
    before = COMPILES.count
    reg = Lambda3DynamicRegressor(change_points=DYNAMIC_TRUTH["points"][:1], **FAST, random_state=1).fit(
        X, y_gap
    )
    assert COMPILES.count == before  # neither the series nor its missing pattern is compiled in
    assert reg.diagnostics_["num_divergences"] == 0
    mean, std = reg.predict(X, return_std=True)
    assert mean.shape == std.shape == (300,) and np.all(np.isfinite(mean)) and np.all(std > 0)
    assert reg.predict_interval(X).shape == (300, 2)
    # The smoothed level through the gap stays between its neighbours' levels and near the
    # truth, and is least certain in the middle of the gap.
    path = reg.level_mean_
    low, high = sorted([path[gap[0] - 1], path[gap[-1] + 1]])
    spread = reg.level_samples_.std(axis=0)
    assert np.all((path[gap] > low - 0.05) & (path[gap] < high + 0.05))
    assert np.abs(path[gap] - level[gap]).mean() < 3 * spread[gap].mean()
    assert spread[gap[10]] > 1.2 * max(spread[gap[0] - 1], spread[gap[-1] + 1])
    assert spread[gap[10]] > spread[gap[1]] and spread[gap[10]] > spread[gap[-2]]
    log_lik = reg.pointwise_log_likelihood(X, y_gap)
    assert log_lik.shape == (2, reg.level_samples_.shape[0] // 2, observed.sum())
    assert np.all(np.isfinite(log_lik))
    assert reg.score(X, y_gap) == pytest.approx(r2_score(y_gap[observed], mean[observed]), rel=1e-12)
    forecast, forecast_std = reg.forecast(X[:10], return_std=True)
    assert np.all(np.isfinite(forecast)) and np.all(np.diff(forecast_std) > 0)
    pytest.importorskip("arviz")
    idata = reg.to_inference_data()
    assert idata.log_likelihood["y"].shape[-1] == observed.sum()
    np.testing.assert_array_equal(np.asarray(idata.observed_data["y"]), y_gap[observed])


def test_dynamic_score_covers_the_observed_steps(dynamic_fit):
    reg, X, y, _, _ = dynamic_fit
    y_gap = y.copy()
    y_gap[[0, 7, 150, 151, 152, 399]] = np.nan
    observed = ~np.isnan(y_gap)
    mean = reg.predict(X)
    assert reg.score(X, y_gap) == pytest.approx(r2_score(y[observed], mean[observed]), rel=1e-12)
    weight = np.random.default_rng(0).uniform(0.5, 2.0, len(y))
    expected = r2_score(y[observed], mean[observed], sample_weight=weight[observed])
    assert reg.score(X, y_gap, sample_weight=weight) == pytest.approx(expected, rel=1e-12)
    future = reg.forecast(X[:20])
    y_future = np.r_[np.nan, y[1:20]]
    assert reg.score(X[:20], y_future, start=reg.n_train_) == pytest.approx(
        r2_score(y[1:20], future[1:]), rel=1e-12
    )
    assert reg.score(X, y) == pytest.approx(r2_score(y, mean), rel=1e-12)


@pytest.mark.parametrize(
    ("y", "weight", "match"),
    [
        (np.full(400, np.nan), None, "at least 2 observed"),
        (np.r_[np.nan, np.ones(399)], np.ones(399), "sample_weight"),
        (np.ones(399), None, "inconsistent numbers of samples"),
        (np.r_[np.inf, np.ones(399)], None, "infinity"),
    ],
)
def test_dynamic_score_bad_targets(dynamic_fit, y, weight, match):
    reg, X, _, _, _ = dynamic_fit
    with pytest.raises(ValueError, match=match):
        reg.score(X, y, sample_weight=weight)


def test_dynamic_change_points_auto_with_missing_steps():
    X, y, level, coef = dynamic_data(seed=1, regressor_scale=0.1)
    y = y.copy()
    y[[5, 50, 51, 52, 200, 300, 301]] = np.nan
    reg = Lambda3DynamicRegressor(change_points="auto", **FAST, random_state=0).fit(X, y)
    found = reg.change_points_
    assert all(np.min(np.abs(found - point)) <= 3 for point in DYNAMIC_TRUTH["points"])
    assert len(found) <= 4 and not np.isnan(y[found]).any()


def test_dynamic_bad_targets_with_missing_steps():
    X, y, _, _ = dynamic_data(n=40)
    reg = Lambda3DynamicRegressor(**FAST)
    with pytest.raises(ValueError, match="at least 2 observed"):
        reg.fit(X, np.r_[np.full(39, np.nan), y[-1]])
    # NaN marks a missing step; an infinity is still an error, and X must stay finite.
    with pytest.raises(ValueError, match="y holds infinity; mark missing steps with NaN"):
        reg.fit(X, np.r_[y[:-2], np.nan, np.inf])
    with pytest.raises(ValueError, match="NaN"):
        reg.fit(np.r_[X[:-1], [[np.nan, 0.0]]], np.r_[y[:-1], np.nan])


def test_kalman_auto_takes_jax_on_accelerators_and_numba_on_a_cpu():
    from sklearn_lambda3.bayes._kalman import choose_filter

    assert choose_filter("auto", "gpu") == "jax" and choose_filter("auto", "cpu") == "numba"
    assert choose_filter("numba", "gpu") == "numba" and choose_filter("jax", "cpu") == "jax"
    with pytest.raises(ValueError, match="kalman"):
        Lambda3DynamicRegressor(kalman="scan").fit(*dynamic_data(n=40)[:2])


def test_jax_filter_samples_the_same_posterior_and_reuses_its_program(dynamic_fit):
    import jax

    global COMPILES
    if COMPILES is None:
        COMPILES = _CompileCounter()
    reg, X, y, level, coef = dynamic_fit
    assert reg.kalman_ == "numba"
    x64 = jax.config.jax_enable_x64
    jax_reg = Lambda3DynamicRegressor(
        change_points=DYNAMIC_TRUTH["points"], kalman="jax", **FAST, random_state=1
    ).fit(X, y)
    assert jax_reg.kalman_ == "jax" and jax.config.jax_enable_x64 == x64  # float64 for the fit only
    # A divergence is rare, not impossible, at these short settings: over 6 seeds on this series
    # the JAX filter's fits diverged once in 3600 draws (the Numba filter's not at all).
    draws = jax_reg.tau_samples_.size
    assert (
        jax_reg.diagnostics_["num_divergences"] <= 0.005 * draws and jax_reg.diagnostics_["r_hat_max"] <= 1.02
    )
    # The same posterior: means within Monte Carlo error of each other (the fits' least ESS).
    ess = (reg.diagnostics_["ess_bulk_min"], jax_reg.diagnostics_["ess_bulk_min"])
    for a, b in [
        (reg.coef_samples_, jax_reg.coef_samples_),
        (reg.tau_samples_, jax_reg.tau_samples_),
        (reg.noise_samples_["sigma"], jax_reg.noise_samples_["sigma"]),
        (reg.level_samples_[:, 300], jax_reg.level_samples_[:, 300]),
    ]:
        error = np.hypot(a.std(axis=0) / np.sqrt(ess[0]), b.std(axis=0) / np.sqrt(ess[1]))
        assert np.all(np.abs(a.mean(axis=0) - b.mean(axis=0)) < 4 * error)
    # 420 steps and missing steps pad to the same 448 as 400 steps: nothing compiles.
    X_more, y_more, _, _ = dynamic_data(n=420, seed=3)
    y_more[[0, 200, 201, 419]] = np.nan
    before = COMPILES.count
    refit = Lambda3DynamicRegressor(change_points=[100], kalman="jax", **FAST, random_state=2).fit(
        X_more, y_more
    )
    assert COMPILES.count == before
    assert np.all(np.isfinite(refit.level_mean_)) and refit.diagnostics_["num_divergences"] == 0


def test_posterior_does_not_depend_on_the_memory_layout_of_X():
    # A strided view (as pandas' to_numpy()[:n] gives) and its contiguous copy (as pickling
    # to a worker gives) round the standardisation alike, so NUTS follows the same path.
    X, y, _, _ = dynamic_data(n=60, seed=8)
    wide = np.zeros((60, 5))
    wide[:, [0, 3]] = X
    strided = wide[:, ::3]
    assert not strided.flags["C_CONTIGUOUS"] and not strided.flags["F_CONTIGUOUS"]
    fits = [
        Lambda3DynamicRegressor(**FAST, random_state=0).fit(data, y)
        for data in (strided, np.ascontiguousarray(strided), np.asfortranarray(strided))
    ]
    for other in fits[1:]:
        np.testing.assert_array_equal(other.tau_samples_, fits[0].tau_samples_)
        np.testing.assert_array_equal(other.coef_samples_, fits[0].coef_samples_)
