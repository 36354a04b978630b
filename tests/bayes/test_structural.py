"""Seasons and drift of the dynamic model (``bayes/_structural.py`` and the estimator's use of it)."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from _bayes_helpers import FAST
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.exceptions import ConvergenceWarning

from sklearn_lambda3 import Lambda3DynamicRegressor
from sklearn_lambda3._changepoints import _refined_period, seasonal_period
from sklearn_lambda3._validation import check_seasonality
from sklearn_lambda3.bayes._structural import (
    find_seasonality,
    seasonal_columns,
    seasonal_cycle,
    seasonal_labels,
)

TRUTH = {"period": 24, "cos1": 0.0, "sin1": 2.0, "cos2": 1.0, "drift": 0.02, "step": 3.0, "coef": [1.0, -0.5]}


def _structural_series(n=300, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    phase = 2 * np.pi * t / TRUTH["period"]
    season = TRUTH["sin1"] * np.sin(phase) + TRUTH["cos2"] * np.cos(2 * phase)
    X = rng.normal(size=(n, 2))
    step = np.where(t >= n // 2, TRUTH["step"], 0.0)
    y = TRUTH["drift"] * t + season + step + X @ TRUTH["coef"] + 0.3 * rng.standard_normal(n)
    return X, y, {"season": season, "trend": TRUTH["drift"] * t, "change_points": step}


def _fit(X, y, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return Lambda3DynamicRegressor(**{**FAST, "random_state": 0, **params}).fit(X, y)


@pytest.fixture(scope="module")
def structural_fit():
    X, y, parts = _structural_series()
    reg = _fit(X, y, seasonality=24, trend="drift", change_points=[150], num_warmup=500, num_samples=500)
    return reg, X, y, parts


@pytest.mark.parametrize(
    ("seasonality", "expected"),
    [
        (None, ()),
        (24, ((24, 3),)),
        (7, ((7, 3),)),
        (4, ((4, 2),)),
        ([24, 7], ((7, 3), (24, 3))),
        ({12: 6, 365.25: 2}, ((12, 6), (365.25, 2))),
        ("auto", "auto"),
    ],
)
def test_seasonality_forms(seasonality, expected):
    assert check_seasonality(seasonality) == expected


@pytest.mark.parametrize(
    ("seasonality", "message"),
    [
        ("daily", "give the period in time steps"),
        (1, "at least 2"),
        ([24, 24], "twice"),
        ({24: 0}, "positive integer"),
        ({24: 13}, "at most 12 harmonics"),
        ([], "non-empty"),
        (float("nan"), "at least 2"),
    ],
)
def test_bad_seasonality_is_a_clear_error(seasonality, message):
    with pytest.raises(ValueError, match=message):
        check_seasonality(seasonality)


def test_a_period_needs_a_whole_cycle_of_training_rows():
    y = np.random.default_rng(0).normal(size=20)
    with pytest.raises(ValueError, match="at least one whole cycle"):
        Lambda3DynamicRegressor(seasonality=24, **FAST).fit(None, y)


@settings(max_examples=30, deadline=None)
@given(
    period=st.integers(2, 60),
    steps=st.lists(st.integers(0, 10**9), min_size=1, max_size=20),
)
def test_fourier_columns_equal_plain_numpy_and_repeat_every_period(period, steps):
    seasons = ((period, min(3, period // 2)),)
    steps = np.array(steps)
    columns = seasonal_columns(steps, seasons)
    expected = []
    for h in range(1, seasons[0][1] + 1):
        angle = 2 * np.pi * h * (steps % period) / period
        expected.append(np.cos(angle))
        if 2 * h != period:
            expected.append(np.sin(angle))
    np.testing.assert_allclose(columns, np.column_stack(expected), atol=1e-12)
    np.testing.assert_allclose(seasonal_columns(steps + period, seasons), columns, atol=1e-9)
    assert columns.shape[1] == len(seasonal_labels(seasons))


def test_auto_finds_the_season_with_the_change_point_detectors_finder():
    rng = np.random.default_rng(3)
    t = np.arange(240)
    seasonal = 3 * np.sin(2 * np.pi * t / 24) + rng.normal(scale=0.5, size=240)
    assert find_seasonality(seasonal) == ((24, 3),)
    assert find_seasonality(seasonal)[0][0] == seasonal_period(seasonal)
    walk = np.cumsum(rng.normal(size=240)) + rng.normal(scale=0.5, size=240)
    assert find_seasonality(walk) == ()
    reg = _fit(None, walk, seasonality="auto", num_warmup=100, num_samples=100)
    assert reg.seasonality_ == {} and "season" not in reg.components_


def test_auto_on_two_days_of_hourly_rows_takes_the_day_from_the_index():
    # Two cycles cannot tell a period of 24 from 23; a DatetimeIndex of hours can. Without X,
    # y's index is the training index: its clock places later rows too.
    rng = np.random.default_rng(2)
    t = np.arange(48)
    y = 3 * np.sin(2 * np.pi * t / 24) + np.cumsum(0.05 * rng.standard_normal(48))
    y += 0.1 * rng.standard_normal(48)
    hours = pd.date_range("2025-06-19 15:00", periods=72, freq="h", tz="UTC")
    found = find_seasonality(y)
    assert found and found[0][0] in (23, 24, 25)
    assert find_seasonality(y, calendar=(24, 168)) == ((24, 3),)
    reg = _fit(None, pd.Series(y, index=hours[:48]), seasonality="auto")
    assert reg.seasonality_ == {24: 3}
    future = pd.DataFrame(index=hours[48:])
    np.testing.assert_allclose(reg.predict(future), reg.forecast(steps=24))
    numpy_fit = _fit(None, y, seasonality="auto")
    assert numpy_fit.seasonality_ == dict(found)


def test_auto_refines_a_peak_one_step_off_the_period():
    # The first 144 hours of the Tokyo temperature: the differences' autocorrelation peaks at
    # lag 23 (0.67 against 0.65 at 24), but at the multiples 24 wins (0.53 at 48, 0.39 at 46).
    acf = np.zeros(72)
    acf[[22, 23, 24, 25, 26]] = [0.55, 0.67, 0.65, 0.66, 0.53]
    acf[[44, 46, 48, 50, 52]] = [0.15, 0.39, 0.53, 0.43, 0.20]
    assert _refined_period(acf, 23, 71) == 24
    lags = np.arange(200)
    for period in (5, 12, 24, 30):
        assert _refined_period(np.cos(2 * np.pi * lags / period), period, 199) == period


def test_every_component_is_recovered_within_its_interval(structural_fit):
    reg, X, y, parts = structural_fit
    assert reg.seasonality_ == {24: 3}
    labels, draws = reg.parameter_draws()
    low, high = np.quantile(draws, [0.005, 0.995], axis=0)
    truth = {
        "coef[x0]": TRUTH["coef"][0],
        "coef[x1]": TRUTH["coef"][1],
        "season24_cos1": TRUTH["cos1"],
        "season24_sin1": TRUTH["sin1"],
        "season24_cos2": TRUTH["cos2"],
        "season24_sin2": 0.0,
        "season24_cos3": 0.0,
        "season24_sin3": 0.0,
        "drift": TRUTH["drift"],
    }
    for name, value in truth.items():
        k = labels.index(name)
        assert low[k] <= value <= high[k], name
    step_low, step_high = np.quantile(reg.change_point_samples_[:, 0], [0.005, 0.995])
    assert step_low <= TRUTH["step"] <= step_high
    components = reg.components(coverage=0.99)
    for name in ("season", "trend", "change_points"):
        inside = (components[name][:, 1] <= parts[name]) & (parts[name] <= components[name][:, 2])
        assert inside.mean() > 0.95, name
    regressors = (X - X.mean(axis=0)) @ TRUTH["coef"]  # centred on the training means
    inside = (components["regressors"][:, 1] <= regressors) & (regressors <= components["regressors"][:, 2])
    assert inside.mean() > 0.95


def test_components_add_up_to_the_fit_and_the_forecast(structural_fit):
    reg, X, _, _ = structural_fit
    total = sum(part[:, 0] for part in reg.components_.values())
    np.testing.assert_allclose(total, reg.predict(X), atol=1e-9)
    future = np.random.default_rng(1).normal(size=(30, 2))
    ahead = reg.components(future, start=reg.n_train_)
    forecast, std = reg.forecast(future, return_std=True)
    # The level's forecast spread is drawn: equal up to its Monte Carlo error.
    np.testing.assert_allclose(sum(part[:, 0] for part in ahead.values()), forecast, atol=0.1 * std.min())
    # The level's spread grows by τ² a step: over these 30 steps about 2 % here (τ ≈ 0.01 against
    # a last level's sd of 0.27), under the Monte Carlo error of a 90 % interval from 500 draws
    # (about 5 %); 1000 steps ahead it is about 1.5 times as wide.
    far = reg.components(np.zeros((1000, 2)), start=reg.n_train_)["level"]
    width = far[:, 2] - far[:, 1]
    assert width[-1] > 1.2 * width[0]


def test_seasonal_cycle_is_where_the_columns_repeat():
    assert seasonal_cycle(()) == 1
    assert seasonal_cycle(((24, 3),)) == 24
    assert seasonal_cycle(((24, 3), (7, 2))) == 168
    assert seasonal_cycle(((12, 2), (365.25, 2))) is None
    steps = np.arange(400)
    columns = seasonal_columns(steps, ((24, 3), (7, 2)))
    np.testing.assert_array_equal(columns[168:], columns[:-168])


def test_components_drawn_once_per_distinct_row_are_every_rows_own(structural_fit):
    """The season and the change points' sum are summarised once per step of the cycle and once
    between change points: the same as drawing them row by row, in the training rows and ahead."""
    reg, X, _, _ = structural_fit
    draws = reg._path_draws()
    quantiles = [0.05, 0.95]
    for rows, start in ((X, 0), (X[:100], reg.n_train_ + 13)):
        steps = start + np.arange(len(rows))
        components = reg.components(rows, start=start) if start else reg.components_
        season = seasonal_columns(steps, reg._seasons) @ reg.seasonal_coef_samples_[draws].T
        reached = np.searchsorted(reg.change_points_, steps, side="right")
        steps_sum = np.hstack([np.zeros((len(draws), 1)), np.cumsum(reg.change_point_samples_, axis=1)])
        for name, values in (("season", season), ("change_points", steps_sum[:, reached].T)):
            expected = np.column_stack([values.mean(axis=1), *np.quantile(values, quantiles, axis=1)])
            np.testing.assert_allclose(components[name], expected, rtol=1e-12, atol=1e-12)


def test_forecast_continues_the_season_in_phase():
    t = np.arange(300)
    season = 2 * np.sin(2 * np.pi * t / 24)
    y = season + 0.1 * np.random.default_rng(2).standard_normal(300)
    reg = _fit(None, y[:240], seasonality=24)
    forecast = reg.forecast(steps=60)
    assert np.sqrt(np.mean((forecast - season[240:]) ** 2)) < 0.2
    np.testing.assert_allclose(reg.predict(np.empty((60, 0)), start=240), forecast, atol=1e-12)
    index = pd.date_range("2024-01-01", periods=300, freq="h")
    frame = pd.DataFrame(index=index)
    reg_pd = _fit(frame.iloc[:240], y[:240], seasonality=24)
    np.testing.assert_allclose(reg_pd.predict(frame.iloc[240:]), reg_pd.forecast(steps=60), atol=1e-12)
    np.testing.assert_allclose(reg_pd.forecast(steps=60), forecast, atol=1e-9)


def test_drift_widens_the_forecast_and_follows_the_slope():
    rng = np.random.default_rng(4)
    t = np.arange(200)
    y = 0.05 * t + np.cumsum(0.05 * rng.standard_normal(200)) + 0.2 * rng.standard_normal(200)
    level = _fit(None, y, trend="level")
    drift = _fit(None, y, trend="drift")
    mean_level, sd_level = level.forecast(steps=50, return_std=True)
    mean_drift, sd_drift = drift.forecast(steps=50, return_std=True)
    truth = 0.05 * np.arange(200, 250)
    assert np.abs(mean_drift - truth).mean() < np.abs(mean_level - truth).mean()
    low, high = np.quantile(drift.drift_samples_, [0.005, 0.995])
    assert low <= 0.05 <= high
    # The drift's uncertainty grows the variance with h², on top of the level's τ² h.
    extra = sd_drift**2 - sd_drift[0] ** 2
    assert extra[-1] / extra[9] > 49 / 9


def test_seasonal_refits_compile_nothing_new():
    from _bayes_helpers import _CompileCounter

    counter = _CompileCounter()
    rng = np.random.default_rng(5)
    t = np.arange(150)
    y = np.sin(2 * np.pi * t / 12) + rng.normal(scale=0.3, size=150)
    _fit(None, y, seasonality=12, trend="drift", num_warmup=50, num_samples=50)
    before = counter.count
    _fit(None, y[:130] + 1.0, seasonality={12: 2, 30: 1}, num_warmup=50, num_samples=50)
    assert counter.count == before


def test_inference_data_and_diagnostics_name_the_structural_terms(structural_fit):
    pytest.importorskip("arviz")
    reg, _, _, _ = structural_fit
    idata = reg.to_inference_data()
    assert idata.posterior["season_coef"].shape[-1] == 6
    assert "drift" in idata.posterior
    assert "drift" in reg.diagnostics_["table"]["parameter"]
    assert math.isfinite(reg.diagnostics_["r_hat_max"])


def test_a_model_without_regressors_takes_none_everywhere():
    t = np.arange(120)
    y = np.sin(2 * np.pi * t / 12) + 0.2 * np.random.default_rng(6).standard_normal(120)
    y[[10, 50]] = np.nan
    reg = _fit(None, y, seasonality=12, num_warmup=100, num_samples=100)
    empty = np.empty((120, 0))
    np.testing.assert_array_equal(reg.predict(None), reg.predict(empty))
    np.testing.assert_array_equal(reg.predict_interval(None), reg.predict_interval(empty))
    np.testing.assert_array_equal(reg.sample_y(None, random_state=0), reg.sample_y(empty, random_state=0))
    np.testing.assert_array_equal(
        reg.pointwise_log_likelihood(None, y), reg.pointwise_log_likelihood(empty, y)
    )
    assert reg.score(None, y) == reg.score(empty, y)
    ahead = np.full(10, 0.5)
    assert reg.score(None, ahead, start=120) == reg.score(np.empty((10, 0)), ahead, start=120)
    np.testing.assert_array_equal(reg.forecast(steps=5), reg.forecast(np.empty((5, 0))))
    with pytest.raises(ValueError, match="forecast\\(steps=h\\)"):
        reg.predict(None, start=120)
    X = np.random.default_rng(7).normal(size=(120, 1))
    with_regressors = _fit(X, np.nan_to_num(y), num_warmup=50, num_samples=50)
    with pytest.raises(ValueError, match="has 1 regressors: pass their values as X"):
        with_regressors.predict(None)
